"""
Where live state lives: the Redis connection (from the environment) and the nautilus cache and
message-bus configs that put a node's state there.

A node keeps its state in memory unless asked otherwise: ``--state redis`` on the node runner or
``SERAPHIM_STATE=redis`` in the environment. The Redis server comes from ``SERAPHIM_REDIS_URL``
(default ``redis://127.0.0.1:6379/0``); a password in it reaches nautilus's ``DatabaseConfig``
(whose repr redacts it) and is never printed by Seraphim. :func:`check_redis` tells, within a
timeout, whether that server answers: callers use it before nautilus connects (nautilus itself
would wait inside native code, where no signal is handled).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import unquote
from urllib.parse import urlsplit

import msgspec
from nautilus_trader.common.config import DatabaseConfig
from nautilus_trader.common.config import MessageBusConfig
from nautilus_trader.config import CacheConfig

REDIS_URL_ENV = "SERAPHIM_REDIS_URL"
STATE_ENV = "SERAPHIM_STATE"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
STATE_BACKENDS = ("memory", "redis")
ENCODINGS = ("msgpack", "json")
CONNECT_TIMEOUT_SECS = 3.0

# Market data that would flood the streams: kept off them (bars and all events stay on).
DEFAULT_STREAM_TYPE_FILTER = (
    "nautilus_trader.model.data:QuoteTick",
    "nautilus_trader.model.data:TradeTick",
    "nautilus_trader.model.data:OrderBookDelta",
    "nautilus_trader.model.data:OrderBookDeltas",
    "nautilus_trader.model.data:OrderBookDepth10",
)


class StateConfigError(ValueError):
    """A state setting (URL, backend name) that cannot be used; the message says why."""


class StateError(Exception):
    """A state query that cannot be answered; the message is for the user (no traceback)."""


class RedisUnavailable(StateError):
    """Redis did not answer (refused, timed out, rejected the credentials); names the URL."""


@dataclass(frozen=True)
class RedisSettings:
    host: str
    port: int
    db: int = 0
    username: str | None = None
    password: str | None = None
    ssl: bool = False

    @property
    def url(self) -> str:
        """The URL without any password, safe to print."""
        scheme = "rediss" if self.ssl else "redis"
        user = f"{self.username}@" if self.username else ""
        if self.password:
            user = f"{self.username or ''}:***@"
        return f"{scheme}://{user}{self.host}:{self.port}/{self.db}"

    def client(self, timeout: float = CONNECT_TIMEOUT_SECS, retries: int = 1):
        """A redis-py client (decode_responses off: nautilus's values are bytes)."""
        import redis
        from redis.backoff import ExponentialBackoff
        from redis.retry import Retry

        return redis.Redis(
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.1), retries=retries),
            host=self.host,
            port=self.port,
            db=self.db,
            username=self.username,
            password=self.password,
            ssl=self.ssl,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
        )


def redis_settings(url: str | None = None) -> RedisSettings:
    """Parse ``url`` (else ``$SERAPHIM_REDIS_URL``, else the local default)."""
    raw = url or os.environ.get(REDIS_URL_ENV) or DEFAULT_REDIS_URL
    parts = urlsplit(raw if "://" in raw else f"redis://{raw}")
    if parts.scheme not in ("redis", "rediss"):
        raise StateConfigError(
            f"Redis URL must start with redis:// or rediss:// (got scheme {parts.scheme!r})"
        )
    try:
        port = parts.port or 6379
    except ValueError:
        raise StateConfigError("Redis URL has an invalid port") from None
    path = parts.path.strip("/")
    if path and not path.isdigit():
        raise StateConfigError(f"Redis URL database must be a number (got {path!r})")
    return RedisSettings(
        host=parts.hostname or "127.0.0.1",
        port=port,
        db=int(path or 0),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        ssl=parts.scheme == "rediss",
    )


def connect_redis(settings: RedisSettings, timeout: float = CONNECT_TIMEOUT_SECS):
    """A redis client that answered PING within ``timeout`` s; else ``RedisUnavailable``."""
    import redis

    client = settings.client(timeout=timeout, retries=0)  # one attempt: the timeout holds
    try:
        client.ping()
    except (redis.RedisError, OSError) as e:
        client.close()
        raise RedisUnavailable(_unavailable(settings, e, timeout)) from None
    return client


def _unavailable(settings: RedisSettings, error: Exception, timeout: float) -> str:
    import redis

    if isinstance(error, redis.AuthenticationError):
        return f"Redis at {settings.url} refused the credentials"
    if isinstance(error, redis.TimeoutError):
        return f"Redis at {settings.url} is unreachable: no answer within {timeout:g} s"
    if isinstance(error, redis.ConnectionError | OSError):
        return f"Redis at {settings.url} is unreachable: {_reason(error)}"
    return f"Redis at {settings.url}: {_reason(error)}"


