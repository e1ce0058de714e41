"""
Where live state lives: the Redis connection (from the environment) and the nautilus cache and
message-bus configs that put a node's state there.

A node keeps its state in memory unless asked otherwise: ``--state redis`` on the node runner or
``SERAPHIM_STATE=redis`` in the environment. The Redis server comes from ``SERAPHIM_REDIS_URL``
(default ``redis://127.0.0.1:6379/0``); a password in it reaches nautilus's ``DatabaseConfig``
(whose repr redacts it) and is never printed by Seraphim.
"""

from __future__ import annotations

import os
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

    def client(self, timeout: float = 3.0):
        """A redis-py client (decode_responses off: nautilus's values are msgpack bytes)."""
        import redis
        from redis.backoff import ExponentialBackoff
        from redis.retry import Retry

        return redis.Redis(
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.1), retries=1),
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
    settings = settings or redis_settings()
    if settings.db != 0:
        # nautilus's Redis backing (1.221) has no database index: it always uses database 0.
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
    )


def redis_cache_configs(
    trader_id: str | None = None,
    settings: RedisSettings | None = None,
    heartbeat_secs: int | None = 5,
    autotrim_mins: int | None = 24 * 60,
    stream_type_filter: tuple[str, ...] | None = DEFAULT_STREAM_TYPE_FILTER,
) -> tuple[CacheConfig, MessageBusConfig]:
    """
    The nautilus ``CacheConfig`` and ``MessageBusConfig`` that keep a node's state in Redis.

    Keys are ``trader-<TRADER_ID>:...`` (nautilus's trader prefix), values msgpack, one stream
    per topic under ``trader-<TRADER_ID>:stream:<topic>``, a heartbeat on
    ``...:stream:health:heartbeat`` every ``heartbeat_secs``. Cache writes are not buffered, so a
    SIGKILLed node loses nothing it had already written. ``trader_id`` is not needed by nautilus
    (the kernel supplies it) and is accepted so callers can validate it early.
    """
    if trader_id is not None and "-" not in trader_id:
        raise StateConfigError(f"trader id {trader_id!r} must look like NAME-TAG, e.g. NODE-001")
    database = redis_database_config(settings)
    cache = CacheConfig(
        database=database,
        encoding="msgpack",
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
        encoding="msgpack",
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
