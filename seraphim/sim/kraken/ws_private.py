"""WebSocket v2 private (token-authenticated): executions, balances and the trading methods."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from seraphim.sim.kraken.accounts import Account
from seraphim.sim.kraken.accounts import Order
from seraphim.sim.kraken.accounts import OrderRequest
from seraphim.sim.kraken.fmt import num
from seraphim.sim.kraken.fmt import parse_decimal
from seraphim.sim.kraken.fmt import parse_rfc3339
from seraphim.sim.kraken.fmt import rfc3339
from seraphim.sim.kraken.matching import BalanceEvent
from seraphim.sim.kraken.matching import Event
from seraphim.sim.kraken.matching import ExecEvent
from seraphim.sim.kraken.matching import KrakenError
from seraphim.sim.kraken.ws_common import WsSession

ZERO = Decimal(0)
_WS_STATUS = {"pending": "pending_new", "open": "new", "closed": "filled"}


def _ws_status(order: Order) -> str:
    if order.status == "open" and order.vol_exec > 0:
        return "partially_filled"
    return _WS_STATUS.get(order.status, order.status)


class PrivateSession(WsSession):
    """A ``/v2`` private connection; every request carries a token from GetWebSocketsToken."""

    kind = "private"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account: Account | None = None
        self.executions = False
        self.balances = False
        self.sequence = 0
        self._held: dict[str, Any] | None = None  # a message held back by a reorder fault

    def _auth(self, params: dict[str, Any]) -> Account:
        account = self.venue.account_for_token(str(params.get("token", "")))
        if account is None:
            raise KrakenError("ESession:Invalid session")
        if self.account is not None and account is not self.account:
            raise KrakenError("ESession:Invalid session")
        self.account = account
        return account

    # ------------------------------------------------------------ requests

    def handle(self, method: str, params: dict[str, Any], req_id: Any, time_in: str) -> None:
        """Subscriptions and trading methods."""
        handlers = {
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
            "add_order": self._add_order,
            "amend_order": self._amend_order,
            "cancel_order": self._cancel_order,
            "cancel_all": self._cancel_all,
            "cancel_all_orders_after": self._cancel_after,
            "batch_add": self._batch_add,
            "batch_cancel": self._batch_cancel,
        }
        handler = handlers.get(method)
        if handler is None:
            self.error(method, req_id, "Method not supported", time_in)
            return
        try:
            account = self._auth(params)
            handler(account, params, req_id, time_in)
        except KrakenError as e:
            self.error(method, req_id, e.message, time_in)

    def _subscribe(self, account: Account, params: dict, req_id: Any, time_in: str) -> None:
        channel = params.get("channel")
        if channel == "executions":
            self.executions = True
            self.subscribed = True
            self.reply("subscribe", req_id, {"channel": "executions"}, time_in)
            snapshot: list[dict[str, Any]] = []
            if params.get("snap_orders", True):
                snapshot.extend(self._order_snapshot(o) for o in account.open_orders())
            if params.get("snap_trades", False):
                trades = sorted(account.trades.values(), key=lambda t: t.time)[-50:]
                for trade in trades:
                    order = account.orders[trade.ordertxid]
                    snapshot.append(
                        self._exec_entry(ExecEvent(account, order, "trade", trade.time, trade))
                    )
            self._send_seq({"channel": "executions", "type": "snapshot", "data": snapshot})
        elif channel == "balances":
            self.balances = True
            self.subscribed = True
            self.reply("subscribe", req_id, {"channel": "balances"}, time_in)
            data = []
            for asset, amount in account.balances.items():
                info = self.venue.asset(asset)
                data.append(
                    {
                        "asset": info.ws_name,
                        "asset_class": "currency",
                        "balance": num(amount),
                        "wallets": [{"type": "spot", "id": "main", "balance": num(amount)}],
                    }
                )
            self._send_seq({"channel": "balances", "type": "snapshot", "data": data})
        else:
            raise KrakenError(f"Channel {channel} not supported")

    def _unsubscribe(self, account: Account, params: dict, req_id: Any, time_in: str) -> None:
        channel = params.get("channel")
        if channel == "executions":
            self.executions = False
        elif channel == "balances":
            self.balances = False
        else:
            raise KrakenError("Subscription Not Found")
        self.reply("unsubscribe", req_id, {"channel": channel}, time_in)

    def _order_request(self, params: dict[str, Any], symbol: str | None = None) -> OrderRequest:
        pair = self.exchange.pair_by_symbol(str(symbol or params.get("symbol", "")))
        if pair is None:
            raise KrakenError("EQuery:Unknown asset pair")
        qty = parse_decimal(params.get("order_qty"))
        if qty is None:
            raise KrakenError("EGeneral:Invalid arguments:order_qty")
        order_type = str(params.get("order_type", ""))
        limit = params.get("limit_price")
        limit_price = parse_decimal(limit) if limit is not None else None
        if limit is not None and limit_price is None:
            raise KrakenError("EGeneral:Invalid arguments:limit_price")
        triggers = params.get("triggers") or {}
        trigger_price = parse_decimal(triggers.get("price")) if isinstance(triggers, dict) else None
        trigger_types = ("stop-loss", "take-profit", "stop-loss-limit", "take-profit-limit")
        if order_type in (*trigger_types, "trailing-stop"):
            if trigger_price is None:
                raise KrakenError("EGeneral:Invalid arguments:triggers")
            price, price2 = trigger_price, limit_price
        else:
            price, price2 = limit_price, None
        tif = str(params.get("time_in_force", "gtc")).upper()
        expire = params.get("expire_time")
        expiretm = parse_rfc3339(str(expire)) if expire else None
        if expire and expiretm is None:
            raise KrakenError("EGeneral:Invalid arguments:expire_time")
        display = params.get("display_qty")
        displayvol = parse_decimal(display) if display is not None else None
        if display is not None and displayvol is None:
            raise KrakenError("EGeneral:Invalid arguments:display_qty")
        userref = params.get("order_userref")
        if userref is not None and not isinstance(userref, int):
            raise KrakenError("EGeneral:Invalid arguments:order_userref")
        return OrderRequest(
            pair=pair,
            side=str(params.get("side", "")),
            ordertype=order_type,
            volume=qty,
            price=price,
            price2=price2,
            post_only=bool(params.get("post_only", False)),
            fee_in_base=params.get("fee_preference") == "base",
            timeinforce=tif,
            expiretm=expiretm,
            userref=userref,
            cl_ord_id=params.get("cl_ord_id"),
            trigger=str(triggers.get("reference", "last"))
            if isinstance(triggers, dict)
            else "last",
            source="ws",
            offset_pct=isinstance(triggers, dict) and triggers.get("price_type") == "pct",
            displayvol=displayvol,
        )

    @staticmethod
    def _order_ref(order: Order) -> dict[str, Any]:
        result: dict[str, Any] = {"order_id": order.txid}
        if order.cl_ord_id is not None:
            result["cl_ord_id"] = order.cl_ord_id
        if order.userref is not None:
            result["order_userref"] = order.userref
        return result

    def _add_order(self, account: Account, params: dict, req_id: Any, time_in: str) -> None:
        req = self._order_request(params)
        validate = bool(params.get("validate", False))
        # Open at time_in, the request's arrival, as the frame was read (before the checks).
        received = parse_rfc3339(time_in)
        order = self.exchange.add_order(account, req, validate=validate, received=received)
        if validate:
            self.reply("add_order", req_id, {"order_id": ""}, time_in)
            return
        if self.venue.faults.take_lost_ack("add_order"):
            return
        self.reply("add_order", req_id, self._order_ref(order), time_in)

    def _amend_order(self, account: Account, params: dict, req_id: Any, time_in: str) -> None:
        ident = params.get("order_id") or params.get("cl_ord_id")
        if not ident:
            raise KrakenError("EGeneral:Invalid arguments:order_id")

        def dec_or_none(name: str) -> Decimal | None:
            if params.get(name) is None:
                return None
            value = parse_decimal(params[name])
            if value is None:
                raise KrakenError(f"EGeneral:Invalid arguments:{name}")
            return value

        order, amend_id = self.exchange.amend_order(
            account,
            str(ident),
            order_qty=dec_or_none("order_qty"),
            limit_price=dec_or_none("limit_price"),
            trigger_price=dec_or_none("trigger_price"),
            post_only=bool(params.get("post_only", False)),
        )
        result = {"amend_id": amend_id, **self._order_ref(order)}
        result.pop("order_userref", None)
        self.reply("amend_order", req_id, result, time_in)

    def _cancel_order(self, account: Account, params: dict, req_id: Any, time_in: str) -> None:
        idents: list[str | int] = []
        for name in ("order_id", "cl_ord_id", "order_userref"):
            values = params.get(name) or []
            if not isinstance(values, list):
                raise KrakenError(f"EGeneral:Invalid arguments:{name}")
            idents.extend(values)
        if not idents:
            raise KrakenError("EGeneral:Invalid arguments:order_id")
        for ident in idents:
            try:
                orders = [
                    o for o in account.open_orders() if ident in (o.txid, o.cl_ord_id, o.userref)
                ]
                self.exchange.cancel_order(account, ident)
                result = (
                    self._order_ref(orders[0]) if len(orders) == 1 else {"order_id": str(ident)}
                )
                result.pop("order_userref", None)
                self.reply("cancel_order", req_id, result, time_in)
            except KrakenError as e:
                self.error("cancel_order", req_id, e.message, time_in)

    def _cancel_all(self, account: Account, params: dict, req_id: Any, time_in: str) -> None:
        self.reply("cancel_all", req_id, {"count": self.exchange.cancel_all(account)}, time_in)

    def _cancel_after(self, account: Account, params: dict, req_id: Any, time_in: str) -> None:
        timeout = params.get("timeout")
        if not isinstance(timeout, int):
            raise KrakenError("EGeneral:Invalid arguments:timeout")
        now, trigger = self.exchange.cancel_all_after(account, timeout)
        self.reply(
            "cancel_all_orders_after",
            req_id,
            {"currentTime": rfc3339(now), "triggerTime": rfc3339(trigger)},
            time_in,
        )

    def _batch_add(self, account: Account, params: dict, req_id: Any, time_in: str) -> None:
        orders = params.get("orders")
        if not isinstance(orders, list) or not 2 <= len(orders) <= 15:
            raise KrakenError("EGeneral:Invalid arguments:orders")
        symbol = params.get("symbol")
        requests = [self._order_request(o, symbol) for o in orders]
        for req in requests:  # all or nothing: every order must pass validation first
            self.exchange.add_order(account, req, validate=True)
        if params.get("validate"):
            self.reply("batch_add", req_id, [{"order_id": ""} for _ in requests], time_in)
            return
        results = []
        for req in requests:
            try:
                order = self.exchange.add_order(account, req, received=parse_rfc3339(time_in))
                results.append(self._order_ref(order))
            except KrakenError as e:
                results.append({"error": e.message})
        self.reply("batch_add", req_id, results, time_in)

    def _batch_cancel(self, account: Account, params: dict, req_id: Any, time_in: str) -> None:
        idents = list(params.get("orders") or []) + list(params.get("cl_ord_id") or [])
        if not 2 <= len(idents) <= 50:
            raise KrakenError("EGeneral:Invalid arguments:orders")
        count = self.exchange.cancel_orders(account, idents)
        self.reply("batch_cancel", req_id, {"count": count}, time_in)

    # ------------------------------------------------------------ channel messages

    def _send_seq(self, message: dict[str, Any]) -> None:
        self.sequence += 1
        message["sequence"] = self.sequence
        self.send(message)

    def _send_exec(self, message: dict[str, Any]) -> None:
        self.sequence += 1
        message["sequence"] = self.sequence
        if self._held is not None:
            held, self._held = self._held, None
            self.send(message)
            self.send(held)
            return
        fault = self.venue.faults.take_exec()
        if fault is None:
            self.send(message)
        elif fault[0] == "delay":
            self.send_later(message, float(fault[1].get("seconds", 1.0)))
        elif fault[0] == "duplicate":
            self.send(message)
            self.send(message)
        elif fault[0] == "reorder":
            self._held = message

    def _order_snapshot(self, order: Order) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "order_id": order.txid,
            "symbol": order.pair.symbol,
            "order_qty": num(order.volume),
            "cum_qty": num(order.vol_exec),
            "cum_cost": num(order.cost),
            "avg_price": num(order.avg_price),
            "fee_usd_equiv": num(order.fee),
            "time_in_force": order.timeinforce,
            "side": order.side,
            "order_type": order.ordertype,
            "order_userref": order.userref or 0,
            "order_status": _ws_status(order),
            "post_only": order.post_only,
            "timestamp": rfc3339(order.opentm),
        }
        self._prices(order, entry)
        if order.cl_ord_id is not None:
            entry["cl_ord_id"] = order.cl_ord_id
        return entry

    @staticmethod
    def _prices(order: Order, entry: dict[str, Any]) -> None:
        if order.limit_price is not None:
            entry["limit_price"] = num(order.limit_price)
        if order.is_stop:
            entry["triggers"] = {
                "reference": order.trigger,
                "price": num(order.price or ZERO),
                "price_type": "pct" if order.offset_pct else "static",
                "status": "triggered" if order.triggered else "untriggered",
            }

    def _exec_entry(self, event: ExecEvent) -> dict[str, Any]:
        order = event.order
        if event.status == "open" and event.cum_qty > 0:
            status = "partially_filled"
        else:
            status = _WS_STATUS.get(event.status, event.status)
        entry: dict[str, Any] = {
            "order_id": order.txid,
            "exec_type": event.exec_type,
            "timestamp": rfc3339(event.time),
            "order_userref": order.userref or 0,
        }
        if order.cl_ord_id is not None:
            entry["cl_ord_id"] = order.cl_ord_id

        def prices() -> None:
            if event.limit_price is not None:
                entry["limit_price"] = num(event.limit_price)
            if event.trigger_price is not None:
                entry["triggers"] = {
                    "reference": order.trigger,
                    "price": num(event.trigger_price),
                    "price_type": "pct" if order.offset_pct else "static",
                    "status": "triggered" if event.exec_type == "status" else "untriggered",
                }

        if event.exec_type == "pending_new":
            entry.update(
                symbol=order.pair.symbol,
                side=order.side,
                order_type=order.ordertype,
                order_qty=num(event.volume),
                time_in_force=order.timeinforce,
                post_only=order.post_only,
                fee_ccy_pref="fees_in_base" if order.fee_in_base else "fees_in_quote",
                order_status="pending_new",
                cum_qty=0.0,
                cum_cost=0.0,
            )
            prices()
        elif event.exec_type == "new":
            entry["order_status"] = "new"
        elif event.exec_type == "trade" and event.trade is not None:
            trade = event.trade
            entry.update(
                exec_id=trade.txid,
                trade_id=trade.trade_id,
                symbol=order.pair.symbol,
                side=order.side,
                order_type=order.ordertype,
                last_qty=num(trade.vol),
                last_price=num(trade.price),
                liquidity_ind="m" if trade.maker else "t",
                cost=num(trade.cost),
                order_status="filled" if event.cum_qty >= event.volume else "partially_filled",
                fees=[{"asset": self.venue.asset(trade.fee_asset).ws_name, "qty": num(trade.fee)}],
                fee_usd_equiv=num(trade.fee),
                cum_qty=num(event.cum_qty),
                cum_cost=num(event.cum_cost),
                avg_price=num(event.avg_price),
            )
        elif event.exec_type in ("amended", "status"):
            entry.update(order_status=status, order_qty=num(event.volume))
            if event.exec_type == "amended":
                entry.update(amended=True, reason=event.reason)
            prices()
        else:  # filled, canceled, expired
            entry.update(
                order_status=status,
                cum_qty=num(event.cum_qty),
                cum_cost=num(event.cum_cost),
                avg_price=num(event.avg_price),
                fee_usd_equiv=num(event.fee),
            )
            if event.reason:
                entry["reason"] = event.reason
                if event.exec_type == "canceled":
                    entry["cancel_reason"] = event.reason
        return entry

    def on_exchange(self, events: list[Event], dirty: set[str]) -> None:
        """Executions and balance updates of this session's account."""
        if self.account is None:
            return
        for event in events:
            if isinstance(event, ExecEvent) and self.executions and event.account is self.account:
                self._send_exec(
                    {"channel": "executions", "type": "update", "data": [self._exec_entry(event)]}
                )
            elif (
                isinstance(event, BalanceEvent) and self.balances and event.account is self.account
            ):
                e = event.entry
                self._send_seq(
                    {
                        "channel": "balances",
                        "type": "update",
                        "data": [
                            {
                                "ledger_id": e.ledger_id,
                                "ref_id": e.refid,
                                "timestamp": rfc3339(e.time),
                                "type": e.type,
                                "asset": self.venue.asset(e.asset).ws_name,
                                "asset_class": "currency",
                                "category": e.type,
                                "wallet_type": "spot",
                                "wallet_id": "main",
                                "amount": num(e.amount),
                                "fee": num(e.fee),
                                "balance": num(e.balance),
                            }
                        ],
                    }
                )
