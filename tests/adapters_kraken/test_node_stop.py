"""
A stop with an order in flight leaves the node agreeing with the venue: the strategy's closing
order, sent from ``on_stop`` while the venue is slow to answer, is settled (acknowledged and
filled, or looked up at the venue) before the clients disconnect, never abandoned.
"""

from __future__ import annotations

import pytest
from nautilus_trader.model.enums import OrderStatus

from .helpers import KEY
from .helpers import SECRET
from .node_harness import exchange_balances_as_money
from .node_harness import lively_sim
from .node_harness import run_probe
from .node_harness import write_node_config
from .probe import RECORDS
from .test_node_faults import assert_matches_exchange

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def kraken_env(monkeypatch):
    monkeypatch.setenv("KRAKEN_API_KEY", KEY)
    monkeypatch.setenv("KRAKEN_API_SECRET", SECRET)


def test_closing_order_sent_on_stop_settles_before_disconnect(tmp_path) -> None:
    RECORDS.pop("close_on_stop", None)
    with lively_sim() as tsim:
        faults = tsim.sim.faults

        def slow_venue() -> None:
            # The closing order is executed but its answer is lost, and the executions stream
            # lags: only a look-up at the venue can tell the node what happened.
            tsim.call(lambda: faults.lose_ack(methods=["add_order"]))
            tsim.call(lambda: faults.delay_executions(4.0, count=20))

        RECORDS["close_on_stop"]["on_bought"].append(slow_venue)
        path = write_node_config(tmp_path, tsim)
        summary, seen = run_probe(path, "close_on_stop", duration=30.0)
        trades = dict(tsim.account.trades)
        venue_orders = list(tsim.account.orders.values())
        balances = exchange_balances_as_money(tsim)
        fired = [f["fault"] for f in faults.fired]
    assert "lose_ack" in fired and "delay_exec" in fired
    assert len(venue_orders) == 2  # the buy and the close, each sent once
    assert all(o.status == "closed" for o in venue_orders)
    orders = seen["orders"]
    assert {o.side_string(): o.status for o in orders.values()} == {
        "BUY": OrderStatus.FILLED,
        "SELL": OrderStatus.FILLED,
    }
    assert_matches_exchange(seen, trades, balances)
    stats = summary.adapter["exec:KRAKEN"]
    assert stats.get("orders_rest", 0) == 0  # the close was never sent a second way
    assert stats["lost_acks"] == 1 and stats["settled_by_lookup"] == 1
    assert {s["side"]: s["status"] for s in summary.orders} == {"BUY": "FILLED", "SELL": "FILLED"}
