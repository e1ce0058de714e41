"""
The pre-trade rules, as pure functions of a book (positions, open orders, equity) and market
facts. No nautilus objects here: the gate builds the inputs from nautilus's cache, and the
property tests build them directly.

How exposure is measured
------------------------
For an instrument a book holds a signed position ``P`` and open orders with ``B`` units left to
buy and ``S`` left to sell (orders accepted by the gate but not yet acknowledged count too).
Whatever fills, the position stays within ``[P - S, P + B]``, so the worst case on the buy side
is ``X+ = P + B``, on the sell side ``X- = S - P``, and the worst absolute position is
``max(X+, X-)``. A new order of ``q`` units on side ``s`` moves only ``Xs`` (to ``Xs + q``).

Every rule answers one question: the largest ``q`` this order may have (its *headroom*). A
rule never forbids an order that cannot increase any exposure (a pure reduction, ``Xs + q <= 0``),
so exits always pass; an order that only partly reduces is limited like any other.

Invariant the property tests check: after an accepted order every measured exposure is at most
its limit, or the order did not increase it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from dataclasses import field
from typing import Protocol

from seraphim.risk.config import RiskLimits

INF = math.inf
# Float tolerance when comparing an order with its headroom (quantities are already rounded
# to the instrument's increment, so this only absorbs binary floating-point noise).
_REL_TOL = 1e-9
_ABS_TOL = 1e-12
# A ``WithinProof`` keeps this far from a limit, so float noise never turns a proof into a wrong
# answer for a position exactly at its limit.
_PROVABLE = 1.0 - 1e-9


@dataclass(slots=True)
class Exposure:
    """One instrument in a book."""

    instrument: str
    base: str
    venue: str
    position: float = 0.0
    open_buy: float = 0.0
    open_sell: float = 0.0
    unit_value: float = 0.0  # report-currency value of one unit at the current price

    def extreme(self, side: int) -> float:
        """The worst-case position in the direction of ``side`` (+1 buy, -1 sell)."""
        if side > 0:
            return self.position + self.open_buy
        return self.open_sell - self.position

    def worst(self) -> float:
        """The worst-case absolute position (units, >= 0)."""
        return max(self.position + self.open_buy, self.open_sell - self.position, 0.0)


@dataclass(slots=True)
class Book:
    """A scope's positions and open orders, and the equity the percentages refer to."""

    exposures: dict[str, Exposure] = field(default_factory=dict)
    equity: float = 0.0
    day_pnl: float = 0.0
    day_start_equity: float = 0.0
    label: str = "global"

    def get(self, intent: Intent) -> Exposure:
        exposure = self.exposures.get(intent.instrument)
        if exposure is None:
            return Exposure(intent.instrument, intent.base, intent.venue)
        return exposure

    def group_worst_value(self, key: str, value: str | None, skip: str) -> float:
        """Sum of worst-case absolute exposure values, over instruments matching the group."""
        total = 0.0
        for exposure in self.exposures.values():
            if exposure.instrument == skip:
                continue
            if key == "base" and exposure.base != value:
                continue
            if key == "venue" and exposure.venue != value:
                continue
            total += exposure.worst() * exposure.unit_value
        return total


@dataclass(slots=True)
class Intent:
    """An order (or an order's increase) as the rules see it."""

    instrument: str
    base: str
    venue: str
    side: int  # +1 buy, -1 sell
    quantity: float
    unit_value: float  # report-currency value of one unit at the order's reference price
    strategy_id: str = ""


class MarketFacts(Protocol):
    def volatility(self, instrument: str, window: int) -> float | None:
        """Annualised realised volatility over ``window`` returns, or None if not known yet."""

    def mean_volume(self, instrument: str, window: int) -> float | None:
        """Mean bar volume over the last ``window`` bars, or None if not known."""

    def top_size(self, instrument: str, side: int) -> float | None:
        """The size at the touch an order on ``side`` would take, or None if not known."""


class NoMarketFacts:
    def volatility(self, instrument: str, window: int) -> float | None:
        return None

    def mean_volume(self, instrument: str, window: int) -> float | None:
        return None

    def top_size(self, instrument: str, side: int) -> float | None:
        return None


# The figures a rule's ``describe`` words its limit with; only formatted when an order is denied
# (a tuple costs a fraction of a closure on the per-order and per-bar paths).
Figures = tuple

