"""Kraken's fee tiers in backtests: the 30-day volume counts what the venue counts."""

from __future__ import annotations

from decimal import Decimal

from nautilus_trader.common.component import TestClock
from nautilus_trader.common.factories import OrderFactory
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.test_kit.stubs.identifiers import TestIdStubs

from seraphim.adapters.kraken.common.pairs import find_pair
from seraphim.adapters.kraken.common.pairs import instrument_for
from seraphim.adapters.kraken.common.pairs import load_asset_pairs
from seraphim.backtest.fees import KrakenFeeModel
from seraphim.backtest.fees import KrakenFeeModelConfig

BTC = instrument_for("BTC/USD")
_, PAIR = find_pair(load_asset_pairs(), "BTC/USD")
TAKER_0 = BTC.taker_fee  # the first tier's taker rate


def _order(ts: int):
    clock = TestClock()
    clock.set_time(ts)
    factory = OrderFactory(TestIdStubs.trader_id(), TestIdStubs.strategy_id(), clock)
    return factory.market(BTC.id, OrderSide.BUY, Quantity.from_str("1.00000000"))  # taker


def _fee(model: KrakenFeeModel, ts: int, qty: str, px: str) -> Decimal:
    order = _order(ts)
    money = model.get_commission(order, Quantity.from_str(qty), Price.from_str(px), BTC)
    return money.as_decimal()


def test_a_fill_just_below_a_tier_does_not_reach_it() -> None:
    model = KrakenFeeModel(KrakenFeeModelConfig())
    # 0.99999996 BTC at 50,000.0 = 49,999.998 USD: rounded to the cent it would be 50,000.
    _fee(model, 1, "0.99999996", "50000.0")
    taker = model.rates(BTC, 2)[1]
    assert taker == PAIR.fee_rates(49_999.998)[1] > PAIR.fee_rates(50_000)[1]


def test_fills_of_the_same_moment_count_from_the_next_one() -> None:
    model = KrakenFeeModel(KrakenFeeModelConfig())
    _fee(model, 1, "1.00000000", "60000.0")  # 60k: past the 50k tier
    assert model.rates(BTC, 1)[1] == TAKER_0  # a second fill at the same moment: first tier
    assert model.rates(BTC, 2)[1] < TAKER_0  # from the next moment on: the lower tier
