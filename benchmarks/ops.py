"""
What the operations actors (``seraphim.ops``: the control channel, the monitor with its
Prometheus metrics, the operator strategy) cost the node's event-loop thread per event.

The same events run through a nautilus ``BacktestEngine`` (one thread; its data engine, message
bus, strategy, risk and execution engines are the ones a live node runs) without and with the
components a live node gets from ``seraphim.ops.node_actors``: quotes and trades of BTC/USD and
the tick-to-order benchmark's probe strategy, ordering on every trade (each order cancelled once
accepted: Initialized, Submitted, Accepted, PendingCancel, Canceled). The measure is the CPU
time of that thread only (``time.thread_time``: the actors' Redis, metrics and timer threads are
not in it, nor the garbage collector's passes) over the events after a warm-up batch; bare and
with the actors alternate ABBA, ``REPEATS`` pairs; per event, the median paired difference. A
data-only scenario (the probe never orders) gives the cost per market-data event, the
difference of the two scenarios the cost per order. A tick meets one data event and its order's
events on the way to the venue (OrderInitialized and OrderSubmitted; the rest come after), so
their sum bounds what the actors add to tick-to-order. The heartbeat, once per
``heartbeat_secs`` on the loop, is timed on its own.
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import statistics
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.common.config import ActorFactory
from nautilus_trader.common.config import ImportableActorConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.model.currencies import BTC
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import AggressorSide
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.events import OrderAccepted
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import Symbol
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.instruments import CurrencyPair
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.trading.config import StrategyFactory

from benchmarks.common import print_table
from benchmarks.kraken_ws import LatencyProbe
from benchmarks.kraken_ws import LatencyProbeConfig
from benchmarks.kraken_ws import forget_trader
from seraphim.ops import node_actors
from seraphim.ops.monitor import MonitorActor

TRADER_ID = "OPSBENCH-001"
INSTRUMENT_ID = InstrumentId(Symbol("BTC/USD"), Venue("KRAKEN"))
WARMUP_TRADES = 2_000
TRADES = 20_000  # measured, each after a quote
EVERY = 1  # an order on every trade: the per-order figure is then least diluted
REPEATS = 7
BEATS = 200
# The bare node's tick-to-order p50 to express the cost in (``benchmarks/kraken_ws.py``: 1.7 to
# 1.9 ms in the latest runs, the README's older quiet figure 3.78 ms); the smaller p50 makes the
# larger share.
P50_MS = float(os.environ.get("OPS_BENCH_P50_MS", "1.9"))


def _instrument() -> CurrencyPair:
    return CurrencyPair(
        instrument_id=INSTRUMENT_ID,
        raw_symbol=Symbol("XBT/USD"),
        base_currency=BTC,
        quote_currency=USD,
        price_precision=1,
        size_precision=8,
        price_increment=Price.from_str("0.1"),
        size_increment=Quantity.from_str("0.00000001"),
        lot_size=None,
        max_quantity=None,
        min_quantity=Quantity.from_str("0.00005"),
        max_notional=None,
        min_notional=None,
        max_price=None,
        min_price=None,
        margin_init=Decimal(0),
        margin_maint=Decimal(0),
        maker_fee=Decimal("0.0016"),
        taker_fee=Decimal("0.0026"),
        ts_event=0,
        ts_init=0,
    )


def _events(trades: int, ts: int, seed: int) -> list:
    """A quote then a trade, ``trades`` times, on a seeded random walk around 60,000, all at
    ``ts``: a backtest advances every component's test clock (the actors' too) at each new
    timestamp, which a live node's clocks do not."""
    rng = random.Random(seed)
    mid = 60_000.0
    out: list = []
    for i in range(trades):
        mid *= 1 + rng.gauss(0, 0.0002)
        bid, ask = round(mid - 0.05, 1), round(mid + 0.05, 1)
        out.append(
            QuoteTick(
                INSTRUMENT_ID,
                Price(bid, 1),
                Price(ask, 1),
                Quantity(0.5, 8),
                Quantity(0.5, 8),
                ts,
                ts,
            )
        )
        buy = rng.random() < 0.5
        out.append(
            TradeTick(
                INSTRUMENT_ID,
                Price(ask if buy else bid, 1),
                Quantity(0.01, 8),
                AggressorSide.BUYER if buy else AggressorSide.SELLER,
                TradeId(f"{seed}-{i}"),
                ts,
                ts,
            )
        )
    return out


