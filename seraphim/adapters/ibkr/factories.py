"""nautilus's IB data client factory, plus Seraphim's connectivity monitor on its client."""

from __future__ import annotations

import asyncio

from nautilus_trader.adapters.interactive_brokers.config import InteractiveBrokersDataClientConfig
from nautilus_trader.adapters.interactive_brokers.data import InteractiveBrokersDataClient
from nautilus_trader.adapters.interactive_brokers.factories import (
    InteractiveBrokersLiveDataClientFactory,
)
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus

from seraphim.adapters.ibkr.connectivity import ConnectivityMonitor


class SeraphimIbkrDataClientConfig(InteractiveBrokersDataClientConfig, frozen=True):
    """nautilus's data client config plus the switch for the 1101 fix."""

    resubscribe_on_data_lost: bool = True


class SeraphimIbkrDataClientFactory(InteractiveBrokersLiveDataClientFactory):
    """Creates nautilus's ``InteractiveBrokersDataClient`` and installs the
    :class:`~seraphim.adapters.ibkr.connectivity.ConnectivityMonitor` on its IB client (shared
    with the execution client of the same host, port and client id). The data client gains
    ``adapter_stats()`` (connectivity counters) for the node summary."""

    @staticmethod
    def create(  # type: ignore[override]
        loop: asyncio.AbstractEventLoop,
        name: str,
        config: InteractiveBrokersDataClientConfig,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
    ) -> InteractiveBrokersDataClient:
        client = InteractiveBrokersLiveDataClientFactory.create(
            loop=loop, name=name, config=config, msgbus=msgbus, cache=cache, clock=clock
        )
        monitor = ConnectivityMonitor.install(
            client._client,
            resubscribe=getattr(config, "resubscribe_on_data_lost", True),
        )
        client.adapter_stats = monitor.stats
        return client
