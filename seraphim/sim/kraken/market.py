"""
Market sources: what drives the exchange's own liquidity and tape for a pair.

- :class:`RandomWalkSource`: a seeded random walk of the mid with a synthetic book and trades.
- :class:`BookReplaySource`: a recorded WebSocket v2 book stream, replayed level for level.
- :class:`BarReplaySource`: bars (Kraken OHLCVT CSV or a nautilus catalog) as trades and a book.
- :class:`TradeReplaySource`: recorded trades (a Trades response) as trades and a book.

Each source is advanced by the exchange with the current exchange time and calls
``exchange.replace_market`` / ``exchange.market_trade``, then ``exchange.flush()`` once per
market event so every event becomes its own WebSocket update.
"""

from __future__ import annotations

import csv
import functools
import json
import math
import random
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_DOWN
from decimal import ROUND_HALF_UP
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Protocol

from seraphim.sim.kraken.book import Level
from seraphim.sim.kraken.fmt import dec
from seraphim.sim.kraken.fmt import parse_rfc3339
from seraphim.sim.kraken.instruments import SimPair

if TYPE_CHECKING:
    from seraphim.sim.kraken.matching import Exchange

# Rough starting prices for the random walk, by v2 symbol base/quote.
DEFAULT_PRICES: dict[str, str] = {
    "BTC/USD": "65000",
    "BTC/EUR": "60000",
    "BTC/USDT": "65000",
    "ETH/USD": "3000",
    "ETH/EUR": "2750",
    "ETH/USDT": "3000",
    "ETH/BTC": "0.046",
    "SOL/USD": "150",
    "XRP/USD": "0.6",
    "LTC/USD": "80",
    "ADA/USD": "0.45",
    "DOGE/USD": "0.15",
    "USDT/USD": "1.0",
    "USDC/USD": "1.0",
}
# Catch-up cap: one advance replays at most this many steps, so a tick's work stays bounded
# however far the clock ran ahead (a fast clock, a long tick); the time beyond is walked in one
# coarse step.
MAX_STEPS_PER_ADVANCE = 100


class MarketSource(Protocol):
    """Drives one pair's market."""

    def start(self, exchange: Exchange, pair: SimPair, now: float) -> None:
        """Set the initial book (and any history) at exchange start."""
        ...

    def advance(self, exchange: Exchange, pair: SimPair, now: float) -> None:
        """Apply every market event due up to ``now``."""
        ...


def _stable_rng(*parts: object) -> random.Random:
    return random.Random(zlib.crc32(":".join(str(p) for p in parts).encode()))


@functools.lru_cache(maxsize=65536)
def _level_factor(seed: int, pair_key: str, price: Decimal) -> Decimal:
    """The size factor of a synthetic level: a function of (seed, pair, price) alone."""
    return Decimal(repr(round(_stable_rng(seed, pair_key, price).lognormvariate(0, 0.8), 6)))


def synthetic_book(
    pair: SimPair, mid: Decimal, seed: int, levels: int = 25, spread_ticks: int = 1
) -> tuple[list[Level], list[Level]]:
    """
    A plausible book around ``mid``: ``levels`` per side one tick apart with quantities that
    depend only on (seed, price), so unchanged prices keep their quantity between updates.
    """
    tick = pair.tick_size
    best_bid = (mid / tick).to_integral_value(ROUND_DOWN) * tick
    if best_bid <= 0:
        best_bid = tick
    best_ask = best_bid + tick * spread_ticks
    qty_places = min(pair.lot_decimals, 8)
    # Typical size: about 2,000 quote units a level, at least a few minimum orders.
    typical = max(Decimal(2000) / mid, pair.ordermin * 5)

    def qty(price: Decimal) -> Decimal:
        q = typical * _level_factor(seed, pair.key, price)
        return max(q.quantize(Decimal(1).scaleb(-qty_places), ROUND_DOWN), pair.ordermin)

    bids = [(best_bid - tick * i, qty(best_bid - tick * i)) for i in range(levels)]
    asks = [(best_ask + tick * i, qty(best_ask + tick * i)) for i in range(levels)]
    return [(p, q) for p, q in bids if p > 0], asks


