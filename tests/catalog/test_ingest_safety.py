"""Ingest never changes stored data silently (issue 11, fault 7) and reading never creates."""

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.data import TradeTick

from seraphim.adapters.kraken.common.pairs import instrument_for
from seraphim.adapters.kraken.ingest import ingest_kraken_ohlcvt
from seraphim.adapters.kraken.ingest import ingest_kraken_rest
from seraphim.catalog.cli import catalog as catalog_cli
from seraphim.catalog.errors import ConflictError
from seraphim.catalog.errors import MalformedInputError
from seraphim.catalog.store import Provenance
from seraphim.catalog.store import SeraphimCatalog

from .helpers import real_lines
from .helpers import snapshot
from .helpers import write_lines

BAR_TYPE = "BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL"
HOUR_NS = 3_600_000_000_000


def doubled(line: str) -> str:
    """The same candle time with every price doubled."""
    time, *prices, volume, count = line.split(",")
    return ",".join([time, *(str(float(p) * 2) for p in prices), volume, count])


@pytest.fixture
def stored(tmp_path, shared_data):
    """A catalog holding the first 300 real hourly XBTUSD candles; (catalog, lines)."""
    lines = real_lines(shared_data)
    catalog = SeraphimCatalog(tmp_path / "cat")
    ingest_kraken_ohlcvt(catalog, write_lines(tmp_path / "first.csv", lines[:300]), "BTC/USD", 60)
    return catalog, lines


def close_at(catalog: SeraphimCatalog, line: str) -> float:
    ts = (int(line.split(",", maxsplit=1)[0]) + 3600) * 1_000_000_000
    bars = catalog.nautilus.query(Bar, identifiers=[BAR_TYPE])
    return next(b.close.as_double() for b in bars if b.ts_event == ts)


def test_a_conflicting_row_is_refused_with_file_and_line(tmp_path, stored):
    catalog, lines = stored
    before = snapshot(catalog.path)
    # Line 3 of the new file repeats a stored candle with doubled prices; line 4 is new.
    rows = [lines[297], lines[298], doubled(lines[299]), lines[300]]
    new = write_lines(tmp_path / "new.csv", rows)
    original = close_at(catalog, lines[299])
    closing = pd.Timestamp(int(lines[299].split(",")[0]) + 3600, unit="s")
    with pytest.raises(ConflictError) as error:
        ingest_kraken_ohlcvt(catalog, new, "BTC/USD", 60)
    message = str(error.value)
    assert "1 new row(s) differ from the stored BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL" in message
    assert f"{new}:3 (bar closing {closing:%Y-%m-%d %H:%M:%S} UTC): open" in message
    assert f"close {original * 2:.1f} (stored {original:.1f})" in message
    assert "--replace" in message and "\n" not in message
    assert snapshot(catalog.path) == before  # the new candle on line 4 was not written either


def test_replace_overwrites_and_says_so(tmp_path, stored):
    catalog, lines = stored
    original = close_at(catalog, lines[299])
    new = write_lines(tmp_path / "new.csv", [doubled(lines[299]), lines[300]])
    result = ingest_kraken_ohlcvt(catalog, new, "BTC/USD", 60, replace=True)
    assert result.series[BAR_TYPE] == (300, 301)
    assert result.replaced == {BAR_TYPE: 1}
    assert close_at(SeraphimCatalog(catalog.path), lines[299]) == pytest.approx(original * 2)


def test_only_the_first_few_conflicts_are_listed(tmp_path, stored):
    catalog, lines = stored
    new = write_lines(tmp_path / "new.csv", [doubled(line) for line in lines[290:297]])
    with pytest.raises(ConflictError, match=r"^7 new row\(s\) differ") as error:
        ingest_kraken_ohlcvt(catalog, new, "BTC/USD", 60)
    message = str(error.value)
    assert [f"new.csv:{n} " in message for n in range(1, 8)] == [True] * 3 + [False] * 4
    assert message.endswith("; and 4 more")


def test_two_different_rows_for_one_time_in_the_file_are_refused(tmp_path, shared_data):
    lines = real_lines(shared_data)
    catalog = SeraphimCatalog(tmp_path / "cat")
    bad = write_lines(tmp_path / "bad.csv", [lines[10], lines[11], doubled(lines[10])])
    with pytest.raises(ConflictError, match=r"bad\.csv:3 \(bar closing .*\) and .*bad\.csv:1"):
        ingest_kraken_ohlcvt(catalog, bad, "BTC/USD", 60)
    assert not (catalog.path / "data").exists()
    # The same line twice is harmless: one copy is stored.
    repeated = write_lines(tmp_path / "repeated.csv", [lines[10], lines[11], lines[11]])
    assert ingest_kraken_ohlcvt(catalog, repeated, "BTC/USD", 60).series[BAR_TYPE] == (0, 2)


def test_interval_must_match_the_files_spacing(tmp_path, stored):
    catalog, lines = stored
    before = snapshot(catalog.path)
    path = write_lines(tmp_path / "hourly.csv", lines[300:400])
    with pytest.raises(
        MalformedInputError,
        match=r"hourly\.csv: rows are 60 minutes apart, but the interval given is 15 minutes; "
        r"use --interval 60$",
    ):
        ingest_kraken_ohlcvt(catalog, path, "BTC/USD", 15)
    # Too long an interval: the first row off its grid is named.
    with pytest.raises(
        MalformedInputError,
        match=r"rows are 60 minutes apart, but the interval given is 240 minutes "
        r"\(line \d+ is 60 minutes after the one before\); use --interval 60$",
    ):
        ingest_kraken_ohlcvt(catalog, path, "BTC/USD", 240)
    assert snapshot(catalog.path) == before


