"""WebSocket v2 private over real sockets: token auth, executions, balances, trading methods."""

from __future__ import annotations

import aiohttp

from .client import WsClient
from .helpers import run
from .helpers import sim_and_client


def execs(ws: WsClient) -> list[dict]:
    return [m for m in ws.messages if m.get("channel") == "executions"]


async def connect_private(sim, client, session) -> tuple[WsClient, str]:
    token = (await client.ok("GetWebSocketsToken"))["token"]
    ws = await WsClient.connect(session, sim.ws_private_url)
    return ws, token


def test_executions_snapshot_then_lifecycle_with_sequences() -> None:
    async def body():
        async with sim_and_client() as (sim, client), aiohttp.ClientSession() as session:
            (resting,) = (
                await client.ok(
                    "AddOrder",
                    pair="XBTUSD",
                    type="buy",
                    ordertype="limit",
                    price="45000.0",
                    volume="0.1",
                )
            )["txid"]
            ws, token = await connect_private(sim, client, session)
            bad = await ws.request("subscribe", {"channel": "executions", "token": "nope"})
            assert bad["success"] is False and bad["error"] == "ESession:Invalid session"
            ack = await ws.request(
                "subscribe", {"channel": "executions", "token": token, "snap_orders": True}
            )
            assert ack["success"] is True
            snap = await ws.wait_for(lambda m: m.get("channel") == "executions")
            assert snap["type"] == "snapshot" and snap["sequence"] == 1
            assert [o["order_id"] for o in snap["data"]] == [resting]
            assert (
                snap["data"][0]["order_status"] == "new"
                and snap["data"][0]["limit_price"] == 45000.0
            )
            # a market buy of 0.7 over two levels
            reply = await ws.request(
                "add_order",
                {
                    "order_type": "market",
                    "side": "buy",
                    "order_qty": 0.7,
                    "symbol": "BTC/USD",
                    "token": token,
                    "order_userref": 7,
                },
            )
            assert reply["success"] is True and reply["result"]["order_userref"] == 7
            oid = reply["result"]["order_id"]
            msgs = await ws.collect(
                lambda m: m.get("channel") == "executions" and m["type"] == "update", 5
            )
            kinds = [m["data"][0]["exec_type"] for m in msgs]
            assert kinds == ["pending_new", "new", "trade", "trade", "filled"]
            assert [m["sequence"] for m in msgs] == [2, 3, 4, 5, 6]
            assert all(m["data"][0]["order_id"] == oid for m in msgs)
            t1, t2 = msgs[2]["data"][0], msgs[3]["data"][0]
            assert (t1["last_qty"], t1["last_price"], t1["liquidity_ind"]) == (0.5, 50000.0, "t")
            assert t1["order_status"] == "partially_filled" and t2["order_status"] == "filled"
            assert t1["fees"] == [{"asset": "USD", "qty": 100.0}]
            done = msgs[4]["data"][0]
            assert (done["cum_qty"], done["cum_cost"], done["order_status"]) == (
                0.7,
                35002.0,
                "filled",
            )

    run(body())


