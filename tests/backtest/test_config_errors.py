"""Bad backtest input: a clear message naming the problem, exit code 2, no traceback."""

import pytest
from click.testing import CliRunner

from seraphim.backtest.cli import backtest
from seraphim.backtest.config import ConfigError
from seraphim.backtest.config import build_run_config
from seraphim.backtest.config import parse_spec
from seraphim.paths import REPO_ROOT

GOOD = {
    "data": [{"bar_type": "BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL"}],
    "strategies": [{"name": "ma_cross", "params": {"fast": 5, "slow": 20}}],
}


def spec(**changes):
    return parse_spec({**GOOD, **changes})


def test_good_spec_builds_a_nautilus_run_config():
    run_config = build_run_config(spec(catalog=str(REPO_ROOT / "catalog")))
    assert run_config.chunk_size == 100_000  # streams from the catalog
    (strategy,) = run_config.engine.strategies
    assert strategy.strategy_path == "seraphim.strategies.ma_cross:MACross"
    assert strategy.config["instrument_id"] == "BTC/USD.KRAKEN"
    assert run_config.venues[0].fee_model.fee_model_path.endswith("KrakenFeeModel")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"strategies": [{"name": "nope"}]}, "unknown strategy 'nope'"),
        ({"strategies": [{"name": "ma_cross", "params": {"fats": 3}}]}, "unknown parameter.*fats"),
        ({"data": [{"bar_type": "garbage"}]}, "bad bar_type 'garbage'"),
        ({"data": [{"bar_type": "BTC/USD.BINANCE-1-HOUR-LAST-EXTERNAL"}]}, "no entry in `venues`"),
        ({"venues": [{"name": "KRAKEN", "colour": "red"}]}, "colour"),
        (
            {"strategies": [{"name": "ma_cross", "params": {"long_only": False}}]},
            "needs a MARGIN account",
        ),
    ],
)
def test_bad_specs(changes, message):
    with pytest.raises(ConfigError, match=message):
        build_run_config(spec(**changes))


def test_fast_must_be_below_slow(tmp_path):
    from seraphim.strategies.ma_cross import MACross
    from seraphim.strategies.ma_cross import MACrossConfig

    config = MACrossConfig(
        instrument_id="BTC/USD.KRAKEN",
        bar_type="BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL",
        fast=30,
        slow=10,
    )
    with pytest.raises(ValueError, match=r"fast \(30\) must be less than slow \(10\)"):
        MACross(config)


def run_cli(*args):
    return CliRunner().invoke(backtest, ["run", *args])


def test_cli_missing_config_file(tmp_path):
    result = run_cli(str(tmp_path / "missing.yaml"))
    assert result.exit_code == 2
    assert "backtest config not found" in result.output
    assert "Traceback" not in result.output


def test_cli_invalid_yaml(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: [unclosed\n")
    result = run_cli(str(bad))
    assert result.exit_code == 2
    assert "not valid YAML" in result.output


def test_cli_bar_type_missing_from_catalog(tmp_path):
    result = run_cli(
        "--strategy",
        "ma_cross",
        "--instrument",
        "SOL/USD.KRAKEN",
        "--catalog",
        str(REPO_ROOT / "catalog"),
        "--output",
        str(tmp_path),
    )
    assert result.exit_code == 2
    assert "no bars SOL/USD.KRAKEN-1-HOUR-LAST-EXTERNAL in catalog" in result.output
    assert "BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL" in result.output  # what is there


def test_cli_empty_catalog(tmp_path):
    result = run_cli(
        "--strategy",
        "ma_cross",
        "--instrument",
        "BTC/USD.KRAKEN",
        "--catalog",
        str(tmp_path / "empty"),
        "--output",
        str(tmp_path / "out"),
    )
    assert result.exit_code == 2
    assert "holds no data" in result.output


def test_cli_needs_config_or_strategy():
    result = run_cli()
    assert result.exit_code == 2
    assert "give a CONFIG file" in result.output


def test_cli_bad_param_syntax(tmp_path):
    result = run_cli("--strategy", "ma_cross", "--instrument", "BTC/USD.KRAKEN", "--param", "fast")
    assert result.exit_code == 2
    assert "expected NAME=VALUE" in result.output


@pytest.mark.parametrize(
    ("window", "message"),
    [
        (["--start", "2030-01-01"], "between 2030-01-01 and the end (the catalog has 2024-01-01"),
        (["--end", "2020-01-01"], "between the start and 2020-01-01 (the catalog has 2024-01-01"),
    ],
)
def test_cli_window_outside_the_data(tmp_path, window, message):
    """A window with no bars is an error naming the catalog's range, not a table of dashes."""
    result = run_cli(
        str(REPO_ROOT / "configs/demo.yaml"), "--output", str(tmp_path / "out"), *window
    )
    assert result.exit_code == 2, result.output
    assert "no bars BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL" in result.output
    assert message in result.output
    assert not (tmp_path / "out").exists()
