"""
Kraken's rate limit counters: the REST call counter per key and the per-pair trading counter
(shared by REST and WebSocket), both decaying continuously by tier.
"""

from __future__ import annotations

from dataclasses import dataclass

from seraphim.adapters.kraken.common.rate_limits import REST_TIERS
from seraphim.adapters.kraken.common.rate_limits import TRADING_TIERS

# Open orders per pair by tier (``EOrder:Orders limit exceeded``).
OPEN_ORDER_LIMITS: dict[str, int] = {"starter": 60, "intermediate": 80, "pro": 225}


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
        limit, decay = REST_TIERS[tier]
        return cls(limit, decay)


class TradingCounter(_Counter):
    """The per-pair trading counter of one account."""

    @classmethod
    def for_tier(cls, tier: str) -> TradingCounter:
        """The counter for a verification tier."""
        limit, decay = TRADING_TIERS[tier]
        return cls(limit, decay)
