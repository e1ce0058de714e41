"""Private REST over real sockets: authentication exactly as Kraken, orders, fills, balances."""

from __future__ import annotations

from decimal import Decimal

from .client import TEST_SECRET
from .client import docs_sign
from .helpers import KEY
from .helpers import run
from .helpers import sim_and_client


def test_signed_call_accepted_and_bad_auth_rejected_with_kraken_errors() -> None:
    async def body():
        async with sim_and_client() as (_sim, client):
            assert (await client.private("Balance"))["result"]["ZUSD"] == "100000.0000"

            async def err(**kw) -> list[str]:
                async with await client.private_raw("Balance", {}, **kw) as r:
                    assert r.status == 200
                    return (await r.json())["error"]

            assert await err(key="unknown-key") == ["EAPI:Invalid key"]
            assert await err(key="") == ["EAPI:Invalid key"]
            assert await err(sign="AAAA") == ["EAPI:Invalid signature"]
            # signed with another secret
            other = docs_sign("/0/private/Balance", "nonce=9999999999999", 9999999999999, "AAAA")
            assert await err(nonce=9999999999999, sign=other) == ["EAPI:Invalid signature"]
            # a rejected signature does not consume the nonce
            assert (await client.private("Balance"))["error"] == []
            used = client.nonce
            assert await err(nonce=used) == ["EAPI:Invalid nonce"]  # replay
            assert await err(nonce=used - 5) == ["EAPI:Invalid nonce"]  # decreasing
            assert (await client.private("Balance"))["error"] == []
            # the body is signed byte for byte: tampering after signing fails
            nonce = client.next_nonce()
            body_ = f"nonce={nonce}"
            sig = docs_sign("/0/private/Balance", body_, nonce, TEST_SECRET)
            async with client.session.post(
                client.base + "/0/private/Balance",
                data=body_ + "&extra=1",
                headers={"API-Key": KEY, "API-Sign": sig},
            ) as r:
                assert (await r.json())["error"] == ["EAPI:Invalid signature"]
            async with client.session.post(
                client.base + "/0/private/Balance", data="", headers={"API-Key": KEY}
            ) as r:
                assert (await r.json())["error"] == ["EAPI:Invalid nonce"]

    run(body())


def test_market_buy_walks_the_book_with_taker_fees_and_balances() -> None:
    async def body():
        async with sim_and_client() as (sim, client):
            res = await client.ok(
                "AddOrder", pair="XBTUSD", type="buy", ordertype="market", volume="0.7"
            )
            assert res["descr"]["order"] == "buy 0.70000000 XBTUSD @ market"
            (txid,) = res["txid"]
            order = (await client.ok("QueryOrders", txid=txid, trades="true"))[txid]
            assert order["status"] == "closed"
            assert order["vol_exec"] == "0.70000000"
            # 0.5 @ 50000 + 0.2 @ 50010 = 35002; taker 0.40% per fill = 100 + 40.008
            assert order["cost"] == "35002.00000"
            assert order["fee"] == "140.00800"
            assert len(order["trades"]) == 2
            bal = await client.ok("Balance")
            assert bal["XXBT"] == "2.7000000000"
            assert bal["ZUSD"] == "64857.9920"  # 100000 - 35002 - 140.008
            trades = await client.ok("TradesHistory")
            assert trades["count"] == 2
            fills = sorted(trades["trades"].values(), key=lambda t: t["price"])
            assert [(t["price"], t["vol"], t["fee"], t["maker"]) for t in fills] == [
                ("50000.00000", "0.50000000", "100.00000", False),
                ("50010.00000", "0.20000000", "40.00800", False),
            ]
            # the exchange's own truth agrees with what the client sees
            truth = sim.state()["accounts"][KEY]
            assert truth["balances"]["ZUSD"] == bal["ZUSD"] == "64857.9920"
            assert sim.state()["books"]["BTC/USD"]["asks"][0] == ["50010.0", "0.8"]

    run(body())


