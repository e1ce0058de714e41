"""A node trading the local Kraken exchange with risk limits: the dashboard's risk API shows each
limit with its usage (published by the node's monitor), and one order is cancelled by its id
from `seraphim control` and from the dashboard, canceled at the venue."""

from __future__ import annotations

from decimal import Decimal

import pytest
from adapters_kraken.helpers import KEY
from adapters_kraken.helpers import SECRET as KRAKEN_SECRET
from adapters_kraken.node_harness import lively_sim
from adapters_kraken.node_harness import write_node_config
from click.testing import CliRunner
from nautilus_trader.model.identifiers import ClientOrderId
from ops.harness import INSTRUMENT
from ops.harness import run_with_script
from ops.harness import ticker
from ops.harness import wait_for

from seraphim.assembly import risk_controller_config
from seraphim.cli import main
from seraphim.ops import node_actors
from seraphim.ops.client import ControlClient
from seraphim.ops.commands import ManualOrder
from seraphim.ops.commands import new_command
from seraphim.ops.operator import OPERATOR_STRATEGY_ID
from seraphim.risk.config import GuardConfig
from seraphim.risk.config import RiskConfig
from seraphim.risk.config import RiskLimits
from seraphim.sim.kraken.config import AccountConfig

from .conftest import login

pytestmark = pytest.mark.slow

RISK = RiskConfig(
    limits=RiskLimits(
        max_position_qty=1.0,
        max_position_pct=0.5,
        max_order_notional=5_000,
        max_gross_leverage=2.0,
        max_daily_loss=0.05,
    ),
    strategies={OPERATOR_STRATEGY_ID: RiskLimits(max_asset_pct=0.4)},
    guard=GuardConfig(max_drawdown=0.2),
)
LIMITS = {
    ("global", "max_position_qty"): 1.0,
    ("global", "max_position_pct"): 0.5,
    ("global", "max_order_notional"): 5_000,
    ("global", "max_gross_leverage"): 2.0,
    ("global", "max_daily_loss"): 0.05,
    (OPERATOR_STRATEGY_ID, "max_asset_pct"): 0.4,
    ("guard", "max_drawdown"): 0.2,
}


