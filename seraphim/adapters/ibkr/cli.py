"""``seraphim ibkr``: operator tools for an IB Gateway / TWS (ib_async, read-only)."""

from __future__ import annotations

import asyncio
import json
import sys

import click
from rich.table import Table

from seraphim.adapters.ibkr.config import HOST_ENV
from seraphim.adapters.ibkr.config import PAPER_GATEWAY_PORT
from seraphim.adapters.ibkr.config import PORT_ENV
from seraphim.adapters.ibkr.tools import DEFAULT_TOOL_CLIENT_ID
from seraphim.adapters.ibkr.tools import ToolError
from seraphim.console import console
from seraphim.console import fail


def connection_options(fn):
    """--host, --port, --client-id (and --json, --timeout) shared by every tool."""
    options = [
        click.option(
            "--host",
            envvar=HOST_ENV,
            default="127.0.0.1",
            show_default=True,
            help=f"Gateway host (${HOST_ENV}).",
        ),
        click.option(
            "--port",
            envvar=PORT_ENV,
            type=int,
            default=PAPER_GATEWAY_PORT,
            show_default=True,
            help=f"Gateway port (${PORT_ENV}): IB Gateway paper 4002 / live 4001, "
            "TWS 7497 / 7496, local gateway 4010.",
        ),
        click.option(
            "--client-id",
            type=int,
            default=DEFAULT_TOOL_CLIENT_ID,
            show_default=True,
            help="API client id for this tool (must differ from the node's).",
        ),
        click.option("--timeout", type=float, default=5.0, show_default=True, help="Seconds."),
        click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


@click.group()
def ibkr() -> None:
    """Interactive Brokers gateway tools (read-only, their own API client id)."""


@ibkr.command()
@connection_options
@click.option("--samples", type=int, default=5, show_default=True, help="Round trips to time.")
@click.option("--max-rtt-ms", type=float, default=None, help="Judge DEGRADED above this median.")
def probe(host, port, client_id, timeout, as_json, samples, max_rtt_ms) -> None:
    """Is the gateway usable? Server version, accounts, data farms, round-trip time.

    Exit code 0 OK, 1 DEGRADED (connected, with problems), 2 DOWN (no API session).
    """
    from seraphim.adapters.ibkr.tools import probe as run_probe

    result = asyncio.run(
        run_probe(host, port, client_id, timeout=timeout, samples=samples, max_rtt_ms=max_rtt_ms)
    )
    if as_json:
        click.echo(json.dumps(result.to_dict()))
        sys.exit(result.exit_code)
    color = {"OK": "green", "DEGRADED": "yellow", "DOWN": "red"}[result.verdict]
    table = Table(title=f"IB gateway at {host}:{port} (client id {client_id})", show_header=False)
    table.add_column("check")
    table.add_column("result")
    if result.tcp_ms is not None:
        table.add_row("tcp connect", f"{result.tcp_ms:.1f} ms")
    if result.connect_ms is not None:
        table.add_row("API session", f"{result.connect_ms:.1f} ms")
    if result.server_version is not None:
        table.add_row("server version", str(result.server_version))
        table.add_row("accounts", ", ".join(result.accounts) or "-")
        connected = "yes" if result.ib_connected else "[red]NO (1100)[/]"
        table.add_row("connected to IB", connected)
        for name, state in sorted(result.farms.items()):
            table.add_row(f"farm {name}", state)
    if result.rtt_ms:
        table.add_row(
            "round trip",
            f"median {result.rtt_median_ms:.2f} ms "
            f"(min {min(result.rtt_ms):.2f}, max {max(result.rtt_ms):.2f}, n={len(result.rtt_ms)})",
        )
        table.add_row("server time", f"{result.server_time} (skew {result.clock_skew_s:+.1f} s)")
    console.print(table)
    console.print(f"verdict: [bold {color}]{result.verdict}[/]", highlight=False)
    for reason in result.reasons:
        console.print(f"  - {reason}", highlight=False)
    sys.exit(result.exit_code)


@ibkr.command()
@connection_options
@click.option("--account", default=None, help="One account (default: all managed accounts).")
def account(host, port, client_id, timeout, as_json, account) -> None:
    """Account summary, positions and open orders (of every API client)."""
    from seraphim.adapters.ibkr.tools import account_snapshot

    try:
        snap = asyncio.run(
            account_snapshot(host, port, client_id, account=account, timeout=max(timeout, 5.0))
        )
    except (ToolError, OSError) as e:
        fail(str(e))
    if as_json:
        click.echo(json.dumps(snap.to_dict()))
        return
    for acct, values in snap.summary.items():
        table = Table(title=f"account {acct}", show_header=False)
        table.add_column("tag")
        table.add_column("value", justify="right")
        for tag, (value, currency) in values.items():
            table.add_row(tag, f"{value} {currency}".strip())
        console.print(table)
    table = Table(title="positions")
    for column in ("account", "contract", "con id", "quantity", "avg cost"):
        table.add_column(column)
    for p in snap.positions:
        table.add_row(
            p["account"], p["contract"], str(p["con_id"]), p["quantity"], f"{p['avg_cost']}"
        )
    console.print(table if snap.positions else "positions: none")
    table = Table(title="open orders")
    for column in ("client", "order", "ref", "contract", "side", "qty", "type", "price", "status"):
        table.add_column(column)
    for o in snap.open_orders:
        price = o["limit"] if o["limit"] is not None else (o["stop"] or "")
        table.add_row(
            str(o["client_id"]), str(o["order_id"]), o["order_ref"] or "", o["contract"],
            o["action"], o["quantity"], o["type"], str(price),
            f"{o['status']} {o['filled']}/{o['quantity']}",
        )  # fmt: skip
    console.print(table if snap.open_orders else "open orders: none")


@ibkr.command()
@click.argument("symbol")
@connection_options
@click.option("--sec-type", default="STK", show_default=True, help="STK, OPT, FUT, CRYPTO, ...")
@click.option("--exchange", default="SMART", show_default=True)
@click.option("--primary-exchange", default="", help="e.g. NASDAQ, ARCA (stocks).")
@click.option("--currency", default="USD", show_default=True)
@click.option("--expiry", default="", help="YYYYMM or YYYYMMDD (options, futures).")
@click.option("--strike", type=float, default=0.0)
@click.option("--right", default="", help="C or P.")
@click.option("--con-id", type=int, default=0, help="Look up by IB contract id.")
def contract(
    symbol,
    host,
    port,
    client_id,
    timeout,
    as_json,
    sec_type,
    exchange,
    primary_exchange,
    currency,
    expiry,
    strike,
    right,
    con_id,
) -> None:
    """Qualify SYMBOL and show its details, or list the candidates when it is ambiguous.

    Exit code 1 when nothing matches.
    """
    from seraphim.adapters.ibkr.tools import lookup_contract

    try:
        found = asyncio.run(
            lookup_contract(
                symbol, host, port, client_id,
                sec_type=sec_type, exchange=exchange, primary_exchange=primary_exchange,
                currency=currency, expiry=expiry, strike=strike, right=right, con_id=con_id,
                timeout=max(timeout, 5.0),
            )
        )  # fmt: skip
    except (ToolError, OSError) as e:
        fail(str(e))
    if as_json:
        click.echo(json.dumps(found.to_dict()))
        sys.exit(0 if found.details else 1)
    if not found.details:
        console.print(f"[red]no contract[/] for {found.query}: {found.error}", highlight=False)
        sys.exit(1)
    if found.unique:
        d = found.details[0]
        title = f"{d['symbol']} {d['sec_type']} (conId {d['con_id']})"
        table = Table(title=title, show_header=False)
        table.add_column("field")
        table.add_column("value", overflow="fold")
        for key in (
            "nautilus_instrument_id", "long_name", "local_symbol", "exchange", "primary_exchange",
            "currency", "trading_class", "expiry", "strike", "right", "multiplier", "min_tick",
            "min_size", "size_increment", "isin", "industry", "category", "time_zone",
            "trading_hours", "liquid_hours", "market_rule_ids", "valid_exchanges", "order_types",
        ):  # fmt: skip
            value = d[key]
            if value in (None, "", []):
                continue
            table.add_row(key, "; ".join(value) if isinstance(value, list) else str(value))
        console.print(table)
        return
    table = Table(title=f"{len(found.details)} contracts match {found.query}")
    for column in ("con id", "local symbol", "type", "exchange", "expiry", "strike", "right", "id"):
        table.add_column(column)
    for d in found.details:
        table.add_row(
            str(d["con_id"]), d["local_symbol"], d["sec_type"],
            d["primary_exchange"] or d["exchange"], d["expiry"] or "",
            "" if d["strike"] is None else f"{d['strike']:g}", d["right"] or "",
            d["nautilus_instrument_id"] or "",
        )  # fmt: skip
    console.print(table)
