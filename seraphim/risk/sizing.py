"""
Position sizers: how large a position a full-strength signal asks for.

* ``FixedQuantitySizer``: always the same quantity.
* ``EquityFractionSizer``: a notional worth a fixed fraction of equity.
* ``AtrVolatilitySizer``: volatility targeting: the position whose move of one ATR is worth
  ``risk_fraction`` of equity (``qty = risk_fraction * equity / (ATR * multiplier)``), capped at
  ``max_fraction`` of equity in notional.
* ``KellySizer``: a capped fraction of the Kelly criterion from the strategy's own recent closed
  trades: ``f* = W - (1 - W) / R`` (W win rate, R mean win / mean loss, over the last ``window``
  trades' returns); the position notional is ``min(cap, scale * max(f*, 0)) * equity``, and
  ``default_fraction`` until ``min_trades`` trades have closed.
"""

from __future__ import annotations

import json
from collections import deque
from decimal import Decimal
from typing import Protocol

from nautilus_trader.model.instruments import Instrument


class PositionSizer(Protocol):
    def size(self, instrument: Instrument, price: float, equity: float) -> Decimal:
        """The absolute position quantity for a full-strength signal."""


def _quantity(notional: float, instrument: Instrument, price: float) -> Decimal:
    if price <= 0 or notional <= 0:
        return Decimal(0)
    return Decimal(str(notional / (price * float(instrument.multiplier))))


class FixedQuantitySizer:
    """Always the same quantity of the instrument (e.g. 0.5 BTC)."""

    needs_equity = False

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
        if equity <= 0:
            return Decimal(0)
        return _quantity(equity * self.fraction, instrument, price)


class AtrVolatilitySizer:
    """Volatility targeting with the average true range (a nautilus ``AverageTrueRange``)."""

    def __init__(self, risk_fraction: float, atr, max_fraction: float = 1.0) -> None:
        if not 0 < risk_fraction <= 1:
            raise ValueError(f"atr_risk must be in (0, 1], was {risk_fraction}")
        self.risk_fraction = risk_fraction
        self.atr = atr
        self.max_fraction = max_fraction

    def size(self, instrument: Instrument, price: float, equity: float) -> Decimal:
        if equity <= 0 or price <= 0 or not self.atr.initialized or self.atr.value <= 0:
            return Decimal(0)
        multiplier = float(instrument.multiplier)
        quantity = self.risk_fraction * equity / (self.atr.value * multiplier)
        cap = self.max_fraction * equity / (price * multiplier)
        return Decimal(str(min(quantity, cap)))


class KellySizer:
    """A capped, scaled Kelly fraction from rolling closed-trade returns."""

    def __init__(
        self,
        scale: float = 0.5,
        cap: float = 0.25,
        window: int = 50,
        min_trades: int = 10,
        default_fraction: float = 0.02,
    ) -> None:
        if not 0 < scale <= 1 or not 0 < cap <= 10 or window < 2 or min_trades < 2:
            raise ValueError(
                "kelly: need 0 < scale <= 1, 0 < cap <= 10, window and min_trades >= 2"
            )
        self.scale = scale
        self.cap = cap
        self.min_trades = min_trades
        self.default_fraction = default_fraction
        self.returns: deque[float] = deque(maxlen=window)

    def record_trade(self, trade_return: float) -> None:
        self.returns.append(float(trade_return))

    def kelly(self) -> float | None:
        """The full Kelly fraction of the recent trades, or None with too few trades."""
        if len(self.returns) < self.min_trades:
            return None
        wins = [r for r in self.returns if r > 0]
        losses = [-r for r in self.returns if r < 0]
        if not losses:
            return self.cap / self.scale  # no losing trade: as much as the cap allows
        if not wins:
            return 0.0
        win_rate = len(wins) / len(self.returns)
        payoff = (sum(wins) / len(wins)) / (sum(losses) / len(losses))
        return win_rate - (1.0 - win_rate) / payoff

    def fraction(self) -> float:
        full = self.kelly()
        if full is None:
            return min(self.default_fraction, self.cap)
        return min(self.cap, self.scale * max(full, 0.0))

    def size(self, instrument: Instrument, price: float, equity: float) -> Decimal:
        if equity <= 0:
            return Decimal(0)
        return _quantity(self.fraction() * equity, instrument, price)

    def save(self) -> bytes:
        return json.dumps(list(self.returns)).encode()

    def load(self, data: bytes) -> None:
        self.returns.clear()
        self.returns.extend(float(r) for r in json.loads(data.decode()))
