"""A strategy that sets scripted target positions on bar numbers (through its algorithm)."""

from __future__ import annotations

from decimal import Decimal

from nautilus_trader.model.data import Bar
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.identifiers import ExecAlgorithmId

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


class LimitScriptConfig(SeraphimStrategyConfig, frozen=True):
    at_bar: int = 3
    quantity: float = 1.0
    price_factor: float = 1.0  # the limit price as a factor of the bar's close


class LimitScript(SeraphimStrategy):
    """Sends one limit buy through its execution algorithm on bar ``at_bar``."""

    def setup(self) -> None:
        self.bars_seen = 0
        self.parents = []

    def evaluate(self, bar: Bar) -> None:
        if self.bars_seen == self.params.at_bar:
            order = self.order_factory.limit(
                self.params.instrument_id,
                OrderSide.BUY,
                self.instrument.make_qty(self.params.quantity),
                self.instrument.make_price(bar.close.as_double() * self.params.price_factor),
                exec_algorithm_id=ExecAlgorithmId(self.params.exec_algorithm_id),
                exec_algorithm_params=self.params.exec_algorithm_params,
            )
            self.submit_order(order)
            self.parents.append(order)
        self.bars_seen += 1
