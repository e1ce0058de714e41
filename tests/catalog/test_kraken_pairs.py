from decimal import Decimal

import pytest

from seraphim.adapters.kraken.common.pairs import find_pair
from seraphim.adapters.kraken.common.pairs import instrument_for
from seraphim.adapters.kraken.common.pairs import load_asset_pairs
from seraphim.adapters.kraken.common.pairs import normalize_asset
from seraphim.adapters.kraken.common.pairs import parse_asset_pairs


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("XXBT", "BTC"),
        ("XBT", "BTC"),
        ("ZUSD", "USD"),
        ("XXDG", "DOGE"),
        ("XDG", "DOGE"),
        ("XETH", "ETH"),
        ("USDT", "USDT"),
        ("XBT.F", "BTC"),
        ("ETH.HOLD", "ETH"),
        ("SOL", "SOL"),
    ],
)
def test_normalize_asset(code, expected):
    assert normalize_asset(code) == expected


def test_btc_usd_instrument_matches_kraken_spec():
    instrument = instrument_for("BTC/USD")
    assert str(instrument.id) == "BTC/USD.KRAKEN"
    assert instrument.price_precision == 1
    assert str(instrument.price_increment) == "0.1"
    assert instrument.size_precision == 8
    assert str(instrument.min_quantity) == "0.00005"
    assert instrument.min_notional.as_decimal() == Decimal("0.5")
    assert instrument.maker_fee == Decimal("0.0025")
    assert instrument.taker_fee == Decimal("0.004")
    assert instrument.info["kraken_pair"] == "XXBTZUSD"


@pytest.mark.parametrize("name", ["BTC/USD", "XBT/USD", "XBTUSD", "XXBTZUSD", "btc/usd"])
def test_find_pair_by_any_name(name):
    key, pair = find_pair(load_asset_pairs(), name)
    assert key == "XXBTZUSD"
    assert pair.symbol == "BTC/USD"


def test_doge_is_xdg():
    assert str(instrument_for("DOGE/USD").id) == "DOGE/USD.KRAKEN"


def test_unknown_pair_is_named():
    with pytest.raises(KeyError, match="NOPE/USD"):
        instrument_for("NOPE/USD")


def test_fee_tiers_fall_with_volume():
    _, pair = find_pair(load_asset_pairs(), "BTC/USD")
    assert pair.fee_rates(0) == (Decimal("0.0025"), Decimal("0.004"))
    assert pair.fee_rates(60_000) == (Decimal("0.0014"), Decimal("0.0024"))


def test_recorded_asset_pairs_response(shared_data):
    pairs = parse_asset_pairs((shared_data / "kraken/rest/asset_pairs.json").read_bytes())
    key, pair = find_pair(pairs, "BTC/USDT")
    assert key == "XBTUSDT"
    instrument = instrument_for("XBTUSDT", shared_data / "kraken/rest/asset_pairs.json")
    assert str(instrument.id) == "BTC/USDT.KRAKEN"
    assert instrument.price_precision == pair.pair_decimals == 1


def test_error_response_is_rejected():
    with pytest.raises(ValueError, match="EGeneral:Invalid arguments"):
        parse_asset_pairs(b'{"error": ["EGeneral:Invalid arguments"], "result": {}}')
