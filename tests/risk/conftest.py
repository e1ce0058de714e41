import pytest

from seraphim.adapters.kraken.ingest import ingest_kraken_ohlcvt
from seraphim.catalog.store import SeraphimCatalog


@pytest.fixture(scope="session")
def real_btc_catalog(tmp_path_factory, shared_data):
    """The real Kraken hourly BTC/USD history."""
    catalog = SeraphimCatalog(tmp_path_factory.mktemp("real_btc"))
    ingest_kraken_ohlcvt(catalog, shared_data / "kraken/ohlcvt/XBTUSD_60.csv", "BTC/USD", 60)
    return catalog
