"""
Issue 11 fault 5: on a CASH account an order the account cannot pay for is denied by the risk
gate (rule ``insufficient_cash``), market orders included; a backtest never dies of
``AccountBalanceNegative``. The same check in a live node: ``test_live_node.py``.
"""

import pandas as pd
import pytest

from seraphim.backtest.config import parse_spec
from seraphim.backtest.runner import run_backtest

BTC = "BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL"


def run(catalog, out, strategy: dict, start: str, end: str, **venue):
    return run_backtest(
        parse_spec(
            {
                "catalog": str(catalog.path),
                "output": str(out),
                "start": start,
                "end": end,
                "venues": [
                    {
                        "name": "KRAKEN",
                        "account_type": "CASH",
                        "starting_balances": ["100000 USD"],
                        **venue,
                    }
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
