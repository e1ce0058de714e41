"""A strategy that sets scripted target positions on bar numbers (through its algorithm)."""

from __future__ import annotations

from decimal import Decimal

from nautilus_trader.model.data import Bar

from seraphim.strategies.base import SeraphimStrategy
from seraphim.strategies.base import SeraphimStrategyConfig


class ScriptedConfig(SeraphimStrategyConfig, frozen=True):
    targets: tuple[tuple[int, float], ...] = ()  # (bar number, target position)
    cancel_at: int | None = None  # bar number at which every order of the strategy is cancelled


class Scripted(SeraphimStrategy):
    def setup(self) -> None:
        self.bars_seen = 0
        self.parents = []

    def evaluate(self, bar: Bar) -> None:
        for number, target in self.params.targets:
            if number == self.bars_seen:
                order = self.set_target_position(Decimal(str(target)))
                if order is not None:
                    self.parents.append(order)
        if self.params.cancel_at == self.bars_seen:
            self.cancel_all_orders(self.params.instrument_id)
        self.bars_seen += 1
