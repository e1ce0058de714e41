"""
Kraken's rate-limit rules, the venue's facts shared by the adapter (which stays under them)
and the local exchange (which enforces them).

- REST: one counter per API key, +1 per call (+2 for ledger/trade history), decaying by tier.
- Trading: one counter per pair, shared by REST and WebSocket: +1 per order; cancels and
  amends cost more the younger the order; decaying by tier.
"""

from __future__ import annotations

# tier -> (maximum, decay per second)
REST_TIERS: dict[str, tuple[float, float]] = {
    "starter": (15.0, 0.33),
    "intermediate": (20.0, 0.5),
    "pro": (20.0, 1.0),
}
TRADING_TIERS: dict[str, tuple[float, float]] = {
    "starter": (60.0, 1.0),
    "intermediate": (125.0, 2.34),
    "pro": (180.0, 3.75),
}
# REST calls that cost 2, and the calls governed by the trading counter instead of the REST one.
REST_COST_2 = frozenset({"Ledgers", "QueryLedgers", "TradesHistory", "QueryTrades"})
TRADING_METHODS = frozenset(
    {"AddOrder", "AddOrderBatch", "AmendOrder", "EditOrder", "CancelOrder", "CancelOrderBatch"}
)
# (max age in seconds, penalty), youngest first.
_CANCEL_PENALTY = ((5, 8), (10, 6), (15, 5), (45, 4), (90, 2), (300, 1))
_AMEND_PENALTY = ((5, 3), (10, 2), (15, 1))


def rest_cost(method: str) -> float:
    """REST-counter cost of a call (0 for trading calls, which use the trading counter)."""
    if method in TRADING_METHODS:
        return 0.0
    return 2.0 if method in REST_COST_2 else 1.0


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
