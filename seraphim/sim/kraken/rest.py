"""Kraken Spot REST: ``/0/public/<Method>`` and signed ``/0/private/<Method>``."""

from __future__ import annotations

import asyncio
import bisect
import json
import logging
import math
from collections.abc import Awaitable
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from seraphim.adapters.kraken.common.rate_limits import rest_cost
from seraphim.sim.kraken.accounts import Account
from seraphim.sim.kraken.accounts import LedgerEntry
from seraphim.sim.kraken.accounts import Order
from seraphim.sim.kraken.accounts import OrderRequest
from seraphim.sim.kraken.accounts import PrivateTrade
from seraphim.sim.kraken.auth import authenticate
from seraphim.sim.kraken.fmt import fixed
from seraphim.sim.kraken.fmt import parse_decimal
from seraphim.sim.kraken.fmt import rfc1123
from seraphim.sim.kraken.fmt import rfc3339_seconds
from seraphim.sim.kraken.instruments import SimPair
from seraphim.sim.kraken.matching import FEE_VOLUME_ASSET
from seraphim.sim.kraken.matching import KrakenError
from seraphim.sim.kraken.ratelimit import RestCounter
from seraphim.sim.kraken.stats import OHLC_INTERVALS

if TYPE_CHECKING:
    from seraphim.sim.kraken.venue import KrakenSimVenue

log = logging.getLogger(__name__)
ZERO = Decimal(0)
Params = dict[str, Any]


def _ns(ts: float) -> int:
    return round(ts * 1e9)


def _bool(value: Any) -> bool:
    return str(value).lower() in ("true", "1", "yes")


