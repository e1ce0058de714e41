"""
Run a nautilus ``TradingNode`` from a node file, optionally for a fixed duration, and summarise
what happened: orders, fills, balances and positions as nautilus recorded them, plus the
adapter's counters (reconnects, checksum mismatches, duplicates ignored...).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from seraphim.node.config import NodeSpec
from seraphim.node.config import build_node_config
from seraphim.node.config import load_node_spec


@dataclass
class NodeSummary:
    """What a node run did, as plain data (JSON-serialisable)."""

    name: str
    orders: list[dict[str, Any]] = field(default_factory=list)
    fills: list[dict[str, Any]] = field(default_factory=list)
    balances: dict[str, dict[str, str]] = field(default_factory=dict)
    positions: list[dict[str, Any]] = field(default_factory=list)
    adapter: dict[str, dict[str, int]] = field(default_factory=dict)
    data: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "orders": self.orders,
            "fills": self.fills,
            "balances": self.balances,
            "positions": self.positions,
            "adapter": self.adapter,
            "data": self.data,
        }


def _dec(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "as_decimal"):
        return str(value.as_decimal())
    return str(Decimal(str(value)))


def collect_summary(node: Any, spec: NodeSpec) -> NodeSummary:
    """Orders, fills, balances and positions from the node's cache."""
    from nautilus_trader.model.events import OrderFilled

    cache = node.kernel.cache
    summary = NodeSummary(spec.name)
    for order in cache.orders():
        summary.orders.append(
            {
                "client_order_id": order.client_order_id.value,
                "venue_order_id": order.venue_order_id.value if order.venue_order_id else None,
                "strategy_id": order.strategy_id.value,
                "instrument_id": order.instrument_id.value,
                "side": order.side_string(),
                "type": order.type_string(),
                "quantity": _dec(order.quantity),
                "filled_qty": _dec(order.filled_qty),
                "avg_px": str(order.avg_px) if order.avg_px else None,
                "status": order.status_string(),
                "tags": list(order.tags or []),
            }
        )
        for event in order.events:
            if isinstance(event, OrderFilled):
                summary.fills.append(
                    {
                        "client_order_id": event.client_order_id.value,
                        "venue_order_id": event.venue_order_id.value,
                        "trade_id": event.trade_id.value,
                        "side": "BUY" if order.side_string() == "BUY" else "SELL",
                        "last_qty": _dec(event.last_qty),
                        "last_px": _dec(event.last_px),
                        "commission": _dec(event.commission),
                        "commission_currency": event.commission.currency.code,
                        "liquidity": event.liquidity_side.name,
                        "ts_event": event.ts_event,
                    }
                )
    for account in cache.accounts():
        for currency, balance in account.balances().items():
            summary.balances[currency.code] = {
                "total": _dec(balance.total),
                "locked": _dec(balance.locked),
                "free": _dec(balance.free),
            }
    for position in cache.positions():
        summary.positions.append(
            {
                "instrument_id": position.instrument_id.value,
                "strategy_id": position.strategy_id.value,
                "side": position.side.name,
                "quantity": _dec(position.quantity),
                "is_open": position.is_open,
            }
        )
    for client in list(node.kernel.data_engine._clients.values()) + list(
        node.kernel.exec_engine._clients.values()
    ):
        stats = getattr(client, "adapter_stats", None)
        if stats is not None:
            kind = "exec" if hasattr(client, "generate_fill_reports") else "data"
            summary.adapter[f"{kind}:{client.id.value}"] = dict(stats())
    summary.data = {
        "quote_ticks": sum(len(cache.quote_ticks(i)) for i in cache.instrument_ids()),
        "trade_ticks": sum(len(cache.trade_ticks(i)) for i in cache.instrument_ids()),
        "bars": sum(len(cache.bars(b)) for b in cache.bar_types()),
    }
    return summary


