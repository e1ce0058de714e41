"""
Read what nautilus keeps in Redis for each trader, decoded with nautilus's own serializer and
rebuilt into nautilus's own objects (orders and positions replayed from their stored events, as
``CacheDatabaseAdapter`` does when a node starts). Read-only: nothing here writes to Redis.

Layout (nautilus 1.221, ``use_trader_prefix=True``), all under ``trader-<TRADER_ID>:``:
``orders:<client_order_id>`` (list of order events, the first ``OrderInitialized``),
``positions:<position_id>`` (list of fills), ``accounts:<account_id>`` (list of
``AccountState``), ``instruments:<id>``, ``strategies:<id>:state`` / ``actors:<id>:state``
(dict of bytes), ``index:*`` and the message-bus streams ``stream:<topic>`` whose entries carry
``topic`` and ``payload`` fields; the heartbeat stream ``stream:health:heartbeat`` carries an ISO
timestamp.
"""

from __future__ import annotations

import fnmatch
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from typing import Any

import msgspec
from nautilus_trader.model.events import AccountState
from nautilus_trader.model.orders.base import Order
from nautilus_trader.model.orders.unpacker import OrderUnpacker
from nautilus_trader.model.position import Position
from nautilus_trader.serialization.serializer import MsgSpecSerializer

from seraphim.state.settings import RedisSettings

TRADER_PREFIX = "trader-"
HEARTBEAT_STREAM = "health:heartbeat"
_CHUNK = 500


class StateError(Exception):
    """A state query that cannot be answered; the message is for the user (no traceback)."""


class TraderNotFound(StateError):
    pass


class Decoder:
    """nautilus's ``MsgSpecSerializer`` as the kernel configures it (msgpack, timestamps as str)."""

    def __init__(self) -> None:
        self._msgpack = MsgSpecSerializer(encoding=msgspec.msgpack, timestamps_as_str=True)
        self._json = MsgSpecSerializer(encoding=msgspec.json, timestamps_as_str=True)

    def decode(self, payload: bytes) -> Any:
        serializer = self._json if payload[:1] == b"{" else self._msgpack
        return serializer.deserialize(payload)

    def decode_or_raw(self, payload: bytes) -> Any:
        """A nautilus object, or (for payloads that are not serialized objects) the text."""
        try:
            return self.decode(payload)
        except Exception:
            try:
                return payload.decode()
            except UnicodeDecodeError:
                return payload.hex()


@dataclass
class Problem:
    """A stored value that could not be rebuilt (reported, never fatal)."""

    key: str
    error: str


def connect(settings: RedisSettings, timeout: float = 3.0):
    """A connected redis client; ``StateError`` naming the (password-free) URL when unreachable."""
    import redis

    client = settings.client(timeout=timeout)
    try:
        client.ping()
    except redis.AuthenticationError:
        raise StateError(f"Redis at {settings.url} refused the credentials") from None
    except (redis.ConnectionError, redis.TimeoutError, OSError) as e:
        raise StateError(
            f"cannot reach Redis at {settings.url}: {_reason(e)} "
            f"(set SERAPHIM_REDIS_URL or --redis-url)"
        ) from None
    except redis.RedisError as e:
        raise StateError(f"Redis at {settings.url}: {e}") from None
    return client


