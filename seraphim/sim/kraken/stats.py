"""
Market statistics from the public tape, kept up to date trade by trade in O(1): OHLC candles
per interval and the rolling windows behind the ticker (today, last 24 hours).

Trades are added in time order (the tape is). Every query answers what a recomputation from the
whole tape would; ``tests/sim_kraken/test_stats.py`` proves it against a from-scratch version.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from dataclasses import replace
from decimal import Decimal

ZERO = Decimal(0)
OHLC_WINDOW = 720
OHLC_INTERVALS = (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)  # minutes
DAY = 86400.0


@dataclass
class PublicTrade:
    """A trade on the public tape."""

    trade_id: int
    price: Decimal
    qty: Decimal
    time: float
    side: str  # taker side: b | s
    ord_type: str  # taker order type: m | l


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


def _flat(begin: int, price: Decimal) -> Candle:
    """An interval without trades: the previous close, zero volume and vwap."""
    return Candle(begin, price, price, price, price, ZERO, ZERO, 0)


class CandleSeries:
    """
    The candles of one interval: the last ``OHLC_WINDOW + 1`` intervals up to the newest trade,
    continuous (intervals without trades repeat the previous close).
    """

    def __init__(self, interval_s: int) -> None:
        self.interval_s = interval_s
        self._rows: deque[Candle] = deque(maxlen=OHLC_WINDOW + 1)
        self._notional = ZERO  # of the newest row, for its vwap

    def _begin(self, t: float) -> int:
        return int(t // self.interval_s) * self.interval_s

    def add(self, trade: PublicTrade) -> None:
        """Fold one trade into its interval."""
        begin = self._begin(trade.time)
        price, qty = trade.price, trade.qty
        last = self._rows[-1] if self._rows else None
        if last is not None and begin <= last.time:
            self._notional += qty * price
            last.high, last.low = max(last.high, price), min(last.low, price)
            last.close = price
            last.volume += qty
            last.count += 1
            last.vwap = self._notional / last.volume if last.volume else ZERO
            return
        if last is not None:
            # Only the intervals that can still be in the window are materialised.
            first_gap = last.time + self.interval_s
            start = max(first_gap, begin - OHLC_WINDOW * self.interval_s)
            self._rows.extend(
                _flat(gap, last.close) for gap in range(start, begin, self.interval_s)
            )
        self._notional = qty * price
        self._rows.append(
            Candle(begin, price, price, price, price, self._notional / qty if qty else ZERO, qty, 1)
        )

    def window(self, now: float) -> list[Candle]:
        """The last ``OHLC_WINDOW`` committed candles plus the current one (up to 721 rows)."""
        rows = self._rows
        if not rows:
            return []
        iv = self.interval_s
        current = self._begin(now)
        window_start = current - OHLC_WINDOW * iv
        # The rows are continuous and span a whole window: the window is their tail, then flat
        # candles at the last close up to now.
        skip = max(0, (window_start - rows[0].time) // iv)
        out = [replace(rows[i]) for i in range(skip, len(rows))]
        close = rows[-1].close
        begin = rows[-1].time + iv if out else window_start
        out.extend(_flat(t, close) for t in range(begin, current + 1, iv))
        return out

    def current(self, now: float) -> Candle | None:
        """The candle of the interval containing ``now`` (None before any trade)."""
        if not self._rows:
            return None
        last = self._rows[-1]
        begin = self._begin(now)
        return replace(last) if last.time >= begin else _flat(begin, last.close)


@dataclass
class Window:
    """Aggregates of the trades in a time window."""

    volume: Decimal = ZERO
    vwap: Decimal = ZERO
    count: int = 0
    low: Decimal | None = None
    high: Decimal | None = None
    open: Decimal | None = None


class TradeWindow:
    """
    Aggregates of the trades at or after a start time that only moves forward: running sums
    plus monotonic queues for the low and the high, so each trade is added and dropped once.
    """

    def __init__(self) -> None:
        self._trades: deque[PublicTrade] = deque()
        self._lows: deque[PublicTrade] = deque()  # prices non-decreasing
        self._highs: deque[PublicTrade] = deque()  # prices non-increasing
        self._volume = ZERO
        self._notional = ZERO

    def add(self, trade: PublicTrade) -> None:
        """A new trade (the newest)."""
        self._trades.append(trade)
        self._volume += trade.qty
        self._notional += trade.qty * trade.price
        while self._lows and self._lows[-1].price > trade.price:
            self._lows.pop()
        self._lows.append(trade)
        while self._highs and self._highs[-1].price < trade.price:
            self._highs.pop()
        self._highs.append(trade)

    def since(self, start: float) -> Window:
        """Aggregates of the trades at or after ``start`` (never earlier than a previous call)."""
        trades = self._trades
        while trades and trades[0].time < start:
            old = trades.popleft()
            self._volume -= old.qty
            self._notional -= old.qty * old.price
            if self._lows[0] is old:
                self._lows.popleft()
            if self._highs[0] is old:
                self._highs.popleft()
        if not trades:
            return Window()
        volume = self._volume
        return Window(
            volume,
            self._notional / volume if volume else ZERO,
            len(trades),
            self._lows[0].price,
            self._highs[0].price,
            trades[0].price,
        )


class TapeStats:
    """Every statistic of one pair's tape: candles per OHLC interval, today and last 24 h."""

    def __init__(self) -> None:
        self.candles = {minutes: CandleSeries(minutes * 60) for minutes in OHLC_INTERVALS}
        self._today = TradeWindow()
        self._day = TradeWindow()

    def add(self, trade: PublicTrade) -> None:
        """Fold in a new trade."""
        for series in self.candles.values():
            series.add(trade)
        self._today.add(trade)
        self._day.add(trade)

    def today(self, now: float) -> Window:
        """Trades since 00:00 UTC."""
        return self._today.since(now - now % DAY)

    def last_24h(self, now: float) -> Window:
        """Trades of the last 24 hours."""
        return self._day.since(now - DAY)


def candles(trades: list[PublicTrade], interval_s: int, now: float) -> list[Candle]:
    """The OHLC window of a whole tape at ``now`` (one pass; for checks, not the live path)."""
    series = CandleSeries(interval_s)
    for trade in trades:
        series.add(trade)
    return series.window(now)
