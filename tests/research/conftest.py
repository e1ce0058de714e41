from pathlib import Path

import pytest

from seraphim.adapters.kraken.ingest import ingest_kraken_ohlcvt
from seraphim.backtest.config import parse_spec
from seraphim.catalog.store import SeraphimCatalog

BTC = "BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL"
SYNTHETIC_CATALOG = Path(__file__).parents[2] / "catalog"


@pytest.fixture(scope="session")
def real_catalog(tmp_path_factory, shared_data) -> SeraphimCatalog:
    """The real Kraken hourly BTC/USD history, ingested once per session."""
    catalog = SeraphimCatalog(tmp_path_factory.mktemp("research_real_catalog"))
    ingest_kraken_ohlcvt(catalog, shared_data / "kraken/ohlcvt/XBTUSD_60.csv", "BTC/USD", 60)
    return catalog


def make_spec(
    catalog_path,
    output,
    start=None,
    end=None,
    strategies=None,
    venues=("KRAKEN",),
    account_type="CASH",
    **extra,
):
    """A ma_cross backtest spec on BTC/USD hourly bars (tests change params per trial)."""
    raw = {
        "catalog": str(catalog_path),
        "output": str(output),
        "start": start,
        "end": end,
        "venues": [
            {
                "name": name,
                "account_type": account_type,
                "starting_balances": ["100000 USD"],
                "fill_model": {"prob_slippage": 0.2, "random_seed": 42},
            }
            for name in venues
        ],
        "data": [{"bar_type": BTC}],
        "strategies": strategies
        or [{"name": "ma_cross", "params": {"fast": 10, "slow": 30, "trade_size": 0.5}}],
        **extra,
    }
    return parse_spec(raw)
