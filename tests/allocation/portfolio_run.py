"""Run the example portfolio file on another catalog and window; read the tables it writes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from seraphim.backtest.config import load_spec
from seraphim.backtest.config import parse_spec
from seraphim.backtest.outputs import write_outputs
from seraphim.backtest.runner import run_backtest
from seraphim.config_files import read_config_file

EXAMPLE = Path(__file__).resolve().parents[2] / "configs/portfolio_risk_parity.yaml"


def example_raw() -> dict:
    return read_config_file(EXAMPLE, error=ValueError, what="backtest config")


def run_portfolio(catalog, out: Path, start: str, end: str, **changes) -> dict[str, pd.DataFrame]:
    """The example file with ``changes`` (top-level keys) on ``catalog``; its output tables."""
    raw = {**example_raw(), **changes}
    raw.update(catalog=str(catalog.path), output=str(out), start=start, end=end)
    write_outputs(run_backtest(parse_spec(raw, source=str(EXAMPLE))))
    stamps = ["timestamp"]
    return {
        "allocation": pd.read_csv(out / "allocation.csv", parse_dates=stamps),
        "returns": pd.read_csv(out / "strategy_returns.csv", parse_dates=stamps),
        "equity": pd.read_csv(out / "equity.csv", parse_dates=stamps, index_col="timestamp"),
    }


def example_spec():
    return load_spec(EXAMPLE)
