"""``seraphim strategies``: the registered strategies and their parameters."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from seraphim.strategies.registry import all_strategies

# Parameters every Seraphim strategy takes (shown once, under the table).
_REQUIRED_SHARED = {"instrument_id", "bar_type"}


def _shared_parameters() -> list[tuple[str, str, object]]:
    from seraphim.strategies.base import SeraphimStrategyConfig
    from seraphim.strategies.registry import StrategySpec

    return StrategySpec("base", object, SeraphimStrategyConfig).parameters()


@click.group()
def strategies() -> None:
    """Registered strategies."""


@strategies.command("list")
@click.option("--all-params", is_flag=True, help="Also list the shared parameters per strategy.")
def list_command(all_params: bool) -> None:
    """Name, description and parameters (with defaults) of every registered strategy."""
    shared = _shared_parameters()
    shared_names = {name for name, _, _ in shared} - _REQUIRED_SHARED
    table = Table(show_lines=True, title="Registered strategies")
    table.add_column("name", style="bold")
    table.add_column("description")
    table.add_column("parameters (default)")
    for spec in all_strategies():
        params = "\n".join(
            f"{name}: {kind} = {default}"
            for name, kind, default in spec.parameters()
            if all_params or name not in shared_names
        )
        table.add_row(spec.name, spec.description, params)
    console = Console()
    console.print(table)
    if not all_params:
        console.print(
            "Every strategy also takes: "
            + ", ".join(
                f"{name} = {default}" for name, _, default in shared if name in shared_names
            ),
        )
