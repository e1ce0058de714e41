"""Each pre-trade rule on hand-built books: what it allows, what it denies, and why."""

import math

import pytest

from seraphim.risk.config import RiskLimits
from seraphim.risk.rules import Book
from seraphim.risk.rules import Exposure
from seraphim.risk.rules import Intent
from seraphim.risk.rules import NoMarketFacts
from seraphim.risk.rules import RuleSet

BTC = ("BTC/USD.KRAKEN", "BTC", "KRAKEN")
ETH = ("ETH/USD.KRAKEN", "ETH", "KRAKEN")
BTC_ALT = ("BTC/USD.ALT", "BTC", "ALT")


def book(*exposures, equity=100_000.0, day_pnl=0.0) -> Book:
    return Book({e.instrument: e for e in exposures}, equity, day_pnl, equity - day_pnl)


def exposure(which, position=0.0, buy=0.0, sell=0.0, value=50_000.0) -> Exposure:
    return Exposure(*which, position=position, open_buy=buy, open_sell=sell, unit_value=value)


def intent(which, side, quantity, value=50_000.0) -> Intent:
    return Intent(*which, side=side, quantity=quantity, unit_value=value)


class Facts(NoMarketFacts):
    def __init__(self, vol=None, volume=None, top=None):
        self.vol, self.volume, self.top = vol, volume, top

    def volatility(self, instrument, window):
        return self.vol

    def mean_volume(self, instrument, window):
        return self.volume

    def top_size(self, instrument, side):
        return self.top


def check(limits, order, state, facts=None):
    return RuleSet(RiskLimits(**limits)).check(order, state, facts or NoMarketFacts())


def test_max_position_counts_open_orders_in_the_orders_direction():
    state = book(exposure(BTC, position=0.5, buy=0.3, sell=2.0))
    limits = {"max_position_qty": 1.0}
    assert check(limits, intent(BTC, +1, 0.2), state) is None  # 0.5 + 0.3 + 0.2 = 1.0
    denial = check(limits, intent(BTC, +1, 0.21), state)
    assert denial.rule == "max_position"
    assert "allowed 0.2" in denial.reason and "BTC/USD.KRAKEN BUY 0.21" in denial.reason
    # Selling: worst case short is 2.0 - 0.5 = 1.5 already over the limit, so no more selling
    assert check(limits, intent(BTC, -1, 0.01), state).rule == "max_position"


def test_a_pure_reduction_always_passes_even_beyond_every_limit():
    state = book(exposure(BTC, position=5.0), equity=1.0, day_pnl=-1e9)
    limits = {
        "max_position_qty": 1.0,
        "max_order_notional": 1.0,
        "max_daily_loss": 0.01,
        "max_gross_leverage": 0.1,
        "max_volume_fraction": 0.0001,
    }
    facts = Facts(volume=1.0)
    assert check(limits, intent(BTC, -1, 5.0), state, facts) is None
    assert check(limits, intent(BTC, -1, 5.1), state, facts) is not None  # crosses zero
    assert check(limits, intent(BTC, +1, 0.001), state, facts) is not None


def test_flip_is_limited_on_the_far_side():
    state = book(exposure(BTC, position=-3.0))
    assert check({"max_position_qty": 1.0}, intent(BTC, +1, 4.0), state) is None  # ends +1
    assert check({"max_position_qty": 1.0}, intent(BTC, +1, 4.01), state) is not None


def test_per_instrument_position_limits():
    state = book(exposure(BTC), exposure(ETH))
    limits = {"max_position_qty": {"ETH/USD.KRAKEN": 10.0}}
    assert check(limits, intent(BTC, +1, 1000.0), state) is None  # BTC unlimited
    assert check(limits, intent(ETH, +1, 10.5), state).rule == "max_position"


def test_position_as_a_fraction_of_equity():
    state = book(exposure(BTC, position=0.5), equity=100_000.0)  # 25 % already
    limits = {"max_position_pct": 0.5}
    assert check(limits, intent(BTC, +1, 0.5), state) is None  # -> 50 %
    assert check(limits, intent(BTC, +1, 0.51), state).rule == "max_position"


def test_order_notional():
    assert check({"max_order_notional": 10_000}, intent(BTC, +1, 0.2), book()) is None
    denial = check({"max_order_notional": 10_000}, intent(BTC, +1, 0.21), book())
    assert denial.rule == "max_order_notional"


