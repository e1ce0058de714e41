"""
The proof against the local Kraken exchange: a TWAP of 1 BTC in a TradingNode (the exchange's
clock 30x fast, so 20 node seconds are 10 exchange minutes), cancelled half-way, and a node
killed and restarted half-way. The same TWAP in a backtest makes the same child schedule.
"""

from __future__ import annotations

import math
import signal
import statistics
import time
from decimal import Decimal

import pytest
from nautilus_trader.config import ImportableStrategyConfig
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.events import OrderFilled

from seraphim.execution.schedule import twap_schedule
from seraphim.node.runner import run_node
from seraphim.sim.kraken.clock import AcceleratedClock
from seraphim.state.settings import redis_settings
from tests.adapters_kraken.helpers import KEY
from tests.adapters_kraken.helpers import SECRET
from tests.adapters_kraken.node_harness import lively_sim
from tests.adapters_kraken.node_harness import write_node_config
from tests.adapters_kraken.node_process import NodeProcess
from tests.adapters_kraken.node_process import node_env
from tests.execution.live_strategy import RECORDS

from .backtest_helpers import children
from .backtest_helpers import run_scripted

pytestmark = pytest.mark.slow

BAR_TYPE = "BTC/USD.KRAKEN-1-MINUTE-LAST-EXTERNAL"
TWAP = {"duration_secs": 20, "slices": 10, "jitter": 0.2, "seed": 5}
SPEED = 30  # exchange seconds per node second
QUIET = {
    "warmup_seconds": 7200,
    "step_seconds": 0.2,
    "volatility": 0.00001,
    "trade_probability": 0.8,
}
# Event loop and timer latency on a busy 2-core machine; slices are 2 s apart, so a child still
# lands in its own slot.
TIMING_TOLERANCE_NS = 1_000_000_000


@pytest.fixture(autouse=True)
def kraken_env(monkeypatch):
    monkeypatch.setenv("KRAKEN_API_KEY", KEY)
    monkeypatch.setenv("KRAKEN_API_SECRET", SECRET)


def strategy_entry(scenario: str, **params) -> dict:
    return {
        "strategy_path": "tests.execution.live_strategy:QuoteTarget",
        "config_path": "tests.execution.live_strategy:QuoteTargetConfig",
        "config": {
            "instrument_id": "BTC/USD.KRAKEN",
            "bar_type": BAR_TYPE,
            "scenario": scenario,
            "exec_algorithm_id": params.pop("algorithm", "TWAP"),
            "exec_algorithm_params": params.pop("twap", TWAP),
            "close_positions_on_stop": False,
            "external_order_claims": ["BTC/USD.KRAKEN"],
            **params,
        },
    }


def run_live(tmp_path, tsim, scenario: str, **params):
    RECORDS.pop(scenario, None)
    path = write_node_config(tmp_path, tsim, name=scenario)
    seen = {}

    def inspect(node) -> None:
        seen["orders"] = {o.client_order_id.value: o for o in node.kernel.cache.orders()}

    entry = strategy_entry(scenario, **params)
    run_node(
        path, duration=90, extra_strategies=[ImportableStrategyConfig(**entry)], inspect=inspect
    )
    return RECORDS[scenario], seen["orders"]


def btc_bought(tsim) -> Decimal:
    return sum(
        (t.vol if t.side == "buy" else -t.vol for t in tsim.account.trades.values()), Decimal(0)
    )


def test_twap_of_one_btc_against_the_exchange(tmp_path, real_catalog) -> None:
    with lively_sim(clock=AcceleratedClock(SPEED), random_walk=QUIET) as tsim:
        rec, orders = run_live(tmp_path, tsim, "twap_full")
        bought = btc_bought(tsim)
        tape = list(tsim.sim.exchange.tape["XXBTZUSD"])
    (parent,) = rec["parents"]
    parent = orders[parent.client_order_id.value]
    kids = sorted(
        (o for o in orders.values() if o.exec_spawn_id == parent.client_order_id and o.is_spawned),
        key=lambda o: o.ts_init,
    )
    slices = twap_schedule(
        Decimal(1), 20 * 10**9, 10, 0.2, 5, Decimal("0.00000001"), Decimal("0.0001")
    )
    # The right number of children at the right times, and 1 BTC in all.
    assert len(kids) == 9 and parent.status == OrderStatus.FILLED
    offsets = [k.ts_init - parent.ts_init for k in kids]
    for offset, planned in zip(offsets, slices, strict=False):
        assert abs(offset - planned.offset_ns) < TIMING_TOLERANCE_NS, (offsets, slices)
    assert [k.quantity.as_decimal() for k in kids] == [s.quantity for s in slices[:-1]]
    assert all(k.status == OrderStatus.FILLED for k in kids)
    assert bought == Decimal(1)
    (row,) = rec["quality"]
    assert row.status == "completed" and row.filled == 1.0 and row.children == 10

    # Average price within the run's VWAP (the exchange's tape, in exchange time, from the first
    # to the last fill of the parent) +- half the mean spread the strategy saw, plus the sampling
    # error of ten time samples of a moving price (two standard errors of the tape's prices).
    fills = [e for o in [parent, *kids] for e in o.events if isinstance(e, OrderFilled)]
    first = min(f.ts_event for f in fills) / 1e9
    last = max(f.ts_event for f in fills) / 1e9
    window = [t for t in tape if first <= t.time <= last]
    vwap = float(sum(t.price * t.qty for t in window) / sum(t.qty for t in window))
    spreads = [q.ask_price.as_double() - q.bid_price.as_double() for q in rec["quotes"]]
    half_spread = sum(spreads) / len(spreads) / 2
    sampling = 2 * statistics.pstdev(float(t.price) for t in window) / math.sqrt(10)
    print(f"avg {row.avg_px:.2f} vwap {vwap:.2f} half spread {half_spread:.2f} 2SE {sampling:.2f}")
    assert abs(row.avg_px - vwap) <= half_spread + sampling

    # The same TWAP in a backtest on real bars makes the same child schedule.
    built, strategy = run_scripted(
        real_catalog,
        "2022-03-01",
        "2022-03-03",
        targets=[(5, 1.0)],
        exec_algorithm_id="TWAP",
        exec_algorithm_params=TWAP,
    )
    (bt_parent,) = strategy.parents
    bt_kids = children(built.cache, bt_parent)
    assert [k.ts_init - bt_parent.ts_init for k in bt_kids] == [s.offset_ns for s in slices[:-1]]
    assert [k.quantity for k in bt_kids] == [k.quantity for k in kids]


