"""
Merging new rows into a stored series, column-wise, without ever changing data silently.

A row is identified by its key: the bar's ``ts_event``, or a trade's ``ts_event`` and trade id.
A new row whose key is already stored with the same market values is a no-op and the stored row
stays (re-ingesting a file is idempotent; ``ts_init``, when the data was received, is not a market
value). A new row whose key is stored with different values is a conflict: an error listing the
first few, unless the caller asked to replace. Two different rows with one key in the input
itself are always an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from seraphim.catalog.arrow_rows import SeriesRows
from seraphim.catalog.errors import CatalogError
from seraphim.catalog.errors import ConflictError
from seraphim.catalog.fixed import fixed_to_decimal

MAX_LISTED = 3
_PRICE_COLUMNS = {"open", "high", "low", "close", "price"}
_SIZE_COLUMNS = {"volume", "size"}
_RECEIVED_AT = "ts_init"


@dataclass(frozen=True)
class SeriesMerge:
    """The complete new version of one series and what changed against the stored one."""

    table: pa.Table
    before: int
    replaced: int

    @property
    def after(self) -> int:
        return self.table.num_rows

    @property
    def changed(self) -> bool:
        return self.after != self.before or self.replaced > 0


def merge_series(stored: pa.Table | None, new: SeriesRows, *, replace: bool) -> SeriesMerge:
    """Merge ``new`` into ``stored``; raise ``ConflictError`` on rows that would change."""
    table, positions = _drop_repeated_rows(new)
    origin = _shifted(new.origin, positions)
    if stored is None or stored.num_rows == 0:
        return SeriesMerge(_write_order(table), before=0, replaced=0)
    stored = _conform(stored, table.schema, new.identifier)
    new_keys, stored_keys = _keys(table), _keys(stored)
    match = pc.index_in(new_keys, value_set=stored_keys)
    matched = np.flatnonzero(match.is_valid().to_numpy(zero_copy_only=False))
    stored_rows = match.take(pa.array(matched)).to_numpy(zero_copy_only=False)
    differs = _rows_differ(table.take(matched), stored.take(stored_rows))
    conflicts, conflicting_stored = matched[differs], stored_rows[differs]
    if len(conflicts) and not replace:
        examples = [
            _describe(table, int(row), stored, int(old), origin)
            for row, old in zip(conflicts[:MAX_LISTED], conflicting_stored, strict=False)
        ]
        more = f"; and {len(conflicts) - MAX_LISTED} more" if len(conflicts) > MAX_LISTED else ""
        raise ConflictError(
            f"{len(conflicts)} new row(s) differ from the stored {new.identifier} at the same "
            f"time, nothing was written (re-run with --replace to overwrite them): "
            + "; ".join(examples)
            + more,
        )
    taken = match.is_null().to_numpy(zero_copy_only=False)  # rows the catalog lacks
    if replace:
        taken[conflicts] = True
    replaced_keys = new_keys.take(pa.array(conflicts if replace else [], pa.int64()))
    kept = stored.filter(pc.invert(pc.is_in(stored_keys, value_set=replaced_keys)))
    merged = pa.concat_tables([kept, table.filter(pa.array(taken))])
    return SeriesMerge(_write_order(merged), before=stored.num_rows, replaced=len(conflicts))


def _drop_repeated_rows(new: SeriesRows) -> tuple[pa.Table, np.ndarray]:
    """
    The input without repeats (the first stays) and the input position of each row left.

    Two different rows with one key are an error.
    """
    table = new.table
    keys = _keys(table)
    order = pc.sort_indices(keys).to_numpy()
    sorted_keys = keys.take(pa.array(order))
    same_key = pc.equal(sorted_keys[1:], sorted_keys[:-1]).to_numpy(zero_copy_only=False)
    if not same_key.any():
        return table, np.arange(table.num_rows)
    later = order[1:][same_key]
    earlier = order[:-1][same_key]
    differs = _rows_differ(table.take(later), table.take(earlier))
    if differs.any():
        first, second = sorted((int(earlier[differs][0]), int(later[differs][0])))
        where = _where(table, second, new.origin)
        also = new.origin(first) if new.origin else "an earlier row"
        raise ConflictError(
            f"the input holds two different rows for {new.identifier} at the same time: "
            f"{where} and {also}; nothing was written",
        )
    keep = np.ones(table.num_rows, dtype=bool)
    keep[later] = False
    return table.filter(pa.array(keep)), np.flatnonzero(keep)


def _shifted(
    origin: Callable[[int], str] | None, positions: np.ndarray
) -> Callable[[int], str] | None:
    """``origin`` for a table whose row ``i`` was input row ``positions[i]``."""
    if origin is None:
        return None
    return lambda row: origin(int(positions[row]))


def _keys(table: pa.Table) -> pa.Array:
    ts = table["ts_event"].combine_chunks()
    if "trade_id" not in table.column_names:
        return ts
    trade_id = table["trade_id"].combine_chunks().cast(pa.string())
    return pc.binary_join_element_wise(ts.cast(pa.string()), trade_id, "/")


def _rows_differ(a: pa.Table, b: pa.Table) -> np.ndarray:
    differs = np.zeros(a.num_rows, dtype=bool)
    for name in a.column_names:
        if name == _RECEIVED_AT:
            continue
        equal = pc.equal(a[name], b[name]).to_numpy(zero_copy_only=False)
        differs |= ~equal
    return differs


def _write_order(table: pa.Table) -> pa.Table:
    # nautilus requires non-decreasing ts_init within a file; the sort is stable.
    return table.sort_by([("ts_init", "ascending"), ("ts_event", "ascending")])


def _conform(stored: pa.Table, schema: pa.Schema, identifier: str) -> pa.Table:
    # Stored files may carry other metadata (e.g. an older precision); the new rows' wins.
    if not stored.schema.equals(schema, check_metadata=False):
        raise CatalogError(
            f"the stored files of {identifier} have another schema than the new rows "
            f"({stored.schema.names} vs {schema.names}); remove the series first",
        )
    return stored.replace_schema_metadata(schema.metadata)


def _where(table: pa.Table, row: int, origin: Callable[[int], str] | None) -> str:
    stamp = pd.Timestamp(table["ts_event"][row].as_py(), tz="UTC")
    label = "bar closing" if b"bar_type" in (table.schema.metadata or {}) else "at"
    when = f"{label} {stamp:%Y-%m-%d %H:%M:%S} UTC"
    return f"{origin(row)} ({when})" if origin else when


def _describe(
    new: pa.Table,
    row: int,
    stored: pa.Table,
    stored_row: int,
    origin: Callable[[int], str] | None,
) -> str:
    metadata = {k.decode(): v.decode() for k, v in (new.schema.metadata or {}).items()}
    changes = []
    for name in new.column_names:
        if name == _RECEIVED_AT:
            continue
        value, old = new[name][row].as_py(), stored[name][stored_row].as_py()
        if value != old:
            shown, was = _show(name, value, metadata), _show(name, old, metadata)
            changes.append(f"{name} {shown} (stored {was})")
    return f"{_where(new, row, origin)}: " + ", ".join(changes)


def _show(column: str, value: object, metadata: dict[str, str]) -> str:
    if isinstance(value, bytes) and column in _PRICE_COLUMNS | _SIZE_COLUMNS:
        key = "price_precision" if column in _PRICE_COLUMNS else "size_precision"
        return str(fixed_to_decimal(value, int(metadata.get(key, 16))))
    return str(value)
