"""
Read what nautilus keeps in Redis for each trader, decoded with nautilus's own serializer and
rebuilt into nautilus's own objects (orders and positions replayed from their stored events, as
``CacheDatabaseAdapter`` does when a node starts). Read-only: nothing here writes to Redis.

Layout (nautilus 1.231, ``use_trader_prefix=True``), all under ``trader-<TRADER_ID>:``:
``orders:<client_order_id>`` (list of order events, the first ``OrderInitialized``),
``positions:<position_id>`` (list of fills), ``accounts:<account_id>`` (list of
``AccountState``), ``instruments:<id>``, ``strategies:<id>:state`` / ``actors:<id>:state``
(dict of bytes), ``index:*`` (sets of ids, e.g. ``index:positions_open``) and the message-bus
streams ``stream:<topic>`` whose entries carry ``topic`` and ``payload`` fields; the heartbeat
stream ``stream:health:heartbeat`` carries an ISO timestamp.

Values are msgpack or json (``encoding`` of nautilus's cache and message-bus configs; json is the
message bus's default since 1.230): each value is decoded by what it holds, so a trader whose
cache and streams differ reads too. Anything else under a trader's prefix (a foreign tool's key,
a value of the wrong type) is skipped and named in ``problems``, never fatal.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from typing import Any

import msgspec
import redis
from nautilus_trader.model.events import AccountState
from nautilus_trader.model.orders.base import Order
from nautilus_trader.model.orders.unpacker import OrderUnpacker
from nautilus_trader.model.position import Position
from nautilus_trader.serialization.serializer import MsgSpecSerializer

from seraphim.state.settings import CONNECT_TIMEOUT_SECS
from seraphim.state.settings import RedisSettings
from seraphim.state.settings import StateError
from seraphim.state.settings import connect_redis

TRADER_PREFIX = "trader-"
HEARTBEAT_STREAM = "health:heartbeat"
_CHUNK = 500
# A nautilus trader id is NAME-TAG (TraderId checks for the hyphen); a key under `trader-`
# whose head is anything else is not a trader's.
_TRADER_ID = re.compile(r"[^\s:]+-[^\s:]+")


class TraderNotFound(StateError):
    pass


class Decoder:
    """nautilus's ``MsgSpecSerializer`` as the kernel configures it (msgpack, timestamps as str)."""

    def __init__(self) -> None:
        self._msgpack = MsgSpecSerializer(encoding=msgspec.msgpack, timestamps_as_str=True)
        self._json = MsgSpecSerializer(encoding=msgspec.json, timestamps_as_str=True)

    def decode(self, payload: bytes) -> Any:
        # A json object starts with "{"; a msgpack map never does (0x7b is a bare integer).
        serializer = self._json if payload[:1] == b"{" else self._msgpack
        return serializer.deserialize(payload)

    def decode_state(self, payload: bytes) -> dict[str, bytes]:
        """Saved component state: a dict of bytes (json carries the bytes as base64 text)."""
        state = self.decode(payload)
        if not isinstance(state, dict):
            raise ValueError(f"saved state is a {type(state).__name__}, not a dict")
        return {key: _state_bytes(value) for key, value in state.items()}

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


def connect(settings: RedisSettings, timeout: float = CONNECT_TIMEOUT_SECS):
    """A connected redis client; ``StateError`` naming the (password-free) URL when unreachable."""
    return connect_redis(settings, timeout)


