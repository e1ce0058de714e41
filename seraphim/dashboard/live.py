"""
The live feed behind the dashboard's WebSocket: one thread follows Redis for every viewer (so
fifty viewers cost Redis what one does) and hands each message to every subscriber's queue on
its event loop.

- ``health``: a node's new health snapshot (its monitor publishes one each heartbeat).
- ``order``: an order event from a node's message-bus stream (``--state redis``), e.g. a fill,
  as soon as the node writes it: this is what puts a venue fill on the page within a second.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass

import msgspec

from seraphim.dashboard.nodes import with_status
from seraphim.ops import keys
from seraphim.state.reader import TRADER_PREFIX
from seraphim.state.reader import Decoder
from seraphim.state.settings import RedisSettings

RESCAN_SECS = 0.5
QUEUE_SIZE = 1000
_ORDER_STREAMS = f"{TRADER_PREFIX}*:stream:events.order.*"


@dataclass(eq=False)
class Subscriber:
    queue: asyncio.Queue
    loop: asyncio.AbstractEventLoop

    def offer(self, message: bytes) -> None:
        """On the subscriber's loop: a full queue (a stalled viewer) drops its oldest message."""
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(message)


class LiveFeed:
    def __init__(self, settings: RedisSettings, poll_secs: float = 0.1) -> None:
        self._settings = settings
        self._poll_secs = poll_secs
        self._subscribers: set[Subscriber] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._decoder = Decoder()
        self.error: str | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="dashboard-live", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def subscribe(self) -> Subscriber:
        subscriber = Subscriber(asyncio.Queue(QUEUE_SIZE), asyncio.get_running_loop())
        with self._lock:
            self._subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            self._subscribers.discard(subscriber)

    def _publish(self, message: dict) -> None:
        data = msgspec.json.encode(message)
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber.loop.call_soon_threadsafe(subscriber.offer, data)
            except RuntimeError:  # its loop has closed
                self.unsubscribe(subscriber)

    # -- the thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        import redis

        client = None
        seen: dict[str, int] = {}  # health key -> snapshot ts
        streams: dict[bytes, bytes] = {}  # stream key -> last id read
        health_keys: list[str] = []
        last_scan = 0.0
        while not self._stop.is_set():
            try:
                if client is None:
                    client = self._settings.client(timeout=3.0, retries=0)
                if time.monotonic() - last_scan > RESCAN_SECS:
                    health_keys = [
                        k.decode()
                        for k in client.scan_iter(match=keys.health_pattern(), count=1000)
                    ]
                    self._discover_streams(client, streams, first=not last_scan)
                    last_scan = time.monotonic()
                self._health(client, health_keys, seen)
                if streams:
                    self._orders(client, streams)
                else:
                    self._stop.wait(self._poll_secs)
                self.error = None
            except (redis.RedisError, OSError) as e:
                self.error = f"Redis at {self._settings.url} unavailable ({e})"
                if client is not None:
                    client.close()
                    client = None
                self._stop.wait(1.0)
        if client is not None:
            client.close()

    def _discover_streams(self, client, streams: dict[bytes, bytes], first: bool) -> None:
        """Streams there when the feed starts are followed from their end; a stream that
        appears later (a strategy's first order) from its start, so its first events show."""
        for key in client.scan_iter(match=_ORDER_STREAMS, count=1000):
            if key not in streams:
                last = client.xrevrange(key, count=1) if first else None
                streams[key] = last[0][0] if last else b"0-0"

    def _health(self, client, health_keys: list[str], seen: dict[str, int]) -> None:
        if not health_keys:
            return
        for key, raw in zip(health_keys, client.mget(health_keys), strict=True):
            if raw is None:
                continue
            snapshot = msgspec.json.decode(raw)
            ts = snapshot.get("ts", 0)
            if seen.get(key) == ts:
                continue
            seen[key] = ts
            trader = keys.trader_of_health_key(key)
            self._publish({"type": "health", "trader_id": trader, "health": with_status(snapshot)})

    def _orders(self, client, streams: dict[bytes, bytes]) -> None:
        block = max(int(self._poll_secs * 1000), 1)
        for key, entries in client.xread(streams, block=block, count=500) or []:
            trader = key.decode().split(":", 1)[0][len(TRADER_PREFIX) :]
            for entry_id, fields in entries:
                streams[key] = entry_id
                event = self._order_event(fields.get(b"payload", b""))
                if event is not None:
                    # The stream id starts with when the node wrote the event (ms).
                    self._publish(
                        {"type": "order", "trader_id": trader, "stream_id": entry_id.decode(),
                         "event": event}
                    )  # fmt: skip

    def _order_event(self, payload: bytes) -> dict | None:
        try:
            event = self._decoder.decode(payload)
        except Exception:
            return None  # not an event we can read; the stream is nautilus's, not ours
        out = {
            "type": type(event).__name__,
            "strategy_id": str(getattr(event, "strategy_id", "")),
            "instrument_id": str(getattr(event, "instrument_id", "")),
            "client_order_id": str(getattr(event, "client_order_id", "")),
            "ts_event": getattr(event, "ts_event", None),
        }
        for name in ("order_side", "last_qty", "last_px", "reason", "commission"):
            value = getattr(event, name, None)
            if value is not None:
                out[name] = getattr(value, "name", None) or str(value)
        return out
