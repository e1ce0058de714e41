"""
A bar series replayed as the market nautilus's backtest sees in it, for backtest-live parity.

nautilus's ``BacktestEngine`` (an L1 book, bar execution) turns each bar into four price points,
open, high, low, close, and sets bid = ask = the point; a market order sent on a bar fills at
that bar's close. :class:`BarPathSource` gives the local exchange the same path:

- each bar's open, high, low and close are printed ``interval / 4`` apart from the bar's open
  time (catalog bars are stamped at their close), a quarter of the bar's volume each, so the
  exchange's own candles equal the catalog's bars;
- the exchange's liquidity is a locked book (bid = ask = the last point, deep enough for any
  order), as nautilus's L1 book is;
- a bar's open print leaves the book at the previous close: that print is what completes the
  previous candle for a client, so its market orders fill at the close, as in the backtest.

A final print at the last bar's close time completes the last candle. With a ``ManualClock``
moved to each time of :meth:`times` in turn, one print happens per step (lockstep replay).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from seraphim.sim.kraken.fmt import dec
from seraphim.sim.kraken.instruments import SimPair
from seraphim.sim.kraken.market import Bar

if TYPE_CHECKING:
    from seraphim.sim.kraken.matching import Exchange

# Quote value of the locked book on each side: more than any client order here.
BOOK_NOTIONAL = Decimal(10) ** 9


@dataclass(frozen=True)
class Print:
    """One price point of the path."""

    at: float  # exchange time, UNIX seconds
    price: Decimal
    qty: Decimal
    side: str  # "b" | "s": the aggressor of the printed trade
    move_book: bool  # False for an open: the book stays at the previous close


def bar_prints(bars: list[Bar], interval: float) -> list[Print]:
    """The prints of ``bars`` (``ts`` = the bar's close time), in nautilus's O, H, L, C order."""
    prints: list[Print] = []
    previous: Decimal | None = None
    for bar in bars:
        opened = bar.ts - interval
        qty = (bar.volume / 4).quantize(Decimal("0.00000001"), ROUND_DOWN)
        for i, price in enumerate((bar.open, bar.high, bar.low, bar.close)):
            side = "b" if previous is None or price >= previous else "s"
            prints.append(Print(opened + i * interval / 4, price, qty, side, move_book=i > 0))
            previous = price
    if bars:
        last = bars[-1]
        prints.append(Print(last.ts, last.close, Decimal("0.00000001"), "b", move_book=False))
    return prints


def locked_book(pair: SimPair, price: Decimal) -> list[tuple[Decimal, Decimal]]:
    """One deep level at ``price`` (used for both sides)."""
    price = price.quantize(pair.tick_size)
    lot = Decimal(1).scaleb(-min(pair.lot_decimals, 8))
    return [(price, (BOOK_NOTIONAL / price).quantize(lot, ROUND_DOWN))]


class BarPathSource:
    """Replays bars as nautilus's bar execution sees them (see the module docstring)."""

    def __init__(self, bars: list[Bar], interval: float) -> None:
        if not bars:
            raise ValueError("no bars to replay")
        self.interval = interval
        self.prints = bar_prints(bars, interval)
        self._index = 0

    @classmethod
    def from_catalog(
        cls,
        catalog_path: str | Path,
        bar_type: str,
        start: str | None = None,
        end: str | None = None,
    ) -> BarPathSource:
        """The bars of ``bar_type`` between ``start`` and ``end`` (as a backtest reads them)."""
        from nautilus_trader.model.data import BarType
        from nautilus_trader.persistence.catalog import ParquetDataCatalog

        catalog = ParquetDataCatalog(str(catalog_path))
        raw = catalog.bars(bar_types=[bar_type], start=start, end=end)
        if not raw:
            raise ValueError(f"no bars {bar_type} in {catalog_path} between {start} and {end}")
        interval = BarType.from_str(bar_type).spec.timedelta.total_seconds()
        bars = [
            Bar(
                b.ts_event / 1e9,
                dec(str(b.open)),
                dec(str(b.high)),
                dec(str(b.low)),
                dec(str(b.close)),
                dec(str(b.volume)),
            )
            for b in raw
        ]
        return cls(bars, interval)

    @property
    def first_time(self) -> float:
        """The exchange time of the first print (the first bar's open)."""
        return self.prints[0].at

    def times(self) -> list[float]:
        """The distinct exchange times at which something prints, in order."""
        return sorted({p.at for p in self.prints})

    @property
    def done(self) -> bool:
        """True once every print happened."""
        return self._index >= len(self.prints)

    def start(self, exchange: Exchange, pair: SimPair, now: float) -> None:
        """A locked book at the first open."""
        book = locked_book(pair, self.prints[0].price)
        exchange.replace_market(pair, book, book)
        exchange.flush()

    def advance(self, exchange: Exchange, pair: SimPair, now: float) -> None:
        """Every print due by ``now``, each its own market event."""
        while not self.done and self.prints[self._index].at <= now:
            p = self.prints[self._index]
            self._index += 1
            price = p.price.quantize(pair.tick_size)
            if p.move_book:
                book = locked_book(pair, price)
                exchange.replace_market(pair, book, book)
            exchange.market_trade(pair, price, max(p.qty, pair.ordermin), p.side)
            exchange.flush()