def test_a_short_sparse_file_is_not_mistaken_for_a_coarser_interval(tmp_path, shared_data):
    # Early 2013 history: a few hourly candles hours apart (nobody traded in between).
    lines = real_lines(shared_data)[:3]
    catalog = SeraphimCatalog(tmp_path / "cat")
    result = ingest_kraken_ohlcvt(catalog, write_lines(tmp_path / "a.csv", lines), "BTC/USD", 60)
    assert result.series[BAR_TYPE] == (0, 3)


@pytest.mark.parametrize("content", ["", "\n", "  \n\n"])
def test_an_empty_file_is_named_as_empty(tmp_path, content):
    empty = tmp_path / "empty.csv"
    empty.write_text(content)
    catalog = SeraphimCatalog(tmp_path / "cat")
    with pytest.raises(MalformedInputError, match=r"empty\.csv: the file is empty: no rows"):
        ingest_kraken_ohlcvt(catalog, empty, "BTC/USD", 60)


def test_cli_refuses_conflicts_and_replaces_on_request(tmp_path, stored):
    catalog, lines = stored
    new = write_lines(tmp_path / "new.csv", [doubled(lines[299])])
    runner = CliRunner()
    args = ["ingest", "kraken-ohlcvt", str(new), "--pair", "BTC/USD"]
    args += ["--catalog", str(catalog.path)]
    refused = runner.invoke(catalog_cli, args)
    assert refused.exit_code == 2
    assert refused.output.startswith("error: 1 new row(s) differ")
    replaced = runner.invoke(catalog_cli, [*args, "--replace"])
    assert replaced.exit_code == 0, replaced.output
    assert "1 rows read, +0 new, 1 replaced, 300 stored" in replaced.output
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    result = runner.invoke(
        catalog_cli, ["ingest", "kraken-ohlcvt", str(empty), "--pair", "BTC/USD"]
    )
    assert result.output == f"error: {empty}: the file is empty: no rows to ingest " + (
        "(expected lines of time,open,high,low,close,volume,trades)\n"
    )


def test_rest_trades_that_change_a_stored_trade_are_refused(tmp_path, shared_data):
    pairs = shared_data / "kraken/rest/asset_pairs.json"
    path = shared_data / "kraken/rest/trades.json"
    catalog = SeraphimCatalog(tmp_path / "cat")
    ingest_kraken_rest(catalog, path, asset_pairs_file=pairs)
    before = snapshot(catalog.path)
    body = json.loads(path.read_text())
    trade = body["result"]["XBTUSDT"][5]
    trade[0] = str(float(trade[0]) + 1)  # same time and trade id, another price
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(body))
    with pytest.raises(ConflictError, match=r"1 new row\(s\) differ .* price [\d.]+ \(stored"):
        ingest_kraken_rest(catalog, changed, asset_pairs_file=pairs)
    assert snapshot(catalog.path) == before
    ingest_kraken_rest(catalog, changed, asset_pairs_file=pairs, replace=True)
    ticks = SeraphimCatalog(catalog.path).nautilus.query(TradeTick, identifiers=["BTC/USDT.KRAKEN"])
    assert len(ticks) == 1000
    assert [t.price.as_double() for t in ticks if t.trade_id.value == str(trade[6])] == [
        pytest.approx(float(trade[0]))
    ]


def test_rest_ohlc_with_a_wrong_interval_is_refused(tmp_path, shared_data):
    pairs = shared_data / "kraken/rest/asset_pairs.json"
    catalog = SeraphimCatalog(tmp_path / "cat")
    with pytest.raises(MalformedInputError, match="rows are 1 minute apart, but the interval"):
        ingest_kraken_rest(catalog, shared_data / "kraken/rest/ohlc.json", 5, pairs)
    assert not (catalog.path / "data").exists()


@pytest.mark.parametrize("command", [["list"], ["check"], ["remove", BAR_TYPE]])
def test_reading_commands_never_create_a_catalog(tmp_path, command):
    missing = tmp_path / "nowhere" / "catalog"
    result = CliRunner().invoke(catalog_cli, [*command, "--catalog", str(missing)])
    assert result.exit_code == 2
    assert result.output.startswith(f"error: no catalog at {missing}")
    assert not (tmp_path / "nowhere").exists()


def test_data_received_again_later_is_not_a_conflict(tmp_path):
    # A re-download stamps the same bars with a later ts_init (when they were received).
    instrument = instrument_for("BTC/USD")
    bar_type = BarType.from_str(BAR_TYPE)

    def bars(received_ns: int) -> list[Bar]:
        p = instrument.make_price
        return [
            Bar(bar_type, p(100), p(101), p(99), p(100.5), instrument.make_qty(2), ts, received_ns)
            for ts in (HOUR_NS, 2 * HOUR_NS)
        ]

    catalog = SeraphimCatalog(tmp_path)
    catalog.ingest(instrument, bars(3 * HOUR_NS), Provenance("download"))
    before = snapshot(tmp_path / "data")
    again = catalog.ingest(instrument, bars(5 * HOUR_NS), Provenance("download"))
    assert again.series[BAR_TYPE] == (2, 2) and again.replaced == {}
    assert snapshot(tmp_path / "data") == before  # the first copy, as first received, stays


def test_the_line_named_is_right_after_a_repeated_line(tmp_path, stored):
    catalog, lines = stored
    new = write_lines(tmp_path / "new.csv", [lines[298], lines[298], doubled(lines[299])])
    with pytest.raises(ConflictError, match=r"new\.csv:3 \(bar closing"):
        ingest_kraken_ohlcvt(catalog, new, "BTC/USD", 60)
