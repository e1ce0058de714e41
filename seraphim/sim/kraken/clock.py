"""The exchange clock: wall clock by default, accelerated or manual for rehearsals and tests."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the exchange the time in UNIX seconds."""

    def now(self) -> float:
        """The current exchange time (UNIX seconds)."""
        ...


class WallClock:
    """Real time."""

    def now(self) -> float:
        """The current exchange time (UNIX seconds)."""
        return time.time()


class AcceleratedClock:
    """Time that starts at ``start`` (default: now) and runs ``speed`` times faster than real."""

    def __init__(self, speed: float, start: float | None = None) -> None:
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        self.speed = speed
        self._start = time.time() if start is None else start
        self._t0 = time.monotonic()

    def now(self) -> float:
        """The current exchange time (UNIX seconds)."""
        return self._start + (time.monotonic() - self._t0) * self.speed


class ManualClock:
    """Time that moves only when told to (deterministic tests)."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = float(start)

    def now(self) -> float:
        """The current exchange time (UNIX seconds)."""
        return self._now

    def advance(self, seconds: float) -> float:
        """Move time forward; returns the new time."""
        if seconds < 0:
            raise ValueError("time cannot go backwards")
        self._now += float(seconds)
        return self._now

    def set(self, when: float) -> None:
        """Jump to ``when`` (never backwards)."""
        if when < self._now:
            raise ValueError("time cannot go backwards")
        self._now = float(when)
