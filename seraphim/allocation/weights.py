"""
Weighting schemes: how a portfolio divides its capital among strategies.

Every function returns non-negative weights summing to 1. The risk-based schemes read a matrix
of the strategies' per-bar returns (rows: samples, columns: strategies):

* ``inverse_vol``: ``w_i`` proportional to ``1 / sigma_i``.
* ``risk_parity``: equal risk contribution. With ``S`` the covariance of the returns, strategy
  i contributes ``w_i (S w)_i / (w' S w)`` of the portfolio's variance; risk parity makes every
  contribution ``1/N``. It solves the strictly convex problem
  ``min 1/2 y' S y - sum(b_i ln y_i)`` (Spinu, "An algorithm for computing risk parity
  weights", 2013), whose optimum has ``y_i (S y)_i = b_i``, by Newton's method with a
  backtracking line search that keeps ``y > 0``; ``w = y / sum(y)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SCHEMES = ("fixed", "equal", "inverse_vol", "risk_parity")
RISK_SCHEMES = ("inverse_vol", "risk_parity")

# Relative ridge on the covariance diagonal: keeps the problem bounded when strategies hedge
# each other perfectly (a singular covariance) without moving contributions measurably.
_RIDGE = 1e-8
_TOLERANCE = 1e-10
# Contributions this close to equal are accepted once Newton steps stop improving them (a nearly
# singular covariance puts the rounding floor above _TOLERANCE).
_STALL_TOLERANCE = 1e-6
_MAX_ITERATIONS = 200
_QUADRATIC_PHASE = 1e-12
# Per-sample volatility below which a strategy counts as holding nothing (dust left by size
# rounding moves returns by ~1e-11; a strategy that trades moves them by 1e-4 and more).
_MIN_VOLATILITY = 1e-9


class AllocationError(ValueError):
    """Weights that cannot be computed; the message names the problem."""


@dataclass(frozen=True)
class Weights:
    """A scheme's weights with the risk figures they were computed from (None: not estimated)."""

    weights: np.ndarray
    volatility: np.ndarray | None = None
    risk_contribution: np.ndarray | None = None


def equal_weights(n: int) -> np.ndarray:
    if n <= 0:
        raise AllocationError("no strategies to allocate to")
    return np.full(n, 1.0 / n)


def inverse_vol_weights(volatility: np.ndarray) -> np.ndarray:
    volatility = np.asarray(volatility, dtype=float)
    if volatility.size == 0 or np.any(volatility <= 0) or not np.all(np.isfinite(volatility)):
        raise AllocationError(f"inverse_vol needs positive finite volatilities, got {volatility}")
    inverse = 1.0 / volatility
    return inverse / inverse.sum()


def risk_contributions(weights: np.ndarray, covariance: np.ndarray) -> np.ndarray:
    """Each strategy's share of portfolio variance, ``w_i (S w)_i / (w' S w)``."""
    weights = np.asarray(weights, dtype=float)
    marginal = covariance @ weights
    total = float(weights @ marginal)
    if total <= 0:
        raise AllocationError("the portfolio has no variance at these weights")
    return weights * marginal / total


def risk_parity_weights(covariance: np.ndarray) -> np.ndarray:
    """Equal-risk-contribution weights for a covariance matrix (positive diagonal)."""
    cov = np.asarray(covariance, dtype=float)
    n = cov.shape[0]
    if cov.shape != (n, n) or n == 0:
        raise AllocationError(f"covariance must be a non-empty square matrix, got {cov.shape}")
    diagonal = np.diag(cov)
    if np.any(diagonal <= 0) or not np.all(np.isfinite(cov)):
        raise AllocationError("risk_parity needs every strategy to have positive variance")
    # Solve on the correlation matrix (unit diagonal, well conditioned whatever the scales):
    # with w = x / sigma, w_i (S w)_i = x_i (C x)_i, so the contributions are the same.
    sigma = np.sqrt(diagonal)
    corr = cov / np.outer(sigma, sigma) + np.eye(n) * _RIDGE
    budget = np.full(n, 1.0 / n)
    y = np.full(n, 1.0 / np.sqrt(corr.sum()))  # y' C y = 1 = sum(budget), as at the optimum

    def objective(v: np.ndarray) -> float:
        return 0.5 * float(v @ corr @ v) - float(budget @ np.log(v))

    best = np.inf
    for _ in range(_MAX_ITERATIONS):
        marginal = corr @ y
        contributions = y * marginal / float(y @ marginal)
        error = np.max(np.abs(contributions - budget))
        if error < _TOLERANCE or (error < _STALL_TOLERANCE and error >= best):
            weights = y / sigma
            return weights / weights.sum()
        best = min(best, error)
        gradient = marginal - budget / y
        hessian = corr + np.diag(budget / y**2)
        step = -np.linalg.solve(hessian, gradient)
        t = 1.0
        current = objective(y)
        slope = float(gradient @ step)  # minus the squared Newton decrement
        while True:
            candidate = y + t * step
            # Close to the optimum the objective's change is below its rounding error: there a
            # full Newton step converges quadratically and needs no sufficient-decrease test.
            if np.all(candidate > 0) and (
                -slope < _QUADRATIC_PHASE or objective(candidate) <= current + 1e-4 * t * slope
            ):
                break
            t *= 0.5
            if t < 1e-16:
                raise AllocationError("risk_parity: the line search found no descent step")
        y = candidate
    raise AllocationError(f"risk_parity did not converge in {_MAX_ITERATIONS} iterations")


def risk_weights(scheme: str, returns: np.ndarray, current: np.ndarray) -> Weights:
    """
    The weights a risk-based ``scheme`` gives for ``returns`` (samples x strategies). A strategy
    without variance in the window (it held nothing) keeps its ``current`` weight and the others
    share the rest of the budget by the scheme.
    """
    n = len(current)
    if scheme not in RISK_SCHEMES:
        raise AllocationError(f"{scheme!r} is not a risk-based scheme ({', '.join(RISK_SCHEMES)})")
    returns = np.asarray(returns, dtype=float)
    if returns.ndim != 2 or returns.shape[1] != n or returns.shape[0] < 2:
        raise AllocationError(f"{scheme} needs at least 2 samples of {n} strategies' returns")
    covariance = np.cov(returns, rowvar=False, ddof=1).reshape(n, n)
    volatility = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    active = volatility > _MIN_VOLATILITY
    weights = np.asarray(current, dtype=float).copy()
    if active.any():
        budget = 1.0 - weights[~active].sum()
        if scheme == "inverse_vol":
            sub = inverse_vol_weights(volatility[active])
        else:
            sub = risk_parity_weights(covariance[np.ix_(active, active)])
        weights[active] = budget * sub
    contributions = risk_contributions(weights, covariance) if active.any() else None
    return Weights(weights, volatility, contributions)