def test_trading_methods_and_balances() -> None:
    async def body():
        async with sim_and_client() as (sim, client), aiohttp.ClientSession() as session:
            ws, token = await connect_private(sim, client, session)
            await ws.request("subscribe", {"channel": "executions", "token": token})
            bal_ack = await ws.request("subscribe", {"channel": "balances", "token": token})
            assert bal_ack["success"] is True
            snap = await ws.wait_for(lambda m: m.get("channel") == "balances")
            assert {b["asset"]: b["balance"] for b in snap["data"]} == {
                "USD": 100000.0,
                "BTC": 2.0,
                "ETH": 10.0,
            }

            def order(price: float, **kw) -> dict:
                return {
                    "order_type": "limit",
                    "side": "buy",
                    "order_qty": 0.1,
                    "symbol": "BTC/USD",
                    "limit_price": price,
                    "token": token,
                    **kw,
                }

            r = await ws.request("add_order", order(40000.0, cl_ord_id="ws-1"))
            assert r["success"] and r["result"]["cl_ord_id"] == "ws-1"
            oid = r["result"]["order_id"]
            r = await ws.request("add_order", order(40000.0, order_qty=1000))
            assert r["success"] is False and r["error"] == "EOrder:Insufficient funds"
            r = await ws.request("add_order", order(40000.05))
            assert r["success"] is False and r["error"].startswith("EOrder:Invalid price")
            r = await ws.request(
                "amend_order",
                {"order_id": oid, "limit_price": 41000.0, "order_qty": 0.2, "token": token},
            )
            assert r["success"] and r["result"]["order_id"] == oid
            amended = await ws.wait_for(
                lambda m: (
                    m.get("channel") == "executions"
                    and m["data"]
                    and m["data"][0].get("exec_type") == "amended"
                )
            )
            assert (
                amended["data"][0]["limit_price"] == 41000.0
                and amended["data"][0]["order_qty"] == 0.2
            )
            assert sim.exchange.orders[oid].price == 41000
            r = await ws.request(
                "batch_add",
                {
                    "symbol": "BTC/USD",
                    "token": token,
                    "orders": [
                        {
                            "order_type": "limit",
                            "side": "sell",
                            "order_qty": 0.1,
                            "limit_price": 60000.0,
                        },
                        {
                            "order_type": "limit",
                            "side": "sell",
                            "order_qty": 0.1,
                            "limit_price": 61000.0,
                        },
                    ],
                },
            )
            assert r["success"] and len(r["result"]) == 2
            ids = [o["order_id"] for o in r["result"]]
            # all or nothing: one bad order rejects the whole batch
            r = await ws.request(
                "batch_add",
                {
                    "symbol": "BTC/USD",
                    "token": token,
                    "orders": [
                        {
                            "order_type": "limit",
                            "side": "sell",
                            "order_qty": 0.1,
                            "limit_price": 60000.0,
                        },
                        {
                            "order_type": "limit",
                            "side": "sell",
                            "order_qty": 99,
                            "limit_price": 61000.0,
                        },
                    ],
                },
            )
            assert r["success"] is False and r["error"] == "EOrder:Insufficient funds"
            assert len(sim.exchange.accounts["test-key"].open_orders()) == 3
            r = await ws.request("batch_cancel", {"orders": ids, "token": token})
            assert r["success"] and r["result"] == {"count": 2}
            r = await ws.request("cancel_order", {"cl_ord_id": ["ws-1"], "token": token})
            assert r["success"] and r["result"]["order_id"] == oid
            r = await ws.request("cancel_order", {"order_id": [oid], "token": token})
            assert r["success"] is False and r["error"] == "EOrder:Unknown order"
            await ws.request("add_order", order(40000.0))
            r = await ws.request("cancel_all", {"token": token})
            assert r["result"] == {"count": 1}
            r = await ws.request("cancel_all_orders_after", {"timeout": 10, "token": token})
            assert r["result"]["triggerTime"] == "2023-11-14T22:13:30.000000Z"
            await ws.request("add_order", order(40000.0, order_userref=5))
            await sim.advance(11)
            canceled = await ws.wait_for(
                lambda m: (
                    m.get("channel") == "executions"
                    and m["data"]
                    and m["data"][0].get("reason") == "Dead man switch"
                )
            )
            assert (
                canceled["data"][0]["exec_type"] == "canceled"
                and canceled["data"][0]["order_userref"] == 5
            )
            # a fill moves balances on the balances channel
            await ws.request(
                "add_order",
                {
                    "order_type": "market",
                    "side": "sell",
                    "order_qty": 0.1,
                    "symbol": "BTC/USD",
                    "token": token,
                },
            )
            updates = await ws.collect(
                lambda m: m.get("channel") == "balances" and m["type"] == "update", 2
            )
            moved = {u["data"][0]["asset"]: u["data"][0] for u in updates}
            assert moved["BTC"]["amount"] == -0.1 and moved["BTC"]["balance"] == 1.9
            assert moved["USD"]["amount"] == 4999.0 and moved["USD"]["fee"] == 19.996
            seqs = [m["sequence"] for m in ws.messages if m.get("channel") == "balances"]
            assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)

    run(body())
