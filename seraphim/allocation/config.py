"""The ``portfolio:`` section of a backtest or node file, and the allocator actor's config."""

from __future__ import annotations

import math

import msgspec
import pandas as pd
from nautilus_trader.common.config import ActorConfig

from seraphim.allocation.weights import SCHEMES

_WEIGHT_SUM_TOLERANCE = 1e-6


class PortfolioSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """How capital is divided among a file's strategies (see docs/PORTFOLIO.md)."""

    scheme: str = "equal"
    rebalance: str | None = None  # a period, e.g. "7D", "24h", "2W"; None: no schedule
    drift_band: float | None = None  # absolute deviation of a capital share from its weight
    lookback: int = 720  # return samples in the risk window
    min_history: int = 168  # samples before the risk-based schemes apply
    currency: str = "USD"
    weights: dict[str, float] = {}  # fixed: strategy id -> weight

    def rebalance_ns(self) -> int | None:
        """The rebalance period in nanoseconds (None without a schedule)."""
        if self.rebalance is None:
            return None
        try:
            period = pd.Timedelta(self.rebalance)
        except ValueError:
            period = None
        if period is None or pd.isna(period) or period.value <= 0:
            raise ValueError(
                f"portfolio.rebalance: {self.rebalance!r} is not a positive period "
                f"(e.g. 24h, 7D, 2W)"
            )
        return int(period.value)

    def validate(self, strategy_ids: list[str]) -> None:
        """Raise ``ValueError`` naming the first problem for these strategies."""
        if self.scheme not in SCHEMES:
            raise ValueError(
                f"portfolio.scheme must be one of {', '.join(SCHEMES)}, was {self.scheme!r}"
            )
        self.rebalance_ns()
        if self.drift_band is not None and not 0 < self.drift_band < 1:
            raise ValueError(f"portfolio.drift_band must be in (0, 1), was {self.drift_band}")
        if self.lookback < 2:
            raise ValueError(f"portfolio.lookback must be at least 2, was {self.lookback}")
        if not 2 <= self.min_history <= self.lookback:
            raise ValueError(
                f"portfolio.min_history must be in [2, lookback={self.lookback}], "
                f"was {self.min_history}"
            )
        if len(set(strategy_ids)) != len(strategy_ids):
            raise ValueError(f"portfolio: strategy ids repeat: {', '.join(strategy_ids)}")
        if self.scheme != "fixed":
            if self.weights:
                raise ValueError(f"portfolio.weights only go with scheme fixed, not {self.scheme}")
            return
        unknown = sorted(set(self.weights) - set(strategy_ids))
        missing = [s for s in strategy_ids if s not in self.weights]
        if unknown or missing:
            problem = (
                f"unknown: {', '.join(unknown)}" if unknown else f"missing: {', '.join(missing)}"
            )
            raise ValueError(
                f"portfolio.weights must name each strategy id once ({', '.join(strategy_ids)}); "
                f"{problem}"
            )
        values = list(self.weights.values())
        if any(not math.isfinite(w) or w < 0 for w in values):
            raise ValueError(f"portfolio.weights must be non-negative numbers, got {values}")
        if abs(sum(values) - 1.0) > _WEIGHT_SUM_TOLERANCE:
            raise ValueError(f"portfolio.weights must sum to 1, they sum to {sum(values):g}")


class PortfolioAllocatorConfig(ActorConfig, frozen=True):
    """The allocator actor: the portfolio section plus what the assembly floor knows."""

    portfolio: PortfolioSpec
    strategy_ids: list[str]
    venues: list[str]  # whose accounts make the portfolio's equity
