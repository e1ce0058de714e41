"""A sweep: every candidate of a parameter space run once, results as a table and CSV."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from seraphim.research.executors import Executor
from seraphim.research.executors import Task
from seraphim.research.params import Candidate
from seraphim.research.trial import TrialResult

# The metrics a results table carries (scalars of the run's metrics).
METRIC_COLUMNS = [
    "total_return",
    "cagr",
    "sharpe",
    "sortino",
    "calmar",
    "max_drawdown",
    "volatility",
    "profit_factor",
    "win_rate",
    "trades",
    "expectancy",
    "end_equity",
]


@dataclass
class SweepOutcome:
    results: list[TrialResult]  # finished and skipped trials, by number
    interrupted: bool = False

    def frame(self) -> pd.DataFrame:
        return results_frame(self.results)


def run_sweep(
    candidates: list[Candidate],
    executor: Executor,
    on_result: Callable[[TrialResult], None] | None = None,
    start: str | None = None,
    end: str | None = None,
) -> SweepOutcome:
    """
    Run every candidate not skipped by a constraint. Ctrl-C stops the executor at once and
    keeps the trials that had finished (``interrupted`` is then True).
    """
    results = [
        TrialResult(number, c.params, status="skipped", reason=c.skipped)
        for number, c in enumerate(candidates)
        if c.skipped
    ]
    tasks = [
        Task(number, c.params, start, end) for number, c in enumerate(candidates) if not c.skipped
    ]
    interrupted = False
    try:
        for result in executor.map(tasks):
            results.append(result)
            if on_result is not None:
                on_result(result)
    except KeyboardInterrupt:
        interrupted = True
        executor.terminate()
    else:
        executor.close()
    results.sort(key=lambda r: r.number)
    return SweepOutcome(results, interrupted)


def results_frame(results: list[TrialResult]) -> pd.DataFrame:
    """One row per trial: number, status, reason, each parameter, the metric columns."""
    rows = [
        {
            "trial": r.number,
            "status": r.status,
            "reason": r.reason,
            **r.params,
            **{m: r.metrics.get(m) for m in METRIC_COLUMNS},
            "seconds": round(r.seconds, 3),
        }
        for r in results
    ]
    return pd.DataFrame(rows).set_index("trial") if rows else pd.DataFrame()


def best(frame: pd.DataFrame, objective: str, minimize: bool = False) -> pd.Series | None:
    """The finished trial with the best ``objective`` (None when no trial has a value)."""
    done = frame[(frame["status"] == "ok") & frame[objective].notna()]
    if done.empty:
        return None
    values = done[objective].astype(float)
    return done.loc[values.idxmin() if minimize else values.idxmax()]


def write_results(frame: pd.DataFrame, path: Path) -> Path:
    """Write the table as CSV atomically (a half-written file never replaces a good one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".partial")
    frame.to_csv(partial)
    partial.replace(path)
    return path
