"""
The incremental tape statistics (candles, ticker windows) equal a recomputation from the whole
tape, for any tape and any sequence of query times.
"""

from __future__ import annotations

import bisect
from decimal import Decimal

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from seraphim.sim.kraken.stats import OHLC_WINDOW
from seraphim.sim.kraken.stats import Candle
from seraphim.sim.kraken.stats import CandleSeries
from seraphim.sim.kraken.stats import PublicTrade
from seraphim.sim.kraken.stats import TapeStats
from seraphim.sim.kraken.stats import Window

ZERO = Decimal(0)
T0 = 1_700_000_000


# ---------------------------------------------------------------- from-scratch reference


def reference_candles(trades: list[PublicTrade], interval_s: int, now: float) -> list[Candle]:
    """Kraken's OHLC window straight from the tape: the last 720 committed candles plus the
    current one, continuous (empty intervals repeat the previous close, zero volume/vwap)."""
    current = int(now // interval_s) * interval_s
    window_start = current - OHLC_WINDOW * interval_s
    lo = bisect.bisect_left([t.time for t in trades], window_start)
    prev_close = trades[lo - 1].price if lo > 0 else None
    buckets: dict[int, list[PublicTrade]] = {}
    for trade in trades[lo:]:
        buckets.setdefault(int(trade.time // interval_s) * interval_s, []).append(trade)
    if prev_close is None and not buckets:
        return []
    out = []
    for begin in range(
        window_start if prev_close is not None else min(buckets), current + 1, interval_s
    ):
        group = buckets.get(begin)
        if group:
            volume = sum((t.qty for t in group), ZERO)
            notional = sum((t.qty * t.price for t in group), ZERO)
            prices = [t.price for t in group]
            vwap = notional / volume if volume else ZERO
            out.append(
                Candle(
                    begin, prices[0], max(prices), min(prices), prices[-1], vwap, volume, len(group)
                )
            )
            prev_close = prices[-1]
        else:
            assert prev_close is not None
            out.append(Candle(begin, prev_close, prev_close, prev_close, prev_close, ZERO, ZERO, 0))
    return out


def reference_window(trades: list[PublicTrade], since: float) -> Window:
    """Aggregates of the trades at or after ``since``, straight from the tape."""
    group = [t for t in trades if t.time >= since]
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


# ---------------------------------------------------------------- generated tapes

prices = st.integers(min_value=1, max_value=10_000_000).map(lambda n: Decimal(n).scaleb(-1))
qtys = st.integers(min_value=1, max_value=10**9).map(lambda n: Decimal(n).scaleb(-8))
# Gaps from "same second" to "longer than the whole 720-interval window of the 1-minute series".
gaps = st.one_of(
    st.floats(min_value=0, max_value=5),
    st.floats(min_value=0, max_value=4000),
    st.floats(min_value=40_000, max_value=200_000),
)
# (gap before the trade, price, qty, then a query after this much more time, or no query)
steps = st.lists(st.tuples(gaps, prices, qtys, st.one_of(st.none(), gaps)), min_size=0, max_size=60)


@settings(max_examples=150, deadline=None)
@given(steps, st.sampled_from([1, 5, 60, 1440]))
def test_candles_equal_a_recomputation_from_the_tape(plan, minutes):
    series = CandleSeries(minutes * 60)
    tape: list[PublicTrade] = []
    t = float(T0)
    for i, (gap, price, qty, query_after) in enumerate(plan):
        t += gap
        trade = PublicTrade(i + 1, price, qty, t, "s", "m")
        tape.append(trade)
        series.add(trade)
        if query_after is not None:
            t += query_after  # exchange time only moves forward; later trades come after it
            now = t
            expected = reference_candles(tape, minutes * 60, now)
            assert series.window(now) == expected
            assert series.current(now) == (expected[-1] if expected else None)


@settings(max_examples=150, deadline=None)
@given(steps)
def test_ticker_windows_equal_a_recomputation_from_the_tape(plan):
    stats, tape = TapeStats(), []
    t = float(T0)
    for i, (gap, price, qty, query_after) in enumerate(plan):
        t += gap
        trade = PublicTrade(i + 1, price, qty, t, "b", "l")
        tape.append(trade)
        stats.add(trade)
        if query_after is not None:
            t += query_after
            now = t
            assert stats.last_24h(now) == reference_window(tape, now - 86400)
            assert stats.today(now) == reference_window(tape, now - now % 86400)


def test_a_window_query_before_any_trade_is_empty():
    stats = TapeStats()
    assert stats.candles[1].window(T0) == []
    assert stats.candles[1].current(T0) is None
    assert stats.last_24h(T0) == Window()
