"""The report's tables: the trade list, the per-strategy breakdown, execution quality."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from seraphim.backtest.metrics import fees_paid

# The page lists at most this many trades or parent orders (trades.csv and execution.csv hold
# them all).
MAX_ROWS = 500


def table(frame: pd.DataFrame, formats: dict[str, str] | None = None) -> str:
    """An escaped HTML table; ``formats`` maps columns to format patterns ("{:,.2f}")."""
    shown = frame.copy()
    for column, pattern in (formats or {}).items():
        if column in shown:
            shown[column] = [
                "-" if pd.isna(value) else pattern.format(value) for value in shown[column]
            ]
    return shown.to_html(index=False, border=0, classes="data", na_rep="-")


def _capped(frame: pd.DataFrame, what: str, csv: str) -> tuple[pd.DataFrame, str]:
    if len(frame) <= MAX_ROWS:
        return frame, ""
    note = f"<p>The first {MAX_ROWS:,} of {len(frame):,} {what}; all of them are in {csv}.</p>"
    return frame.head(MAX_ROWS), note


def trades_section(trips: pd.DataFrame) -> str:
    """Every round trip: strategy, instrument, side, entry and exit, size, net PnL, fees."""
    if trips.empty:
        return "<h2>Trades</h2><p>No closed trades.</p>"
    frame = trips.assign(
        entry=trips["entry"].map(_minute),
        exit=trips["exit"].map(_minute),
        held=(trips["exit"] - trips["entry"]).map(_duration),
    )[["strategy_id", "instrument_id", "side", "entry", "exit", "held", "quantity", "pnl", "fees"]]
    shown, note = _capped(frame, "trades", "trades.csv")
    body = table(shown, {"quantity": "{:,.6g}", "pnl": "{:,.2f}", "fees": "{:,.2f}"})
    return (
        f"<h2>Trades</h2><details><summary>{len(trips):,} round trips "
        "(PnL net of fees, in the quote currency)</summary>"
        f"{note}{body}</details>"
    )


def strategy_breakdown(
    trips: pd.DataFrame, fills: pd.DataFrame, orders: pd.DataFrame
) -> pd.DataFrame:
    """Per strategy id: orders, fills, round trips, win rate, net realised PnL and fees."""
    ids = sorted(set(fills.get("strategy_id", [])) | set(orders.get("strategy_id", [])))
    rows = []
    for strategy in ids:
        mine = trips[trips["strategy_id"] == strategy]["pnl"].astype(float)
        own_fills = fills[fills["strategy_id"] == strategy]
        fees = fees_paid(own_fills)
        rows.append(
            {
                "strategy_id": strategy,
                "orders": int((orders["strategy_id"] == strategy).sum()),
                "fills": len(own_fills),
                "trades": len(mine),
                "win_rate": (mine > 0).mean() if len(mine) else None,
                "realized_pnl": mine.sum(),
                "fees": ", ".join(f"{amount:,.2f} {ccy}" for ccy, amount in fees.items()) or "0",
            }
        )
    return pd.DataFrame(rows)


def strategies_section(breakdown: pd.DataFrame) -> str:
    if len(breakdown) < 2:
        return ""
    body = table(breakdown, {"win_rate": "{:.1%}", "realized_pnl": "{:,.2f}"})
    return (
        "<h2>Strategies</h2><p>Realised PnL from each strategy's round trips, net of fees "
        f"(quote currency); open positions at the end are not in it.</p>{body}"
    )


def execution_section(quality: pd.DataFrame) -> str:
    """Execution quality per parent order (``execution.csv``), summarised by algorithm."""
    if quality.empty:
        return ""
    summary = (
        quality.assign(fill_ratio=quality["filled"] / quality["quantity"])
        .groupby("algorithm")
        .agg(
            parents=("parent_id", "count"),
            children=("children", "sum"),
            fill_ratio=("fill_ratio", "mean"),
            slippage_bps=("slippage_bps", "mean"),
            shortfall_bps=("shortfall_bps", "mean"),
            cancelled=("status", lambda s: int((s == "cancelled").sum())),
        )
        .reset_index()
    )
    columns = [
        "parent_id", "algorithm", "strategy_id", "instrument_id", "side", "quantity", "filled",
        "children", "arrival_px", "avg_px", "slippage_bps", "shortfall_bps", "ts_arrival",
        "ts_end", "status",
    ]  # fmt: skip
    shown, note = _capped(quality[[c for c in columns if c in quality]], "parents", "execution.csv")
    bps = {"slippage_bps": "{:,.1f}", "shortfall_bps": "{:,.1f}"}
    return (
        "<h2>Execution quality</h2><p>Per parent order worked by an execution algorithm: "
        "slippage of the average fill and implementation shortfall against the arrival price, "
        "in basis points (positive is a cost). Means by algorithm:</p>"
        + table(summary, {"fill_ratio": "{:.1%}", **bps})
        + f"<details><summary>{len(quality):,} parent orders</summary>{note}"
        + table(shown, {"quantity": "{:,.6g}", "filled": "{:,.6g}", **bps})
        + "</details>"
    )


def read_table(path: Path) -> pd.DataFrame:
    """A CSV another component wrote into the output folder; empty when it is not there."""
    if not path.is_file():
        return pd.DataFrame()
    frame = pd.read_csv(path)
    for column in ("timestamp", "ts_arrival", "ts_end"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    return frame


def _minute(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%d %H:%M")


def _duration(delta: pd.Timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f} d" if hours >= 48 else f"{hours:.0f} h"
