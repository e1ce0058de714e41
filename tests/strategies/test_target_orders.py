"""
Target positions trade the difference once: unfinished orders count from submission (before
any acknowledgement), protective orders never count, and a zero trade size is refused.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from click.testing import CliRunner
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.config import ImportableStrategyConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import TradingNodeConfig
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.identifiers import AccountId
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity

from seraphim.adapters.kraken.common.pairs import instrument_for
from seraphim.assembly import risk_controller_config
from seraphim.backtest.cli import backtest
from seraphim.risk.config import RiskConfig
from seraphim.strategies import is_protective
from seraphim.strategies.base import SeraphimStrategy
from seraphim.strategies.base import SeraphimStrategyConfig

BAR_TYPE = BarType.from_str("BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL")
HOUR_NS = 3_600_000_000_000
START_NS = 1_700_000_000_000_000_000 // HOUR_NS * HOUR_NS


def make_bar(index: int, close: float) -> Bar:
    price = Price(close, 1)
    return Bar(
        BAR_TYPE,
        price,
        Price(close + 10, 1),
        Price(close - 10, 1),
        price,
        Quantity(100, 8),
        START_NS + index * HOUR_NS,
        START_NS + index * HOUR_NS,
    )


def wait_until(loop: asyncio.AbstractEventLoop, condition, timeout: float = 10.0) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    loop.run_until_complete(asyncio.wait_for(poll(), timeout))


@pytest.fixture
def live_node():
    loop = asyncio.new_event_loop()
    config = TradingNodeConfig(
        trader_id="REPLAY-001",
        logging=LoggingConfig(log_level="ERROR"),
        controller=risk_controller_config(RiskConfig()),
        strategies=[
            ImportableStrategyConfig(
                strategy_path="seraphim.strategies.ma_cross:MACross",
                config_path="seraphim.strategies.ma_cross:MACrossConfig",
                config={
                    "instrument_id": str(BAR_TYPE.instrument_id),
                    "bar_type": str(BAR_TYPE),
                    "fast": 2,
                    "slow": 3,
                    "trade_size": "0.5",
                },
            ),
        ],
    )
    node = TradingNode(config=config, loop=loop)
    node.build()
    yield node, loop
    node.trader.stop()
    kernel = node.kernel
    for engine in (kernel.data_engine, kernel.risk_engine, kernel.exec_engine):
        if engine.is_running:
            engine.stop()  # its queue task ends at the sentinel this enqueues
    loop.run_until_complete(asyncio.wait_for(asyncio.gather(*asyncio.all_tasks(loop)), 10))
    node.dispose()
    loop.close()


def test_bars_replayed_before_any_ack_send_one_order(live_node):
    """
    Issue 11 fault 1: after a reconnect the missed bars arrive in one burst through the live
    data engine's queue. The first order is still INITIALIZED (queued for the live risk engine,
    no venue has acknowledged it) when the rest are evaluated: they must not trade again.
    """
    node, loop = live_node
    kernel = node.kernel
    kernel.cache.add_instrument(instrument_for("BTC/USD"))
    strategy = node.trader.strategies()[0]
    for engine in (kernel.data_engine, kernel.risk_engine, kernel.exec_engine):
        engine.start()
    strategy.start()
    warmup = [make_bar(i, close) for i, close in enumerate([100.0, 101.0])]
    crossing = make_bar(2, 110.0)
    for bar in [*warmup, crossing, *[crossing] * 8]:  # the burst: one bar and 8 replays of it
        kernel.data_engine.process(bar)
    wait_until(loop, lambda: kernel.data_engine.data_count == 11)
    wait_until(loop, lambda: kernel.risk_engine.command_count >= 1)
    orders = kernel.cache.orders(strategy_id=strategy.id)
    assert [(o.side, o.quantity.as_decimal()) for o in orders] == [(OrderSide.BUY, Decimal("0.5"))]
    assert orders[0].status == OrderStatus.INITIALIZED  # no execution client: never acknowledged
    assert kernel.risk_engine.command_count == 1
    assert strategy.pending_quantity() == Decimal("0.5")


class ProtectedConfig(SeraphimStrategyConfig, frozen=True):
    exit_bar: int = 8
    take_profit: float | None = None  # above the close at the third bar


class Protected(SeraphimStrategy):
    """
    Long 1 from the first bar, protected at the third by a stop-loss far below (and a
    take-profit, if asked), flat at ``exit_bar``; after a protective fill it stays out.
    """

    bars_seen = 0

    def evaluate(self, bar: Bar) -> None:
        self.bars_seen += 1
        close = bar.close.as_double()
        if self.bars_seen == 3:
            take_profit = self.params.take_profit
            self.protect(close * 0.5, close + take_profit if take_profit else None)
        wanted = self.bars_seen < self.params.exit_bar and self.state == 0
        self.set_target_position(Decimal(1) if wanted else Decimal(0))

    def on_order_filled(self, event) -> None:
        if is_protective(self.cache.order(event.client_order_id)):
            self.state = -1  # protection acted: out until the rules say otherwise


def run_protected(
    account_type: AccountType, take_profit: float | None = None
) -> tuple[list, Protected, BacktestEngine]:
    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True)))
    engine.add_venue(Venue("KRAKEN"), OmsType.NETTING, account_type, [Money(1_000_000, USD)])
    instrument = instrument_for("BTC/USD")
    engine.add_instrument(instrument)
    engine.add_data([make_bar(i, 30_000.0 + 50 * (i % 3)) for i in range(12)])
    strategy = Protected(
        ProtectedConfig(
            instrument_id=instrument.id,
            bar_type=BAR_TYPE,
            trade_size=Decimal(1),
            take_profit=take_profit,
        ),
    )
    engine.add_strategy(strategy)
    engine.run()
    return engine.cache.orders(strategy_id=strategy.id), strategy, engine


def test_a_resting_stop_is_not_part_of_the_target():
    """
    Issue 11 fault 4: a reduce-only stop resting under a long position is protection, not a
    sell working toward the target: holding the target buys nothing more, the target 0 sells
    the position once, and the stop is cancelled with it.
    """
    orders, strategy, engine = run_protected(AccountType.CASH)
    engine.dispose()
    markets = [o for o in orders if o.order_type == OrderType.MARKET]
    assert [(o.side, o.quantity.as_decimal(), o.status) for o in markets] == [
        (OrderSide.BUY, Decimal(1), OrderStatus.FILLED),
        (OrderSide.SELL, Decimal(1), OrderStatus.FILLED),
    ]
    (stop,) = [o for o in orders if o.order_type == OrderType.STOP_MARKET]
    assert stop.is_reduce_only and stop.side == OrderSide.SELL
    assert stop.status == OrderStatus.CANCELED
    assert strategy.position_quantity() == 0
    assert strategy.protective_orders() == []


def test_a_zero_trade_size_is_refused_with_a_clear_error():
    command = "run --strategy ma_cross --instrument BTC/USD.KRAKEN --param trade_size=0"
    result = CliRunner().invoke(backtest, command.split())
    assert result.exit_code != 0
    assert "trade_size must be positive, was 0" in result.output
    with pytest.raises(ValueError, match="trade_size must be positive, was -1"):
        ProtectedConfig(instrument_id=BAR_TYPE.instrument_id, bar_type=BAR_TYPE, trade_size=-1)


def test_a_take_profit_fill_cancels_the_stop():
    """The protective orders act as one: when one closes the position the other is cancelled."""
    orders, strategy, engine = run_protected(AccountType.CASH, take_profit=5.0)
    engine.dispose()
    by_type = {o.order_type: o for o in orders if o.order_type != OrderType.MARKET}
    assert by_type[OrderType.LIMIT].is_reduce_only
    assert by_type[OrderType.LIMIT].status == OrderStatus.FILLED
    assert by_type[OrderType.STOP_MARKET].status == OrderStatus.CANCELED
    markets = [(o.side, o.status) for o in orders if o.order_type == OrderType.MARKET]
    assert markets == [(OrderSide.BUY, OrderStatus.FILLED)]  # the take-profit sold it
    assert strategy.position_quantity() == 0


def test_a_stop_with_the_closing_order_in_flight_sends_no_second_close(live_node):
    """
    Issue 11 fault 3 (strategy side): a strategy holding 0.5 BTC sends its closing SELL on a
    bar, and the node stops before any venue has answered. Stopping closes what the position
    and the unfinished orders together still hold: nothing, so no second SELL (before the fix
    ``close_all_positions`` sold the position again and the venue ended short).
    """
    from nautilus_trader.test_kit.stubs.events import TestEventStubs

    node, loop = live_node
    kernel = node.kernel
    instrument = instrument_for("BTC/USD")
    kernel.cache.add_instrument(instrument)
    strategy = node.trader.strategies()[0]
    for engine in (kernel.data_engine, kernel.risk_engine, kernel.exec_engine):
        engine.start()
    strategy.start()
    for i, close in enumerate([100.0, 101.0, 110.0]):  # the cross up: BUY 0.5
        kernel.data_engine.process(make_bar(i, close))
    wait_until(loop, lambda: len(kernel.cache.orders(strategy_id=strategy.id)) == 1)
    (buy,) = kernel.cache.orders(strategy_id=strategy.id)
    account_id = AccountId("KRAKEN-001")  # the venue's answers, as an execution client gives them
    kernel.portfolio.update_account(TestEventStubs.cash_account_state(account_id))
    for event in (
        TestEventStubs.order_submitted(buy, account_id),
        TestEventStubs.order_accepted(buy, account_id),
        TestEventStubs.order_filled(
            buy, instrument, account_id=account_id, last_px=Price(110.0, 1)
        ),
    ):
        kernel.exec_engine.process(event)
    wait_until(loop, lambda: strategy.position_quantity() == Decimal("0.5"))
    for i, close in enumerate([90.0, 80.0], start=3):  # the cross down: SELL 0.5, unanswered
        kernel.data_engine.process(make_bar(i, close))
    wait_until(loop, lambda: len(kernel.cache.orders(strategy_id=strategy.id)) == 2)
    strategy.stop()
    wait_until(loop, lambda: kernel.risk_engine.command_count >= 2)
    sells = [o for o in kernel.cache.orders(strategy_id=strategy.id) if o.side == OrderSide.SELL]
    assert [o.quantity.as_decimal() for o in sells] == [Decimal("0.5")]
