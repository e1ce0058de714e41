"""The sample market into the catalog (venues' own ingest jobs live in their adapters)."""

from __future__ import annotations

from collections.abc import Mapping

from nautilus_trader.model.instruments import Instrument

from seraphim.catalog.sample import SAMPLE_SOURCE
from seraphim.catalog.sample import SampleMarket
from seraphim.catalog.sample import sample_rows
from seraphim.catalog.store import IngestResult
from seraphim.catalog.store import Provenance
from seraphim.catalog.store import SeraphimCatalog


def ingest_sample(
    catalog: SeraphimCatalog, market: SampleMarket, instruments: Mapping[str, Instrument]
) -> list[IngestResult]:
    """Write the synthetic sample market (labelled synthetic) into the catalog."""
    provenance = Provenance(SAMPLE_SOURCE, synthetic=True, details=market.describe())
    return [
        catalog.ingest_rows(instrument, [rows], provenance)
        for instrument, rows in sample_rows(market, instruments).items()
    ]