def test_cancel_half_way_leaves_no_open_child(tmp_path) -> None:
    twap = {**TWAP, "child": "limit", "limit_offset_ticks": -50}  # resting below the bid
    with lively_sim(clock=AcceleratedClock(SPEED)) as tsim:
        rec, orders = run_live(tmp_path, tsim, "twap_cancel", twap=twap, cancel_after_children=4)
        venue_open = [o for o in tsim.account.orders.values() if o.status in ("open", "pending")]
        bought = btc_bought(tsim)
    (parent,) = rec["parents"]
    parent = orders[parent.client_order_id.value]
    kids = [
        o for o in orders.values() if o.exec_spawn_id == parent.client_order_id and o.is_spawned
    ]
    assert parent.status == OrderStatus.CANCELED
    assert 4 <= len(kids) <= 5  # cut half-way (a fifth may leave before the cancel lands)
    assert all(k.is_closed for k in kids)
    assert venue_open == []
    (row,) = rec["quality"]
    assert row.status == "cancelled" and Decimal(str(row.filled)) == bought < 1


def test_kill_and_restart_half_way_never_fills_more_than_the_parent(tmp_path) -> None:
    with lively_sim(clock=AcceleratedClock(SPEED)) as tsim:
        first = write_node_config(
            tmp_path, tsim, name="first", importable_strategies=[strategy_entry("restart")]
        )
        node = NodeProcess(first, env=node_env(), log=tmp_path / "first.log")
        try:
            deadline = time.monotonic() + 60
            while btc_bought(tsim) < Decimal("0.3"):  # a few children filled
                assert node.proc.poll() is None, node.text()[-3000:]
                assert time.monotonic() < deadline, node.text()[-3000:]
                time.sleep(0.1)
        finally:
            node.proc.send_signal(signal.SIGKILL)  # a crash mid-algorithm
            node.proc.wait(10)
        at_kill = btc_bought(tsim)
        assert Decimal("0.3") <= at_kill < 1

        # The restarted node adopts the position and works the rest, once.
        rec, _ = run_live(tmp_path, tsim, "restart")
        bought = btc_bought(tsim)
    assert rec["adopted_position"] == [at_kill]
    assert bought == Decimal(1)
    (parent,) = rec["parents"]
    assert parent.quantity.as_decimal() <= 1 - at_kill or parent.is_closed


def test_native_iceberg_reaches_kraken_as_an_iceberg_order(tmp_path) -> None:
    iceberg = {"display_qty": "0.1"}
    with lively_sim(clock=AcceleratedClock(SPEED), random_walk=QUIET) as tsim:
        rec, orders = run_live(
            tmp_path,
            tsim,
            "iceberg",
            algorithm="ICEBERG",
            twap=iceberg,
            limit_below_bid=500.0,  # rests
            cancel_after_children=1,
        )
        venue = list(tsim.account.orders.values())
    (child,) = venue
    assert child.ordertype == "iceberg" and child.displayvol == Decimal("0.1")
    assert child.volume == Decimal(1) and child.status == "canceled"
    (parent,) = rec["parents"]
    parent = orders[parent.client_order_id.value]
    assert parent.status == OrderStatus.CANCELED  # closed locally: the venue order worked it
    kids = [
        o for o in orders.values() if o.is_spawned and o.exec_spawn_id == parent.client_order_id
    ]
    assert [k.display_qty.as_decimal() for k in kids] == [Decimal("0.1")]
    assert kids[0].status == OrderStatus.CANCELED
    (row,) = rec["quality"]
    assert row.algorithm == "ICEBERG" and row.status == "partial" and row.filled == 0.0


