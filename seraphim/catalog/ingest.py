"""Ingest jobs: read a source, build nautilus objects, merge them into the catalog atomically."""

from __future__ import annotations

from pathlib import Path

from nautilus_trader.model.data import BarType

from seraphim.adapters.kraken.constants import bar_spec_for_interval
from seraphim.adapters.kraken.pairs import instrument_for
from seraphim.catalog.kraken_rest import infer_interval_minutes
from seraphim.catalog.kraken_rest import ohlc_to_bars
from seraphim.catalog.kraken_rest import read_response
from seraphim.catalog.kraken_rest import trades_to_ticks
from seraphim.catalog.ohlcvt import ohlcvt_rows
from seraphim.catalog.ohlcvt import read_ohlcvt
from seraphim.catalog.sample import SAMPLE_SOURCE
from seraphim.catalog.sample import SampleMarket
from seraphim.catalog.sample import sample_rows
from seraphim.catalog.store import IngestResult
from seraphim.catalog.store import Provenance
from seraphim.catalog.store import SeraphimCatalog


def ingest_kraken_ohlcvt(
    catalog: SeraphimCatalog,
    path: str | Path,
    pair: str,
    interval_minutes: int,
    asset_pairs_file: str | Path | None = None,
    show_progress: bool = False,
    replace: bool = False,
) -> IngestResult:
    """
    Ingest one of Kraken's downloadable OHLCVT CSV files as 'EXTERNAL, LAST' bars.

    Rows that would change stored bars are an error unless ``replace``.
    """
    instrument = instrument_for(pair, asset_pairs_file)
    bar_type = BarType.from_str(
        f"{instrument.id}-{bar_spec_for_interval(interval_minutes)}-EXTERNAL"
    )
    frame = read_ohlcvt(path, show_progress=show_progress)
    rows = ohlcvt_rows(frame, path, instrument, bar_type, interval_minutes * 60)
    source = Provenance("kraken-ohlcvt", details={"file": Path(path).name})
    return catalog.ingest_rows(instrument, [rows], source, replace=replace)


def ingest_kraken_rest(
    catalog: SeraphimCatalog,
    path: str | Path,
    interval_minutes: int | None = None,
    asset_pairs_file: str | Path | None = None,
    replace: bool = False,
) -> IngestResult:
    """
    Ingest a saved /0/public/OHLC (bars) or /0/public/Trades (trade ticks) response.

    Rows that would change stored rows are an error unless ``replace``.
    """
    path = Path(path)
    response = read_response(path)
    instrument = instrument_for(response.pair, asset_pairs_file)
    if response.kind == "ohlc":
        interval = interval_minutes or infer_interval_minutes(response)
        data = ohlc_to_bars(response, instrument, interval, path)
    else:
        data = trades_to_ticks(response, instrument, path)
    source = Provenance(f"kraken-rest-{response.kind}", details={"file": path.name})
    return catalog.ingest(instrument, data, source, replace=replace)


def ingest_sample(catalog: SeraphimCatalog, market: SampleMarket) -> list[IngestResult]:
    """Write the synthetic sample market (labelled synthetic) into the catalog."""
    provenance = Provenance(SAMPLE_SOURCE, synthetic=True, details=market.describe())
    return [
        catalog.ingest_rows(instrument, [rows], provenance)
        for instrument, rows in sample_rows(market).items()
    ]
