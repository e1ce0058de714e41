"""The README's main job: the demo config over the embedded synthetic catalog."""

import json

import msgspec
from click.testing import CliRunner

from seraphim.backtest.cli import backtest
from seraphim.paths import REPO_ROOT

METRICS = {
    "total_return",
    "cagr",
    "sharpe",
    "sortino",
    "max_drawdown",
    "calmar",
    "win_rate",
    "profit_factor",
    "expectancy",
    "trades",
    "exposure",
    "fees_paid",
}


def test_demo_config_runs_and_reports(tmp_path):
    result = CliRunner().invoke(
        backtest, ["run", str(REPO_ROOT / "configs/demo.yaml"), "--output", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "SYNTHETIC" in result.output and "Max drawdown" in result.output
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert set(metrics) >= METRICS
    assert metrics["synthetic_data"] is True
    assert metrics["trades"] > 10 and metrics["fees_paid"]["USD"] > 0
    # Equity accounting closes: the final equity moved by exactly the trades' realised PnL.
    change = metrics["end_equity"] - metrics["start_equity"]
    assert abs(change - metrics["realized_pnl"]) < 0.05
    report = (tmp_path / "report.html").read_text()
    assert "SYNTHETIC DATA" in report
    assert "plotly" in report.lower() and "<script" in report  # charts embedded, offline
    assert "cdn" not in report.split("<body>")[0].lower()
    for name in ("orders.csv", "fills.csv", "positions.csv", "equity.csv", "account_KRAKEN.csv"):
        assert (tmp_path / name).stat().st_size > 0


def test_short_form_with_params(tmp_path):
    result = CliRunner().invoke(
        backtest,
        [
            "run",
            "--strategy",
            "ma_cross",
            "--instrument",
            "ETH/USD.KRAKEN",
            "--catalog",
            str(REPO_ROOT / "catalog"),
            "--param",
            "fast=5",
            "--param",
            "slow=15",
            "--param",
            "trade_size=2",
            "--output",
            str(tmp_path),
            "--end",
            "2024-03-01",
        ],
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["period"]["end"] <= "2024-03-01T00:00:00+00:00"
    fills = (tmp_path / "fills.csv").read_text().splitlines()
    assert len(fills) > 10 and "ETH/USD.KRAKEN" in fills[1]


def test_run_backtest_reports_progress_and_writes_nothing(tmp_path):
    """The runner returns the outcome (benchmarks and sweeps time no writing); progress is
    reported as bars pass through the engine."""
    from seraphim.backtest.config import load_spec
    from seraphim.backtest.outputs import write_outputs
    from seraphim.backtest.runner import PROGRESS_EVERY
    from seraphim.backtest.runner import check_catalog_has_data
    from seraphim.backtest.runner import run_backtest

    spec = msgspec.structs.replace(
        load_spec(REPO_ROOT / "configs/demo.yaml"), output=str(tmp_path / "out")
    )
    reported: list[int] = []
    outcome = run_backtest(spec, on_bars=reported.append)
    assert not (tmp_path / "out").exists()
    bars = outcome.metrics["period"]["bars"]
    assert check_catalog_has_data(spec).bars == bars
    assert sum(reported) == bars - bars % PROGRESS_EVERY
    write_outputs(outcome)
    assert (tmp_path / "out" / "report.html").stat().st_size > 0
