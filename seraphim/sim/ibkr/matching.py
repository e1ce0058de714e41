"""Orders, matching against the simulated top of book, executions and commissions.

Marketable orders fill at the touch, limited to the quoted size, so larger orders fill
partially over several ticks. Stop orders trigger on the touch. Child orders (parentId) wait
for their parent to fill; an OCA group cancels its siblings when one member fills.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

from seraphim.sim.ibkr.account import Account
from seraphim.sim.ibkr.contracts import NEW_YORK
from seraphim.sim.ibkr.contracts import ContractSpec
from seraphim.sim.ibkr.market import Market
from seraphim.sim.ibkr.market import Quote
from seraphim.sim.ibkr.market import round_to_tick

SUPPORTED_ORDER_TYPES = {"MKT", "LMT", "STP", "STP LMT"}
OPEN_STATUSES = {"PendingSubmit", "PreSubmitted", "Submitted", "PendingCancel"}


class OrderRejected(Exception):
    """An order TWS would refuse; ``code`` is the error code to send."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code


@dataclass
class SimOrder:
    """One order as the gateway records it."""

    client_id: int
    order_id: int
    perm_id: int
    account: str
    spec: ContractSpec
    action: str
    total_qty: Decimal
    order_type: str
    lmt_price: float | None = None
    aux_price: float | None = None
    tif: str = "DAY"
    order_ref: str = ""
    outside_rth: bool = False
    parent_id: int = 0
    oca_group: str = ""
    oca_type: int = 0
    status: str = "PendingSubmit"
    filled: Decimal = Decimal(0)
    avg_fill_price: float = 0.0
    last_fill_price: float = 0.0
    triggered: bool = False
    submitted_at: float = 0.0
    completed_at: float | None = None
    completed_status: str = ""
    commission: float = 0.0
    why_held: str = ""

    @property
    def key(self) -> tuple[int, int]:
        """(clientId, orderId): how TWS identifies an API order."""
        return (self.client_id, self.order_id)

    @property
    def remaining(self) -> Decimal:
        """Quantity still to fill."""
        return self.total_qty - self.filled

    @property
    def is_open(self) -> bool:
        """Still working (or waiting) at the gateway."""
        return self.status in OPEN_STATUSES


@dataclass
class Execution:
    """One fill, with the commission TWS reports for it."""

    exec_id: str
    order: SimOrder
    time: float
    side: str
    shares: Decimal
    price: float
    cum_qty: Decimal
    avg_price: float
    commission: float
    realized_pnl: float | None
    exchange: str

    @property
    def time_text(self) -> str:
        """``YYYYMMDD HH:MM:SS US/Eastern`` as TWS reports execution times."""
        return (
            dt.datetime.fromtimestamp(self.time, NEW_YORK).strftime("%Y%m%d %H:%M:%S")
            + " US/Eastern"
        )


def commission_for(spec: ContractSpec, shares: Decimal, price: float, first_fill: bool) -> float:
    """IB-like tiered commissions; the per-order minimum is charged on the first fill."""
    qty = float(shares)
    value = qty * price * spec.value_multiplier
    if spec.sec_type == "CRYPTO":
        fee, minimum = value * 0.0018, 1.75
    elif spec.is_option:
        fee, minimum = qty * 0.65, 1.00
    else:
        fee, minimum = qty * 0.005, 1.00
    if first_fill:
        fee = max(fee, minimum)
    return round(min(fee, 0.01 * value) if value else fee, 4)


@dataclass
class MatchingListener:
    """Callbacks the server installs to turn engine events into wire messages."""

    on_order: Callable[[SimOrder], None] = lambda order: None
    on_execution: Callable[[Execution], None] = lambda execution: None
    on_cancel: Callable[[SimOrder, str], None] = lambda order, reason: None