def list_traders(client) -> list[str]:
    """Every trader id with keys (``trader-<NAME-TAG>:...``) in this Redis database, sorted."""
    traders = set()
    for key in client.scan_iter(match=f"{TRADER_PREFIX}*:*", count=1000):
        head = key.decode(errors="replace").split(":", 1)[0][len(TRADER_PREFIX) :]
        if _TRADER_ID.fullmatch(head):
            traders.add(head)
    return sorted(traders)


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
        keys = []
        for raw in self.client.scan_iter(match=f"{self.prefix}{pattern}", count=1000):
            try:
                keys.append(raw.decode()[cut:])
            except UnicodeDecodeError:
                self.problems.append(Problem(repr(raw[cut:])[2:-1], "key is not UTF-8 text"))
        return sorted(keys)

    def _indexed_keys(self, kind: str, status: str) -> list[str]:
        """``kind:<id>`` keys: all of them, or those in nautilus's open/closed index set."""
        if status == "all":
            return self._keys(f"{kind}:*")
        index = f"index:{kind}_{status}"
        try:
            ids = self.client.smembers(self.prefix + index)
        except redis.ResponseError as e:  # a foreign value of another type under that name
            self.problems.append(Problem(index, _error(e)))
            return []
        return sorted(f"{kind}:{i.decode(errors='replace')}" for i in ids)

    def _read(self, command: str, keys: list[str], *args) -> Iterator[tuple[str, Any]]:
        """``(key, reply)`` of ``command`` on each key, pipelined; a key whose reply is an
        error (e.g. a value of another type) is named in ``problems`` and left out."""
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            pipe = self.client.pipeline(transaction=False)
            for key in chunk:
                getattr(pipe, command)(self.prefix + key, *args)
            for key, reply in zip(chunk, pipe.execute(raise_on_error=False), strict=True):
                if isinstance(reply, Exception):
                    self.problems.append(Problem(key, _error(reply)))
                else:
                    yield key, reply

    def _lists(self, keys: list[str]) -> Iterator[tuple[str, list[bytes]]]:
        return self._read("lrange", keys, 0, -1)

    # -- orders -------------------------------------------------------------------------------

    def orders(
        self,
        status: str = "all",
        strategy: str | None = None,
        instrument: str | None = None,
    ) -> list[Order]:
        """Orders rebuilt from their events, newest activity first; status all/open/closed."""
        result = []
        for key, events in self._lists(self._indexed_keys("orders", status)):
            order = self._rebuild_order(key, events)
            if order is None:
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
            self.problems.append(Problem(key, _error(e)))
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
        """Positions rebuilt from their fills, newest activity first; status all/open/closed."""
        result = []
        for key, fills in self._lists(self._indexed_keys("positions", status)):
            position = self._rebuild_position(key, fills)
            if position is None:
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
            self.problems.append(Problem(key, _error(e)))
            return None

    # -- accounts -----------------------------------------------------------------------------

    def accounts(self) -> list[AccountState]:
        """The latest ``AccountState`` of each account."""
        states = []
        for key, raw in self._read("lindex", self._keys("accounts:*"), -1):
            if raw is None:
                continue
            try:
                state = self.decoder.decode(raw)
            except Exception as e:
                self.problems.append(Problem(key, _error(e)))
                continue
            if isinstance(state, AccountState):
                states.append(state)
            else:
                self.problems.append(Problem(key, f"not an AccountState ({type(state).__name__})"))
        return states

    # -- saved component state ----------------------------------------------------------------

    def saved_states(self) -> dict[str, tuple[str, dict[str, bytes]]]:
        """``{component_id: (kind, state)}`` for strategies and actors with saved state."""
        result: dict[str, tuple[str, dict[str, bytes]]] = {}
        for kind, singular in (("strategies", "strategy"), ("actors", "actor")):
            for key, raw in self._read("get", self._keys(f"{kind}:*:state")):
                component = key.split(":", 1)[1].rsplit(":", 1)[0]
                try:
                    state = self.decoder.decode_state(raw) if raw else {}
                except Exception as e:
                    self.problems.append(Problem(key, _error(e)))
                    continue
                result[component] = (singular, state)
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
        for name in ("orders_open", "positions_open"):
            counts[name] = next((size for _, size in self._read("scard", [f"index:{name}"])), 0)
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


def _error(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


def _state_bytes(value: Any) -> bytes:
    """One saved state value: msgpack keeps bytes; json turned them into base64 text."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error:
            raise ValueError(f"saved state value {value[:20]!r} is not base64") from None
    raise ValueError(f"saved state value is a {type(value).__name__}, not bytes")


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
