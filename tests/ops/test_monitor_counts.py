"""The monitor's figures when nothing of it runs per event: a nautilus ``BacktestEngine`` (one
thread, no sockets) trades while the monitor's heartbeat timer fires; each beat, run on the
asyncio loop as in a node, counts the order events the bus queued for it and reads each
instrument's last data from nautilus's cache."""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal

from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.currencies import BTC
from nautilus_trader.model.currencies import USDT
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import AggressorSide
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.test_kit.providers import TestInstrumentProvider
from nautilus_trader.trading.strategy import Strategy

from seraphim.ops.monitor import MonitorActor
from seraphim.ops.monitor import MonitorActorConfig

INSTRUMENT = TestInstrumentProvider.btcusdt_binance()
START_NS = 1_700_000_000_000_000_000
STEP_NS = 100_000_000  # a trade every 100 ms: 5 s of trading, 5 heartbeats
TRADES = 50


class EveryThirdTrade(Strategy):
    """A market buy on every third trade (Initialized, Submitted, Accepted, Filled)."""

    def __init__(self) -> None:
        super().__init__(StrategyConfig(strategy_id="Buyer", order_id_tag="001"))
        self.seen = 0

    def on_start(self) -> None:
        self.subscribe_trade_ticks(INSTRUMENT.id)

    def on_trade_tick(self, tick: TradeTick) -> None:
        self.seen += 1
        if self.seen % 3 == 0:
            order = self.order_factory.market(INSTRUMENT.id, OrderSide.BUY, Quantity(0.001, 6))
            self.submit_order(order)


def _trades() -> list[TradeTick]:
    return [
        TradeTick(
            INSTRUMENT.id,
            Price(Decimal(60_000) + i, 2),
            Quantity(0.5, 6),
            AggressorSide.SELLER,
            TradeId(str(i)),
            START_NS + i * STEP_NS,
            START_NS + i * STEP_NS,
        )
        for i in range(TRADES)
    ]


def test_heartbeats_count_every_order_event_and_read_staleness_from_the_cache(trader_id):
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)  # the monitor hands its heartbeat to the node's loop
    engine = BacktestEngine(
        BacktestEngineConfig(trader_id=trader_id, logging=LoggingConfig(bypass_logging=True))
    )
    try:
        engine.add_venue(
            INSTRUMENT.id.venue,
            OmsType.NETTING,
            AccountType.CASH,
            starting_balances=[Money(1_000_000, USDT), Money(10, BTC)],
            base_currency=None,
        )
        engine.add_instrument(INSTRUMENT)
        engine.add_data(_trades())
        engine.add_strategy(EveryThirdTrade())
        monitor = MonitorActor(MonitorActorConfig(heartbeat_secs=1.0))
        engine.add_actor(monitor)
        engine.run(streaming=True)
        loop.run_until_complete(asyncio.sleep(0))  # the beats the timer queued

        expected = Counter(
            type(event).__name__ for order in engine.cache.orders() for event in order.events
        )
        assert expected["OrderFilled"] == TRADES // 3
        registry = monitor.metrics.registry
        for kind, count in expected.items():
            labels = {
                "trader": trader_id,
                "strategy": "Buyer-001",
                "instrument": str(INSTRUMENT.id),
                "event": kind,
            }
            assert registry.get_sample_value("seraphim_order_events_total", labels) == count
        acks = registry.get_sample_value(
            "seraphim_submit_ack_latency_seconds_count",
            {"trader": trader_id, "strategy": "Buyer-001", "venue": "BINANCE"},
        )
        assert acks == TRADES // 3  # each order's submit to its accept
        snapshot = monitor.snapshot
        assert snapshot["submit_ack_ms_last"] == 0.0  # the simulated venue accepts at once
        # The last trade is the engine's time: no staleness; and it is the only instrument.
        assert snapshot["instruments"] == {str(INSTRUMENT.id): {"staleness_secs": 0.0}}
        assert snapshot["strategies"]["Buyer-001"] == {"rejects_per_minute": 0.0}
        engine.end()
        assert monitor.publisher is None  # stopped: its last snapshot said so
    finally:
        engine.dispose()
        asyncio.set_event_loop(None)
        loop.close()
