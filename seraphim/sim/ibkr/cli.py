"""``seraphim sim ibkr``: run the local TWS-protocol gateway until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from pathlib import Path

import click
import yaml

from seraphim.sim.ibkr.faults import ScheduledFault
from seraphim.sim.ibkr.server import IbkrSimServer
from seraphim.sim.ibkr.venue import DEFAULT_PORT
from seraphim.sim.ibkr.venue import IbkrSimConfig


def _parse_faults(values: tuple[str, ...]) -> tuple[ScheduledFault, ...]:
    try:
        return tuple(ScheduledFault.parse(v) for v in values)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--fault") from exc


@click.command("ibkr")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port", default=DEFAULT_PORT, show_default=True, type=int, help="Port (0 picks a free one)."
)
@click.option(
    "--seed", default=1, show_default=True, type=int, help="Seed of the simulated market."
)
@click.option(
    "--account",
    "accounts",
    multiple=True,
    default=("DU1234567",),
    show_default=True,
    help="Managed account (repeat).",
)
@click.option(
    "--cash", default=1_000_000.0, show_default=True, type=float, help="Starting cash per account."
)
@click.option(
    "--catalog",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="ParquetDataCatalog whose bars drive prices and history for the contracts it covers.",
)
@click.option(
    "--contracts",
    "contracts_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="YAML with 'stocks', 'crypto' and 'option_chain' keys "
    "(defaults: AAPL, MSFT, SPY, BTC and an AAPL option chain).",
)
@click.option(
    "--tick-interval",
    default=0.25,
    show_default=True,
    type=float,
    help="Seconds between market ticks.",
)
@click.option(
    "--pacing/--no-pacing",
    default=False,
    show_default=True,
    help="Enforce historical pacing (162).",
)
@click.option(
    "--no-permission",
    "no_permission",
    multiple=True,
    help="Symbol without market data permission (354).",
)
@click.option(
    "--delayed-only", "delayed_only", multiple=True, help="Symbol with delayed data only (10167)."
)
@click.option(
    "--restart-at",
    default=None,
    help="Nightly restart time HH:MM New York (drops all connections).",
)
@click.option(
    "--restart-downtime",
    default=60.0,
    show_default=True,
    type=float,
    help="Seconds down per restart.",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    help="Scripted fault AT:ACTION[:ARG], e.g. 30:disconnect, 40:reconnect, 50:reconnect-keep, "
    "60:restart:10, 5:pacing, 5:no-permission:MSFT, 5:delayed-only:SPY, 5:halt:AAPL, "
    "20:resume:AAPL.",
)
@click.option(
    "--around-the-clock",
    is_flag=True,
    help="Trade and print bars for every contract 24/7 (rehearse a node outside US hours).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log at debug level to stderr.")
def ibkr(
    host: str,
    port: int,
    seed: int,
    accounts: tuple[str, ...],
    cash: float,
    catalog: Path | None,
    contracts_file: Path | None,
    tick_interval: float,
    pacing: bool,
    no_permission: tuple[str, ...],
    delayed_only: tuple[str, ...],
    restart_at: str | None,
    restart_downtime: float,
    faults: tuple[str, ...],
    around_the_clock: bool,
    verbose: bool,
) -> None:
    """Run a local Interactive Brokers gateway (TWS socket API, server version 176)."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING)
    permissions = {s: "none" for s in no_permission} | {s: "delayed" for s in delayed_only}
    contracts = yaml.safe_load(contracts_file.read_text()) if contracts_file else None
    config = IbkrSimConfig(
        host=host,
        port=port,
        seed=seed,
        accounts=accounts,
        initial_cash=cash,
        catalog=catalog,
        contracts=contracts,
        tick_interval=tick_interval,
        pacing=pacing,
        permissions=permissions,
        restart_at=restart_at,
        restart_downtime=restart_downtime,
        faults=_parse_faults(faults),
        around_the_clock=around_the_clock,
    )
    asyncio.run(_serve(config))


async def _serve(config: IbkrSimConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with IbkrSimServer(config) as gateway:
        click.echo(json.dumps(gateway.describe()), nl=True)
        await stop.wait()
