"""The instrument provider: AssetPairs from the venue -> nautilus CurrencyPair."""

from __future__ import annotations

from decimal import Decimal

import pytest
from nautilus_trader.config import InstrumentProviderConfig
from nautilus_trader.model.identifiers import InstrumentId

from seraphim.adapters.kraken.common.errors import KrakenConfigError
from seraphim.adapters.kraken.providers import KrakenInstrumentProvider

from .helpers import run
from .helpers import sim_and_api

PAIRS = ["BTC/USD", "ETH/USD", "DOGE/USD", "XBTUSDT", "ETH/BTC"]


def test_load_all_maps_kraken_codes_and_trading_rules() -> None:
    async def body():
        async with sim_and_api(pairs=PAIRS) as (_sim, api):
            provider = KrakenInstrumentProvider(api)
            await provider.load_all_async()
            ids = sorted(str(i.id) for i in provider.list_all())
            assert ids == [
                "BTC/USD.KRAKEN",
                "BTC/USDT.KRAKEN",
                "DOGE/USD.KRAKEN",
                "ETH/BTC.KRAKEN",
                "ETH/USD.KRAKEN",
            ]
            btc = provider.find(InstrumentId.from_str("BTC/USD.KRAKEN"))
            assert btc.base_currency.code == "BTC" and btc.quote_currency.code == "USD"
            assert btc.price_precision == 1 and btc.size_precision == 8
            assert btc.price_increment.as_decimal() == Decimal("0.1")
            assert btc.min_quantity.as_decimal() == Decimal("0.00005")
            assert btc.min_notional.as_decimal() == Decimal("0.5")
            assert btc.maker_fee == Decimal("0.0025") and btc.taker_fee == Decimal("0.004")
            assert provider.pair_key(btc.id) == "XXBTZUSD"
            assert provider.instrument_id_for("XBTUSD") == btc.id
            assert provider.instrument_id_for("XBT/USD") == btc.id
            doge = provider.find(InstrumentId.from_str("DOGE/USD.KRAKEN"))
            assert doge.info["kraken_pair"] == "XDGUSD"
            assert provider.ws_symbol(doge.id) == "DOGE/USD"

    run(body())


def test_load_by_id_filters_and_unknown_pairs() -> None:
    async def body():
        async with sim_and_api(pairs=PAIRS) as (_sim, api):
            provider = KrakenInstrumentProvider(api, InstrumentProviderConfig())
            await provider.load_ids_async([InstrumentId.from_str("ETH/USD.KRAKEN")])
            assert [str(i.id) for i in provider.list_all()] == ["ETH/USD.KRAKEN"]
            with pytest.raises(KrakenConfigError, match="unknown Kraken pair 'FOO/BAR'"):
                await provider.load_async(InstrumentId.from_str("FOO/BAR.KRAKEN"))
            with pytest.raises(KrakenConfigError, match="not a KRAKEN instrument"):
                await provider.load_async(InstrumentId.from_str("BTC/USD.BINANCE"))

            filtered = KrakenInstrumentProvider(api)
            await filtered.load_all_async({"quote": "USD"})
            assert sorted(i.id.symbol.value for i in filtered.list_all()) == [
                "BTC/USD",
                "DOGE/USD",
                "ETH/USD",
            ]
            only = KrakenInstrumentProvider(api, pairs=["XBTUSD", "ETH/BTC"])
            await only.initialize()
            assert sorted(i.id.symbol.value for i in only.list_all()) == ["BTC/USD", "ETH/BTC"]
            with pytest.raises(KrakenConfigError, match="unknown Kraken pair"):
                await KrakenInstrumentProvider(api, pairs=["BTC/XYZ"]).load_all_async()

    run(body())
