"""
The risk gate inside a real nautilus BacktestEngine, against strategies that do not cooperate:
a plain nautilus ``Strategy`` sending random market, limit, emulated and list orders and
modifying orders upwards. Whatever it sends, fills never take a position beyond its limit, and
every denial is an ``OrderDenied`` (or ``OrderModifyRejected``) naming its rule.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
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
from nautilus_trader.model.enums import TriggerType
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Money
from nautilus_trader.model.orders import OrderList
from nautilus_trader.trading.strategy import Strategy

from seraphim.adapters.kraken.ingest import sample_instruments
from seraphim.assembly import risk_controller_config
from seraphim.catalog.sample import SampleMarket
from seraphim.catalog.sample import sample_bars
from seraphim.risk.config import RULE_NAMES
from seraphim.risk.config import RiskConfig
from seraphim.risk.config import RiskLimits
from seraphim.risk.controller import RiskController

BAR_TYPES = ["BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL", "ETH/USD.KRAKEN-1-HOUR-LAST-EXTERNAL"]


class RandomTraderConfig(StrategyConfig, frozen=True):
    bar_types: list[str]
    seed: int = 0
    max_qty: float = 1.0


class RandomTrader(Strategy):
    """Sends whatever a random number generator says, through every route nautilus offers."""

    def __init__(self, config: RandomTraderConfig) -> None:
        super().__init__(config)
        self.rng = np.random.default_rng(config.seed)
        self.denied: list[str] = []
        self.modify_rejected: list[str] = []
        self.closes: dict = {}

    def on_start(self) -> None:
        for bar_type in self.config.bar_types:
            self.subscribe_bars(BarType.from_str(bar_type))

    def on_order_denied(self, event) -> None:
        self.denied.append(event.reason)

    def on_order_modify_rejected(self, event) -> None:
        self.modify_rejected.append(event.reason)

    def on_bar(self, bar: Bar) -> None:
        instrument = self.cache.instrument(bar.bar_type.instrument_id)
        close = bar.close.as_double()
        self.closes[(instrument.id, bar.ts_event)] = close
        scale = self.config.max_qty * (1.0 if instrument.id.symbol.value == "BTC/USD" else 15.0)
        for _ in range(int(self.rng.integers(0, 3))):
            side = OrderSide.BUY if self.rng.random() < 0.5 else OrderSide.SELL
            quantity = instrument.make_qty(max(self.rng.random() * scale, 0.001))
            away = 1 - 0.003 * self.rng.random() if side == OrderSide.BUY else 1.003
            price = instrument.make_price(close * away)
            roll = self.rng.random()
            if roll < 0.45:
                self.submit_order(self.order_factory.market(instrument.id, side, quantity))
            elif roll < 0.7:
                self.submit_order(self.order_factory.limit(instrument.id, side, quantity, price))
            elif roll < 0.8:
                orders = [
                    self.order_factory.limit(instrument.id, side, quantity, price),
                    self.order_factory.limit(instrument.id, side, quantity, price),
                ]
                self.submit_order_list(
                    OrderList(self.order_factory.generate_order_list_id(), orders)
                )
            elif roll < 0.88:
                order = self.order_factory.limit(
                    instrument.id,
                    side,
                    quantity,
                    price,
                    emulation_trigger=TriggerType.LAST_PRICE,
                )
                self.submit_order(order)
            elif roll < 0.96:
                open_orders = self.cache.orders_open(
                    instrument_id=instrument.id, strategy_id=self.id
                )
                if open_orders:
                    order = open_orders[int(self.rng.integers(0, len(open_orders)))]
                    bigger = instrument.make_qty(order.quantity.as_double() * 3)
                    self.modify_order(order, quantity=bigger)
            else:
                for order in self.cache.orders_open(strategy_id=self.id):
                    self.cancel_order(order)

    def on_stop(self) -> None:
        self.cancel_all_orders(BarType.from_str(self.config.bar_types[0]).instrument_id)


def build_engine(seed: int, risk: RiskConfig, traders: list[RandomTrader]) -> BacktestEngine:
    engine = BacktestEngine(
        BacktestEngineConfig(
            logging=LoggingConfig(bypass_logging=True), controller=risk_controller_config(risk)
        )
    )
    engine.add_venue(Venue("KRAKEN"), OmsType.NETTING, AccountType.MARGIN, [Money(10**8, USD)])
    market = SampleMarket(days=3, seed=seed)
    for instrument, bars in sample_bars(market, sample_instruments(market)).items():
        engine.add_instrument(instrument)
        engine.add_data(bars)
    for trader in traders:
        engine.add_strategy(trader)
    return engine


def position_paths(fills: pd.DataFrame) -> pd.DataFrame:
    """Signed position after every fill, per (strategy, instrument) and per instrument."""
    # Execution order: the venue numbers its trades (KRAKEN-1-001, ...); the report itself is
    # sorted by client order id, which puts O-...-10 before O-...-9.
    sequence = fills["trade_id"].str.rsplit("-", n=1).str[-1].astype(int)
    fills = fills.assign(sequence=sequence).sort_values(["ts_event", "sequence"]).copy()
    signed = fills["last_qty"].astype(float) * fills["order_side"].map({"BUY": 1, "SELL": -1})
    fills["strategy_position"] = signed.groupby(
        [fills["strategy_id"], fills["instrument_id"]]
    ).cumsum()
    fills["global_position"] = signed.groupby(fills["instrument_id"]).cumsum()
    return fills


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    seed=st.integers(0, 10_000),
    global_qty=st.sampled_from([0.5, 1.0, 3.0]),
    strategy_qty=st.sampled_from([0.3, 0.8, 2.0]),
    notional=st.sampled_from([15_000.0, 40_000.0, 1e9]),
)
def test_random_order_streams_never_breach_a_limit(seed, global_qty, strategy_qty, notional):
    risk = RiskConfig(
        limits=RiskLimits(
            max_position_qty={"BTC/USD.KRAKEN": global_qty, "ETH/USD.KRAKEN": 15 * global_qty},
            max_order_notional=notional,
        ),
        strategies={
            "RandomTrader-001": RiskLimits(
                max_position_qty={
                    "BTC/USD.KRAKEN": strategy_qty,
                    "ETH/USD.KRAKEN": 15 * strategy_qty,
                }
            )
        },
    )
    traders = [
        RandomTrader(RandomTraderConfig(bar_types=BAR_TYPES, seed=seed, order_id_tag="000")),
        RandomTrader(RandomTraderConfig(bar_types=BAR_TYPES, seed=seed + 1, order_id_tag="001")),
    ]
    engine = build_engine(seed, risk, traders)
    engine.run()
    gate = next(a for a in engine.trader.actors() if isinstance(a, RiskController)).gate
    fills = engine.trader.generate_fills_report()
    orders = engine.trader.generate_orders_report()
    engine.dispose()

    limits = {"BTC/USD.KRAKEN": global_qty, "ETH/USD.KRAKEN": 15 * global_qty}
    paths = position_paths(fills)
    for instrument, limit in limits.items():
        mine = paths[paths["instrument_id"] == instrument]
        # .all() holds where a strategy never filled on the instrument (max() would be NaN)
        assert (mine["global_position"].abs() <= limit + 1e-9).all()
        second = mine[mine["strategy_id"] == "RandomTrader-001"]
        bound = limit / global_qty * strategy_qty + 1e-9
        assert (second["strategy_position"].abs() <= bound).all()

    if notional < 1e9:  # the notional rule is live (its arithmetic: tests/risk/test_properties)
        assert gate.denied["max_order_notional"] + gate.denied["max_position"] > 0
    # Every denial names a rule; the gate's counts add up to what the strategies were told.
    denied = traders[0].denied + traders[1].denied
    rejected = traders[0].modify_rejected + traders[1].modify_rejected
    assert len(denied) == (orders["status"] == "DENIED").sum()
    for reason in denied + rejected:
        rule = reason.split(" ", 1)[0].rstrip(":")
        assert rule in RULE_NAMES or rule == "nautilus_risk_engine" or not reason[0].islower()
    assert sum(gate.denied.values()) == len(denied) + len(rejected)
    assert gate.checked > 0


class Scripted(RandomTrader):
    """One step per bar, each through a different route to the venue."""

    def on_bar(self, bar):
        if bar.bar_type.instrument_id.symbol.value != "BTC/USD":
            return
        btc = self.cache.instrument(bar.bar_type.instrument_id)
        step = len(self.closes)
        self.closes[step] = bar.close.as_double()
        low = btc.make_price(bar.close.as_double() * 0.5)  # never fills in three days
        qty = btc.make_qty
        factory = self.order_factory
        if step == 0:
            self.resting = factory.limit(btc.id, OrderSide.BUY, qty(0.1), low)
            self.submit_order(self.resting)
        elif step == 1:
            self.modify_order(self.resting, quantity=qty(0.3))
        elif step == 2:
            orders = [factory.limit(btc.id, OrderSide.BUY, qty(0.1), low) for _ in range(2)]
            self.listed = orders
            self.submit_order_list(OrderList(factory.generate_order_list_id(), orders))
        elif step == 3:
            self.emulated = factory.limit(
                btc.id, OrderSide.BUY, qty(0.15), low, emulation_trigger=TriggerType.LAST_PRICE
            )
            self.submit_order(self.emulated)
        elif step == 4:
            self.too_big = factory.market(btc.id, OrderSide.BUY, qty(0.15))
            self.fits = factory.market(btc.id, OrderSide.BUY, qty(0.1))
            self.submit_order(self.too_big)
            self.submit_order(self.fits)
        elif step == 5:
            self.exit = factory.market(btc.id, OrderSide.SELL, qty(0.1))
            self.submit_order(self.exit)


def test_every_route_goes_through_the_gate():
    """Modify, order list, emulated and market orders are all checked against the limit (0.2
    BTC, counting the resting 0.1 BTC bid); a pure reduction always passes."""
    risk = RiskConfig(limits=RiskLimits(max_position_qty={"BTC/USD.KRAKEN": 0.2}))
    trader = Scripted(RandomTraderConfig(bar_types=BAR_TYPES[:1]))
    engine = build_engine(3, risk, [trader])
    engine.run()
    gate = next(a for a in engine.trader.actors() if isinstance(a, RiskController)).gate
    status = {o.client_order_id: o.status_string() for o in engine.cache.orders()}
    engine.dispose()
    assert status[trader.resting.client_order_id] in ("ACCEPTED", "CANCELED")
    assert trader.modify_rejected == [trader.modify_rejected[0]]
    assert trader.modify_rejected[0].startswith("max_position [global]: BTC/USD.KRAKEN BUY 0.2")
    assert [status[o.client_order_id] for o in trader.listed] == ["DENIED", "DENIED"]
    assert status[trader.emulated.client_order_id] == "DENIED"
    assert status[trader.too_big.client_order_id] == "DENIED"
    assert status[trader.fits.client_order_id] == "FILLED"
    assert status[trader.exit.client_order_id] == "FILLED"
    assert all(r.startswith("max_position [global]") for r in trader.denied)
    assert gate.denied == {"max_position": 5}  # modify + 2 listed + emulated + market


def test_nautilus_own_denials_are_counted_too():
    """Orders nautilus's RiskEngine denies after the gate passed them (here: below the
    instrument's minimum size) are counted as `nautilus_risk_engine`."""

    class Tiny(RandomTrader):
        def on_bar(self, bar):
            instrument = self.cache.instrument(bar.bar_type.instrument_id)
            tiny = instrument.make_qty(0.00001)  # Kraken's BTC minimum is 0.00005
            self.submit_order(self.order_factory.market(instrument.id, OrderSide.BUY, tiny))

    trader = Tiny(RandomTraderConfig(bar_types=BAR_TYPES[:1]))
    engine = build_engine(1, RiskConfig(limits=RiskLimits(max_position_qty=1.0)), [trader])
    engine.run()
    gate = next(a for a in engine.trader.actors() if isinstance(a, RiskController)).gate
    engine.dispose()
    assert gate.denied["nautilus_risk_engine"] == len(trader.denied) == 72
    assert "minimum" in gate.denial_samples["nautilus_risk_engine"][0]
