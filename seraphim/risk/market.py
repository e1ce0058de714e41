"""Market facts the rules need (realised volatility, volume), kept from the bars on the bus."""

from __future__ import annotations

import itertools
import math
from collections import deque

NANOS_PER_YEAR = 365.25 * 86_400 * 1e9


class MarketStats:
    """
    Per instrument: the last closes and volumes of one bar series (the first seen for it), the
    bar interval for annualising, and the last close as a mark price.
    """

    def __init__(self, max_window: int = 48) -> None:
        self.max_window = max_window
        self._series: dict[str, str] = {}  # instrument -> the bar type it is measured on
        self._closes: dict[str, deque[float]] = {}
        self._volumes: dict[str, deque[float]] = {}
        self._interval_ns: dict[str, int] = {}
        self._vol_cache: dict[tuple[str, int], float | None] = {}
        self.last_close: dict[str, float] = {}
        self.last_ts: dict[str, int] = {}

    def ensure_window(self, window: int) -> None:
        self.max_window = max(self.max_window, window + 1)

    def on_bar(self, instrument: str, bar_type: str, interval_ns: int, ts: int, close, volume):
        series = self._series.setdefault(instrument, bar_type)
        self.last_close[instrument] = close
        self.last_ts[instrument] = ts
        if series != bar_type:
            return
        closes = self._closes.get(instrument)
        if closes is None:
            closes = self._closes[instrument] = deque(maxlen=self.max_window + 1)
            self._volumes[instrument] = deque(maxlen=self.max_window)
            self._interval_ns[instrument] = interval_ns
        closes.append(close)
        self._volumes[instrument].append(volume)
        if self._vol_cache:
            self._vol_cache = {k: v for k, v in self._vol_cache.items() if k[0] != instrument}

    def volatility(self, instrument: str, window: int) -> float | None:
        key = (instrument, window)
        if key in self._vol_cache:
            return self._vol_cache[key]
        closes = self._closes.get(instrument)
        value = None
        if closes is not None and len(closes) > window:
            recent = list(closes)[-(window + 1) :]
            returns = [math.log(b / a) for a, b in itertools.pairwise(recent) if a > 0]
            if len(returns) >= 2:
                mean = sum(returns) / len(returns)
                var = sum((r - mean) ** 2 for r in returns) / (len(returns) - 1)
                value = math.sqrt(var * NANOS_PER_YEAR / self._interval_ns[instrument])
        self._vol_cache[key] = value
        return value

    def mean_volume(self, instrument: str, window: int) -> float | None:
        volumes = self._volumes.get(instrument)
        if not volumes:
            return None
        recent = list(volumes)[-window:]
        return sum(recent) / len(recent)

    def top_size(self, instrument: str, side: int) -> float | None:
        return None  # no order book from bars; the gate answers this from quotes in the cache
