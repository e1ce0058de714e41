import math

import pandas as pd
import pytest

from seraphim.backtest.metrics import Curves
from seraphim.backtest.metrics import curve_metrics
from seraphim.backtest.metrics import fees_paid
from seraphim.backtest.metrics import round_trips
from seraphim.backtest.metrics import trade_metrics


def curves(values, freq="1D"):
    index = pd.date_range("2024-01-01", periods=len(values), freq=freq, tz="UTC")
    equity = pd.Series(values, index=index, dtype=float)
    exposure = pd.Series([i % 2 for i in range(len(values))], index=index, dtype=float)
    return Curves(equity=equity, exposure=exposure)


def test_drawdown_cagr_calmar():
    m = curve_metrics(curves([100, 120, 90, 135]))
    assert m["total_return"] == pytest.approx(0.35)
    assert m["max_drawdown"] == pytest.approx(90 / 120 - 1)
    # nautilus's CAGR: the compounded return over the number of daily returns (3), per 365 days.
    assert m["cagr"] == pytest.approx(1.35 ** (365 / 3) - 1)
    assert m["calmar"] == pytest.approx(m["cagr"] / 0.25)
    assert m["max_drawdown_days"] == pytest.approx(0.0)  # one sample under water
    assert m["exposure"] == pytest.approx(0.5)


def test_sharpe_and_sortino_from_daily_returns():
    values = [100, 101, 100.5, 102, 101, 103]
    m = curve_metrics(curves(values))
    r = pd.Series(values).pct_change().dropna()
    assert m["sharpe"] == pytest.approx(r.mean() / r.std() * math.sqrt(365))
    downside = math.sqrt((r.clip(upper=0) ** 2).mean())
    assert m["sortino"] == pytest.approx(r.mean() / downside * math.sqrt(365))


def fill(ts, side, qty, px, fee, strategy="S-1"):
    return {
        "strategy_id": strategy,
        "instrument_id": "BTC/USD.KRAKEN",
        "order_side": side,
        "last_qty": str(qty),
        "last_px": str(px),
        "commission": f"{fee} USD",
        "ts_event": pd.Timestamp(ts, tz="UTC"),
    }


def test_round_trips_split_flips_and_net_fees():
    fills = pd.DataFrame(
        [
            fill("2024-01-01", "BUY", 1.0, 100, 1.0),
            fill("2024-01-02", "BUY", 1.0, 110, 1.0),  # add: average 105
            fill("2024-01-03", "SELL", 3.0, 120, 3.0),  # close 2 (+30), open short 1
            fill("2024-01-04", "BUY", 1.0, 125, 1.0),  # close short (-5)
            fill("2024-01-05", "BUY", 1.0, 50, 0.5, strategy="S-2"),  # still open
        ],
    )
    trades = round_trips(fills)
    assert list(trades["side"]) == ["LONG", "SHORT"]
    assert trades["pnl"].tolist() == pytest.approx([30 - 4.0, -5 - 2.0])
    assert trades["quantity"].tolist() == [2.0, 1.0]
    m = trade_metrics(fills)
    assert m["trades"] == 2
    assert m["win_rate"] == pytest.approx(0.5)
    assert m["profit_factor"] == pytest.approx(26 / 7)
    assert m["expectancy"] == pytest.approx((26 - 7) / 2)


def test_fees_by_currency():
    fills = pd.DataFrame({"commission": ["1.50 USD", "2.25 USD", "0.001 BTC"]})
    assert fees_paid(fills) == {"USD": 3.75, "BTC": 0.001}


def test_same_bar_orders_follow_their_sequence_not_text_order():
    flip = fill("2024-01-02", "SELL", 2.0, 110, 0.0)
    flatten = fill("2024-01-02", "BUY", 1.0, 110, 0.0)
    fills = pd.DataFrame(
        [fill("2024-01-01", "BUY", 1.0, 100, 0.0), flatten, flip],  # as the report sorts them
        index=pd.Index(["O-1-000-1", "O-1-000-10", "O-1-000-9"], name="client_order_id"),
    )
    trades = round_trips(fills)
    assert list(trades["side"]) == ["LONG", "SHORT"]
    assert trades["pnl"].tolist() == pytest.approx([10.0, 0.0])