@dataclass
class MatchingEngine:
    """The gateway's order book and fills, shared by all client connections."""

    market: Market
    accounts: dict[str, Account]
    clock: Callable[[], float]
    seed: int = 1
    listener: MatchingListener = field(default_factory=MatchingListener)
    orders: dict[tuple[int, int], SimOrder] = field(default_factory=dict)
    executions: list[Execution] = field(default_factory=list)
    halted: set[str] = field(default_factory=set)  # symbols in a trading halt: nothing fills
    _next_perm: int = 0
    _exec_seq: int = 0

    def __post_init__(self) -> None:
        self._next_perm = 1_000_000 + (self.seed % 1000) * 1000

    def next_order_id(self, client_id: int) -> int:
        """The smallest order id this client has not used yet (at least 1)."""
        used = [oid for (cid, oid) in self.orders if cid == client_id]
        return max(used, default=0) + 1

    def open_orders(self, client_id: int | None = None) -> list[SimOrder]:
        """Working orders, of one client or of all."""
        return [
            o
            for o in self.orders.values()
            if o.is_open and (client_id is None or o.client_id == client_id)
        ]

    def completed_orders(self) -> list[SimOrder]:
        """Filled and cancelled orders."""
        return [o for o in self.orders.values() if not o.is_open]

    def place(self, order: SimOrder) -> SimOrder:
        """Accept a new order or modify a working one with the same (clientId, orderId)."""
        self._validate(order)
        existing = self.orders.get(order.key)
        now = self.clock()
        if existing is not None:
            if not existing.is_open:
                raise OrderRejected(104, f"Cannot modify a {existing.status.lower()} order.")
            if order.total_qty < existing.filled:
                raise OrderRejected(201, "Order rejected - reason:Quantity below filled quantity")
            existing.total_qty = order.total_qty
            existing.lmt_price = order.lmt_price
            existing.aux_price = order.aux_price
            existing.order_type = order.order_type
            existing.tif = order.tif
            existing.outside_rth = order.outside_rth
            self.listener.on_order(existing)
            self.match(existing, now)
            return existing
        self._next_perm += 1
        order.perm_id = self._next_perm
        order.submitted_at = now
        order.status = "PreSubmitted" if self._held(order) else "Submitted"
        self.orders[order.key] = order
        self.listener.on_order(order)
        self.match(order, now)
        return order

    def _validate(self, order: SimOrder) -> None:
        if order.order_type not in SUPPORTED_ORDER_TYPES:
            raise OrderRejected(387, f"Unsupported order type: {order.order_type}")
        if order.action not in ("BUY", "SELL"):
            raise OrderRejected(201, f"Order rejected - reason:Invalid action {order.action}")
        if order.total_qty <= 0:
            raise OrderRejected(434, "The order size cannot be zero.")
        increment = order.spec.size_increment
        if increment and (order.total_qty % increment) != 0:
            raise OrderRejected(
                201,
                "Order rejected - reason:Order size is not a multiple of the size increment "
                f"{increment}",
            )
        if order.order_type in ("LMT", "STP LMT") and not order.lmt_price:
            raise OrderRejected(201, "Order rejected - reason:Limit price is missing")
        if order.order_type in ("STP", "STP LMT") and not order.aux_price:
            raise OrderRejected(201, "Order rejected - reason:Stop price is missing")
        if order.account not in self.accounts:
            raise OrderRejected(
                201, f"Order rejected - reason:Account {order.account} is not managed"
            )
        if order.tif not in ("DAY", "GTC", "IOC", "GTD", "OPG", "FOK", ""):
            raise OrderRejected(201, f"Order rejected - reason:Invalid time in force {order.tif}")

    def _held(self, order: SimOrder) -> bool:
        if order.parent_id:
            parent = self.orders.get((order.client_id, order.parent_id))
            if parent is not None and parent.status != "Filled":
                return True
        return order.order_type in ("STP", "STP LMT") and not order.triggered

    def cancel(self, client_id: int, order_id: int, reason: str = "") -> SimOrder | None:
        """Cancel a working order; None when no such working order exists."""
        order = self.orders.get((client_id, order_id))
        if order is None or not order.is_open:
            return None
        self._finish(order, "Cancelled")
        self.listener.on_cancel(order, reason)
        return order

    def cancel_all(self) -> list[SimOrder]:
        """reqGlobalCancel: cancel every working order of every client."""
        out = []
        for order in list(self.orders.values()):
            if order.is_open and self.cancel(order.client_id, order.order_id, "Global cancel"):
                out.append(order)
        return out

    def _finish(self, order: SimOrder, status: str) -> None:
        order.status = status
        order.completed_at = self.clock()
        order.completed_status = status

    def match_all(self, now: float) -> None:
        """Try every working order against the current market (called on every market tick)."""
        for order in list(self.orders.values()):
            if order.is_open:
                self.match(order, now)

    def match(self, order: SimOrder, now: float) -> None:
        """Fill what is marketable of one order, at most the quoted size."""
        if not order.is_open or order.status == "PendingCancel" or order.spec.symbol in self.halted:
            return
        if order.parent_id:
            parent = self.orders.get((order.client_id, order.parent_id))
            if parent is not None and parent.status != "Filled":
                if parent.status == "Cancelled":
                    self._finish(order, "Cancelled")
                    self.listener.on_cancel(order, "Parent order cancelled")
                return
        quote = self.market.quote(order.spec, now)
        if order.order_type in ("STP", "STP LMT") and not order.triggered:
            if not self._stop_hit(order, quote):
                return
            order.triggered = True
            if order.status == "PreSubmitted":
                order.status = "Submitted"
                self.listener.on_order(order)
        elif order.status == "PreSubmitted":
            order.status = "Submitted"
            self.listener.on_order(order)
        price = self._fill_price(order, quote)
        if price is None:
            if order.tif == "IOC":
                self._finish(order, "Cancelled")
                self.listener.on_cancel(order, "IOC not marketable")
            return
        available = Decimal(str(quote.ask_size if order.action == "BUY" else quote.bid_size))
        qty = min(order.remaining, available) if available > 0 else order.remaining
        if order.tif == "FOK" and qty < order.remaining:
            self._finish(order, "Cancelled")
            self.listener.on_cancel(order, "FOK not fillable")
            return
        self._fill(order, qty, price, now)
        if order.tif == "IOC" and order.is_open:
            self._finish(order, "Cancelled")
            self.listener.on_cancel(order, "IOC remainder")

    @staticmethod
    def _stop_hit(order: SimOrder, quote: Quote) -> bool:
        stop = order.aux_price or 0.0
        return quote.ask >= stop if order.action == "BUY" else quote.bid <= stop

    @staticmethod
    def _fill_price(order: SimOrder, quote: Quote) -> float | None:
        limit = order.lmt_price if order.order_type in ("LMT", "STP LMT") else None
        if order.action == "BUY":
            if limit is not None and limit < quote.ask:
                return None
            return quote.ask
        if limit is not None and limit > quote.bid:
            return None
        return quote.bid

    def _fill(self, order: SimOrder, qty: Decimal, price: float, now: float) -> None:
        spec = order.spec
        price = round_to_tick(price, spec.min_tick)
        first = order.filled == 0
        commission = commission_for(spec, qty, price, first)
        side = "BOT" if order.action == "BUY" else "SLD"
        account = self.accounts[order.account]
        realized = account.apply_fill(spec, side, qty, price, commission)
        total_value = float(order.filled) * order.avg_fill_price + float(qty) * price
        order.filled += qty
        order.avg_fill_price = total_value / float(order.filled)
        order.last_fill_price = price
        order.commission += commission
        closing = realized + commission != 0.0
        if order.remaining == 0:
            self._finish(order, "Filled")
        self._exec_seq += 1
        execution = Execution(
            exec_id=f"0000{self.seed % 0xFFFF:04x}.{order.perm_id:08x}.{self._exec_seq:02d}.01",
            order=order,
            time=now,
            side=side,
            shares=qty,
            price=price,
            cum_qty=order.filled,
            avg_price=order.avg_fill_price,
            commission=commission,
            realized_pnl=realized if closing else None,
            exchange=spec.primary_exchange or spec.exchange,
        )
        self.executions.append(execution)
        self.listener.on_execution(execution)
        if order.status == "Filled":
            self._after_parent_fill(order, now)
            self._cancel_oca_siblings(order)

    def _after_parent_fill(self, parent: SimOrder, now: float) -> None:
        for child in list(self.orders.values()):
            if (
                child.is_open
                and child.client_id == parent.client_id
                and child.parent_id == parent.order_id
            ):
                self.match(child, now)

    def _cancel_oca_siblings(self, order: SimOrder) -> None:
        if not order.oca_group:
            return
        for other in list(self.orders.values()):
            if other is not order and other.is_open and other.oca_group == order.oca_group:
                self.cancel(other.client_id, other.order_id, "OCA group member filled")
