"""Finding the node's components from an actor, through nautilus's public message bus."""

from __future__ import annotations

import gc

from nautilus_trader.common.component import MessageBus
from nautilus_trader.data.engine import DataEngine
from nautilus_trader.execution.engine import ExecutionEngine
from nautilus_trader.risk.engine import RiskEngine
from nautilus_trader.trading.strategy import Strategy


def strategies(msgbus: MessageBus) -> dict[str, Strategy]:
    """The node's strategies by id (each subscribes to its own order events)."""
    found = {}
    for sub in msgbus.subscriptions("events.order.*"):
        owner = getattr(sub.handler, "__self__", None)
        if isinstance(owner, Strategy):
            found[owner.id.value] = owner
    return found


def risk_engine(msgbus: MessageBus) -> RiskEngine | None:
    """nautilus gives an actor no handle on the RiskEngine; it subscribes to every order event
    from its construction on (the same way Seraphim's risk gate finds it)."""
    for sub in msgbus.subscriptions("events.order.*"):
        owner = getattr(sub.handler, "__self__", None)
        if isinstance(owner, RiskEngine):
            return owner
    return None


def venue_clients(msgbus: MessageBus) -> list[tuple[str, object]]:
    """The node's ``("data" | "exec", client)`` (their connection state and adapter counters).

    Neither engine subscribes to a topic an actor could find it by, and the kernel is not
    reachable from an actor: the bus's referrers are the only way (as for the OrderEmulator in
    seraphim.risk.gate); nautilus 1.231 keeps the client objects in the engines' ``_clients``.
    """
    clients = []
    for holder in gc.get_referrers(msgbus):
        if isinstance(holder, DataEngine | ExecutionEngine):
            kind = "data" if isinstance(holder, DataEngine) else "exec"
            clients.extend((kind, client) for client in holder._clients.values())
    return sorted(clients, key=lambda pair: (pair[1].id.value, pair[0]))


def connection_state(client) -> tuple[bool, int]:
    """``(connected, reconnects)`` of a venue client.

    nautilus's ``is_connected`` stays true while an adapter reconnects its WebSocket; Seraphim's
    Kraken clients count drops and reconnections (``adapter_stats()`` / ``stats``), so a socket
    is down while it has dropped more often than it came back.
    """
    counters = client.adapter_stats() if hasattr(client, "adapter_stats") else None
    counters = counters or getattr(client, "stats", None) or {}
    drops = int(counters.get("ws_disconnects", 0))
    back = int(counters.get("ws_reconnects", counters.get("reconnects", 0)))
    return bool(client.is_connected) and drops <= back, back
