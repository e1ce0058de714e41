"""
Issue 11 fault 5: on a CASH account an order the account cannot pay for is denied by the risk
gate (rule ``insufficient_cash``), market orders included, in a backtest and in a live node;
a run never dies of ``AccountBalanceNegative``.
"""

import asyncio

import pandas as pd
import pytest
from nautilus_trader.accounting.factory import AccountFactory
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import TradingNodeConfig
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.live.node import TradingNode
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

from seraphim.adapters.kraken.pairs import instrument_for
from seraphim.assembly import risk_controller_config
from seraphim.backtest.config import parse_spec
from seraphim.backtest.runner import run_backtest
from seraphim.risk.config import RiskConfig
from seraphim.risk.controller import RiskController

BTC = "BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL"


def run(catalog, out, strategy: dict, start: str, end: str, balance: str = "100000 USD"):
    return run_backtest(
        parse_spec(
            {
                "catalog": str(catalog.path),
                "output": str(out),
                "start": start,
                "end": end,
                "venues": [
                    {"name": "KRAKEN", "account_type": "CASH", "starting_balances": [balance]}
                ],
                "data": [{"bar_type": BTC}],
                "strategies": [strategy],
            }
        )
    )


def usd_balances(outcome) -> pd.Series:
    (account,) = outcome.accounts.values()
    usd = account[account["currency"] == "USD"]
    return usd["total"].astype(float)


def test_orders_beyond_the_cash_are_denied_and_the_run_completes(real_btc_catalog, tmp_path):
    # 3 BTC costs ~90k USD in January 2021 and ~150k in February: the first buys fill, the
    # later ones cannot be paid for from 100k USD and are denied instead of killing the run.
    params = {"fast": 10, "slow": 30, "trade_size": 3, "clip_to_risk": False}
    outcome = run(
        real_btc_catalog,
        tmp_path,
        {"name": "ma_cross", "params": params},
        "2021-01-01",
        "2021-04-01",
    )
    denied = outcome.metrics["denied_orders"]
    assert set(denied) == {"insufficient_cash"} and denied["insufficient_cash"] > 0
    samples = outcome.metrics["risk"]["denial_samples"]["insufficient_cash"]
    assert samples[0].startswith("insufficient_cash: BTC/USD.KRAKEN BUY 3 > affordable")
    assert "USD held" in samples[0]
    assert (outcome.fills["order_side"] == "BUY").any()
    assert usd_balances(outcome).min() >= 0


def test_clipping_trades_what_the_cash_pays_for(real_btc_catalog, tmp_path):
    # `seraphim backtest run --strategy ma_cross --param trade_size=1000`: with clip_to_risk
    # (the default) the strategy asks the gate and buys what 100k USD pays for.
    outcome = run(
        real_btc_catalog,
        tmp_path,
        {"name": "ma_cross", "params": {"trade_size": 1000}},
        "2021-01-01",
        "2021-03-01",
    )
    buys = outcome.fills[outcome.fills["order_side"] == "BUY"]
    assert len(buys) > 0
    bought = buys["last_qty"].astype(float) * buys["last_px"].astype(float)
    assert bought.max() > 90_000  # nearly all the cash, not a token amount
    assert usd_balances(outcome).min() >= 0


@pytest.mark.slow
def test_bollinger_defaults_on_the_whole_real_history(real_btc_catalog, tmp_path):
    # Died with AccountBalanceNegative(-1143.4 USD) at 2021-11-09 before the cash check.
    outcome = run(real_btc_catalog, tmp_path, {"name": "bollinger"}, None, None)
    assert outcome.curves.equity.index[-1] > pd.Timestamp("2022-01-01", tz="UTC")
    assert usd_balances(outcome).min() >= 0
    buys = outcome.fills[outcome.fills["order_side"] == "BUY"]
    assert (buys["last_qty"].astype(float) < 1).any()  # clipped to what the cash paid for


@pytest.fixture
def node():
    loop = asyncio.new_event_loop()
    config = TradingNodeConfig(
        trader_id="CASH-001",
        logging=LoggingConfig(log_level="ERROR"),
        controller=risk_controller_config(RiskConfig()),
    )
    built = TradingNode(config=config, loop=loop)
    built.build()
    yield built, loop
    built.dispose()
    loop.close()


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


def test_a_live_node_denies_market_orders_the_account_cannot_pay_for(node):
    node, loop = node
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
    assert first.status_string() == "INITIALIZED"
    assert second.status_string() == "DENIED"
    assert sell_held.status_string() == "INITIALIZED"
    assert sell_more.status_string() == "DENIED"
    assert controller.gate.denied == {"insufficient_cash": 2}
    reasons = controller.gate.denial_samples["insufficient_cash"]
    assert reasons[0].startswith("insufficient_cash: BTC/USD.KRAKEN BUY 1 > affordable 0.238")
    assert reasons[1].startswith("insufficient_cash: BTC/USD.KRAKEN SELL 0.1 > affordable 0 ")
