"""The hook ``seraphim node run`` calls for a node file with an ``ibkr:`` section."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

from seraphim.adapters.ibkr.config import IbkrClients
from seraphim.adapters.ibkr.config import ibkr_clients


def clear_ibkr_caches() -> None:
    """Forget IB clients and providers an earlier node of this process created.

    nautilus's IB factories cache them per (host, port, client id) at module level; they
    belong to the earlier node's event loop.
    """
    from nautilus_trader.adapters.interactive_brokers import factories

    factories.IB_CLIENTS.clear()
    factories.IB_INSTRUMENT_PROVIDERS.clear()
    factories.GATEWAYS.clear()


def ibkr_node_clients(
    section: Mapping[str, Any] | None,
    strategy_instrument_ids: Iterable[str] = (),
    *,
    other_venues: Iterable[str] = ("KRAKEN",),
    environ: Mapping[str, str] | None = None,
) -> IbkrClients:
    """IB client configs and factories for a node: the section's instruments plus the IB
    instruments the strategies trade (ids on ``other_venues`` belong to other adapters)."""
    skip = set(other_venues)
    ids = [i for i in strategy_instrument_ids if str(i).rsplit(".", 1)[-1] not in skip]
    clear_ibkr_caches()
    return ibkr_clients(section, ids, environ=environ)
