"""
nautilus's IB execution client, with the IB account answering for the venues IB routes.

IB is one account for many venues (NASDAQ, ARCA, ...), while nautilus indexes an account under
its issuer (``INTERACTIVE_BROKERS``). A strategy trading ``AAPL.NASDAQ`` asks the portfolio for
the NASDAQ account (``portfolio.account(venue)``, Seraphim's equity sizing, the risk engine's
balance check), so each IB venue is mapped to the IB account with nautilus's public
``Cache.set_account_id_for_venue``. Other venues keep their own accounts: Kraken's strategy in a
multi-venue node sees Kraken's account (nautilus 1.221's ``set_specific_venue`` sent every venue
to IB).
"""

from __future__ import annotations

import asyncio

from nautilus_trader.adapters.interactive_brokers.config import InteractiveBrokersExecClientConfig
from nautilus_trader.adapters.interactive_brokers.execution import InteractiveBrokersExecutionClient
from nautilus_trader.adapters.interactive_brokers.factories import (
    InteractiveBrokersLiveExecClientFactory,
)
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.model.identifiers import Venue


class SeraphimIbkrExecClientFactory(InteractiveBrokersLiveExecClientFactory):
    """nautilus's IB execution factory; maps the client's routed venues to its account."""

    @staticmethod
    def create(  # type: ignore[override]
        loop: asyncio.AbstractEventLoop,
        name: str,
        config: InteractiveBrokersExecClientConfig,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
    ) -> InteractiveBrokersExecutionClient:
        client = InteractiveBrokersLiveExecClientFactory.create(
            loop=loop, name=name, config=config, msgbus=msgbus, cache=cache, clock=clock
        )
        for venue in sorted(config.routing.venues or ()):
            cache.set_account_id_for_venue(Venue(venue), client.account_id)
        return client