def _reason(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    return text.rstrip(".")


def list_traders(client) -> list[str]:
    """Every trader id with keys in this Redis database, sorted."""
    traders = set()
    for key in client.scan_iter(match=f"{TRADER_PREFIX}*", count=1000):
        head = key.decode(errors="replace").split(":", 1)[0]
        traders.add(head[len(TRADER_PREFIX) :])
    return sorted(t for t in traders if t)


def ns_to_datetime(ns: int | None) -> datetime | None:
    if not ns:
        return None
    return datetime.fromtimestamp(ns / 1e9, tz=UTC)


class TraderState:
    """One trader's state in Redis."""

    def __init__(self, client, trader_id: str, decoder: Decoder | None = None) -> None:
        self.client = client
        self.trader_id = trader_id
        self.prefix = f"{TRADER_PREFIX}{trader_id}:"
        self.decoder = decoder or Decoder()
        self.problems: list[Problem] = []
        self._instruments: dict[str, Any] = {}

    @classmethod
    def open(cls, client, trader_id: str) -> TraderState:
        """The trader's state; ``TraderNotFound`` listing the known traders when it has none."""
        if not next(client.scan_iter(match=f"{TRADER_PREFIX}{trader_id}:*", count=1000), None):
            known = list_traders(client)
            hint = f"traders there: {', '.join(known)}" if known else "Redis holds no trader state"
            raise TraderNotFound(f"no trader {trader_id!r} in Redis ({hint})")
        return cls(client, trader_id)

    # -- keys ---------------------------------------------------------------------------------

    def _keys(self, pattern: str) -> list[str]:
        cut = len(self.prefix)
        return sorted(
            key.decode()[cut:]
            for key in self.client.scan_iter(match=f"{self.prefix}{pattern}", count=1000)
        )

    def _lists(self, keys: list[str]) -> Iterator[tuple[str, list[bytes]]]:
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            pipe = self.client.pipeline(transaction=False)
            for key in chunk:
                pipe.lrange(self.prefix + key, 0, -1)
            yield from zip(chunk, pipe.execute(), strict=True)

    # -- orders -------------------------------------------------------------------------------

    def orders(
        self,
        status: str = "all",
        strategy: str | None = None,
        instrument: str | None = None,
    ) -> list[Order]:
        """Orders rebuilt from their events, newest activity first; status all/open/closed."""
        result = []
        for key, events in self._lists(self._keys("orders:*")):
            order = self._rebuild_order(key, events)
            if order is None:
                continue
            if status == "open" and not order.is_open:
                continue
            if status == "closed" and not order.is_closed:
                continue
            if strategy and not _matches(order.strategy_id.value, strategy):
                continue
            if instrument and not _matches(order.instrument_id.value, instrument):
                continue
            result.append(order)
        result.sort(key=lambda o: o.ts_last, reverse=True)
        return result

    def _rebuild_order(self, key: str, events: list[bytes]) -> Order | None:
        if not events:
            return None
        try:
            init = self.decoder.decode(events[0])
            order = OrderUnpacker.from_init(init)
            for payload in events[1:]:
                event = self.decoder.decode(payload)
                if type(event).__name__ == "OrderInitialized":
                    # a transformed order (e.g. an emulated order released as MARKET/LIMIT)
                    order = _transform(order, event)
                else:
                    order.apply(event)
            return order
        except Exception as e:
            self.problems.append(Problem(key, f"{type(e).__name__}: {e}"))
            return None

    def order_events(self, client_order_id: str) -> list[Any]:
        return [
            self.decoder.decode(p)
            for p in self.client.lrange(f"{self.prefix}orders:{client_order_id}", 0, -1)
        ]

    # -- positions ----------------------------------------------------------------------------

    def instrument(self, instrument_id: str):
        if instrument_id not in self._instruments:
            raw = self.client.get(f"{self.prefix}instruments:{instrument_id}")
            self._instruments[instrument_id] = self.decoder.decode(raw) if raw else None
        return self._instruments[instrument_id]

    def positions(
        self,
        status: str = "all",
        strategy: str | None = None,
        instrument: str | None = None,
    ) -> list[Position]:
        """
        Positions rebuilt from their fills; status all/open/closed is read from each rebuilt
        position, not from ``index:positions_open`` (which nautilus 1.221 fills with event
        payloads rather than ids on update).
        """
        result = []
        for key, fills in self._lists(self._keys("positions:*")):
            position = self._rebuild_position(key, fills)
            if position is None:
                continue
            if status == "open" and not position.is_open:
                continue
            if status == "closed" and not position.is_closed:
                continue
            if strategy and not _matches(position.strategy_id.value, strategy):
                continue
            if instrument and not _matches(position.instrument_id.value, instrument):
                continue
            result.append(position)
        result.sort(key=lambda p: p.ts_last, reverse=True)
        return result

    def _rebuild_position(self, key: str, fills: list[bytes]) -> Position | None:
        if not fills:
            return None
        try:
            first = self.decoder.decode(fills[0])
            instrument = self.instrument(first.instrument_id.value)
            if instrument is None:
                self.problems.append(Problem(key, f"instrument {first.instrument_id} not stored"))
                return None
            position = Position(instrument, first)
            for payload in fills[1:]:
                position.apply(self.decoder.decode(payload))
            return position
        except Exception as e:
            self.problems.append(Problem(key, f"{type(e).__name__}: {e}"))
            return None

    # -- accounts -----------------------------------------------------------------------------

    def accounts(self) -> list[AccountState]:
        """The latest ``AccountState`` of each account."""
        keys = self._keys("accounts:*")
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.lindex(self.prefix + key, -1)
        states = []
        for key, raw in zip(keys, pipe.execute(), strict=True):
            if raw is None:
                continue
            try:
                states.append(self.decoder.decode(raw))
            except Exception as e:
                self.problems.append(Problem(key, f"{type(e).__name__}: {e}"))
        return states

    # -- saved component state ----------------------------------------------------------------

    def saved_states(self) -> dict[str, tuple[str, dict[str, bytes]]]:
        """``{component_id: (kind, state)}`` for strategies and actors with saved state."""
        result: dict[str, tuple[str, dict[str, bytes]]] = {}
        for kind in ("strategies", "actors"):
            for key in self._keys(f"{kind}:*:state"):
                raw = self.client.get(self.prefix + key)
                component = key.split(":", 1)[1].rsplit(":", 1)[0]
                try:
                    state = self.decoder.decode(raw) if raw else {}
                except Exception as e:
                    self.problems.append(Problem(key, f"{type(e).__name__}: {e}"))
                    continue
                result[component] = (kind.rstrip("s").replace("strategie", "strategy"), state)
        return result

    # -- streams and health -------------------------------------------------------------------

    def streams(self) -> list[str]:
        """Stream keys (without the trader prefix), e.g. ``stream:events.order.X-000``."""
        return [k for k in self._keys("stream*") if self._is_stream(k)]

    def _is_stream(self, key: str) -> bool:
        return self.client.type(self.prefix + key) == b"stream"

    def last_heartbeat(self) -> datetime | None:
        """The newest heartbeat: the message bus's heartbeat stream, or the cache's key."""
        stamps = []
        for key in self._keys(f"stream*{HEARTBEAT_STREAM}"):
            entries = self.client.xrevrange(self.prefix + key, count=1)
            if entries:
                stamps.append(_parse_stamp(entries[0][1].get(b"payload", b"")))
        if self.client.exists(self.prefix + HEARTBEAT_STREAM):
            kind = self.client.type(self.prefix + HEARTBEAT_STREAM)
            if kind == b"string":
                stamps.append(_parse_stamp(self.client.get(self.prefix + HEARTBEAT_STREAM)))
            elif kind == b"list":
                stamps.append(_parse_stamp(self.client.lindex(self.prefix + HEARTBEAT_STREAM, -1)))
        stamps = [s for s in stamps if s is not None]
        return max(stamps) if stamps else None

    def last_activity(self) -> datetime | None:
        """When anything was last written to the trader's streams (from stream entry ids)."""
        newest = 0
        for key in self.streams():
            info = self.client.xinfo_stream(self.prefix + key)
            last = info.get("last-generated-id") or info.get(b"last-generated-id")
            if last:
                newest = max(newest, int(last.decode().split("-")[0]))
        return datetime.fromtimestamp(newest / 1000, tz=UTC) if newest else None

    def counts(self) -> dict[str, int]:
        """Cheap key counts (no decoding) for overviews."""
        counts = {}
        for name, pattern in (
            ("orders", "orders:*"),
            ("positions", "positions:*"),
            ("accounts", "accounts:*"),
            ("instruments", "instruments:*"),
        ):
            counts[name] = len(self._keys(pattern))
        counts["orders_open"] = self.client.scard(self.prefix + "index:orders_open")
        counts["streams"] = len(self.streams())
        return counts

    def tail(
        self,
        topics: tuple[str, ...] = (),
        from_start: bool = False,
        block_ms: int = 1000,
        rescan_secs: float = 2.0,
    ) -> Iterator[StreamMessage]:
        """Follow every stream of the trader (new streams are picked up as they appear)."""
        start_id = "0-0" if from_start else f"{int(time.time() * 1000)}-0"
        positions: dict[bytes, str] = {}
        last_scan = 0.0
        while True:
            now = time.monotonic()
            if now - last_scan >= rescan_secs:
                for key in self.streams():
                    topic = key.split(":", 1)[1] if ":" in key else key
                    if topics and not any(fnmatch.fnmatch(topic, t) for t in topics):
                        continue
                    positions.setdefault((self.prefix + key).encode(), start_id)
                last_scan = now
            if not positions:
                time.sleep(block_ms / 1000)
                yield None  # a tick, so callers can stop
                continue
            replies = self.client.xread(positions, block=block_ms, count=500) or []
            batch = []
            for stream, entries in replies:
                for entry_id, fields in entries:
                    positions[stream] = entry_id.decode()
                    batch.append((entry_id, stream, fields))
            if not batch:
                yield None
                continue
            batch.sort(key=lambda item: tuple(int(p) for p in item[0].decode().split("-")))
            for entry_id, stream, fields in batch:
                millis = int(entry_id.decode().split("-")[0])
                topic = fields.get(b"topic", b"").decode(errors="replace")
                if not topic:
                    topic = stream.decode()[len(self.prefix) :].split(":", 1)[-1]
                payload = fields.get(b"payload", b"")
                yield StreamMessage(
                    id=entry_id.decode(),
                    time=datetime.fromtimestamp(millis / 1000, tz=UTC),
                    topic=topic,
                    value=self.decoder.decode_or_raw(payload),
                )


@dataclass
class StreamMessage:
    id: str
    time: datetime
    topic: str
    value: Any


def _matches(value: str, wanted: str) -> bool:
    return value == wanted or fnmatch.fnmatch(value, wanted)


def _parse_stamp(raw: bytes | None) -> datetime | None:
    """An ISO 8601 stamp (nautilus writes nanoseconds and ``+00:00``) as an aware datetime."""
    if not raw:
        return None
    text = raw.decode(errors="replace").strip().replace("Z", "+00:00")
    match = re.fullmatch(r"(.*?T\d\d:\d\d:\d\d)(?:\.(\d+))?(.*)", text)
    if match is None:
        return None
    head, fraction, zone = match.groups()
    micros = f".{(fraction or '0')[:6]:0<6}"
    try:
        moment = datetime.fromisoformat(head + micros + (zone or "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC)


def _transform(order: Order, init) -> Order:
    from nautilus_trader.model.enums import OrderType
    from nautilus_trader.model.objects import Price
    from nautilus_trader.model.orders import LimitOrder
    from nautilus_trader.model.orders import MarketOrder

    if init.order_type == OrderType.MARKET:
        return MarketOrder.transform_py(order, init.ts_init)
    if init.order_type == OrderType.LIMIT:
        return LimitOrder.transform_py(order, init.ts_init, Price.from_str(init.options["price"]))
    raise ValueError(f"cannot transform order to {init.order_type}")
