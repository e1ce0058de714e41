"""An actor that samples account equity and prices on every bar, for metrics and charts."""

from __future__ import annotations

from nautilus_trader.common.actor import Actor
from nautilus_trader.common.config import ActorConfig
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Currency

from seraphim.portfolio import Holdings
from seraphim.portfolio import holdings
from seraphim.portfolio import last_price
from seraphim.portfolio import value
from seraphim.risk.messages import RISK_VALUATION_ENDPOINT
from seraphim.risk.messages import AccountValuation
from seraphim.risk.messages import ValuationQuery


class EquityRecorderConfig(ActorConfig, frozen=True):
    bar_types: list[BarType]
    venues: list[str]
    currency: str = "USD"


class EquityRecorder(Actor):
    """
    Marks every venue account to market at each bar close (once per timestamp) and keeps the
    closes, so a run has an equity curve, a drawdown curve and prices to chart.

    With a risk gate that follows bars, the gate has already valued the same accounts at the
    same closes for this bar (it hears bars first): the recorder takes its figures instead of
    valuing them again, as long as the gate has seen exactly the recorder's bars (so its marks
    are the recorder's), values the same venues in the same order and in the same currency.
    """

    def __init__(self, config: EquityRecorderConfig) -> None:
        super().__init__(config)
        self.currency = Currency.from_str(config.currency)
        self.venues = [Venue(v) for v in config.venues]
        self.equity: list[tuple[int, float, float]] = []  # (ts, equity, gross exposure)
        self.prices: dict[str, list[tuple[int, float]]] = {str(b): [] for b in config.bar_types}
        self.marks: dict[InstrumentId, float] = {}  # last close per instrument
        self._held: list[Holdings | None] | None = None  # per venue; None: to be re-read
        self._bars = 0
        self._gate: AccountValuation | None = None

    def on_start(self) -> None:
        for bar_type in self.config.bar_types:
            self.subscribe_bars(bar_type)
        # Balances and positions change only with these events: re-read them then, not at
        # every bar (the risk gate does the same).
        self.msgbus.subscribe("events.account.*", self._holdings_changed)
        self.msgbus.subscribe("events.position.*", self._holdings_changed)
        self._gate = self._risk_valuation()

    def _risk_valuation(self) -> AccountValuation | None:
        if RISK_VALUATION_ENDPOINT not in self.msgbus.endpoints():
            return None
        query = ValuationQuery()
        self.msgbus.send(RISK_VALUATION_ENDPOINT, query)
        gate = query.result
        return gate if gate is not None and gate.currency == self.currency else None

    def on_reset(self) -> None:
        # A reused engine (research sweeps) runs again: its curve starts empty.
        self.equity = []
        self.prices = {bar_type: [] for bar_type in self.prices}
        self.marks = {}
        self._held = None
        self._bars = 0
        self._gate = None

    def on_bar(self, bar: Bar) -> None:
        close = bar.close.as_double()
        self.prices[str(bar.bar_type)].append((bar.ts_event, close))
        self.marks[bar.bar_type.instrument_id] = close
        self._bars += 1
        gate = self._gate
        if gate is not None and gate.bars_seen == self._bars:
            values = gate.venue_values()
            if [venue for venue, _, _ in values] == self.venues:
                equity = exposure = 0.0
                for _, venue_equity, venue_exposure in values:
                    equity += venue_equity
                    exposure += venue_exposure
                self._record((bar.ts_event, equity, exposure))
                return
        self.sample(bar.ts_event)

    def sample(self, ts: int) -> None:
        """Value every venue's account now, at the recorder's marks, as the sample at ``ts``."""
        if self._held is None:
            self._held = [holdings(self.cache, venue) for venue in self.venues]
        equity = exposure = 0.0
        for held in self._held:
            if held is not None:
                venue_equity, venue_exposure = value(
                    held, self.currency, self._price, self.portfolio
                )
                equity += venue_equity
                exposure += venue_exposure
        self._record((ts, equity, exposure))

    def _record(self, row: tuple[int, float, float]) -> None:
        ts = row[0]
        if self.equity and self.equity[-1][0] == ts:
            self.equity[-1] = row
        else:
            self.equity.append(row)

    def _price(self, instrument_id: InstrumentId) -> float | None:
        mark = self.marks.get(instrument_id)
        return mark if mark is not None else last_price(self.cache, instrument_id)

    def _holdings_changed(self, _event: object) -> None:
        self._held = None
