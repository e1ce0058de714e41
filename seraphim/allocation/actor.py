"""
``PortfolioAllocator``: divides the portfolio's capital among strategies and keeps each
strategy's capital between rebalances. A nautilus ``Actor``, so a backtest and a live node run
the same object (the assembly floor adds it to the kernel's actors).

* It values each strategy's own fills at the last bar closes (``StrategyBook``) and samples
  every strategy's return once per bar time: the window the risk-based schemes read.
* Rebalances: at the first bar (``start``), every ``rebalance`` period (``schedule``: a clock
  timer makes it due), and when a capital share is off its weight by more than ``drift_band``
  (``drift``). Due rebalances run when the next bar time begins, so the window holds only
  complete samples and the strategies size that bar from the new capital; each sets
  capital = weight x the portfolio's equity.
* Strategies send a ``CapitalQuery`` at each decision and size from the answer.
"""

from __future__ import annotations

import json
from collections import deque
from datetime import timedelta
from decimal import Decimal

import numpy as np
from nautilus_trader.common.actor import Actor
from nautilus_trader.common.events import TimeEvent
from nautilus_trader.model.data import Bar
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import StrategyId
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Currency

from seraphim.allocation.books import StrategyBook
from seraphim.allocation.config import PortfolioAllocatorConfig
from seraphim.allocation.drift import capital_shares
from seraphim.allocation.drift import drifted
from seraphim.allocation.messages import ALLOCATION_CAPITAL_ENDPOINT
from seraphim.allocation.messages import ALLOCATION_EVENT_TOPIC
from seraphim.allocation.messages import AllocationEvent
from seraphim.allocation.messages import CapitalQuery
from seraphim.allocation.weights import RISK_SCHEMES
from seraphim.allocation.weights import equal_weights
from seraphim.allocation.weights import risk_weights
from seraphim.portfolio import conversion_rate
from seraphim.portfolio import last_price
from seraphim.portfolio import mark_to_market

REBALANCE_TIMER = "seraphim-portfolio-rebalance"
STATE_KEY = "seraphim.allocation"

# (ts, reason, strategy_id, weight, previous_share, capital, volatility, risk_contribution)
AllocationRow = tuple[int, str, str, float, float, float, float | None, float | None]
# (ts, strategy_id, return, pnl, capital, share, weight, exposure)
ReturnRow = tuple[int, str, float, float, float, float, float, float]


