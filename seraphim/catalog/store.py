"""
Atomic, idempotent writes into a nautilus ``ParquetDataCatalog``.

nautilus writes one Parquet file per call and refuses overlapping intervals, so re-ingesting a
file, or a file overlapping stored data, needs a merge (``seraphim.catalog.merge``: identical
rows are no-ops, rows that would change stored data are an error unless replacing). Every
ingest builds the complete new version of each changed series in a staging folder, as one file
in nautilus's schema and naming, then swaps it in place of the old one. A failure before or
during the swap leaves the catalog exactly as it was.

Beside the data, ``seraphim.json`` records where each series came from (real or synthetic).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.persistence.catalog import ParquetDataCatalog
from nautilus_trader.persistence.catalog.parquet import _timestamps_to_filename
from nautilus_trader.persistence.funcs import class_to_filename
from nautilus_trader.persistence.funcs import urisafe_identifier

from seraphim.catalog.arrow_rows import SeriesRows
from seraphim.catalog.arrow_rows import rows_from_objects
from seraphim.catalog.arrow_rows import series_identifier
from seraphim.catalog.errors import CatalogError
from seraphim.catalog.merge import SeriesMerge
from seraphim.catalog.merge import merge_series

MANIFEST_NAME = "seraphim.json"
_STAGING = ".staging"
_TRASH = ".trash"
_SERIES_KINDS = {class_to_filename(Bar), class_to_filename(TradeTick)}

__all__ = ["CatalogError", "IngestResult", "Provenance", "SeraphimCatalog"]


@dataclass(frozen=True)
class Provenance:
    """Where a series came from. Synthetic series are labelled wherever they appear."""

    source: str
    synthetic: bool = False
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class IngestResult:
    """What one ingest changed: rows per series before and after the merge, rows replaced."""

    series: dict[str, tuple[int, int]]  # identifier -> (rows before, rows after)
    received: int
    replaced: dict[str, int] = field(default_factory=dict)

    @property
    def added(self) -> int:
        return sum(after - before for before, after in self.series.values())


class SeraphimCatalog:
    """A ``ParquetDataCatalog`` plus atomic merges and a provenance manifest."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path).resolve()
        if not create and not self.path.is_dir():
            raise CatalogError(
                f"no catalog at {self.path} (pass --catalog, or create one with "
                f"`seraphim catalog ingest ...` or `seraphim catalog sample`)",
            )
        self.path.mkdir(parents=True, exist_ok=True)
        self._recover_interrupted_swaps()
        self.nautilus = ParquetDataCatalog(str(self.path))

    # -- provenance ------------------------------------------------------------------------

    def manifest(self) -> dict:
        manifest_path = self.path / MANIFEST_NAME
        if not manifest_path.exists():
            return {"version": 1, "series": {}}
        try:
            return json.loads(manifest_path.read_text())
        except json.JSONDecodeError as e:
            raise CatalogError(f"corrupt catalog manifest {manifest_path}: {e}") from None

    def provenance(self, identifier: str) -> dict | None:
        return self.manifest()["series"].get(identifier)

    def is_synthetic(self, identifier: str) -> bool:
        entry = self.provenance(identifier)
        return bool(entry and entry.get("synthetic"))

    # -- writing ---------------------------------------------------------------------------

    def ingest(
        self,
        instrument: Instrument,
        data: Iterable[Bar | TradeTick],
        provenance: Provenance,
        *,
        replace: bool = False,
    ) -> IngestResult:
        """
        Merge ``data`` (bars or trade ticks of ``instrument``) into the catalog, atomically.

        Rows already stored with the same key (bar timestamp, or timestamp and trade id) and
        the same values are left as they are, so ingesting the same data twice leaves one copy.
        Rows that would change stored values raise ``ConflictError`` unless ``replace``.
        """
        by_series: dict[str, list[Bar | TradeTick]] = {}
        for obj in data:
            by_series.setdefault(series_identifier(obj), []).append(obj)
        rows = [rows_from_objects(objects) for objects in by_series.values()]
        return self.ingest_rows(instrument, rows, provenance, replace=replace)

    def ingest_rows(
        self,
        instrument: Instrument,
        rows: Sequence[SeriesRows],
        provenance: Provenance,
        *,
        replace: bool = False,
    ) -> IngestResult:
        """``ingest`` for rows already in nautilus's Arrow schema (one entry per series)."""
        identifiers = [series.identifier for series in rows]
        if len(set(identifiers)) != len(identifiers):
            raise ValueError(f"one entry per series expected, got {sorted(identifiers)}")
        received = sum(series.table.num_rows for series in rows)
        if received == 0:
            raise CatalogError("nothing to ingest: the input holds no rows")
        manifest = self.manifest()
        self._refuse_mixing(manifest, identifiers, provenance)
        merges: dict[str, tuple[type, SeriesMerge]] = {
            series.identifier: (
                series.data_cls,
                merge_series(
                    self._read_series(series.data_cls, series.identifier),
                    series,
                    replace=replace,
                ),
            )
            for series in rows
        }

        staging_root = self.path / _STAGING / uuid.uuid4().hex
        try:
            ParquetDataCatalog(str(staging_root)).write_data([instrument])
            for identifier, (data_cls, merge) in merges.items():
                if merge.changed:
                    self._write_series(staging_root, data_cls, identifier, merge.table)
                self._record(manifest, identifier, str(instrument.id), provenance)
            self._swap_in(staging_root, manifest)
        finally:
            shutil.rmtree(staging_root, ignore_errors=True)
            _remove_if_empty(self.path / _STAGING)
        self.nautilus = ParquetDataCatalog(str(self.path))
        return IngestResult(
            series={key: (merge.before, merge.after) for key, (_, merge) in merges.items()},
            received=received,
            replaced={key: merge.replaced for key, (_, merge) in merges.items() if merge.replaced},
        )

    def _refuse_mixing(
        self, manifest: dict, identifiers: list[str], provenance: Provenance
    ) -> None:
        for identifier in identifiers:
            entry = manifest["series"].get(identifier)
            if entry and bool(entry.get("synthetic")) != provenance.synthetic:
                kind = "synthetic sample" if entry.get("synthetic") else "real"
                raise CatalogError(
                    f"{identifier} already holds {kind} data in {self.path}; refusing to mix "
                    f"real and synthetic rows (use another --catalog, or `seraphim catalog "
                    f"remove {identifier}` first)",
                )

    def remove(self, identifier: str) -> None:
        """Remove one series (bar type or instrument id) and its manifest entry."""
        safe = urisafe_identifier(identifier)
        directories = [
            d
            for d in self._leaf_dirs(self.path)
            if d.name == safe and d.parent.name in _SERIES_KINDS
        ]
        manifest = self.manifest()
        if not directories and identifier not in manifest["series"]:
            raise CatalogError(f"no series {identifier!r} in {self.path}")
        for directory in directories:
            shutil.rmtree(directory)
        manifest["series"].pop(identifier, None)
        self._write_manifest(manifest)

    def _series_dir(self, root: Path, data_cls: type, identifier: str) -> Path:
        return root / "data" / class_to_filename(data_cls) / urisafe_identifier(identifier)

    def _read_series(self, data_cls: type, identifier: str) -> pa.Table | None:
        directory = self._series_dir(self.path, data_cls, identifier)
        files = sorted(directory.glob("*.parquet")) if directory.is_dir() else []
        if not files:
            return None
        return pa.concat_tables([pq.read_table(file) for file in files])

    def _write_series(self, root: Path, data_cls: type, identifier: str, table: pa.Table) -> None:
        directory = self._series_dir(root, data_cls, identifier)
        directory.mkdir(parents=True)
        ts_init = table["ts_init"]
        # nautilus's own file-naming rule (private): its interval filters parse these names.
        name = _timestamps_to_filename(ts_init[0].as_py(), ts_init[-1].as_py())
        pq.write_table(table, directory / name, row_group_size=self.nautilus.max_rows_per_group)

    @staticmethod
    def _record(manifest: dict, identifier: str, instrument_id: str, prov: Provenance) -> None:
        entry = manifest["series"].setdefault(
            identifier,
            {"instrument_id": instrument_id, "synthetic": prov.synthetic, "sources": []},
        )
        source = {"source": prov.source, **prov.details}
        if source not in entry["sources"]:
            entry["sources"].append(source)
        entry["updated"] = datetime.now(UTC).isoformat(timespec="seconds")

    def _swap_in(self, staging_root: Path, manifest: dict) -> None:
        trash_root = self.path / _TRASH / staging_root.name
        moved: list[tuple[Path, Path | None]] = []  # (target, its backup or None)
        try:
            for leaf in self._leaf_dirs(staging_root):
                target = self.path / leaf.relative_to(staging_root)
                backup = None
                if target.exists():
                    backup = trash_root / leaf.relative_to(staging_root)
                    backup.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(target, backup)
                moved.append((target, backup))
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(leaf, target)
            self._write_manifest(manifest)
        except BaseException:
            for target, backup in reversed(moved):
                shutil.rmtree(target, ignore_errors=True)
                if backup is not None:
                    os.replace(backup, target)
            raise
        finally:
            shutil.rmtree(trash_root, ignore_errors=True)
            _remove_if_empty(self.path / _TRASH)

    def _write_manifest(self, manifest: dict) -> None:
        tmp = self.path / f".{MANIFEST_NAME}.{uuid.uuid4().hex}.tmp"
        tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        os.replace(tmp, self.path / MANIFEST_NAME)

    def _recover_interrupted_swaps(self) -> None:
        # A process killed mid-swap leaves the old series in .trash: put them back.
        trash = self.path / _TRASH
        if trash.is_dir():
            for run in trash.iterdir():
                for leaf in self._leaf_dirs(run):
                    target = self.path / leaf.relative_to(run)
                    if target.exists():
                        shutil.rmtree(target)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(leaf, target)
            shutil.rmtree(trash, ignore_errors=True)
        shutil.rmtree(self.path / _STAGING, ignore_errors=True)

    @staticmethod
    def _leaf_dirs(root: Path) -> list[Path]:
        data = root / "data"
        if not data.is_dir():
            return []
        return [leaf for kind in data.iterdir() if kind.is_dir() for leaf in kind.iterdir()]


def _remove_if_empty(path: Path) -> None:
    if path.is_dir() and not any(path.iterdir()):
        path.rmdir()
