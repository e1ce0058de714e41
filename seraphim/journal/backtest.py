"""Store a finished backtest in the journal: its config, metrics, orders, fills and positions."""

from __future__ import annotations

import json
import math
import re
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from typing import Any

import msgspec

from seraphim.journal.migrate import require_current
from seraphim.journal.rows import backtest_rows
from seraphim.journal.settings import connect
from seraphim.journal.settings import journal_schema
from seraphim.journal.store import write_rows

_SECRET_KEY = re.compile(r"pass(word)?|secret|token|api_?key|dsn|credential|private", re.I)


@dataclass
class RecordedRun:
    run_id: uuid.UUID
    counts: dict[str, int]


def redact_secrets(value: Any) -> Any:
    """A config with the values of secret-looking keys replaced by ``***``."""
    if isinstance(value, dict):
        return {
            k: ("***" if _SECRET_KEY.search(str(k)) and v not in (None, "") else redact_secrets(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_secrets(v) for v in value]
    return value


def json_safe(value: Any) -> Any:
    """Plain JSON for jsonb: NaN and infinities become null, other objects their text."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if value is None or isinstance(value, str | int | bool):
        return value
    return json.loads(json.dumps(value, default=str))


def _period(metrics: dict, key: str) -> datetime | None:
    text = (metrics.get("period") or {}).get(key)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def record_backtest(
    outcome,
    dsn: str | None = None,
    schema: str | None = None,
    started_at: datetime | None = None,
) -> RecordedRun:
    """Write one backtest run (a new ``run_id``) in a single transaction."""
    spec = outcome.spec
    schema = journal_schema(schema)
    run_id = uuid.uuid4()
    now = datetime.now(tz=UTC)
    metrics = json_safe(outcome.metrics)
    run = (
        "runs",
        {
            "run_id": run_id,
            "kind": "backtest",
            "trader_id": spec.trader_id,
            "name": spec.name,
            "config": json_safe(redact_secrets(msgspec.to_builtins(spec))),
            "metrics": metrics,
            "started_at": started_at or now,
            "finished_at": now,
            "period_start": _period(metrics, "start"),
            "period_end": _period(metrics, "end"),
            "host": socket.gethostname(),
            "seraphim_version": _version(),
        },
    )
    rows = [run, *backtest_rows(outcome, run_id, spec.trader_id)]
    conn = connect(dsn, schema, autocommit=True)
    try:
        require_current(conn, schema)
        result = write_rows(conn, rows)
    finally:
        conn.close()
    return RecordedRun(run_id=run_id, counts=dict(result.inserted or {}))


def _version() -> str | None:
    try:
        from importlib.metadata import version

        return version("seraphim")
    except Exception:
        return None


# -- `seraphim backtest run --journal` -----------------------------------------------------------


def preflight() -> None:
    """Before a journaled backtest: fail early (one line, no traceback) if the journal is
    unreachable or not migrated, rather than after the run."""
    from seraphim.console import fail
    from seraphim.journal.settings import JournalError

    try:
        conn = connect(autocommit=True)
        try:
            require_current(conn, journal_schema())
        finally:
            conn.close()
    except JournalError as e:
        fail(f"--journal: {e}", exit_code=1)


def record_and_report(outcome) -> RecordedRun:
    """Store the outcome and say where; a journal failure is one clear line (exit code 1)."""
    import psycopg

    from seraphim.console import console
    from seraphim.console import fail
    from seraphim.journal.settings import JournalError
    from seraphim.journal.settings import describe
    from seraphim.journal.settings import journal_dsn

    try:
        recorded = record_backtest(outcome)
    except (JournalError, psycopg.Error) as e:
        fail(f"results are in {outcome.output}, but the journal write failed: {e}", exit_code=1)
    console.print(
        f"journal: run {recorded.run_id} stored in {describe(journal_dsn())} "
        f"({recorded.counts.get('fills', 0)} fills, {recorded.counts.get('positions', 0)} "
        f"positions); see `seraphim journal pnl --run {str(recorded.run_id)[:8]}`",
        highlight=False,
    )
    return recorded
