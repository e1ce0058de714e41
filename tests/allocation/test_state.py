"""The allocator's saved state (a node restarted with its state in Redis) comes back whole."""

from decimal import Decimal

import numpy as np
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import StrategyId

from seraphim.allocation.actor import STATE_KEY
from seraphim.allocation.actor import PortfolioAllocator
from seraphim.allocation.config import PortfolioAllocatorConfig
from seraphim.allocation.config import PortfolioSpec

BTC = InstrumentId.from_str("BTC/USD.KRAKEN")
IDS = ["MACross-000", "Momentum-001"]


def allocator(ids=IDS) -> PortfolioAllocator:
    spec = PortfolioSpec(scheme="risk_parity", lookback=4, min_history=2)
    return PortfolioAllocator(
        PortfolioAllocatorConfig(portfolio=spec, strategy_ids=ids, venues=["KRAKEN"])
    )


def running() -> PortfolioAllocator:
    before = allocator()
    book = before.books[StrategyId("MACross-000")]
    book.assign(60_000.0, 0.0)
    book.apply_fill(BTC, Decimal("0.12345678"), 0.12345678 * 40_000 + 9.87)
    before.books[StrategyId("Momentum-001")].assign(40_000.0, 0.0)
    before.weights = np.array([0.6, 0.4])
    for ts in range(1, 7):  # more samples than the window keeps
        before.window.append((ts, np.array([0.001 * ts, -0.002 * ts])))
    before._ts = 6  # it has seen bars (nothing to save before that)
    return before


def test_books_weights_and_window_survive_a_restart():
    before = running()
    state = before.on_save()
    assert list(state) == [STATE_KEY]
    after = allocator()
    after.on_load(state)
    assert after.books == before.books
    assert after.books[StrategyId("MACross-000")].quantities[BTC] == Decimal("0.12345678")
    np.testing.assert_array_equal(after.weights, [0.6, 0.4])
    assert [ts for ts, _ in after.window] == [3, 4, 5, 6]
    for (_, a), (_, b) in zip(after.window, before.window, strict=True):
        np.testing.assert_array_equal(a, b)
    assert after._restored  # its first bar carries on instead of allocating afresh


def test_state_of_other_strategies_is_ignored():
    other = allocator(["MACross-000", "Bollinger-001"])
    other.on_load(running().on_save())
    assert not other._restored
    assert all(book.base == 0 for book in other.books.values())


def test_nothing_saved_before_the_first_bar():
    assert allocator().on_save() == {}
    fresh = allocator()
    fresh.on_load({})
    assert not fresh._restored
