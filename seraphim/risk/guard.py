"""
The portfolio guard (kill switch): watches total equity and trips when the drawdown from the
running peak, or the day's loss, reaches its threshold. Pure logic; the controller feeds it
equity samples and applies the trading state it asks for.
"""

from __future__ import annotations

from dataclasses import dataclass

from seraphim.risk.config import GuardConfig

NANOS_PER_DAY = 86_400 * 1_000_000_000


@dataclass(frozen=True, slots=True)
class GuardEvent:
    kind: str  # "trip", "daily_reset" or "reset"
    ts: int
    rule: str  # "max_drawdown", "max_daily_loss" or "" for resets
    equity: float
    reference: float  # the peak (drawdown) or the day's starting equity (daily loss)
    loss: float  # fraction below the reference
    state: str  # the trading state after the event

    def describe(self) -> str:
        if self.kind == "trip":
            return (
                f"guard tripped by {self.rule}: equity {self.equity:,.2f} is {self.loss:.2%} "
                f"below {self.reference:,.2f} -> {self.state}"
            )
        return f"guard {self.kind.replace('_', ' ')}: equity {self.equity:,.2f} -> {self.state}"


class PortfolioGuard:
    """
    Trips exactly at the first sample where ``equity <= peak * (1 - max_drawdown)`` or
    ``equity <= day_start * (1 - max_daily_loss)``. ``peak`` is the highest equity sampled since
    the start (or the last reset); ``day_start`` the last equity sampled before the current UTC
    day began (the first sample of a run starts its first day).
    """

    def __init__(self, config: GuardConfig) -> None:
        self.config = config
        self.state = "ACTIVE"
        self.tripped_by: str | None = None
        self.peak: float | None = None
        self.day: int | None = None
        self.day_start: float | None = None
        self.last_equity: float | None = None

    @property
    def tripped(self) -> bool:
        return self.tripped_by is not None

    def update(self, ts: int, equity: float) -> list[GuardEvent]:
        """Feed one equity sample; returns what happened (a daily reset and/or a trip)."""
        day = ts // NANOS_PER_DAY
        events = []
        if self.day is None or day != self.day:
            previous = self.last_equity if self.last_equity is not None else equity
            self.day, self.day_start = day, previous
            if self.tripped_by == "max_daily_loss" and self.config.daily_reset:
                self.tripped_by, self.state = None, "ACTIVE"
                self.peak = max(self.peak or equity, equity)
                events.append(GuardEvent("daily_reset", ts, "", equity, previous, 0.0, self.state))
        self.last_equity = equity
        self.peak = equity if self.peak is None else max(self.peak, equity)
        if self.tripped:
            return events
        config = self.config
        if config.max_drawdown is not None and self.peak > 0:
            loss = 1.0 - equity / self.peak
            if equity <= self.peak * (1.0 - config.max_drawdown):
                events.append(self._trip(ts, "max_drawdown", equity, self.peak, loss))
                return events
        if config.max_daily_loss is not None and self.day_start and self.day_start > 0:
            loss = 1.0 - equity / self.day_start
            if equity <= self.day_start * (1.0 - config.max_daily_loss):
                events.append(self._trip(ts, "max_daily_loss", equity, self.day_start, loss))
        return events

    def _trip(self, ts: int, rule: str, equity: float, reference: float, loss: float):
        self.tripped_by, self.state = rule, self.config.action
        return GuardEvent("trip", ts, rule, equity, reference, loss, self.state)

    def reset(self, ts: int, equity: float | None = None) -> GuardEvent:
        """Operator reset: trading ACTIVE again, the peak restarts at the current equity."""
        equity = self.last_equity if equity is None else equity
        self.tripped_by, self.state = None, "ACTIVE"
        self.peak = equity
        self.day_start = equity
        return GuardEvent("reset", ts, "", equity or 0.0, equity or 0.0, 0.0, self.state)
