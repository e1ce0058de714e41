"""
New rows of one catalog series as an Arrow table in nautilus's own Parquet schema.

Bars from a CSV are built column by column (no Python object per row); bars or trade ticks that
already exist as nautilus objects are encoded by nautilus's serialiser. Either way the table is
exactly what ``ParquetDataCatalog.write_data`` would write for the same data.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.serialization.arrow.serializer import ArrowSerializer

from seraphim.catalog.fixed import encode_fixed


@dataclass(frozen=True)
class SeriesRows:
    """
    Rows for one series (a bar type or, for trade ticks, an instrument id).

    ``origin(i)`` says where row ``i`` came from (e.g. ``FILE:LINE``) so that errors can point
    at it; ``None`` when the source has no useful position.
    """

    data_cls: type[Bar] | type[TradeTick]
    identifier: str
    table: pa.Table
    origin: Callable[[int], str] | None = None


def series_identifier(obj: Bar | TradeTick) -> str:
    """The identifier nautilus files a data object under (bar type or instrument id)."""
    return str(obj.bar_type) if isinstance(obj, Bar) else str(obj.instrument_id)


def rows_from_objects(
    data: Sequence[Bar | TradeTick],
    origin: Callable[[int], str] | None = None,
) -> SeriesRows:
    """Rows of one series given as nautilus objects (all the same type and identifier)."""
    data_cls = type(data[0])
    # nautilus's serialiser orders rows by ts_init (a stable sort): order them so first, so that
    # row i of the table is known to come from input position order[i].
    order = sorted(range(len(data)), key=lambda i: data[i].ts_init)
    table = ArrowSerializer.serialize_batch([data[i] for i in order], data_cls=data_cls)
    if origin is not None:
        origin = _reordered(origin, order)
    return SeriesRows(data_cls, series_identifier(data[0]), table, origin)


def _reordered(origin: Callable[[int], str], order: list[int]) -> Callable[[int], str]:
    return lambda row: origin(order[row])


def bar_rows(
    bar_type: BarType,
    instrument: Instrument,
    columns: dict[str, np.ndarray],
    ts_event: np.ndarray,
    origin: Callable[[int], str] | None = None,
) -> SeriesRows:
    """
    Bars from float columns ``open, high, low, close, volume`` and close times in nanoseconds.

    Prices are rounded to the instrument's price precision and volumes to its size precision,
    as nautilus's ``BarDataWrangler`` does; ``ts_init`` equals ``ts_event``.
    """
    schema = _bar_schema(bar_type, instrument, columns, ts_event)
    precisions = {"volume": instrument.size_precision}
    arrays = [
        encode_fixed(columns[name], precisions.get(name, instrument.price_precision))
        for name in ("open", "high", "low", "close", "volume")
    ]
    stamps = pa.array(np.asarray(ts_event, dtype=np.uint64), pa.uint64())
    table = pa.Table.from_arrays([*arrays, stamps, stamps], schema=schema)
    return SeriesRows(Bar, str(bar_type), table, origin)


def _bar_schema(
    bar_type: BarType,
    instrument: Instrument,
    columns: dict[str, np.ndarray],
    ts_event: np.ndarray,
) -> pa.Schema:
    # nautilus's serialiser, given one bar, yields the exact schema and metadata it writes.
    template = Bar(
        bar_type,
        instrument.make_price(columns["open"][0]),
        instrument.make_price(columns["high"][0]),
        instrument.make_price(columns["low"][0]),
        instrument.make_price(columns["close"][0]),
        instrument.make_qty(columns["volume"][0]),
        int(ts_event[0]),
        int(ts_event[0]),
    )
    return ArrowSerializer.serialize_batch([template], data_cls=Bar).schema