_NONE: Figures = ()


@dataclass(frozen=True, slots=True)
class Denial:
    rule: str
    reason: str


def _side_name(side: int) -> str:
    return "BUY" if side > 0 else "SELL"


def _fmt(value: float) -> str:
    return f"{value:,.6g}"


class Rule:
    """A pre-trade rule: ``headroom`` is the largest quantity an order may have."""

    name = "rule"
    # True when the limit can tighten under an unchanged position (it depends on equity,
    # prices or volatility): a position within it may later be beyond it.
    shrinks = False

    def headroom(self, intent: Intent, book: Book, market: MarketFacts) -> tuple[float, Figures]:
        """
        (largest allowed quantity, the figures ``describe`` words the limit with) for
        ``intent`` against ``book``.
        """
        raise NotImplementedError

    def describe(self, *figures) -> str:
        """What the limit is, from the figures ``headroom`` returned with a finite quantity."""
        raise NotImplementedError

    def utilisation(self, intent: Intent, book: Book, market: MarketFacts) -> float | None:
        """
        For a limit that shrinks: the share of it the book's worst case on ``intent.side``
        uses (at most 1 while within), measured so that it grows no faster than the unit
        values of the book's instruments and shrinks no slower than equity (see
        ``WithinProof``); None when this limit has no such measure.
        """
        return None


class MaxPositionQty(Rule):
    name = "max_position"

    def __init__(self, limit: float | dict[str, float]) -> None:
        self.limit = limit

    def headroom(self, intent, book, market):
        limit = self.limit.get(intent.instrument) if isinstance(self.limit, dict) else self.limit
        if limit is None:
            return INF, _NONE
        extreme = book.get(intent).extreme(intent.side)
        return limit - extreme, (limit, extreme)

    def describe(self, limit, extreme):
        return f"position limit {_fmt(limit)} units, worst case now {_fmt(extreme)}"


class MaxPositionPct(Rule):
    name = "max_position"
    shrinks = True

    def __init__(self, fraction: float) -> None:
        self.fraction = fraction

    def headroom(self, intent, book, market):
        if intent.unit_value <= 0:
            return INF, _NONE
        limit = max(book.equity, 0.0) * self.fraction / intent.unit_value
        extreme = book.get(intent).extreme(intent.side)
        return limit - extreme, (limit, extreme)

    def utilisation(self, intent, book, market):
        cap = book.equity * self.fraction
        if cap <= 0:
            return None
        return max(book.get(intent).extreme(intent.side), 0.0) * intent.unit_value / cap

    def describe(self, limit, extreme):
        return (
            f"position limit {self.fraction:.2%} of equity = {_fmt(limit)} units, "
            f"worst case now {_fmt(extreme)}"
        )


class MaxOrderNotional(Rule):
    name = "max_order_notional"

    def __init__(self, notional: float) -> None:
        self.notional = notional

    def headroom(self, intent, book, market):
        if intent.unit_value <= 0:
            return INF, _NONE
        return self.notional / intent.unit_value, _NONE

    def describe(self):
        return f"order notional limit {_fmt(self.notional)}"


class _GroupExposure(Rule):
    """A cap on the summed worst-case exposure value of a group of instruments."""

    shrinks = True

    group = ""
    label = ""

    def __init__(self, fraction: float) -> None:
        self.fraction = fraction

    def _group_value(self, intent: Intent) -> str | None:
        return getattr(intent, self.group) if self.group else None

    def headroom(self, intent, book, market):
        if intent.unit_value <= 0:
            return INF, _NONE
        cap = max(book.equity, 0.0) * self.fraction
        value = self._group_value(intent)
        others = book.group_worst_value(self.group, value, skip=intent.instrument)
        exposure = book.get(intent)
        own_cap = (cap - others) / intent.unit_value
        figures = (value, cap, others, exposure, intent.unit_value)
        return max(own_cap, 0.0) - exposure.extreme(intent.side), figures

    def utilisation(self, intent, book, market):
        cap = book.equity * self.fraction
        if cap <= 0:
            return None
        others = book.group_worst_value(self.group, self._group_value(intent), intent.instrument)
        own = max(book.get(intent).extreme(intent.side), 0.0) * intent.unit_value
        return (own + others) / cap

    def describe(self, value, cap, others, exposure, unit_value):
        what = f"{self.label} {value}" if value else self.label
        now = exposure.worst() * unit_value
        return (
            f"{what} limit {self.fraction:.2%} of equity = {_fmt(cap)}, "
            f"others {_fmt(others)}, worst case now {_fmt(now)}"
        )


