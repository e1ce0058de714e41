"""WebSocket v2 public over real sockets: status, ping, acks, book checksums, channels."""

from __future__ import annotations

import aiohttp

from seraphim.sim.kraken import KrakenSimServer
from seraphim.sim.kraken.market import BookReplaySource

from .client import CheckedBook
from .client import WsClient
from .helpers import make_config
from .helpers import run
from .helpers import sim_and_client


def is_book(kind: str):
    return lambda m: m.get("channel") == "book" and m.get("type") == kind


def test_recorded_book_stream_replays_with_the_recorded_checksums(shared_data) -> None:
    path = shared_data / "kraken/ws/book_v2_btcusd_stream.json"
    source = BookReplaySource(path)

    async def body():
        config = make_config(sources={"BTC/USD": source}, pairs=["BTC/USD"])
        async with KrakenSimServer(config) as sim, aiohttp.ClientSession() as session:
            ws = await WsClient.connect(session, sim.ws_public_url)
            ack = await ws.request(
                "subscribe", {"channel": "book", "symbol": ["BTC/USD"], "depth": 10}
            )
            assert ack["success"] is True
            assert ack["result"] == {
                "channel": "book",
                "depth": 10,
                "snapshot": True,
                "symbol": "BTC/USD",
            }
            await sim.advance(3600)  # every recorded update is due
            assert source.done
            snapshot = await ws.wait_for(is_book("snapshot"))
            updates = await ws.collect(is_book("update"), 509)
            checksums = [snapshot["data"][0]["checksum"]] + [
                u["data"][0]["checksum"] for u in updates
            ]
            assert checksums == source.recorded_checksums
            # and a client that maintains the book per the docs agrees with every one
            book = CheckedBook(10, 1, 8)
            assert all(book.apply(m["data"][0]) for m in [snapshot, *updates])

    run(body())


def test_connect_status_ping_heartbeat_and_subscription_errors() -> None:
    async def body():
        async with sim_and_client() as (sim, _client), aiohttp.ClientSession() as session:
            ws = await WsClient.connect(session, sim.ws_public_url)
            status = await ws.wait_for(lambda m: m.get("channel") == "status")
            assert status["type"] == "update"
            info = status["data"][0]
            assert info["system"] == "online" and info["api_version"] == "v2"
            assert isinstance(info["connection_id"], int)
            pong = await ws.request("ping")
            assert pong["method"] == "pong" and pong["req_id"] == 1 and "time_in" in pong
            bad = await ws.request("subscribe", {"channel": "ticker", "symbol": ["FOO/BAR"]})
            assert bad["success"] is False
            assert bad["error"] == "Currency pair not supported FOO/BAR"
            bad = await ws.request(
                "subscribe", {"channel": "book", "symbol": ["BTC/USD"], "depth": 7}
            )
            assert bad["success"] is False
            ok = await ws.request("subscribe", {"channel": "ticker", "symbol": ["BTC/USD"]})
            assert ok["success"] is True
            await ws.wait_for(lambda m: m.get("channel") == "heartbeat", timeout=2)
            unsub = await ws.request("unsubscribe", {"channel": "ticker", "symbol": ["BTC/USD"]})
            assert unsub["success"] is True
            again = await ws.request("unsubscribe", {"channel": "ticker", "symbol": ["BTC/USD"]})
            assert again["success"] is False

    run(body())


def test_book_updates_carry_valid_checksums_as_clients_trade_and_the_market_walks() -> None:
    async def body():
        async with sim_and_client(sources={}) as (sim, client), aiohttp.ClientSession() as session:
            ws = await WsClient.connect(session, sim.ws_public_url)
            for depth, symbol in ((10, "BTC/USD"), (25, "ETH/USD")):
                await ws.request(
                    "subscribe", {"channel": "book", "symbol": [symbol], "depth": depth}
                )
            await ws.request(
                "subscribe", {"channel": "trade", "symbol": ["BTC/USD"], "snapshot": False}
            )
            books = {"BTC/USD": CheckedBook(10, 1, 8), "ETH/USD": CheckedBook(25, 2, 8)}
            mid = sim.exchange.books["XXBTZUSD"].mid()
            # client orders inside the spread change the top of the book
            await client.ok(
                "AddOrder",
                pair="XBTUSD",
                type="buy",
                ordertype="limit",
                price=str(round(mid - 50, 1)),
                volume="0.3",
            )
            await client.ok(
                "AddOrder", pair="XBTUSD", type="buy", ordertype="market", volume="0.05"
            )
            for _ in range(20):
                await sim.advance(1)
            await ws.drain(0.2)
            book_msgs = [m for m in ws.messages if m.get("channel") == "book"]
            assert len(book_msgs) > 20
            for m in book_msgs:
                entry = m["data"][0]
                assert books[entry["symbol"]].apply(entry), m
                assert len(books[entry["symbol"]].asks) <= books[entry["symbol"]].depth
            trades = [t for m in ws.messages if m.get("channel") == "trade" for t in m["data"]]
            assert any(
                t["side"] == "buy" and t["ord_type"] == "market" and t["qty"] == 0.05
                for t in trades
            )

    run(body())


def test_ticker_trade_ohlc_and_instrument_channels() -> None:
    async def body():
        async with sim_and_client() as (sim, client), aiohttp.ClientSession() as session:
            ws = await WsClient.connect(session, sim.ws_public_url)
            await ws.request("subscribe", {"channel": "ticker", "symbol": ["BTC/USD"]})
            ticker = await ws.wait_for(lambda m: m.get("channel") == "ticker")
            assert ticker["type"] == "snapshot"
            t = ticker["data"][0]
            assert (t["bid"], t["bid_qty"], t["ask"], t["ask_qty"]) == (49990.0, 0.5, 50000.0, 0.5)
            await ws.request("subscribe", {"channel": "trade", "symbol": ["BTC/USD"]})
            await ws.request("subscribe", {"channel": "ohlc", "symbol": ["BTC/USD"], "interval": 5})
            ohlc = await ws.wait_for(
                lambda m: m.get("channel") == "ohlc" and m["type"] == "snapshot"
            )
            assert ohlc["data"] == []  # a static book has no trades yet
            await ws.request("subscribe", {"channel": "instrument"})
            inst = await ws.wait_for(lambda m: m.get("channel") == "instrument")
            pairs = {p["symbol"]: p for p in inst["data"]["pairs"]}
            assert (
                pairs["BTC/USD"]["price_precision"] == 1 and pairs["BTC/USD"]["qty_min"] == 0.00005
            )
            await client.ok(
                "AddOrder", pair="XBTUSD", type="sell", ordertype="market", volume="0.1"
            )
            trade = await ws.wait_for(
                lambda m: m.get("channel") == "trade" and m["type"] == "update"
            )
            assert trade["data"][0]["side"] == "sell" and trade["data"][0]["price"] == 49990.0
            tick = await ws.wait_for(
                lambda m: m.get("channel") == "ticker" and m["type"] == "update"
            )
            assert tick["data"][0]["last"] == 49990.0 and tick["data"][0]["bid_qty"] == 0.4
            candle = await ws.wait_for(
                lambda m: m.get("channel") == "ohlc" and m["type"] == "update"
            )
            c = candle["data"][0]
            assert (c["open"], c["close"], c["volume"], c["trades"], c["interval"]) == (
                49990.0,
                49990.0,
                0.1,
                1,
                5,
            )
            assert c["interval_begin"].endswith("000Z")

    run(body())
