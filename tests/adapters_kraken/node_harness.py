"""Run a TradingNode (in this process) against a local exchange running on a thread."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from nautilus_trader.config import ImportableStrategyConfig
from nautilus_trader.model.currencies import Currency
from nautilus_trader.model.objects import Money

from seraphim.node.runner import NodeSummary
from seraphim.node.runner import run_node
from seraphim.sim.kraken.instruments import asset_info

from .helpers import ThreadedSim
from .helpers import sim_config
from .probe import ProbeConfig
from .probe import ProbeStrategy

LIVELY_MARKET = {
    "warmup_seconds": 2 * 3600,
    "step_seconds": 0.2,
    "volatility": 0.0003,
    "trade_probability": 0.8,
}


def lively_sim(**overrides: Any) -> ThreadedSim:
    """An exchange whose BTC/USD moves and trades several times a second."""
    overrides.setdefault("random_walk", LIVELY_MARKET)
    return ThreadedSim(sim_config(**overrides))


def write_node_config(tmp_path: Path, tsim: ThreadedSim, name: str = "e2e", **extra: Any) -> Path:
    """A node file pointing at the threaded exchange (the shape of node_configs/kraken_sim)."""
    sim = tsim.sim
    assert sim is not None
    kraken = {
        "rest_url": sim.rest_url,
        "ws_public_url": sim.ws_public_url,
        "ws_private_url": sim.ws_private_url,
        "public_rate_per_sec": 0,
        "pairs": ["BTC/USD", "ETH/USD"],
        "ws_request_timeout_secs": 2.0,
        "reconcile_interval_secs": 10.0,
    }
    kraken.update(extra.pop("kraken", {}))
    config = {
        "name": name,
        "trader_id": "TESTER-001",
        "environment": "sim",
        "kraken": kraken,
        "execution": "kraken",
        "log_level": "WARNING",
        "timeout_post_stop": 0.5,
        "timeout_disconnection": 5.0,
        **extra,
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def probe(scenario: str, **params: Any) -> ImportableStrategyConfig:
    """The scripted probe strategy for a scenario."""
    return ImportableStrategyConfig(
        strategy_path=f"{ProbeStrategy.__module__}:ProbeStrategy",
        config_path=f"{ProbeConfig.__module__}:ProbeConfig",
        config={"instrument_id": "BTC/USD.KRAKEN", "scenario": scenario, **params},
    )


def run_probe(
    path: Path, scenario: str, duration: float | None, **params: Any
) -> tuple[NodeSummary, dict[str, Any]]:
    """Run the node with the probe; returns the summary and a snapshot of the node's cache."""
    seen: dict[str, Any] = {}

    def inspect(node) -> None:
        cache = node.kernel.cache
        seen["orders"] = {o.client_order_id.value: o for o in cache.orders()}
        seen["accounts"] = cache.accounts()
        seen["positions"] = cache.positions()

    summary = run_node(
        path, duration=duration, extra_strategies=[probe(scenario, **params)], inspect=inspect
    )
    return summary, seen


def exchange_balances_as_money(tsim: ThreadedSim) -> dict[str, Money]:
    """The exchange's balances at nautilus's currency precision."""
    out = {}
    for asset_id, amount in tsim.account.balances.items():
        code = asset_info(asset_id).ws_name
        out[code] = Money(Decimal(amount), Currency.from_str(code))
    return out
