"""The risk gate on stocks: nautilus's Equity has no base currency, the instrument is the asset."""

from __future__ import annotations

from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Money
from nautilus_trader.persistence.wranglers import BarDataWrangler
from nautilus_trader.test_kit.providers import TestInstrumentProvider
from nautilus_trader.trading.strategy import Strategy

from seraphim.assembly import risk_controller_config
from seraphim.catalog.sample import AssetModel
from seraphim.catalog.sample import SampleMarket
from seraphim.catalog.sample import simulate_ohlcv
from seraphim.risk.config import RiskConfig
from seraphim.risk.config import RiskLimits
from seraphim.risk.controller import RiskController

BAR_TYPE = BarType.from_str("AAPL.XNAS-1-HOUR-LAST-EXTERNAL")


class BuyEveryBarConfig(StrategyConfig, frozen=True):
    quantity: int = 40


class BuyEveryBar(Strategy):
    def __init__(self, config: BuyEveryBarConfig) -> None:
        super().__init__(config)
        self.denied: list[str] = []

    def on_start(self) -> None:
        self.subscribe_bars(BAR_TYPE)

    def on_order_denied(self, event) -> None:
        self.denied.append(event.reason)

    def on_bar(self, bar: Bar) -> None:
        instrument = self.cache.instrument(BAR_TYPE.instrument_id)
        quantity = instrument.make_qty(self.config.quantity)
        self.submit_order(self.order_factory.market(instrument.id, OrderSide.BUY, quantity))


def test_stock_orders_pass_the_gate_up_to_the_limits():
    aapl = TestInstrumentProvider.equity("AAPL", "XNAS")
    market = SampleMarket(assets=(AssetModel("AAPL", 190.0, 0.25, 0.05, 50_000.0),), days=2)
    frame = simulate_ohlcv(market)["AAPL"]
    risk = RiskConfig(limits=RiskLimits(max_position_qty=100.0, max_asset_pct=0.5))
    engine = BacktestEngine(
        BacktestEngineConfig(
            logging=LoggingConfig(bypass_logging=True), controller=risk_controller_config(risk)
        )
    )
    engine.add_venue(Venue("XNAS"), OmsType.NETTING, AccountType.MARGIN, [Money(10**6, USD)])
    engine.add_instrument(aapl)
    engine.add_data(BarDataWrangler(BAR_TYPE, aapl).process(frame))
    strategy = BuyEveryBar(BuyEveryBarConfig())
    engine.add_strategy(strategy)
    engine.run()
    gate = next(a for a in engine.trader.actors() if isinstance(a, RiskController)).gate
    position = engine.portfolio.net_position(aapl.id)
    engine.dispose()
    assert float(position) == 80  # two orders of 40 fit under 100 shares, the third does not
    assert len(strategy.denied) == 48 - 2
    assert all(reason.startswith("max_position [global]") for reason in strategy.denied)
    assert gate.denied == {"max_position": 46}
