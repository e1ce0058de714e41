import pytest

from seraphim.adapters.kraken.ingest import ingest_kraken_ohlcvt
from seraphim.catalog.store import SeraphimCatalog


@pytest.fixture(scope="session")
def real_catalog(tmp_path_factory, shared_data):
    """The real Kraken hourly BTC/USD and ETH/USD history, ingested once per session."""
    catalog = SeraphimCatalog(tmp_path_factory.mktemp("real_catalog"))
    ohlcvt = shared_data / "kraken/ohlcvt"
    ingest_kraken_ohlcvt(catalog, ohlcvt / "XBTUSD_60.csv", "BTC/USD", 60)
    ingest_kraken_ohlcvt(catalog, ohlcvt / "ETHUSD_60.csv", "ETH/USD", 60)
    return catalog
