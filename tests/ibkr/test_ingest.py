"""``seraphim catalog ingest ibkr`` through nautilus's HistoricInteractiveBrokersClient, then a
backtest on what it stored. Each command runs in a subprocess (nautilus logging starts once per
process); the gateway runs in this process, its clock starting on Friday 2025-03-07 evening."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import time

import pytest
import yaml
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType

from seraphim.catalog.store import SeraphimCatalog
from seraphim.sim.ibkr import ThreadedGateway
from seraphim.sim.ibkr.history import parse_bar_size
from seraphim.sim.ibkr.messages import In

from .helpers import FRIDAY_EVENING
from .helpers import cli_env
from .helpers import gateway_config
from .helpers import seraphim

HOURLY = "AAPL.NASDAQ-1-HOUR-LAST-EXTERNAL"
MINUTE = "AAPL.NASDAQ-1-MINUTE-LAST-EXTERNAL"
NS = 1_000_000_000


def _gateway(**overrides):
    """The gateway's clock starts on Friday evening and runs (IB's pacing counts real time)."""
    started = time.monotonic()
    clock = {"clock": lambda: FRIDAY_EVENING + time.monotonic() - started}
    return ThreadedGateway(gateway_config(**clock, around_the_clock=False, **overrides))


def ingest(port: int, catalog, *extra: str):
    return seraphim(
        "catalog", "ingest", "ibkr", "--symbol", "AAPL", "--exchange", "NASDAQ",
        "--port", str(port), "--catalog", str(catalog), "--synthetic", *extra,
        env=cli_env(),
    )  # fmt: skip


def stored(catalog, bar_type: str) -> list[Bar]:
    return SeraphimCatalog(catalog).nautilus.query(Bar, identifiers=[bar_type])


def test_hourly_week_matches_the_gateway_and_is_idempotent(tmp_path) -> None:
    catalog = tmp_path / "catalog"
    with _gateway() as gw:
        run = ingest(
            gw.port, catalog, "--bar", "1-HOUR", "--start", "2025-03-03", "--end", "2025-03-08"
        )
        assert run.returncode == 0, run.stderr + run.stdout
        assert f"{HOURLY}: 35 rows read, +35 new, 35 stored" in run.stdout
        # The gateway's own bars for the same week, regular hours.
        truth = gw.call(
            lambda: gw.server.history.bars(
                gw.server.universe.get(265598),
                dt.datetime(2025, 3, 8, tzinfo=dt.UTC).timestamp(),
                5 * 86_400,
                parse_bar_size("1 hour"),
                "TRADES",
                True,
                FRIDAY_EVENING,
            )
        )
        again = ingest(
            gw.port, catalog, "--bar", "1-HOUR", "--start", "2025-03-03", "--end", "2025-03-08"
        )
    assert again.returncode == 0, again.stderr
    assert f"{HOURLY}: 35 rows read, +0 new, 35 stored" in again.stdout
    bars = stored(catalog, HOURLY)
    assert len(bars) == len(truth) == 35  # 5 days x 7 regular-hours bars (09:30, 10:00 ... 15:00)
    for bar, row in zip(bars, truth, strict=True):
        # Stamped at the close: nautilus's IB bars close one bar length after they open.
        assert bar.ts_event == bar.ts_init == int(row.start) * NS + 3600 * NS
        assert (bar.open.as_double(), bar.high.as_double()) == (row.open, row.high)
        assert (bar.low.as_double(), bar.close.as_double()) == (row.low, row.close)
        assert int(bar.volume.as_decimal()) == row.volume
    first = dt.datetime.fromtimestamp(bars[0].ts_event / NS, dt.UTC)
    assert first == dt.datetime(2025, 3, 3, 15, 30, tzinfo=dt.UTC)  # 09:30 New York + 1 h
    entry = SeraphimCatalog(catalog).provenance(HOURLY)
    assert entry["synthetic"] is True
    assert entry["sources"][0]["source"] == "ibkr-historical"
    assert entry["instrument_id"] == "AAPL.NASDAQ"
    instrument = SeraphimCatalog(catalog).nautilus.instruments()[0]
    assert str(instrument.id) == "AAPL.NASDAQ" and instrument.isin == "US0378331005"


def test_minute_bars_over_a_week_are_chunked_and_paced(tmp_path) -> None:
    catalog = tmp_path / "catalog"
    with _gateway(pacing=True) as gw:
        run = ingest(
            gw.port, catalog, "--bar", "1-MINUTE", "--start", "2025-03-01", "--end", "2025-03-08"
        )
        requests = gw.call(lambda: gw.server.requests_seen.get(int(In.REQ_HISTORICAL_DATA), 0))
    assert run.returncode == 0, run.stderr + run.stdout
    # One request per day (IB serves one day of 1-minute bars per request): 7 requests, more
    # than the 5 per 2 s IB allows for one contract. The gateway enforces the rule, so "0 pacing
    # violations" below proves the pacer spaced them (how long it waited depends on how fast the
    # gateway answered; the pacer's arithmetic is tested in test_units.py).
    assert requests == 7
    progress = re.findall(
        r"\[(\d)/7\] (\S+) \S+ \.\. \S+ \S+: (\d+) bars( \(no data\))?", run.stdout
    )
    assert [p[0] for p in progress] == [str(i) for i in range(1, 8)]
    assert [int(p[2]) for p in progress] == [0, 0, 390, 390, 390, 390, 390]  # Sat, Sun, Mon-Fri
    assert re.search(r"7 request\(s\), [\d.]+ s waited for IB's pacing, 0 pacing", run.stdout)
    bars = stored(catalog, MINUTE)
    assert len(bars) == 5 * 390
    assert len({b.ts_event for b in bars}) == len(bars)
    assert all(b.ts_event - a.ts_event >= 60 * NS for a, b in itertools.pairwise(bars))


@pytest.mark.slow  # the retry is an identical request: IB wants 15 s between those
def test_a_pacing_violation_is_waited_out_and_retried(tmp_path) -> None:
    catalog = tmp_path / "catalog"
    with _gateway(pacing=True) as gw:
        gw.call(lambda: gw.server.faults.force_pacing_violations(1))
        run = ingest(
            gw.port, catalog, "--bar", "1-HOUR", "--start", "2025-03-03", "--end", "2025-03-08",
            "--pacing-backoff", "0.5",
        )  # fmt: skip
        requests = gw.call(lambda: gw.server.requests_seen.get(int(In.REQ_HISTORICAL_DATA), 0))
    assert run.returncode == 0, run.stderr + run.stdout
    assert requests == 2  # refused once with 162, then served
    assert "after 1 pacing violation(s)" in run.stdout
    assert "1 pacing violation(s) retried" in run.stdout
    assert len(stored(catalog, HOURLY)) == 35


def test_errors_are_reported_plainly(tmp_path) -> None:
    with _gateway() as gw:
        unknown = seraphim(
            "catalog", "ingest", "ibkr", "--symbol", "NOPE", "--exchange", "NASDAQ",
            "--port", str(gw.port), "--start", "2025-03-03", "--catalog", str(tmp_path),
        )  # fmt: skip
        port = gw.port
    assert unknown.returncode == 2
    assert "IB does not know NOPE STK NASDAQ" in unknown.stdout
    down = ingest(port, tmp_path, "--start", "2025-03-03")
    assert down.returncode == 2 and f"no IB Gateway/TWS at 127.0.0.1:{port}" in down.stdout
    bad = ingest(port, tmp_path, "--start", "March")
    assert bad.returncode == 2 and "--start: expected an ISO date/time" in bad.stdout


@pytest.mark.slow
def test_a_backtest_runs_on_the_ingested_bars(tmp_path) -> None:
    catalog = tmp_path / "catalog"
    with _gateway() as gw:
        run = ingest(
            gw.port, catalog, "--bar", "1-HOUR", "--all-hours",
            "--start", "2025-02-03", "--end", "2025-03-07T01:00",
        )  # fmt: skip
    assert run.returncode == 0, run.stderr + run.stdout
    # Monday 2025-02-03 to Thursday 2025-03-06 (20:00 New York = 01:00 UTC): 24 weekdays of
    # extended hours, 04:00-20:00 New York.
    assert len(stored(catalog, HOURLY)) == 24 * 16
    spec = {
        "name": "ma_cross AAPL from IB history",
        "catalog": "catalog",
        "output": "out",
        "venues": [
            {
                "name": "NASDAQ",
                "account_type": "MARGIN",
                "starting_balances": ["100000 USD"],
                "fees": {"maker": 0.0, "taker": 0.0},
            }
        ],
        "data": [{"bar_type": HOURLY}],
        "strategies": [{"name": "ma_cross", "params": {"fast": 5, "slow": 20, "trade_size": 10}}],
        # Seraphim's risk gate assumes currency pairs (base_currency); equities bypass it here.
        "risk": {"enabled": False},
    }
    (tmp_path / "backtest.yaml").write_text(yaml.safe_dump(spec))
    backtest = seraphim("backtest", "run", str(tmp_path / "backtest.yaml"))
    assert backtest.returncode == 0, backtest.stdout[-3000:] + backtest.stderr[-3000:]
    assert "SYNTHETIC DATA" in backtest.stdout
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["orders"] > 0
    assert metrics["synthetic_data"] is True
    assert metrics["fills"] == metrics["orders"]
    fills = (tmp_path / "out" / "fills.csv").read_text().splitlines()
    assert len(fills) - 1 == metrics["orders"]
    assert BarType.from_str(HOURLY).instrument_id.value in fills[1]
