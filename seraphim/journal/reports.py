"""Journal reports: PnL by strategy and day, fees, trade lists, runs and status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from decimal import Decimal

from seraphim.journal.settings import JournalError


@dataclass
class Filters:
    """Which records a report covers; all optional."""

    source: str = "all"  # live | backtest | all
    run: str | None = None  # a run id (or its first characters) or "latest"
    trader: str | None = None
    strategy: str | None = None  # exact or glob (* and ?)
    instrument: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def where(self, conn, table: str, time_column: str = "ts_event") -> tuple[str, list]:
        clauses, params = [], []
        if self.source == "live":
            clauses.append(f"{table}.scope LIKE 'live:%%'")
        elif self.source == "backtest":
            clauses.append(f"{table}.scope LIKE 'backtest:%%'")
        if self.run:
            scope, start, end = resolve_run(conn, self.run)
            clauses.append(f"{table}.scope = %s")
            params.append(scope)
            if start is not None:
                clauses.append(f"{table}.{time_column} >= %s")
                params.append(start)
            if end is not None:
                clauses.append(f"{table}.{time_column} <= %s")
                params.append(end)
        if self.trader:
            clauses.append(f"{table}.trader_id = %s")
            params.append(self.trader)
        for column, value in (("strategy_id", self.strategy), ("instrument_id", self.instrument)):
            if value:
                clauses.append(f"{table}.{column} LIKE %s")
                params.append(_like(value))
        if self.since:
            clauses.append(f"{table}.{time_column} >= %s")
            params.append(self.since)
        if self.until:
            clauses.append(f"{table}.{time_column} < %s")
            params.append(self.until)
        return (" AND ".join(clauses) or "TRUE"), params


def _like(pattern: str) -> str:
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


def parse_day(text: str | None, end: bool = False) -> datetime | None:
    """``YYYY-MM-DD`` (UTC day start; with ``end`` the next day's start) or an ISO time."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise JournalError(f"not a date or time: {text!r} (use YYYY-MM-DD)") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    start = datetime.combine(day, time(), tzinfo=UTC)
    return start + timedelta(days=1) if end else start


def resolve_run(conn, run: str) -> tuple[str, datetime | None, datetime | None]:
    """The scope (and, for a live session, its time span) of a run id, prefix or ``latest``."""
    with conn.cursor() as cur:
        if run == "latest":
            cur.execute(
                "SELECT run_id, kind, trader_id, started_at, finished_at FROM runs "
                "ORDER BY recorded_at DESC LIMIT 1"
            )
            found = cur.fetchall()
        else:
            cur.execute(
                "SELECT run_id, kind, trader_id, started_at, finished_at FROM runs "
                "WHERE run_id::text LIKE %s ORDER BY recorded_at DESC LIMIT 2",
                (run.lower() + "%",),
            )
            found = cur.fetchall()
    if not found:
        raise JournalError(f"no run {run!r} in the journal (see `seraphim journal runs`)")
    if len(found) > 1 and run != "latest":
        raise JournalError(f"run id {run!r} is ambiguous: give more characters")
    run_id, kind, trader_id, started, finished = found[0]
    if kind == "backtest":
        return f"backtest:{run_id}", None, None
    return f"live:{trader_id}", started, finished


_PNL_GROUPS = {
    "strategy-day": ("strategy_id", "day"),
    "strategy": ("strategy_id",),
    "day": ("day",),
}


def pnl(conn, filters: Filters, by: str = "strategy-day") -> list[dict]:
    """Realized PnL (net of fees as nautilus books it), fees and fill counts per group."""
    if by not in _PNL_GROUPS:
        raise JournalError(f"--by must be one of {', '.join(_PNL_GROUPS)}")
    group = ("scope", *_PNL_GROUPS[by], "currency")
    pnl_where, pnl_params = filters.where(conn, "c")
    fee_where, fee_params = filters.where(conn, "f")
    cols = ", ".join(group)
    sql = f"""
        WITH p AS (
            SELECT c.scope, c.strategy_id, (c.ts_event AT TIME ZONE 'UTC')::date AS day,
                   c.currency, sum(c.realized_pnl) AS realized_pnl
            FROM realized_pnl_changes c WHERE {pnl_where}
            GROUP BY 1, 2, 3, 4
        ), f AS (
            SELECT f.scope, f.strategy_id, (f.ts_event AT TIME ZONE 'UTC')::date AS day,
                   f.commission_currency AS currency, count(*) AS fills,
                   sum(f.commission) AS fees, sum(f.quantity * f.price) AS notional
            FROM fills f WHERE {fee_where}
            GROUP BY 1, 2, 3, 4
        ), joined AS (
            SELECT * FROM p FULL OUTER JOIN f USING (scope, strategy_id, day, currency)
        )
        SELECT {cols},
               coalesce(sum(realized_pnl), 0) AS realized_pnl,
               coalesce(sum(fees), 0) AS fees,
               coalesce(sum(fills), 0)::bigint AS fills,
               coalesce(sum(notional), 0) AS notional
        FROM joined
        GROUP BY {cols}
        ORDER BY {cols}
    """
    rows = _query(conn, sql, [*pnl_params, *fee_params])
    return [_label(r) for r in rows]


def pnl_totals(rows: list[dict]) -> list[dict]:
    """
    Totals of :func:`pnl` rows per source (a live trader or one backtest run) and currency:
    never across sources, since a backtest's result and a live session's do not add up.
    """
    totals: dict[tuple[str, str], dict] = {}
    for row in rows:
        key = (row["source"], row["currency"] or "-")
        total = totals.setdefault(
            key,
            {
                "source": key[0],
                "currency": key[1],
                "realized_pnl": Decimal(0),
                "fees": Decimal(0),
                "fills": 0,
            },
        )
        total["realized_pnl"] += row["realized_pnl"]
        total["fees"] += row["fees"]
        total["fills"] += row["fills"]
    return list(totals.values())


def fees(conn, filters: Filters, by_day: bool = False) -> list[dict]:
    where, params = filters.where(conn, "f")
    day = ", (f.ts_event AT TIME ZONE 'UTC')::date AS day" if by_day else ""
    group = "1, 2, 3, 4" if by_day else "1, 2, 3"
    sql = f"""
        SELECT f.scope, f.strategy_id, f.commission_currency AS currency{day},
               count(*) AS fills,
               sum(f.commission) AS fees,
               sum(f.quantity * f.price) AS notional,
               count(*) FILTER (WHERE f.liquidity_side = 'MAKER') AS maker_fills,
               count(*) FILTER (WHERE f.liquidity_side = 'TAKER') AS taker_fills
        FROM fills f WHERE {where}
        GROUP BY {group} ORDER BY {group}
    """
    rows = _query(conn, sql, params)
    for row in rows:
        notional = row["notional"] or Decimal(0)
        row["fee_bps"] = float(row["fees"] / notional * 10_000) if notional else None
    return [_label(r) for r in rows]


def trades(conn, filters: Filters, limit: int = 50) -> list[dict]:
    where, params = filters.where(conn, "f")
    sql = f"""
        SELECT f.ts_event, f.scope, f.strategy_id, f.instrument_id, f.side, f.quantity,
               f.price, f.commission, f.commission_currency, f.liquidity_side,
               f.client_order_id, f.venue_order_id, f.trade_id, f.position_id
        FROM fills f WHERE {where}
        ORDER BY f.ts_event DESC, f.trade_id DESC
        {"LIMIT %s" if limit else ""}
    """
    return [_label(r) for r in _query(conn, sql, [*params, *([limit] if limit else [])])]


def runs(conn, kind: str | None = None, limit: int = 20) -> list[dict]:
    where = "WHERE r.kind = %s" if kind else ""
    sql = f"""
        SELECT r.run_id, r.kind, r.trader_id, r.name, r.started_at, r.finished_at,
               r.period_start, r.period_end,
               r.metrics->>'total_return' AS total_return,
               r.metrics->>'sharpe' AS sharpe,
               r.metrics->>'max_drawdown' AS max_drawdown,
               (SELECT count(*) FROM fills f WHERE f.run_id = r.run_id) AS fills
        FROM runs r {where}
        ORDER BY r.recorded_at DESC
        LIMIT %s
    """
    return _query(conn, sql, [*([kind] if kind else []), limit])


def run_detail(conn, run: str) -> dict:
    scope, _, _ = resolve_run(conn, run)
    with conn.cursor() as cur:
        if scope.startswith("backtest:"):
            cur.execute("SELECT * FROM runs WHERE run_id = %s", (scope.split(":", 1)[1],))
        else:
            cur.execute(
                "SELECT * FROM runs WHERE run_id::text LIKE %s ORDER BY recorded_at DESC LIMIT 1",
                (run.lower() + "%",) if run != "latest" else ("%",),
            )
        names = [d.name for d in cur.description]
        return dict(zip(names, cur.fetchone(), strict=True))


def status(conn, schema: str) -> dict:
    from seraphim.journal.migrate import applied_versions
    from seraphim.journal.migrate import latest_version

    done = applied_versions(conn, schema)
    result: dict = {
        "schema": schema,
        "version": max(done) if done else 0,
        "latest_version": latest_version(),
    }
    if not done:
        return result
    counts = {}
    with conn.cursor() as cur:
        for table in (
            "runs",
            "orders",
            "order_events",
            "fills",
            "positions",
            "position_events",
            "account_snapshots",
        ):
            cur.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cur.fetchone()[0]
        cur.execute("SELECT max(ts_event), max(recorded_at) FROM fills")
        last_fill, last_recorded = cur.fetchone()
    result.update(counts=counts, last_fill=last_fill, last_recorded=last_recorded)
    return result


def _query(conn, sql: str, params: list) -> list[dict]:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        names = [d.name for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _label(row: dict) -> dict:
    scope = row.pop("scope", None)
    if scope is None:
        return row
    kind, _, ident = scope.partition(":")
    source = scope if kind == "live" else f"backtest:{ident[:8]}"
    return {"source": source, **row}