class AssetConcentration(_GroupExposure):
    name = "concentration"
    group = "base"
    label = "asset"


class VenueConcentration(_GroupExposure):
    name = "concentration"
    group = "venue"
    label = "venue"


class GrossLeverage(_GroupExposure):
    name = "gross_leverage"
    group = ""
    label = "gross exposure"


class Volatility(Rule):
    name = "volatility"

    def __init__(self, threshold: float, window: int, action: str, scale_pct: float) -> None:
        self.shrinks = action == "scale"
        self.threshold = threshold
        self.window = window
        self.action = action
        self.scale_pct = scale_pct

    def headroom(self, intent, book, market):
        vol = market.volatility(intent.instrument, self.window)
        if vol is None or vol <= self.threshold:
            return INF, _NONE
        if self.action == "block" or intent.unit_value <= 0:
            return 0.0, (vol, None)
        limit = max(book.equity, 0.0) * self.scale_pct * self.threshold / vol / intent.unit_value
        extreme = book.get(intent).extreme(intent.side)
        return limit - extreme, (vol, limit)

    def describe(self, vol, limit):
        what = f"realised volatility {vol:.1%} > {self.threshold:.1%}"
        if limit is None:
            return f"{what} (block)"
        return f"{what}: position scaled to {_fmt(limit)} units"


class VolumeLiquidity(Rule):
    name = "liquidity"

    def __init__(self, fraction: float, window: int) -> None:
        self.fraction = fraction
        self.window = window

    def headroom(self, intent, book, market):
        volume = market.mean_volume(intent.instrument, self.window)
        if volume is None:
            return INF, _NONE
        return self.fraction * volume, (volume,)

    def describe(self, volume):
        return f"{self.fraction:.2%} of mean volume {_fmt(volume)} over {self.window} bars"


class BookLiquidity(Rule):
    name = "liquidity"

    def __init__(self, fraction: float) -> None:
        self.fraction = fraction

    def headroom(self, intent, book, market):
        size = market.top_size(intent.instrument, intent.side)
        if size is None:
            return INF, _NONE
        return self.fraction * size, (size,)

    def describe(self, size):
        return f"{self.fraction:.2%} of top-of-book size {_fmt(size)}"


class DailyLoss(Rule):
    name = "daily_loss"

    def __init__(self, fraction: float) -> None:
        self.fraction = fraction

    def headroom(self, intent, book, market):
        if book.day_start_equity <= 0:
            return INF, _NONE
        loss = -book.day_pnl / book.day_start_equity
        if loss < self.fraction:
            return INF, _NONE
        return 0.0, (loss,)

    def describe(self, loss):
        return f"day's loss {loss:.2%} >= {self.fraction:.2%}"


def build_rules(limits: RiskLimits) -> list[Rule]:
    """The rules a set of limits switches on, cheapest first."""
    rules: list[Rule] = []
    if limits.max_daily_loss is not None:
        rules.append(DailyLoss(limits.max_daily_loss))
    if limits.max_order_notional is not None:
        rules.append(MaxOrderNotional(limits.max_order_notional))
    if limits.max_position_qty is not None:
        rules.append(MaxPositionQty(limits.max_position_qty))
    if limits.max_position_pct is not None:
        rules.append(MaxPositionPct(limits.max_position_pct))
    if limits.max_volume_fraction is not None:
        rules.append(VolumeLiquidity(limits.max_volume_fraction, limits.liquidity_window))
    if limits.max_book_fraction is not None:
        rules.append(BookLiquidity(limits.max_book_fraction))
    if limits.max_volatility is not None:
        rules.append(
            Volatility(
                limits.max_volatility,
                limits.volatility_window,
                limits.volatility_action,
                limits.volatility_scale_pct,
            ),
        )
    if limits.max_asset_pct is not None:
        rules.append(AssetConcentration(limits.max_asset_pct))
    if limits.max_venue_pct is not None:
        rules.append(VenueConcentration(limits.max_venue_pct))
    if limits.max_gross_leverage is not None:
        rules.append(GrossLeverage(limits.max_gross_leverage))
    return rules


