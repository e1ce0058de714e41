"""The example configs and the short command-line form, for every registered strategy."""

import json
import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

from seraphim.backtest.cli import backtest
from seraphim.backtest.derived import derive_venue
from seraphim.catalog.store import SeraphimCatalog
from seraphim.paths import REPO_ROOT


@pytest.fixture(scope="module")
def sample_with_alt(tmp_path_factory):
    """The embedded synthetic sample plus a derived second BTC/USD venue (ALT)."""
    path = tmp_path_factory.mktemp("sample") / "catalog"
    shutil.copytree(REPO_ROOT / "catalog", path)
    catalog = SeraphimCatalog(path)
    derive_venue(catalog, "BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL", "ALT", end="2024-03-01")
    return catalog


SHORT_FORMS = {
    "ma_cross": ["--param", "fast=5", "--param", "slow=20"],
    "rsi_reversal": [],
    "bollinger": [],
    "momentum": ["--param", "entry_period=24", "--param", "exit_period=12"],
    "mean_reversion": ["--param", "window=24", "--param", "entry_z=1.5"],
    "pairs": ["--param", "instrument_b=ETH/USD.KRAKEN", "--param", "window=72"],
    "cross_venue_arb": ["--param", "instrument_b=BTC/USD.ALT", "--param", "fee_b=0.0005"],
}


@pytest.mark.parametrize("name", sorted(SHORT_FORMS))
def test_short_form_runs_every_strategy(name, sample_with_alt, tmp_path):
    result = CliRunner().invoke(
        backtest,
        [
            "run",
            "--strategy",
            name,
            "--instrument",
            "BTC/USD.KRAKEN",
            "--catalog",
            str(sample_with_alt.path),
            "--account-type",
            "MARGIN",
            "--param",
            "trade_size=0.5",
            "--end",
            "2024-03-01",
            "--output",
            str(tmp_path),
            *SHORT_FORMS[name],
        ],
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["orders"] > 0, name
    assert metrics["denied_orders"] == {}
    fills = pd.read_csv(tmp_path / "fills.csv")
    legs = {"pairs": 2, "cross_venue_arb": 2}.get(name, 1)
    assert fills["instrument_id"].nunique() == legs


def test_multi_strategy_config(tmp_path):
    result = CliRunner().invoke(
        backtest,
        ["run", str(REPO_ROOT / "configs/multi_strategy.yaml"), "--output", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    fills = pd.read_csv(tmp_path / "fills.csv")
    books = fills.groupby(["strategy_id", "instrument_id"]).size()
    assert set(books.index) == {
        ("MACross-000", "BTC/USD.KRAKEN"),
        ("Bollinger-001", "BTC/USD.KRAKEN"),
        ("Momentum-002", "ETH/USD.KRAKEN"),
        ("RSIReversal-003", "ETH/USD.KRAKEN"),
        ("Pairs-004", "BTC/USD.KRAKEN"),
        ("Pairs-004", "ETH/USD.KRAKEN"),
    }
    # Each strategy's own position is flat at the end (each closes its own on stop), whatever
    # the others hold in the same instrument.
    signed = fills["last_qty"] * fills["order_side"].map({"BUY": 1, "SELL": -1})
    assert (signed.groupby([fills["strategy_id"], fills["instrument_id"]]).sum().abs() < 1e-9).all()
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["risk"]["orders_checked"] == metrics["orders"]
