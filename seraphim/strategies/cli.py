"""``seraphim strategies``: the registered strategies and their parameters."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from seraphim.strategies.registry import all_strategies


@click.group()
def strategies() -> None:
    """Registered strategies."""


@strategies.command("list")
def list_command() -> None:
    """Name, description and parameters (with defaults) of every registered strategy."""
    table = Table(show_lines=True)
    table.add_column("name", style="bold")
    table.add_column("description")
    table.add_column("parameters (default)")
    for spec in all_strategies():
        params = "\n".join(
            f"{name}: {kind} = {default}" for name, kind, default in spec.parameters()
        )
        table.add_row(spec.name, spec.description, params)
    Console().print(table)
