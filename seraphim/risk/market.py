"""Market facts the rules need (realised volatility, volume), kept from the bars on the bus."""

from __future__ import annotations

import math
from collections import deque

NANOS_PER_YEAR = 365.25 * 86_400 * 1e9
_RESUM_EVERY = 1_000  # recompute running sums exactly now and then (no floating-point drift)


class _RollingMoments:
    """Sum and sum of squares of the last ``window`` values, updated in O(1)."""

    __slots__ = ("count", "sum", "sumsq", "values", "window")

    def __init__(self, window: int) -> None:
        self.window = window
        self.values: deque[float] = deque(maxlen=window)
        self.sum = self.sumsq = 0.0
        self.count = 0

    def add(self, value: float) -> None:
        if len(self.values) == self.window:
            old = self.values[0]
            self.sum -= old
            self.sumsq -= old * old
        self.values.append(value)
        self.sum += value
        self.sumsq += value * value
        self.count += 1
        if self.count % _RESUM_EVERY == 0:
            self.sum = math.fsum(self.values)
            self.sumsq = math.fsum(v * v for v in self.values)

    def std(self) -> float | None:
        """Sample standard deviation (ddof=1) once the window is full."""
        n = len(self.values)
        if n < self.window or n < 2:
            return None
        variance = (self.sumsq - self.sum * self.sum / n) / (n - 1)
        return math.sqrt(max(variance, 0.0))


class MarketStats:
    """
    Per instrument, from one bar series (the first seen for it): the realised volatility of log
    returns over the windows the rules use, the mean bar volume, and the last close as a mark.
    """

    def __init__(self, max_window: int = 48, windows: tuple[int, ...] = ()) -> None:
        self.max_window = max_window
        self.windows = tuple(sorted(set(windows)))
        self._series: dict[str, str] = {}  # instrument -> the bar type it is measured on
        self._returns: dict[str, dict[int, _RollingMoments]] = {}
        self._volumes: dict[str, _RollingMoments] = {}
        self._interval_ns: dict[str, int] = {}
        self._previous: dict[str, float] = {}
        self.last_close: dict[str, float] = {}
        self.last_ts: dict[str, int] = {}

    def on_bar(self, instrument: str, bar_type: str, interval_ns: int, ts: int, close, volume):
        series = self._series.setdefault(instrument, bar_type)
        self.last_close[instrument] = close
        self.last_ts[instrument] = ts
        if series != bar_type:
            return
        moments = self._returns.get(instrument)
        if moments is None:
            moments = self._returns[instrument] = {w: _RollingMoments(w) for w in self.windows}
            self._volumes[instrument] = _RollingMoments(self.max_window)
            self._interval_ns[instrument] = interval_ns
        previous = self._previous.get(instrument)
        self._previous[instrument] = close
        if previous is not None and previous > 0 and close > 0:
            log_return = math.log(close / previous)
            for rolling in moments.values():
                rolling.add(log_return)
        self._volumes[instrument].add(volume)

    def volatility(self, instrument: str, window: int) -> float | None:
        """Annualised realised volatility of the last ``window`` log returns (ddof=1)."""
        moments = self._returns.get(instrument)
        if moments is None:
            return None
        rolling = moments.get(window)
        if rolling is None:  # a window no rule declared: add it (known from now on)
            rolling = moments[window] = _RollingMoments(window)
            return None
        std = rolling.std()
        if std is None:
            return None
        return std * math.sqrt(NANOS_PER_YEAR / self._interval_ns[instrument])

    def mean_volume(self, instrument: str, window: int) -> float | None:
        """Mean volume of the last ``window`` bars (of all so far while fewer)."""
        rolling = self._volumes.get(instrument)
        if rolling is None or not rolling.values:
            return None
        if window >= len(rolling.values):
            return rolling.sum / len(rolling.values)
        recent = list(rolling.values)[-window:]
        return sum(recent) / len(recent)

    def top_size(self, instrument: str, side: int) -> float | None:
        return None  # no order book from bars; the gate answers this from quotes in the cache
