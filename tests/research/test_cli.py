"""The research commands end to end: tables, CSV, the offline study report, one-line errors."""

import json

import msgspec
import pandas as pd
from click.testing import CliRunner

from seraphim.research.cli import research
from tests.research.conftest import SYNTHETIC_CATALOG
from tests.research.conftest import make_spec


def _config(tmp_path, start, end):
    spec = make_spec(SYNTHETIC_CATALOG, tmp_path / "out", start, end)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(msgspec.to_builtins(spec)))
    return str(path)


def test_sweep_writes_results_and_an_offline_report(tmp_path):
    config = _config(tmp_path, "2024-02-01", "2024-02-20")
    grid = ["--grid", "fast=4:8:2", "--grid", "slow=8:12:4", "--constraint", "fast<slow"]
    result = CliRunner().invoke(research, ["sweep", config, *grid, "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "6 trials, 1 skipped by constraints" in result.output
    assert "deflated Sharpe ratio" in result.output
    frame = pd.read_csv(tmp_path / "out/research/sweep.csv", index_col="trial")
    assert list(frame["status"]) == ["ok", "ok", "ok", "ok", "skipped", "ok"]
    page = (tmp_path / "out/research/sweep.html").read_text()
    for words in ("Deflated Sharpe ratio", "Parallel coordinates", "by fast and slow", "SYNTHETIC"):
        assert words in page
    assert "<script src=" not in page  # plotly.js is embedded: the page works offline


def test_walk_forward_writes_folds_and_stitched_equity(tmp_path):
    config = _config(tmp_path, "2024-02-01", "2024-04-01")
    args = ["walk-forward", config, "--grid", "fast=5,10", "--grid", "slow=20"]
    result = CliRunner().invoke(
        research, [*args, "--train", "3w", "--test", "2w", "--workers", "1"]
    )
    assert result.exit_code == 0, result.output
    folds = pd.read_csv(tmp_path / "out/research/walk_forward.csv", index_col="fold")
    assert len(folds) == 3  # tests from Feb 22, Mar 7 and Mar 21
    equity = pd.read_csv(tmp_path / "out/research/walk_forward_equity.csv")
    assert len(equity) > 24 * 38  # hourly, Feb 22 to Apr 1
    assert (
        "stitched out-of-sample equity" in (tmp_path / "out/research/walk_forward.html").read_text()
    )


def test_bad_input_is_one_line(tmp_path):
    config = _config(tmp_path, "2024-02-01", "2024-02-20")
    for args, words in [
        (
            ["sweep", config, "--grid", "fast=5:1:1"],
            "error: bad grid 'fast=5:1:1': stop is below start",
        ),
        (["sweep", config], "error: give at least one --grid"),
        (["sweep", config, "--grid", "fast=5", "--constraint", "fast<slo"], "names 'slo'"),
        (
            ["walk-forward", config, "--grid", "fast=5", "--train", "1y", "--test", "1q"],
            "bad period '1q'",
        ),
    ]:
        result = CliRunner().invoke(research, args)
        assert result.exit_code == 2, result.output
        assert words in result.output
        assert "Traceback" not in result.output
