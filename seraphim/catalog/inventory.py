"""What a catalog holds: one row per series with its time range, row count and provenance."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq

from seraphim.catalog.store import SeraphimCatalog


@dataclass(frozen=True)
class SeriesInfo:
    data_type: str
    identifier: str
    rows: int
    files: int
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    synthetic: bool
    sources: list[str]


def series_files(catalog: SeraphimCatalog) -> dict[tuple[str, str], list[Path]]:
    """Parquet files per (data type folder, identifier), sorted by name (time order)."""
    found: dict[tuple[str, str], list[Path]] = {}
    data_dir = catalog.path / "data"
    if not data_dir.is_dir():
        return found
    for kind in sorted(p for p in data_dir.iterdir() if p.is_dir()):
        for leaf in sorted(p for p in kind.iterdir() if p.is_dir()):
            files = sorted(leaf.glob("*.parquet"))
            if files:
                found[(kind.name, _identifier(files[0], leaf.name))] = files
    return found


def _identifier(file: Path, fallback: str) -> str:
    # nautilus keeps the exact bar type / instrument id in the schema metadata.
    metadata = pq.read_schema(file).metadata or {}
    for key in (b"bar_type", b"instrument_id"):
        if key in metadata:
            return metadata[key].decode()
    return fallback


def list_series(catalog: SeraphimCatalog) -> list[SeriesInfo]:
    manifest = catalog.manifest()["series"]
    infos = []
    for (kind, identifier), files in series_files(catalog).items():
        rows = 0
        starts, ends = [], []
        for file in files:
            table = pq.read_table(file, columns=["ts_event"])
            rows += table.num_rows
            if table.num_rows:
                starts.append(pc.min(table["ts_event"]).as_py())
                ends.append(pc.max(table["ts_event"]).as_py())
        entry = manifest.get(identifier, {})
        infos.append(
            SeriesInfo(
                data_type=kind,
                identifier=identifier,
                rows=rows,
                files=len(files),
                start=pd.Timestamp(min(starts), tz="UTC") if starts else None,
                end=pd.Timestamp(max(ends), tz="UTC") if ends else None,
                synthetic=bool(entry.get("synthetic")),
                sources=[s["source"] for s in entry.get("sources", [])],
            ),
        )
    return infos
