"""
``seraphim state``: what a node keeps in Redis, read-only. Tables for people, ``--json`` for
scripts, ``--watch N`` to refresh every N seconds; ``seraphim state tail`` follows the
message-bus streams.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Callable

import click
from rich.table import Table

from seraphim.console import console
from seraphim.console import fail
from seraphim.state.settings import StateConfigError
from seraphim.state.settings import redis_settings

TRADER_ENV = "SERAPHIM_TRADER_ID"


@click.group()
def state() -> None:
    """Live node state in Redis: traders, orders, positions, accounts, health, streams.

    Redis comes from --redis-url or $SERAPHIM_REDIS_URL (default redis://127.0.0.1:6379/0);
    the trader from --trader, $SERAPHIM_TRADER_ID, or the only trader in Redis.
    """


def _redis_option(f):
    return click.option(
        "--redis-url",
        default=None,
        metavar="URL",
        help="Redis URL (default $SERAPHIM_REDIS_URL or redis://127.0.0.1:6379/0).",
    )(f)


def _output_options(f):
    f = click.option("--json", "as_json", is_flag=True, help="JSON output for scripts.")(f)
    f = click.option(
        "--watch",
        type=click.FloatRange(min=0.2),
        default=None,
        metavar="SECONDS",
        help="Refresh every SECONDS until Ctrl-C.",
    )(f)
    return f


def _trader_option(f):
    return click.option(
        "--trader",
        "-t",
        "trader_id",
        default=None,
        help="Trader id (default $SERAPHIM_TRADER_ID, or the only trader in Redis).",
    )(f)


def _client(redis_url: str | None):
    from seraphim.state.reader import connect

    try:
        settings = redis_settings(redis_url)
    except StateConfigError as e:
        raise click.UsageError(str(e)) from None
    return connect(settings)


def _trader(client, trader_id: str | None):
    from seraphim.state.reader import StateError
    from seraphim.state.reader import TraderState
    from seraphim.state.reader import list_traders

    trader_id = trader_id or os.environ.get(TRADER_ENV)
    if not trader_id:
        traders = list_traders(client)
        if not traders:
            raise StateError("Redis holds no trader state (is a node running with --state redis?)")
        if len(traders) > 1:
            raise StateError(
                f"several traders in Redis ({', '.join(traders)}): choose one with --trader "
                f"or ${TRADER_ENV}"
            )
        trader_id = traders[0]
    return TraderState.open(client, trader_id)


def _guarded(f: Callable) -> Callable:
    """Turn state errors (unreachable Redis, unknown trader) into one-line errors, no traceback."""

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        import redis

        from seraphim.state.reader import StateError

        try:
            return f(*args, **kwargs)
        except StateError as e:
            fail(str(e), exit_code=1)
        except redis.RedisError as e:
            fail(f"Redis: {e}", exit_code=1)
        except KeyboardInterrupt:
            raise SystemExit(130) from None

    return wrapper


def _show(
    produce: Callable[[], tuple[list[dict], Table | str]],
    as_json: bool,
    watch: float | None,
) -> None:
    """Print once, or refresh every ``watch`` seconds (a live table, or one JSON line each)."""
    if watch is None:
        rows, table = produce()
        if as_json:
            click.echo(json.dumps(rows, indent=2, default=str))
        else:
            console.print(table)
        return
    if as_json:
        try:
            while True:
                rows, _ = produce()
                click.echo(json.dumps(rows, default=str), nl=True)
                time.sleep(watch)
        except (KeyboardInterrupt, BrokenPipeError):
            return
    import redis
    from rich.live import Live

    from seraphim.state.reader import StateError

    def frame():
        try:
            _, table = produce()
        except (StateError, redis.RedisError) as e:  # keep watching through a Redis restart
            return f"[bold red]error:[/] {e} (retrying)"
        stamp = time.strftime("%H:%M:%S")
        return _with_caption(table, f"refreshed {stamp} every {watch:g}s (Ctrl-C to stop)")

    try:
        with Live(frame(), console=console, refresh_per_second=4, screen=False) as live:
            while True:
                time.sleep(watch)
                live.update(frame())
    except KeyboardInterrupt:
        return


def _with_caption(table, caption: str):
    if isinstance(table, Table):
        table.caption = f"{table.caption}\n{caption}" if table.caption else caption
    return table


def _table(title: str, rows: list[dict], columns: list[tuple[str, str]], empty: str) -> Table:
    table = Table(title=title, title_justify="left")
    if not rows:
        table.add_column(empty)
        return table
    for key, label in columns:
        justify = "right" if key in _RIGHT else "left"
        table.add_column(label, justify=justify, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row.get(key)) for key, _ in columns))
    return table


_RIGHT = {
    "quantity",
    "filled_qty",
    "price",
    "avg_px",
    "total",
    "locked",
    "free",
    "signed_qty",
    "avg_px_open",
    "avg_px_close",
    "realized_pnl",
    "orders",
    "orders_open",
    "positions",
    "accounts",
    "streams",
    "heartbeat_age_s",
}


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.8g}"
    if isinstance(value, str) and value.endswith("Z") and "T" in value:
        return value.replace("T", " ")[:19]
    return str(value)


def _status_word(status: str) -> str:
    return "" if status == "all" else f"{status} "


def _problems_note(trader, named: int = 3) -> str:
    problems = trader.problems
    if not problems:
        return ""
    listed = "; ".join(f"{p.key}: {p.error}" for p in problems[:named])
    more = f"; and {len(problems) - named} more" if len(problems) > named else ""
    return (
        f"{len(problems)} stored value(s) skipped (not nautilus state this version reads): "
        f"{listed}{more}"
    )


def _show_trader_table(
    redis_url: str | None,
    trader_id: str | None,
    as_json: bool,
    watch: float | None,
    view: Callable[[object], tuple[list[dict], str]],
    columns: list[tuple[str, str]],
    empty: str,
) -> None:
    """Connect, pick the trader, and show ``view(trader) -> (rows, title)`` as a table or JSON,
    with any undecodable values named under the table."""
    trader = _trader(_client(redis_url), trader_id)

    def produce():
        trader.problems.clear()
        rows, title = view(trader)
        table = _table(title, rows, columns, empty)
        table.caption = _problems_note(trader) or None
        return rows, table

    _show(produce, as_json, watch)


# -- commands ----------------------------------------------------------------------------------


@state.command()
@_redis_option
@_output_options
@_guarded
def traders(redis_url, as_json, watch):
    """The trader ids found in Redis, with their key counts and last heartbeat."""
    from seraphim.state.reader import TraderState
    from seraphim.state.reader import list_traders
    from seraphim.state.views import health_row

    client = _client(redis_url)

    def produce():
        rows = []
        for trader_id in list_traders(client):
            trader = TraderState(client, trader_id)
            rows.append(health_row(trader_id, trader.last_heartbeat(), None, trader.counts(), 15.0))
        columns = [
            ("trader_id", "trader"),
            ("status", "health"),
            ("last_heartbeat", "last heartbeat"),
            ("orders", "orders"),
            ("orders_open", "open"),
            ("positions", "positions"),
            ("accounts", "accounts"),
            ("streams", "streams"),
        ]
        return rows, _table("Traders in Redis", rows, columns, "no trader state in Redis")

    _show(produce, as_json, watch)


_STATUS = click.option(
    "--status",
    type=click.Choice(["open", "closed", "all"]),
    default="all",
    show_default=True,
)


@state.command()
@_redis_option
@_trader_option
@_STATUS
@click.option("--open", "only_open", is_flag=True, help="Shorthand for --status open.")
@click.option("--strategy", default=None, help="Strategy id (glob allowed, e.g. 'MACross-*').")
@click.option("--instrument", default=None, help="Instrument id (glob allowed).")
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True,
              help="Newest N orders (0 = all).")  # fmt: skip
@_output_options
@_guarded
def orders(redis_url, trader_id, status, only_open, strategy, instrument, limit, as_json, watch):
    """Orders, rebuilt from their stored events (newest first)."""
    from seraphim.state.views import order_row

    status = "open" if only_open else status

    def view(trader):
        found = trader.orders(status, strategy, instrument)
        rows = [order_row(o) for o in (found[:limit] if limit else found)]
        shown = f"{len(rows)} of {len(found)}" if len(rows) < len(found) else f"{len(found)}"
        return rows, f"{trader.trader_id}: {shown} {_status_word(status)}orders"

    columns = [
        ("client_order_id", "client order id"),
        ("venue_order_id", "venue order id"),
        ("strategy_id", "strategy"),
        ("instrument_id", "instrument"),
        ("side", "side"),
        ("type", "type"),
        ("quantity", "quantity"),
        ("filled_qty", "filled"),
        ("price", "price"),
        ("avg_px", "avg px"),
        ("status", "status"),
        ("ts_last", "last event"),
    ]
    _show_trader_table(redis_url, trader_id, as_json, watch, view, columns, "no orders")


@state.command()
@_redis_option
@_trader_option
@_STATUS
@click.option("--open", "only_open", is_flag=True, help="Shorthand for --status open.")
@click.option("--strategy", default=None, help="Strategy id (glob allowed).")
@click.option("--instrument", default=None, help="Instrument id (glob allowed).")
@_output_options
@_guarded
def positions(redis_url, trader_id, status, only_open, strategy, instrument, as_json, watch):
    """Positions, rebuilt from their stored fills."""
    from seraphim.state.views import position_row

    status = "open" if only_open else status

    def view(trader):
        rows = [position_row(p) for p in trader.positions(status, strategy, instrument)]
        return rows, f"{trader.trader_id}: {len(rows)} {_status_word(status)}positions"

    columns = [
        ("position_id", "position id"),
        ("strategy_id", "strategy"),
        ("instrument_id", "instrument"),
        ("side", "side"),
        ("quantity", "quantity"),
        ("avg_px_open", "avg px open"),
        ("avg_px_close", "avg px close"),
        ("realized_pnl", "realized pnl"),
        ("fills", "fills"),
        ("ts_opened", "opened"),
        ("ts_closed", "closed"),
    ]
    _show_trader_table(redis_url, trader_id, as_json, watch, view, columns, "no positions")


@state.command()
@_redis_option
@_trader_option
@_output_options
@_guarded
def accounts(redis_url, trader_id, as_json, watch):
    """Account balances (total, locked, free) from each account's latest state."""
    from seraphim.state.views import account_rows

    def view(trader):
        rows = [row for s in trader.accounts() for row in account_rows(s)]
        return rows, f"{trader.trader_id}: accounts"

    columns = [
        ("account_id", "account"),
        ("account_type", "type"),
        ("currency", "currency"),
        ("total", "total"),
        ("locked", "locked"),
        ("free", "free"),
        ("ts_event", "as of"),
    ]
    _show_trader_table(redis_url, trader_id, as_json, watch, view, columns, "no accounts")


@state.command()
@_redis_option
@_trader_option
@_output_options
@_guarded
def strategies(redis_url, trader_id, as_json, watch):
    """Saved strategy (and actor) state: what a restarted node reloads."""
    from seraphim.state.views import saved_state_rows

    client = _client(redis_url)
    trader = _trader(client, trader_id)

    def produce():
        trader.problems.clear()
        rows = saved_state_rows(trader.saved_states())
        table = Table(title=f"{trader.trader_id}: saved state", title_justify="left")
        if not rows:
            table.add_column("no saved strategy state (the node saves it on stop)")
        else:
            table.add_column("component")
            table.add_column("kind")
            table.add_column("state", overflow="fold")
            for row in rows:
                state_text = ", ".join(
                    f"{k}={json.dumps(v, default=str)}" for k, v in row["state"].items()
                )
                table.add_row(row["component_id"], row["kind"], state_text or "(empty)")
        return rows, table

    _show(produce, as_json, watch)


@state.command()
@_redis_option
@_trader_option
@click.option("--stale-after", type=float, default=15.0, show_default=True, metavar="SECONDS",
              help="A heartbeat older than this counts as stale.")  # fmt: skip
@_output_options
@_guarded
def health(redis_url, trader_id, stale_after, as_json, watch):
    """Node heartbeat (age, alive/stale) and activity; exit code 1 unless alive."""
    from seraphim.state.reader import StateError
    from seraphim.state.reader import TraderState
    from seraphim.state.reader import list_traders
    from seraphim.state.views import health_row

    client = _client(redis_url)
    chosen = trader_id or os.environ.get(TRADER_ENV)
    if chosen:
        targets = [TraderState.open(client, chosen)]
    else:
        targets = [TraderState(client, t) for t in list_traders(client)]
        if not targets:
            raise StateError("Redis holds no trader state (is a node running with --state redis?)")
    statuses: list[str] = []

    def produce():
        rows = [
            health_row(
                t.trader_id,
                t.last_heartbeat(),
                t.last_activity(),
                t.counts(),
                stale_after,
            )
            for t in targets
        ]
        statuses[:] = [r["status"] for r in rows]
        table = Table(title="Node health", title_justify="left")
        for label in ("trader", "health", "last heartbeat", "age (s)", "last activity", "orders",
                      "open orders", "positions"):  # fmt: skip
            table.add_column(label)
        colours = {"alive": "green", "stale": "red", "no-heartbeat": "yellow"}
        for r in rows:
            table.add_row(
                r["trader_id"],
                f"[{colours[r['status']]}]{r['status']}[/]",
                _cell(r["last_heartbeat"]),
                _cell(r["heartbeat_age_s"]),
                _cell(r["last_activity"]),
                str(r["orders"]),
                str(r["orders_open"]),
                str(r["positions"]),
            )
        return rows, table

    _show(produce, as_json, watch)
    if watch is None and any(s != "alive" for s in statuses):
        raise SystemExit(1)


@state.command()
@_redis_option
@_trader_option
@click.option("--topic", "topics", multiple=True, metavar="GLOB",
              help="Only topics matching GLOB, e.g. 'events.order.*' (repeatable).")  # fmt: skip
@click.option("--from-start", is_flag=True, help="Replay the streams from their beginning.")
@click.option("--count", type=click.IntRange(min=1), default=None, help="Stop after N messages.")
@click.option("--timeout", type=float, default=None, metavar="SECONDS",
              help="Stop after SECONDS (default: follow until Ctrl-C).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@_guarded
def tail(redis_url, trader_id, topics, from_start, count, timeout, as_json):
    """Follow the node's message-bus streams (events, data, heartbeats) as they arrive."""
    from seraphim.state.views import to_jsonable

    client = _client(redis_url)
    trader = _trader(client, trader_id)
    deadline = time.monotonic() + timeout if timeout else None
    seen = 0
    if not as_json:
        console.print(
            f"following {trader.trader_id} streams"
            + (f" matching {', '.join(topics)}" if topics else "")
            + " (Ctrl-C to stop)",
            style="dim",
        )
    for message in trader.tail(topics=topics, from_start=from_start):
        if deadline is not None and time.monotonic() > deadline:
            break
        if message is None:
            continue
        if as_json:
            record = {
                "id": message.id,
                "time": message.time.isoformat().replace("+00:00", "Z"),
                "topic": message.topic,
                "value": to_jsonable(message.value),
            }
            click.echo(json.dumps(record, default=str))
        else:
            stamp = message.time.strftime("%H:%M:%S.%f")[:-3]
            console.print(
                f"[dim]{stamp}[/] [cyan]{message.topic}[/] {message.value}",
                highlight=False,
                soft_wrap=True,
            )
        seen += 1
        if count is not None and seen >= count:
            break
