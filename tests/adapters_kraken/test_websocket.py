"""The WebSocket v2 connection: subscriptions, requests, reconnects and bad input."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp import web

from seraphim.adapters.kraken.common.errors import KrakenAmbiguousError
from seraphim.adapters.kraken.common.errors import KrakenApiError
from seraphim.adapters.kraken.common.errors import KrakenTransportError
from seraphim.adapters.kraken.websocket.client import KrakenWebSocketClient
from seraphim.adapters.kraken.websocket.client import KrakenWsNotConnected
from seraphim.sim.kraken import KrakenSimServer

from .helpers import run
from .helpers import sim_config


async def _wait(predicate, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.02)


def test_subscribe_reconnect_and_resubscribe() -> None:
    async def body():
        async with KrakenSimServer(sim_config()) as sim:
            seen: list[dict] = []
            reconnected = asyncio.Event()

            ws = KrakenWebSocketClient(
                sim.ws_public_url,
                lambda text: seen.append(json.loads(text)),
                on_reconnect=reconnected.set,
                reconnect_delay_initial=0.05,
            )
            await ws.connect()
            await ws.subscribe({"channel": "book", "symbol": ["BTC/USD"], "depth": 10})
            await ws.subscribe({"channel": "trade", "symbol": ["BTC/USD"], "snapshot": True})
            with pytest.raises(KrakenApiError, match="Currency pair not supported FOO/BAR"):
                await ws.subscribe({"channel": "trade", "symbol": ["FOO/BAR"]})
            assert len(ws.subscriptions) == 2  # the refused one is not kept
            await _wait(lambda: any(m.get("channel") == "book" for m in seen))
            books_before = sum(m.get("type") == "snapshot" and m["channel"] == "book" for m in seen)

            assert sim.faults.drop_ws("public") == 1
            await asyncio.wait_for(reconnected.wait(), 5)
            await _wait(
                lambda: (
                    sum(m.get("type") == "snapshot" and m["channel"] == "book" for m in seen)
                    > books_before
                )
            )
            assert ws.stats["reconnects"] == 1 and ws.is_connected
            state = sim.state()
            assert state["connections"]["public"] == 1
            await ws.disconnect()
            assert not ws.is_connected

    run(body())


def test_requests_are_matched_by_req_id_and_fail_fast_when_down() -> None:
    async def body():
        async with KrakenSimServer(sim_config()) as sim:
            ws = KrakenWebSocketClient(sim.ws_public_url, lambda text: None)
            with pytest.raises(KrakenWsNotConnected):
                await ws.request("ping", {})
            await ws.connect()
            replies = await asyncio.gather(
                ws.request("subscribe", {"channel": "ticker", "symbol": ["BTC/USD"]}),
                ws.request("subscribe", {"channel": "ticker", "symbol": ["NOPE/USD"]}),
            )
            assert replies[0].success is True and replies[1].success is False
            assert "NOPE/USD" in (replies[1].error or "")
            await ws.disconnect()

    run(body())


def test_malformed_messages_and_silent_servers() -> None:
    async def body():
        connections = 0

        async def handler(request: web.Request) -> web.WebSocketResponse:
            nonlocal connections
            connections += 1
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            await ws.send_str("this is not json")
            await ws.send_str('{"channel": "heartbeat"}')
            await asyncio.sleep(3)  # then silence: the client must give up on it
            await ws.close()
            return ws

        app = web.Application()
        app.add_routes([web.get("/v2", handler)])
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        got: list[str] = []
        ws = KrakenWebSocketClient(
            f"ws://127.0.0.1:{port}/v2",
            got.append,
            idle_timeout=0.4,
            ping_interval=10,
            reconnect_delay_initial=0.05,
        )
        await ws.connect()
        await _wait(lambda: ws.stats["idle_timeouts"] >= 1 and connections >= 2)
        assert ws.stats["malformed"] >= 1
        assert got and json.loads(got[0]) == {"channel": "heartbeat"}
        await ws.disconnect()
        await runner.cleanup()
        with pytest.raises(KrakenTransportError, match="cannot connect WebSocket"):
            await KrakenWebSocketClient(f"ws://127.0.0.1:{port}/v2", got.append).connect()
        with pytest.raises(ValueError, match="ws"):
            KrakenWebSocketClient("http://x", got.append)

    run(body())


def test_a_request_sent_before_disconnect_is_ambiguous_not_unsent() -> None:
    """Closing the socket under a sent request must not read as "never sent" (which would let
    the caller resend it another way)."""

    async def body():
        received: list[str] = []

        async def handler(request: web.Request) -> web.WebSocketResponse:
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            async for msg in ws:  # reads every request, answers none
                received.append(msg.data)
            return ws

        app = web.Application()
        app.add_routes([web.get("/v2", handler)])
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        ws = KrakenWebSocketClient(f"ws://127.0.0.1:{port}/v2", lambda text: None)
        await ws.connect()
        request = asyncio.ensure_future(ws.request("add_order", {"order_qty": 1}, timeout=30))
        await _wait(lambda: any("add_order" in r for r in received))
        await ws.disconnect()
        with pytest.raises(KrakenAmbiguousError):
            await request
        await runner.cleanup()

    run(body())
