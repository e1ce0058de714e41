"""
Kraken's rate limit counters: the REST call counter per key and the per-pair trading counter
(shared by REST and WebSocket), both decaying continuously by tier.
"""

from __future__ import annotations

from dataclasses import dataclass

# tier -> (max, decay per second)
REST_LIMITS: dict[str, tuple[float, float]] = {
    "starter": (15.0, 0.33),
    "intermediate": (20.0, 0.5),
    "pro": (20.0, 1.0),
}
TRADING_LIMITS: dict[str, tuple[float, float]] = {
    "starter": (60.0, 1.0),
    "intermediate": (125.0, 2.34),
    "pro": (180.0, 3.75),
}
# Open orders per pair by tier (``EOrder:Orders limit exceeded``).
OPEN_ORDER_LIMITS: dict[str, int] = {"starter": 60, "intermediate": 80, "pro": 225}

# REST calls that cost 2 (ledger and trade history queries).
REST_COST_2 = frozenset({"Ledgers", "QueryLedgers", "TradesHistory", "QueryTrades"})
# Calls governed by the trading counter instead of the REST counter.
TRADING_CALLS = frozenset(
    {"AddOrder", "AddOrderBatch", "AmendOrder", "EditOrder", "CancelOrder", "CancelOrderBatch"}
)

# (max age in seconds, penalty) for cancelling an order, youngest first.
_CANCEL_PENALTY = ((5, 8), (10, 6), (15, 5), (45, 4), (90, 2), (300, 1))
_AMEND_PENALTY = ((5, 3), (10, 2), (15, 1))


def cancel_cost(age_seconds: float) -> float:
    """Trading-counter cost of cancelling an order of this age."""
    for max_age, penalty in _CANCEL_PENALTY:
        if age_seconds < max_age:
            return float(penalty)
    return 0.0


def amend_cost(age_seconds: float) -> float:
    """Trading-counter cost of amending an order of this age (1 plus an age penalty)."""
    for max_age, penalty in _AMEND_PENALTY:
        if age_seconds < max_age:
            return 1.0 + penalty
    return 1.0


@dataclass
class _Counter:
    limit: float
    decay: float
    value: float = 0.0
    at: float = 0.0

    def level(self, now: float) -> float:
        """The counter after decay up to ``now``."""
        return max(0.0, self.value - max(0.0, now - self.at) * self.decay)

    def try_add(self, cost: float, now: float) -> bool:
        """Add ``cost`` unless that would pass the limit; True when added."""
        current = self.level(now)
        if current + cost > self.limit:
            self.value, self.at = current, now
            return False
        self.value, self.at = current + cost, now
        return True


class RestCounter(_Counter):
    """The REST API call counter of one key."""

    @classmethod
    def for_tier(cls, tier: str) -> RestCounter:
        """The counter for a verification tier."""
        limit, decay = REST_LIMITS[tier]
        return cls(limit, decay)


class TradingCounter(_Counter):
    """The per-pair trading counter of one account."""

    @classmethod
    def for_tier(cls, tier: str) -> TradingCounter:
        """The counter for a verification tier."""
        limit, decay = TRADING_LIMITS[tier]
        return cls(limit, decay)
