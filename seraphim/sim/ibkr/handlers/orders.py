"""A client connection's orders: placing, cancelling, open and completed orders, executions."""

from __future__ import annotations

import seraphim.sim.ibkr.encoders as enc
from seraphim.sim.ibkr.contracts import ContractQuery
from seraphim.sim.ibkr.handlers.base import SessionBase
from seraphim.sim.ibkr.history import HistoryRequestError
from seraphim.sim.ibkr.history import parse_end_time
from seraphim.sim.ibkr.matching import OrderRejected
from seraphim.sim.ibkr.matching import SimOrder
from seraphim.sim.ibkr.messages import NO_VALID_ID
from seraphim.sim.ibkr.protocol import UNSET_DOUBLE
from seraphim.sim.ibkr.protocol import FieldReader


class OrdersMixin(SessionBase):
    """Placing and cancelling orders, open and completed orders, executions."""

    def _place_order(self, msg_id: int, r: FieldReader) -> None:
        order_id = r.int()
        q = ContractQuery.read(r)
        q.sec_id_type = r.str()
        q.sec_id = r.str()
        action = r.str().upper()
        quantity = r.decimal()
        order_type = r.str().upper()
        lmt = r.float(UNSET_DOUBLE)
        aux = r.float(UNSET_DOUBLE)
        tif = r.str().upper() or "DAY"
        oca_group = r.str()
        account = r.str() or self.venue.account_ids[0]
        r.str()  # openClose
        r.int()  # origin
        order_ref = r.str()
        r.bool()  # transmit
        parent_id = r.int()
        r.skip(4)  # blockOrder, sweepToFill, displaySize, triggerMethod
        outside_rth = r.bool()
        r.bool()  # hidden
        if q.sec_type == "BAG":
            self.error(
                order_id,
                201,
                "Order rejected - reason:Combo orders are not supported by the local gateway",
            )
            return
        # sharesAllocation, discretionaryAmt, goodAfterTime, goodTillDate, faGroup/Method/Percentage
        r.skip(7)
        r.skip(1)  # faProfile (< 177)
        r.skip(4)  # modelCode, shortSaleSlot, designatedLocation, exemptCode
        oca_type = r.int()
        spec = self._resolve(order_id, q)
        if spec is None:
            return
        order = SimOrder(
            client_id=self.client_id or 0,
            order_id=order_id,
            perm_id=0,
            account=account,
            spec=spec,
            action=action,
            total_qty=quantity,
            order_type=order_type,
            lmt_price=None if lmt == UNSET_DOUBLE else lmt,
            aux_price=None if aux == UNSET_DOUBLE else aux,
            tif=tif,
            order_ref=order_ref,
            outside_rth=outside_rth,
            parent_id=parent_id,
            oca_group=oca_group,
            oca_type=oca_type,
        )
        try:
            self.venue.engine.place(order)
        except OrderRejected as exc:
            self.error(order_id, exc.code, str(exc))

    def _cancel_order(self, msg_id: int, r: FieldReader) -> None:
        r.skip()
        order_id = r.int()
        engine = self.venue.engine
        if engine.cancel(self.client_id or 0, order_id, "API cancel") is None:
            order = engine.orders.get((self.client_id or 0, order_id))
            if order is None:
                self.error(
                    order_id, 10147, f"OrderId {order_id} that needs to be cancelled is not found."
                )
            else:
                self.error(
                    order_id,
                    10148,
                    f"OrderId {order_id} that needs to be cancelled cannot be cancelled, "
                    f"state: {order.status}.",
                )

    def _req_global_cancel(self, msg_id: int, r: FieldReader) -> None:
        self.venue.engine.cancel_all()

    def _send_open_orders(self, orders: list[SimOrder]) -> None:
        for order in sorted(orders, key=lambda o: o.perm_id):
            self.send(enc.open_order(order))
            self.send(enc.order_status(order))
        self.send(enc.open_order_end())

    def _req_open_orders(self, msg_id: int, r: FieldReader) -> None:
        cid = self.client_id or 0
        self._send_open_orders(self.venue.engine.open_orders(None if cid == 0 else cid))

    def _req_all_open_orders(self, msg_id: int, r: FieldReader) -> None:
        self._send_open_orders(self.venue.engine.open_orders())

    def _req_auto_open_orders(self, msg_id: int, r: FieldReader) -> None:
        r.skip()
        auto = r.bool()
        if self.client_id != 0:
            self.error(
                NO_VALID_ID,
                321,
                "Error validating request.-'bX' : cause - Only client id 0 can bind orders",
            )
            return
        self.state.auto_open_orders = auto

    def _req_completed_orders(self, msg_id: int, r: FieldReader) -> None:
        for order in sorted(
            self.venue.engine.completed_orders(), key=lambda o: o.completed_at or 0
        ):
            self.send(enc.completed_order(order))
        self.send(enc.completed_orders_end())

    def _req_executions(self, msg_id: int, r: FieldReader) -> None:
        r.skip()
        req_id = r.int()
        client_id = r.int()
        account = r.str()
        since = r.str()
        symbol = r.str().upper()
        sec_type = r.str().upper()
        exchange = r.str().upper()
        side = r.str().upper()
        since_t = None
        if since:
            try:
                since_t = parse_end_time(since, self.now)
            except HistoryRequestError:
                since_t = None
        for ex in self.venue.engine.executions:
            o = ex.order
            if client_id and o.client_id != client_id:
                continue
            if account and o.account != account:
                continue
            if symbol and o.spec.symbol != symbol:
                continue
            if sec_type and o.spec.sec_type != sec_type:
                continue
            if exchange and exchange not in (ex.exchange, o.spec.exchange):
                continue
            if side and side not in (ex.side, "BUY" if ex.side == "BOT" else "SELL"):
                continue
            if since_t is not None and ex.time < since_t:
                continue
            self.send(enc.exec_details(req_id, ex))
            self.send(enc.commission_report(ex))
        self.send(enc.exec_details_end(req_id))
