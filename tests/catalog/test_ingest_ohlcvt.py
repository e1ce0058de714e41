import numpy as np
import pandas as pd
import pytest
from nautilus_trader.model.data import Bar

from seraphim.adapters.kraken.ingest import ingest_kraken_ohlcvt
from seraphim.catalog.errors import MalformedInputError
from seraphim.catalog.inventory import list_series
from seraphim.catalog.quality import check_catalog
from seraphim.catalog.store import SeraphimCatalog

from .helpers import snapshot

BAR_TYPE = "BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL"
HOUR_NS = 3_600_000_000_000


@pytest.fixture(scope="module")
def xbt_catalog(tmp_path_factory, shared_data):
    catalog = SeraphimCatalog(tmp_path_factory.mktemp("xbt"))
    result = ingest_kraken_ohlcvt(
        catalog, shared_data / "kraken/ohlcvt/XBTUSD_60.csv", "BTC/USD", 60
    )
    return catalog, result


def test_counts_and_time_range(xbt_catalog, shared_data):
    catalog, result = xbt_catalog
    assert result.series[BAR_TYPE] == (0, 70_253)
    bars = catalog.nautilus.query(Bar, identifiers=[BAR_TYPE])
    assert len(bars) == 70_253
    raw = pd.read_csv(shared_data / "kraken/ohlcvt/XBTUSD_60.csv", header=None)
    # Bars are stamped at their close: open time + 1 hour.
    assert bars[0].ts_event == (int(raw[0].iloc[0]) + 3600) * 1_000_000_000
    assert bars[-1].ts_event == (int(raw[0].iloc[-1]) + 3600) * 1_000_000_000
    assert pd.Timestamp(bars[0].ts_event, tz="UTC") == pd.Timestamp("2013-10-06 22:00", tz="UTC")
    # Prices at Kraken's BTC/USD precision (1 decimal); the 1E+1 volumes parsed as 10.
    assert all(b.close.precision == 1 for b in bars[:100])
    assert bars[16].volume.as_double() == 10.0  # line 17: 1E+1
    [info] = [s for s in list_series(catalog) if s.data_type == "bar"]
    assert info.rows == 70_253