async def preflight(spec: NodeSpec, pairs: list[str] | None) -> None:
    """
    Fail fast with a clear error before starting nautilus: the venue answers, the pairs exist,
    and (for Kraken execution) the credentials are accepted.
    """
    from seraphim.adapters.kraken.credentials import credentials_from_env
    from seraphim.adapters.kraken.factories import get_kraken_http_client
    from seraphim.adapters.kraken.http.endpoints import KrakenSpotApi
    from seraphim.adapters.kraken.http.errors import KrakenAuthError
    from seraphim.adapters.kraken.http.errors import KrakenConfigError
    from seraphim.adapters.kraken.pairs import find_pair

    k = spec.kraken
    trading = spec.execution == "kraken"
    credentials = credentials_from_env(None, k.api_key_env, k.api_secret_env, required=trading)
    # The node's own shared client: its rate-limit counter carries over to the node.
    client = get_kraken_http_client(
        k.rest_url,
        credentials,
        tier=k.tier,
        timeout=k.http_timeout_secs,
        max_retries=k.max_retries,
        public_rate=k.public_rate_per_sec,
    )
    api = KrakenSpotApi(client)
    try:
        listed = await api.asset_pairs()
        for pair in pairs or []:
            try:
                find_pair(listed, pair)
            except KeyError:
                raise KrakenConfigError(f"unknown Kraken pair {pair!r} at {k.rest_url}") from None
        if trading:
            try:
                await api.balance_ex()
            except KrakenAuthError as e:
                if "127.0.0.1" in k.rest_url or "localhost" in k.rest_url:
                    raise KrakenAuthError(
                        [
                            *e.errors,
                            f"(the local exchange accepts only the key it was started with: "
                            f"export the same ${k.api_key_env} / ${k.api_secret_env} in both "
                            f"terminals)",
                        ],
                        method=e.method,
                    ) from None
                raise
    finally:
        await client.close()


def build_node(
    path: str | Path,
    *,
    log_level: str | None = None,
    extra_strategies: list | None = None,
    state: str | None = None,
    journal: bool | None = None,
):
    """A built (not yet running) ``TradingNode`` and its spec."""
    from nautilus_trader.live.node import TradingNode

    spec, base = load_node_spec(path)
    config, data_factories, exec_factories = build_node_config(spec, base, log_level=log_level)
    if extra_strategies:
        config = msgspec.structs.replace(config, strategies=[*config.strategies, *extra_strategies])
    from seraphim.state.node import with_node_options  # --state redis, --journal

    config = with_node_options(config, state=state, journal=journal)
    # A fresh event loop for this node (an earlier asyncio.run may have left none set).
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    node = TradingNode(config=config, loop=loop)
    for name, factory in data_factories.items():
        node.add_data_client_factory(name, factory)
    for name, factory in exec_factories.items():
        node.add_exec_client_factory(name, factory)
    node.build()
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
) -> NodeSummary:
    """
    Run the node until SIGINT/SIGTERM or, with ``duration``, for that many seconds; then stop
    it gracefully (strategies' on_stop, disconnect) and return the summary.

    ``extra_strategies`` (ImportableStrategyConfig) are added to the file's; ``inspect`` is
    called with the stopped node before it is disposed.
    """
    spec, base = load_node_spec(path)
    config, _, _ = build_node_config(spec, base, log_level=log_level)
    if "KRAKEN" in config.data_clients:  # an IB-only node has no Kraken to check
        asyncio.run(preflight(spec, config.data_clients["KRAKEN"].pairs))
    if "INTERACTIVE_BROKERS" in config.data_clients:  # the gateway answers (nautilus would wait)
        from seraphim.adapters.ibkr.node import ibkr_preflight

        ibkr_preflight(config.data_clients["INTERACTIVE_BROKERS"])
    node, spec = build_node(
        path, log_level=log_level, extra_strategies=extra_strategies, state=state, journal=journal
    )
    loop = node.get_event_loop()
    summary: NodeSummary | None = None
    if duration is not None:
        startup_limit = spec.timeout_connection + spec.timeout_reconciliation + 30.0

        async def stop_after() -> None:
            # The duration counts from when the trader runs (start-up may wait for the venue).
            waited = 0.0
            while not node.kernel.trader.is_running and waited < startup_limit:
                await asyncio.sleep(0.1)
                waited += 0.1
            await asyncio.sleep(duration)
            await node.stop_async()

        stopper = loop.create_task(stop_after())
    try:
        node.run()
        if duration is not None and not stopper.done():
            stopper.cancel()
    finally:
        with contextlib.suppress(Exception):
            summary = collect_summary(node, spec)
        if inspect is not None:
            inspect(node)
        node.dispose()
        with contextlib.suppress(Exception):
            asyncio.set_event_loop(None)
    return summary or NodeSummary(spec.name)
