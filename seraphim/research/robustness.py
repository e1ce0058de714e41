"""
Guards against luck: the deflated Sharpe ratio (Bailey & López de Prado, "The Deflated Sharpe
Ratio", 2014) for the number of trials tried, bootstrap and reshuffle intervals of a trade
list, and how good a best trial's neighbours on the grid are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

EULER_GAMMA = 0.5772156649015329
_NORMAL = NormalDist()


def expected_max_sharpe(sharpe_variance: float, trials: int) -> float:
    """
    The Sharpe ratio the best of ``trials`` skill-less trials reaches by luck alone (SR0),
    given the variance of the trials' Sharpe ratios (both in the same, per-period, units).
    """
    if trials < 2:
        return 0.0
    z1 = _NORMAL.inv_cdf(1.0 - 1.0 / trials)
    z2 = _NORMAL.inv_cdf(1.0 - 1.0 / (trials * math.e))
    return math.sqrt(sharpe_variance) * ((1.0 - EULER_GAMMA) * z1 + EULER_GAMMA * z2)


def deflated_sharpe(
    sharpe: float,
    sharpe_variance: float,
    trials: int,
    observations: int,
    skew: float = 0.0,
    kurtosis: float = 3.0,
) -> float:
    """
    The probability that the true Sharpe ratio exceeds what ``trials`` lucky trials would
    show (per-period Sharpe, ``observations`` returns, their skew and non-excess kurtosis).
    """
    threshold = expected_max_sharpe(sharpe_variance, trials)
    spread = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    if observations < 2 or spread <= 0:
        return float("nan")
    z = (sharpe - threshold) * math.sqrt(observations - 1) / math.sqrt(spread)
    return _NORMAL.cdf(z)


@dataclass(frozen=True)
class DeflatedSharpe:
    sharpe: float  # annualised, of the chosen trial
    threshold: float  # annualised SR0: the best Sharpe expected from luck over the trials
    probability: float  # the deflated Sharpe ratio
    trials: int
    observations: int


def deflate(
    returns: pd.Series, trial_sharpes: list[float], periods_per_year: int = 365
) -> DeflatedSharpe:
    """The DSR of the chosen trial's (daily) returns among all trials' annualised Sharpes."""
    returns = returns.dropna()
    scale = math.sqrt(periods_per_year)
    sharpes = [s / scale for s in trial_sharpes if s is not None and math.isfinite(s)]
    std = float(returns.std(ddof=1)) if len(returns) > 1 else 0.0
    sharpe = float(returns.mean()) / std if std > 0 else 0.0
    variance = float(np.var(sharpes, ddof=1)) if len(sharpes) > 1 else 0.0
    probability = deflated_sharpe(
        sharpe,
        variance,
        len(trial_sharpes),
        len(returns),
        float(returns.skew()) if len(returns) > 2 else 0.0,
        float(returns.kurt()) + 3.0 if len(returns) > 3 else 3.0,
    )
    return DeflatedSharpe(
        sharpe * scale,
        expected_max_sharpe(variance, len(trial_sharpes)) * scale,
        probability,
        len(trial_sharpes),
        len(returns),
    )


@dataclass(frozen=True)
class Interval:
    low: float
    median: float
    high: float


def trade_intervals(
    pnls: list[float],
    start_equity: float,
    samples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, dict[str, Interval]]:
    """
    Confidence intervals of total return and max drawdown from a run's trade PnLs:
    ``bootstrap`` draws the trades with replacement (uncertainty of the edge), ``reshuffle``
    permutes their order (path luck: same return, other drawdowns).
    """
    if not pnls:
        return {}
    rng = np.random.default_rng(seed)
    trades = np.asarray(pnls, dtype=float)
    draws = {
        "bootstrap": rng.choice(trades, size=(samples, len(trades)), replace=True),
        "reshuffle": rng.permuted(np.tile(trades, (samples, 1)), axis=1),
    }
    tail = (1.0 - confidence) / 2.0
    out = {}
    for name, paths in draws.items():
        equity = start_equity + np.cumsum(paths, axis=1)
        equity = np.hstack([np.full((samples, 1), start_equity), equity])
        drawdown = (equity / np.maximum.accumulate(equity, axis=1) - 1.0).min(axis=1)
        total = equity[:, -1] / start_equity - 1.0
        out[name] = {
            "total_return": _interval(total, tail),
            "max_drawdown": _interval(drawdown, tail),
        }
    return out


def _interval(values: np.ndarray, tail: float) -> Interval:
    return Interval(*(float(q) for q in np.quantile(values, [tail, 0.5, 1.0 - tail])))


def neighbourhood(
    frame: pd.DataFrame, trial: int, params: list[str], objective: str
) -> float | None:
    """
    The mean ``objective`` of a trial's grid neighbours (each numeric parameter one grid step
    away, the others equal): a best trial on a lone spike has poor neighbours.
    """
    done = frame[frame["status"] == "ok"]
    numeric = [p for p in params if pd.api.types.is_numeric_dtype(done[p])]
    centre = done.loc[trial]
    mask = pd.Series(True, index=done.index)
    for name in params:
        if name in numeric:
            values = np.sort(done[name].unique())
            position = int(np.searchsorted(values, centre[name]))
            near = values[max(0, position - 1) : position + 2]
            mask &= done[name].isin(near)
        else:
            mask &= done[name] == centre[name]
    neighbours = done[mask & (done.index != trial)][objective].dropna()
    return float(neighbours.mean()) if len(neighbours) else None
