"""Kraken Spot REST: ``/0/public/<Method>`` and signed ``/0/private/<Method>``."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from seraphim.adapters.kraken.rate_limits import rest_cost
from seraphim.sim.kraken.accounts import Account
from seraphim.sim.kraken.auth import authenticate
from seraphim.sim.kraken.fmt import fixed
from seraphim.sim.kraken.fmt import parse_decimal
from seraphim.sim.kraken.fmt import rfc1123
from seraphim.sim.kraken.fmt import rfc3339_seconds
from seraphim.sim.kraken.instruments import SimPair
from seraphim.sim.kraken.matching import KrakenError
from seraphim.sim.kraken.matching import Order
from seraphim.sim.kraken.matching import OrderRequest
from seraphim.sim.kraken.matching import PrivateTrade
from seraphim.sim.kraken.ratelimit import RestCounter
from seraphim.sim.kraken.stats import OHLC_INTERVALS

if TYPE_CHECKING:
    from seraphim.sim.kraken.server import KrakenSimServer

log = logging.getLogger(__name__)
ZERO = Decimal(0)
Params = dict[str, Any]


def _ns(ts: float) -> int:
    return round(ts * 1e9)


def _bool(value: Any) -> bool:
    return str(value).lower() in ("true", "1", "yes")


class RestApi:
    """The REST handlers of one exchange."""

    def __init__(self, server: KrakenSimServer) -> None:
        self.server = server
        self.exchange = server.exchange
        self.public: dict[str, Callable[[Params], Any]] = {
            "Time": self.time,
            "SystemStatus": self.system_status,
            "Assets": self.assets,
            "AssetPairs": self.asset_pairs,
            "Ticker": self.ticker,
            "OHLC": self.ohlc,
            "Depth": self.depth,
            "Trades": self.trades,
            "Spread": self.spread,
        }
        self.private: dict[str, Callable[[Account, Params], Any]] = {
            "Balance": self.balance,
            "BalanceEx": self.balance_ex,
            "TradeBalance": self.trade_balance,
            "OpenOrders": self.open_orders,
            "ClosedOrders": self.closed_orders,
            "QueryOrders": self.query_orders,
            "TradesHistory": self.trades_history,
            "QueryTrades": self.query_trades,
            "AddOrder": self.add_order,
            "AmendOrder": self.amend_order,
            "CancelOrder": self.cancel_order,
            "CancelAll": self.cancel_all,
            "CancelAllOrdersAfter": self.cancel_all_after,
            "GetWebSocketsToken": self.ws_token,
        }

    def routes(self) -> list[web.RouteDef]:
        """aiohttp routes."""
        return [
            web.get("/0/public/{method}", self._handle_public),
            web.post("/0/public/{method}", self._handle_public),
            web.post("/0/private/{method}", self._handle_private),
        ]

    # ------------------------------------------------------------------ plumbing

    async def _with_faults(
        self, method: str, request: web.Request, run: Callable[[], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        fault = self.server.faults.take_rest(method)
        if fault is not None:
            if fault.kind == "5xx":
                status = int(fault.params["status"])
                body = (
                    f"<html><body><h1>{status} Service Temporarily Unavailable</h1></body></html>"
                )
                return web.Response(status=status, text=body, content_type="text/html")
            if fault.kind == "timeout":
                await asyncio.sleep(float(fault.params["delay"]))
                if request.transport is not None:
                    request.transport.close()
                raise asyncio.CancelledError
            message = "EService:Unavailable" if fault.kind == "unavailable" else "EService:Busy"
            return _envelope(error=[message])
        return await run()

    async def _handle_public(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]

        async def run() -> web.StreamResponse:
            handler = self.public.get(method)
            if handler is None:
                return _envelope(error=["EGeneral:Unknown method"], status=404)
            params: Params = dict(request.query)
            if request.method == "POST":
                params.update(await _read_params(request))
            try:
                return _envelope(result=handler(params))
            except KrakenError as e:
                return _envelope(error=[e.message])
            except Exception:
                log.exception("public %s failed", method)
                return _envelope(error=["EGeneral:Internal error"])

        return await self._with_faults(method, request, run)

    async def _handle_private(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]

        async def run() -> web.StreamResponse:
            handler = self.private.get(method)
            if handler is None:
                return _envelope(error=["EGeneral:Unknown method"], status=404)
            body = await request.read()
            try:
                params = _parse_body(request.content_type, body)
            except ValueError:
                return _envelope(error=["EGeneral:Invalid arguments"])
            try:
                account = authenticate(
                    self.exchange.accounts,
                    request.headers.get("API-Key"),
                    request.headers.get("API-Sign"),
                    request.path,
                    body,
                    params.get("nonce"),
                )
                self._rate_limit(account, method)
                result = handler(account, params)
            except KrakenError as e:
                return _envelope(error=[e.message])
            except Exception:
                log.exception("private %s failed", method)
                return _envelope(error=["EGeneral:Internal error"])
            if method == "AddOrder" and self.server.faults.take_lost_ack(method):
                if request.transport is not None:
                    request.transport.close()
                raise asyncio.CancelledError
            return _envelope(result=result)

        return await self._with_faults(method, request, run)

    def _rate_limit(self, account: Account, method: str) -> None:
        cost = rest_cost(method)
        if not self.exchange.rate_limits or cost == 0:
            return
        if account.rest_counter is None:
            account.rest_counter = RestCounter.for_tier(account.tier)
        if not account.rest_counter.try_add(cost, self.exchange.now()):
            raise KrakenError("EAPI:Rate limit exceeded")

    def _pairs(self, params: Params, *, required: bool = True) -> list[SimPair]:
        names = [n for n in str(params.get("pair", "")).split(",") if n.strip()]
        if not names:
            if required:
                raise KrakenError("EGeneral:Invalid arguments:pair")
            return list(self.exchange.pairs.values())
        return [self.exchange.find_pair(n) for n in names]

    # ------------------------------------------------------------------ public

    def time(self, params: Params) -> dict:
        """``/0/public/Time``."""
        now = self.exchange.now()
        return {"unixtime": int(now), "rfc1123": rfc1123(now)}

    def system_status(self, params: Params) -> dict:
        """``/0/public/SystemStatus``."""
        return {"status": self.exchange.status, "timestamp": rfc3339_seconds(self.exchange.now())}

    def assets(self, params: Params) -> dict:
        """``/0/public/Assets``."""
        assets = self.exchange.assets()
        wanted = [a for a in str(params.get("asset", "")).split(",") if a]
        out = {}
        for asset_id, info in assets.items():
            if wanted and asset_id not in wanted and info.altname not in wanted:  # type: ignore[attr-defined]
                continue
            out[asset_id] = {
                "aclass": "currency",
                "altname": info.altname,  # type: ignore[attr-defined]
                "decimals": info.decimals,  # type: ignore[attr-defined]
                "display_decimals": info.display_decimals,  # type: ignore[attr-defined]
                "status": "enabled",
            }
        if wanted and not out:
            raise KrakenError("EQuery:Unknown asset")
        return out

    def asset_pairs(self, params: Params) -> dict:
        """``/0/public/AssetPairs``."""
        out = {}
        for pair in self._pairs(params, required=False):
            entry = dict(pair.raw)
            entry["status"] = "online" if self.exchange.status == "online" else self.exchange.status
            if params.get("info") == "fees":
                entry = {k: entry[k] for k in ("fees", "fees_maker", "fee_volume_currency")}
            out[pair.key] = entry
        return out

    def ticker(self, params: Params) -> dict:
        """``/0/public/Ticker``."""
        out = {}
        now = self.exchange.now()
        for pair in self._pairs(params, required=False):
            pd, ld = pair.display_price_decimals, pair.lot_decimals
            book = self.exchange.books[pair.key]
            tape = self.exchange.tape[pair.key]
            stats = self.exchange.stats[pair.key]
            today, day = stats.today(now), stats.last_24h(now)
            last = tape[-1] if tape else None

            def side(price: Decimal | None, qty: Decimal, pd: int = pd) -> list[str]:
                return [fixed(price or ZERO, pd), str(int(qty)), fixed(qty, 3)]

            ask, bid = book.asks.best(), book.bids.best()
            out[pair.key] = {
                "a": side(ask, book.asks.qty_at(ask) if ask else ZERO),
                "b": side(bid, book.bids.qty_at(bid) if bid else ZERO),
                "c": [fixed(last.price if last else ZERO, pd), fixed(last.qty if last else 0, ld)],
                "v": [fixed(today.volume, ld), fixed(day.volume, ld)],
                "p": [fixed(today.vwap, pd), fixed(day.vwap, pd)],
                "t": [today.count, day.count],
                "l": [fixed(today.low or ZERO, pd), fixed(day.low or ZERO, pd)],
                "h": [fixed(today.high or ZERO, pd), fixed(day.high or ZERO, pd)],
                "o": fixed(today.open or (last.price if last else ZERO), pd),
            }
        return out

    def ohlc(self, params: Params) -> dict:
        """``/0/public/OHLC``: up to 720 committed rows plus the current one."""
        (pair,) = self._pairs(params)[:1]
        try:
            interval = int(params.get("interval", 1))
        except ValueError:
            raise KrakenError("EGeneral:Invalid arguments:interval") from None
        if interval not in OHLC_INTERVALS:
            raise KrakenError("EGeneral:Invalid arguments:interval")
        since = _int_param(params, "since")
        rows = self.exchange.stats[pair.key].candles[interval].window(self.exchange.now())
        last = rows[-2].time if len(rows) >= 2 else (rows[-1].time if rows else 0)
        if since is not None:
            rows = [r for r in rows if r.time > since]
        pd, ld = pair.price_decimals, pair.lot_decimals
        return {
            pair.key: [
                [
                    r.time,
                    fixed(r.open, pd),
                    fixed(r.high, pd),
                    fixed(r.low, pd),
                    fixed(r.close, pd),
                    fixed(r.vwap, pd),
                    fixed(r.volume, ld),
                    r.count,
                ]
                for r in rows
            ],
            "last": last,
        }

    def depth(self, params: Params) -> dict:
        """``/0/public/Depth``."""
        (pair,) = self._pairs(params)[:1]
        count = _int_param(params, "count") or 100
        if not 1 <= count <= 500:
            raise KrakenError("EGeneral:Invalid arguments:count")
        asks, bids = self.exchange.books[pair.key].top(count)
        times = self.exchange.level_times[pair.key]
        pd = pair.display_price_decimals

        def rows(levels: list[tuple[Decimal, Decimal]], side: str) -> list[list]:
            return [
                [fixed(p, pd), fixed(q, 3), int(times.get((side, p), self.exchange.now()))]
                for p, q in levels
            ]

        return {pair.key: {"asks": rows(asks, "a"), "bids": rows(bids, "b")}}

    def trades(self, params: Params) -> dict:
        """``/0/public/Trades``: 1,000 trades after ``since`` (ns or s), nanosecond ``last``."""
        (pair,) = self._pairs(params)[:1]
        since = _int_param(params, "since") or 0
        if 0 < since < 10**12:
            since *= 10**9
        count = min(_int_param(params, "count") or 1000, 1000)
        tape = self.exchange.tape[pair.key]
        selected = [t for t in tape if _ns(t.time) > since][:count]
        pd, ld = pair.display_price_decimals, pair.lot_decimals
        rows = [
            [fixed(t.price, pd), fixed(t.qty, ld), t.time, t.side, t.ord_type, "", t.trade_id]
            for t in selected
        ]
        last = str(_ns(selected[-1].time)) if selected else str(since)
        return {pair.key: rows, "last": last}

    def spread(self, params: Params) -> dict:
        """``/0/public/Spread``."""
        (pair,) = self._pairs(params)[:1]
        since = _int_param(params, "since") or 0
        pd = pair.display_price_decimals
        rows = [
            [int(t), fixed(b, pd), fixed(a, pd)]
            for t, b, a in self.exchange.spreads[pair.key]
            if t > since
        ]
        return {pair.key: rows, "last": rows[-1][0] if rows else since}

    # ------------------------------------------------------------------ private: account

    def balance(self, account: Account, params: Params) -> dict:
        """``/0/private/Balance``."""
        return {
            asset: fixed(amount, self.server.asset_decimals(asset))
            for asset, amount in account.balances.items()
        }

    def balance_ex(self, account: Account, params: Params) -> dict:
        """``/0/private/BalanceEx``."""
        out = {}
        for asset, amount in account.balances.items():
            d = self.server.asset_decimals(asset)
            out[asset] = {"balance": fixed(amount, d), "hold_trade": fixed(account.hold(asset), d)}
        return out

    def trade_balance(self, account: Account, params: Params) -> dict:
        """``/0/private/TradeBalance`` (spot only: equity is the valued balances)."""
        target = str(params.get("asset", "ZUSD"))
        total = ZERO
        for asset, amount in account.balances.items():
            total += amount * self.server.value_of(asset, target)
        v = fixed(total, 4)
        zero = fixed(ZERO, 4)
        return {
            "eb": v,
            "tb": v,
            "m": zero,
            "n": zero,
            "c": zero,
            "v": zero,
            "e": v,
            "mf": v,
            "uv": zero,
        }

    # ------------------------------------------------------------------ private: orders

    def open_orders(self, account: Account, params: Params) -> dict:
        """``/0/private/OpenOrders``."""
        with_trades = _bool(params.get("trades"))
        orders = _filter_ref(account.open_orders(), params)
        return {"open": {o.txid: order_info(o, with_trades) for o in orders}}

    def closed_orders(self, account: Account, params: Params) -> dict:
        """``/0/private/ClosedOrders`` (newest first, 50 a page from ``ofs``)."""
        with_trades = _bool(params.get("trades"))
        closed = [o for o in account.orders.values() if o.status not in ("pending", "open")]
        closed = _filter_ref(closed, params)
        start, end = _float_param(params, "start"), _float_param(params, "end")
        closed = [
            o
            for o in closed
            if (start is None or (o.closetm or 0) >= start)
            and (end is None or (o.closetm or 0) <= end)
        ]
        closed.sort(key=lambda o: o.closetm or 0, reverse=True)
        ofs = _int_param(params, "ofs") or 0
        page = closed[ofs : ofs + 50]
        return {"closed": {o.txid: order_info(o, with_trades) for o in page}, "count": len(closed)}

    def query_orders(self, account: Account, params: Params) -> dict:
        """``/0/private/QueryOrders``."""
        ids = [t for t in str(params.get("txid", "")).split(",") if t]
        if not ids or len(ids) > 50:
            raise KrakenError("EGeneral:Invalid arguments:txid")
        with_trades = _bool(params.get("trades"))
        out = {}
        for txid in ids:
            order = account.orders.get(txid)
            if order is None:
                raise KrakenError("EOrder:Invalid order")
            out[txid] = order_info(order, with_trades)
        return out

    def trades_history(self, account: Account, params: Params) -> dict:
        """``/0/private/TradesHistory`` (newest first, 50 a page)."""
        trades = sorted(account.trades.values(), key=lambda t: t.time, reverse=True)
        ofs = _int_param(params, "ofs") or 0
        page = trades[ofs : ofs + 50]
        return {"trades": {t.txid: trade_info(t) for t in page}, "count": len(trades)}

    def query_trades(self, account: Account, params: Params) -> dict:
        """``/0/private/QueryTrades``."""
        ids = [t for t in str(params.get("txid", "")).split(",") if t]
        if not ids or len(ids) > 20:
            raise KrakenError("EGeneral:Invalid arguments:txid")
        out = {}
        for txid in ids:
            trade = account.trades.get(txid)
            if trade is None:
                raise KrakenError("EQuery:Unknown trade")
            out[txid] = trade_info(trade)
        return out

    def add_order(self, account: Account, params: Params) -> dict:
        """``/0/private/AddOrder``."""
        req = self.parse_add_order(params)
        validate = _bool(params.get("validate"))
        order = self.exchange.add_order(account, req, validate=validate)
        result: dict[str, Any] = {"descr": {"order": order.describe()}}
        if not validate:
            result["txid"] = [order.txid]
        return result

    def parse_add_order(self, params: Params) -> OrderRequest:
        """AddOrder form fields -> OrderRequest (Kraken's errors for malformed fields)."""
        pair = self.exchange.find_pair(str(params.get("pair", "")))
        volume = parse_decimal(params.get("volume"))
        if volume is None:
            raise KrakenError("EGeneral:Invalid arguments:volume")
        price = _price(params, "price")
        price2 = _price(params, "price2")
        flags = {f.strip() for f in str(params.get("oflags", "")).split(",") if f.strip()}
        unknown = flags - {"post", "fcib", "fciq", "nompp", "viqc"}
        if unknown or {"fcib", "fciq"} <= flags:
            raise KrakenError("EGeneral:Invalid arguments:oflags")
        tif = str(params.get("timeinforce", "GTC")).upper()
        expiretm = None
        if params.get("expiretm") not in (None, "", "0"):
            raw = str(params["expiretm"])
            try:
                expiretm = (
                    self.exchange.now() + float(raw[1:]) if raw.startswith("+") else float(raw)
                )
            except ValueError:
                raise KrakenError("EGeneral:Invalid arguments:expiretm") from None
        userref = None
        if params.get("userref") not in (None, ""):
            try:
                userref = int(params["userref"])
            except ValueError:
                raise KrakenError("EGeneral:Invalid arguments:userref") from None
            if not -(2**31) <= userref < 2**31:
                raise KrakenError("EGeneral:Invalid arguments:userref")
        cl_ord_id = params.get("cl_ord_id") or None
        if cl_ord_id is not None and not _valid_cl_ord_id(str(cl_ord_id)):
            raise KrakenError("EGeneral:Invalid arguments:cl_ord_id")
        return OrderRequest(
            pair=pair,
            side=str(params.get("type", "")),
            ordertype=str(params.get("ordertype", "")),
            volume=volume,
            price=price,
            price2=price2,
            post_only="post" in flags,
            fee_in_base="fcib" in flags,
            timeinforce=tif,
            expiretm=expiretm,
            userref=userref,
            cl_ord_id=cl_ord_id,
            trigger=str(params.get("trigger", "last")),
        )

    def amend_order(self, account: Account, params: Params) -> dict:
        """``/0/private/AmendOrder`` (JSON or form body)."""
        ident = params.get("txid") or params.get("cl_ord_id")
        if not ident:
            raise KrakenError("EGeneral:Invalid arguments:txid")
        _, amend_id = self.exchange.amend_order(
            account,
            str(ident),
            order_qty=_dec_param(params, "order_qty"),
            limit_price=_dec_param(params, "limit_price"),
            trigger_price=_dec_param(params, "trigger_price"),
            post_only=_bool(params.get("post_only")),
        )
        return {"amend_id": amend_id}

    def cancel_order(self, account: Account, params: Params) -> dict:
        """``/0/private/CancelOrder``: txid, userref or cl_ord_id."""
        ident: str | int
        if params.get("cl_ord_id"):
            ident = str(params["cl_ord_id"])
        else:
            raw = str(params.get("txid", ""))
            if not raw:
                raise KrakenError("EGeneral:Invalid arguments:txid")
            ident = int(raw) if raw.lstrip("-").isdigit() else raw
        return {"count": self.exchange.cancel_order(account, ident)}

    def cancel_all(self, account: Account, params: Params) -> dict:
        """``/0/private/CancelAll``."""
        return {"count": self.exchange.cancel_all(account)}

    def cancel_all_after(self, account: Account, params: Params) -> dict:
        """``/0/private/CancelAllOrdersAfter``."""
        timeout = _int_param(params, "timeout")
        if timeout is None:
            raise KrakenError("EGeneral:Invalid arguments:timeout")
        now, trigger = self.exchange.cancel_all_after(account, timeout)
        return {"currentTime": rfc3339_seconds(now), "triggerTime": rfc3339_seconds(trigger)}

    def ws_token(self, account: Account, params: Params) -> dict:
        """``/0/private/GetWebSocketsToken``."""
        token = self.server.issue_token(account)
        return {"token": token, "expires": int(self.server.config.token_ttl)}


# ---------------------------------------------------------------------- formatting


def order_info(order: Order, with_trades: bool = False) -> dict:
    """An order as OpenOrders/ClosedOrders/QueryOrders show it."""
    pair = order.pair
    pd, ld, cd = pair.price_decimals, pair.lot_decimals, pair.cost_decimals
    info: dict[str, Any] = {
        "refid": None,
        "userref": order.userref if order.userref is not None else 0,
        "status": order.status,
        "opentm": round(order.opentm, 4),
        "starttm": 0,
        "expiretm": order.expiretm or 0,
        "descr": {
            "pair": pair.altname,
            "type": order.side,
            "ordertype": order.ordertype,
            "price": fixed(order.price or ZERO, pd),
            "price2": fixed(order.price2 or ZERO, pd),
            "leverage": "none",
            "order": order.describe(),
            "close": "",
        },
        "vol": fixed(order.volume, ld),
        "vol_exec": fixed(order.vol_exec, ld),
        "cost": fixed(order.cost, cd),
        "fee": fixed(order.fee, cd),
        "price": fixed(order.avg_price, pd + 1 if order.vol_exec else pd),
        "stopprice": fixed(ZERO, cd),
        "limitprice": fixed(ZERO, cd),
        "misc": "",
        "oflags": order.oflags,
        "timeinforce": order.timeinforce,
    }
    if order.cl_ord_id is not None:
        info["cl_ord_id"] = order.cl_ord_id
    if order.status not in ("pending", "open"):
        info["closetm"] = round(order.closetm or 0, 4)
        info["reason"] = order.reason
    if order.is_stop:
        info["stopprice"] = fixed(order.price or ZERO, pd)
        if order.price2 is not None:
            info["limitprice"] = fixed(order.price2, pd)
    if with_trades and order.trade_ids:
        info["trades"] = list(order.trade_ids)
    return info


def trade_info(trade: PrivateTrade) -> dict:
    """A trade as TradesHistory/QueryTrades show it."""
    pair = trade.pair
    cd, ld = pair.cost_decimals, pair.lot_decimals
    return {
        "ordertxid": trade.ordertxid,
        "postxid": trade.postxid,
        "pair": pair.key,
        "time": round(trade.time, 4),
        "type": trade.side,
        "ordertype": trade.ordertype,
        "price": fixed(trade.price, cd),
        "cost": fixed(trade.cost, cd),
        "fee": fixed(trade.fee, cd),
        "vol": fixed(trade.vol, ld),
        "margin": fixed(ZERO, cd),
        "leverage": "0",
        "misc": "",
        "ledgers": list(trade.ledgers),
        "trade_id": trade.trade_id,
        "maker": trade.maker,
    }


# ---------------------------------------------------------------------- helpers


def _envelope(*, result: Any = None, error: list[str] | None = None, status: int = 200):
    body: dict[str, Any] = {"error": error or []}
    if not error:
        body["result"] = result
    return web.Response(status=status, text=json.dumps(body), content_type="application/json")


async def _read_params(request: web.Request) -> Params:
    return _parse_body(request.content_type, await request.read())


def _parse_body(content_type: str, body: bytes) -> Params:
    if not body:
        return {}
    text = body.decode("utf-8", errors="strict")
    if content_type == "application/json" or text.lstrip().startswith("{"):
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("JSON body must be an object")
        return data
    return dict(parse_qsl(text, keep_blank_values=True))


def _int_param(params: Params, name: str) -> int | None:
    return _converted_param(params, name, int)


def _float_param(params: Params, name: str) -> float | None:
    return _converted_param(params, name, float)


def _converted_param(params: Params, name: str, convert):
    raw = params.get(name)
    if raw in (None, ""):
        return None
    try:
        return convert(str(raw))
    except ValueError:
        raise KrakenError(f"EGeneral:Invalid arguments:{name}") from None


def _dec_param(params: Params, name: str) -> Decimal | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    value = parse_decimal(raw)
    if value is None:
        raise KrakenError(f"EGeneral:Invalid arguments:{name}")
    return value


def _price(params: Params, name: str) -> Decimal | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    value = parse_decimal(raw)
    if value is None:
        raise KrakenError(f"EGeneral:Invalid arguments:{name}")
    return value


def _valid_cl_ord_id(value: str) -> bool:
    hexdigits = set("0123456789abcdefABCDEF")
    plain = value.replace("-", "")
    if len(plain) == 32 and set(plain) <= hexdigits:
        return True
    return 0 < len(value) <= 18 and value.isascii() and value.isprintable()


def _filter_ref(orders: list[Order], params: Params) -> list[Order]:
    if params.get("userref") not in (None, ""):
        ref = _int_param(params, "userref")
        orders = [o for o in orders if o.userref == ref]
    if params.get("cl_ord_id"):
        orders = [o for o in orders if o.cl_ord_id == params["cl_ord_id"]]
    return orders
