"""
Server-side sessions and the login rate limit.

The cookie holds a random session id and its HMAC under a per-process key; the session (user,
role, CSRF token, expiry) lives in this process only, so expiry is the server's and a logout or
a restart ends it for good.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from dataclasses import field

from seraphim.dashboard.users import User

COOKIE_NAME = "seraphim_session"
CSRF_HEADER = "X-CSRF-Token"
DEFAULT_TTL_SECS = 8 * 3600


@dataclass
class Session:
    id: str
    user: User
    csrf: str
    expires: float  # time.monotonic()


class SessionStore:
    def __init__(self, ttl_secs: float = DEFAULT_TTL_SECS, key: bytes | None = None) -> None:
        self.ttl_secs = ttl_secs
        self._key = key or secrets.token_bytes(32)
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, user: User) -> tuple[Session, str]:
        """A new session and the cookie value that names it."""
        session = Session(
            id=secrets.token_urlsafe(32),
            user=user,
            csrf=secrets.token_urlsafe(32),
            expires=time.monotonic() + self.ttl_secs,
        )
        with self._lock:
            self._purge()
            self._sessions[session.id] = session
        return session, f"{session.id}.{self._sign(session.id)}"

    def get(self, cookie: str | None) -> Session | None:
        """The live session a cookie names (a forged, unknown or expired one: None)."""
        if not cookie or "." not in cookie:
            return None
        ident, _, signature = cookie.rpartition(".")
        if not hmac.compare_digest(self._sign(ident), signature):
            return None
        with self._lock:
            session = self._sessions.get(ident)
            if session is None or session.expires < time.monotonic():
                self._sessions.pop(ident, None)
                return None
            return session

    def end(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    def _sign(self, ident: str) -> str:
        return hmac.new(self._key, ident.encode(), hashlib.sha256).hexdigest()

    def _purge(self) -> None:
        now = time.monotonic()
        for ident in [i for i, s in self._sessions.items() if s.expires < now]:
            del self._sessions[ident]


@dataclass
class LoginLimiter:
    """At most ``attempts`` failed logins per client address and per user name in ``window``
    seconds; a success does not reset the address's count (it could be spraying names)."""

    attempts: int = 5
    window_secs: float = 300.0
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def retry_after(self, address: str, name: str) -> float:
        """Seconds until another attempt is allowed (0: allowed now)."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in (f"ip:{address}", f"user:{name}"):
                times = self._recent(key, now)
                if len(times) >= self.attempts:
                    wait = max(wait, times[0] + self.window_secs - now)
        return wait

    def failed(self, address: str, name: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in (f"ip:{address}", f"user:{name}"):
                self._recent(key, now).append(now)

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] < now - self.window_secs:
            times.popleft()
        return times
