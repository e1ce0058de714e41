"""
Walk-forward optimisation: on each fold, choose the parameters that did best in-sample, run
them on the following out-of-sample window, and stitch the out-of-sample equity curves into
one. Walk-forward efficiency compares the out-of-sample to the in-sample annualised return;
parameter stability says how much the chosen parameters move from fold to fold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from seraphim.backtest.metrics import Curves
from seraphim.backtest.metrics import curve_metrics
from seraphim.research.executors import Executor
from seraphim.research.executors import Task
from seraphim.research.params import Candidate
from seraphim.research.params import ParamError
from seraphim.research.params import Params
from seraphim.research.trial import TrialResult

_PERIOD = re.compile(r"^(\d+)([ymwd])$")
_UNITS = {"y": "years", "m": "months", "w": "weeks", "d": "days"}


def parse_period(text: str) -> pd.DateOffset:
    """``2y``, ``6m``, ``4w``, ``30d``."""
    match = _PERIOD.match(text.strip().lower())
    if match is None or int(match.group(1)) == 0:
        raise ParamError(f"bad period {text!r}: expected a count and y, m, w or d (e.g. 2y, 6m)")
    return pd.DateOffset(**{_UNITS[match.group(2)]: int(match.group(1))})


@dataclass(frozen=True)
class Fold:
    number: int
    train_start: pd.Timestamp
    train_end: pd.Timestamp  # = test_start
    test_end: pd.Timestamp


def make_folds(
    start: pd.Timestamp,
    end: pd.Timestamp,
    train: pd.DateOffset,
    test: pd.DateOffset,
    anchored: bool = False,
) -> list[Fold]:
    """Consecutive test windows after a first training window; the last ends at ``end``."""
    folds = []
    test_start = start + train
    while test_start < end:
        train_start = start if anchored else test_start - train
        folds.append(Fold(len(folds), train_start, test_start, min(test_start + test, end)))
        test_start = test_start + test
    if not folds:
        raise ParamError(f"{start} to {end} is shorter than one training window ({train})")
    return folds


def stitch(curves: list[Curves]) -> Curves:
    """
    One curve from consecutive out-of-sample curves: each fold's returns compound on the
    previous fold's end, as if the account had carried on (each fold starts flat).
    """
    pieces, exposures, level = [], [], None
    for part in curves:
        equity = part.equity
        scale = 1.0 if level is None else level / equity.iloc[0]
        pieces.append(equity * scale)
        exposures.append(part.exposure * scale)
        level = float(equity.iloc[-1] * scale)
    equity = pd.concat(pieces)
    exposure = pd.concat(exposures)
    keep = ~equity.index.duplicated(keep="last")
    return Curves(equity=equity[keep], exposure=exposure[keep])


@dataclass
class FoldResult:
    fold: Fold
    params: Params
    in_sample: dict  # metrics of the chosen parameters in-sample
    out_of_sample: TrialResult

    @property
    def efficiency(self) -> float | None:
        is_cagr, oos_cagr = self.in_sample.get("cagr"), self.out_of_sample.metrics.get("cagr")
        if is_cagr is None or oos_cagr is None or is_cagr <= 0:
            return None
        return oos_cagr / is_cagr


@dataclass
class WalkForward:
    folds: list[FoldResult]
    stitched: Curves

    @property
    def metrics(self) -> dict:
        return curve_metrics(self.stitched)

    @property
    def efficiency(self) -> float | None:
        """Mean out-of-sample over mean in-sample CAGR (Pardo's walk-forward efficiency)."""
        is_cagr = [f.in_sample.get("cagr") for f in self.folds]
        oos_cagr = [f.out_of_sample.metrics.get("cagr") for f in self.folds]
        if any(v is None for v in is_cagr + oos_cagr) or sum(is_cagr) <= 0:
            return None
        return sum(oos_cagr) / sum(is_cagr)

    def stability(self) -> dict[str, float]:
        """Per parameter: the coefficient of variation across folds (numbers), or for others
        one minus the share of folds that chose the most common value. 0 is perfectly stable."""
        chosen = pd.DataFrame([f.params for f in self.folds])
        out = {}
        for name in chosen.columns:
            values = chosen[name]
            if pd.api.types.is_numeric_dtype(values) and values.mean() != 0:
                out[name] = float(values.std(ddof=0) / abs(values.mean()))
            else:
                out[name] = float(1.0 - values.value_counts().iloc[0] / len(values))
        return out

    def frame(self) -> pd.DataFrame:
        rows = []
        for f in self.folds:
            oos = f.out_of_sample.metrics
            rows.append(
                {
                    "fold": f.fold.number,
                    "train_start": f.fold.train_start,
                    "test_start": f.fold.train_end,
                    "test_end": f.fold.test_end,
                    **f.params,
                    "is_cagr": f.in_sample.get("cagr"),
                    "is_sharpe": f.in_sample.get("sharpe"),
                    "oos_cagr": oos.get("cagr"),
                    "oos_sharpe": oos.get("sharpe"),
                    "oos_return": oos.get("total_return"),
                    "oos_max_drawdown": oos.get("max_drawdown"),
                    "efficiency": f.efficiency,
                }
            )
        return pd.DataFrame(rows).set_index("fold")


def _iso(stamp: pd.Timestamp) -> str:
    return stamp.isoformat()


def _before(stamp: pd.Timestamp) -> str:
    """A window's end: the last nanosecond before the next window starts (ends are inclusive)."""
    return (stamp - pd.Timedelta(1, "ns")).isoformat()


def _choose(results: list[TrialResult], objective: str, minimize: bool) -> TrialResult | None:
    scored = [r for r in results if r.status == "ok" and r.metrics.get(objective) is not None]
    if not scored:
        return None
    key = (lambda r: r.metrics[objective]) if minimize else (lambda r: -r.metrics[objective])
    return min(scored, key=lambda r: (key(r), r.number))  # ties: the first candidate


def walk_forward(
    executor: Executor,
    folds: list[Fold],
    space: list[Candidate],
    objective: str = "sharpe",
    minimize: bool = False,
) -> WalkForward:
    """Optimise every fold in-sample over ``space`` (all folds at once), then run out-of-sample."""
    points = [c.params for c in space if not c.skipped]
    if not points:
        raise ParamError("every candidate is skipped by the constraints")
    tasks = [
        Task(f.number * len(points) + i, p, _iso(f.train_start), _before(f.train_end))
        for f in folds
        for i, p in enumerate(points)
    ]
    by_fold: dict[int, list[TrialResult]] = {f.number: [] for f in folds}
    for result in executor.map(tasks):
        by_fold[result.number // len(points)].append(result)
    chosen = {}
    for fold in folds:
        winner = _choose(by_fold[fold.number], objective, minimize)
        if winner is None:
            raise ParamError(f"fold {fold.number}: no in-sample trial has a {objective}")
        chosen[fold.number] = winner
    oos_tasks = [
        Task(f.number, chosen[f.number].params, _iso(f.train_end), _before(f.test_end), True)
        for f in folds
    ]
    oos = {r.number: r for r in executor.map(oos_tasks)}
    executor.close()
    results = []
    for fold in folds:
        if oos[fold.number].status != "ok":
            raise ParamError(f"fold {fold.number} out-of-sample: {oos[fold.number].reason}")
        results.append(
            FoldResult(
                fold, chosen[fold.number].params, chosen[fold.number].metrics, oos[fold.number]
            )
        )
    return WalkForward(results, stitch([r.out_of_sample.curves for r in results]))
