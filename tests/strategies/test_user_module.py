"""A user's own strategy module, exactly as the README shows it, runs from the command line."""

import json

from click.testing import CliRunner

from seraphim.backtest.cli import backtest
from seraphim.paths import REPO_ROOT


def readme_example() -> str:
    readme = (REPO_ROOT / "README.md").read_text()
    return readme.split("A strategy is a small class on nautilus's `Strategy`:\n\n```python\n")[
        1
    ].split("```")[0]


def test_readme_strategy_runs_as_module_colon_name(tmp_path, monkeypatch):
    (tmp_path / "readme_strategies.py").write_text(readme_example())
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        backtest,
        [
            "run", "--strategy", "readme_strategies:my_strategy",
            "--instrument", "BTC/USD.KRAKEN", "--catalog", str(REPO_ROOT / "catalog"),
            "--param", "trade_size=0.5", "--end", "2024-03-01", "--output", str(tmp_path / "out"),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["trades"] > 0


def test_unknown_module_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        backtest, ["run", "--strategy", "nowhere:thing", "--instrument", "BTC/USD.KRAKEN"]
    )
    assert result.exit_code == 2
    assert "cannot import strategy module 'nowhere'" in result.output
