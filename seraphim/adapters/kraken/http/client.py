"""
The Kraken Spot REST client: public GETs and signed private POSTs.

- Signed calls of one API key are serialised (one in flight, nonces strictly increasing in the
  order the venue receives them), because Kraken refuses a nonce lower than the last one seen.
- Kraken's rate-limit counters are kept on the client side (:mod:`.ratelimit`); a venue
  rate-limit answer saturates the local counter instead of being retried at once.
- Retries use capped exponential backoff with jitter and a bounded number of attempts, and only
  where retrying is safe: queries, and refusals that prove a request was not processed. A
  non-idempotent call (AddOrder) whose answer is lost raises :class:`KrakenAmbiguousError`.
- Errors arrive as Kraken error strings with HTTP 200; they become the exception classes of
  :mod:`.errors`. Neither a request body nor the secret ever appears in a log or an exception.

aiohttp is used rather than nautilus_pyo3's HttpClient because the latter's keyed quotas are
fixed-rate, while Kraken's limits are decaying counters with per-call costs (see the report).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
import time
import urllib.parse
from collections import Counter
from typing import Any
from typing import ClassVar

import aiohttp
import msgspec

from seraphim.adapters.kraken.common.credentials import Credentials
from seraphim.adapters.kraken.common.credentials import mask_key
from seraphim.adapters.kraken.common.errors import KrakenAmbiguousError
from seraphim.adapters.kraken.common.errors import KrakenApiError
from seraphim.adapters.kraken.common.errors import KrakenAuthError
from seraphim.adapters.kraken.common.errors import KrakenConfigError
from seraphim.adapters.kraken.common.errors import KrakenError
from seraphim.adapters.kraken.common.errors import KrakenNonceError
from seraphim.adapters.kraken.common.errors import KrakenRateLimitError
from seraphim.adapters.kraken.common.errors import KrakenServiceError
from seraphim.adapters.kraken.common.errors import KrakenTransportError
from seraphim.adapters.kraken.common.errors import error_from_strings
from seraphim.adapters.kraken.common.signing import sign_request
from seraphim.adapters.kraken.http.ratelimit import KrakenRateLimiter

DEFAULT_REST_URL = "https://api.kraken.com"
# Calls that change state: never resent when their answer is lost.
NON_IDEMPOTENT = frozenset(
    {
        "AddOrder",
        "AddOrderBatch",
        "EditOrder",
        "AmendOrder",
        "CancelOrder",
        "CancelAll",
        "CancelOrderBatch",
        "CancelAllOrdersAfter",
    }
)
# Calls whose body Kraken expects as JSON.
JSON_BODY = frozenset({"AmendOrder", "AddOrderBatch", "CancelOrderBatch"})


_NULL = msgspec.Raw(b"null")


class _Envelope(msgspec.Struct):
    error: list[str] = []
    result: msgspec.Raw = _NULL


_ENVELOPE = msgspec.json.Decoder(_Envelope)


class NonceSource:
    """Strictly increasing nonces for one API key (milliseconds, bumped when called faster)."""

    _registry: ClassVar[dict[str, NonceSource]] = {}
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    @classmethod
    def for_key(cls, api_key: str) -> NonceSource:
        """The process-wide nonce source of a key (shared by every client using that key)."""
        with cls._registry_lock:
            source = cls._registry.get(api_key)
            if source is None:
                source = cls._registry[api_key] = NonceSource()
            return source

    def next(self) -> int:
        """The next nonce."""
        with self._lock:
            self._last = max(time.time_ns() // 1_000_000, self._last + 1)
            return self._last


_KEY_LOCKS: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Lock]] = {}


def _key_lock(api_key: str) -> asyncio.Lock:
    """
    The lock serialising signed calls of one key in the running event loop. Keyed by the loop
    object, not its ``id()``: a later loop may reuse a closed one's id, and a lock that loop
    left held (a call cut off by its shutdown) would block every signed call forever.
    """
    loop = asyncio.get_running_loop()
    entry = _KEY_LOCKS.get(api_key)
    if entry is None or entry[0] is not loop:
        entry = _KEY_LOCKS[api_key] = (loop, asyncio.Lock())
    return entry[1]


class KrakenHttpClient:
    """
    Kraken Spot REST over aiohttp.

    Parameters
    ----------
    base_url : str
        ``https://api.kraken.com`` or the local exchange's REST URL.
    credentials : Credentials, optional
        Needed for private calls.
    tier : str
        Verification tier for the rate-limit counters (starter, intermediate, pro).
    timeout : float
        Seconds before a request is abandoned.
    max_retries : int
        Retries of a retryable failure (so at most ``max_retries + 1`` attempts).
    retry_delay_initial, retry_delay_max : float
        Backoff bounds in seconds (doubling, with jitter).
    public_rate : float
        Public calls per second (Kraken allows about one per second per IP).

    """

    def __init__(
        self,
        base_url: str = DEFAULT_REST_URL,
        credentials: Credentials | None = None,
        *,
        tier: str = "starter",
        timeout: float = 10.0,
        max_retries: int = 3,
        retry_delay_initial: float = 0.5,
        retry_delay_max: float = 8.0,
        public_rate: float = 1.0,
        logger: Any = None,
        rate_limiter: KrakenRateLimiter | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise KrakenConfigError(f"REST base URL must start with http(s)://, was {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self._credentials = credentials
        self.limiter = rate_limiter or KrakenRateLimiter(tier)
        self.timeout = timeout
        self.max_retries = max_retries
        self.retry_delay_initial = retry_delay_initial
        self.retry_delay_max = retry_delay_max
        self._public_interval = 1.0 / public_rate if public_rate > 0 else 0.0
        self._public_next = 0.0
        self._public_lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        self._log = logger or logging.getLogger(__name__)
        self._session: aiohttp.ClientSession | None = None
        self._nonces = NonceSource.for_key(credentials.api_key) if credentials else None
        self.stats: Counter[str] = Counter()  # requests, retries, errors by kind

    def __repr__(self) -> str:
        key = mask_key(self._credentials.api_key) if self._credentials else None
        return f"KrakenHttpClient(base_url={self.base_url!r}, api_key={key!r})"

    @property
    def has_credentials(self) -> bool:
        """True when private calls can be signed."""
        return self._credentials is not None

    @property
    def api_key(self) -> str | None:
        """The API key (not secret)."""
        return self._credentials.api_key if self._credentials else None

    # ------------------------------------------------------------------ session

    def _get_session(self) -> aiohttp.ClientSession:
        session = self._session
        if session is None or session.closed or session._loop is not asyncio.get_running_loop():
            connector = aiohttp.TCPConnector(limit=8, enable_cleanup_closed=True)
            session = self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                headers={"User-Agent": "seraphim-kraken/0.1"},
            )
        return session

    async def close(self) -> None:
        """Close the connection pool."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    # ------------------------------------------------------------------ calls

    async def public(self, method: str, params: dict[str, Any] | None = None) -> msgspec.Raw:
        """``GET /0/public/<method>``; returns the raw ``result`` (decode with msgspec)."""
        query = urllib.parse.urlencode({k: v for k, v in (params or {}).items() if v is not None})
        url = f"{self.base_url}/0/public/{method}" + (f"?{query}" if query else "")

        async def once() -> msgspec.Raw:
            await self._pace_public()
            return await self._send(method, "GET", url, None, None, ambiguous_on_loss=False)

        return await self._with_retries(method, once, idempotent=True)

    async def private(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        idempotent: bool | None = None,
    ) -> msgspec.Raw:
        """
        ``POST /0/private/<method>``, signed; returns the raw ``result``.

        ``idempotent`` defaults to False for the order-changing calls: those are never resent
        after a lost answer (``KrakenAmbiguousError``) and only retried when the venue's answer
        proves it did not process them.
        """
        if self._credentials is None:
            raise KrakenConfigError(
                f"{method} needs API credentials (KRAKEN_API_KEY / KRAKEN_API_SECRET)",
                method=method,
            )
        if idempotent is None:
            idempotent = method not in NON_IDEMPOTENT
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        path = f"/0/private/{method}"
        url = self.base_url + path
        credentials = self._credentials
        nonces = self._nonces
        assert nonces is not None

        async def once() -> msgspec.Raw:
            await self.limiter.acquire_rest(method)
            async with _key_lock(credentials.api_key):
                nonce = nonces.next()
                if method in JSON_BODY:
                    body = json.dumps({"nonce": str(nonce), **clean}, separators=(",", ":"))
                    content_type = "application/json"
                else:
                    body = urllib.parse.urlencode(
                        {"nonce": nonce, **{k: _form_value(v) for k, v in clean.items()}}
                    )
                    content_type = "application/x-www-form-urlencoded"
                headers = {
                    "API-Key": credentials.api_key,
                    "API-Sign": sign_request(path, body, nonce, credentials.api_secret.reveal()),
                    "Content-Type": content_type,
                }
                return await self._send(
                    method, "POST", url, body, headers, ambiguous_on_loss=not idempotent
                )

        return await self._with_retries(method, once, idempotent=idempotent)

    async def _pace_public(self) -> None:
        if self._public_interval <= 0:
            return
        loop = asyncio.get_running_loop()
        if self._public_lock is None or self._public_lock[0] is not loop:
            self._public_lock = (loop, asyncio.Lock())
        async with self._public_lock[1]:
            now = time.monotonic()
            wait = self._public_next - now
            if wait > 0:
                await asyncio.sleep(wait)
            self._public_next = max(now, self._public_next) + self._public_interval

    async def _send(
        self,
        method: str,
        http_method: str,
        url: str,
        body: str | None,
        headers: dict[str, str] | None,
        *,
        ambiguous_on_loss: bool,
    ) -> msgspec.Raw:
        session = self._get_session()
        self.stats["requests"] += 1
        self.stats[f"requests:{method}"] += 1
        try:
            async with session.request(http_method, url, data=body, headers=headers) as resp:
                status = resp.status
                raw = await resp.read()
        except aiohttp.ClientConnectorError as e:
            # Never connected: nothing was sent, so this is safe to retry for any call.
            raise KrakenTransportError(
                f"cannot connect to {self.base_url}: {e.os_error}", method=method
            ) from None
        except (TimeoutError, aiohttp.ClientError, ConnectionError) as e:
            kind = (
                "timed out"
                if isinstance(e, TimeoutError)
                else f"connection lost ({type(e).__name__})"
            )
            if ambiguous_on_loss:
                raise KrakenAmbiguousError(
                    f"request {kind} after it was sent; the outcome is unknown", method=method
                ) from None
            raise KrakenTransportError(f"request {kind}", method=method) from None
        if status >= 500:
            error = KrakenServiceError([f"HTTP {status}"], method=method, status=status)
            if ambiguous_on_loss and status not in (503,):
                raise KrakenAmbiguousError(
                    f"HTTP {status} after the request was sent; the outcome is unknown",
                    method=method,
                ) from None
            raise error
        try:
            envelope = _ENVELOPE.decode(raw)
        except msgspec.DecodeError:
            snippet = raw[:80].decode("utf-8", "replace")
            raise KrakenTransportError(
                f"HTTP {status}: not a Kraken JSON answer: {snippet!r}", method=method
            ) from None
        errors = [e for e in envelope.error if not e.startswith("W")]
        for warning in (e for e in envelope.error if e.startswith("W")):
            self._log.warning(f"Kraken {method} warning: {warning}")
        if errors:
            raise error_from_strings(errors, method)
        if envelope.result is _NULL or bytes(envelope.result) == b"null":
            raise KrakenTransportError(f"HTTP {status}: answer has no result", method=method)
        return envelope.result

    async def _with_retries(self, method: str, once, *, idempotent: bool) -> msgspec.Raw:
        attempt = 0
        while True:
            try:
                return await once()
            except KrakenAmbiguousError:
                self.stats["errors:ambiguous"] += 1
                raise
            except KrakenError as e:
                self.stats[f"errors:{type(e).__name__}"] += 1
                if isinstance(e, KrakenRateLimitError) and e.code.startswith("EAPI"):
                    self.limiter.rest.saturate()
                if not self._should_retry(e, idempotent) or attempt >= self.max_retries:
                    raise
                delay = 0.0 if isinstance(e, KrakenNonceError) else self._backoff(attempt)
                attempt += 1
                self.stats["retries"] += 1
                self._log.warning(f"{e}; retry {attempt}/{self.max_retries} in {delay:.2f}s")
                if delay:
                    await asyncio.sleep(delay)

    @staticmethod
    def _should_retry(error: KrakenError, idempotent: bool) -> bool:
        if isinstance(error, KrakenNonceError):
            return True  # refused before processing: resend with a fresh nonce
        if isinstance(error, KrakenAuthError):
            return False
        if isinstance(error, KrakenRateLimitError):
            return idempotent or error.code.startswith("EAPI")
        if isinstance(error, KrakenServiceError):
            # EService:Unavailable/Busy answers mean the call was not processed.
            return idempotent or error.status is None or error.status == 503
        if isinstance(error, KrakenTransportError):
            return idempotent or "cannot connect" in str(error)
        return False

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.retry_delay_max, self.retry_delay_initial * (2**attempt))
        return ceiling / 2 + random.uniform(0, ceiling / 2)


def _form_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def decode(raw: msgspec.Raw, type_: Any, method: str = "") -> Any:
    """Decode a raw ``result`` into ``type_``; a shape mismatch becomes a clear error."""
    try:
        return msgspec.json.decode(raw, type=type_)
    except msgspec.ValidationError as e:
        raise KrakenApiError([f"EGeneral:Unexpected answer shape: {e}"], method=method) from None
