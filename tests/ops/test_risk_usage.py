"""Each limit's usage from a book, measured as the rules measure it (worst-case exposures)."""

from __future__ import annotations

import pytest

from seraphim.risk.config import GuardConfig
from seraphim.risk.config import RiskLimits
from seraphim.risk.rules import Book
from seraphim.risk.rules import Exposure
from seraphim.risk.usage import guard_usage
from seraphim.risk.usage import most_used
from seraphim.risk.usage import scope_usage


def no_volatility(instrument: str, window: int) -> None:
    return None


def book(equity: float = 100_000.0, day_pnl: float = 0.0) -> Book:
    btc = Exposure(
        "BTC/USD.KRAKEN", "BTC", "KRAKEN", position=0.5, open_sell=1.5, unit_value=60_000
    )
    eth = Exposure("ETH/USD.KRAKEN", "ETH", "KRAKEN", position=2.0, open_buy=1.0, unit_value=3_000)
    exposures = {e.instrument: e for e in (btc, eth)}
    return Book(exposures, equity, day_pnl, day_start_equity=100_000.0)


def by_rule(rows: list[dict]) -> dict:
    return {(r["rule"], r["subject"]): (r["limit"], r["usage"]) for r in rows}


def test_each_limit_reports_its_worst_case_usage_in_its_own_unit() -> None:
    limits = RiskLimits(
        max_position_qty={"BTC/USD.KRAKEN": 2.0, "SOL/USD.KRAKEN": 10.0},
        max_position_pct=0.5,
        max_order_notional=5_000,
        max_asset_pct=0.6,
        max_venue_pct=1.0,
        max_gross_leverage=3.0,
        max_daily_loss=0.05,
        max_volatility=1.5,
        max_book_fraction=0.1,
    )
    rows = scope_usage("global", limits, book(day_pnl=-2_000.0), 1_234.5, lambda i, w: 0.8)
    # BTC worst case: the open sell takes the 0.5 long to -1.0 -> 1 unit = 60k; ETH: 3 units, 9k.
    assert by_rule(rows) == {
        ("max_position_qty", "BTC/USD.KRAKEN"): (2.0, 1.0),
        ("max_position_qty", "SOL/USD.KRAKEN"): (10.0, 0.0),
        ("max_position_pct", "BTC/USD.KRAKEN"): (0.5, 0.6),
        ("max_order_notional", ""): (5_000, 1_234.5),
        ("max_asset_pct", "BTC"): (0.6, 0.6),
        ("max_venue_pct", "KRAKEN"): (1.0, 0.69),
        ("max_gross_leverage", ""): (3.0, 0.69),
        ("max_daily_loss", ""): (0.05, 0.02),
        ("max_volatility", "BTC/USD.KRAKEN"): (1.5, 0.8),
        ("max_book_fraction", ""): (0.1, None),  # a per-order rule: no standing usage
    }
    assert {r["scope"] for r in rows} == {"global"}


def test_unknown_equity_or_volatility_is_no_usage_not_zero() -> None:
    limits = RiskLimits(max_position_pct=0.5, max_volatility=1.0, max_daily_loss=0.1)
    rows = scope_usage("S-1", limits, book(equity=0.0, day_pnl=500.0), 0.0, no_volatility)
    assert by_rule(rows) == {
        ("max_position_pct", "BTC/USD.KRAKEN"): (0.5, None),
        ("max_volatility", ""): (1.0, None),
        ("max_daily_loss", ""): (0.1, 0.0),  # a gain is no loss
    }


def test_the_default_limits_show_the_strategy_that_uses_the_most() -> None:
    limits = RiskLimits(max_position_qty=5.0, max_order_notional=1_000)
    small = Book({"X.V": Exposure("X.V", "X", "V", position=1.0, unit_value=1.0)}, 10.0)
    large = Book({"X.V": Exposure("X.V", "X", "V", position=-3.0, unit_value=1.0)}, 10.0)
    rows = most_used(
        [
            scope_usage("A-1", limits, small, 900.0, no_volatility),
            scope_usage("B-1", limits, large, 100.0, no_volatility),
        ]
    )
    assert {(r["scope"], r["rule"], r["usage"]) for r in rows} == {
        ("B-1", "max_position_qty", 3.0),
        ("A-1", "max_order_notional", 900.0),
    }


def test_the_guard_thresholds_against_drawdown_and_the_days_loss() -> None:
    config = GuardConfig(max_drawdown=0.1, max_daily_loss=0.05)
    rows = guard_usage(config, equity=95_000.0, peak=100_000.0, day_start=90_000.0)
    assert by_rule(rows) == {
        ("max_drawdown", ""): (0.1, pytest.approx(0.05)),
        ("max_daily_loss", ""): (0.05, 0.0),
    }
    assert [r["usage"] for r in guard_usage(config, None, None, None)] == [None, None]