class RuleSet:
    """The rules of one scope (global, or one strategy)."""

    def __init__(self, limits: RiskLimits) -> None:
        self.limits = limits
        self.rules = build_rules(limits)
        self.shrinking = [rule for rule in self.rules if rule.shrinks]

    def __bool__(self) -> bool:
        return bool(self.rules)

    def check(self, intent: Intent, book: Book, market: MarketFacts) -> Denial | None:
        """None when ``intent`` passes every rule, else the first rule that denies it."""
        reducible = max(0.0, -book.get(intent).extreme(intent.side))
        quantity = intent.quantity
        if quantity <= reducible:  # a pure reduction: never denied
            return None
        for rule in self.rules:
            allowed, figures = rule.headroom(intent, book, market)
            if quantity > max(allowed, reducible) * (1 + _REL_TOL) + _ABS_TOL:
                return Denial(
                    rule.name,
                    f"{rule.name} [{book.label}]: {intent.instrument} {_side_name(intent.side)} "
                    f"{_fmt(quantity)} > allowed {_fmt(max(allowed, reducible, 0.0))} "
                    f"({rule.describe(*figures)})",
                )
        return None

    def headroom(
        self,
        intent: Intent,
        book: Book,
        market: MarketFacts,
        clamp: bool = True,
        shrinking_only: bool = False,
    ) -> float:
        """
        The largest quantity on ``intent.side`` every rule allows (>= 0). With
        ``clamp=False`` the tightest rule's raw answer: negative when the book is already
        beyond a limit in that direction, by that many units. ``shrinking_only`` asks only
        the limits that can tighten by themselves (is a position now beyond a limit?).
        """
        allowed = INF
        for rule in self.shrinking if shrinking_only else self.rules:
            allowed = min(allowed, rule.headroom(intent, book, market)[0])
        if not clamp:
            return allowed
        reducible = max(0.0, -book.get(intent).extreme(intent.side))
        return max(allowed, reducible, 0.0)


def within_proof(
    scopes: list[tuple[RuleSet, Book]], intent: Intent, market: MarketFacts
) -> WithinProof | None:
    """
    A ``WithinProof`` that ``intent``'s side of each scope's book is within every shrinking
    limit of its rules, or None when one is (nearly) reached or cannot be proven this way.
    """
    used = 0.0
    for rules, book in scopes:
        for rule in rules.shrinking:
            share = rule.utilisation(intent, book, market)
            if share is None:
                return None
            used = max(used, share)
    return WithinProof.of(used, intent, [book for _, book in scopes])


@dataclass(frozen=True, slots=True)
class WithinProof:
    """
    A position within every shrinking limit stays within while prices and equity move, as long
    as ``utilisation * (largest rise of a unit value) * (equity then / equity now) <= 1``.

    Every shrinking limit compares a sum of worst-case positions times unit values with a
    share of equity. While the positions and open orders stay as they were (the proof is only
    used for an unchanged book), each term of the sum grows at most by the largest ratio of a
    unit value now to its value then, and the limit moves with equity.
    """

    utilisation: float
    equity: float
    unit_values: tuple[tuple[str, float], ...]  # every instrument of the books, then

    @staticmethod
    def of(utilisation: float, intent: Intent, books: list[Book]) -> WithinProof | None:
        if utilisation >= _PROVABLE or not books or books[0].equity <= 0 or intent.unit_value <= 0:
            return None
        unit_values = {intent.instrument: intent.unit_value}
        for book in books:
            for key, exposure in book.exposures.items():
                if exposure.unit_value <= 0:
                    return None
                unit_values[key] = exposure.unit_value
        return WithinProof(utilisation, books[0].equity, tuple(unit_values.items()))

    def holds(self, equity: float, unit_value) -> bool:
        """Still within at ``equity`` and the unit values ``unit_value(key)`` gives now."""
        if equity <= 0:
            return False
        rise = 0.0
        for key, then in self.unit_values:
            now = unit_value(key)
            if now is None:
                return False
            if now > rise * then:
                rise = now / then
        return self.utilisation * rise * self.equity / equity < _PROVABLE
