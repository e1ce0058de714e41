"""
The live side of a parity run: the backtest file's strategies in a nautilus ``TradingNode``
against the local Kraken exchange replaying the backtest's bars in lockstep.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.events import OrderDenied

from seraphim.backtest.config import BacktestSpec
from seraphim.node.config import load_node_spec
from seraphim.node.lifecycle import NodeLifecycle
from seraphim.node.preflight import check_dependencies
from seraphim.node.runner import build_node
from seraphim.node.runner import dispose_node
from seraphim.node.runner import node_config_for
from seraphim.parity.exchange import LockstepExchange
from seraphim.parity.exchange import parity_credentials
from seraphim.parity.exchange import starting_balances
from seraphim.parity.pacer import Pacer
from seraphim.parity.pacer import PacerLog
from seraphim.parity.pacer import Step
from seraphim.sim.kraken import AccountConfig
from seraphim.sim.kraken.bar_path import BarPathSource

KRAKEN = "KRAKEN"
KEY_ENV = "SERAPHIM_PARITY_API_KEY"
SECRET_ENV = "SERAPHIM_PARITY_API_SECRET"


class ParityError(RuntimeError):
    """A parity run that cannot be made; the message names the problem."""


class LiveRunError(RuntimeError):
    """The live side stopped short of the replay's end; the message says where and why."""


@dataclass
class LiveOutcome:
    """The node's reports (nautilus's own) and the venue's records of the account."""

    orders: pd.DataFrame
    fills: pd.DataFrame
    venue: dict[str, Any]
    log: PacerLog
    denied: dict[str, str]  # client order id -> why the risk layer denied it


def denial_reasons(cache: Any) -> dict[str, str]:
    """The reason of every denied order in a node's cache."""
    out = {}
    for order in cache.orders():
        if order.status == OrderStatus.DENIED:
            reason = next((e.reason for e in order.events if isinstance(e, OrderDenied)), "")
            out[order.client_order_id.value] = str(reason)
    return out


def kraken_pairs(spec: BacktestSpec) -> dict[str, str]:
    """Bar type -> Kraken pair of every series (a parity run replays Kraken markets only)."""
    out = {}
    for bar_type in spec.bar_types():
        venue = bar_type.instrument_id.venue.value
        if venue != KRAKEN:
            raise ParityError(f"{bar_type}: parity replays Kraken markets only (not {venue})")
        out[str(bar_type)] = bar_type.instrument_id.symbol.value
    return out


def lockstep_steps(sources: dict[str, tuple[str, BarPathSource]]) -> list[Step]:
    """
    Every exchange time of the replay, pair by pair in the order of ``sources`` (a backtest
    handles bars of one time in its data's order, each strategy's orders filled before the next
    bar), with the bars completed by then per bar type. An open print completes the bar before
    it; the final print completes the last one.
    """
    events: dict[tuple[float, int], int] = {}  # (time, source index) -> bars completed
    for index, (_, source) in enumerate(sources.values()):
        done = 0
        for i, p in enumerate(source.prints):
            if i and not p.move_book:
                done += 1
            events[(p.at, index)] = done
    bar_types = list(sources)
    steps, due = [], dict.fromkeys(bar_types, 0)
    for at, index in sorted(events):
        due[bar_types[index]] = events[(at, index)]
        steps.append(Step(at, sources[bar_types[index]][0], dict(due)))
    return steps


@contextlib.contextmanager
def _credentials_in_env(key: str, secret: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in (KEY_ENV, SECRET_ENV)}
    os.environ[KEY_ENV], os.environ[SECRET_ENV] = key, secret
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def write_node_file(
    config_path: Path, urls: dict[str, str], pairs: list[str], work: Path, log_level: str
) -> Path:
    """A node file running the backtest file's strategies against the local exchange."""
    node = {
        "name": "parity",
        "trader_id": "PARITY-001",
        "environment": "sim",
        "kraken": {
            **urls,
            "api_key_env": KEY_ENV,
            "api_secret_env": SECRET_ENV,
            "pairs": pairs,
            "public_rate_per_sec": 0,
            # The adapter paces orders by Kraken's trading counter in wall time, and the replay
            # runs a month in seconds: the highest tier (on both sides) keeps it from waiting.
            "tier": "pro",
        },
        "execution": "kraken",
        "backtest": str(config_path.resolve()),
        "log_level": log_level,
        "timeout_post_stop": 1.0,
        "timeout_disconnection": 5.0,
    }
    work.mkdir(parents=True, exist_ok=True)
    path = work / "parity_node.yaml"
    path.write_text(yaml.safe_dump(node, sort_keys=False))
    return path


def run_live(
    config_path: Path,
    spec: BacktestSpec,
    work: Path,
    step_timeout: float = 60.0,
    log_level: str = "ERROR",
) -> LiveOutcome:
    """Replay the spec's bars on the local exchange and trade them with a TradingNode."""
    pairs = kraken_pairs(spec)
    sources = {
        bar_type: (pair, BarPathSource.from_catalog(spec.catalog, bar_type, spec.start, spec.end))
        for bar_type, pair in pairs.items()
    }
    venue = next((v for v in spec.venues if v.name == KRAKEN), None)
    if venue is None:
        raise ParityError("the backtest file has no KRAKEN venue")
    key, secret = parity_credentials()
    account = AccountConfig(
        key,
        secret,
        balances=starting_balances(sorted(set(pairs.values())), venue.starting_balances),
        tier="pro",
        volume_30d=Decimal(str(venue.fees.volume_30d)),
    )
    with LockstepExchange({p: s for p, s in sources.values()}, account) as exchange:
        with _credentials_in_env(key, secret):
            symbols = sorted(set(pairs.values()))
            path = write_node_file(config_path, exchange.urls, symbols, work, log_level)
            outcome = _run_node(path, exchange, lockstep_steps(sources), step_timeout)
        outcome.venue = exchange.records()
    return outcome


async def _run_paced(lifecycle: NodeLifecycle, pacer: Pacer) -> None:
    """The node's run with the pacer beside it; the pacer ends when the node does."""
    pacing = asyncio.ensure_future(pacer.run())
    try:
        await lifecycle.run()
    finally:
        pacing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pacing


def _run_node(
    path: Path, exchange: LockstepExchange, steps: list[Step], step_timeout: float
) -> LiveOutcome:
    node_spec, base = load_node_spec(path)
    config, _, _ = node_config_for(node_spec, base)
    check_dependencies(config)
    node, node_spec = build_node(path, config=config)
    loop = node.get_event_loop()
    lifecycle = NodeLifecycle(node, node_spec)
    symbols = sorted(set(node_spec.kraken.pairs or []))
    pacer = Pacer(node, exchange, steps, symbols, lifecycle.request_stop, step_timeout)
    try:
        loop.run_until_complete(_run_paced(lifecycle, pacer))
        orders = node.trader.generate_orders_report()
        fills = node.trader.generate_fills_report()
        denied = denial_reasons(node.kernel.cache)
    finally:
        dispose_node(node)
    if pacer.error is not None:
        raise LiveRunError(str(pacer.error))
    return LiveOutcome(orders, fills, {}, pacer.log, denied)