class RandomWalkSource:
    """A seeded geometric random walk; one step per ``step_seconds`` of exchange time."""

    def __init__(
        self,
        seed: int = 1,
        start_price: Decimal | str | None = None,
        *,
        step_seconds: float = 1.0,
        volatility: float = 0.0001,
        levels: int = 25,
        trade_probability: float = 0.5,
        warmup_seconds: float = 12 * 3600,
        warmup_step: float = 60.0,
    ) -> None:
        self.seed = seed
        self.start_price = None if start_price is None else dec(start_price)
        self.step_seconds = step_seconds
        self.volatility = volatility
        self.levels = levels
        self.trade_probability = trade_probability
        self.warmup_seconds = warmup_seconds
        self.warmup_step = warmup_step
        self.mid = Decimal(0)
        self._next = 0.0
        self._rng = random.Random(seed)

    def start(self, exchange: Exchange, pair: SimPair, now: float) -> None:
        """Initial book plus ``warmup_seconds`` of tape so OHLC and Trades have history."""
        self._rng = _stable_rng(self.seed, pair.key)
        start = self.start_price or Decimal(DEFAULT_PRICES.get(pair.symbol, "100"))
        self.mid = start
        t = now - self.warmup_seconds
        while t < now:
            self._walk(pair, self.warmup_step / self.step_seconds)
            self._maybe_trade(exchange, pair, at=t)
            t += self.warmup_step
        bids, asks = synthetic_book(pair, self.mid, self.seed, self.levels)
        exchange.replace_market(pair, bids, asks)
        exchange.flush()
        self._next = now + self.step_seconds

    def _walk(self, pair: SimPair, steps: float = 1.0) -> None:
        shock = self._rng.gauss(0.0, self.volatility * math.sqrt(steps))
        new_mid = self.mid * Decimal(repr(math.exp(shock)))
        self.mid = max(new_mid.quantize(pair.tick_size, ROUND_HALF_UP), pair.tick_size)

    def _maybe_trade(self, exchange: Exchange, pair: SimPair, at: float | None = None) -> None:
        if self._rng.random() >= self.trade_probability:
            return
        side = "b" if self._rng.random() < 0.5 else "s"
        tick = pair.tick_size
        best_bid = (self.mid / tick).to_integral_value(ROUND_DOWN) * tick
        price = best_bid + tick if side == "b" else best_bid
        typical = max(Decimal(500) / self.mid, pair.ordermin)
        qty = typical * Decimal(repr(round(self._rng.lognormvariate(0, 1.0), 6)))
        qty = max(qty.quantize(Decimal(1).scaleb(-min(pair.lot_decimals, 8))), pair.ordermin)
        exchange.market_trade(pair, price, qty, side, at=at)

    def advance(self, exchange: Exchange, pair: SimPair, now: float) -> None:
        """One walk step (new book, maybe a trade) per elapsed ``step_seconds``."""
        behind = (now - self._next) / self.step_seconds - MAX_STEPS_PER_ADVANCE
        if behind > 0:
            self._walk(pair, behind)
            self._next += behind * self.step_seconds
        while self._next <= now:
            self._walk(pair)
            bids, asks = synthetic_book(pair, self.mid, self.seed, self.levels)
            exchange.replace_market(pair, bids, asks)
            self._maybe_trade(exchange, pair)
            exchange.flush()
            self._next += self.step_seconds


