"""An actor that samples account equity and prices on every bar, for metrics and charts."""

from __future__ import annotations

from nautilus_trader.common.actor import Actor
from nautilus_trader.common.config import ActorConfig
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Currency

from seraphim.portfolio import account_equity


class EquityRecorderConfig(ActorConfig, frozen=True):
    bar_types: list[BarType]
    venues: list[str]
    currency: str = "USD"


class EquityRecorder(Actor):
    """
    Marks every venue account to market at each bar close (once per timestamp) and keeps the
    closes, so a run has an equity curve, a drawdown curve and prices to chart.
    """

    def __init__(self, config: EquityRecorderConfig) -> None:
        super().__init__(config)
        self.currency = Currency.from_str(config.currency)
        self.venues = [Venue(v) for v in config.venues]
        self.equity: list[tuple[int, float, float]] = []  # (ts, equity, gross exposure)
        self.prices: dict[str, list[tuple[int, float]]] = {str(b): [] for b in config.bar_types}

    def on_start(self) -> None:
        for bar_type in self.config.bar_types:
            self.subscribe_bars(bar_type)

    def on_bar(self, bar: Bar) -> None:
        self.prices[str(bar.bar_type)].append((bar.ts_event, bar.close.as_double()))
        self.sample(bar.ts_event)

    def sample(self, ts: int) -> None:
        equity = sum(
            account_equity(self.cache, self.portfolio, venue, self.currency)
            for venue in self.venues
        )
        exposure = sum(self._gross_exposure(venue) for venue in self.venues)
        row = (ts, equity, exposure)
        if self.equity and self.equity[-1][0] == ts:
            self.equity[-1] = row
        else:
            self.equity.append(row)

    def _gross_exposure(self, venue: Venue) -> float:
        if not self.cache.positions_open(venue=venue):
            return 0.0
        exposures = self.portfolio.net_exposures(venue) or {}
        return sum(abs(money.as_double()) for money in exposures.values())
