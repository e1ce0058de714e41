"""
A TradingNode against the local exchange over real sockets: every order type and action, and
nautilus's record (orders, fills, fees, balances) against the exchange's own.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from nautilus_trader.model.currencies import BTC
from nautilus_trader.model.enums import LiquiditySide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import OrderRejected
from nautilus_trader.model.events import OrderUpdated

from .helpers import KEY
from .helpers import SECRET
from .node_harness import exchange_balances_as_money
from .node_harness import lively_sim
from .node_harness import run_probe
from .node_harness import write_node_config
from .probe import RECORDS

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def kraken_env(monkeypatch):
    monkeypatch.setenv("KRAKEN_API_KEY", KEY)
    monkeypatch.setenv("KRAKEN_API_SECRET", SECRET)


def test_every_order_type_and_action_matches_the_exchange(tmp_path) -> None:
    RECORDS.pop("orders", None)
    with lively_sim() as tsim:
        path = write_node_config(tmp_path, tsim)
        summary, seen = run_probe(path, "orders", duration=9.0)
        exchange = {o.cl_ord_id: o for o in tsim.account.orders.values()}
        trades = dict(tsim.account.trades)
        balances = exchange_balances_as_money(tsim)
    rec = RECORDS["orders"]
    ids = {key: cid.value for key, cid in rec["submitted"]}
    orders = seen["orders"]

    def status(key: str) -> OrderStatus:
        return orders[ids[key]].status

    # --- statuses as nautilus sees them
    assert status("market") == OrderStatus.FILLED
    assert status("crossing_sell") == OrderStatus.FILLED
    assert status("limit") == OrderStatus.CANCELED
    assert status("stop") == OrderStatus.CANCELED  # by cancel-all
    assert status("stop_limit") == OrderStatus.CANCELED
    assert status("take_profit") == OrderStatus.CANCELED
    assert status("ioc") == OrderStatus.CANCELED
    assert status("gtd") == OrderStatus.EXPIRED
    assert status("post_only_crossing") == OrderStatus.CANCELED
    assert status("iceberg") == OrderStatus.CANCELED  # Kraken takes icebergs; cancel-all
    assert status("fok") == OrderStatus.REJECTED

    rejected = {
        e.client_order_id.value: e.reason for e in rec["events"] if isinstance(e, OrderRejected)
    }
    assert "FOK is not supported" in rejected[ids["fok"]]  # refused before reaching the venue

    # --- every order nautilus sent exists exactly once at the exchange, with the same terms
    sent = [k for k in ids if k != "fok"]
    cl_ids = {k: orders[ids[k]].venue_order_id.value for k in sent}
    for key in sent:
        venue = [o for o in exchange.values() if o.txid == cl_ids[key]]
        assert len(venue) == 1, key
    assert len(exchange) == len(sent)  # nothing submitted twice, nothing extra
    limit_at_venue = next(o for o in exchange.values() if o.txid == cl_ids["limit"])
    assert limit_at_venue.volume == Decimal("0.03")  # amended quantity
    updated = [e for e in rec["events"] if isinstance(e, OrderUpdated)]
    assert updated and updated[-1].price.as_decimal() == limit_at_venue.price
    assert orders[ids["limit"]].quantity.as_decimal() == Decimal("0.03")
    assert limit_at_venue.status == "canceled"
    gtd_at_venue = next(o for o in exchange.values() if o.txid == cl_ids["gtd"])
    assert gtd_at_venue.status == "expired"

    # --- fills: same trade ids, quantities, prices, fees and liquidity as the exchange
    fills = [e for o in orders.values() for e in o.events if isinstance(e, OrderFilled)]
    assert {f.trade_id.value for f in fills} == set(trades)
    for fill in fills:
        trade = trades[fill.trade_id.value]
        assert fill.venue_order_id.value == trade.ordertxid
        assert fill.last_qty.as_decimal() == trade.vol
        assert fill.last_px.as_decimal() == trade.price
        assert fill.commission.as_decimal() == round(trade.fee, 2)  # USD has 2 places in nautilus
        assert fill.commission.currency.code == "USD"
        assert fill.liquidity_side == (LiquiditySide.MAKER if trade.maker else LiquiditySide.TAKER)
    assert len(fills) == len(trades) >= 2

    # --- balances: nautilus's account equals the exchange's record
    (account,) = seen["accounts"]
    for code, money in balances.items():
        assert account.balance_total(money.currency) == money, code
    assert account.balance_locked(balances["USD"].currency).as_decimal() == 0  # nothing open

    # --- data flowed, and the book nautilus built equals the checksum-validated one
    assert rec["quotes"] and rec["trades"] and rec["deltas"]
    data_stats = summary.adapter["data:KRAKEN"]
    assert data_stats.get("checksum_mismatches", 0) == 0
    assert data_stats["book_messages"] > 10
    book = rec["book"][0]
    assert book.best_bid_price() < book.best_ask_price()


def test_paper_node_fills_in_the_sandbox_on_venue_data(tmp_path) -> None:
    """kraken_paper: live Kraken data, nautilus's sandbox fills; nothing reaches the venue."""
    RECORDS.pop("paper", None)
    with lively_sim() as tsim:
        path = write_node_config(
            tmp_path,
            tsim,
            name="paper",
            execution="sandbox",
            sandbox={"starting_balances": ["100000 USD", "0 BTC"]},
        )
        summary, seen = run_probe(path, "paper", duration=4.0)
        venue_orders = list(tsim.account.orders.values())
    (order,) = seen["orders"].values()
    assert order.status == OrderStatus.FILLED
    assert venue_orders == []  # paper orders never reach the venue
    assert RECORDS["paper"]["quotes"] and RECORDS["paper"]["trades"]
    (account,) = seen["accounts"]
    assert account.balance_total(BTC).as_decimal() == Decimal("0.01")
    assert summary.fills and summary.fills[0]["last_qty"].startswith("0.01")