class PortfolioAllocator(Actor):
    """Capital for each strategy by a weighting scheme, rebalanced on schedule and on drift."""

    def __init__(self, config: PortfolioAllocatorConfig) -> None:
        super().__init__(config)
        spec = config.portfolio
        self.spec = spec
        self.currency = Currency.from_str(spec.currency)
        self.venues = [Venue(v) for v in config.venues]
        self.strategy_ids = [StrategyId(s) for s in config.strategy_ids]
        self.fixed = (
            np.array([spec.weights[s] for s in config.strategy_ids])
            if spec.scheme == "fixed"
            else None
        )
        self._reset_state()

    def _reset_state(self) -> None:
        count = len(self.strategy_ids)
        self.books = {s: StrategyBook() for s in self.strategy_ids}
        self.weights = self.fixed if self.fixed is not None else equal_weights(count)
        self.marks: dict[InstrumentId, float] = {}
        self.window: deque[tuple[int, np.ndarray]] = deque(maxlen=self.spec.lookback)
        self.allocation_rows: list[AllocationRow] = []
        self.return_rows: list[ReturnRow] = []
        self._ts: int | None = None  # the bar time being sampled
        self._due = False  # the schedule's timer fired: rebalance when the next bar time begins
        self._restored = False  # books and weights came from saved state (a restarted node)
        self._start_pnl = np.zeros(count)
        self._start_capital = np.zeros(count)

    # -- lifecycle ------------------------------------------------------------------------

    def on_start(self) -> None:
        self.msgbus.register(ALLOCATION_CAPITAL_ENDPOINT, self._answer_capital)
        # The strategies subscribe to their own bars; the allocator hears all bars at priority 5:
        # before the strategies (0) ask for the capital it derives from them.
        self.msgbus.subscribe("data.bars.*", self._on_bar, priority=5)
        self.msgbus.subscribe("events.order.*", self._on_order_event, priority=5)

    def on_stop(self) -> None:
        # Fills still count: nautilus stops actors before strategies, which may flatten on stop,
        # and the books saved after that must hold what the strategies really hold.
        self.msgbus.deregister(ALLOCATION_CAPITAL_ENDPOINT, self._answer_capital)
        self.msgbus.unsubscribe("data.bars.*", self._on_bar)
        if REBALANCE_TIMER in self.clock.timer_names:
            self.clock.cancel_timer(REBALANCE_TIMER)

    def on_dispose(self) -> None:
        self.msgbus.unsubscribe("events.order.*", self._on_order_event)

    def on_reset(self) -> None:
        # A reused engine (research sweeps) runs again from nothing.
        self._reset_state()

    # -- saved state (nautilus calls these for a node whose state is in Redis) ---------------

    def on_save(self) -> dict[str, bytes]:
        if self._ts is None:
            return {}
        saved = {
            "weights": self.weights.tolist(),
            "books": {sid.value: book.to_dict() for sid, book in self.books.items()},
            "window": [[ts, returns.tolist()] for ts, returns in self.window],
        }
        return {STATE_KEY: json.dumps(saved).encode()}

    def on_load(self, state: dict[str, bytes]) -> None:
        """
        Carry on after a restart: the books (what each strategy holds and its capital), the
        weights and the risk window come back; the first bar starts a new sample and the
        schedule counts from there. State saved for other strategies is ignored.
        """
        if STATE_KEY not in state:
            return
        saved = json.loads(state[STATE_KEY].decode())
        if sorted(saved["books"]) != sorted(s.value for s in self.strategy_ids):
            self.log.warning("Portfolio state saved for other strategies: allocating afresh")
            return
        self.books = {s: StrategyBook.from_dict(saved["books"][s.value]) for s in self.strategy_ids}
        self.weights = np.array(saved["weights"])
        self.window.extend((ts, np.array(returns)) for ts, returns in saved["window"])
        self._restored = True

    # -- bus handlers ---------------------------------------------------------------------

    def _on_bar(self, bar: Bar) -> None:
        ts = bar.ts_event
        if self._ts is None:
            self.marks[bar.bar_type.instrument_id] = bar.close.as_double()
            self._ts = ts
            if not self._restored:
                self._rebalance("start", ts)
            self._open_sample()
            period = self.spec.rebalance_ns()
            if period is not None:
                self.clock.set_timer(
                    REBALANCE_TIMER,
                    timedelta(microseconds=period // 1_000),
                    callback=self._on_schedule,
                )
        elif ts > self._ts:
            self._close_sample(ts)
            self._ts = ts
            self._open_sample()  # at the marks of the previous bar time
            self.marks[bar.bar_type.instrument_id] = bar.close.as_double()
        elif ts == self._ts:
            self.marks[bar.bar_type.instrument_id] = bar.close.as_double()
        else:
            return  # a late bar of an earlier time (e.g. replayed): the sample is closed
        self._write_sample()

    def _on_order_event(self, event) -> None:
        if not isinstance(event, OrderFilled) or event.strategy_id not in self.books:
            return
        instrument = self.cache.instrument(event.instrument_id)
        quantity = event.last_qty.as_decimal()
        signed = quantity if event.order_side == OrderSide.BUY else -quantity
        venue = event.instrument_id.venue
        notional = float(signed) * event.last_px.as_double() * float(instrument.multiplier)
        cost = notional * self._rate(instrument.quote_currency, venue)
        commission = event.commission
        cost += commission.as_double() * self._rate(commission.currency, venue)
        self.books[event.strategy_id].apply_fill(event.instrument_id, signed, cost)
        if self._ts is not None:
            self._write_sample()

    def _on_schedule(self, event: TimeEvent) -> None:
        self._due = True

    def _answer_capital(self, query: CapitalQuery) -> None:
        book = self.books.get(query.strategy_id)
        if book is None:
            return  # not in the portfolio: the strategy sizes from its account
        if self._ts is None:
            query.result = 0.0  # nothing allocated yet
            return
        instrument = self.cache.instrument(query.instrument_id)
        rate = self._rate(self.currency, query.instrument_id.venue, instrument.quote_currency)
        query.result = book.capital(book.pnl(self._value)) * rate

    # -- valuation ------------------------------------------------------------------------

    def _price(self, instrument_id: InstrumentId) -> float | None:
        mark = self.marks.get(instrument_id)
        return mark if mark is not None else last_price(self.cache, instrument_id)

    def _rate(self, source: Currency, venue: Venue, target: Currency | None = None) -> float:
        rate = conversion_rate(self._price, source, target or self.currency, venue)
        if rate is None:
            raise ValueError(
                f"portfolio: no price to convert {source} to {target or self.currency} at {venue}"
            )
        return rate

    def _value(self, instrument_id: InstrumentId, quantity: Decimal) -> float:
        instrument = self.cache.instrument(instrument_id)
        price = self._price(instrument_id)
        if price is None:
            return 0.0
        rate = self._rate(instrument.quote_currency, instrument_id.venue)
        return float(quantity) * price * float(instrument.multiplier) * rate

    def equity(self) -> float:
        """The portfolio's equity: every venue account in the file, marked to market."""
        return sum(
            mark_to_market(self.cache, self.portfolio, venue, self.currency, self.marks)[0]
            for venue in self.venues
        )

    def _state(self) -> tuple[np.ndarray, np.ndarray]:
        """(pnl, capital) per strategy at the current marks."""
        pnl = np.array([self.books[s].pnl(self._value) for s in self.strategy_ids])
        capital = np.array(
            [self.books[s].capital(p) for s, p in zip(self.strategy_ids, pnl, strict=True)]
        )
        return pnl, capital

    # -- return samples -------------------------------------------------------------------

    def _open_sample(self) -> None:
        self._start_pnl, self._start_capital = self._state()

    def _write_sample(self) -> None:
        """The current bar time's sample, rewritten by every bar and fill of that time."""
        pnl, capital = self._state()
        with np.errstate(divide="ignore", invalid="ignore"):
            returns = np.where(
                self._start_capital > 0, (pnl - self._start_pnl) / self._start_capital, 0.0
            )
        shares = capital_shares(capital)
        rows = [
            (
                self._ts,
                sid.value,
                float(returns[i]),
                float(pnl[i]),
                float(capital[i]),
                float(shares[i]),
                float(self.weights[i]),
                self.books[sid].exposure(self._value),
            )
            for i, sid in enumerate(self.strategy_ids)
        ]
        count = len(rows)
        if self.window and self.window[-1][0] == self._ts:
            self.window[-1] = (self._ts, returns)
            self.return_rows[-count:] = rows
        else:
            self.window.append((self._ts, returns))
            self.return_rows.extend(rows)

    def _close_sample(self, ts: int) -> None:
        """
        The last bar time is complete (a bar of time ``ts`` arrived): rebalance when the
        schedule made it due or a capital share drifted beyond the band.
        """
        if self._due:
            self._due = False
            self._rebalance("schedule", ts)
            return
        _, capital = self._state()
        if drifted(capital_shares(capital), self.weights, self.spec.drift_band):
            self._rebalance("drift", ts)

    # -- rebalancing ----------------------------------------------------------------------

    def _rebalance(self, reason: str, ts: int) -> None:
        pnl, capital = self._state()
        previous = capital_shares(capital)
        volatility = contributions = None
        if self.spec.scheme not in RISK_SCHEMES:
            weights = self.fixed if self.fixed is not None else equal_weights(len(capital))
        elif reason == "start" or len(self.window) < self.spec.min_history:
            reason = reason if reason == "start" else "warmup"
            weights = equal_weights(len(capital))
        else:
            returns = np.array([r for _, r in self.window])
            result = risk_weights(self.spec.scheme, returns, self.weights)
            weights = result.weights
            volatility, contributions = result.volatility, result.risk_contribution
        self.weights = weights
        equity = self.equity()
        assigned = {}
        for i, sid in enumerate(self.strategy_ids):
            self.books[sid].assign(weights[i] * equity, pnl[i])
            assigned[sid.value] = float(weights[i] * equity)
            self.allocation_rows.append(
                (
                    ts,
                    reason,
                    sid.value,
                    float(weights[i]),
                    float(previous[i]),
                    assigned[sid.value],
                    None if volatility is None else float(volatility[i]),
                    None if contributions is None else float(contributions[i]),
                ),
            )
        self.log.info(
            f"Portfolio {reason} rebalance: "
            + ", ".join(f"{s}={w:.3f}" for s, w in zip(assigned, weights, strict=True))
        )
        self.msgbus.publish(
            ALLOCATION_EVENT_TOPIC,
            AllocationEvent(
                ts, reason, dict(zip(assigned, map(float, weights), strict=True)), assigned
            ),
        )
