"""
Issue 12's divergences: each test states Kraken's documented or recorded behaviour and checks
that the local exchange behaves the same.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

import aiohttp

from seraphim.sim.kraken.market import StaticBookSource

from .client import CheckedBook
from .client import WsClient
from .helpers import run
from .helpers import sim_and_client

KRAKEN_ID = re.compile(r"^[A-Z0-9]{6}-[A-Z0-9]{5}-[A-Z0-9]{6}$")


def recorded(shared_data, name: str) -> dict:
    return json.loads((shared_data / "kraken/rest" / name).read_text())


# ---------------------------------------------------------------- 1. Trades


def test_trades_without_since_are_the_newest(shared_data) -> None:
    """
    Kraken's Get Recent Trades returns the *last* 1000 trades when ``since`` is absent (recorded
    ``trades.json``: 1000 rows, the newest 188 s before the recorded server time, ``last`` its
    time in ns); ``count`` limits that to the newest ``count``.
    """
    real = recorded(shared_data, "trades.json")["result"]
    rows = real["XBTUSDT"]
    server_time = recorded(shared_data, "server_time.json")["result"]["unixtime"]
    assert len(rows) == 1000 and server_time - rows[-1][2] < 600

    async def body():
        walk = {"warmup_seconds": 3 * 86400, "warmup_step": 60.0}
        async with sim_and_client(sources={}, random_walk=walk) as (sim, client):
            tape = sim.exchange.tape["XXBTZUSD"]
            assert len(tape) > 1000
            result = (await client.public("Trades", pair="XBTUSD"))["result"]
            assert len(result["XXBTZUSD"]) == 1000
            assert [r[6] for r in result["XXBTZUSD"]] == [t.trade_id for t in tape[-1000:]]
            assert int(result["last"]) == round(tape[-1].time * 1e9)
            five = (await client.public("Trades", pair="XBTUSD", count=5))["result"]
            assert [r[6] for r in five["XXBTZUSD"]] == [t.trade_id for t in tape[-5:]]

    run(body())


# ---------------------------------------------------------------- 2. private endpoints


async def market_buy(client, volume: str = "0.6") -> dict:
    result = await client.ok(
        "AddOrder", pair="XBTUSD", type="buy", ordertype="market", volume=volume
    )
    (txid,) = result["txid"]
    return (await client.ok("QueryOrders", txid=txid, trades=True))[txid]


def test_ledger_ids_from_trades_history_can_be_looked_up() -> None:
    """
    Kraken's TradesHistory lists each trade's ``ledgers``; QueryLedgers (``id``, up to 20) and
    Ledgers (newest first, ``count``) return those entries with ``refid`` = the trade id
    (docs.kraken.com/api/docs/rest-api/get-ledgers, /query-ledgers).
    """

    async def body():
        async with sim_and_client() as (_sim, client):
            await market_buy(client)
            trades = (await client.ok("TradesHistory"))["trades"]
            ledger_ids = [lid for t in trades.values() for lid in t["ledgers"]]
            assert len(ledger_ids) == 2 * len(trades) >= 4
            found = await client.ok("QueryLedgers", id=",".join(ledger_ids))
            assert set(found) == set(ledger_ids)
            assert {e["refid"] for e in found.values()} == set(trades)
            assert {e["asset"] for e in found.values()} == {"XXBT", "ZUSD"}
            listing = await client.ok("Ledgers", asset="XXBT")
            assert listing["count"] == len(trades)
            times = [e["time"] for e in listing["ledger"].values()]
            assert times == sorted(times, reverse=True)
            newest = next(iter(listing["ledger"].values()))
            assert newest["balance"] == (await client.ok("Balance"))["XXBT"]
            bad = await client.private("QueryLedgers", id="LNOPE1-AAAAA-BBBBBB")
            assert bad["error"] == ["EGeneral:Invalid arguments:id"]

    run(body())


def test_edit_order_replaces_the_order_with_a_new_txid() -> None:
    """
    Kraken's EditOrder cancels the original and places a new order: the result carries the new
    ``txid``, ``originaltxid``, ``volume``, ``price`` and ``orders_cancelled``
    (docs.kraken.com/api/docs/rest-api/edit-order).
    """

    async def body():
        async with sim_and_client() as (_sim, client):
            (txid,) = (
                await client.ok(
                    "AddOrder",
                    pair="XBTUSD",
                    type="buy",
                    ordertype="limit",
                    price="45000.0",
                    volume="0.1",
                )
            )["txid"]
            edited = await client.ok(
                "EditOrder", txid=txid, pair="XBTUSD", price="45100.0", volume="0.2"
            )
            assert edited["originaltxid"] == txid and edited["txid"] != txid
            assert KRAKEN_ID.match(edited["txid"])
            assert (edited["volume"], edited["price"], edited["orders_cancelled"]) == (
                "0.20000000",
                "45100.0",
                1,
            )
            assert list((await client.ok("OpenOrders"))["open"]) == [edited["txid"]]
            original = (await client.ok("QueryOrders", txid=txid))[txid]
            assert original["status"] == "canceled"
            nope = await client.private("EditOrder", txid=txid, pair="XBTUSD", price="45200.0")
            assert nope["error"] == ["EOrder:Unknown order"]

    run(body())


def test_add_order_batch_and_cancel_order_batch() -> None:
    """
    Kraken's AddOrderBatch (JSON: ``pair``, 2-15 ``orders``) answers ``{"orders": [{"txid",
    "descr"}...]}`` and rejects the whole batch when one order is invalid; CancelOrderBatch
    (``orders`` of txids) answers the ``count`` cancelled (docs.kraken.com/api/docs/rest-api/
    add-order-batch, /cancel-order-batch).
    """

    def order(price: str) -> dict:
        return {"ordertype": "limit", "type": "buy", "volume": "0.1", "price": price}

    async def body():
        async with sim_and_client() as (_sim, client):
            placed = await client.private_json(
                "AddOrderBatch", pair="BTC/USD", orders=[order("45000.0"), order("45010.0")]
            )
            assert placed["error"] == [], placed
            txids = [o["txid"] for o in placed["result"]["orders"]]
            assert all(KRAKEN_ID.match(t) for t in txids)
            assert set((await client.ok("OpenOrders"))["open"]) == set(txids)
            bad = await client.private_json(
                "AddOrderBatch", pair="XBTUSD", orders=[order("45000.0"), order("45000.05")]
            )
            assert bad["error"] == [
                "EOrder:Invalid price:XBTUSD price can only be specified up to 1 decimals."
            ]
            assert len((await client.ok("OpenOrders"))["open"]) == 2  # nothing of it placed
            cancelled = await client.private_json("CancelOrderBatch", orders=txids)
            assert cancelled == {"error": [], "result": {"count": 2}}
            assert (await client.ok("OpenOrders"))["open"] == {}

    run(body())


def test_order_amends_lists_the_original_and_each_amend() -> None:
    """
    Kraken's OrderAmends (``order_id``) returns ``amends`` (the ``original`` terms, then one
    ``user`` entry per AmendOrder with its ``amend_id``) and ``count``
    (docs.kraken.com/api/docs/rest-api/get-order-amends).
    """

    async def body():
        async with sim_and_client() as (_sim, client):
            (txid,) = (
                await client.ok(
                    "AddOrder",
                    pair="XBTUSD",
                    type="buy",
                    ordertype="limit",
                    price="45000.0",
                    volume="0.1",
                )
            )["txid"]
            amended = await client.private_json("AmendOrder", txid=txid, limit_price="45500.0")
            history = (await client.private_json("OrderAmends", order_id=txid))["result"]
            assert history["count"] == 2
            original, user = history["amends"]
            assert (original["amend_type"], original["limit_price"]) == ("original", "45000.0")
            assert (user["amend_type"], user["limit_price"]) == ("user", "45500.0")
            assert user["amend_id"] == amended["result"]["amend_id"]

    run(body())


def test_fee_tier_falls_as_the_30_day_volume_grows(shared_data) -> None:
    """
    Kraken's fee depends on the account's 30-day volume in ``fee_volume_currency``: the recorded
    AssetPairs schedule charges takers 0.40 % from 0 and 0.35 % from 10,000 USD. TradeVolume
    reports the ``volume`` and each asked pair's ``fee`` / ``nextfee`` / ``nextvolume``
    (docs.kraken.com/api/docs/rest-api/get-trade-volume).
    """
    schedule = recorded(shared_data, "asset_pairs.json")["result"]["XBTUSDT"]["fees"]
    assert schedule[:2] == [[0, 0.4], [10000, 0.35]]

    async def body():
        async with sim_and_client() as (sim, client):
            before = await client.ok("TradeVolume", pair="XBTUSD")
            assert before["volume"] == "0.0000"
            assert before["fees"]["XXBTZUSD"]["fee"] == "0.4000"
            assert before["fees"]["XXBTZUSD"]["nextvolume"] == "10000.0000"
            first = await market_buy(client, "0.3")  # 15,000 USD at 0.40 %
            assert Decimal(first["fee"]) == Decimal(first["cost"]) * Decimal("0.004")
            await sim.advance(1)
            after = await client.ok("TradeVolume", pair="XBTUSD")
            assert after["volume"] == "15000.0000"
            assert after["fees"]["XXBTZUSD"]["fee"] == "0.3500"
            second = await market_buy(client, "0.1")
            assert Decimal(second["fee"]) == Decimal(second["cost"]) * Decimal("0.0035")

    run(body())


# ---------------------------------------------------------------- 3. pair names


def test_every_pair_spelling_is_accepted_and_answered_under_the_name_asked() -> None:
    """
    Kraken accepts ``BTC/USD``, ``BTCUSD``, ``XBTUSD`` and ``XXBTZUSD`` for the same pair;
    AssetPairs answers a new-style name under the name asked and a legacy one under the pair
    id; ``aclass_base`` (currency | tokenized_asset) filters the listing
    (docs.kraken.com/api/docs/rest-api/get-tradable-asset-pairs).
    """

    async def body():
        async with sim_and_client() as (_sim, client):
            for name, key in (
                ("BTC/USD", "BTC/USD"),
                ("BTCUSD", "BTCUSD"),
                ("XBTUSD", "XXBTZUSD"),
                ("XXBTZUSD", "XXBTZUSD"),
                ("XBT/USD", "XBT/USD"),
            ):
                reply = await client.public("AssetPairs", pair=name)
                assert reply["error"] == [] and list(reply["result"]) == [key], name
                assert reply["result"][key]["altname"] == "XBTUSD"
                ticker = await client.public("Ticker", pair=name)
                assert ticker["error"] == [], name
                placed = await client.private(
                    "AddOrder", pair=name, type="buy", ordertype="market", volume="0.001"
                )
                assert placed["error"] == [], name
            crypto = (await client.public("AssetPairs", aclass_base="currency"))["result"]
            assert set(crypto) == {"XXBTZUSD", "XETHZUSD"}
            tokenized = await client.public("AssetPairs", aclass_base="tokenized_asset")
            assert tokenized == {"error": [], "result": {}}
            unknown = await client.public("AssetPairs", pair="BTCXYZ")
            assert unknown["error"] == ["EQuery:Unknown asset pair"]

    run(body())


# ---------------------------------------------------------------- 4. private WebSocket


def test_private_websocket_is_served_at_v2_on_its_own_listener() -> None:
    """
    Kraken serves the private WebSocket at ``wss://ws-auth.kraken.com/v2``: its own host, path
    ``/v2`` like the public one (docs.kraken.com/api/docs/websocket-v2/executions). The former
    ``/v2-auth`` path on the main port keeps working for existing configurations.
    """

    async def body():
        async with sim_and_client() as (sim, client), aiohttp.ClientSession() as session:
            addresses = sim.addresses()
            assert addresses["ws_private"] == f"ws://127.0.0.1:{sim.auth_ws_port}/v2"
            assert sim.auth_ws_port != sim.port
            assert addresses["ws_public"] == f"ws://127.0.0.1:{sim.port}/v2"
            for url in (addresses["ws_private"], f"ws://127.0.0.1:{sim.port}/v2-auth"):
                token = (await client.ok("GetWebSocketsToken"))["token"]
                ws = await WsClient.connect(session, url)
                ack = await ws.request("subscribe", {"channel": "balances", "token": token})
                assert ack["success"] is True, url
                await ws.ws.close()
            # the private listener serves nothing else
            async with session.get(addresses["ws_private"].replace("ws:", "http:")[:-3]) as r:
                assert r.status == 404

    run(body())


# ---------------------------------------------------------------- 5. order types


def test_trailing_stop_follows_the_peak_and_fires_at_the_offset() -> None:
    """
    Kraken's ``trailing-stop``: ``price`` is a relative offset written ``+1000`` or ``+5%``
    (other forms are refused); a sell triggers when the last price falls the offset below the
    highest price since it was placed, then executes at market
    (docs.kraken.com/api/docs/rest-api/add-order, ordertype).
    """

    async def body():
        async with sim_and_client() as (sim, client):
            exchange, pair = sim.exchange, sim.exchange.find_pair("XBTUSD")
            exchange.market_trade(pair, Decimal("49995.0"), Decimal("0.01"), "s")
            exchange.flush()

            def trail(price: str) -> dict:
                return {
                    "pair": "XBTUSD",
                    "type": "sell",
                    "ordertype": "trailing-stop",
                    "price": price,
                    "volume": "0.2",
                }

            bare = await client.private("AddOrder", **trail("100"))
            assert bare["error"] == ["EGeneral:Invalid arguments:price"]
            assert (await client.private("AddOrder", **trail("+1%")))["error"] == []
            (txid,) = (await client.ok("AddOrder", **trail("+100.0")))["txid"]
            assert (await client.ok("QueryOrders", txid=txid))[txid]["descr"]["order"] == (
                "sell 0.20000000 XBTUSD @ trailing stop +100.0"
            )
            for price in ("50050.0", "50200.0", "50150.0"):  # peak 50200: stop at 50100
                exchange.market_trade(pair, Decimal(price), Decimal("0.01"), "b")
                exchange.flush()
                assert (await client.ok("QueryOrders", txid=txid))[txid]["status"] == "open"
            exchange.market_trade(pair, Decimal("50100.0"), Decimal("0.01"), "s")
            exchange.flush()
            order = (await client.ok("QueryOrders", txid=txid))[txid]
            assert order["status"] == "closed" and order["vol_exec"] == "0.20000000"

    run(body())


def test_iceberg_shows_only_its_display_volume() -> None:
    """
    Kraken's ``iceberg`` order rests at ``price`` and shows only ``displayvol`` in the book
    (at least 1/15 of ``volume``) while the whole volume can fill
    (docs.kraken.com/api/docs/rest-api/add-order, displayvol).
    """

    async def body():
        async with sim_and_client() as (_sim, client):
            ice = {
                "pair": "XBTUSD",
                "type": "buy",
                "ordertype": "iceberg",
                "price": "49000.0",
                "volume": "1.5",
            }
            small = await client.private("AddOrder", **ice, displayvol="0.05")
            assert small["error"] == ["EGeneral:Invalid arguments:displayvol"]
            await client.ok("AddOrder", **ice, displayvol="0.2")
            depth = (await client.public("Depth", pair="XBTUSD", count=5))["result"]["XXBTZUSD"]
            assert [b[:2] for b in depth["bids"] if b[0] == "49000.00000"] == [
                ["49000.00000", "0.200"]
            ]

    run(body())


def test_fill_or_kill_fills_whole_or_not_at_all() -> None:
    """
    Kraken's ``timeinforce=FOK``: the order fills completely at once or is cancelled without
    any fill (docs.kraken.com/api/docs/rest-api/add-order, timeinforce).
    """

    async def body():
        async with sim_and_client() as (_sim, client):
            fok = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "price": "50010.0"}
            (killed,) = (await client.ok("AddOrder", **fok, volume="1.6", timeinforce="FOK"))[
                "txid"
            ]
            order = (await client.ok("QueryOrders", txid=killed))[killed]
            assert (order["status"], order["vol_exec"]) == ("canceled", "0.00000000")
            (filled,) = (await client.ok("AddOrder", **fok, volume="1.2", timeinforce="FOK"))[
                "txid"
            ]
            order = (await client.ok("QueryOrders", txid=filled))[filled]
            assert (order["status"], order["vol_exec"]) == ("closed", "1.20000000")

    run(body())


# ---------------------------------------------------------------- 6. book scope


def test_levels_pushed_out_of_the_subscribed_depth_get_no_delete() -> None:
    """
    Kraken's v2 book guide: "you won't receive qty 0 for price levels that fall out of scope";
    after each update the client truncates its book to the subscribed depth. A level that
    really leaves the book still gets qty 0.
    """
    bids = [(f"{49990 - 10 * i}.0", "0.5") for i in range(12)]
    asks = [(f"{50000 + 10 * i}.0", "0.5") for i in range(12)]

    async def body():
        source = StaticBookSource(bids=bids, asks=asks)
        async with (
            sim_and_client(sources={"BTC/USD": source}) as (sim, client),
            aiohttp.ClientSession() as session,
        ):
            ws = await WsClient.connect(session, sim.ws_public_url)
            await ws.request("subscribe", {"channel": "book", "symbol": ["BTC/USD"], "depth": 10})
            book = CheckedBook(10, 1, 8)
            snap = await ws.wait_for(lambda m: m.get("type") == "snapshot")
            assert book.apply(snap["data"][0])
            (txid,) = (
                await client.ok(
                    "AddOrder",
                    pair="XBTUSD",
                    type="buy",
                    ordertype="limit",
                    price="49995.0",
                    volume="0.1",
                )
            )["txid"]
            update = await ws.wait_for(
                lambda m: m.get("channel") == "book" and m["type"] == "update"
            )
            entry = update["data"][0]
            assert entry["bids"] == [{"price": 49995.0, "qty": 0.1}]  # 49900 left scope: no delete
            assert book.apply(entry)  # the client's truncation keeps the checksum right
            await client.ok("CancelOrder", txid=txid)
            update = await ws.wait_for(
                lambda m: m.get("channel") == "book" and m["type"] == "update" and m is not update
            )
            entry = update["data"][0]
            assert {"price": 49995.0, "qty": 0.0} in entry["bids"]
            assert {"price": 49900.0, "qty": 0.5} in entry["bids"]  # back in scope
            assert book.apply(entry)

    run(body())


# ---------------------------------------------------------------- 7. ids


def test_order_ids_are_6_5_6_and_never_repeat_across_restarts() -> None:
    """
    Kraken's ids are 6-5-6 characters (AddOrder example ``OUF4EM-FRGI2-MQMWZD``); a restarted
    exchange with the same seed must not hand out the same ids again.
    """

    async def first_orders() -> list[str]:
        async with sim_and_client(seed=5) as (_sim, client):
            txids = []
            for _ in range(3):
                result = await client.ok(
                    "AddOrder",
                    pair="XBTUSD",
                    type="buy",
                    ordertype="limit",
                    price="45000.0",
                    volume="0.01",
                )
                txids.extend(result["txid"])
            return txids

    async def body():
        a, b = await first_orders(), await first_orders()
        assert all(KRAKEN_ID.match(t) and t.startswith("O") for t in a + b)
        assert not set(a) & set(b)

    run(body())


# ---------------------------------------------------------------- 8. smaller


def test_asset_pairs_carry_kraken_margin_terms(shared_data) -> None:
    """
    The recorded AssetPairs entry of XBTUSDT lists ``leverage_buy`` / ``leverage_sell`` 2-10 and
    ``long_position_limit`` / ``short_position_limit`` 80; the local exchange's entry equals it.
    """
    real = recorded(shared_data, "asset_pairs.json")["result"]["XBTUSDT"]

    async def body():
        async with sim_and_client(pairs=["BTC/USD", "BTC/USDT"]) as (_sim, client):
            ours = (await client.public("AssetPairs", pair="XBTUSDT"))["result"]["XBTUSDT"]
            assert ours == real

    run(body())


def test_ticker_states_the_best_levels_in_whole_lots(shared_data) -> None:
    """
    Kraken's Ticker ``a``/``b`` are [price, whole lot volume, lot volume]; the recording shows
    the best ask 0.136 and best bid 0.002 (``order_book.json``) as ``"1", "1.000"`` in
    ``ticker.json``: the size is rounded up to whole lots.
    """
    book = recorded(shared_data, "order_book.json")["result"]["XBTUSDT"]
    ticker = recorded(shared_data, "ticker.json")["result"]["XBTUSDT"]
    assert (book["asks"][0][1], book["bids"][0][1]) == ("0.136", "0.002")
    assert ticker["a"][1:] == ticker["b"][1:] == ["1", "1.000"]

    async def body():
        source = StaticBookSource(bids=[("49990.0", "2.3")], asks=[("50000.0", "0.5")])
        async with sim_and_client(sources={"BTC/USD": source}) as (_sim, client):
            ours = (await client.public("Ticker", pair="XBTUSD"))["result"]["XXBTZUSD"]
            assert ours["a"] == ["50000.00000", "1", "1.000"]
            assert ours["b"] == ["49990.00000", "3", "3.000"]

    run(body())


def test_websocket_add_order_takes_trailing_stops_and_icebergs() -> None:
    """
    Kraken's v2 ``add_order``: ``order_type`` trailing-stop with ``triggers`` {price, price_type
    static | pct} and iceberg with ``display_qty`` (docs.kraken.com/api/docs/websocket-v2/
    add_order).
    """

    async def body():
        async with sim_and_client() as (sim, client), aiohttp.ClientSession() as session:
            token = (await client.ok("GetWebSocketsToken"))["token"]
            ws = await WsClient.connect(session, sim.ws_private_url)
            await ws.request("subscribe", {"channel": "executions", "token": token})
            common = {"side": "sell", "order_qty": 0.1, "symbol": "BTC/USD", "token": token}
            trail = await ws.request(
                "add_order",
                {
                    **common,
                    "order_type": "trailing-stop",
                    "triggers": {"price": 2, "price_type": "pct"},
                },
            )
            assert trail["success"] is True, trail
            iceberg = await ws.request(
                "add_order",
                {**common, "order_type": "iceberg", "limit_price": 51000.0, "display_qty": 0.02},
            )
            assert iceberg["success"] is True, iceberg
            pending = await ws.wait_for(
                lambda m: (
                    m.get("channel") == "executions"
                    and m["type"] == "update"
                    and m["data"][0].get("exec_type") == "pending_new"
                    and m["data"][0]["order_type"] == "trailing-stop"
                )
            )
            assert pending["data"][0]["triggers"]["price_type"] == "pct"
            open_orders = (await client.ok("OpenOrders"))["open"]
            assert {o["descr"]["ordertype"] for o in open_orders.values()} == {
                "trailing-stop",
                "iceberg",
            }

    run(body())
