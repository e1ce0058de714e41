"""`seraphim backtest run --journal`: config, metrics and trades land in the journal; reports."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner

from seraphim.backtest.cli import backtest
from seraphim.journal.cli import journal
from seraphim.journal.settings import connect
from seraphim.paths import REPO_ROOT

from .conftest import query


@pytest.fixture(scope="module")
def demo_run(journal_db, tmp_path_factory):
    """The demo backtest, run once with --journal: (metrics, run id, dsn, schema)."""
    dsn, schema = journal_db
    out = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SERAPHIM_PG_DSN", dsn)
        mp.setenv("SERAPHIM_PG_SCHEMA", schema)
        result = CliRunner().invoke(
            backtest,
            ["run", str(REPO_ROOT / "configs/demo.yaml"), "--output", str(out), "--journal"],
        )
    assert result.exit_code == 0, result.output
    assert "journal: run " in result.output
    metrics = json.loads((out / "metrics.json").read_text())
    (run_id,) = query(dsn, schema, "SELECT run_id FROM runs WHERE kind = 'backtest'")[0]
    return metrics, str(run_id), dsn, schema


def test_run_stores_config_metrics_and_every_trade(demo_run):
    metrics, run_id, dsn, schema = demo_run
    (name, config, stored, start, end) = query(
        dsn, schema, "SELECT name, config, metrics, period_start, period_end FROM runs"
    )[0]
    assert name == "demo ma_cross BTC/USD"
    assert config["strategies"][0]["name"] == "ma_cross"
    assert stored["sharpe"] == pytest.approx(metrics["sharpe"])
    assert stored["fills"] == metrics["fills"] and start < end
    scope = f"backtest:{run_id}"
    fills = query(
        dsn, schema, "SELECT count(*), sum(commission) FROM fills WHERE scope = %s", (scope,)
    )[0]
    assert fills[0] == metrics["fills"]
    assert float(fills[1]) == pytest.approx(metrics["fees_paid"]["USD"], abs=0.01)
    orders = query(dsn, schema, "SELECT count(*) FROM orders WHERE scope = %s", (scope,))[0][0]
    assert orders == metrics["orders"]
    (realized,) = query(dsn, schema, "SELECT sum(realized_pnl) FROM daily_pnl")[0]
    assert float(realized) == pytest.approx(metrics["realized_pnl"], abs=0.01)
    # Each trade id exactly once.
    dupes = query(
        dsn, schema, "SELECT trade_id FROM fills GROUP BY scope, trade_id HAVING count(*) > 1"
    )
    assert dupes == []


def test_reports_pnl_fees_trades_runs(demo_run, monkeypatch):
    metrics, run_id, dsn, schema = demo_run
    monkeypatch.setenv("SERAPHIM_PG_DSN", dsn)
    monkeypatch.setenv("SERAPHIM_PG_SCHEMA", schema)
    runner = CliRunner()

    result = runner.invoke(journal, ["pnl", "--run", run_id[:8], "--by", "strategy", "--json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    assert row["strategy_id"] == "MACross-000" and row["source"] == f"backtest:{run_id[:8]}"
    assert float(row["realized_pnl"]) == pytest.approx(metrics["realized_pnl"], abs=0.01)
    assert float(row["fees"]) == pytest.approx(metrics["fees_paid"]["USD"], abs=0.01)
    assert row["fills"] == metrics["fills"]

    result = runner.invoke(journal, ["pnl", "--run", "latest", "--json"])
    days = json.loads(result.output)
    assert len(days) > 20 and all(d["day"] for d in days)
    total = sum(Decimal(d["realized_pnl"]) for d in days)
    assert float(total) == pytest.approx(metrics["realized_pnl"], abs=0.01)
    result = runner.invoke(
        journal, ["pnl", "--since", "2024-03-01", "--until", "2024-03-31", "--json"]
    )
    march = json.loads(result.output)
    assert march and all("2024-03-01" <= d["day"] <= "2024-03-31" for d in march)

    result = runner.invoke(journal, ["pnl"])  # the table for people
    assert result.exit_code == 0 and "MACross-000" in result.output and "total" in result.output

    result = runner.invoke(journal, ["fees", "--json"])
    (fee,) = json.loads(result.output)
    assert fee["taker_fills"] == metrics["fills"] and 0 < fee["fee_bps"] < 100

    result = runner.invoke(journal, ["trades", "--limit", "5", "--json"])
    trades = json.loads(result.output)
    assert len(trades) == 5 and trades[0]["ts_event"] >= trades[-1]["ts_event"]
    result = runner.invoke(journal, ["trades", "--strategy", "MACross-*", "--limit", "0", "--json"])
    assert len(json.loads(result.output)) == metrics["fills"]
    result = runner.invoke(journal, ["trades", "--strategy", "Nope-*", "--json"])
    assert json.loads(result.output) == []

    result = runner.invoke(journal, ["runs", "--json"])
    runs = json.loads(result.output)
    assert runs[0]["run_id"] == run_id and runs[0]["fills"] == metrics["fills"]
    result = runner.invoke(journal, ["runs", "--show", run_id[:8]])
    assert json.loads(result.output)["config"]["name"] == "demo ma_cross BTC/USD"
    result = runner.invoke(journal, ["runs"])
    assert result.exit_code == 0 and run_id[:8] in result.output


def test_pnl_totals_keep_backtest_and_live_apart(demo_run, monkeypatch):
    """A live session with the backtest's very trades: two totals of the same figure, never
    one total of twice that."""
    metrics, run_id, dsn, schema = demo_run
    monkeypatch.setenv("SERAPHIM_PG_DSN", dsn)
    monkeypatch.setenv("SERAPHIM_PG_SCHEMA", schema)
    live = "live:COPY-001"
    conn = connect(dsn, schema, autocommit=True)
    try:
        new_ids = {"fills": "", "position_events": ", event_id = gen_random_uuid()"}
        for table, new_id in new_ids.items():
            with conn.transaction():
                conn.execute(
                    f"CREATE TEMP TABLE t AS SELECT * FROM {table} WHERE scope = %s",
                    (f"backtest:{run_id}",),
                )
                conn.execute(
                    f"UPDATE t SET scope = %s, run_id = NULL, trader_id = 'COPY-001'{new_id}",
                    (live,),
                )
                conn.execute(f"INSERT INTO {table} SELECT * FROM t")
                conn.execute("DROP TABLE t")
        result = CliRunner().invoke(journal, ["pnl", "--by", "strategy"])
        assert result.exit_code == 0, result.output
        once = f"{Decimal(str(metrics['realized_pnl'])):,.2f}"
        twice = f"{2 * Decimal(str(metrics['realized_pnl'])):,.2f}"
        totals = [line for line in result.output.splitlines() if "total" in line]
        assert len(totals) == 2, result.output
        assert any(f"backtest:{run_id[:8]}" in t for t in totals)
        assert any(live in t for t in totals)
        assert all(once in t and str(metrics["fills"]) in t for t in totals)
        assert twice not in result.output
    finally:
        for table in ("fills", "position_events"):
            conn.execute(f"DELETE FROM {table} WHERE scope = %s", (live,))
        conn.close()


def test_journal_flag_fails_early_without_a_journal(tmp_path, monkeypatch):
    monkeypatch.setenv("SERAPHIM_PG_DSN", "host=127.0.0.1 port=1 dbname=x user=postgres")
    result = CliRunner().invoke(
        backtest,
        ["run", str(REPO_ROOT / "configs/demo.yaml"), "--output", str(tmp_path), "--journal"],
    )
    assert result.exit_code == 1
    assert result.output.startswith("error: --journal: cannot reach PostgreSQL")
    assert not (tmp_path / "metrics.json").exists()  # failed before running
