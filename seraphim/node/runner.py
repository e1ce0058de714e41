"""
Run a nautilus ``TradingNode`` from a node file: check its dependencies, build it, run it until
stopped (``--duration``, SIGINT, SIGTERM) and summarise what happened.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
from nautilus_trader.common.config import ImportableActorConfig

from seraphim.backtest.analyzer import use_columnar_analyzer
from seraphim.node.config import NodeSpec
from seraphim.node.config import build_node_config
from seraphim.node.config import load_node_spec
from seraphim.node.lifecycle import NodeLifecycle
from seraphim.node.preflight import check_dependencies
from seraphim.node.summary import NodeSummary
from seraphim.node.summary import collect_summary

__all__ = ["NodeSummary", "build_node", "node_config_for", "run_node"]


def node_config_for(
    spec: NodeSpec,
    base: Path,
    *,
    log_level: str | None = None,
    extra_strategies: list | None = None,
    state: str | None = None,
    journal: bool | None = None,
    metrics_port: int | None = None,
    alerts: Path | None = None,
    operations: list | None = None,
):
    """
    The ``TradingNodeConfig`` (with the state, journal and operations options) and the
    factories. The operations actors (``seraphim.ops``: control channel, monitor, metrics,
    alerts) join when an operator secret is configured, metrics or alerts are asked for, or the
    state is in Redis, where the monitor publishes the node's health; ``operations`` (from
    ``seraphim.ops.node_actors``) replaces them with components configured by the caller.
    """
    from seraphim.ops import node_actors
    from seraphim.ops.secret import operator_secret_configured
    from seraphim.state.node import journal_enabled
    from seraphim.state.node import with_node_options  # --state redis, --journal

    config, data_factories, exec_factories = build_node_config(spec, base, log_level=log_level)
    # seraphim.state bounds nautilus's Redis connection attempts (a few seconds in all).
    config = with_node_options(config, state=state, journal=journal)
    control = operator_secret_configured()
    strategies = [*config.strategies, *(extra_strategies or [])]
    actors = list(config.actors)
    redis_state = config.cache is not None and config.cache.database is not None
    if operations is None and (
        control or metrics_port is not None or alerts is not None or redis_state
    ):
        operations = node_actors(
            control=control,
            metrics_port=metrics_port,
            alerts_file=alerts,
            journal=journal_enabled(journal),
        )
    for component in operations or []:
        (actors if isinstance(component, ImportableActorConfig) else strategies).append(component)
    config = msgspec.structs.replace(config, strategies=strategies, actors=actors)
    return config, data_factories, exec_factories


def build_node(
    path: str | Path,
    *,
    log_level: str | None = None,
    extra_strategies: list | None = None,
    state: str | None = None,
    journal: bool | None = None,
    config: Any = None,
):
    """A built (not yet running) ``TradingNode`` and its spec."""
    from nautilus_trader.live.node import TradingNode

    spec, base = load_node_spec(path)
    if config is None:
        config, data_factories, exec_factories = node_config_for(
            spec,
            base,
            log_level=log_level,
            extra_strategies=extra_strategies,
            state=state,
            journal=journal,
        )
    else:
        _, data_factories, exec_factories = build_node_config(spec, base, log_level=log_level)
    # A fresh event loop for this node (an earlier asyncio.run may have left none set).
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    node = TradingNode(config=config, loop=loop)
    for name, factory in data_factories.items():
        node.add_data_client_factory(name, factory)
    for name, factory in exec_factories.items():
        node.add_exec_client_factory(name, factory)
    node.build()
    # nautilus 1.231's analyzer appends each closed position with a pandas concat (quadratic in
    # a long-running node); the columnar one keeps the same records in lists.
    use_columnar_analyzer(node.portfolio)
    return node, spec


def run_node(
    path: str | Path,
    *,
    duration: float | None = None,
    log_level: str | None = None,
    extra_strategies: list | None = None,
    inspect: Callable[[Any], None] | None = None,
    state: str | None = None,
    journal: bool | None = None,
    force_exit: Callable[[int], None] | None = None,
    metrics_port: int | None = None,
    alerts: Path | None = None,
) -> NodeSummary:
    """
    Check the node's dependencies, run it until SIGINT/SIGTERM or, with ``duration``, for that
    many seconds after it starts trading; then stop it gracefully and return the summary.

    Raises ``DependencyError`` (a dependency is unreachable) or ``NodeStartError`` (the node did
    not reach a running trader) with a one-line message. ``extra_strategies``
    (ImportableStrategyConfig) are added to the file's; ``inspect`` is called with the stopped
    node before it is disposed; ``force_exit`` ends the process on a second signal (see
    ``NodeLifecycle``).
    """
    spec, base = load_node_spec(path)
    config, _, _ = node_config_for(
        spec,
        base,
        log_level=log_level,
        extra_strategies=extra_strategies,
        state=state,
        journal=journal,
        metrics_port=metrics_port,
        alerts=alerts,
    )
    check_dependencies(config)
    node, spec = build_node(path, log_level=log_level, config=config)
    loop = node.get_event_loop()
    lifecycle = NodeLifecycle(node, spec, duration=duration, force_exit=force_exit)
    summary: NodeSummary | None = None
    try:
        loop.run_until_complete(lifecycle.run())
    finally:
        with contextlib.suppress(Exception):
            summary = collect_summary(node, spec)
        if inspect is not None:
            inspect(node)
        dispose_node(node)
    return summary or NodeSummary(spec.name)


def dispose_node(node: Any, timeout: float = 5.0) -> None:
    """
    Dispose of a stopped node: first cancel and finish what is still pending on its loop
    (nautilus's actor executors wait on their queues), as ``asyncio.run`` does; then
    ``TradingNode.dispose``, which closes the loop without doing so (the tasks then died at
    garbage collection with "Event loop is closed").
    """
    loop = node.get_event_loop()
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        with contextlib.suppress(Exception):
            loop.run_until_complete(asyncio.wait(pending, timeout=timeout))
    node.dispose()
    with contextlib.suppress(Exception):
        asyncio.set_event_loop(None)
