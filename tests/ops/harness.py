"""A node against the local Kraken exchange with the operations components, and a test script
run beside it on a thread (the node keeps the main thread for its loop and signal handlers)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
from nautilus_trader.config import ImportableStrategyConfig

from seraphim.node.config import load_node_spec
from seraphim.node.lifecycle import NodeLifecycle
from seraphim.node.runner import build_node
from seraphim.node.runner import dispose_node
from seraphim.node.runner import node_config_for
from seraphim.ops import keys

from .strategies import Ticker
from .strategies import TickerConfig

INSTRUMENT = "BTC/USD.KRAKEN"
BAR_TYPE = "BTC/USD.KRAKEN-1-MINUTE-LAST-EXTERNAL"


def ticker(**params: Any) -> ImportableStrategyConfig:
    return ImportableStrategyConfig(
        strategy_path=f"{Ticker.__module__}:Ticker",
        config_path=f"{TickerConfig.__module__}:TickerConfig",
        config={
            "instrument_id": INSTRUMENT,
            "bar_type": BAR_TYPE,
            "trade_size": "0.001",
            "warmup_bars": 1,
            "clip_to_risk": False,
            **params,
        },
    )


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def run_with_script(
    path: Path,
    script: Callable[[Any], None],
    *,
    actors: list,
    strategies: list,
    controller: Any = None,
    state: str | None = None,
) -> None:
    """
    Run the node until ``script(node)`` (on a thread) returns; re-raise what it raised.
    ``actors`` (the operations actors, configured by the test) replace the node's own.
    """
    spec, base = load_node_spec(path)
    config, _, _ = node_config_for(
        spec, base, extra_strategies=strategies, state=state, operations=actors
    )
    if controller is not None:
        config = msgspec.structs.replace(config, controller=controller)
    node, spec = build_node(path, config=config)
    lifecycle = NodeLifecycle(node, spec)
    loop = node.get_event_loop()
    errors: list[BaseException] = []

    def body() -> None:
        try:
            script(node)
        except BaseException as e:
            errors.append(e)
        finally:
            loop.call_soon_threadsafe(lifecycle.request_stop, "test script done")

    thread = threading.Thread(target=body, name="test-script", daemon=True)
    loop.call_soon(thread.start)
    try:
        loop.run_until_complete(lifecycle.run())
    finally:
        dispose_node(node)
        thread.join(10)
    if errors:
        raise errors[0]


def delete_trader_keys(redis_client, trader_id: str) -> None:
    """The operations keys and, for a node with Redis state, nautilus's keys of the trader."""
    keys.delete_trader_keys(redis_client, trader_id)
    for key in redis_client.scan_iter(match=f"trader-{trader_id}:*"):
        redis_client.delete(key)
