import pyarrow.parquet as pq
from click.testing import CliRunner
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType

from seraphim.adapters.kraken.common.pairs import instrument_for
from seraphim.catalog.cli import catalog as catalog_cli
from seraphim.catalog.quality import check_catalog
from seraphim.catalog.store import Provenance
from seraphim.catalog.store import SeraphimCatalog

HOUR = 3_600_000_000_000
BAR_TYPE = BarType.from_str("BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL")


def bar(instrument, ts, o, h, low, c):
    p = instrument.make_price
    return Bar(BAR_TYPE, p(o), p(h), p(low), p(c), instrument.make_qty(1), ts, ts)


def write_series(tmp_path, rows):
    instrument = instrument_for("BTC/USD")
    catalog = SeraphimCatalog(tmp_path)
    catalog.ingest(instrument, [bar(instrument, *row) for row in rows], Provenance("test"))
    return catalog


def corrupt(catalog, mutate):
    """Rewrite the stored file as another writer might have: rows out of order, duplicated."""
    (file,) = (catalog.path / "data" / "bar").rglob("*.parquet")
    table = pq.read_table(file)
    pq.write_table(mutate(table), file)


def test_clean_series_with_a_gap(tmp_path):
    rows = [(i * HOUR, 100, 101, 99, 100) for i in range(1, 30) if i not in (10, 11, 12)]
    (report,) = check_catalog(write_series(tmp_path, rows))
    assert not report.has_errors
    assert [f.check for f in report.findings] == ["gaps (3 missing bars)"]


def test_duplicates_and_out_of_order_rows_are_errors(tmp_path):
    rows = [(i * HOUR, 100, 101, 99, 100) for i in range(1, 30)]
    catalog = write_series(tmp_path, rows)
    corrupt(catalog, lambda t: t.take([0, 1, 2, 4, 3, *range(4, 29)]))
    (report,) = check_catalog(catalog)
    checks = {f.check: f.count for f in report.findings}
    assert checks["out-of-order rows"] == 1
    assert checks["duplicate timestamps"] == 1
    assert report.has_errors
    result = CliRunner().invoke(catalog_cli, ["check", "--catalog", str(tmp_path)])
    assert result.exit_code == 1
    assert "FAIL" in result.output and "out-of-order rows" in result.output


def test_ohlc_inconsistency_and_outlier(tmp_path):
    rows = [(i * HOUR, 100 + (i % 3), 103, 99, 100 + (i % 2)) for i in range(1, 60)]
    rows[40] = (41 * HOUR, 100, 400, 99, 390)  # a 4x jump and back
    catalog = write_series(tmp_path, rows)

    def swap_high_low(table):
        high, low = table.column("high"), table.column("low")
        return table.set_column(1, "high", low).set_column(2, "low", high)

    corrupt(catalog, swap_high_low)
    (report,) = check_catalog(catalog)
    checks = {f.check: f for f in report.findings}
    assert checks["high below open/close/low"].count == 59
    assert checks["low above open/close"].count == 59
    assert any(c.startswith("outlier returns") for c in checks)


def test_cli_check_exit_code_zero_on_clean_data(tmp_path):
    write_series(tmp_path, [(i * HOUR, 100, 101, 99, 100) for i in range(1, 5)])
    result = CliRunner().invoke(catalog_cli, ["check", "--catalog", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "ok BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL" in result.output
