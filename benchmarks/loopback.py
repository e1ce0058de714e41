"""
The floor under tick-to-order on this machine: a WebSocket round trip between two processes on
127.0.0.1 with no work on either side.

A peer process (aiohttp, like the local exchange) sends a trade-sized JSON message every 50 ms
stamped with its send time; this process (uvloop, like a TradingNode) answers each one at once
with an order-sized message carrying the stamp; the peer notes when the answer arrives. What is
left is what any node against any exchange process pays here: two socket hops and waking two
processes (on a shared 2-vCPU machine, waking an idle vCPU is most of it). Tick-to-order in
``benchmarks/kraken_ws.py`` is measured the same way (exchange stamp -> order received by the
exchange), so this is its lower bound on the same machine.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time

import aiohttp
import msgspec
import uvloop
from aiohttp import web

from benchmarks.common import PeerProcess
from benchmarks.common import print_table
from benchmarks.common import quantile

INTERVAL = 0.05  # the latency run's exchange steps every 50 ms
TRADE = {
    "channel": "trade",
    "type": "update",
    "data": [
        {
            "symbol": "BTC/USD",
            "side": "buy",
            "price": 65036.4,
            "qty": 0.00768123,
            "ord_type": "market",
            "trade_id": 1,
            "timestamp": "",
        }
    ],
}


def serve_peer() -> None:
    """The exchange side: prints its URL, then the round trips (ms) when stdin closes."""
    round_trips: list[float] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)

        async def ticks() -> None:
            while not ws.closed:
                await asyncio.sleep(INTERVAL)
                TRADE["data"][0]["timestamp"] = repr(time.time())
                await ws.send_str(json.dumps(TRADE))

        sender = asyncio.create_task(ticks())
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                sent = float(json.loads(msg.data)["params"]["cl_ord_id"])
                round_trips.append((time.time() - sent) * 1000)
        sender.cancel()
        return ws

    async def main() -> None:
        app = web.Application()
        app.add_routes([web.get("/", handler)])
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        print(json.dumps(f"ws://127.0.0.1:{port}/"), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        print(json.dumps(round_trips), flush=True)
        await runner.cleanup()

    asyncio.run(main())


def echo_round_trips(seconds: float) -> list[float]:
    """Sorted round trips (ms) of one run against a fresh peer process."""
    decode = msgspec.json.Decoder().decode
    encode = msgspec.json.Encoder().encode

    async def client(url: str) -> None:
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                msg = await ws.receive(timeout=5)
                stamp = decode(msg.data)["data"][0]["timestamp"]
                order = {"method": "add_order", "params": {"cl_ord_id": stamp}, "req_id": 1}
                await ws.send_str(encode(order).decode())

    with PeerProcess(serve_peer) as peer:
        asyncio.run(client(peer.ready), loop_factory=uvloop.new_event_loop)
        round_trips = peer.results()
    return sorted(round_trips)


def main() -> None:
    values = echo_round_trips(20.0)
    print_table(
        "WebSocket round trip between two processes on 127.0.0.1, no work on either side "
        "(the floor under tick-to-order)",
        ["samples", "p50 ms", "p90 ms", "p99 ms", "min ms"],
        [
            [
                str(len(values)),
                f"{statistics.median(values):.3f}",
                f"{quantile(values, 0.9):.3f}",
                f"{quantile(values, 0.99):.3f}",
                f"{values[0]:.3f}",
            ]
        ],
    )


if __name__ == "__main__":
    main()
