import json

import pytest
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AggressorSide

from seraphim.adapters.kraken.ingest import ingest_kraken_rest
from seraphim.catalog.errors import MalformedInputError
from seraphim.catalog.store import SeraphimCatalog


@pytest.fixture
def pairs_file(shared_data):
    return shared_data / "kraken/rest/asset_pairs.json"


def test_ohlc_drops_the_uncommitted_candle(tmp_path, shared_data, pairs_file):
    path = shared_data / "kraken/rest/ohlc.json"
    body = json.loads(path.read_text())["result"]
    rows, last = body["XBTUSDT"], body["last"]
    assert rows[-1][0] > last  # the recording ends with the forming candle
    catalog = SeraphimCatalog(tmp_path)
    result = ingest_kraken_rest(catalog, path, asset_pairs_file=pairs_file)
    bar_type = "BTC/USDT.KRAKEN-1-MINUTE-LAST-EXTERNAL"
    assert result.series[bar_type] == (0, len(rows) - 1)
    bars = catalog.nautilus.query(Bar, identifiers=[bar_type])
    assert bars[-1].ts_event == (last + 60) * 1_000_000_000
    assert str(bars[-1].close) == str(round(float(rows[-2][4]), 1))


def test_trades_become_trade_ticks(tmp_path, shared_data, pairs_file):
    path = shared_data / "kraken/rest/trades.json"
    rows = json.loads(path.read_text())["result"]["XBTUSDT"]
    catalog = SeraphimCatalog(tmp_path)
    ingest_kraken_rest(catalog, path, asset_pairs_file=pairs_file)
    again = ingest_kraken_rest(catalog, path, asset_pairs_file=pairs_file)
    assert again.series["BTC/USDT.KRAKEN"] == (1000, 1000)
    ticks = catalog.nautilus.query(TradeTick, identifiers=["BTC/USDT.KRAKEN"])
    assert len(ticks) == len(rows) == 1000
    first = ticks[0]
    assert first.trade_id.value == str(rows[0][6])
    assert first.aggressor_side == (
        AggressorSide.BUYER if rows[0][3] == "b" else AggressorSide.SELLER
    )
    assert first.ts_event == round(rows[0][2] * 1_000_000) * 1000


def test_error_response_and_garbage_are_rejected(tmp_path):
    catalog = SeraphimCatalog(tmp_path / "cat")
    errored = tmp_path / "err.json"
    errored.write_text('{"error": ["EQuery:Unknown asset pair"], "result": {}}')
    with pytest.raises(MalformedInputError, match="EQuery:Unknown asset pair"):
        ingest_kraken_rest(catalog, errored)
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    with pytest.raises(MalformedInputError, match=r"garbage\.json:1: not JSON"):
        ingest_kraken_rest(catalog, garbage)
    bad_side = tmp_path / "trades.json"
    bad_side.write_text(
        json.dumps(
            {
                "error": [],
                "result": {"XXBTZUSD": [["100.0", "1.0", 1.5, "x", "m", "", 1]], "last": "1"},
            },
        ),
    )
    with pytest.raises(MalformedInputError, match="trade row 0"):
        ingest_kraken_rest(catalog, bad_side)
    assert not (tmp_path / "cat" / "data").exists()
