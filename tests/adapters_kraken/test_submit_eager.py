"""The execution client starts a submission at once: no event-loop turn between the command
and the coroutine that sends it."""

from __future__ import annotations

import asyncio

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.common.factories import OrderFactory
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.messages import SubmitOrder
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.events import OrderRejected
from nautilus_trader.model.events import OrderSubmitted
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import StrategyId
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity

from seraphim.adapters.kraken.config import KrakenExecClientConfig
from seraphim.adapters.kraken.execution import KrakenExecutionClient
from seraphim.adapters.kraken.http.client import KrakenHttpClient
from seraphim.adapters.kraken.http.endpoints import KrakenSpotApi
from seraphim.adapters.kraken.providers import KrakenInstrumentProvider

from .helpers import run


def test_submit_order_runs_its_coroutine_before_returning() -> None:
    """An order for an instrument the provider never loaded: submitted then rejected, both
    before ``submit_order`` returns (a task started on the next turn would have done nothing)."""

    async def body() -> None:
        clock = LiveClock()
        trader_id, strategy_id = TraderId("TESTER-001"), StrategyId("S-001")
        msgbus = MessageBus(trader_id, clock)
        events: list = []
        msgbus.register("ExecEngine.process", events.append)
        http = KrakenHttpClient("http://127.0.0.1:9", None, public_rate=0)  # never called
        client = KrakenExecutionClient(
            asyncio.get_running_loop(), http, msgbus, Cache(), clock,
            KrakenInstrumentProvider(KrakenSpotApi(http)), KrakenExecClientConfig(),
        )  # fmt: skip
        order = OrderFactory(trader_id, strategy_id, clock).limit(
            InstrumentId.from_str("BTC/USD.KRAKEN"),
            OrderSide.BUY,
            Quantity.from_str("0.0001"),
            Price.from_str("20000.0"),
        )
        client.submit_order(
            SubmitOrder(trader_id, strategy_id, order, UUID4(), clock.timestamp_ns())
        )
        assert [type(e) for e in events] == [OrderSubmitted, OrderRejected]
        assert "not loaded" in events[1].reason
        await http.close()

    run(body())
