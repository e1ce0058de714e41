"""Bias checks: a strategy that peeks one bar ahead is flagged; every library strategy passes."""

import shutil

import pytest
from click.testing import CliRunner

from seraphim.backtest.derived import derive_venue
from seraphim.catalog.store import SeraphimCatalog
from seraphim.research.bias import BiasCheckError
from seraphim.research.bias import check_bias
from seraphim.research.cli import research
from seraphim.strategies.registry import all_strategies
from tests.research.conftest import SYNTHETIC_CATALOG
from tests.research.conftest import make_spec

START, END = "2024-02-01", "2024-03-15"
ETH = "ETH/USD.KRAKEN"

# Parameters that make each library strategy trade in the window (defaults otherwise).
LIBRARY = {
    "bollinger": {"period": 20, "k": 1.5},
    "cross_venue_arb": {"instrument_b": "BTC/USD.ALT", "min_edge": 0.0005},
    "ma_cross": {"fast": 10, "slow": 30, "long_only": False},
    "mean_reversion": {"window": 24, "entry_z": 1.5},
    "momentum": {"entry_period": 24, "exit_period": 12, "roc_period": 12},
    "pairs": {"instrument_b": ETH},
    "rsi_reversal": {},
}


def _spec(tmp_path, name, params, catalog=SYNTHETIC_CATALOG, venues=("KRAKEN",)):
    strategy = {"name": name, "params": {"trade_size": 0.5, **params}}
    return make_spec(catalog, tmp_path / "out", START, END, [strategy], venues, "MARGIN")


def test_a_strategy_that_peeks_one_bar_ahead_is_flagged(tmp_path):
    peek = {"catalog": str(SYNTHETIC_CATALOG.resolve())}
    spec = _spec(tmp_path, "tests.research.peeking:peek_ahead", peek)
    report = check_bias(spec, cuts=2, starts=1)
    assert report.biased
    assert {f.check for f in report.findings} == {"lookahead"}
    assert "missing: the full run had" in report.findings[0].detail


def test_a_strategy_that_depends_on_its_start_is_flagged(tmp_path):
    spec = _spec(tmp_path, "tests.research.peeking:every_nth_bar", {"every": 37})
    report = check_bias(spec, cuts=2, starts=2)
    assert report.lookahead_cuts == 2
    assert [f.check for f in report.findings] == ["warm-up", "warm-up"]


def test_the_command_exits_non_zero_on_bias(tmp_path):
    args = ["--start", START, "--end", "2024-02-20", "--catalog", str(SYNTHETIC_CATALOG)]
    args += ["--param", "trade_size=0.5", "--cuts", "2", "--starts", "1"]
    peek = CliRunner().invoke(
        research,
        [
            "bias",
            "tests.research.peeking:peek_ahead",
            "--param",
            f"catalog={SYNTHETIC_CATALOG}",
            *args,
        ],
    )
    assert peek.exit_code == 1, peek.output
    assert "lookahead bias at" in peek.output
    honest = CliRunner().invoke(research, ["bias", "ma_cross", *args])
    assert honest.exit_code == 0, honest.output
    assert "no bias found" in honest.output


def test_settle_must_leave_bars_to_compare(tmp_path):
    spec = _spec(tmp_path, "ma_cross", {})
    with pytest.raises(BiasCheckError, match="settle 900 bars leaves nothing to compare in 1033"):
        check_bias(spec, settle_bars=900)


def test_every_library_strategy_is_listed_here():
    library = {
        s.name for s in all_strategies() if s.strategy_cls.__module__.startswith("seraphim.")
    }
    assert library == set(LIBRARY)


@pytest.fixture(scope="module")
def two_venue_catalog(tmp_path_factory):
    """The synthetic catalog plus BTC/USD re-priced onto a derived venue ALT."""
    path = tmp_path_factory.mktemp("bias_catalog") / "catalog"
    shutil.copytree(SYNTHETIC_CATALOG, path)
    catalog = SeraphimCatalog(path)
    derive_venue(catalog, "BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL", "ALT", start=START, end=END)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_library_strategy_has_no_bias(name, tmp_path, two_venue_catalog):
    venues = ("KRAKEN", "ALT") if name == "cross_venue_arb" else ("KRAKEN",)
    spec = _spec(tmp_path, name, LIBRARY[name], two_venue_catalog, venues)
    report = check_bias(spec, cuts=3, starts=2)
    assert report.orders >= 4, f"{name} hardly trades: the check proves little"
    assert report.warmup_starts == 2, "no later start reached the full run's positions"
    assert not report.biased, report.findings
