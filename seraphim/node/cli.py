"""``seraphim node``: run a nautilus TradingNode from a node file."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table

from seraphim.console import console
from seraphim.console import fail


@click.group()
def node() -> None:
    """Live trading nodes (nautilus TradingNode) from node_configs/*.yaml."""


@node.command("run")
@click.argument("config", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--duration",
    type=float,
    default=None,
    help="Run this many seconds, then stop gracefully and print a summary.",
)
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR", "OFF"], case_sensitive=False),
    default=None,
    help="Override the file's log level.",
)
@click.option(
    "--summary-json",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the summary as JSON to this file.",
)
@click.option(
    "--state",
    type=click.Choice(["memory", "redis"]),
    default=None,
    help="Keep the node's state in memory or in Redis (default $SERAPHIM_STATE or memory).",
)
@click.option(
    "--journal/--no-journal",
    default=None,
    help="Record orders, fills, positions in the PostgreSQL journal (default $SERAPHIM_JOURNAL).",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Serve Prometheus metrics on 127.0.0.1:PORT.",
)
@click.option(
    "--alerts",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Alert rules and channels (YAML); see README 'Operating a live node'.",
)
def run(
    config: Path,
    duration: float | None,
    log_level: str | None,
    summary_json,
    state,
    journal,
    metrics_port: int | None,
    alerts: Path | None,
) -> None:
    """
    Launch a TradingNode from CONFIG (e.g. node_configs/kraken_sim.yaml).

    SIGINT or SIGTERM stops it gracefully; a second SIGINT ends it at once.
    """
    from seraphim.journal.settings import JournalError
    from seraphim.node.config import NodeConfigError
    from seraphim.node.lifecycle import NodeStartError
    from seraphim.node.preflight import DependencyError
    from seraphim.node.runner import run_node
    from seraphim.ops.alerts.rules import AlertRulesError
    from seraphim.ops.secret import OperatorSecretError
    from seraphim.state.settings import StateConfigError

    try:
        summary = run_node(
            config,
            duration=duration,
            log_level=log_level,
            state=state,
            journal=journal,
            force_exit=_exit_now,
            metrics_port=metrics_port,
            alerts=alerts,
        )
    except (
        NodeConfigError,
        StateConfigError,
        JournalError,
        OperatorSecretError,
        AlertRulesError,
    ) as e:
        fail(str(e))
    except (DependencyError, NodeStartError) as e:
        fail(str(e), exit_code=1)
    if summary_json is not None:
        summary_json.write_text(json.dumps(summary.to_dict(), indent=2))
    print_summary(summary)


def _exit_now(code: int) -> None:
    """A forced stop: leave without waiting for the node (its loop may be blocked)."""
    import os
    import sys

    sys.stderr.write("seraphim node: forced stop\n")
    sys.stderr.flush()
    os._exit(code)


def print_summary(summary) -> None:
    """Orders, fills and balances as tables."""
    statuses: dict[str, int] = {}
    for order in summary.orders:
        statuses[order["status"]] = statuses.get(order["status"], 0) + 1
    console.print(
        f"[bold]{summary.name}[/]: {len(summary.orders)} order(s) "
        + (", ".join(f"{n} {s.lower()}" for s, n in sorted(statuses.items())) or "")
        + f"; {len(summary.fills)} fill(s)",
        highlight=False,
    )
    if summary.orders:
        table = Table(title="orders")
        for column in ("client order id", "venue id", "side", "type", "qty", "filled", "status"):
            table.add_column(column)
        for o in summary.orders[-20:]:
            table.add_row(
                o["client_order_id"], o["venue_order_id"] or "", o["side"], o["type"],
                o["quantity"], o["filled_qty"], o["status"],
            )  # fmt: skip
        console.print(table)
    if summary.fills:
        table = Table(title="fills")
        for column in ("trade id", "side", "qty", "price", "commission", "liquidity"):
            table.add_column(column)
        for f in summary.fills[-20:]:
            table.add_row(
                f["trade_id"], f["side"], f["last_qty"], f["last_px"],
                f"{f['commission']} {f['commission_currency']}", f["liquidity"],
            )  # fmt: skip
        console.print(table)
    if summary.balances:
        table = Table(title="balances (nautilus account)")
        for column in ("currency", "total", "locked", "free"):
            table.add_column(column)
        for code, b in sorted(summary.balances.items()):
            table.add_row(code, b["total"], b["locked"], b["free"])
        console.print(table)
    if summary.adapter:
        for name, stats in summary.adapter.items():
            shown = {k: v for k, v in sorted(stats.items()) if not k.startswith("ws_messages")}
            console.print(f"{name}: " + ", ".join(f"{k}={v}" for k, v in shown.items()))
