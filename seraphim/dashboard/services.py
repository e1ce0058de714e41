"""What the dashboard's routes share: settings, users, sessions, the journal, Redis readers,
the control client and the live feed (one of each per app)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from seraphim.dashboard.audit import AuditLog
from seraphim.dashboard.audit import Journal
from seraphim.dashboard.nodes import NodeReader
from seraphim.dashboard.records import Records
from seraphim.dashboard.sessions import DEFAULT_TTL_SECS
from seraphim.dashboard.sessions import LoginLimiter
from seraphim.dashboard.sessions import SessionStore
from seraphim.dashboard.users import UserStore
from seraphim.ops.client import ControlClient
from seraphim.paths import default_catalog_path
from seraphim.state.settings import redis_settings


class ControlUnavailable(RuntimeError):
    """The dashboard cannot send commands (no operator secret); reading still works."""


@dataclass(frozen=True)
class DashboardSettings:
    """
    Parameters
    ----------
    users_file : Path
        The users YAML (see ``seraphim.dashboard.users``).
    secure_cookies : bool
        Mark the session cookie ``Secure`` (served over TLS, directly or behind a proxy).
    """

    users_file: Path
    redis_url: str | None = None
    journal_dsn: str | None = None
    journal_schema: str | None = None
    catalog: Path = field(default_factory=default_catalog_path)
    secure_cookies: bool = False
    session_ttl_secs: float = DEFAULT_TTL_SECS
    login_attempts: int = 5
    login_window_secs: float = 300.0
    live_poll_secs: float = 0.1


class Services:
    def __init__(self, settings: DashboardSettings) -> None:
        self.settings = settings
        self.users = UserStore.load(settings.users_file)
        self.sessions = SessionStore(settings.session_ttl_secs)
        self.limiter = LoginLimiter(settings.login_attempts, settings.login_window_secs)
        self.journal = Journal(settings.journal_dsn, settings.journal_schema)
        self.audit = AuditLog(self.journal)
        self.records = Records(self.journal)
        self.redis = redis_settings(settings.redis_url)
        self.nodes = NodeReader(self.redis)
        self._control: ControlClient | None = None
        self._control_lock = threading.Lock()

    def control(self) -> ControlClient:
        from seraphim.ops.secret import OperatorSecretError

        with self._control_lock:
            if self._control is None:
                try:
                    self._control = ControlClient.connect(self.settings.redis_url)
                except OperatorSecretError as e:
                    raise ControlUnavailable(f"the dashboard cannot control nodes: {e}") from None
            return self._control

    def close(self) -> None:
        if self._control is not None:
            self._control.close()
        self.nodes.close()
        self.journal.close()
