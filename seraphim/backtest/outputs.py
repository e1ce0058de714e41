"""
A run's output folder: metrics, nautilus's reports as CSV, the round trips, the equity curve,
report.html.
"""

from __future__ import annotations

import json

import pandas as pd

from seraphim.backtest.metrics import round_trips
from seraphim.backtest.report import write_report
from seraphim.backtest.runner import BacktestOutcome


def write_outputs(outcome: BacktestOutcome) -> None:
    out = outcome.output
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(outcome.metrics, indent=2, default=_json) + "\n")
    outcome.orders.to_csv(out / "orders.csv")
    outcome.fills.to_csv(out / "fills.csv")
    outcome.positions.to_csv(out / "positions.csv")
    round_trips(outcome.fills).to_csv(out / "trades.csv", index=False)
    for venue, frame in outcome.accounts.items():
        frame.to_csv(out / f"account_{venue}.csv")
    pd.DataFrame(
        {
            "equity": outcome.curves.equity,
            "drawdown": outcome.curves.drawdown,
            "exposure": outcome.curves.exposure,
        },
    ).to_csv(out / "equity.csv", index_label="timestamp")
    for name, frame in outcome.tables.items():
        frame.to_csv(out / name, index=False)
    write_report(outcome, out / "report.html")


def _json(value: object) -> object:
    if isinstance(value, float | int | str | bool) or value is None:
        return value
    return str(value)
