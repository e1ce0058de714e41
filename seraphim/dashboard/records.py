"""
What the dashboard reads from the journal: backtest runs and their comparison, fills paged
newest first (keyset paging, so page N costs what page 1 costs), today's P&L and trade counts
per live trader, and alerts with their acknowledgements.
"""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from pathlib import Path

from seraphim.dashboard.audit import Journal
from seraphim.journal import reports
from seraphim.journal.reports import Filters

# Metrics shown side by side when two runs are compared (those a run has, in this order).
COMPARED_METRICS = (
    "total_return", "cagr", "sharpe", "sortino", "volatility", "max_drawdown", "calmar",
    "win_rate", "profit_factor", "expectancy", "trades", "exposure", "fees_paid",
)  # fmt: skip


class NotFound(LookupError):
    """No such record (the message names it)."""


class Records:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    # -- backtests --------------------------------------------------------------------------

    def runs(self, kind: str | None, limit: int) -> list[dict]:
        with self.journal.cursor() as cur:
            return reports.runs(cur.connection, kind, limit)

    def run(self, run_id: str) -> dict:
        rows = self.journal.query(
            "SELECT run_id, kind, trader_id, name, config, metrics, started_at, finished_at, "
            "period_start, period_end, seraphim_version FROM runs WHERE run_id::text = %s",
            [run_id],
        )
        if not rows:
            raise NotFound(f"no run {run_id} in the journal")
        return rows[0]

    def compare(self, a: str, b: str) -> dict:
        first, second = self.run(a), self.run(b)
        names = [m for m in COMPARED_METRICS if m in first["metrics"] or m in second["metrics"]]
        return {
            "runs": [_run_head(first), _run_head(second)],
            "metrics": [
                {"metric": m, "a": first["metrics"].get(m), "b": second["metrics"].get(m)}
                for m in names
            ],
        }

    def report_path(self, run_id: str) -> Path:
        """The run's ``report.html``, from the output folder its config names."""
        run = self.run(run_id)
        output = (run["config"] or {}).get("output")
        path = Path(output) / "report.html" if output else None
        if path is None or not path.is_file():
            raise NotFound(f"run {run_id} has no report on this machine ({path or 'no output'})")
        return path

    # -- live -------------------------------------------------------------------------------

    def fills(self, trader: str | None, strategy: str | None, limit: int,
              before: tuple[datetime, str] | None = None) -> list[dict]:  # fmt: skip
        clauses, params = [], []
        if trader:
            clauses.append("trader_id = %s")
            params.append(trader)
        if strategy:
            clauses.append("strategy_id = %s")
            params.append(strategy)
        if before:
            clauses.append("(ts_event, trade_id) < (%s, %s)")
            params.extend(before)
        where = " AND ".join(clauses) or "TRUE"
        return self.journal.query(
            "SELECT ts_event, trader_id, strategy_id, instrument_id, side, quantity, price, "
            "commission, commission_currency, liquidity_side, client_order_id, trade_id "
            f"FROM fills WHERE {where} ORDER BY ts_event DESC, trade_id DESC LIMIT %s",
            [*params, limit],
        )

    def today(self, trader: str | None = None) -> list[dict]:
        """Per live trader: today's realized P&L, fees and fills (UTC day), and all its fills."""
        midnight = datetime.now(tz=UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        with self.journal.cursor() as cur:
            rows = reports.pnl(
                cur.connection, Filters(source="live", trader=trader, since=midnight), by="strategy"
            )
        totals = self.journal.query(
            "SELECT trader_id, count(*) AS trades FROM fills WHERE scope LIKE 'live:%%' "
            + ("AND trader_id = %s " if trader else "")
            + "GROUP BY trader_id",
            [trader] if trader else [],
        )
        out: dict[str, dict] = {
            t["trader_id"]: {
                "trader_id": t["trader_id"],
                "total_trades": t["trades"],
                "today": [],
            }
            for t in totals
        }
        for row in rows:
            trader_id = row["source"].removeprefix("live:")
            entry = out.setdefault(
                trader_id, {"trader_id": trader_id, "total_trades": 0, "today": []}
            )
            entry["today"].append(row)
        return list(out.values())

    # -- alerts -----------------------------------------------------------------------------

    def alerts(self, trader: str | None, open_only: bool, limit: int) -> list[dict]:
        clauses, params = [], []
        if trader:
            clauses.append("a.trader_id = %s")
            params.append(trader)
        if open_only:
            clauses.append("k.alert_id IS NULL AND a.kind = 'raised'")
        where = " AND ".join(clauses) or "TRUE"
        return self.journal.query(
            "SELECT a.alert_id, a.trader_id, a.rule, a.subject, a.severity, a.kind, a.message, "
            "a.raised_at, a.delivered, k.acked_by, k.acked_at "
            f"FROM alerts a LEFT JOIN alert_acks k USING (alert_id) WHERE {where} "
            "ORDER BY a.raised_at DESC LIMIT %s",
            [*params, limit],
        )

    def acknowledge(self, alert_id: str, user: str) -> dict:
        rows = self.journal.query(
            "INSERT INTO alert_acks (alert_id, acked_by) SELECT alert_id, %s FROM alerts "
            "WHERE alert_id::text = %s ON CONFLICT (alert_id) DO UPDATE SET alert_id = "
            "EXCLUDED.alert_id RETURNING alert_id, acked_by, acked_at",
            [user, alert_id],
        )
        if not rows:
            raise NotFound(f"no alert {alert_id} in the journal")
        return rows[0]


def _run_head(run: dict) -> dict:
    return {
        k: run[k] for k in ("run_id", "name", "kind", "started_at", "period_start", "period_end")
    }
