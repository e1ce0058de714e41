"""``seraphim sim kraken``: run the local Kraken Spot exchange until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import signal
import sys
from pathlib import Path

import click

from seraphim.sim.kraken.clock import AcceleratedClock
from seraphim.sim.kraken.config import AccountConfig
from seraphim.sim.kraken.config import SimConfig
from seraphim.sim.kraken.faults import parse_fault_option
from seraphim.sim.kraken.market import BarReplaySource
from seraphim.sim.kraken.market import BookReplaySource
from seraphim.sim.kraken.market import RandomWalkSource
from seraphim.sim.kraken.market import TradeReplaySource
from seraphim.sim.kraken.server import KrakenSimServer

log = logging.getLogger(__name__)

WALK_STEPS_PER_REAL_SECOND = 20
VOLATILITY_PER_SECOND = 0.0001
# A stop (close connections, release the ports) that takes longer is abandoned.
STOP_TIMEOUT = 5.0


def _parse_source(text: str, seed: int, interval: float | None):
    """``BTC/USD=book:path.json`` / ``=bars:XBTUSD_60.csv`` / ``=trades:trades.json`` /
    ``=walk:65000``."""
    symbol, _, spec = text.partition("=")
    kind, _, arg = spec.partition(":")
    if kind == "book":
        return symbol, BookReplaySource(arg, interval=interval)
    if kind == "bars":
        return symbol, BarReplaySource.from_ohlcvt_csv(arg, seed=seed, interval=interval)
    if kind == "trades":
        return symbol, TradeReplaySource.from_trades_response(arg, seed=seed, interval=interval)
    if kind == "walk":
        return symbol, RandomWalkSource(seed=seed, start_price=arg or None)
    raise click.BadParameter(f"unknown market source {kind!r} in {text!r}", param_hint="--market")


def history_walk(hours: float, speed: float = 1.0) -> dict:
    """
    Random-walk settings for ``hours`` of history (made in at most ~2,000 steps) and a clock
    ``speed``: the walk steps at most ``WALK_STEPS_PER_REAL_SECOND`` times a real second, each
    step's volatility scaled to its length, so a fast clock does not mean more work per second.
    """
    seconds = hours * 3600
    step = max(1.0, speed / WALK_STEPS_PER_REAL_SECOND)
    return {
        "warmup_seconds": seconds,
        "warmup_step": max(60.0, seconds / 2000),
        "step_seconds": step,
        "volatility": VOLATILITY_PER_SECOND * math.sqrt(step),
    }


@click.command("kraken")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port", default=8090, show_default=True, type=int, help="REST and public WS port (0: any)."
)
@click.option(
    "--auth-ws-port",
    type=int,
    default=None,
    help="Private WebSocket port, served at /v2 like ws-auth.kraken.com [default: PORT+1, or any "
    "free port when PORT is 0].",
)
@click.option("--pairs", default="BTC/USD,ETH/USD", show_default=True, help="Comma list.")
@click.option(
    "--seed",
    default=1,
    show_default=True,
    type=int,
    help="Seed of the market (order ids never repeat).",
)
@click.option("--api-key", envvar="KRAKEN_API_KEY", help="Accepted API key [KRAKEN_API_KEY].")
@click.option(
    "--api-secret",
    envvar="KRAKEN_API_SECRET",
    help="Its secret, base64 as Kraken issues it [KRAKEN_API_SECRET].",
)
@click.option(
    "--balance",
    "balances",
    multiple=True,
    metavar="ASSET=AMOUNT",
    help="Starting balance by Kraken asset id, e.g. ZUSD=10000 (repeatable).",
)
@click.option(
    "--tier",
    type=click.Choice(["starter", "intermediate", "pro"]),
    default="starter",
    show_default=True,
)
@click.option("--speed", type=float, default=1.0, show_default=True, help="Clock speed-up.")
@click.option(
    "--market",
    "markets",
    multiple=True,
    metavar="PAIR=KIND:ARG",
    help="Market source per pair: book:<v2 book stream.json>, bars:<OHLCVT.csv>, "
    "trades:<Trades response.json>, walk:<start price>. Default: a seeded random walk.",
)
@click.option(
    "--replay-interval", type=float, default=None, help="Seconds between replayed events."
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="NAME:K=V,...",
    help="Arm a fault, e.g. rest_5xx:count=2, drop_ws:after=30, status:value=maintenance,after=60.",
)
@click.option("--no-rate-limits", is_flag=True, help="Disable the rate limit counters.")
@click.option("--asset-pairs", type=click.Path(exists=True, path_type=Path), default=None)
@click.option(
    "--history",
    "history_hours",
    type=click.FloatRange(min=0),
    default=96.0,
    show_default=True,
    help="Hours of random-walk tape made up before start, so OHLC and Trades have history "
    "for a strategy's warm-up.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log to stderr.")
def kraken(
    host: str,
    port: int,
    auth_ws_port: int | None,
    pairs: str,
    seed: int,
    api_key: str | None,
    api_secret: str | None,
    balances: tuple[str, ...],
    tier: str,
    speed: float,
    markets: tuple[str, ...],
    replay_interval: float | None,
    faults: tuple[str, ...],
    no_rate_limits: bool,
    asset_pairs: Path | None,
    history_hours: float,
    verbose: bool,
) -> None:
    """Run a local Kraken Spot exchange: REST and public WebSocket v2 on HOST:PORT, private
    WebSocket v2 on HOST:AUTH-WS-PORT."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr)
    accounts = []
    if api_key and api_secret:
        parsed = {}
        for item in balances:
            asset, _, amount = item.partition("=")
            parsed[asset.strip()] = amount.strip()
        accounts.append(AccountConfig(api_key, api_secret, balances=parsed or None, tier=tier))
    elif api_key or api_secret:
        raise click.UsageError("give both --api-key and --api-secret (or neither)")
    sources = dict(_parse_source(m, seed, replay_interval) for m in markets)
    if auth_ws_port is None:
        auth_ws_port = port + 1 if port else 0
    config = SimConfig(
        host=host,
        port=port,
        auth_ws_port=auth_ws_port,
        pairs=[p.strip() for p in pairs.split(",") if p.strip()],
        seed=seed,
        accounts=accounts,
        clock=AcceleratedClock(speed) if speed != 1.0 else None,
        sources=sources,
        rate_limits=not no_rate_limits,
        asset_pairs_file=asset_pairs,
        random_walk=history_walk(history_hours, speed),
    )
    try:
        asyncio.run(_serve(config, [parse_fault_option(f) for f in faults]))
    except KeyError as e:
        raise click.UsageError(str(e)) from None
    except OSError as e:  # a port in use, an address not on this machine
        raise click.ClickException(f"cannot listen on {host}: {e.strerror or e}") from None


async def _serve(config: SimConfig, faults: list[dict]) -> None:
    server = KrakenSimServer(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        await server.start()
        for spec in faults:
            server.faults.apply(spec, now=server.exchange.now())
        click.echo(json.dumps(server.addresses()), nl=True)
        sys.stdout.flush()
        await stop.wait()
    finally:
        for sig in signals:  # a second signal ends the process at once
            loop.remove_signal_handler(sig)
        try:
            await asyncio.wait_for(server.stop(), STOP_TIMEOUT)
        except TimeoutError:
            log.warning("the exchange did not stop within %.0f s; exiting anyway", STOP_TIMEOUT)
