"""``seraphim sim``: start a local venue."""

from __future__ import annotations

import click

from seraphim.cli import LazyGroup


@click.group(
    cls=LazyGroup,
    lazy_commands={
        "kraken": "seraphim.sim.kraken.cli:kraken",
        "ibkr": "seraphim.sim.ibkr.cli:ibkr",
    },
)
def sim() -> None:
    """Run a local venue that speaks a real exchange protocol on 127.0.0.1."""
