"""A sweep's guards and report: the best trial re-run for its curve, DSR, intervals."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from seraphim.backtest.config import BacktestSpec
from seraphim.research.report import StudyReport
from seraphim.research.report import write_study_report
from seraphim.research.robustness import deflate
from seraphim.research.robustness import neighbourhood
from seraphim.research.robustness import trade_intervals
from seraphim.research.sweep import best
from seraphim.research.trial import TrialRunner
from seraphim.research.walkforward import WalkForward


def study_report(
    spec: BacktestSpec,
    frame: pd.DataFrame,
    params: list[str],
    objective: str,
    minimize: bool,
    path: Path,
    walk_forward: WalkForward | None = None,
) -> StudyReport:
    """Re-run the best trial alone for its curve and trades, compute the guards, write HTML."""
    report = StudyReport(spec.name, frame, params, objective, walk_forward=walk_forward)
    synthetic = TrialRunner.synthetic(spec)
    if synthetic:
        report.notes.append(f"SYNTHETIC DATA: {', '.join(synthetic)}")
    winner = best(frame, objective, minimize)
    if winner is not None:
        with TrialRunner(spec) as runner:
            rerun = runner.run(int(winner.name), _params(winner, params), keep_detail=True)
        report.best = int(winner.name)
        report.best_curves = rerun.curves
        sharpes = frame.loc[frame["status"] == "ok", "sharpe"].dropna().tolist()
        report.deflated = deflate(rerun.curves.daily_returns(), sharpes)
        start_equity = float(rerun.curves.equity.iloc[0])
        report.intervals = trade_intervals(rerun.trade_pnls, start_equity)
        report.neighbourhood = neighbourhood(frame, report.best, params, objective)
    write_study_report(report, path)
    return report


def _params(row: pd.Series, names: list[str]) -> dict:
    return {name: row[name].item() if hasattr(row[name], "item") else row[name] for name in names}
