"""An actor that samples account equity and prices on every bar, for metrics and charts."""

from __future__ import annotations

from nautilus_trader.common.actor import Actor
from nautilus_trader.common.config import ActorConfig
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Currency

from seraphim.portfolio import mark_to_market


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
        self.marks: dict[InstrumentId, float] = {}  # last close per instrument

    def on_start(self) -> None:
        for bar_type in self.config.bar_types:
            self.subscribe_bars(bar_type)

    def on_reset(self) -> None:
        # A reused engine (research sweeps) runs again: its curve starts empty.
        self.equity = []
        self.prices = {bar_type: [] for bar_type in self.prices}
        self.marks = {}

    def on_bar(self, bar: Bar) -> None:
        close = bar.close.as_double()
        self.prices[str(bar.bar_type)].append((bar.ts_event, close))
        self.marks[bar.bar_type.instrument_id] = close
        self.sample(bar.ts_event)

    def sample(self, ts: int) -> None:
        equity = exposure = 0.0
        for venue in self.venues:
            venue_equity, venue_exposure = mark_to_market(
                self.cache, self.portfolio, venue, self.currency, self.marks
            )
            equity += venue_equity
            exposure += venue_exposure
        row = (ts, equity, exposure)
        if self.equity and self.equity[-1][0] == ts:
            self.equity[-1] = row
        else:
            self.equity.append(row)
