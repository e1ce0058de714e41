"""
Each strategy's own account inside the portfolio: the cash its fills moved, what it holds, and
the capital it was given at the last rebalance, which then moves with its profit and loss.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

from nautilus_trader.model.identifiers import InstrumentId

# The value in the portfolio's currency of a quantity of an instrument at the current marks.
ValueOf = Callable[[InstrumentId, Decimal], float]


@dataclass
class StrategyBook:
    cash: float = 0.0  # in the portfolio's currency: minus what fills cost, fees included
    # Exact (Decimal) so a closed position is exactly zero, not float dust.
    quantities: dict[InstrumentId, Decimal] = field(default_factory=dict)
    base: float = 0.0  # capital assigned at the last rebalance
    pnl_at_base: float = 0.0

    def apply_fill(
        self, instrument_id: InstrumentId, signed_quantity: Decimal, cost: float
    ) -> None:
        """A fill of ``signed_quantity`` (buy > 0) that cost ``cost`` (notional plus fees)."""
        self.cash -= cost
        held = self.quantities.get(instrument_id, Decimal(0))
        self.quantities[instrument_id] = held + signed_quantity

    def pnl(self, value_of: ValueOf) -> float:
        """Profit and loss since the start: cash flows plus what is held at the marks."""
        return self.cash + sum(value_of(i, q) for i, q in self.quantities.items() if q)

    def exposure(self, value_of: ValueOf) -> float:
        """Gross market value of what the strategy holds."""
        return sum(abs(value_of(i, q)) for i, q in self.quantities.items() if q)

    def capital(self, pnl: float) -> float:
        """The capital the strategy sizes from, given its current ``pnl``."""
        return self.base + pnl - self.pnl_at_base

    def to_dict(self) -> dict:
        """JSON-ready, for the allocator's saved state."""
        return {
            "cash": self.cash,
            "quantities": {str(i): str(q) for i, q in self.quantities.items()},
            "base": self.base,
            "pnl_at_base": self.pnl_at_base,
        }

    @classmethod
    def from_dict(cls, saved: dict) -> StrategyBook:
        quantities = {InstrumentId.from_str(i): Decimal(q) for i, q in saved["quantities"].items()}
        return cls(saved["cash"], quantities, saved["base"], saved["pnl_at_base"])

    def assign(self, capital: float, pnl: float) -> None:
        """A rebalance: the strategy now has ``capital``; later profit and loss adds to it."""
        self.base = capital
        self.pnl_at_base = pnl
