"""The allocator's records as the tables a backtest writes (columns in docs/PORTFOLIO.md)."""

from __future__ import annotations

import pandas as pd

from seraphim.allocation.actor import PortfolioAllocator

ALLOCATION_COLUMNS = [
    "timestamp",
    "reason",
    "strategy_id",
    "weight",
    "previous_share",
    "capital",
    "volatility",
    "risk_contribution",
]
RETURN_COLUMNS = [
    "timestamp",
    "strategy_id",
    "return",
    "pnl",
    "capital",
    "share",
    "weight",
    "exposure",
]


def allocation_tables(actors: list) -> dict[str, pd.DataFrame]:
    """``{file name: table}`` for the run's portfolio allocator; empty without one."""
    allocator = next((a for a in actors if isinstance(a, PortfolioAllocator)), None)
    if allocator is None:
        return {}
    return {
        "allocation.csv": _frame(allocator.allocation_rows, ALLOCATION_COLUMNS),
        "strategy_returns.csv": _frame(allocator.return_rows, RETURN_COLUMNS),
    }


def _frame(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], unit="ns", utc=True)
    return frame
