"""The columnar ingest writes the very files nautilus's own wrangler + write_data path writes."""

import pandas as pd
import pyarrow.parquet as pq
import pytest
from nautilus_trader.model.data import BarType
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.persistence.catalog import ParquetDataCatalog
from nautilus_trader.persistence.wranglers import BarDataWrangler

from seraphim.adapters.kraken.common.pairs import instrument_for
from seraphim.adapters.kraken.ingest import ingest_kraken_ohlcvt
from seraphim.catalog.fixed import encode_fixed
from seraphim.catalog.store import SeraphimCatalog

BAR_TYPE = "{pair}.KRAKEN-1-HOUR-LAST-EXTERNAL"


def fields(bar) -> tuple:
    prices = (bar.open, bar.high, bar.low, bar.close, bar.volume)
    return (
        str(bar.bar_type),
        *(p.raw for p in prices),
        *(p.precision for p in prices),
        bar.ts_event,
        bar.ts_init,
    )


@pytest.mark.parametrize(
    "name", ["XBTUSD_60.csv", pytest.param("ETHUSD_60.csv", marks=pytest.mark.slow)]
)
def test_nautilus_reads_back_the_bars_its_wrangler_makes(tmp_path, shared_data, name):
    csv = shared_data / "kraken/ohlcvt" / name
    pair = "BTC/USD" if name.startswith("XBT") else "ETH/USD"
    bar_type = BAR_TYPE.format(pair=pair)
    ours = SeraphimCatalog(tmp_path / "ours")
    ingest_kraken_ohlcvt(ours, csv, pair, 60)
    reference = wrangler_catalog_for(csv, pair, bar_type, tmp_path / "reference")

    mine = ParquetDataCatalog(str(ours.path)).bars([bar_type])
    theirs = reference.bars([bar_type])
    assert len(mine) == len(theirs) == len(csv.read_text().splitlines())
    assert [fields(b) for b in mine] == [fields(b) for b in theirs]

    # The same file, named and laid out as nautilus writes it: byte for byte.
    [our_file] = (ours.path / "data" / "bar").rglob("*.parquet")
    [their_file] = (tmp_path / "reference" / "data" / "bar").rglob("*.parquet")
    assert our_file.relative_to(ours.path) == their_file.relative_to(tmp_path / "reference")
    assert pq.read_schema(our_file).equals(pq.read_schema(their_file), check_metadata=True)
    assert pq.read_table(our_file).equals(pq.read_table(their_file))
    assert our_file.read_bytes() == their_file.read_bytes()


def wrangler_catalog_for(csv, pair, bar_type, root) -> ParquetDataCatalog:
    """nautilus's documented path: pandas, BarDataWrangler, ParquetDataCatalog.write_data."""
    instrument = instrument_for(pair)
    names = ["t", "open", "high", "low", "close", "volume", "n"]
    frame = pd.read_csv(csv, header=None, names=names)
    frame.index = pd.to_datetime((frame["t"] + 3600) * 1_000_000_000, utc=True)
    bars = BarDataWrangler(BarType.from_str(bar_type), instrument).process(
        frame[["open", "high", "low", "close", "volume"]]
    )
    catalog = ParquetDataCatalog(str(root))
    catalog.write_data([instrument])
    catalog.write_data(bars)
    return catalog


@pytest.mark.parametrize("precision", [0, 1, 2, 5, 8])
def test_fixed_point_encoding_rounds_like_nautilus(precision):
    # Halves, values just below a half, negatives, large magnitudes (beyond 64-bit raw values).
    values = [0.05, 0.15, 0.25, 2.5, -2.5, 0.49999999999999994, 122.05, 100_000.05, 9.995e9]
    values += [-0.05, 1e-9, 0.0, 123456.7891, -98765.4321]
    encoded = encode_fixed(values, precision).to_pylist()
    raws = [int.from_bytes(b, "little", signed=True) for b in encoded]
    assert raws == [Price(v, precision).raw for v in values]
    sizes = [abs(v) for v in values]
    raws = [int.from_bytes(b, "little") for b in encode_fixed(sizes, precision).to_pylist()]
    assert raws == [Quantity(v, precision).raw for v in sizes]
