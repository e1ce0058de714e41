"""
What a node run did, as plain data: orders, fills, balances and positions as nautilus recorded
them, plus the adapters' counters (reconnects, checksum mismatches, duplicates ignored...).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any

from seraphim.node.config import NodeSpec
from seraphim.node.lifecycle import node_clients


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
    for kind, client in node_clients(node.kernel):
        stats = getattr(client, "adapter_stats", None)
        if stats is not None:
            summary.adapter[f"{kind}:{client.id.value}"] = dict(stats())
    summary.data = {
        "quote_ticks": sum(len(cache.quote_ticks(i)) for i in cache.instrument_ids()),
        "trade_ticks": sum(len(cache.trade_ticks(i)) for i in cache.instrument_ids()),
        "bars": sum(len(cache.bars(b)) for b in cache.bar_types()),
    }
    return summary