def test_risk_limits_with_usage_and_one_order_cancelled_by_id(tmp_path, trader_id, client):
    actors = node_actors()
    login(client, "tom")
    outcome: dict = {}
    # Only USD and BTC: the ticker's BTC prices value every balance, so equity is known.
    account = AccountConfig(KEY, KRAKEN_SECRET, balances={"ZUSD": "100000", "XXBT": "1"})
    with lively_sim(accounts=[account]) as tsim:
        path = write_node_config(tmp_path, tsim, trader_id=trader_id)

        def venue_status(order) -> str:
            txid = order.venue_order_id.value
            return tsim.call(lambda: tsim.account.orders[txid].status)

        def script(node) -> None:
            control = ControlClient.connect()
            cache = node.kernel.cache

            def limits() -> dict:
                answer = client.get(f"/api/nodes/{trader_id}/risk")
                assert answer.status_code == 200, answer.text
                return {(r["scope"], r["rule"]): r for r in answer.json()["limits"]}

            def order(ticket: ManualOrder):
                result = control.send(new_command(trader_id, "order", "alice", order=ticket))
                assert result.ok, result.detail
                return cache.order(ClientOrderId(result.detail.split()[1]))  # "order ID STATUS"

            wait_for(lambda: trader_id in control.traders(), 60, "the control channel")
            wait_for(
                lambda: ((control.health(trader_id) or {}).get("equity") or 0) > 100_000,
                60,
                "the equity with BTC priced",
            )
            history = client.get(f"/api/nodes/{trader_id}/equity").json()
            assert history and history[-1]["equity"] > 100_000  # the node's own, not the page's
            rows = wait_for(limits, 10, "the limits in the risk API")
            assert {k: r["limit"] for k, r in rows.items()} == LIMITS
            assert rows[("global", "max_position_qty")]["usage"] == 0.0
            assert rows[("global", "max_order_notional")]["usage"] == 0.0

            # A fill: the position's rules show it, in their own units.
            bought = order(ManualOrder(INSTRUMENT, "BUY", "0.01"))
            wait_for(lambda: bought.is_closed, 20, "the manual fill")
            px = float(bought.avg_px)

            def filled_usage() -> dict | None:
                rows = limits()
                qty = rows[("global", "max_position_qty")]
                return (
                    rows
                    if qty["usage"] == 0.01 and rows[("guard", "max_drawdown")]["usage"] is not None
                    else None
                )

            rows = wait_for(filled_usage, 10, "the position in the usage")
            assert rows[("global", "max_position_qty")]["subject"] == INSTRUMENT
            equity = client.get(f"/api/nodes/{trader_id}").json()["health"]["risk"]["equity"]
            share = 0.01 * px / equity
            for key in (("global", "max_position_pct"), ("global", "max_gross_leverage"),
                        (OPERATOR_STRATEGY_ID, "max_asset_pct")):  # fmt: skip
                assert rows[key]["usage"] == pytest.approx(share, rel=0.02), key
            assert rows[(OPERATOR_STRATEGY_ID, "max_asset_pct")]["subject"] == "BTC"
            assert 0.0 <= rows[("guard", "max_drawdown")]["usage"] < 0.2
            assert 0.0 <= rows[("global", "max_daily_loss")]["usage"] < 0.05

            # A resting limit order: the largest working order and the worst-case position.
            low = str(int(px / 2))
            resting = order(ManualOrder(INSTRUMENT, "BUY", "0.01", type="LIMIT", price=low))
            assert resting.status_string() == "ACCEPTED"
            assert venue_status(resting) == "open"

            def working() -> dict | None:
                rows = limits()
                return rows if rows[("global", "max_position_qty")]["usage"] == 0.02 else None

            rows = wait_for(working, 10, "the working order in the usage")
            notional = rows[("global", "max_order_notional")]["usage"]
            assert notional == pytest.approx(0.01 * float(low), rel=1e-6)

            # Cancelled by id from the CLI: canceled at the venue, the answer says so.
            ident = resting.client_order_id.value
            cancelled = CliRunner().invoke(
                main, ["control", "--operator", "alice", trader_id, "cancel", "--order", ident]
            )
            assert (cancelled.exit_code, cancelled.output) == (0, f"done: order {ident} CANCELED\n")
            assert venue_status(resting) == "canceled"

            # And from the dashboard's orders page API.
            second = order(ManualOrder(INSTRUMENT, "BUY", "0.01", type="LIMIT", price=low))
            answer = client.post(
                f"/api/nodes/{trader_id}/orders/{second.client_order_id.value}/cancel"
            )
            assert answer.status_code == 200, answer.text
            assert answer.json()["detail"] == f"order {second.client_order_id.value} CANCELED"
            assert venue_status(second) == "canceled"

            # Unknown or closed ids are refused in one line; a malformed one never leaves.
            unknown = CliRunner().invoke(
                main, ["control", trader_id, "cancel", "--order", "O-NOPE-1"]
            )
            assert (unknown.exit_code, unknown.output) == (
                1,
                "Error: refused: unknown order O-NOPE-1: not in this node's cache\n",
            )
            again = client.post(f"/api/nodes/{trader_id}/orders/{ident}/cancel").json()
            assert (again["status"], again["detail"]) == (
                "refused",
                f"order {ident} is already CANCELED",
            )
            both = CliRunner().invoke(
                main, ["control", trader_id, "cancel", "--order", ident, "--strategy", "X-1"]
            )
            assert both.output == (
                "Error: cancel one order by its id, or by strategy/instrument, not both\n"
            )
            assert client.post(f"/api/nodes/{trader_id}/orders/bad%20id/cancel").status_code == 422
            assert bought.filled_qty == Decimal("0.01")
            outcome["done"] = True
            control.close()

        run_with_script(
            path,
            script,
            actors=actors[:2],
            # Prices for the equity and the marks: a Ticker that never fires, only subscribes.
            strategies=[ticker(interval_ms=3_600_000), actors[2]],
            controller=risk_controller_config(RISK),
            state="redis",
        )
    assert outcome.get("done")
