"""
Stocks: nautilus's ``Equity`` has no base currency, so the instrument is the asset for the risk
gate, and on a CASH account the shares held are a position, not a balance, for the valuation.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest
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
from nautilus_trader.model.identifiers import Symbol
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.instruments import Equity
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.test_kit.providers import TestInstrumentProvider
from nautilus_trader.trading.strategy import Strategy

from seraphim.assembly import risk_controller_config
from seraphim.catalog.sample import AssetModel
from seraphim.catalog.sample import SampleMarket
from seraphim.catalog.sample import simulate_ohlcv
from seraphim.portfolio import account_equity
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


def bars_of(frame: pd.DataFrame, instrument) -> list[Bar]:
    """Hourly bars from a simulated OHLCV frame (indexed by close time)."""
    bars = []
    for ts, row in zip(frame.index.as_unit("ns").asi8, frame.itertuples(), strict=True):
        prices = [instrument.make_price(v) for v in (row.open, row.high, row.low, row.close)]
        bars.append(Bar(BAR_TYPE, *prices, instrument.make_qty(row.volume), ts, ts))
    return bars


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
    engine.add_data(bars_of(frame, aapl))
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


class HoldSharesConfig(StrategyConfig, frozen=True):
    quantity: int = 400
    buy_bar: int = 2
    sell_bar: int = 40


class HoldShares(Strategy):
    """Buys shares once, sells them later, and records the account's equity after every bar."""

    def __init__(self, config: HoldSharesConfig) -> None:
        super().__init__(config)
        self.bars = 0
        self.equity: list[float] = []

    def on_start(self) -> None:
        self.subscribe_bars(BAR_TYPE)

    def on_bar(self, bar: Bar) -> None:
        self.bars += 1
        instrument = self.cache.instrument(BAR_TYPE.instrument_id)
        if self.bars in (self.config.buy_bar, self.config.sell_bar):
            side = OrderSide.BUY if self.bars == self.config.buy_bar else OrderSide.SELL
            quantity = instrument.make_qty(self.config.quantity)
            self.submit_order(self.order_factory.market(instrument.id, side, quantity))
        self.equity.append(account_equity(self.cache, self.portfolio, Venue("XNAS"), USD))


def hold_shares(
    account_type: AccountType, sell_bar: int = 40, risk: RiskConfig | None = None
) -> tuple[HoldShares, float, BacktestEngine]:
    """Runs ``HoldShares``; returns it, the fees paid and the engine (the caller disposes it)."""
    aapl = Equity(
        instrument_id=BAR_TYPE.instrument_id,
        raw_symbol=Symbol("AAPL"),
        currency=USD,
        price_precision=2,
        price_increment=Price.from_str("0.01"),
        lot_size=Quantity.from_int(1),
        ts_event=0,
        ts_init=0,
        maker_fee=Decimal("0.0005"),
        taker_fee=Decimal("0.0005"),
    )
    market = SampleMarket(assets=(AssetModel("AAPL", 190.0, 0.25, 0.05, 50_000.0),), days=3)
    controller = risk_controller_config(risk) if risk is not None else None
    engine = BacktestEngine(
        BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True), controller=controller)
    )
    engine.add_venue(Venue("XNAS"), OmsType.NETTING, account_type, [Money(100_000, USD)])
    engine.add_instrument(aapl)
    engine.add_data(bars_of(simulate_ohlcv(market)["AAPL"], aapl))
    strategy = HoldShares(HoldSharesConfig(sell_bar=sell_bar))
    engine.add_strategy(strategy)
    engine.run()
    fills = engine.trader.generate_fills_report()
    fees = sum(float(str(fee).split()[0]) for fee in fills["commission"])
    return strategy, fees, engine


def test_a_cash_account_counts_the_shares_it_holds():
    """
    Issue 11 fault 6: while 400 AAPL (~76k USD) are held on a CASH account its equity is cash
    plus the shares' market value, the same as a MARGIN account's cash plus unrealised PnL for
    the same trades, not cash alone (a drop by the position's cost); fees show in both.
    """
    cash, cash_fees, engine = hold_shares(AccountType.CASH)
    engine.dispose()
    margin, margin_fees, engine = hold_shares(AccountType.MARGIN)
    engine.dispose()
    assert cash_fees == pytest.approx(margin_fees) and cash_fees > 30  # 0.05 % of ~76k, twice
    assert cash.equity == pytest.approx(margin.equity, abs=1e-6)
    assert min(cash.equity) > 90_000  # never down by the position's cost
    assert cash.equity[-1] != pytest.approx(100_000)  # the round trip's PnL and fees are in it


def test_the_risk_gate_values_an_account_as_the_portfolio_does():
    """One valuation: the gate's equity (for percentage limits, the guard) is the portfolio's."""
    risk = RiskConfig(limits=RiskLimits(max_position_pct=1.0))
    for account_type in (AccountType.CASH, AccountType.MARGIN):
        _, _, engine = hold_shares(account_type, sell_bar=10**6, risk=risk)
        gate = next(a for a in engine.trader.actors() if isinstance(a, RiskController)).gate
        gate.on_account_event(None)  # value it now, not as cached at the last bar
        expected = account_equity(engine.cache, engine.portfolio, Venue("XNAS"), USD)
        held = engine.portfolio.net_position(BAR_TYPE.instrument_id)
        gate_equity = gate.equity()
        engine.dispose()
        assert held == 400
        assert gate_equity == pytest.approx(expected) and gate_equity > 90_000