def test_gaps_match_an_independent_count(xbt_catalog, shared_data):
    catalog, _ = xbt_catalog
    raw = pd.read_csv(shared_data / "kraken/ohlcvt/XBTUSD_60.csv", header=None)
    diffs = np.diff(raw[0].to_numpy())
    expected_gaps = int((diffs > 3600).sum())
    expected_missing = int((diffs[diffs > 3600] // 3600 - 1).sum())
    (report,) = check_catalog(catalog)
    gap = next(f for f in report.findings if f.check.startswith("gaps"))
    assert gap.count == expected_gaps > 1000
    assert f"({expected_missing} missing bars)" in gap.check
    assert not report.has_errors


def test_ingesting_twice_leaves_one_copy(tmp_path, shared_data):
    catalog = SeraphimCatalog(tmp_path)
    path = shared_data / "kraken/ohlcvt/XBTUSD_60.csv"
    ingest_kraken_ohlcvt(catalog, path, "BTC/USD", 60)
    before = snapshot(tmp_path / "data")
    again = ingest_kraken_ohlcvt(catalog, path, "XBTUSD", 60)
    assert again.series[BAR_TYPE] == (70_253, 70_253)
    assert snapshot(tmp_path / "data") == before


def test_overlapping_file_merges(tmp_path, shared_data):
    lines = (shared_data / "kraken/ohlcvt/XBTUSD_60.csv").read_text().splitlines()
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("\n".join(lines[:600]) + "\n")
    second.write_text("\n".join(lines[400:1000]) + "\n")
    catalog = SeraphimCatalog(tmp_path / "cat")
    ingest_kraken_ohlcvt(catalog, first, "BTC/USD", 60)
    result = ingest_kraken_ohlcvt(catalog, second, "BTC/USD", 60)
    assert result.series[BAR_TYPE] == (600, 1000)
    bars = catalog.nautilus.query(Bar, identifiers=[BAR_TYPE])
    assert len({b.ts_event for b in bars}) == len(bars) == 1000


@pytest.mark.parametrize(
    ("line", "match"),
    [
        (
            "1381197600,123.91,abc,123.9,123.9,1.99,2",
            r"bad\.csv:3: high is 'abc', expected a number",
        ),
        ("1381197600,123.91,123.91,123.9,123.9", r"bad\.csv:3: volume is missing"),
        ("1381197600,123.91,123.0,123.9,123.9,1.99,2", r"bad\.csv:3: high is below"),
        (
            "1381197600,123.91,124.0,124.5,123.95,1.99,2",
            r"bad\.csv:3: high is below open, close or low",
        ),
        ("1381197600,-1,124.0,-1,123.95,1.99,2", r"bad\.csv:3: a price is not positive"),
        ("1381197600,123.91,123.91,123.9,123.9,1.99,2,9", r"bad\.csv:3"),
    ],
)
def test_malformed_rows_name_file_and_line_and_store_nothing(tmp_path, line, match):
    good = tmp_path / "good.csv"
    good.write_text("1381093200,122.0,122.0,122.0,122.0,0.1,1\n")
    catalog = SeraphimCatalog(tmp_path / "cat")
    ingest_kraken_ohlcvt(catalog, good, "BTC/USD", 60)
    before = snapshot(tmp_path / "cat")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "1381176000,123.61,123.61,123.61,123.61,0.1,1\n1381180000,123.6,123.7,123.5,123.6,1,1\n"
        + line
        + "\n",
    )
    with pytest.raises(MalformedInputError, match=match):
        ingest_kraken_ohlcvt(catalog, bad, "BTC/USD", 60)
    assert snapshot(tmp_path / "cat") == before


def test_failure_during_swap_leaves_catalog_unchanged(tmp_path, shared_data, monkeypatch):
    lines = (shared_data / "kraken/ohlcvt/XBTUSD_60.csv").read_text().splitlines()
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("\n".join(lines[:300]) + "\n")
    second.write_text("\n".join(lines[200:500]) + "\n")
    catalog = SeraphimCatalog(tmp_path / "cat")
    ingest_kraken_ohlcvt(catalog, first, "BTC/USD", 60)
    before = snapshot(tmp_path / "cat")

    def fail(*_args, **_kwargs):
        raise OSError("disk full")

    # The data directory is already swapped when the manifest write fails: it must be rolled back.
    monkeypatch.setattr(SeraphimCatalog, "_write_manifest", fail)
    with pytest.raises(OSError, match="disk full"):
        ingest_kraken_ohlcvt(catalog, second, "BTC/USD", 60)
    monkeypatch.undo()
    assert snapshot(tmp_path / "cat") == before
    assert len(SeraphimCatalog(tmp_path / "cat").nautilus.query(Bar, identifiers=[BAR_TYPE])) == 300


def test_interrupted_swap_is_recovered_on_open(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text(
        "1381093200,122.0,122.0,122.0,122.0,0.1,1\n1381096800,122.0,122.0,122.0,122.0,0.1,1\n"
    )
    root = tmp_path / "cat"
    ingest_kraken_ohlcvt(SeraphimCatalog(root), good, "BTC/USD", 60)
    before = snapshot(root)
    # Simulate a process killed after moving the old series aside, before moving the new one in.
    series = root / "data" / "bar" / "BTCUSD.KRAKEN-1-HOUR-LAST-EXTERNAL"
    parked = root / ".trash" / "run1" / "data" / "bar" / series.name
    parked.parent.mkdir(parents=True)
    series.rename(parked)
    (root / ".staging" / "run1").mkdir(parents=True)
    SeraphimCatalog(root)
    assert snapshot(root) == before
    assert not (root / ".trash").exists() and not (root / ".staging").exists()


def test_missing_file_and_unknown_pair(tmp_path):
    catalog = SeraphimCatalog(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"nope\.csv"):
        ingest_kraken_ohlcvt(catalog, tmp_path / "nope.csv", "BTC/USD", 60)
    good = tmp_path / "good.csv"
    good.write_text("1381093200,122.0,122.0,122.0,122.0,0.1,1\n")
    with pytest.raises(KeyError, match="FOO/BAR"):
        ingest_kraken_ohlcvt(catalog, good, "FOO/BAR", 60)
    with pytest.raises(ValueError, match="unsupported Kraken OHLC interval 7"):
        ingest_kraken_ohlcvt(catalog, good, "BTC/USD", 7)
