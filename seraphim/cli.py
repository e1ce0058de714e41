"""The ``seraphim`` command line."""

from __future__ import annotations

import importlib

import click

# Subcommand groups, loaded on first use so `seraphim --help` stays fast.
_COMMANDS: dict[str, str] = {
    "catalog": "seraphim.catalog.cli:catalog",
    "backtest": "seraphim.backtest.cli:backtest",
    "strategies": "seraphim.strategies.cli:strategies",
    "sim": "seraphim.sim.cli:sim",
    "ibkr": "seraphim.adapters.ibkr.cli:ibkr",
    "state": "seraphim.state.cli:state",
    "journal": "seraphim.journal.cli:journal",
    "node": "seraphim.node.cli:node",
    "kraken": "seraphim.adapters.kraken.cli:kraken",
    "control": "seraphim.ops.cli:control",
    "monitor": "seraphim.ops.monitor_cli:monitor",
    "research": "seraphim.research.cli:research",
    "dashboard": "seraphim.dashboard.cli:dashboard",
    "parity": "seraphim.parity.cli:parity",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported from ``module:attribute`` on demand."""

    def __init__(self, *args, lazy_commands: dict[str, str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = lazy_commands or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands:
            module_name, attribute = self.lazy_commands[cmd_name].split(":")
            return getattr(importlib.import_module(module_name), attribute)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, lazy_commands=_COMMANDS)
@click.version_option(package_name="seraphim")
def main() -> None:
    """Seraphim: backtest and trade Kraken and Interactive Brokers on nautilus_trader."""
