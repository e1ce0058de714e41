"""A VWAP volume profile estimated from a catalog's bars (for a parent's ``profile`` param)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from nautilus_trader.model.data import Bar
from nautilus_trader.persistence.catalog import ParquetDataCatalog

from seraphim.execution.schedule import volume_profile


def catalog_profile(
    catalog: str | Path,
    bar_type: str,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    bucket_secs: int = 3600,
) -> list[float]:
    """The share of volume per ``bucket_secs`` of the day (UTC) in the catalog's bars."""
    if 86_400 % bucket_secs:
        raise ValueError(f"bucket_secs must divide a day, was {bucket_secs}")
    bars = ParquetDataCatalog(str(catalog)).query(Bar, identifiers=[bar_type], start=start, end=end)
    if not bars:
        raise ValueError(f"no {bar_type} bars in {catalog} between {start} and {end}")
    # A bar is stamped at its close: its volume traded in the period before.
    rows = [(bar.ts_event - 1, bar.volume.as_double()) for bar in bars]
    return volume_profile(rows, 86_400 // bucket_secs, bucket_secs * 10**9)