class StaticBookSource:
    """A fixed book that never moves (its liquidity is consumed by clients and not refilled)."""

    def __init__(self, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> None:
        self.bids = [(dec(p), dec(q)) for p, q in bids]
        self.asks = [(dec(p), dec(q)) for p, q in asks]

    def start(self, exchange: Exchange, pair: SimPair, now: float) -> None:
        """Place the book."""
        exchange.replace_market(pair, self.bids, self.asks)
        exchange.flush()

    def advance(self, exchange: Exchange, pair: SimPair, now: float) -> None:
        """Nothing happens."""


@dataclass
class _BookEvent:
    at: float
    bids: list[Level]
    asks: list[Level]


class BookReplaySource:
    """
    Replays a recorded v2 book stream (``{"init": snapshot, "updates": [...]}``): the
    exchange's liquidity is the recorded book, maintained as a subscriber at ``depth`` would.
    Events keep their recorded spacing (or ``interval`` seconds apart), the first one
    ``start_delay`` seconds after start.
    """

    def __init__(
        self, path: str | Path, *, interval: float | None = None, start_delay: float = 1.0
    ) -> None:
        data = json.loads(Path(path).read_text())
        init = data["init"]["data"][0]
        self.symbol: str = init["symbol"]
        self.depth = max(len(init["bids"]), len(init["asks"]), 10)
        self._init = _BookEvent(0.0, _levels(init["bids"]), _levels(init["asks"]))
        self._updates: list[tuple[float, list[Level], list[Level]]] = []
        first: float | None = None
        for i, message in enumerate(data["updates"]):
            for entry in message["data"]:
                ts = parse_rfc3339(entry.get("timestamp", "")) if interval is None else None
                if ts is None:
                    ts = i * (interval or 0.0)
                first = ts if first is None else first
                self._updates.append((ts, _levels(entry["bids"]), _levels(entry["asks"])))
        self.recorded_checksums = [data["init"]["data"][0]["checksum"]] + [
            e["checksum"] for m in data["updates"] for e in m["data"]
        ]
        # The first update comes ``start_delay`` after start, so subscribers see the snapshot.
        base = (first or 0.0) - start_delay
        self._updates = [(ts - base, b, a) for ts, b, a in self._updates]
        self._bids: dict[Decimal, Decimal] = {}
        self._asks: dict[Decimal, Decimal] = {}
        self._index = 0
        self._start = 0.0

    @property
    def done(self) -> bool:
        """True once every recorded update was applied."""
        return self._index >= len(self._updates)

    def start(self, exchange: Exchange, pair: SimPair, now: float) -> None:
        """Load the recorded snapshot."""
        self._bids = dict(self._init.bids)
        self._asks = dict(self._init.asks)
        self._start = now
        self._publish(exchange, pair)

    def _publish(self, exchange: Exchange, pair: SimPair) -> None:
        bids = sorted(self._bids.items(), reverse=True)[: self.depth]
        asks = sorted(self._asks.items())[: self.depth]
        self._bids, self._asks = dict(bids), dict(asks)
        exchange.replace_market(pair, bids, asks)
        exchange.flush()

    def advance(self, exchange: Exchange, pair: SimPair, now: float) -> None:
        """Apply each recorded update that is due."""
        while (
            self._index < len(self._updates) and self._updates[self._index][0] + self._start <= now
        ):
            _, bids, asks = self._updates[self._index]
            self._index += 1
            for book, levels in ((self._bids, bids), (self._asks, asks)):
                for price, qty in levels:
                    if qty == 0:
                        book.pop(price, None)
                    else:
                        book[price] = qty
            self._publish(exchange, pair)


def _levels(raw: Iterable[dict]) -> list[Level]:
    return [(dec(level["price"]), dec(level["qty"])) for level in raw]


@dataclass(frozen=True)
class Bar:
    """One OHLCV bar."""

    ts: float
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


class _PathReplay:
    """Shared timing for sources that replay timestamped prices."""

    def __init__(self, seed: int, interval: float | None, levels: int) -> None:
        self.seed = seed
        self.interval = interval
        self.levels = levels
        self._events: list[tuple[float, Decimal, Decimal, str]] = []  # (offset, price, qty, side)
        self._index = 0
        self._start = 0.0

    def _set_events(self, events: list[tuple[float, Decimal, Decimal, str]]) -> None:
        if not events:
            raise ValueError("nothing to replay")
        base = events[0][0]
        if self.interval is None:
            self._events = [(t - base, p, q, s) for t, p, q, s in events]
        else:
            self._events = [(i * self.interval, p, q, s) for i, (_, p, q, s) in enumerate(events)]

    def start(self, exchange: Exchange, pair: SimPair, now: float) -> None:
        """Book around the first price."""
        self._start = now
        bids, asks = synthetic_book(pair, self._events[0][1], self.seed, self.levels)
        exchange.replace_market(pair, bids, asks)
        exchange.flush()

    def advance(self, exchange: Exchange, pair: SimPair, now: float) -> None:
        """Each due print: move the book to it, then trade."""
        while self._index < len(self._events) and self._events[self._index][0] + self._start <= now:
            _, price, qty, side = self._events[self._index]
            self._index += 1
            price = price.quantize(pair.tick_size, ROUND_HALF_UP)
            mid = price - pair.tick_size if side == "b" else price
            bids, asks = synthetic_book(pair, mid, self.seed, self.levels)
            exchange.replace_market(pair, bids, asks)
            if qty > 0:
                exchange.market_trade(pair, price, qty, side)
            exchange.flush()


class BarReplaySource(_PathReplay):
    """Bars replayed as four prints each (open, then high/low in the likely order, close)."""

    def __init__(
        self, bars: list[Bar], *, seed: int = 1, interval: float | None = None, levels: int = 25
    ) -> None:
        super().__init__(seed, interval, levels)
        events: list[tuple[float, Decimal, Decimal, str]] = []
        for bar in bars:
            path = (
                [bar.open, bar.low, bar.high, bar.close]
                if bar.close >= bar.open
                else [bar.open, bar.high, bar.low, bar.close]
            )
            qty = (bar.volume / 4).quantize(Decimal("0.00000001"), ROUND_DOWN)
            span = interval if interval is not None else 0.0
            for i, price in enumerate(path):
                side = "b" if i and price >= path[i - 1] else "s"
                events.append((bar.ts + i * span / 4, price, qty, side))
        self._set_events(events)
        if interval is not None:
            self._events = [(i * interval / 4, p, q, s) for i, (_, p, q, s) in enumerate(events)]

    @classmethod
    def from_ohlcvt_csv(
        cls, path: str | Path, *, limit: int | None = None, **kwargs
    ) -> BarReplaySource:
        """Kraken's downloadable OHLCVT CSV (``time,open,high,low,close,volume,trades``)."""
        bars: list[Bar] = []
        with Path(path).open() as f:
            for row in csv.reader(f):
                if not row or not row[0].strip().isdigit():
                    continue
                t, o, h, low, c, v = row[:6]
                bars.append(Bar(float(t), dec(o), dec(h), dec(low), dec(c), Decimal(v)))
                if limit is not None and len(bars) >= limit:
                    break
        return cls(bars, **kwargs)


class TradeReplaySource(_PathReplay):
    """Recorded trades replayed as market prints with a book around each."""

    def __init__(
        self,
        trades: list[tuple[float, Decimal, Decimal, str]],
        *,
        seed: int = 1,
        interval: float | None = None,
        levels: int = 25,
    ) -> None:
        super().__init__(seed, interval, levels)
        self._set_events(sorted(trades, key=lambda t: t[0]))

    @classmethod
    def from_trades_response(cls, path: str | Path, **kwargs) -> TradeReplaySource:
        """A saved ``/0/public/Trades`` response."""
        result = json.loads(Path(path).read_text())["result"]
        rows = next(v for k, v in result.items() if k != "last")
        trades = [(float(r[2]), dec(r[0]), dec(r[1]), r[3]) for r in rows]
        return cls(trades, **kwargs)