def check_redis(
    url: str | RedisSettings | None = None, timeout: float = CONNECT_TIMEOUT_SECS
) -> RedisSettings:
    """
    Redis at ``url`` (a URL or parsed settings; else ``$SERAPHIM_REDIS_URL``, else the local
    default) answers within ``timeout`` seconds: its settings, else ``RedisUnavailable`` (or
    ``StateConfigError`` for a bad URL) with a one-line, password-free message naming it.
    """
    settings = url if isinstance(url, RedisSettings) else redis_settings(url)
    connect_redis(settings, timeout).close()
    return settings


def _reason(error: Exception) -> str:
    """redis-py's reason without its preamble, e.g. ``Connection refused``."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return re.sub(r"^Error \d+ connecting to \S+?\. ", "", text).rstrip(".")


def state_backend(option: str | None = None) -> str:
    """The state backend: the option if given, else ``$SERAPHIM_STATE``, else ``memory``."""
    value = (option or os.environ.get(STATE_ENV) or "memory").strip().lower()
    if value not in STATE_BACKENDS:
        raise StateConfigError(
            f"unknown state backend {value!r} (choose {' or '.join(STATE_BACKENDS)}; "
            f"from --state or ${STATE_ENV})"
        )
    return value


def redis_database_config(settings: RedisSettings | None = None) -> DatabaseConfig:
    """
    nautilus's Redis connection for ``settings``, with bounded waits: nautilus's defaults
    (20 s per attempt, 100 attempts with backoff up to 1000 s) hold a starting node in native
    code, deaf to signals, for as long as Redis is away.
    """
    settings = settings or redis_settings()
    if settings.db != 0:
        # nautilus 1.231's Redis connection has no database index (DatabaseConfig has none and
        # the URL it builds is scheme://host:port): it always uses database 0.
        raise StateConfigError(
            f"nautilus keeps its cache in Redis database 0; {settings.url} names database "
            f"{settings.db} (use a separate Redis server or a distinct trader id instead)"
        )
    return DatabaseConfig(
        type="redis",
        host=settings.host,
        port=settings.port,
        username=settings.username,
        password=settings.password,
        ssl=settings.ssl,
        connection_timeout=int(CONNECT_TIMEOUT_SECS),
        response_timeout=10,
        number_of_retries=5,
        factor=200,  # ms: the first retry's delay
        max_delay=2,  # s
    )


def redis_cache_configs(
    trader_id: str | None = None,
    settings: RedisSettings | None = None,
    heartbeat_secs: int | None = 5,
    autotrim_mins: int | None = 24 * 60,
    stream_type_filter: tuple[str, ...] | None = DEFAULT_STREAM_TYPE_FILTER,
    encoding: str = "msgpack",
) -> tuple[CacheConfig, MessageBusConfig]:
    """
    The nautilus ``CacheConfig`` and ``MessageBusConfig`` that keep a node's state in Redis.

    Keys are ``trader-<TRADER_ID>:...`` (nautilus's trader prefix), values in ``encoding``, one
    stream per topic under ``trader-<TRADER_ID>:stream:<topic>``, a heartbeat on
    ``...:stream:health:heartbeat`` every ``heartbeat_secs``. Cache writes are not buffered, so a
    SIGKILLed node loses nothing it had already written. ``trader_id`` is not needed by nautilus
    (the kernel supplies it) and is accepted so callers can validate it early.

    msgpack, not nautilus 1.231's message-bus default json: a json cache hands saved strategy
    state back to ``on_load`` as base64 text instead of bytes, and state already in Redis stays
    readable by a restarted node. ``seraphim state`` reads both.
    """
    if encoding not in ENCODINGS:
        raise StateConfigError(f"Redis encoding must be msgpack or json (got {encoding!r})")
    if trader_id is not None and "-" not in trader_id:
        raise StateConfigError(f"trader id {trader_id!r} must look like NAME-TAG, e.g. NODE-001")
    database = redis_database_config(settings)
    cache = CacheConfig(
        database=database,
        encoding=encoding,
        use_trader_prefix=True,
        use_instance_id=False,
        flush_on_start=False,
        buffer_interval_ms=None,
    )
    types_filter = None
    if stream_type_filter:
        from nautilus_trader.common.config import resolve_path

        types_filter = [resolve_path(path) for path in stream_type_filter]
    message_bus = MessageBusConfig(
        database=database,
        encoding=encoding,
        use_trader_prefix=True,
        use_trader_id=True,
        use_instance_id=False,
        streams_prefix="stream",
        stream_per_topic=True,
        autotrim_mins=autotrim_mins,
        heartbeat_interval_secs=heartbeat_secs,
        types_filter=types_filter,
    )
    return cache, message_bus


def with_state_backend(node_config, backend: str | None = None, settings=None):
    """
    ``node_config`` (a nautilus ``TradingNodeConfig``) with its cache and message bus in Redis
    when the backend (option or ``$SERAPHIM_STATE``) is ``redis``; unchanged for ``memory``.

    With Redis the node also saves and reloads strategy state (``save_state``/``load_state``).
    """
    if state_backend(backend) == "memory":
        return node_config
    cache, message_bus = redis_cache_configs(str(node_config.trader_id), settings)
    return msgspec.structs.replace(
        node_config,
        cache=cache,
        message_bus=message_bus,
        load_state=True,
        save_state=True,
    )