def test_limit_rests_with_hold_then_fills_as_maker_against_another_client() -> None:
    from seraphim.sim.kraken.accounts import Account

    async def body():
        async with sim_and_client() as (sim, client):
            res = await client.ok(
                "AddOrder",
                pair="XBTUSD",
                type="buy",
                ordertype="limit",
                price="49995.0",
                volume="1",
                userref="42",
            )
            (txid,) = res["txid"]
            ex = await client.ok("BalanceEx")
            # hold = 1 * 49995 * (1 + 0.4% taker reserve)
            assert ex["ZUSD"] == {"balance": "100000.0000", "hold_trade": "50194.9800"}
            assert (await client.ok("OpenOrders"))["open"][txid]["userref"] == 42
            # another account sells into it: our order is the maker (0.25%)
            other = Account("other", TEST_SECRET, balances={"XXBT": Decimal(5)})
            sim.exchange.add_account(other)
            from seraphim.sim.kraken.accounts import OrderRequest

            pair = sim.exchange.find_pair("XBTUSD")
            sim.exchange.add_order(
                other, OrderRequest(pair, "sell", "limit", Decimal("0.4"), Decimal("49995.0"))
            )
            order = (await client.ok("QueryOrders", txid=txid))[txid]
            assert order["status"] == "open" and order["vol_exec"] == "0.40000000"
            assert order["fee"] == "49.99500"  # 0.4 * 49995 * 0.25%
            ex = await client.ok("BalanceEx")
            assert ex["XXBT"]["balance"] == "2.4000000000"
            assert ex["ZUSD"]["hold_trade"] == "30116.9880"  # 0.6 * 49995 * 1.004
            fill = next(iter((await client.ok("TradesHistory"))["trades"].values()))
            assert fill["maker"] is True
            assert other.balances["ZUSD"] == Decimal("19998") - Decimal("79.9920")  # taker fee
            # cancel by userref releases the hold
            assert (await client.ok("CancelOrder", txid="42"))["count"] == 1
            ex = await client.ok("BalanceEx")
            assert ex["ZUSD"]["hold_trade"] == "0.0000"
            closed = (await client.ok("ClosedOrders"))["closed"][txid]
            assert closed["status"] == "canceled" and closed["reason"] == "User requested"

    run(body())


def test_order_validation_errors() -> None:
    async def body():
        async with sim_and_client() as (_sim, client):

            async def add(**kw) -> list[str]:
                params = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", **kw}
                return (await client.private("AddOrder", **params))["error"]

            assert await add(price="40000", volume="0.00001") == ["EOrder:Order minimum not met"]
            assert await add(price="1.0", volume="0.0001") == ["EOrder:Cost minimum not met"]
            assert await add(price="40000.05", volume="0.01") == [
                "EOrder:Invalid price:XBTUSD price can only be specified up to 1 decimals."
            ]
            assert await add(price="40000", volume="abc") == ["EGeneral:Invalid arguments:volume"]
            assert await add(volume="0.01") == ["EGeneral:Invalid arguments:price"]
            assert await add(price="40000", volume="100") == ["EOrder:Insufficient funds"]
            assert await add(price="40000", volume="0.01", pair="NOPE") == [
                "EQuery:Unknown asset pair"
            ]
            assert await add(price="40000", volume="0.01", ordertype="moon") == [
                "EGeneral:Invalid arguments:ordertype"
            ]
            assert await add(price="40000", volume="0.01", userref="1", cl_ord_id="abc") != []
            assert await add(price="40000", volume="0.01", oflags="post,bogus") == [
                "EGeneral:Invalid arguments:oflags"
            ]
            # validate: checked and described, nothing placed
            res = await client.ok(
                "AddOrder",
                pair="XBTUSD",
                type="buy",
                ordertype="limit",
                price="37500",
                volume="1.25",
                validate="true",
            )
            assert res == {"descr": {"order": "buy 1.25000000 XBTUSD @ limit 37500.0"}}
            assert (await client.ok("OpenOrders"))["open"] == {}
            assert (await client.private("CancelOrder", txid="OAAAAA-BBBBB-CCCCCC"))["error"] == [
                "EOrder:Unknown order"
            ]

    run(body())


