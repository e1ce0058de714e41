"""Drift bands: when capital shares have wandered far enough from their weights to rebalance."""

from __future__ import annotations

import numpy as np


def capital_shares(capital: np.ndarray) -> np.ndarray:
    """Each strategy's share of the summed capital (zeros when there is none)."""
    capital = np.asarray(capital, dtype=float)
    total = capital.sum()
    return capital / total if total > 0 else np.zeros_like(capital)


def drifted(shares: np.ndarray, weights: np.ndarray, band: float | None) -> bool:
    """True when a share is more than ``band`` (absolute) from its weight; never without a band."""
    if band is None:
        return False
    return bool(np.max(np.abs(np.asarray(shares) - np.asarray(weights))) > band)
