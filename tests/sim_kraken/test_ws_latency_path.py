"""
The exchange's side of tick-to-order: a trade is sent before the book update of the same step
(Kraken's trade and book channels are independent streams), and a WebSocket order opens at
its request's arrival (``time_in``), not after the exchange's checks.
"""

from __future__ import annotations

import aiohttp

from seraphim.sim.kraken.clock import WallClock
from seraphim.sim.kraken.fmt import rfc3339

from .client import WsClient
from .helpers import KEY
from .helpers import run
from .helpers import sim_and_client


def is_update(channel: str):
    return lambda m: m.get("channel") == channel and m.get("type") == "update"


def test_a_trade_is_sent_before_the_book_update_of_its_step() -> None:
    async def body():
        async with sim_and_client() as (sim, client), aiohttp.ClientSession() as session:
            ws = await WsClient.connect(session, sim.ws_public_url)
            await ws.request("subscribe", {"channel": "book", "symbol": ["BTC/USD"]})
            await ws.request("subscribe", {"channel": "trade", "symbol": ["BTC/USD"]})
            await client.ok(
                "AddOrder", pair="XBTUSD", type="sell", ordertype="market", volume="0.1"
            )
            trade = await ws.wait_for(is_update("trade"))
            book = await ws.wait_for(is_update("book"))
            assert ws.messages.index(trade) < ws.messages.index(book)

    run(body())


def test_an_order_opens_when_its_request_arrived() -> None:
    async def body():
        async with (
            sim_and_client(clock=WallClock()) as (sim, client),
            aiohttp.ClientSession() as session,
        ):
            token = (await client.ok("GetWebSocketsToken"))["token"]
            ws = await WsClient.connect(session, sim.ws_private_url)
            reply = await ws.request(
                "add_order",
                {
                    "order_type": "limit",
                    "side": "buy",
                    "order_qty": 0.01,
                    "limit_price": 40000.0,
                    "symbol": "BTC/USD",
                    "token": token,
                },
            )
            assert reply["success"] is True
            order = sim.exchange.accounts[KEY].orders[reply["result"]["order_id"]]
            assert rfc3339(order.opentm) == reply["time_in"]

    run(body())
