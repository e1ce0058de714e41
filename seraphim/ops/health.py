"""
Publishing a node's health snapshot to Redis from a thread: the event loop hands over the
latest snapshot and never waits; the thread writes it (``SET`` with an expiry) and keeps only
the newest when Redis is slow or away.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import msgspec

from seraphim.state.settings import RedisSettings

# A snapshot outlives its node long enough for `seraphim monitor` to say it went silent.
HEALTH_TTL_SECS = 24 * 3600


class HealthPublisher:
    def __init__(self, settings: RedisSettings, key: str, on_error: Callable[[str], None]) -> None:
        self._settings = settings
        self.key = key
        self._on_error = on_error
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
        with self._lock:
            self._latest = data
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
                if data is not None:
                    try:
                        client.set(self.key, data, ex=HEALTH_TTL_SECS)
                        self.written += 1
                        if failing:
                            failing = False
                            self._on_error("health: Redis reachable again")
                    except (redis.RedisError, OSError) as e:
                        if not failing:
                            self._on_error(
                                f"health: Redis at {self._settings.url} unavailable ({e})"
                            )
                        failing = True
                if self._stop.is_set():
                    return
        finally:
            client.close()
