"""Market statistics from the public tape: OHLC candles and 24-hour ticker values."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from decimal import Decimal

from seraphim.sim.kraken.matching import PublicTrade

ZERO = Decimal(0)
OHLC_WINDOW = 720


@dataclass
class Candle:
    """One interval's candle (Kraken's OHLC row and v2 ``ohlc`` entry)."""

    time: int  # interval begin, UNIX seconds
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    vwap: Decimal
    volume: Decimal
    count: int


def candles(trades: list[PublicTrade], interval_s: int, now: float) -> list[Candle]:
    """
    The last ``OHLC_WINDOW`` committed candles plus the current one, continuous: intervals
    without trades repeat the previous close with zero volume and vwap.
    """
    current = int(now // interval_s) * interval_s
    window_start = current - OHLC_WINDOW * interval_s
    times = [t.time for t in trades]
    lo = bisect.bisect_left(times, window_start)
    prev_close = trades[lo - 1].price if lo > 0 else None
    buckets: dict[int, list[PublicTrade]] = {}
    for trade in trades[lo:]:
        begin = int(trade.time // interval_s) * interval_s
        if begin > current:
            break
        buckets.setdefault(begin, []).append(trade)
    if prev_close is None and not buckets:
        return []
    first = window_start if prev_close is not None else min(buckets)
    out: list[Candle] = []
    for begin in range(first, current + 1, interval_s):
        group = buckets.get(begin)
        if group:
            volume = sum((t.qty for t in group), ZERO)
            notional = sum((t.qty * t.price for t in group), ZERO)
            prices = [t.price for t in group]
            out.append(
                Candle(
                    begin,
                    prices[0],
                    max(prices),
                    min(prices),
                    prices[-1],
                    notional / volume if volume else ZERO,
                    volume,
                    len(group),
                )
            )
            prev_close = prices[-1]
        else:
            assert prev_close is not None
            p = prev_close
            out.append(Candle(begin, p, p, p, p, ZERO, ZERO, 0))
    return out


@dataclass
class Window:
    """Aggregates of the trades in a time window."""

    volume: Decimal = ZERO
    vwap: Decimal = ZERO
    count: int = 0
    low: Decimal | None = None
    high: Decimal | None = None
    open: Decimal | None = None


def window(trades: list[PublicTrade], since: float) -> Window:
    """Volume, vwap, count, low, high and first price of trades at or after ``since``."""
    times = [t.time for t in trades]
    group = trades[bisect.bisect_left(times, since) :]
    if not group:
        return Window()
    volume = sum((t.qty for t in group), ZERO)
    notional = sum((t.qty * t.price for t in group), ZERO)
    prices = [t.price for t in group]
    return Window(
        volume,
        notional / volume if volume else ZERO,
        len(group),
        min(prices),
        max(prices),
        prices[0],
    )
