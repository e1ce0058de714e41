"""The same risk layer in a live nautilus TradingNode (LiveRiskEngine, async queues)."""

import asyncio

import pytest
from nautilus_trader.accounting.factory import AccountFactory
from nautilus_trader.config import ImportableStrategyConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import TradingNodeConfig
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.live.node import TradingNode
from nautilus_trader.live.risk_engine import LiveRiskEngine
from nautilus_trader.model.currencies import BTC as BTC_CURRENCY
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.events import AccountState
from nautilus_trader.model.identifiers import AccountId
from nautilus_trader.model.objects import AccountBalance
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.trading.strategy import Strategy

from seraphim.adapters.kraken.common.pairs import instrument_for
from seraphim.assembly import risk_controller_config
from seraphim.risk.config import RiskConfig
from seraphim.risk.config import RiskLimits
from seraphim.risk.controller import RiskController

BTC = "BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL"


@pytest.fixture
def make_node():
    """Builds TradingNodes on their own loops; stops their engines' queues before closing."""
    built = []

    def make(config: TradingNodeConfig) -> tuple[TradingNode, asyncio.AbstractEventLoop]:
        loop = asyncio.new_event_loop()
        node = TradingNode(config=config, loop=loop)
        node.build()
        built.append((node, loop))
        return node, loop

    yield make
    for node, loop in built:
        kernel = node.kernel
        for engine in (kernel.data_engine, kernel.risk_engine, kernel.exec_engine):
            if engine.is_running:
                engine.stop()  # its queue task ends at the sentinel this enqueues
        tasks = asyncio.all_tasks(loop)
        loop.run_until_complete(asyncio.wait_for(asyncio.gather(*tasks), 10))
        node.dispose()
        loop.close()


def test_orders_in_a_trading_node_pass_the_gate_before_the_live_risk_engine(make_node):
    node, loop = make_node(
        TradingNodeConfig(
            trader_id="LIVE-001",
            logging=LoggingConfig(log_level="ERROR"),
            controller=risk_controller_config(RiskConfig(limits=RiskLimits(max_position_qty=0.5))),
            strategies=[
                ImportableStrategyConfig(
                    strategy_path="seraphim.strategies.ma_cross:MACross",
                    config_path="seraphim.strategies.ma_cross:MACrossConfig",
                    config={
                        "instrument_id": "BTC/USD.KRAKEN",
                        "bar_type": BTC,
                        "trade_size": 1,
                    },
                )
            ],
        ),
    )
    kernel = node.kernel
    assert isinstance(kernel.risk_engine, LiveRiskEngine)
    controller = next(a for a in node.trader.actors() if isinstance(a, RiskController))
    instrument = instrument_for("BTC/USD")
    kernel.cache.add_instrument(instrument)
    strategy = node.trader.strategies()[0]
    denied = []
    kernel.msgbus.subscribe(f"events.order.{strategy.id}", denied.append)  # what it is told

    def market(quantity):
        order = strategy.order_factory.market(
            instrument.id, OrderSide.BUY, instrument.make_qty(quantity)
        )
        strategy.submit_order(order)
        return order

    too_big, fits, over_with_pending = market(1.0), market(0.4), market(0.2)
    # The third is denied because the second, queued in the LiveRiskEngine, already counts.
    kernel.exec_engine.start()
    kernel.risk_engine.start()

    async def settled() -> None:
        while not (
            too_big.is_closed and over_with_pending.is_closed and kernel.risk_engine.command_count
        ):
            await asyncio.sleep(0.01)

    loop.run_until_complete(asyncio.wait_for(settled(), 10))
    assert too_big.status_string() == "DENIED"
    assert over_with_pending.status_string() == "DENIED"
    assert fits.status_string() == "INITIALIZED"  # forwarded (no venue client in this test)
    assert kernel.risk_engine.command_count == 1  # only the approved order reached nautilus
    assert controller.gate.denied == {"max_position": 2}
    reasons = [event.reason for event in denied if type(event).__name__ == "OrderDenied"]
    assert reasons[0].startswith("max_position [global]: BTC/USD.KRAKEN BUY 1 > allowed 0.5")
    assert "worst case now 0.4" in reasons[1]


def cash_account(usd: float, btc: float) -> AccountState:
    def balance(amount: float, currency) -> AccountBalance:
        return AccountBalance(Money(amount, currency), Money(0, currency), Money(amount, currency))

    return AccountState(
        account_id=AccountId("KRAKEN-001"),
        account_type=AccountType.CASH,
        base_currency=None,
        reported=True,
        balances=[balance(usd, USD), balance(btc, BTC_CURRENCY)],
        margins=[],
        info={},
        event_id=UUID4(),
        ts_event=0,
        ts_init=0,
    )


def test_a_live_node_denies_market_orders_the_account_cannot_pay_for(make_node):
    node, loop = make_node(
        TradingNodeConfig(
            trader_id="CASH-001",
            logging=LoggingConfig(log_level="ERROR"),
            controller=risk_controller_config(RiskConfig()),
        ),
    )
    kernel = node.kernel
    instrument = instrument_for("BTC/USD")
    kernel.cache.add_instrument(instrument)
    kernel.cache.add_account(AccountFactory.create(cash_account(usd=50_000, btc=0.5)))
    close = Price(40_000.0, 1)
    kernel.cache.add_bar(
        Bar(BarType.from_str(BTC), close, close, close, close, Quantity(10, 8), 0, 0)
    )
    controller = next(a for a in node.trader.actors() if isinstance(a, RiskController))
    trader = Strategy()
    node.trader.add_strategy(trader)

    def market(side, quantity):
        order = trader.order_factory.market(instrument.id, side, instrument.make_qty(quantity))
        trader.submit_order(order)
        return order

    # 1 BTC at 40k + fees fits in 50k; a second one does not (the first still reserves its
    # cash, unacknowledged); selling 0.5 BTC is what the account holds, 0.6 is not.
    first, second = market(OrderSide.BUY, 1.0), market(OrderSide.BUY, 1.0)
    sell_held, sell_more = market(OrderSide.SELL, 0.5), market(OrderSide.SELL, 0.1)
    kernel.exec_engine.start()  # it applies the denials
    kernel.risk_engine.start()

    async def denials_applied() -> None:
        while not (second.is_closed and sell_more.is_closed):
            await asyncio.sleep(0.01)

    loop.run_until_complete(asyncio.wait_for(denials_applied(), 10))
    assert first.status_string() == "INITIALIZED"  # forwarded (no venue client in this test)
    assert second.status_string() == "DENIED"
    assert sell_held.status_string() == "INITIALIZED"
    assert sell_more.status_string() == "DENIED"
    assert controller.gate.denied == {"insufficient_cash": 2}
    reasons = controller.gate.denial_samples["insufficient_cash"]
    assert reasons[0].startswith("insufficient_cash: BTC/USD.KRAKEN BUY 1 > affordable 0.238")
    assert reasons[1].startswith("insufficient_cash: BTC/USD.KRAKEN SELL 0.1 > affordable 0 ")
