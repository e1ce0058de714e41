"""Messages between the portfolio allocator and strategies on nautilus's message bus."""

from __future__ import annotations

from dataclasses import dataclass

from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import StrategyId

# Strategies ask for the capital they may size from (send a ``CapitalQuery``; the answer is set
# on it), as they ask the risk gate for headroom.
ALLOCATION_CAPITAL_ENDPOINT = "Seraphim.Allocation.capital"
# Each rebalance is published here as an ``AllocationEvent``.
ALLOCATION_EVENT_TOPIC = "events.seraphim.allocation"


@dataclass
class CapitalQuery:
    """The capital ``strategy_id`` sizes from, in ``instrument_id``'s quote currency."""

    strategy_id: StrategyId
    instrument_id: InstrumentId
    result: float | None = None  # None: the strategy is not in the portfolio


@dataclass(frozen=True)
class AllocationEvent:
    ts: int
    reason: str  # start, schedule, drift, warmup
    weights: dict[str, float]  # strategy id -> weight
    capital: dict[str, float]  # strategy id -> capital assigned
