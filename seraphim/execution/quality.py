"""
Execution quality of one parent order: arrival price, average fill, slippage and implementation
shortfall in basis points (positive = cost to the trader).

- slippage: how much worse the average fill was than the arrival price;
- implementation shortfall: the filled part's slippage plus the unfilled part's opportunity cost
  (the move from arrival to the price when the parent ended), over the whole parent.
"""

from __future__ import annotations

from dataclasses import asdict
from dataclasses import dataclass

import pandas as pd

# Published on the message bus when a parent ends (backtest and live alike).
EXECUTION_QUALITY_TOPIC = "events.seraphim.execution"


@dataclass(frozen=True)
class ExecutionQuality:
    parent_id: str
    algorithm: str
    strategy_id: str
    instrument_id: str
    side: str  # BUY or SELL
    quantity: float
    filled: float
    children: int
    arrival_px: float | None
    avg_px: float | None
    end_px: float | None
    slippage_bps: float | None
    shortfall_bps: float | None
    ts_arrival: int
    ts_end: int
    status: str  # completed, cancelled (from outside) or partial (ended short)

    def to_dict(self) -> dict:
        row = asdict(self)
        for key in ("ts_arrival", "ts_end"):
            row[key] = pd.Timestamp(row[key], unit="ns", tz="UTC").isoformat()
        return row


def measure(
    *,
    side: int,
    quantity: float,
    filled: float,
    arrival_px: float | None,
    avg_px: float | None,
    end_px: float | None,
) -> tuple[float | None, float | None]:
    """``(slippage_bps, shortfall_bps)`` for a buy (``side`` +1) or sell (-1)."""
    if not arrival_px:
        return None, None
    slippage = None
    cost = 0.0
    if filled > 0 and avg_px is not None:
        slippage = side * (avg_px - arrival_px) / arrival_px * 1e4
        cost += side * (avg_px - arrival_px) * filled
    unfilled = max(quantity - filled, 0.0)
    if unfilled > 0 and end_px is not None:
        cost += side * (end_px - arrival_px) * unfilled
    shortfall = cost / (arrival_px * quantity) * 1e4 if quantity > 0 else None
    return slippage, shortfall


def execution_tables(exec_algorithms: list) -> dict[str, pd.DataFrame]:
    """
    ``{"execution.csv": one row per parent order}`` for a run's execution algorithms (in
    arrival order); empty when no parent was worked.
    """
    rows = [row for a in exec_algorithms for row in getattr(a, "quality", ())]
    if not rows:
        return {}
    rows.sort(key=lambda row: (row.ts_arrival, row.parent_id))
    return {"execution.csv": pd.DataFrame([row.to_dict() for row in rows])}
