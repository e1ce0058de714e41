"""The comparison: identical runs hold parity; each kind of difference gets its cause."""

from decimal import Decimal

import pandas as pd

from seraphim.parity.compare import compare
from seraphim.parity.records import FillRow
from seraphim.parity.records import OrderRow
from seraphim.parity.records import pnl

T = pd.Timestamp("2022-03-01 05:00", tz="UTC")
HOUR = pd.Timedelta(hours=1)
MARKS = {"BTC/USD.KRAKEN": Decimal("110")}


def order(i: int, side: str, qty: str, at=None, status="FILLED") -> OrderRow:
    return OrderRow(
        at or T + i * HOUR,
        "S-000",
        "BTC/USD.KRAKEN",
        side,
        Decimal(qty),
        "MARKET",
        status,
        f"O-{i}",
    )


def fill(
    i: int, side: str, qty: str, price: str, fee: str, venue_fee: str | None = None
) -> FillRow:
    return FillRow(
        T + i * HOUR,
        "S-000",
        "BTC/USD.KRAKEN",
        side,
        Decimal(qty),
        Decimal(price),
        Decimal(fee),
        "USD",
        None if venue_fee is None else Decimal(venue_fee),
    )


def run(bt_orders, live_orders, bt_fills, live_fills, **kwargs):
    return compare(bt_orders, live_orders, bt_fills, live_fills, MARKS, Decimal(10_000), **kwargs)


def test_pnl_is_cash_less_fees_plus_holdings_at_the_mark():
    fills = [fill(0, "BUY", "2", "100", "0.80"), fill(1, "SELL", "1", "105", "0.42")]
    assert pnl(fills, MARKS) == Decimal("-200") - Decimal("0.80") + 105 - Decimal("0.42") + 110


def test_identical_runs_hold_parity_and_fee_rounding_is_the_only_cause():
    orders = [order(0, "BUY", "1"), order(1, "SELL", "1")]
    bt = [fill(0, "BUY", "1", "100", "0.40"), fill(1, "SELL", "1", "105", "0.42")]
    live = [
        fill(0, "BUY", "1", "100", "0.40", "0.4004"),
        fill(1, "SELL", "1", "105", "0.42", "0.4158"),
    ]
    p = run(orders, orders, bt, live)
    assert p.holds and p.orders_identical
    assert p.causes == {"fee rounding": 2}
    assert p.pnl["difference"] == float(Decimal("0.0038"))
    assert p.pnl["explained_by"] == {"fees": 0.0038, "fill_prices": 0.0, "orders": 0.0}
    assert p.listed() == []  # rounding is summarised, not listed


def test_a_later_order_is_latency_and_breaks_parity():
    bt = [order(0, "BUY", "1")]
    live = [order(0, "BUY", "1", at=T + HOUR)]
    p = run(bt, live, [], [])
    assert not p.holds and p.causes == {"latency": 1}


def test_fill_price_difference_is_the_fill_model_and_accounts_for_the_pnl_gap():
    orders = [order(0, "BUY", "1")]
    bt = [fill(0, "BUY", "1", "100.0", "0")]
    live = [fill(0, "BUY", "1", "100.1", "0", "0")]
    p = run(orders, orders, bt, live, slippage=True)
    assert p.causes == {"fill model (backtest slippage)": 1}
    assert abs(p.pnl["explained_by"]["fill_prices"] - -0.1) < 1e-12
    assert abs(p.pnl["explained_by"]["orders"]) < 1e-12


def test_sizing_within_the_quantity_tolerance_holds_and_beyond_it_does_not():
    bt = [order(0, "BUY", "1.00000000")]
    live = [order(0, "BUY", "1.00005000")]
    assert run(bt, live, [], []).causes == {"sizing": 1}
    assert run(bt, live, [], [], quantity_tolerance=1e-4).holds
    assert not run(bt, live, [], [], quantity_tolerance=1e-5).holds


def test_denied_on_one_side_is_risk_and_a_missing_order_is_sequence():
    bt = [order(0, "BUY", "1"), order(1, "SELL", "1")]
    live = [order(0, "BUY", "1", status="DENIED")]
    p = run(bt, live, [], [])
    assert p.causes == {"risk": 1, "sequence": 1}


def test_a_larger_fee_gap_is_the_fee_schedule_with_both_rates():
    orders = [order(0, "BUY", "1")]
    p = run(
        orders,
        orders,
        [fill(0, "BUY", "1", "100", "0.24")],
        [fill(0, "BUY", "1", "100", "0.35", "0.35")],
    )
    assert p.causes == {"fee schedule": 1}
    assert "0.2400%" in p.listed()[0].backtest and "0.3500%" in p.listed()[0].live
