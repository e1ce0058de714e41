"""Small helpers shared by the library's rules."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable

Predicate = Callable[[float], bool]


def band_state(
    state: int,
    value: float,
    long_entry: Predicate,
    long_exit: Predicate,
    short_entry: Predicate | None,
    short_exit: Predicate,
) -> int:
    """
    One step of the library's entry/exit state machine (state -1, 0 or +1): exits are
    checked first, then, when flat, entries; so one bar can close a position and open the
    opposite one.
    """
    if (state > 0 and long_exit(value)) or (state < 0 and short_exit(value)):
        state = 0
    if state == 0:
        if long_entry(value):
            state = 1
        elif short_entry is not None and short_entry(value):
            state = -1
    return state


class RollingZScore:
    """
    z = (x - mean) / std over the last ``period`` closes including the current one (sample
    standard deviation, ddof=1). An indicator in nautilus's style: ``handle_bar``, ``value``,
    ``initialized``.
    """

    def __init__(self, period: int) -> None:
        if period < 2:
            raise ValueError(f"period must be >= 2, was {period}")
        self.period = period
        self.values: deque[float] = deque(maxlen=period)
        self.value = 0.0
        self.mean = 0.0
        self.std = 0.0
        self.initialized = False

    def handle_bar(self, bar) -> None:
        self.update_raw(bar.close.as_double())

    def update_raw(self, value: float) -> None:
        self.values.append(value)
        if len(self.values) < self.period:
            return
        self.initialized = True
        n = len(self.values)
        self.mean = sum(self.values) / n
        self.std = math.sqrt(sum((v - self.mean) ** 2 for v in self.values) / (n - 1))
        self.value = (value - self.mean) / self.std if self.std > 0 else 0.0

    def reset(self) -> None:
        self.values.clear()
        self.value = self.mean = self.std = 0.0
        self.initialized = False
