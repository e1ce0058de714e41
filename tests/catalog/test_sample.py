import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from nautilus_trader.model.data import Bar

from seraphim.adapters.kraken.ingest import ingest_kraken_ohlcvt
from seraphim.adapters.kraken.ingest import sample_instruments
from seraphim.catalog.cli import catalog as catalog_cli
from seraphim.catalog.ingest import ingest_sample
from seraphim.catalog.quality import check_catalog
from seraphim.catalog.sample import SampleMarket
from seraphim.catalog.sample import sample_bars
from seraphim.catalog.sample import simulate_ohlcv
from seraphim.catalog.store import CatalogError
from seraphim.catalog.store import SeraphimCatalog
from seraphim.paths import REPO_ROOT


def test_same_seed_same_market_other_seed_other_market():
    a = simulate_ohlcv(SampleMarket(days=10, seed=3))
    b = simulate_ohlcv(SampleMarket(days=10, seed=3))
    c = simulate_ohlcv(SampleMarket(days=10, seed=4))
    pd.testing.assert_frame_equal(a["BTC/USD"], b["BTC/USD"])
    assert not a["BTC/USD"]["close"].equals(c["BTC/USD"]["close"])


def test_model_properties():
    frames = simulate_ohlcv(SampleMarket(days=365, seed=7))
    btc, eth = frames["BTC/USD"], frames["ETH/USD"]
    assert len(btc) == 365 * 24
    assert (btc["high"] >= btc[["open", "close"]].max(axis=1)).all()
    assert (btc["low"] <= btc[["open", "close"]].min(axis=1)).all()
    assert (btc["open"].iloc[1:].to_numpy() == btc["close"].iloc[:-1].to_numpy()).all()
    r_btc, r_eth = np.log(btc["close"]).diff().dropna(), np.log(eth["close"]).diff().dropna()
    assert 0.35 < r_btc.std() * np.sqrt(8760) < 0.8  # near the 55% annual volatility
    assert np.corrcoef(r_btc, r_eth)[0, 1] > 0.4  # the assets move together
    # Volatility clustering: absolute returns are autocorrelated (GARCH), unlike plain GBM.
    assert r_btc.abs().autocorr(lag=1) > 0.05


def test_embedded_catalog_is_the_default_sample(tmp_path):
    catalog = SeraphimCatalog(tmp_path)
    market = SampleMarket()
    ingest_sample(catalog, market, sample_instruments(market))
    embedded = SeraphimCatalog(REPO_ROOT / "catalog")
    for bar_type in ("BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL", "ETH/USD.KRAKEN-1-HOUR-LAST-EXTERNAL"):
        fresh = catalog.nautilus.query(Bar, identifiers=[bar_type])
        shipped = embedded.nautilus.query(Bar, identifiers=[bar_type])
        assert fresh == shipped
        assert embedded.is_synthetic(bar_type)
    assert all(not r.has_errors for r in check_catalog(embedded))


def test_sample_bars_are_the_bars_the_catalog_holds(tmp_path):
    market = SampleMarket(days=3)
    catalog = SeraphimCatalog(tmp_path)
    instruments = sample_instruments(market)
    ingest_sample(catalog, market, instruments)
    for instrument, bars in sample_bars(market, instruments).items():
        assert all(type(bar) is Bar for bar in bars)  # nautilus's engine takes only these
        bar_type = str(bars[0].bar_type)
        assert bar_type == f"{instrument.id}-1-HOUR-LAST-EXTERNAL"
        assert bars == catalog.nautilus.query(Bar, identifiers=[bar_type])
        assert len(bars) == 3 * 24


def test_sample_is_labelled_synthetic_in_list(tmp_path):
    runner = CliRunner()
    result = runner.invoke(catalog_cli, ["sample", "--days", "5", "--catalog", str(tmp_path)])
    assert result.exit_code == 0, result.output
    listing = runner.invoke(catalog_cli, ["list", "--catalog", str(tmp_path)])
    assert listing.output.count("SYNTHETIC") >= 4  # both instruments and both series


def test_real_and_synthetic_rows_never_mix(tmp_path):
    catalog = SeraphimCatalog(tmp_path)
    market = SampleMarket(days=2)
    ingest_sample(catalog, market, sample_instruments(market))
    real = tmp_path / "real.csv"
    real.write_text("1381093200,122.0,122.0,122.0,122.0,0.1,1\n")
    with pytest.raises(CatalogError, match="synthetic sample"):
        ingest_kraken_ohlcvt(catalog, real, "BTC/USD", 60)
    catalog.remove("BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL")
    ingest_kraken_ohlcvt(catalog, real, "BTC/USD", 60)
    assert not catalog.is_synthetic("BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL")
