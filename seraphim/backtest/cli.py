"""``seraphim backtest``: run a backtest from a config file or from options."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import click
from rich.table import Table

from seraphim.backtest.config import ConfigError
from seraphim.backtest.config import load_spec
from seraphim.backtest.config import parse_spec
from seraphim.backtest.report import metric_rows
from seraphim.console import console
from seraphim.console import fail
from seraphim.console import progress_bar
from seraphim.paths import default_catalog_path


@click.group()
def backtest() -> None:
    """Backtests on nautilus's BacktestNode over the Parquet catalog."""


def _parse_params(pairs: tuple[str, ...]) -> dict:
    import yaml

    params = {}
    for pair in pairs:
        if "=" not in pair:
            raise click.BadParameter(f"expected NAME=VALUE, got {pair!r}", param_hint="--param")
        name, value = pair.split("=", 1)
        params[name.strip()] = yaml.safe_load(value)  # 10 -> int, 0.5 -> float, true -> bool
    return params


@backtest.command()
@click.argument("config", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--strategy", help="Registered strategy name (short form, without CONFIG).")
@click.option("--instrument", help="Instrument id, e.g. BTC/USD.KRAKEN (short form).")
@click.option("--bar", "bar_spec", default="1-HOUR-LAST", show_default=True, help="Bar spec.")
@click.option("--param", "params", multiple=True, help="Strategy parameter NAME=VALUE.")
@click.option("--catalog", "catalog_path", type=click.Path(path_type=Path), default=None)
@click.option("--output", type=click.Path(path_type=Path), default=None, help="Output folder.")
@click.option("--start", default=None, help="Start time (ISO).")
@click.option("--end", default=None, help="End time (ISO).")
@click.option("--balance", default="100000 USD", show_default=True, help="Starting balance.")
@click.option(
    "--account-type",
    type=click.Choice(["CASH", "MARGIN"], case_sensitive=False),
    default="CASH",
    show_default=True,
)
@click.option(
    "--journal",
    "to_journal",
    is_flag=True,
    help="Also store the run (config, metrics, trades) in the PostgreSQL journal.",
)
def run(
    config,
    strategy,
    instrument,
    bar_spec,
    params,
    catalog_path,
    output,
    start,
    end,
    balance,
    account_type,
    to_journal,
):
    """Run CONFIG (YAML/JSON), or a quick run from --strategy and --instrument."""
    strategy_params = _parse_params(params)
    if to_journal:
        from seraphim.journal.backtest import preflight

        preflight()
    from seraphim.backtest.outputs import write_outputs
    from seraphim.backtest.runner import run_backtest

    try:
        if config is not None:
            if strategy or instrument:
                raise ConfigError("give either CONFIG or --strategy/--instrument, not both")
            spec = load_spec(config)
            overrides = {
                k: v
                for k, v in {
                    "output": output,
                    "catalog": catalog_path,
                    "start": start,
                    "end": end,
                }.items()
                if v is not None
            }
            if overrides:
                import msgspec

                spec = msgspec.structs.replace(spec, **{k: str(v) for k, v in overrides.items()})
        else:
            if not (strategy and instrument):
                raise ConfigError("give a CONFIG file, or both --strategy and --instrument")
            # One account per venue the strategy trades (its other legs: instrument_b, ...).
            legs = [instrument] + [
                str(v) for k, v in strategy_params.items() if k.startswith("instrument_")
            ]
            venues = list(dict.fromkeys(leg.rsplit(".", 1)[-1] for leg in legs))
            spec = parse_spec(
                {
                    "name": f"{strategy} {instrument}",
                    "catalog": str(catalog_path or default_catalog_path()),
                    "output": str(output or Path("output") / strategy),
                    "start": start,
                    "end": end,
                    "venues": [
                        {
                            "name": venue,
                            "starting_balances": [balance],
                            "account_type": account_type.upper(),
                        }
                        for venue in venues
                    ],
                    "data": [{"bar_type": f"{instrument}-{bar_spec}-EXTERNAL"}],
                    "strategies": [{"name": strategy, "params": strategy_params}],
                },
                source="command line",
            )
        with _progress(spec) as on_bars:
            outcome = run_backtest(spec, on_bars=on_bars)
        write_outputs(outcome)
    except ConfigError as e:
        fail(str(e))
    except Exception as e:  # the engine's own failures, e.g. a balance driven negative
        fail(f"backtest failed: {type(e).__name__}: {e}", exit_code=1)
    _print_summary(outcome)
    if to_journal:
        from seraphim.journal.backtest import record_and_report

        record_and_report(outcome)


@contextlib.contextmanager
def _progress(spec) -> Iterator[Callable[[int], None] | None]:
    """A progress bar of bars processed, on a terminal only (pipes and logs stay clean)."""
    if not console.is_terminal:
        yield None
        return
    from seraphim.backtest.runner import check_catalog_has_data

    with progress_bar(f"backtest {spec.name}", check_catalog_has_data(spec).bars) as advance:
        yield advance


def _print_summary(outcome) -> None:
    metrics = outcome.metrics
    title = f"{outcome.spec.name}"
    if outcome.synthetic:
        title += " [yellow](SYNTHETIC DATA)[/]"
    table = Table(title=title, show_header=False)
    table.add_column("metric")
    table.add_column("value", justify="right", max_width=72)
    for label, value in metric_rows(metrics):
        table.add_row(label, value)
    console.print(table)
    console.print(f"results in {outcome.output} (report.html, metrics.json, fills.csv, ...)")