def test_asset_concentration_sums_the_asset_over_venues():
    state = book(exposure(BTC, position=0.6), exposure(BTC_ALT, position=-0.2), exposure(ETH))
    limits = {"max_asset_pct": 0.5}  # 50 000 of BTC; 40 000 held (gross: 30 000 + 10 000)
    assert check(limits, intent(BTC, +1, 0.2), state) is None
    denial = check(limits, intent(BTC, +1, 0.21), state)
    assert denial.rule == "concentration" and "asset BTC" in denial.reason
    assert check(limits, intent(ETH, +1, 1.0), state) is None  # another asset


def test_venue_concentration_and_gross_leverage():
    state = book(exposure(BTC, position=1.0), exposure(ETH, position=-1.0, value=10_000.0))
    # KRAKEN gross: 50 000 + 10 000 = 60 000 of 100 000 equity
    assert check({"max_venue_pct": 0.7}, intent(BTC_ALT, +1, 1.0), state) is None
    assert check({"max_venue_pct": 0.7}, intent(BTC, +1, 0.2), state) is None
    assert check({"max_venue_pct": 0.7}, intent(BTC, +1, 0.21), state).rule == "concentration"
    assert check({"max_gross_leverage": 1.1}, intent(BTC_ALT, +1, 1.0), state) is None
    assert check({"max_gross_leverage": 1.1}, intent(BTC_ALT, +1, 1.01), state).rule == (
        "gross_leverage"
    )


def test_volatility_block_and_scale():
    calm, wild = Facts(vol=0.5), Facts(vol=2.0)
    block = {"max_volatility": 1.0}
    assert check(block, intent(BTC, +1, 1.0), book(), calm) is None
    assert check(block, intent(BTC, +1, 0.001), book(), wild).rule == "volatility"
    scale = {"max_volatility": 1.0, "volatility_action": "scale", "volatility_scale_pct": 1.0}
    # 100 % of equity scaled by 1.0 / 2.0 -> 50 000 -> 1 BTC at 50 000
    assert check(scale, intent(BTC, +1, 1.0), book(), wild) is None
    assert check(scale, intent(BTC, +1, 1.01), book(), wild).rule == "volatility"
    assert RuleSet(RiskLimits(**scale)).headroom(intent(BTC, +1, 0), book(), wild) == 1.0


def test_liquidity_against_volume_and_book():
    facts = Facts(volume=40.0, top=3.0)
    assert check({"max_volume_fraction": 0.05}, intent(BTC, +1, 2.0), book(), facts) is None
    assert check({"max_volume_fraction": 0.05}, intent(BTC, +1, 2.1), book(), facts).rule == (
        "liquidity"
    )
    assert check({"max_book_fraction": 0.5}, intent(BTC, +1, 1.6), book(), facts) is not None
    assert check({"max_book_fraction": 0.5}, intent(BTC, +1, 1.6), book(), Facts()) is None


def test_daily_loss():
    assert check({"max_daily_loss": 0.02}, intent(BTC, +1, 1.0), book(day_pnl=-1_999)) is None
    denial = check({"max_daily_loss": 0.02}, intent(BTC, +1, 1.0), book(day_pnl=-2_100))
    assert denial.rule == "daily_loss" and "2.06%" in denial.reason


def test_headroom_is_the_smallest_rule_and_never_negative():
    rules = RuleSet(RiskLimits(max_position_qty=2.0, max_order_notional=25_000))
    state = book(exposure(BTC, position=1.5))
    assert rules.headroom(intent(BTC, +1, 0), state, NoMarketFacts()) == pytest.approx(0.5)
    assert rules.headroom(intent(BTC, -1, 0), state, NoMarketFacts()) == pytest.approx(1.5)
    over = book(exposure(BTC, position=3.0))
    assert rules.headroom(intent(BTC, +1, 0), over, NoMarketFacts()) == 0.0
    assert math.isinf(RuleSet(RiskLimits()).headroom(intent(BTC, +1, 0), over, NoMarketFacts()))


def test_limits_are_validated():
    with pytest.raises(ValueError, match="max_position_pct must be >= 0"):
        RiskLimits(max_position_pct=-0.1).validate()
    with pytest.raises(ValueError, match="limits must be >= 0"):
        RiskLimits(max_position_qty={"BTC/USD.KRAKEN": -1.0}).validate()