class RestApi:
    """The REST handlers of one exchange."""

    def __init__(self, venue: KrakenSimVenue) -> None:
        self.venue = venue
        self.exchange = venue.exchange
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
            "Ledgers": self.ledgers,
            "QueryLedgers": self.query_ledgers,
            "TradeVolume": self.trade_volume,
            "AddOrder": self.add_order,
            "AddOrderBatch": self.add_order_batch,
            "AmendOrder": self.amend_order,
            "OrderAmends": self.order_amends,
            "EditOrder": self.edit_order,
            "CancelOrder": self.cancel_order,
            "CancelOrderBatch": self.cancel_order_batch,
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
        fault = self.venue.faults.take_rest(method)
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
            if method == "AddOrder" and self.venue.faults.take_lost_ack(method):
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

    @staticmethod
    def _key(pair: SimPair, params: Params) -> str:
        """
        AssetPairs' result key for a pair: Kraken answers a legacy name (``XBTUSD``, ``XXBTZUSD``)
        under the pair id and any other spelling (``BTC/USD``, ``BTCUSD``) under the name asked.
        """
        for asked in str(params.get("pair", "")).split(","):
            name = asked.strip()
            if name and name.upper() not in (pair.key, pair.altname) and pair.matches(name):
                return name
        return pair.key

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
        aclass = params.get("aclass_base", "currency")
        for pair in self._pairs(params, required=False):
            entry = dict(pair.raw)
            if entry.get("aclass_base", "currency") != aclass:
                continue
            entry["status"] = "online" if self.exchange.status == "online" else self.exchange.status
            if params.get("info") == "fees":
                entry = {k: entry[k] for k in ("fees", "fees_maker", "fee_volume_currency")}
            out[self._key(pair, params)] = entry
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
                # Kraken states the best level in whole lots, rounded up: 0.136 -> "1", "1.000"
                lots = math.ceil(qty)
                return [fixed(price or ZERO, pd), str(lots), fixed(lots, 3)]

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
        """
        ``/0/public/Trades``: without ``since`` the newest ``count`` (at most 1,000) trades;
        with it the ``count`` trades after it (ns or s). Oldest first; ``last`` is the newest
        returned trade's time in nanoseconds, the cursor for the next page.
        """
        (pair,) = self._pairs(params)[:1]
        since = _int_param(params, "since")
        count = _int_param(params, "count") or 1000
        if not 1 <= count <= 1000:
            raise KrakenError("EGeneral:Invalid arguments:count")
        tape = self.exchange.tape[pair.key]
        if since is None:
            selected = tape[-count:]
        else:
            if 0 < since < 10**12:
                since *= 10**9
            start = bisect.bisect_right(tape, since, key=lambda t: _ns(t.time))
            selected = tape[start : start + count]
        pd, ld = pair.display_price_decimals, pair.lot_decimals
        rows = [
            [fixed(t.price, pd), fixed(t.qty, ld), t.time, t.side, t.ord_type, "", t.trade_id]
            for t in selected
        ]
        last = str(_ns(selected[-1].time)) if selected else str(since or 0)
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
            asset: fixed(amount, self.venue.asset_decimals(asset))
            for asset, amount in account.balances.items()
        }

    def balance_ex(self, account: Account, params: Params) -> dict:
        """``/0/private/BalanceEx``."""
        out = {}
        for asset, amount in account.balances.items():
            d = self.venue.asset_decimals(asset)
            out[asset] = {"balance": fixed(amount, d), "hold_trade": fixed(account.hold(asset), d)}
        return out

    def trade_balance(self, account: Account, params: Params) -> dict:
        """``/0/private/TradeBalance`` (spot only: equity is the valued balances)."""
        target = str(params.get("asset", "ZUSD"))
        total = ZERO
        for asset, amount in account.balances.items():
            total += amount * self.exchange.value_of(asset, target)
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

    def ledgers(self, account: Account, params: Params) -> dict:
        """``/0/private/Ledgers`` (newest first, 50 a page from ``ofs``)."""
        assets = {a for a in str(params.get("asset", "all")).split(",") if a and a != "all"}
        kind = str(params.get("type", "all"))
        start, end = _float_param(params, "start"), _float_param(params, "end")
        entries = [
            e
            for e in reversed(account.ledger)
            if (not assets or e.asset in assets or self.venue.asset(e.asset).altname in assets)
            and kind in ("all", e.type)
            and (start is None or e.time > start)
            and (end is None or e.time <= end)
        ]
        ofs = _int_param(params, "ofs") or 0
        page = entries[ofs : ofs + 50]
        result: dict[str, Any] = {"ledger": {e.ledger_id: self._ledger_info(e) for e in page}}
        if not _bool(params.get("without_count")):
            result["count"] = len(entries)
        return result

    def query_ledgers(self, account: Account, params: Params) -> dict:
        """``/0/private/QueryLedgers`` (up to 20 ids)."""
        ids = [i for i in str(params.get("id", "")).split(",") if i]
        if not ids or len(ids) > 20:
            raise KrakenError("EGeneral:Invalid arguments:id")
        by_id = {e.ledger_id: e for e in account.ledger}
        unknown = [i for i in ids if i not in by_id]
        if unknown:
            raise KrakenError("EGeneral:Invalid arguments:id")
        return {i: self._ledger_info(by_id[i]) for i in ids}

    def _ledger_info(self, entry: LedgerEntry) -> dict:
        d = self.venue.asset_decimals(entry.asset)
        return {
            "refid": entry.refid,
            "time": round(entry.time, 4),
            "type": entry.type,
            "subtype": "",
            "aclass": "currency",
            "asset": entry.asset,
            "amount": fixed(entry.amount, d),
            "fee": fixed(entry.fee, d),
            "balance": fixed(entry.balance, d),
        }

    def trade_volume(self, account: Account, params: Params) -> dict:
        """``/0/private/TradeVolume``: 30-day USD volume and each asked pair's fee tier."""
        volume = account.fee_volume(self.exchange.now())
        result: dict[str, Any] = {"currency": FEE_VOLUME_ASSET, "volume": fixed(volume, 4)}
        pairs = self._pairs(params, required=False) if params.get("pair") else []
        for name, schedule in (("fees", "fees"), ("fees_maker", "fees_maker")):
            if pairs:
                result[name] = {p.key: _fee_tier(p.raw[schedule], volume) for p in pairs}
        return result

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
        ordertype = str(params.get("ordertype", ""))
        raw_price = str(params.get("price", "")).strip()
        offset_pct = ordertype == "trailing-stop" and raw_price.endswith("%")
        if ordertype == "trailing-stop":
            # Kraken: a trailing offset is relative, written "+1000" or "+5%"
            if not raw_price.startswith("+"):
                raise KrakenError("EGeneral:Invalid arguments:price")
            params = {**params, "price": raw_price.rstrip("%")}
        price = _dec_param(params, "price")
        price2 = _dec_param(params, "price2")
        displayvol = _dec_param(params, "displayvol")
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
            ordertype=ordertype,
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
            offset_pct=offset_pct,
            displayvol=displayvol,
        )

    def add_order_batch(self, account: Account, params: Params) -> dict:
        """
        ``/0/private/AddOrderBatch`` (JSON): 2 to 15 orders on one pair, every one validated
        before any is placed.
        """
        orders = params.get("orders")
        if not isinstance(orders, list) or not 2 <= len(orders) <= 15:
            raise KrakenError("EGeneral:Invalid arguments:orders")
        if any(not isinstance(o, dict) for o in orders):
            raise KrakenError("EGeneral:Invalid arguments:orders")
        requests = [self.parse_add_order({**o, "pair": params.get("pair", "")}) for o in orders]
        for req in requests:
            self.exchange.add_order(account, req, validate=True)
        validate = _bool(params.get("validate"))
        results = []
        for req in requests:
            try:
                order = self.exchange.add_order(account, req, validate=validate)
            except KrakenError as e:
                results.append({"error": e.message})
                continue
            entry: dict[str, Any] = {"descr": {"order": order.describe()}}
            if not validate:
                entry["txid"] = order.txid
            results.append(entry)
        return {"orders": results}

    def edit_order(self, account: Account, params: Params) -> dict:
        """``/0/private/EditOrder``: the order is replaced by a new one (a new txid)."""
        raw = str(params.get("txid", ""))
        if not raw:
            raise KrakenError("EGeneral:Invalid arguments:txid")
        self.exchange.find_pair(str(params.get("pair", "")))
        ident: str | int = int(raw) if raw.lstrip("-").isdigit() else raw
        userref = _int_param(params, "userref")
        validate = _bool(params.get("validate"))
        old, new = self.exchange.edit_order(
            account,
            ident,
            volume=_dec_param(params, "volume"),
            price=_dec_param(params, "price"),
            price2=_dec_param(params, "price2"),
            userref=userref,
            validate=validate,
        )
        pd, ld = new.pair.price_decimals, new.pair.lot_decimals
        result: dict[str, Any] = {
            "status": "ok",
            "descr": {"order": new.describe()},
            "originaltxid": old.txid,
            "volume": fixed(new.volume, ld),
            "price": fixed(new.price or ZERO, pd),
            "price2": fixed(new.price2 or ZERO, pd),
            "orders_cancelled": 0 if validate else 1,
        }
        if not validate:
            result["txid"] = new.txid
        if userref is not None:
            result["newuserref"] = userref
        return result

    def order_amends(self, account: Account, params: Params) -> dict:
        """``/0/private/OrderAmends``: an order's terms as placed and after each amend."""
        txid = str(params.get("order_id", ""))
        order = account.orders.get(txid)
        if order is None:
            raise KrakenError("EOrder:Unknown order")
        return {"amends": list(order.amends), "count": len(order.amends)}

    def cancel_order_batch(self, account: Account, params: Params) -> dict:
        """``/0/private/CancelOrderBatch`` (JSON): up to 50 txids, userrefs or cl_ord_ids."""
        orders = params.get("orders") or []
        cl_ord_ids = params.get("cl_ord_ids") or []
        if not isinstance(orders, list) or not isinstance(cl_ord_ids, list):
            raise KrakenError("EGeneral:Invalid arguments:orders")
        idents: list[str | int] = []
        for item in orders:
            value = item.get("txid") if isinstance(item, dict) else item
            if isinstance(value, int) or (isinstance(value, str) and value):
                idents.append(value)
            else:
                raise KrakenError("EGeneral:Invalid arguments:orders")
        idents.extend(str(c) for c in cl_ord_ids)
        if not 1 <= len(idents) <= 50:
            raise KrakenError("EGeneral:Invalid arguments:orders")
        return {"count": self.exchange.cancel_orders(account, idents)}

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
        token = self.venue.issue_token(account)
        return {"token": token, "expires": int(self.venue.config.token_ttl)}


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


def _fee_tier(schedule: list[list[float]], volume: Decimal) -> dict[str, str]:
    """TradeVolume's view of a pair's fee schedule at a 30-day volume (percentages)."""
    index = max((i for i, (threshold, _) in enumerate(schedule) if volume >= threshold), default=0)
    rate, tier_volume = schedule[index][1], schedule[index][0]
    following = schedule[index + 1] if index + 1 < len(schedule) else None
    entry = {
        "fee": fixed(Decimal(str(rate)), 4),
        "minfee": fixed(Decimal(str(schedule[-1][1])), 4),
        "maxfee": fixed(Decimal(str(schedule[0][1])), 4),
        "nextfee": fixed(Decimal(str(following[1])), 4) if following else None,
        "tiervolume": fixed(Decimal(str(tier_volume)), 4),
        "nextvolume": fixed(Decimal(str(following[0])), 4) if following else None,
    }
    return entry


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
    return _converted_param(params, name, _decimal)


def _decimal(text: str) -> Decimal:
    value = parse_decimal(text)
    if value is None:
        raise ValueError(f"not a number: {text!r}")
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
