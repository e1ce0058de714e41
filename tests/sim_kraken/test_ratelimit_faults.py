"""Rate limits by tier and every fault injection, over real sockets."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from seraphim.adapters.kraken.common.rate_limits import cancel_cost
from seraphim.sim.kraken.faults import Faults
from seraphim.sim.kraken.faults import parse_fault_option

from .client import CheckedBook
from .client import WsClient
from .helpers import run
from .helpers import sim_and_client


def test_rest_counter_limits_and_decays() -> None:
    async def body():
        async with sim_and_client() as (sim, client):
            # starter: max 15; TradesHistory costs 2
            errors = [(await client.private("TradesHistory"))["error"] for _ in range(8)]
            assert errors[:7] == [[]] * 7
            assert errors[7] == ["EAPI:Rate limit exceeded"]
            assert (await client.private("Balance"))["error"] == []  # 14 + 1 = 15
            assert (await client.private("Balance"))["error"] == ["EAPI:Rate limit exceeded"]
            await sim.advance(3.1)  # decays 0.33/s -> one call's worth
            assert (await client.private("Balance"))["error"] == []
            # trading calls use the trading counter instead
            assert (await client.private("CancelAll"))["error"] == ["EAPI:Rate limit exceeded"]
            r = await client.private(
                "AddOrder",
                pair="XBTUSD",
                type="buy",
                ordertype="limit",
                price="40000",
                volume="0.01",
            )
            assert r["error"] == []

    run(body())


def test_trading_counter_with_cancel_age_penalty() -> None:
    assert (
        cancel_cost(1) == 8
        and cancel_cost(7) == 6
        and cancel_cost(60) == 2
        and cancel_cost(400) == 0
    )

    async def body():
        async with sim_and_client(rate_limits=True) as (sim, client):
            account = sim.exchange.accounts["test-key"]
            account.rest_counter = None
            base = {
                "pair": "XBTUSD",
                "type": "buy",
                "ordertype": "limit",
                "price": "40000",
                "volume": "0.01",
            }
            # each add +1, each immediate cancel +8: 6 rounds = 54 of 60
            for _ in range(6):
                (txid,) = (await client.ok("AddOrder", **base))["txid"]
                account.rest_counter = None
                await client.ok("CancelOrder", txid=txid)
                account.rest_counter = None
            (txid,) = (await client.ok("AddOrder", **base))["txid"]  # 55
            account.rest_counter = None
            r = await client.private("CancelOrder", txid=txid)  # 63 > 60
            assert r["error"] == ["EOrder:Rate limit exceeded"]
            await sim.advance(10)  # decays 1/s; the order is now 10 s old: +5
            account.rest_counter = None
            assert (await client.private("CancelOrder", txid=txid))["error"] == []

    run(body())


def test_rest_faults_5xx_unavailable_busy_and_timeout() -> None:
    async def body():
        async with sim_and_client() as (sim, client):
            sim.faults.rest_error("5xx", count=2, status=502)
            for _ in range(2):
                async with client.session.get(client.base + "/0/public/Time") as r:
                    assert r.status == 502 and "html" in r.content_type
            assert (await client.public("Time"))["error"] == []
            sim.faults.rest_error("unavailable", methods=["Balance"])
            assert (await client.public("Time"))["error"] == []  # not Balance
            assert (await client.private("Balance"))["error"] == ["EService:Unavailable"]
            sim.faults.rest_error("busy")
            assert (await client.private("Balance"))["error"] == ["EService:Busy"]
            sim.faults.rest_error("timeout", delay=1.0)
            with pytest.raises((aiohttp.ClientError, asyncio.TimeoutError)):
                async with client.session.get(
                    client.base + "/0/public/Time", timeout=aiohttp.ClientTimeout(total=0.3)
                ) as r:
                    await r.read()
            fired = [f["fault"] for f in sim.faults.fired]
            assert fired == [
                "rest_5xx",
                "rest_5xx",
                "rest_unavailable",
                "rest_busy",
                "rest_timeout",
            ]

    run(body())


def test_lost_ack_order_exists_but_client_gets_no_answer() -> None:
    async def body():
        async with sim_and_client() as (sim, client), aiohttp.ClientSession() as session:
            sim.faults.lose_ack(methods=["AddOrder"])
            with pytest.raises(aiohttp.ClientError):
                await client.private(
                    "AddOrder",
                    pair="XBTUSD",
                    type="buy",
                    ordertype="limit",
                    price="40000",
                    volume="0.01",
                    cl_ord_id="lost-1",
                )
            open_ = (await client.ok("OpenOrders", cl_ord_id="lost-1"))["open"]
            assert len(open_) == 1  # accepted although unacknowledged
            token = (await client.ok("GetWebSocketsToken"))["token"]
            ws = await WsClient.connect(session, sim.ws_private_url)
            sim.faults.lose_ack(methods=["add_order"])
            await ws.ws.send_json(
                {
                    "method": "add_order",
                    "req_id": 99,
                    "params": {
                        "order_type": "limit",
                        "side": "buy",
                        "order_qty": 0.01,
                        "limit_price": 40000.0,
                        "symbol": "BTC/USD",
                        "token": token,
                    },
                }
            )
            with pytest.raises(TimeoutError):
                await ws.wait_for(lambda m: m.get("req_id") == 99, timeout=0.3)
            assert len(sim.exchange.accounts["test-key"].open_orders()) == 2

    run(body())


def test_book_corrupt_and_skip_break_the_next_checksum() -> None:
    async def body():
        async with sim_and_client(sources={}) as (sim, _client), aiohttp.ClientSession() as session:
            ws = await WsClient.connect(session, sim.ws_public_url)
            await ws.request("subscribe", {"channel": "book", "symbol": ["BTC/USD"], "depth": 10})
            for kind in ("corrupt", "skip"):
                book = CheckedBook(10, 1, 8)
                snap = await ws.wait_for(
                    lambda m: m.get("channel") == "book" and m["type"] == "snapshot"
                )
                assert book.apply(snap["data"][0])
                start = len(ws.messages)
                await sim.advance(1)
                await sim.advance(1)
                getattr(sim.faults, f"{kind}_book")(symbol="BTC/USD")
                for _ in range(3):
                    await sim.advance(1)
                await ws.drain(0.1)
                results = [
                    book.apply(m["data"][0])
                    for m in ws.messages[start:]
                    if m.get("channel") == "book"
                ]
                assert results[:2] == [True, True]
                assert False in results[2:]
                await ws.request("unsubscribe", {"channel": "book", "symbol": ["BTC/USD"]})
                await ws.request(
                    "subscribe", {"channel": "book", "symbol": ["BTC/USD"], "depth": 10}
                )
                ws._seen = len(ws.messages) - 2
            assert [f["fault"] for f in sim.faults.fired] == ["corrupt_book", "skip_book"]

    run(body())


def test_execution_faults_duplicate_reorder_delay_and_ws_drop() -> None:
    async def body():
        async with sim_and_client() as (sim, client), aiohttp.ClientSession() as session:
            token = (await client.ok("GetWebSocketsToken"))["token"]
            ws = await WsClient.connect(session, sim.ws_private_url)
            await ws.request("subscribe", {"channel": "executions", "token": token})
            await ws.wait_for(lambda m: m.get("type") == "snapshot")
            order = {
                "order_type": "limit",
                "side": "buy",
                "order_qty": 0.01,
                "limit_price": 40000.0,
                "symbol": "BTC/USD",
                "token": token,
            }

            def is_update(m: dict) -> bool:
                return m.get("channel") == "executions" and m["type"] == "update"

            async def add_and_collect(n: int) -> list[dict]:
                before = sum(1 for m in ws.messages if is_update(m))
                await ws.request("add_order", order)
                return (await ws.collect(is_update, before + n))[before:]

            sim.faults.duplicate_executions()
            msgs = await add_and_collect(3)  # pending_new twice, then new
            assert [m["sequence"] for m in msgs] == [2, 2, 3]
            sim.faults.reorder_executions()
            msgs = await add_and_collect(2)
            assert [m["sequence"] for m in msgs] == [5, 4]
            assert [m["data"][0]["exec_type"] for m in msgs] == ["new", "pending_new"]
            sim.faults.delay_executions(0.3)
            msgs = await add_and_collect(2)
            assert [m["sequence"] for m in msgs] == [7, 6]
            # drop every WebSocket connection
            public = await WsClient.connect(session, sim.ws_public_url)
            await public.wait_for(lambda m: m.get("channel") == "status")
            assert sim.faults.drop_ws("all") == 2
            for conn in (ws, public):
                with pytest.raises(ConnectionError):
                    await conn.wait_for(lambda m: False, timeout=2)
            await asyncio.sleep(0.05)
            assert sim.state()["connections"] == {"public": 0, "private": 0}

    run(body())


def test_system_status_maintenance_and_cancel_only() -> None:
    async def body():
        async with sim_and_client() as (sim, client), aiohttp.ClientSession() as session:
            ws = await WsClient.connect(session, sim.ws_public_url)
            await ws.wait_for(lambda m: m.get("channel") == "status")
            base = {
                "pair": "XBTUSD",
                "type": "buy",
                "ordertype": "limit",
                "price": "40000",
                "volume": "0.01",
            }
            (txid,) = (await client.ok("AddOrder", **base))["txid"]
            sim.faults.system_status("cancel_only")
            assert (await client.public("SystemStatus"))["result"]["status"] == "cancel_only"
            status = await ws.wait_for(
                lambda m: m.get("channel") == "status" and m["data"][0]["system"] == "cancel_only"
            )
            assert status["type"] == "update"
            assert (await client.private("AddOrder", **base))["error"] == [
                "EService:Market in cancel_only mode"
            ]
            assert (await client.ok("CancelOrder", txid=txid))["count"] == 1
            # scheduled through the control endpoint, as a script would
            async with session.post(
                sim.rest_url + "/_sim/faults",
                json={"fault": "status", "value": "maintenance", "after": 5},
            ) as r:
                assert r.status == 200
            await sim.advance(4)
            assert sim.exchange.status == "cancel_only"
            await sim.advance(2)
            assert (await client.public("SystemStatus"))["result"]["status"] == "maintenance"
            assert (await client.private("AddOrder", **base))["error"] == ["EService:Unavailable"]
            async with session.get(sim.rest_url + "/_sim/state") as r:
                state = await r.json()
            assert state["status"] == "maintenance"
            assert "secret" not in str(state).lower() and client.secret not in str(state)
            assert state["accounts"]["test-key"]["orders"][txid]["status"] == "canceled"

    run(body())


def test_fault_specs_parse_like_the_command_line() -> None:
    spec = parse_fault_option("rest_5xx:count=2,methods=AddOrder+Balance,status=500")
    assert spec == {
        "fault": "rest_5xx",
        "count": "2",
        "methods": "AddOrder+Balance",
        "status": "500",
    }
    faults = Faults()
    faults.apply(spec)
    assert faults.take_rest("Time") is None
    assert faults.take_rest("AddOrder").params["status"] == 500
    assert faults.take_rest("Balance") is not None
    assert faults.take_rest("Balance") is None
    with pytest.raises(ValueError):
        faults.apply({"fault": "meteor"})
