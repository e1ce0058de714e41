"""Test fixtures: a strategy that reads the next bar from the catalog, one that counts bars."""

from itertools import pairwise

from nautilus_trader.model.data import Bar
from nautilus_trader.persistence.catalog import ParquetDataCatalog

from seraphim.strategies.base import SeraphimStrategy
from seraphim.strategies.base import SeraphimStrategyConfig
from seraphim.strategies.registry import register_strategy


class PeekAheadConfig(SeraphimStrategyConfig, frozen=True):
    catalog: str = ""


@register_strategy("peek_ahead", PeekAheadConfig)
class PeekAhead(SeraphimStrategy):
    """Long when the NEXT bar closes higher: lookahead bias by construction."""

    def setup(self) -> None:
        bars = ParquetDataCatalog(self.params.catalog).query(
            Bar, identifiers=[str(self.params.bar_type)]
        )
        self.next_close = {a.ts_event: b.close.as_double() for a, b in pairwise(bars)}

    def evaluate(self, bar: Bar) -> None:
        upcoming = self.next_close.get(bar.ts_event)
        if upcoming is None:
            return
        signal = 1.0 if upcoming > bar.close.as_double() else 0.0
        self.set_target_position(self.target_quantity(signal, bar.close.as_double()))


class EveryNthBarConfig(SeraphimStrategyConfig, frozen=True):
    every: int = 50


@register_strategy("every_nth_bar", EveryNthBarConfig)
class EveryNthBar(SeraphimStrategy):
    """Flips long/flat every ``every`` bars counted from its start: depends on the start."""

    def setup(self) -> None:
        self.seen = 0

    def evaluate(self, bar: Bar) -> None:
        self.seen += 1
        signal = 1.0 if (self.seen // self.params.every) % 2 else 0.0
        self.set_target_position(self.target_quantity(signal, bar.close.as_double()))
