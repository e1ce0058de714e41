"""Position sizers: how large a position a signal asks for."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from nautilus_trader.model.instruments import Instrument


class PositionSizer(Protocol):
    def size(self, instrument: Instrument, price: float, equity: float) -> Decimal:
        """The absolute position quantity for a full-strength signal."""


class FixedQuantitySizer:
    """Always the same quantity of the instrument (e.g. 0.5 BTC)."""

    def __init__(self, quantity: Decimal) -> None:
        if quantity <= 0:
            raise ValueError(f"trade_size must be positive, was {quantity}")
        self.quantity = Decimal(quantity)

    def size(self, instrument: Instrument, price: float, equity: float) -> Decimal:
        return self.quantity


class EquityFractionSizer:
    """A position worth a fixed fraction of current account equity."""

    def __init__(self, fraction: float) -> None:
        if not 0 < fraction <= 10:
            raise ValueError(f"equity_fraction must be in (0, 10], was {fraction}")
        self.fraction = fraction

    def size(self, instrument: Instrument, price: float, equity: float) -> Decimal:
        if price <= 0 or equity <= 0:
            return Decimal(0)
        notional = equity * self.fraction
        return Decimal(str(notional / (price * float(instrument.multiplier))))
