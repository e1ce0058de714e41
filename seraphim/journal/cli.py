"""
``seraphim journal``: the PostgreSQL journal of orders, fills, positions and backtest runs.

Connection from ``$SERAPHIM_PG_DSN`` (default ``host=127.0.0.1 port=5432 dbname=seraphim
user=postgres``) and ``$SERAPHIM_PG_SCHEMA`` (default ``journal``); never from the command line,
so a password does not end up in shell history or the process list.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import date
from datetime import datetime
from decimal import Decimal

import click
from rich.table import Table

from seraphim.console import console
from seraphim.console import fail


@click.group()
def journal() -> None:
    """PostgreSQL journal: migrate, PnL by strategy and day, fees, trades, runs."""


def _schema_option(f):
    return click.option(
        "--schema",
        default=None,
        help="Journal schema (default $SERAPHIM_PG_SCHEMA or 'journal').",
    )(f)


def _guarded(f: Callable) -> Callable:
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        import psycopg

        from seraphim.journal.settings import JournalError
        from seraphim.journal.settings import redact

        try:
            return f(*args, **kwargs)
        except JournalError as e:
            fail(str(e), exit_code=1)
        except psycopg.Error as e:
            text = str(e).strip().splitlines()
            fail(f"PostgreSQL: {redact(text[0] if text else type(e).__name__)}", exit_code=1)

    return wrapper


def _connect(schema: str | None, check: bool = True):
    from seraphim.journal.migrate import require_current
    from seraphim.journal.settings import connect
    from seraphim.journal.settings import journal_schema

    schema = journal_schema(schema)
    conn = connect(schema=schema, autocommit=True)
    if check:
        try:
            require_current(conn, schema)
        except Exception:
            conn.close()
            raise
    return conn, schema


@journal.command()
@_schema_option
@click.option("--create-database", is_flag=True,
              help="Create the DSN's database first if it does not exist.")  # fmt: skip
@_guarded
def migrate(schema, create_database):
    """Create or upgrade the journal schema to the latest version."""
    from seraphim.journal.migrate import ensure_database
    from seraphim.journal.migrate import latest_version
    from seraphim.journal.migrate import migrate as run_migrations
    from seraphim.journal.settings import describe
    from seraphim.journal.settings import journal_dsn
    from seraphim.journal.settings import journal_schema

    schema = journal_schema(schema)
    where = describe(journal_dsn())
    if create_database and ensure_database():
        console.print(f"created database {where}")
    applied = run_migrations(schema=schema)
    if applied:
        for migration in applied:
            console.print(f"applied {migration.version:04d}_{migration.name}")
        console.print(f"journal at {where} schema {schema}: version {latest_version()}")
    else:
        console.print(f"journal at {where} schema {schema} is up to date (v{latest_version()})")


@journal.command()
@_schema_option
@click.option("--json", "as_json", is_flag=True)
@_guarded
def status(schema, as_json):
    """Schema version and row counts."""
    from seraphim.journal.migrate import changed_migrations
    from seraphim.journal.reports import status as journal_status
    from seraphim.journal.settings import describe
    from seraphim.journal.settings import journal_dsn

    conn, schema = _connect(schema, check=False)
    with conn:
        info = journal_status(conn, schema)
        info["database"] = describe(journal_dsn())
        info["edited_migrations"] = changed_migrations(conn, schema)
    if as_json:
        click.echo(json.dumps(info, indent=2, default=_json_default))
        return
    table = Table(title=f"Journal {info['database']} schema {schema}", show_header=False)
    table.add_column("item")
    table.add_column("value", justify="right")
    table.add_row("schema version", f"{info['version']} of {info['latest_version']}")
    for name, count in (info.get("counts") or {}).items():
        table.add_row(name, f"{count:,}")
    if info.get("last_fill"):
        table.add_row("last fill", _cell(info["last_fill"]))
    console.print(table)
    if info["version"] < info["latest_version"]:
        console.print("[yellow]run `seraphim journal migrate` to bring the schema up to date[/]")
    if info["edited_migrations"]:
        console.print(f"[yellow]migrations edited after applying: {info['edited_migrations']}[/]")


def _filter_options(f):
    options = [
        click.option("--source", type=click.Choice(["all", "live", "backtest"]), default="all",
                     show_default=True, help="Live nodes, backtests or both."),
        click.option("--run", default=None, metavar="ID",
                     help="One run: its id, the id's first characters, or 'latest'."),
        click.option("--trader", default=None, help="Trader id."),
        click.option("--strategy", default=None, help="Strategy id (glob allowed)."),
        click.option("--instrument", default=None, help="Instrument id (glob allowed)."),
        click.option("--since", default=None, metavar="DATE", help="From this UTC day/time."),
        click.option("--until", default=None, metavar="DATE", help="Up to this UTC day (incl.)."),
    ]  # fmt: skip
    for option in reversed(options):
        f = option(f)
    return f


def _filters(source, run, trader, strategy, instrument, since, until):
    from seraphim.journal.reports import Filters
    from seraphim.journal.reports import parse_day

    return Filters(
        source=source,
        run=run,
        trader=trader,
        strategy=strategy,
        instrument=instrument,
        since=parse_day(since),
        until=parse_day(until, end=True),
    )


@journal.command()
@_schema_option
@_filter_options
@click.option("--by", type=click.Choice(["strategy-day", "strategy", "day"]),
              default="strategy-day", show_default=True)  # fmt: skip
@click.option("--json", "as_json", is_flag=True)
@_guarded
def pnl(schema, source, run, trader, strategy, instrument, since, until, by, as_json):
    """Realized PnL, fees and fills by strategy and UTC day, with a total per source (each
    live trader and each backtest run on its own)."""
    from seraphim.journal.reports import pnl as pnl_report
    from seraphim.journal.reports import pnl_totals

    filters = _filters(source, run, trader, strategy, instrument, since, until)
    conn, _ = _connect(schema)
    with conn:
        rows = pnl_report(conn, filters, by=by)
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=_json_default))
        return
    columns = [
        "source",
        *(["strategy_id"] if "strategy" in by else []),
        *(["day"] if "day" in by else []),
        *("currency", "realized_pnl", "fees", "fills"),
    ]
    table = _table("Realized PnL (net of fees)", rows, columns)
    for total in pnl_totals(rows):
        filler = [""] * (len(columns) - 5)
        table.add_row(
            f"[bold]total[/] {total['source']}",
            *filler,
            total["currency"],
            _cell(total["realized_pnl"], "realized_pnl"),
            _cell(total["fees"], "fees"),
            str(total["fills"]),
        )
    console.print(table)


@journal.command()
@_schema_option
@_filter_options
@click.option("--by-day", is_flag=True, help="One row per UTC day as well.")
@click.option("--json", "as_json", is_flag=True)
@_guarded
def fees(schema, source, run, trader, strategy, instrument, since, until, by_day, as_json):
    """Fees paid by strategy (and day): total, notional traded, bps, maker/taker fills."""
    from seraphim.journal.reports import fees as fees_report

    filters = _filters(source, run, trader, strategy, instrument, since, until)
    conn, _ = _connect(schema)
    with conn:
        rows = fees_report(conn, filters, by_day=by_day)
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=_json_default))
        return
    columns = ["source", "strategy_id", *(["day"] if by_day else []), "currency", "fills",
               "fees", "notional", "fee_bps", "maker_fills", "taker_fills"]  # fmt: skip
    console.print(_table("Fees", rows, columns))


@journal.command()
@_schema_option
@_filter_options
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True,
              help="Newest N fills (0 = all).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True)
@_guarded
def trades(schema, source, run, trader, strategy, instrument, since, until, limit, as_json):
    """The fills (newest first)."""
    from seraphim.journal.reports import trades as trades_report

    filters = _filters(source, run, trader, strategy, instrument, since, until)
    conn, _ = _connect(schema)
    with conn:
        rows = trades_report(conn, filters, limit=limit)
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=_json_default))
        return
    for row in rows:
        row["fee"] = f"{_cell(row['commission'], 'commission')} {row['commission_currency'] or ''}"
        row["liq"] = (row["liquidity_side"] or "-")[:1]  # M(aker) / T(aker)
    columns = ["ts_event", "source", "strategy_id", "instrument_id", "side", "quantity", "price",
               "fee", "liq", "client_order_id", "trade_id"]  # fmt: skip
    console.print(_table("Trades", rows, columns))


@journal.command()
@_schema_option
@click.option("--kind", type=click.Choice(["backtest", "live"]), default=None)
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--show", "show_run", default=None, metavar="ID",
              help="Print one run's stored config and metrics (JSON).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True)
@_guarded
def runs(schema, kind, limit, show_run, as_json):
    """Backtest runs and live node sessions, newest first."""
    from seraphim.journal.reports import run_detail
    from seraphim.journal.reports import runs as runs_report

    conn, _ = _connect(schema)
    with conn:
        if show_run:
            click.echo(json.dumps(run_detail(conn, show_run), indent=2, default=_json_default))
            return
        rows = runs_report(conn, kind=kind, limit=limit)
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=_json_default))
        return
    for row in rows:
        row["run_id"] = str(row["run_id"])[:8]
    columns = ["run_id", "kind", "trader_id", "name", "started_at", "period_start", "period_end",
               "fills", "total_return", "sharpe", "max_drawdown"]  # fmt: skip
    console.print(_table("Runs", rows, columns))


# -- rendering -----------------------------------------------------------------------------------

_NUMERIC = {
    *("realized_pnl", "fees", "fills", "notional", "fee_bps", "quantity", "price", "commission"),
    *("maker_fills", "taker_fills", "total_return", "sharpe", "max_drawdown"),
}


def _table(title: str, rows: list[dict], columns: list[str]) -> Table:
    table = Table(title=title, title_justify="left")
    if not rows:
        table.add_column("nothing recorded for this selection")
        return table
    for column in columns:
        table.add_column(
            column.replace("_", " "), justify="right" if column in _NUMERIC else "left"
        )
    for row in rows:
        table.add_row(*(_cell(row.get(c), c) for c in columns))
    return table


_MONEY = {"realized_pnl", "fees", "notional", "commission"}
_METRICS = {"total_return", "sharpe", "max_drawdown"}  # JSON text from the runs' metrics


def _cell(value, column: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        if column in _MONEY:
            return f"{value:,.2f}"
        text = f"{value.normalize():,f}"
        return text
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, str) and column in _METRICS:
        try:
            return f"{float(value):,.4g}"
        except ValueError:
            return value
    return str(value)


def _json_default(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
