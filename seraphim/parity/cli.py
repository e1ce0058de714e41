"""``seraphim parity CONFIG``: a backtest file's strategies backtested and traded live, compared."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from seraphim.backtest.config import ConfigError
from seraphim.console import console
from seraphim.console import fail


@click.command()
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--start", default=None, help="Window start (ISO); default: the file's.")
@click.option("--end", default=None, help="Window end (ISO); default: the file's.")
@click.option(
    "--catalog",
    "catalog_path",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Catalog to read instead of the file's.",
)
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Report folder [default: <the file's output>/parity].",
)
@click.option(
    "--tolerance",
    type=click.FloatRange(min=0),
    default=0.005,
    show_default=True,
    help="Largest PnL difference, relative to the backtest's PnL.",
)
@click.option(
    "--qty-tolerance",
    "quantity_tolerance",
    type=click.FloatRange(min=0),
    default=1e-4,
    show_default=True,
    help="Largest relative quantity difference of otherwise identical orders (sizing from "
    "equity follows the fee rounding); 0: quantities must be identical.",
)
@click.option(
    "--step-timeout",
    type=click.FloatRange(min=1),
    default=60.0,
    show_default=True,
    help="Seconds the node may take to catch up with one market print.",
)
@click.option("-v", "--verbose", is_flag=True, help="The node's log (INFO) on stdout.")
def parity(
    config: Path,
    start: str | None,
    end: str | None,
    catalog_path: Path | None,
    output: Path | None,
    tolerance: float,
    quantity_tolerance: float,
    step_timeout: float,
    verbose: bool,
) -> None:
    """
    Replay CONFIG's bars (a backtest file) through nautilus's BacktestEngine and, in lockstep,
    through a TradingNode against the local Kraken exchange serving the same bars; compare
    order sequences, fills, fees and final PnL, and explain each difference by its cause.
    Writes parity.md, parity.json and both sides' orders and fills; exits 1 when the orders
    differ (beyond --qty-tolerance in quantity) or the PnL difference exceeds --tolerance, 2 on
    bad input, 3 when the live side could not finish the replay.
    """
    from seraphim.node.config import NodeConfigError
    from seraphim.node.lifecycle import NodeStartError
    from seraphim.node.preflight import DependencyError
    from seraphim.parity.live import LiveRunError
    from seraphim.parity.live import ParityError
    from seraphim.parity.report import summary_lines
    from seraphim.parity.report import write_parity
    from seraphim.parity.runner import run_parity

    # The adapter's HTTP client logs its retries through the standard library; the node's
    # own log is nautilus's (its level below).
    logging.basicConfig(level=logging.INFO if verbose else logging.ERROR, stream=sys.stderr)
    try:
        run = run_parity(
            config,
            start=start,
            end=end,
            output=output,
            catalog=catalog_path,
            tolerance=tolerance,
            quantity_tolerance=quantity_tolerance,
            step_timeout=step_timeout,
            log_level="INFO" if verbose else "ERROR",
        )
    except (ConfigError, NodeConfigError, ParityError, ValueError) as e:
        fail(str(e))
    except (DependencyError, NodeStartError, LiveRunError) as e:
        fail(f"live side: {e}", exit_code=3)
    path = write_parity(run)
    console.print("\n".join(summary_lines(run)), markup=False, highlight=False)
    console.print(f"\nreport in {path}", markup=False, highlight=False)
    if not run.parity.holds:
        raise SystemExit(1)
