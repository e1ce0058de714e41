"""
Property tests (hypothesis) of the rule chain and the guard.

For random order streams (market and resting limit orders from two strategies, partial fills,
cancels) over random price paths: no accepted order ever leaves a position or an exposure
beyond its configured limit (or, where prices alone have already pushed an exposure over its
limit, the order does not increase it); position limits, which do not depend on prices, hold at
every moment, fills included. And the guard trips exactly at the first sample where the
drawdown from the peak (or the day's loss) reaches its threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from seraphim.risk.config import GuardConfig
from seraphim.risk.config import RiskLimits
from seraphim.risk.guard import NANOS_PER_DAY
from seraphim.risk.guard import PortfolioGuard
from seraphim.risk.rules import Book
from seraphim.risk.rules import Exposure
from seraphim.risk.rules import Intent
from seraphim.risk.rules import NoMarketFacts
from seraphim.risk.rules import RuleSet
from seraphim.risk.rules import within_proof

INSTRUMENTS = [
    ("BTC/USD.KRAKEN", "BTC", "KRAKEN"),
    ("ETH/USD.KRAKEN", "ETH", "KRAKEN"),
    ("BTC/USD.ALT", "BTC", "ALT"),
]
STRATEGIES = ("S1", "S2")
TOL = 1e-6


@dataclass
class Order:
    strategy: str
    instrument: int
    side: int
    leaves: float


class Market:
    """Positions per strategy and instrument, resting orders, and prices."""

    def __init__(self, prices, equity):
        self.prices = list(prices)
        self.equity = equity
        self.positions = {(s, i): 0.0 for s in STRATEGIES for i in range(len(INSTRUMENTS))}
        self.orders: list[Order] = []

    def book(self, strategy: str | None) -> Book:
        exposures = {}
        for i, (name, base, venue) in enumerate(INSTRUMENTS):
            owners = STRATEGIES if strategy is None else (strategy,)
            position = sum(self.positions[(s, i)] for s in owners)
            buy = sum(
                o.leaves
                for o in self.orders
                if o.instrument == i and o.side > 0 and o.strategy in owners
            )
            sell = sum(
                o.leaves
                for o in self.orders
                if o.instrument == i and o.side < 0 and o.strategy in owners
            )
            exposures[name] = Exposure(name, base, venue, position, buy, sell, self.prices[i])
        return Book(exposures, self.equity, 0.0, self.equity, strategy or "global")

    def intent(self, order: Order, quantity: float) -> Intent:
        name, base, venue = INSTRUMENTS[order.instrument]
        return Intent(name, base, venue, order.side, quantity, self.prices[order.instrument])


def measures(book: Book, limits: RiskLimits, intent: Intent) -> dict[str, tuple[float, float]]:
    """(value, limit) of every exposure measure the order can move."""
    exposure = book.exposures[intent.instrument]
    out = {}
    if limits.max_position_qty is not None:
        out["qty"] = (exposure.extreme(intent.side), limits.max_position_qty)
    if limits.max_position_pct is not None:
        out["pct"] = (
            exposure.extreme(intent.side) * exposure.unit_value,
            limits.max_position_pct * book.equity,
        )
    for key, limit, match in (
        ("asset", limits.max_asset_pct, lambda e: e.base == intent.base),
        ("venue", limits.max_venue_pct, lambda e: e.venue == intent.venue),
        ("gross", limits.max_gross_leverage, lambda e: True),
    ):
        if limit is not None:
            total = sum(e.worst() * e.unit_value for e in book.exposures.values() if match(e))
            out[key] = (total, limit * book.equity)
    return out


limit_values = st.one_of(st.none(), st.floats(0.0, 3.0))
pct_values = st.one_of(st.none(), st.floats(0.0, 2.0))
events = st.lists(
    st.one_of(
        st.tuples(
            st.just("order"),
            st.sampled_from(STRATEGIES),
            st.integers(0, 2),
            st.sampled_from((1, -1)),
            st.floats(0.001, 5.0),
            st.booleans(),  # True: resting limit order
        ),
        # Adversarial: an order of exactly (or just over) what the rules say they allow.
        st.tuples(
            st.just("edge"),
            st.sampled_from(STRATEGIES),
            st.integers(0, 2),
            st.sampled_from((1, -1)),
            st.sampled_from((1.0, 1.0 + 1e-7, 0.5)),
            st.booleans(),
        ),
        st.tuples(st.just("fill"), st.integers(0, 50), st.floats(0.05, 1.0)),
        st.tuples(st.just("cancel"), st.integers(0, 50)),
        st.tuples(st.just("price"), st.integers(0, 2), st.floats(0.5, 2.0)),
    ),
    min_size=1,
    max_size=80,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    qty=limit_values,
    pct=pct_values,
    notional=st.one_of(st.none(), st.floats(100.0, 200_000.0)),
    asset=pct_values,
    venue=pct_values,
    gross=st.one_of(st.none(), st.floats(0.0, 3.0)),
    strategy_qty=limit_values,
    equity=st.floats(10_000.0, 500_000.0),
    stream=events,
)
def test_no_accepted_order_leaves_an_exposure_beyond_its_limit(
    qty, pct, notional, asset, venue, gross, strategy_qty, equity, stream
):
    global_limits = RiskLimits(
        max_position_qty=qty,
        max_position_pct=pct,
        max_order_notional=notional,
        max_asset_pct=asset,
        max_venue_pct=venue,
        max_gross_leverage=gross,
    )
    strategy_limits = RiskLimits(max_position_qty=strategy_qty, max_venue_pct=venue)
    global_rules, strategy_rules = RuleSet(global_limits), RuleSet(strategy_limits)
    market = Market([40_000.0, 2_000.0, 40_100.0], equity)
    facts = NoMarketFacts()
    for raw_event in stream:
        event, kind = raw_event, raw_event[0]
        if kind == "edge":
            _, strategy, instrument, side, factor, resting = event
            probe = market.intent(Order(strategy, instrument, side, 0.0), 0.0)
            allowed = min(
                global_rules.headroom(probe, market.book(None), facts),
                strategy_rules.headroom(probe, market.book(strategy), facts),
            )
            if not 0 < allowed < 1e9:
                continue
            event = ("order", strategy, instrument, side, allowed * factor, resting)
            kind = "order"
        if kind == "order":
            _, strategy, instrument, side, quantity, resting = event
            order = Order(strategy, instrument, side, quantity)
            intent = market.intent(order, quantity)
            books = {"global": market.book(None), strategy: market.book(strategy)}
            denial = global_rules.check(intent, books["global"], facts) or strategy_rules.check(
                intent, books[strategy], facts
            )
            if denial is not None:
                assert denial.rule in {
                    "max_position",
                    "max_order_notional",
                    "concentration",
                    "gross_leverage",
                }
                assert denial.reason.startswith(f"{denial.rule} [")
                continue
            pure_reduction = {
                scope: quantity <= max(0.0, -b.exposures[intent.instrument].extreme(side)) + TOL
                for scope, b in books.items()
            }
            before = {
                "global": measures(books["global"], global_limits, intent),
                strategy: measures(books[strategy], strategy_limits, intent),
            }
            if resting:
                market.orders.append(order)
            else:
                market.positions[(strategy, instrument)] += side * quantity
            after = {
                "global": measures(market.book(None), global_limits, intent),
                strategy: measures(market.book(strategy), strategy_limits, intent),
            }
            if notional is not None and not pure_reduction["global"]:
                assert quantity * intent.unit_value <= notional * (1 + 1e-9) + TOL
            for scope, scope_measures in after.items():
                for key, (value, limit) in scope_measures.items():
                    previous = before[scope][key][0]
                    assert value <= max(limit, previous) + TOL * max(1.0, limit), (
                        scope,
                        key,
                        value,
                        limit,
                        previous,
                    )
        elif kind == "fill" and market.orders:
            _, index, fraction = event
            order = market.orders[index % len(market.orders)]
            filled = order.leaves * fraction
            market.positions[(order.strategy, order.instrument)] += order.side * filled
            order.leaves -= filled
            if order.leaves <= 1e-12:
                market.orders.remove(order)
        elif kind == "cancel" and market.orders:
            market.orders.pop(event[1] % len(market.orders))
        elif kind == "price":
            market.prices[event[1]] *= event[2]
        # Quantity limits do not depend on prices: they hold at every moment, fills included.
        for i in range(len(INSTRUMENTS)):
            if qty is not None:
                total = sum(market.positions[(s, i)] for s in STRATEGIES)
                assert abs(total) <= qty + TOL
            if strategy_qty is not None:
                for s in STRATEGIES:
                    assert abs(market.positions[(s, i)]) <= strategy_qty + TOL


equity_paths = st.lists(st.floats(0.5, 2.0), min_size=2, max_size=200)


positions = st.floats(-5.0, 5.0).map(lambda q: round(q, 3))
resting = st.floats(0.0, 3.0).map(lambda q: round(q, 3))
moves = st.floats(0.5, 2.0)


@settings(max_examples=500, deadline=None)
@given(
    pct=pct_values,
    asset=pct_values,
    venue=pct_values,
    gross=st.one_of(st.none(), st.floats(0.05, 3.0)),
    held=st.lists(st.tuples(positions, resting, resting), min_size=3, max_size=3),
    instrument=st.integers(0, 2),
    equity=st.floats(10_000.0, 500_000.0),
    price_moves=st.lists(moves, min_size=3, max_size=3),
    equity_move=moves,
)
def test_a_within_proof_never_hides_a_breached_shrinking_limit(
    pct, asset, venue, gross, held, instrument, equity, price_moves, equity_move
):
    """Wherever a ``WithinProof`` still holds after prices and equity moved (same positions
    and orders), the exact answer is that the position is within every shrinking limit."""
    limits = RiskLimits(
        max_position_pct=pct, max_asset_pct=asset, max_venue_pct=venue, max_gross_leverage=gross
    )
    rules = RuleSet(limits)
    market = Market([40_000.0, 2_000.0, 40_100.0], equity)
    for i, (position, buy, sell) in enumerate(held):
        market.positions[("S1", i)] = position
        market.orders += [Order("S1", i, 1, buy), Order("S1", i, -1, sell)]
    side = 1 if held[instrument][0] >= 0 else -1
    facts = NoMarketFacts()
    probe = market.intent(Order("S1", instrument, side, 0.0), 0.0)
    proof = within_proof([(rules, market.book(None))], probe, facts)
    if proof is None:
        return
    assert rules.headroom(probe, market.book(None), facts, clamp=False, shrinking_only=True) >= 0
    market.prices = [p * m for p, m in zip(market.prices, price_moves, strict=True)]
    market.equity = equity * equity_move
    unit_values = dict(zip((name for name, _, _ in INSTRUMENTS), market.prices, strict=True))
    if proof.holds(market.equity, unit_values.get):
        moved = market.intent(Order("S1", instrument, side, 0.0), 0.0)
        exact = rules.headroom(moved, market.book(None), facts, clamp=False, shrinking_only=True)
        assert exact >= -TOL


@settings(max_examples=300, deadline=None)
@given(steps=equity_paths, threshold=st.floats(0.01, 0.6))
def test_guard_trips_exactly_when_the_drawdown_threshold_is_crossed(steps, threshold):
    equity = 100_000.0 * np.cumprod(steps)
    guard = PortfolioGuard(GuardConfig(max_drawdown=threshold))
    trips = [i for i, value in enumerate(equity) if guard.update(i * 60_000_000_000, value)]
    series = pd.Series(equity)
    crossed = series <= series.cummax() * (1 - threshold)
    expected = [int(crossed.idxmax())] if crossed.any() else []
    assert trips == expected
    if trips:
        assert guard.tripped_by == "max_drawdown" and guard.state == "HALTED"
        # A reset restarts the peak at the current equity: trading again until a new crossing.
        at = trips[0]
        guard.reset(at, equity[at])
        assert not guard.tripped and guard.peak == equity[at]


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(st.floats(0.7, 1.3), min_size=2, max_size=120),
    hours=st.integers(1, 12),
    threshold=st.floats(0.02, 0.3),
)
def test_guard_daily_loss_trips_at_the_first_crossing_and_clears_next_day(steps, hours, threshold):
    equity = 100_000.0 * np.cumprod(steps)
    frame = pd.DataFrame(
        {"equity": equity}, index=[i * hours * 3_600_000_000_000 for i in range(len(equity))]
    )
    frame["day"] = frame.index // NANOS_PER_DAY
    # A day starts at the last equity of the day before (the first sample starts day one).
    frame["start"] = frame["equity"].shift(1).where(frame["day"].diff() != 0)
    frame.iloc[0, frame.columns.get_loc("start")] = frame["equity"].iloc[0]
    frame["start"] = frame["start"].ffill()
    frame["crossed"] = frame["equity"] <= frame["start"] * (1 - threshold)
    expected = [
        int(g.index[g["crossed"]][0]) for _, g in frame.groupby("day") if g["crossed"].any()
    ]
    guard = PortfolioGuard(GuardConfig(max_daily_loss=threshold, action="REDUCING"))
    trips, resets = [], []
    for t, value in frame["equity"].items():
        for event in guard.update(int(t), float(value)):
            if event.kind == "trip":
                trips.append(int(t))
                assert event.state == "REDUCING" and event.rule == "max_daily_loss"
            else:
                assert event.kind == "daily_reset"
                resets.append(int(t))
    assert trips == expected
    # Every trip but one on the last day is cleared at the next day's first sample.
    days = frame["day"]
    assert resets == [int(days.index[days > days[t]][0]) for t in trips if (days > days[t]).any()]
