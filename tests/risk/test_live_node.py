"""The same risk layer in a live nautilus TradingNode (LiveRiskEngine, async queues)."""

import asyncio

import pytest
from nautilus_trader.config import ImportableStrategyConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import TradingNodeConfig
from nautilus_trader.live.node import TradingNode
from nautilus_trader.live.risk_engine import LiveRiskEngine
from nautilus_trader.model.enums import OrderSide

from seraphim.adapters.kraken.pairs import instrument_for
from seraphim.assembly import risk_controller_config
from seraphim.risk.config import RiskConfig
from seraphim.risk.config import RiskLimits
from seraphim.risk.controller import RiskController


@pytest.fixture
def node():
    loop = asyncio.new_event_loop()
    config = TradingNodeConfig(
        trader_id="LIVE-001",
        logging=LoggingConfig(log_level="ERROR"),
        controller=risk_controller_config(RiskConfig(limits=RiskLimits(max_position_qty=0.5))),
        strategies=[
            ImportableStrategyConfig(
                strategy_path="seraphim.strategies.ma_cross:MACross",
                config_path="seraphim.strategies.ma_cross:MACrossConfig",
                config={
                    "instrument_id": "BTC/USD.KRAKEN",
                    "bar_type": "BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL",
                    "trade_size": 1,
                },
            )
        ],
    )
    built = TradingNode(config=config, loop=loop)
    built.build()
    yield built, loop
    built.dispose()
    loop.close()


def test_orders_in_a_trading_node_pass_the_gate_before_the_live_risk_engine(node):
    node, loop = node
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
    loop.run_until_complete(asyncio.sleep(0.3))
    assert too_big.status_string() == "DENIED"
    assert over_with_pending.status_string() == "DENIED"
    assert fits.status_string() == "INITIALIZED"  # forwarded (no venue client in this test)
    assert kernel.risk_engine.command_count == 1  # only the approved order reached nautilus
    assert controller.gate.denied == {"max_position": 2}
    reasons = [event.reason for event in denied if type(event).__name__ == "OrderDenied"]
    assert reasons[0].startswith("max_position [global]: BTC/USD.KRAKEN BUY 1 > allowed 0.5")
    assert "worst case now 0.4" in reasons[1]