@contextmanager
def _no_gc() -> Iterator[None]:
    """Without the collector's passes, whose cost depends on the whole heap, not the events."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class CancellingProbe(LatencyProbe):
    """The tick-to-order probe, its order cancelled once accepted (the venue's book stays
    small, so each event costs the same from the first to the last)."""

    def on_order_accepted(self, event: OrderAccepted) -> None:
        self.cancel_order(self.cache.order(event.client_order_id))


class Harness:
    """One engine, started on a warm-up batch; ``measure`` runs the measured batch."""

    def __init__(self, operations: bool, orders: bool, trades: int = TRADES) -> None:
        # The actors hand work to the node's event loop: here one that never runs (no command
        # is sent, and the heartbeat is timed by calling it).
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.engine = BacktestEngine(
            BacktestEngineConfig(
                trader_id=TRADER_ID,
                logging=LoggingConfig(bypass_logging=True),
                run_analysis=False,
            )
        )
        engine = self.engine
        engine.add_venue(
            Venue("KRAKEN"),
            OmsType.NETTING,
            AccountType.CASH,
            starting_balances=[Money(10_000_000, USD), Money(100, BTC)],
            base_currency=None,
        )
        engine.add_instrument(_instrument())
        probe = LatencyProbeConfig(
            instrument_id=INSTRUMENT_ID, every=EVERY, max_orders=10**9 if orders else 0
        )
        engine.add_strategy(CancellingProbe(probe))
        self.monitor: MonitorActor | None = None
        if operations:
            # As a live node gets them (its metrics served, the control channel on Redis).
            for component in node_actors(metrics_port=0):
                if isinstance(component, ImportableActorConfig):
                    actor = ActorFactory.create(component)
                    engine.add_actor(actor)
                    if isinstance(actor, MonitorActor):
                        self.monitor = actor
                else:
                    engine.add_strategy(StrategyFactory.create(component))
        start = 1_700_000_000_000_000_000
        self._measured = _events(trades, start + 1_000_000, seed=2)
        engine.add_data(_events(WARMUP_TRADES, start, seed=1))
        engine.run(streaming=True)
        engine.clear_data()
        engine.add_data(self._measured)

    def measure(self) -> float:
        """Loop-thread CPU seconds per measured event."""
        with _no_gc():
            started = time.thread_time()
            self.engine.run(streaming=True)
            return (time.thread_time() - started) / len(self._measured)

    def beat_seconds(self) -> float:
        """Loop-thread CPU seconds of one heartbeat (median of ``BEATS``)."""
        samples = []
        for _ in range(BEATS):
            started = time.thread_time()
            self.monitor._beat(time.perf_counter())  # the heartbeat as the loop runs it
            samples.append(time.thread_time() - started)
        return statistics.median(samples)

    def close(self) -> None:
        self.engine.end()
        self.engine.dispose()
        asyncio.set_event_loop(None)
        self.loop.close()


def _paired(orders: bool) -> tuple[list[float], list[float], float | None]:
    """Per-event seconds without / with the actors (ABBA) and the heartbeat's."""
    bare: list[float] = []
    ops: list[float] = []
    beat = None
    for i in range(REPEATS):
        for operations in (False, True) if i % 2 == 0 else (True, False):
            harness = Harness(operations, orders)
            try:
                (ops if operations else bare).append(harness.measure())
                if operations and beat is None:
                    beat = harness.beat_seconds()
            finally:
                harness.close()
    return bare, ops, beat


def _row(label: str, bare: list[float], ops: list[float], added: list[float]) -> list[str]:
    us = 1e6
    return [
        label,
        f"{statistics.median(bare) * us:.2f}" if bare else "",
        f"{statistics.median(ops) * us:.2f}" if ops else "",
        f"{statistics.median(added) * us:+.3f}",
        f"{min(added) * us:+.2f} .. {max(added) * us:+.2f}",
    ]


def main() -> None:
    # nautilus's engine calls pandas's deprecated Timestamp.utcnow at each run's start and end.
    warnings.filterwarnings("ignore", message=".*Timestamp.utcnow")
    os.environ.setdefault("SERAPHIM_OPERATOR_SECRET", "ops-bench-operator-secret")
    try:
        data_bare, data_ops, beat = _paired(orders=False)
        order_bare, order_ops, _ = _paired(orders=True)
    finally:
        forget_trader(TRADER_ID)
    per_data = [o - b for b, o in zip(data_bare, data_ops, strict=True)]
    per_event = [o - b for b, o in zip(order_bare, order_ops, strict=True)]
    # Per order: what the events with orders add beyond the data events' share (a quote and
    # a trade per trade, an order every EVERY trades), pair by pair.
    per_order = [(e - d) * 2 * EVERY for e, d in zip(per_event, per_data, strict=True)]
    path = [d + o for d, o in zip(per_data, per_order, strict=True)]
    print_table(
        f"Operations actors' cost on the event-loop thread: CPU µs (thread time) per event, "
        f"{2 * TRADES:,} events x {REPEATS} ABBA pairs; added = median of the paired differences",
        ["per", "bare µs", "with actors µs", "added µs", "paired range µs"],
        [
            _row("market data event (quote or trade)", data_bare, data_ops, per_data),
            _row("event, an order on every trade", order_bare, order_ops, per_event),
            _row("order (its 5 events, cancel included)", [], [], per_order),
            _row("tick-to-order path (a trade + its order)", [], [], path),
        ],
    )
    added, worst = statistics.median(path) * 1e6, max(path) * 1e6
    print(
        f"tick-to-order: the actors add {added:+.2f} µs (largest pair {worst:+.2f} µs) = "
        f"{added / 10 / P50_MS:.3f} % ({worst / 10 / P50_MS:.3f} %) of the {P50_MS} ms p50 "
        f"(budget 2 %); the heartbeat: {beat * 1e6:.0f} µs on the loop once a second"
    )


if __name__ == "__main__":
    main()
