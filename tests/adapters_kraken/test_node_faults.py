"""
A TradingNode against the local exchange with the exchange's fault injection: dropped
connections, a lost acknowledgement, duplicated and reordered execution messages, REST outages,
and a node killed and restarted mid-session. nautilus's record must still equal the exchange's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.events import OrderAccepted
from nautilus_trader.model.events import OrderFilled

from seraphim.paths import REPO_ROOT

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


def _fills(orders) -> list[OrderFilled]:
    return [e for o in orders.values() for e in o.events if isinstance(e, OrderFilled)]


def assert_matches_exchange(seen, tsim_trades, balances) -> None:
    fills = _fills(seen["orders"])
    assert sorted(f.trade_id.value for f in fills) == sorted(tsim_trades)  # no double, no miss
    for fill in fills:
        trade = tsim_trades[fill.trade_id.value]
        assert fill.last_qty.as_decimal() == trade.vol
        assert fill.last_px.as_decimal() == trade.price
    (account,) = seen["accounts"]
    for code, money in balances.items():
        assert account.balance_total(money.currency) == money, code


def _drop_while_trading(tsim, rec: dict, problems: list[str]) -> None:
    """
    On its own thread, driven by what the node received: once it trades, drop every
    connection and print two market trades while it is down (the public reconnect must recover
    them); once trades flow again, drop the private connection; once every order filled and the
    private connection is back, ask the node to stop.
    """

    def wait(condition, what: str, timeout: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                problems.append(f"timed out waiting for {what}")
                return False
            time.sleep(0.05)
        return True

    def fills() -> int:
        return sum(isinstance(e, OrderFilled) for e in list(rec["events"]))

    def private_connections() -> int:
        return tsim.call(lambda: tsim.sim.state()["connections"]["private"])

    def drop_and_trade() -> None:
        sim = tsim.sim
        sim.faults.drop_ws("all")
        pair = sim.exchange.pairs["XXBTZUSD"]
        last = sim.exchange.tape["XXBTZUSD"][-1]
        for side in ("b", "s"):
            sim.exchange.market_trade(pair, last.price, pair.ordermin, side)

    try:
        if not wait(lambda: fills() >= 1 and len(rec["trades"]) >= 2, "the first fill"):
            return
        before = len(rec["trades"])
        tsim.call(drop_and_trade)
        if not wait(lambda: len(rec["trades"]) >= before + 4, "trades after the reconnect"):
            return
        tsim.call(lambda: tsim.sim.faults.drop_ws("private"))
        wait(lambda: fills() >= 6 and private_connections() >= 1, "every fill and the reconnect")
    finally:
        rec["stop"].append("scenario done")


def test_dropped_connections_are_resubscribed_and_nothing_is_lost(tmp_path) -> None:
    RECORDS.pop("fills", None)
    rec = RECORDS["fills"]
    problems: list[str] = []
    with lively_sim() as tsim:
        path = write_node_config(tmp_path, tsim)
        driver = threading.Thread(target=_drop_while_trading, args=(tsim, rec, problems))
        driver.start()
        summary, seen = run_probe(path, "fills", duration=None)
        driver.join(10)
        trades = dict(tsim.account.trades)
        tape = list(tsim.sim.exchange.tape["XXBTZUSD"])
        balances = exchange_balances_as_money(tsim)
    assert problems == []
    assert summary.adapter["data:KRAKEN"]["ws_reconnects"] >= 1
    assert summary.adapter["exec:KRAKEN"]["ws_reconnects"] >= 2
    # Market data: every trade printed between the first and the last one received arrived
    # exactly once (the reconnect's snapshot filled the gap).
    got = [int(t.trade_id.value) for t in rec["trades"]]
    expected = [t.trade_id for t in tape if got[0] <= t.trade_id <= got[-1]]
    assert got == expected
    assert summary.adapter["data:KRAKEN"]["trades_recovered"] >= 2
    # Orders: all filled, fills and balances equal the exchange's record.
    statuses = {o.status for o in seen["orders"].values()}
    assert statuses == {OrderStatus.FILLED} and len(seen["orders"]) == 6
    assert_matches_exchange(seen, trades, balances)


def test_a_slow_reconciliation_after_a_reconnect_does_not_hold_up_the_executions(tmp_path) -> None:
    """
    After the private WebSocket reconnects, the client checks its open orders over REST. That
    check must not stop the stream being read: here the venue leaves it unanswered for longer
    than the test waits, and fills must keep arriving through the stream meanwhile.
    """
    RECORDS.pop("steady", None)
    rec = RECORDS["steady"]
    problems: list[str] = []
    rest_timeout_secs = 20.0  # the node's; the venue holds the check for 30 s

    def fills() -> int:
        return sum(isinstance(e, OrderFilled) for e in list(rec["events"]))

    def check_stalled() -> bool:
        fired = tsim.call(lambda: list(tsim.sim.faults.fired))
        return any(f["fault"] == "rest_timeout" for f in fired)

    def drive() -> None:
        def wait(condition, what: str, timeout: float) -> bool:
            deadline = time.monotonic() + timeout
            while not condition():
                if time.monotonic() > deadline:
                    problems.append(f"timed out after {timeout} s waiting for {what}")
                    return False
                time.sleep(0.05)
            return True

        try:
            if not wait(lambda: fills() >= 2, "the first fills", 60):
                return

            def stall_and_drop() -> None:
                tsim.sim.faults.rest_error("timeout", methods=["OpenOrders"], delay=30.0)
                tsim.sim.faults.drop_ws("private")

            tsim.call(stall_and_drop)
            if not wait(check_stalled, "the open-order check after the reconnect", 30):
                return
            before = fills()
            # The check stays unanswered until the node's REST timeout: fills must not wait for
            # it. Three take about 1.5 s (an order every 0.5 s); they are given what is left of
            # the timeout, less 5 s for noticing the stall, so fills held up by it still fail.
            wait(
                lambda: fills() >= before + 3,
                "fills while the open-order check hangs",
                rest_timeout_secs - 5,
            )
        finally:
            rec["stop"].append("scenario done")

    with lively_sim() as tsim:
        path = write_node_config(tmp_path, tsim, kraken={"http_timeout_secs": rest_timeout_secs})
        driver = threading.Thread(target=drive)
        driver.start()
        run_probe(path, "steady", duration=None)
        driver.join(10)
    assert problems == []


@pytest.mark.parametrize("transport", ["ws", "rest"])
def test_lost_acknowledgement_is_found_at_the_venue_not_resubmitted(tmp_path, transport) -> None:
    RECORDS.pop("lost_ack", None)
    with lively_sim() as tsim:
        method = "add_order" if transport == "ws" else "AddOrder"
        tsim.call(lambda: tsim.sim.faults.lose_ack(methods=[method]))
        # The executions stream is late too: the order must be found by looking it up.
        tsim.call(lambda: tsim.sim.faults.delay_executions(4.0, count=2))
        path = write_node_config(tmp_path, tsim, kraken={"use_ws_trading": transport == "ws"})
        summary, seen = run_probe(path, "lost_ack", duration=7.0)
        exchange_orders = list(tsim.account.orders.values())
        fired = [f["fault"] for f in tsim.sim.faults.fired]
    assert "lose_ack" in fired and "delay_exec" in fired
    (order,) = seen["orders"].values()
    assert order.status == OrderStatus.ACCEPTED
    assert len(exchange_orders) == 1  # placed once, never resent
    assert order.venue_order_id.value == exchange_orders[0].txid
    accepted = [e for e in order.events if isinstance(e, OrderAccepted)]
    assert len(accepted) == 1  # the late stream messages did not accept it twice
    stats = summary.adapter["exec:KRAKEN"]
    assert stats["lost_acks"] == 1 and stats["lost_acks_recovered"] == 1


def test_duplicated_and_reordered_executions_never_double_a_fill(tmp_path) -> None:
    RECORDS.pop("fills", None)
    with lively_sim() as tsim:
        tsim.call(lambda: tsim.sim.faults.duplicate_executions(count=8))
        path = write_node_config(tmp_path, tsim)

        def reorder() -> None:
            tsim.sim.faults.reorder_executions(count=6)

        tsim.call_later(2.4, reorder)
        summary, seen = run_probe(path, "fills", duration=7.0)
        trades = dict(tsim.account.trades)
        balances = exchange_balances_as_money(tsim)
        fired = [f["fault"] for f in tsim.sim.faults.fired]
    assert fired.count("duplicate_exec") == 8 and fired.count("reorder_exec") >= 1
    assert {o.status for o in seen["orders"].values()} == {OrderStatus.FILLED}
    assert_matches_exchange(seen, trades, balances)
    stats = summary.adapter["exec:KRAKEN"]
    assert stats["duplicate_messages"] >= 8


def test_rest_outages_back_off_without_a_retry_storm(tmp_path) -> None:
    RECORDS.pop("fills", None)
    with lively_sim() as tsim:
        faults = tsim.sim.faults
        tsim.call(lambda: faults.rest_error("5xx", count=2, methods=["GetWebSocketsToken"]))

        def outage() -> None:
            faults.rest_error("unavailable", count=1000, methods=["OpenOrders"])

        # After start-up reconciliation (which nautilus requires before trading); the
        # periodic open-order check (every 3 s) then meets the outage.
        tsim.call_later(4.0, outage)
        path = write_node_config(tmp_path, tsim, kraken={"reconcile_interval_secs": 3.0})
        started = time.monotonic()
        _, seen = run_probe(path, "fills", duration=10.0)
        elapsed = time.monotonic() - started
        fired = [f for f in faults.fired if f["fault"].startswith("rest_")]
        trades = dict(tsim.account.trades)
        balances = exchange_balances_as_money(tsim)
    token_faults = [f for f in fired if f["method"] == "GetWebSocketsToken"]
    assert len(token_faults) == 2  # connected after two refused attempts
    open_order_calls = [f for f in fired if f["method"] == "OpenOrders"]
    cycles = elapsed / 3.0 + 1
    assert 1 <= len(open_order_calls) <= 4 * cycles  # 1 + 3 retries per check at most
    # Trading over the WebSocket was unaffected.
    assert {o.status for o in seen["orders"].values()} == {OrderStatus.FILLED}
    assert_matches_exchange(seen, trades, balances)


def _node1_config(tmp_path: Path, tsim) -> Path:
    probe_module = "adapters_kraken.probe"
    return write_node_config(
        tmp_path,
        tsim,
        name="first",
        importable_strategies=[
            {
                "strategy_path": f"{probe_module}:ProbeStrategy",
                "config_path": f"{probe_module}:ProbeConfig",
                "config": {"instrument_id": "BTC/USD.KRAKEN", "scenario": "restart_first"},
            }
        ],
        log_level="DEBUG",
    )


def test_node_killed_and_restarted_adopts_orders_and_positions(tmp_path) -> None:
    RECORDS.pop("restart_second", None)
    with lively_sim() as tsim:
        path = _node1_config(tmp_path, tsim)
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO_ROOT / "tests") + os.pathsep + os.environ.get("PYTHONPATH", ""),
        }
        cmd = [sys.executable, "-c", "from seraphim.cli import main; main()", "node", "run"]
        log_file = tmp_path / "node1.log"
        with log_file.open("w") as out:
            proc = subprocess.Popen(
                [*cmd, str(path)], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO_ROOT
            )
            try:
                deadline = time.monotonic() + 40
                while time.monotonic() < deadline:
                    statuses = sorted(o.status for o in list(tsim.account.orders.values()))
                    if statuses == ["closed", "open"]:  # the market buy filled, the limit rests
                        break
                    assert proc.poll() is None, log_file.read_text()[-3000:]
                    time.sleep(0.2)
                else:
                    raise AssertionError(
                        "first node did not trade: " + log_file.read_text()[-3000:]
                    )
                time.sleep(0.5)
            finally:
                proc.send_signal(signal.SIGKILL)  # a crash: no clean shutdown
                proc.wait(10)
        before = {o.txid: o.status for o in tsim.account.orders.values()}
        assert sorted(before.values()) == ["closed", "open"]

        # The restarted node reconciles with the venue, then runs an idempotent strategy.
        path2 = write_node_config(tmp_path, tsim, name="second")
        _, seen = run_probe(
            path2, "restart_second", duration=4.0, external_order_claims=["BTC/USD.KRAKEN"]
        )
        after = {o.txid: o.status for o in tsim.account.orders.values()}
    rec = RECORDS["restart_second"]
    assert rec["adopted_open_orders"] and len(rec["adopted_open_orders"][0]) == 1
    assert rec["adopted_position"] == ["0.02000000"] or rec["adopted_position"] == ["0.02"]
    assert rec["submitted"] == []  # nothing submitted twice
    assert set(after) == set(before)  # no new order reached the venue
    open_orders = [o for o in seen["orders"].values() if o.is_open]
    assert [o.venue_order_id.value for o in open_orders] == [
        txid for txid, status in before.items() if status == "open"
    ]
    # The secret never reached the first node's DEBUG log.
    text = log_file.read_text()
    assert "DEBUG" in text and SECRET not in text
