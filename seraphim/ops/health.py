"""
Publishing a node's health snapshot to Redis from a thread: the event loop hands over the
latest snapshot and never waits; the thread writes it (``SET`` with an expiry) and keeps only
the newest when Redis is slow or away. Each snapshot's equity is also appended to the node's
equity history (a list capped at a day of heartbeats), so a dashboard opened later can chart
the day so far; points wait (bounded) while Redis is away.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable

import msgspec

from seraphim.state.settings import RedisSettings

# A snapshot outlives its node long enough for `seraphim monitor` to say it went silent.
HEALTH_TTL_SECS = 24 * 3600
EQUITY_HISTORY_SECS = 24 * 3600


def history_length(heartbeat_secs: float) -> int:
    """Equity points kept: a day of heartbeats."""
    return math.ceil(EQUITY_HISTORY_SECS / heartbeat_secs)


class HealthPublisher:
    """
    Parameters
    ----------
    history_key : str, optional
        The list each snapshot's ``[ts, equity]`` is appended to (when its equity is known).
    history_len : int
        How many points the list keeps (the oldest are trimmed).
    """

    def __init__(
        self,
        settings: RedisSettings,
        key: str,
        on_error: Callable[[str], None],
        history_key: str | None = None,
        history_len: int = 0,
    ) -> None:
        self._settings = settings
        self.key = key
        self._on_error = on_error
        self.history_key = history_key
        self.history_len = history_len
        self._points: deque[bytes] = deque(maxlen=max(history_len, 1))
        self._latest: bytes | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.written = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="seraphim-health", daemon=True)
        self._thread.start()

    def publish(self, snapshot: dict) -> None:
        """From the event loop: never blocks."""
        data = msgspec.json.encode(snapshot)
        equity = snapshot.get("equity")
        point = None
        if self.history_key is not None and equity is not None:
            point = msgspec.json.encode([snapshot["ts"], equity])
        with self._lock:
            self._latest = data
            if point is not None:
                self._points.append(point)
        self._wake.set()

    def stop(self, final: dict | None = None, timeout: float = 3.0) -> None:
        """Write ``final`` (e.g. status stopped) if Redis answers within ``timeout``, then end."""
        if final is not None:
            self.publish(final)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        import redis

        client = self._settings.client(timeout=2.0, retries=0)
        failing = False
        try:
            while True:
                self._wake.wait(1.0)
                self._wake.clear()
                with self._lock:
                    data, self._latest = self._latest, None
                    points = list(self._points)
                    self._points.clear()
                if data is not None:
                    try:
                        self._write(client, data, points)
                        self.written += 1
                        if failing:
                            failing = False
                            self._on_error("health: Redis reachable again")
                    except (redis.RedisError, OSError) as e:
                        with self._lock:  # kept for the next write (the deque stays bounded)
                            self._points.extendleft(reversed(points))
                        if not failing:
                            self._on_error(
                                f"health: Redis at {self._settings.url} unavailable ({e})"
                            )
                        failing = True
                # A snapshot handed over during the write (e.g. the final one) goes out first.
                if self._stop.is_set() and (self._latest is None or failing):
                    return
        finally:
            client.close()

    def _write(self, client, data: bytes, points: list[bytes]) -> None:
        pipe = client.pipeline(transaction=False)
        pipe.set(self.key, data, ex=HEALTH_TTL_SECS)
        if points:
            pipe.rpush(self.history_key, *points)
            pipe.ltrim(self.history_key, -self.history_len, -1)
            pipe.expire(self.history_key, HEALTH_TTL_SECS)
        pipe.execute()
