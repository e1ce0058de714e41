"""
Idempotent writes of journal rows: every table has a natural key, so writing a row again
(a retried batch, a catch-up sweep after a restart) never makes a second row. Orders and
positions are upserted only forward (a newer state never loses to an older one).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from psycopg.types.json import Jsonb

from seraphim.journal.rows import Row

# table -> (key columns, non-key columns, on-conflict action)
_TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "runs": (
        ("run_id",),
        ("kind", "trader_id", "name", "config", "metrics", "started_at", "finished_at",
         "period_start", "period_end", "host", "seraphim_version"),
        "UPDATE SET finished_at = EXCLUDED.finished_at, metrics = EXCLUDED.metrics "
        "WHERE EXCLUDED.finished_at IS NOT NULL",
    ),
    "orders": (
        ("scope", "client_order_id"),
        ("run_id", "trader_id", "strategy_id", "instrument_id", "account_id", "venue_order_id",
         "position_id", "side", "order_type", "time_in_force", "quantity", "price",
         "trigger_price", "filled_qty", "avg_px", "status", "tags", "event_count", "ts_init",
         "ts_last"),
        "UPDATE SET {updates} WHERE orders.event_count <= EXCLUDED.event_count",
    ),
    "order_events": (
        ("event_id",),
        ("scope", "client_order_id", "event_type", "ts_event", "payload"),
        "NOTHING",
    ),
    "fills": (
        ("scope", "instrument_id", "trade_id", "client_order_id"),
        ("run_id", "trader_id", "strategy_id", "account_id", "venue_order_id", "position_id",
         "side", "order_type", "quantity", "price", "currency", "commission",
         "commission_currency", "liquidity_side", "event_id", "reconciliation", "ts_event"),
        "NOTHING",
    ),
    "positions": (
        ("scope", "position_id", "opened_at"),
        ("run_id", "trader_id", "strategy_id", "instrument_id", "account_id", "entry", "side",
         "quantity", "peak_qty", "avg_px_open", "avg_px_close", "realized_pnl", "pnl_currency",
         "realized_return", "commissions", "closed_at", "ts_last"),
        "UPDATE SET {updates} WHERE positions.ts_last <= EXCLUDED.ts_last",
    ),
    "position_events": (
        ("event_id",),
        ("scope", "position_id", "opened_at", "run_id", "trader_id", "strategy_id",
         "instrument_id", "event_type", "side", "quantity", "realized_pnl", "pnl_currency",
         "seq", "ts_event"),
        "NOTHING",
    ),
    "account_snapshots": (
        ("event_id", "currency"),
        ("scope", "run_id", "trader_id", "account_id", "account_type", "total", "locked",
         "free", "reported", "ts_event"),
        "NOTHING",
    ),
    "operator_actions": (
        ("action_id",),
        ("trader_id", "command_id", "operator", "action", "command", "status", "duplicate",
         "detail", "signed_at", "answered_at"),
        "NOTHING",
    ),
    "alerts": (
        ("alert_id",),
        ("trader_id", "rule", "subject", "severity", "kind", "message", "raised_at",
         "delivered", "attempts", "error"),
        "NOTHING",
    ),
    "execution_quality": (
        ("scope", "parent_id"),
        ("run_id", "trader_id", "algorithm", "strategy_id", "instrument_id", "side", "quantity",
         "filled", "children", "arrival_px", "avg_px", "end_px", "slippage_bps",
         "shortfall_bps", "status", "ts_arrival", "ts_end"),
        "NOTHING",
    ),
}  # fmt: skip

# Insert order within a batch: runs before the rows that reference them.
TABLE_ORDER = tuple(_TABLES)
_JSON_COLUMNS = {"config", "metrics", "payload", "commissions", "command"}
# Columns an upsert must not overwrite (the first writer's run keeps the record).
_KEEP = {"run_id"}


def _statement(table: str) -> str:
    keys, values, action = _TABLES[table]
    columns = keys + values
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in values if c not in _KEEP)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"VALUES ({', '.join(f'%({c})s' for c in columns)}) "
        f"ON CONFLICT ({', '.join(keys)}) DO {action.format(updates=updates)}"
    )


_STATEMENTS = {table: _statement(table) for table in _TABLES}


def key_of(row: Row) -> tuple:
    table, values = row
    return (table, *(values[k] for k in _TABLES[table][0]))


def _prepare(values: dict) -> dict:
    return {k: Jsonb(v) if k in _JSON_COLUMNS and v is not None else v for k, v in values.items()}


def compact(rows: Iterable[Row]) -> dict[str, list[dict]]:
    """
    Rows grouped by table in dependency order; for upserted tables only the newest state of
    each key is kept (one statement per order/position per batch).
    """
    grouped: dict[str, dict[tuple, dict]] = {table: {} for table in TABLE_ORDER}
    for row in rows:
        table, values = row
        key = key_of(row)
        previous = grouped[table].get(key)
        if previous is not None and table == "orders":
            if previous["event_count"] > values["event_count"]:
                continue
        elif previous is not None and table == "positions":
            if previous["ts_last"] > values["ts_last"]:
                continue
        elif previous is not None and table not in ("runs",):
            continue  # insert-once tables: the first copy is the copy
        grouped[table][key] = values
    return {table: list(by_key.values()) for table, by_key in grouped.items() if by_key}


@dataclass
class WriteResult:
    rows: int = 0
    inserted: dict[str, int] | None = None


def write_rows(conn, rows: Iterable[Row]) -> WriteResult:
    """Write ``rows`` in one transaction (the caller's connection; committed on success)."""
    grouped = compact(rows)
    result = WriteResult(inserted={})
    with conn.transaction(), conn.cursor() as cur:
        for table, values in grouped.items():
            cur.executemany(_STATEMENTS[table], [_prepare(v) for v in values])
            result.rows += len(values)
            result.inserted[table] = max(cur.rowcount, 0)
    return result