def test_restart_cancels_children_orphaned_by_a_crash(tmp_path) -> None:
    # A limit child far below the market rests at the venue when the node dies.
    resting = {**TWAP, "child": "limit", "limit_offset_ticks": -5000}
    with lively_sim(clock=AcceleratedClock(SPEED), random_walk=QUIET) as tsim:
        first = write_node_config(
            tmp_path, tsim, name="first", importable_strategies=[strategy_entry("x", twap=resting)]
        )
        node = NodeProcess(first, env=node_env(), log=tmp_path / "first.log")
        try:
            deadline = time.monotonic() + 60
            # The third child rests (each child replaces the one before it).
            while len(tsim.account.orders) < 3 or not tsim.account.open_orders():
                assert node.proc.poll() is None, node.text()[-3000:]
                assert time.monotonic() < deadline, node.text()[-3000:]
                time.sleep(0.1)
        finally:
            node.proc.send_signal(signal.SIGKILL)
            node.proc.wait(10)
        orphans = {o.txid for o in tsim.account.open_orders()}
        assert len(orphans) == 1

        # Restarted (with market children this time), nothing but the algorithm cancels it.
        rec, orders = run_live(tmp_path, tsim, "orphans")
        statuses = {o.txid: o.status for o in tsim.account.orders.values()}
        bought = btc_bought(tsim)
    assert all(statuses[txid] == "canceled" for txid in orphans)
    # Had the strategy set its target before the cancel was confirmed, it counted the orphan as
    # pending and bought 0.9 (the rest at its next target change): never more than 1.
    assert tsim.account.open_orders() == [] and bought in (Decimal("0.9"), Decimal(1))
    adopted = [o for o in orders.values() if o.venue_order_id and o.venue_order_id.value in orphans]
    assert len(adopted) == len(orphans) and all(o.status == OrderStatus.CANCELED for o in adopted)
    (parent,) = rec["parents"]
    assert parent.quantity.as_decimal() <= 1


def delete_ops_keys(redis_url: str, trader: str) -> None:
    """The node's operations keys (health), beside the ``trader-...`` keys the fixture deletes."""
    client = redis_settings(redis_url).client()
    try:
        keys = list(client.scan_iter(match=f"seraphim:ops:{trader}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def test_restart_with_redis_state_cancels_the_parent_left_behind(
    tmp_path, redis_url, redis_trader, monkeypatch, request
) -> None:
    # With its state in Redis the restarted node gets the parent back (still local, quantity
    # reduced by its children): its algorithm cancels it and the children it had at the venue.
    monkeypatch.setenv("SERAPHIM_REDIS_URL", redis_url)
    request.addfinalizer(lambda: delete_ops_keys(redis_url, redis_trader))
    resting = {**TWAP, "duration_secs": 60, "slices": 6, "child": "limit"}
    resting["limit_offset_ticks"] = -5000
    client = redis_settings(redis_url).client()
    with lively_sim(clock=AcceleratedClock(SPEED), random_walk=QUIET) as tsim:
        first = write_node_config(
            tmp_path,
            tsim,
            name="first",
            trader_id=redis_trader,
            importable_strategies=[strategy_entry("x", twap=resting)],
        )
        env = node_env(SERAPHIM_REDIS_URL=redis_url)
        node = NodeProcess(first, "--state", "redis", env=env, log=tmp_path / "first.log")
        try:
            deadline = time.monotonic() + 60
            # The second child rests at the venue and is in Redis.
            while not (keys := list(client.scan_iter(match=f"trader-{redis_trader}:orders:*-E2"))):
                assert node.proc.poll() is None, node.text()[-3000:]
                assert time.monotonic() < deadline, node.text()[-3000:]
                time.sleep(0.1)
            old_parent = keys[0].decode().rsplit(":", 1)[1].removesuffix("-E2")
        finally:
            node.proc.send_signal(signal.SIGKILL)
            node.proc.wait(10)
            client.close()
        orphans = {o.txid for o in tsim.account.open_orders()}
        assert orphans

        RECORDS.pop("redis", None)
        path = write_node_config(tmp_path, tsim, name="second", trader_id=redis_trader)
        seen = {}

        def inspect(node) -> None:
            seen["orders"] = {o.client_order_id.value: o for o in node.kernel.cache.orders()}

        entry = strategy_entry("redis", twap=resting, cancel_after_children=1)
        run_node(
            path,
            duration=90,
            extra_strategies=[ImportableStrategyConfig(**entry)],
            inspect=inspect,
            state="redis",
            journal=False,
        )
        statuses = {o.txid: o.status for o in tsim.account.orders.values()}
        bought = btc_bought(tsim)
    old = seen["orders"][old_parent]  # restored from Redis, cancelled locally
    assert old.status == OrderStatus.CANCELED and old.venue_order_id is None
    assert old.quantity.as_decimal() < 1  # its children had been spawned from it
    assert all(statuses[txid] == "canceled" for txid in orphans)
    assert tsim.account.open_orders() == [] and bought == 0
    (new,) = RECORDS["redis"]["parents"]
    assert new.client_order_id.value != old_parent and new.quantity.as_decimal() <= 1