def test_post_only_ioc_gtd_and_stop_orders() -> None:
    async def body():
        async with sim_and_client() as (sim, client):
            base = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit"}
            # post-only that would take is canceled, not filled
            (post,) = (
                await client.ok("AddOrder", **base, price="50000.0", volume="0.1", oflags="post")
            )["txid"]
            o = (await client.ok("QueryOrders", txid=post))[post]
            assert (o["status"], o["reason"], o["vol_exec"]) == (
                "canceled",
                "Post only order",
                "0.00000000",
            )
            assert "post" in o["oflags"]
            # IOC fills what crosses, cancels the rest
            (ioc,) = (
                await client.ok(
                    "AddOrder", **base, price="50000.0", volume="0.8", timeinforce="IOC"
                )
            )["txid"]
            o = (await client.ok("QueryOrders", txid=ioc))[ioc]
            assert (o["status"], o["vol_exec"]) == ("canceled", "0.50000000")
            # GTD expires at expiretm
            (gtd,) = (
                await client.ok(
                    "AddOrder",
                    **base,
                    price="49000.0",
                    volume="0.1",
                    timeinforce="GTD",
                    expiretm="+60",
                )
            )["txid"]
            await sim.advance(59)
            assert (await client.ok("QueryOrders", txid=gtd))[gtd]["status"] == "open"
            await sim.advance(2)
            assert (await client.ok("QueryOrders", txid=gtd))[gtd]["status"] == "expired"
            # a stop-loss sell triggers when the last trade goes through its price
            (stop,) = (
                await client.ok(
                    "AddOrder",
                    pair="XBTUSD",
                    type="sell",
                    ordertype="stop-loss",
                    price="49995.0",
                    volume="0.1",
                )
            )["txid"]
            assert (await client.ok("QueryOrders", txid=stop))[stop]["status"] == "open"
            await client.ok(
                "AddOrder", pair="XBTUSD", type="sell", ordertype="market", volume="0.2"
            )
            o = (await client.ok("QueryOrders", txid=stop))[stop]
            assert o["status"] == "closed" and o["vol_exec"] == "0.10000000"
            assert o["descr"]["order"] == "sell 0.10000000 XBTUSD @ stop loss 49995.0"

    run(body())


def test_amend_cancel_all_and_dead_man_switch() -> None:
    async def body():
        async with sim_and_client() as (sim, client):
            base = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "volume": "0.1"}
            (a,) = (await client.ok("AddOrder", **base, price="40000.0", cl_ord_id="my-order-1"))[
                "txid"
            ]
            res = await client.private_json(
                "AmendOrder", cl_ord_id="my-order-1", limit_price="41000.0", order_qty="0.2"
            )
            assert res["error"] == [] and res["result"]["amend_id"].startswith("T")
            o = (await client.ok("QueryOrders", txid=a))[a]
            assert (o["descr"]["price"], o["vol"]) == ("41000.0", "0.20000000")
            assert o["cl_ord_id"] == "my-order-1"
            bad = await client.private_json(
                "AmendOrder", txid=a, limit_price="50000.0", post_only=True
            )
            assert bad["error"] == ["EOrder:Post only order"]
            await client.ok("AddOrder", **base, price="39000.0")
            assert (await client.ok("CancelAll"))["count"] == 2
            # dead man's switch
            await client.ok("AddOrder", **base, price="39000.0")
            armed = await client.ok("CancelAllOrdersAfter", timeout="60")
            assert armed["currentTime"] == "2023-11-14T22:13:20Z"
            assert armed["triggerTime"] == "2023-11-14T22:14:20Z"
            await sim.advance(30)
            assert len((await client.ok("OpenOrders"))["open"]) == 1
            await sim.advance(31)
            assert (await client.ok("OpenOrders"))["open"] == {}
            closed = await client.ok("ClosedOrders")
            assert closed["count"] == 3
            reasons = {o["reason"] for o in closed["closed"].values()}
            assert reasons == {"User requested", "Dead man switch"}
            token = await client.ok("GetWebSocketsToken")
            assert token["expires"] == 900 and len(token["token"]) > 20

    run(body())


def test_fee_tiers_follow_30_day_volume() -> None:
    from seraphim.sim.kraken import AccountConfig

    async def body():
        accounts = [
            AccountConfig(KEY, TEST_SECRET, balances={"ZUSD": "100000"}, volume_30d=Decimal(60000))
        ]
        async with sim_and_client(accounts=accounts) as (_sim, client):
            (txid,) = (
                await client.ok(
                    "AddOrder", pair="XBTUSD", type="buy", ordertype="market", volume="0.1"
                )
            )["txid"]
            order = (await client.ok("QueryOrders", txid=txid))[txid]
            assert order["fee"] == "12.00000"  # 5000 * 0.24% (the 50k tier)

    run(body())
