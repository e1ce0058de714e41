"""Messages for the risk layer on nautilus's message bus (same in a backtest and a live node)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from typing import Protocol

from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import StrategyId
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Currency

# Operator commands to the risk controller (send a ``RiskCommand``).
RISK_COMMAND_ENDPOINT = "Seraphim.Risk.execute"
# Strategies ask how much they may still trade (send a ``HeadroomQuery``; the answer is set on it).
RISK_HEADROOM_ENDPOINT = "Seraphim.Risk.headroom"
# The monitor asks for each limit's usage (send a ``UsageQuery``; the answer is set on it).
RISK_USAGE_ENDPOINT = "Seraphim.Risk.usage"
# The backtest's equity recorder asks for the gate's per-bar valuation (``ValuationQuery``).
RISK_VALUATION_ENDPOINT = "Seraphim.Risk.valuation"
# Risk events (guard trips and resets) are published here as ``RiskEvent``.
RISK_EVENT_TOPIC = "events.seraphim.risk"


@dataclass
class RiskCommand:
    """
    ``reset``: clear a guard trip and set the trading state to ACTIVE (the drawdown peak restarts
    at current equity). ``halt`` / ``reduce``: trip the guard by hand.
    """

    action: Literal["reset", "halt", "reduce"]
    operator: str = "operator"
    note: str = ""


@dataclass
class HeadroomQuery:
    """How many units ``strategy_id`` may still trade on ``side`` (+1 buy, -1 sell)."""

    strategy_id: StrategyId
    instrument_id: InstrumentId
    side: int
    price: float | None = None
    # Only the limits that can tighten by themselves: is the position now beyond one? (The
    # answer is exact when negative; 0 may stand for any headroom >= 0.)
    shrinking_only: bool = False
    result: float | None = None  # set by the risk gate; None when no gate is installed


@dataclass
class UsageQuery:
    """Every configured limit with its current usage (``RiskGate.usage``)."""

    result: dict | None = None  # set by the risk gate


class AccountValuation(Protocol):
    """The risk gate's valuation of every account at its bar closes (``RiskGate.venue_values``)."""

    currency: Currency
    bars_seen: int  # bars whose closes are the marks

    def venue_values(self) -> tuple[tuple[Venue, float, float], ...]:
        """(venue, equity, gross exposure) per account, in ``currency``, now."""
        ...


@dataclass
class ValuationQuery:
    """
    The gate's valuation, for a component that would otherwise value the same holdings at the
    same bar closes again; ``None`` when the gate does not follow bars.
    """

    result: AccountValuation | None = None  # set by the risk controller


@dataclass(frozen=True)
class RiskEvent:
    ts: int
    kind: str  # guard_trip, guard_reset, guard_daily_reset, flatten, trading_state
    rule: str
    detail: str
    state: str

    def to_dict(self) -> dict:
        import pandas as pd

        return {
            "ts": pd.Timestamp(self.ts, unit="ns", tz="UTC").isoformat(),
            "kind": self.kind,
            "rule": self.rule,
            "state": self.state,
            "detail": self.detail,
        }
