"""The control channel end to end: a node trading the local Kraken exchange, commands over the
real Redis, the real risk gate, and the journal in PostgreSQL."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import msgspec
import pytest
from adapters_kraken.node_harness import lively_sim
from adapters_kraken.node_harness import write_node_config
from click.testing import CliRunner

from seraphim.assembly import risk_controller_config
from seraphim.cli import main
from seraphim.journal.settings import connect
from seraphim.ops import node_actors
from seraphim.ops.client import ControlClient
from seraphim.ops.commands import ManualOrder
from seraphim.ops.commands import new_command
from seraphim.ops.operator import OPERATOR_STRATEGY_ID
from seraphim.risk.config import RiskConfig
from seraphim.risk.config import RiskLimits

from .harness import INSTRUMENT
from .harness import run_with_script
from .harness import ticker
from .harness import wait_for
from .strategies import Ticker

pytestmark = pytest.mark.slow


def test_an_operator_pauses_reconfigures_trades_flattens_halts_and_resumes_a_node(
    tmp_path, trader_id, journal_env
):
    actors = node_actors(journal=True)
    risk = RiskConfig(limits=RiskLimits(max_order_notional=5_000))
    outcome: dict = {}
    answered: list[tuple[str, float]] = []  # (action, seconds to the answer), for the report
    with lively_sim() as tsim:
        start_btc = tsim.call(lambda: tsim.account.balances["XXBT"])
        path = write_node_config(tmp_path, tsim, trader_id=trader_id)

        def script(node) -> None:
            client = ControlClient.connect()
            strategies = {s.id.value: s for s in node.trader.strategies()}
            tick = next(s for s in strategies.values() if isinstance(s, Ticker))
            sid = tick.id.value
            cache = node.kernel.cache

            def send(action: str, **fields):
                started = time.perf_counter()
                result = client.send(new_command(trader_id, action, "alice", **fields))
                answered.append((action, time.perf_counter() - started))
                return result

            def operator_orders():
                return cache.orders(strategy_id=strategies[OPERATOR_STRATEGY_ID].id)

            def quiet() -> bool:
                return not cache.orders_inflight() and not cache.orders_open()

            wait_for(lambda: trader_id in client.traders(), 60, "the control channel")
            wait_for(lambda: len(tick.submitted) >= 2, 60, "the strategy trading")

            # Pause: the timer keeps firing and trades keep arriving, no order goes out.
            paused = CliRunner().invoke(
                main, ["control", "--operator", "alice", trader_id, "pause", sid]
            )
            assert (paused.exit_code, paused.output) == (0, f"done: {sid}: paused\n")
            wait_for(quiet, 20, "the strategy's last order to settle")
            submitted, fires, ticks = len(tick.submitted), tick.fires, tick.ticks
            wait_for(lambda: tick.fires >= fires + 5 and tick.ticks > ticks, 30, "data and timers")
            assert len(tick.submitted) == submitted

            result = send("set-params", strategy_id=sid, params={"trade_size": "0.002"})
            assert result.ok and "trade_size: 0.001 -> 0.002" in result.detail
            assert tick.params.trade_size == Decimal("0.002")

            def saved_state() -> dict:
                shown = CliRunner().invoke(
                    main, ["state", "strategies", "--trader", trader_id, "--json"]
                )
                assert shown.exit_code == 0, shown.output
                rows = json.loads(shown.output)
                return next((r["state"] for r in rows if r["component_id"] == sid), {})

            saved = wait_for(
                lambda: saved_state().get("seraphim.params"), 10, "the saved parameters"
            )
            assert saved == {"trade_size": "0.002"}

            # A manual order fills at the exchange; one over the notional limit is denied.
            bought = send("order", order=ManualOrder(INSTRUMENT, "BUY", "0.01"))
            assert bought.ok, bought.detail
            wait_for(lambda: all(o.is_closed for o in operator_orders()), 20, "the manual fill")
            assert [o.status_string() for o in operator_orders()] == ["FILLED"]
            assert operator_orders()[0].tags == ["operator:alice"]
            too_big = send("order", order=ManualOrder(INSTRUMENT, "BUY", "0.2"))
            assert too_big.status == "refused"
            assert "denied: max_order_notional" in too_big.detail

            # The same command twice acts once; forged and stale ones are refused.
            again = new_command(
                trader_id, "order", "alice", order=ManualOrder(INSTRUMENT, "BUY", "0.01")
            )
            first, second = client.send(again), client.send(again)
            assert first.ok and second.duplicate and second.detail == first.detail
            forger = ControlClient(client.settings, b"not-the-operator-secret!", client.client)
            forged = forger.send(new_command(trader_id, "state", "mallory", state="HALTED"))
            assert (forged.status, forged.detail) == ("refused", "bad signature")
            stale = msgspec.structs.replace(
                new_command(trader_id, "flatten", "alice"), ts=time.time_ns() - 120 * 10**9
            )
            assert client.send(stale).detail.startswith("stale command: signed 120")
            wait_for(lambda: all(o.is_closed for o in operator_orders()), 20, "the second fill")
            assert len(operator_orders()) == 3  # 0.01, the denied 0.2, 0.01 once
            assert node.kernel.risk_engine.trading_state.name == "ACTIVE"

            # Flatten: every position closed, the venue holds what it held before.
            assert send("flatten").ok
            wait_for(lambda: quiet() and not cache.positions_open(), 30, "flat positions")
            wait_for(
                lambda: tsim.call(lambda: tsim.account.balances["XXBT"]) == start_btc,
                10,
                "the venue's BTC back to its start",
            )

            # Halt: even the operator's order is denied; ACTIVE and resume trade again.
            assert send("state", state="HALTED").detail == "trading state ACTIVE -> HALTED"
            halted = send("order", order=ManualOrder(INSTRUMENT, "BUY", "0.01"))
            assert halted.status == "refused" and "HALTED" in halted.detail
            # The monitor counts the operator's two denials (notional limit, HALTED).
            wait_for(
                lambda: (
                    client.health(trader_id)["strategies"][OPERATOR_STRATEGY_ID][
                        "rejects_per_minute"
                    ]
                    == 2
                ),
                10,
                "the denials in the health snapshot",
            )
            assert client.health(trader_id)["trading_state"] == "HALTED"
            assert client.health(trader_id)["guard"] == "HALTED"  # the risk guard knows
            assert send("state", state="ACTIVE").ok
            assert send("resume", strategy_id=sid).ok
            wait_for(lambda: len(tick.submitted) > submitted, 30, "the strategy trading again")
            assert tick.submitted[submitted][1] == Decimal("0.002")  # the new parameter

            # Bad input: one clear refusal each, nothing applied.
            assert send("pause", strategy_id="Nope-000").detail.startswith(
                "unknown strategy Nope-000 (this node runs: "
            )
            unknown = send("set-params", strategy_id=sid, params={"nope": 1})
            assert unknown.detail == f"{sid}: rejected: unknown parameter(s) nope"
            wrong = send("set-params", strategy_id=sid, params={"interval_ms": "fast"})
            assert wrong.status == "refused" and "interval_ms" in wrong.detail
            assert tick.params.interval_ms == 400 and not tick.paused

            # nautilus's own stop, through the node's controller; a stopped one stays stopped.
            assert send("start", strategy_id=sid).detail == f"{sid} running"
            assert send("stop", strategy_id=sid).detail == f"{sid} stopped"
            assert send("start", strategy_id=sid).detail.startswith(
                f"{sid} is stopped and nautilus cannot start it again in place"
            )
            outcome["answered"] = True
            client.close()

        run_with_script(
            path,
            script,
            actors=actors[:2],
            strategies=[ticker(), actors[2]],
            controller=risk_controller_config(risk),
            state="redis",
        )
    assert outcome.get("answered")
    times = sorted(t for _, t in answered)
    median, slowest = times[len(times) // 2] * 1e3, times[-1] * 1e3
    print(f"answers: {len(times)}, median {median:.1f} ms, max {slowest:.1f} ms")
    dsn, schema = journal_env
    conn = connect(dsn, schema)
    try:
        rows = conn.execute(
            "SELECT operator, action, status, duplicate, detail FROM operator_actions "
            "WHERE trader_id = %s ORDER BY answered_at",
            (trader_id,),
        ).fetchall()
    finally:
        conn.close()
    actions = [(r[0], r[1], r[2]) for r in rows]
    assert actions[0] == ("alice", "pause", "done")
    assert ("mallory", "state", "refused") in actions
    assert sum(1 for r in rows if r[3]) == 1  # the duplicate, recorded as such
    assert not any("secret" in str(r).lower() for r in rows)
