"""
What every Seraphim execution algorithm shares: a parent order's life from arrival to its last
child, on nautilus's ``ExecAlgorithm``.

- The parent (primary) order stays local; children are spawned from it (``spawn_market`` /
  ``spawn_limit`` reduce its quantity) and go through the risk engine, so the risk gate sees
  every child. The parent's whole quantity is checked against the gate's headroom on arrival.
- The parent's quantity never grows past what is left: a child that ends unfilled (cancelled,
  expired) gives its rest back; the final step submits the parent itself for whatever is left
  (or closes it locally when nothing is), so the children and the parent add up to the
  original quantity, never more. Every child is also capped by ``remaining`` (original minus
  what children filled or still work), whatever the parent's bookkeeping says.
- Cancelling the parent (the strategy's ``cancel_order``, ``cancel_all_orders`` or stop)
  cancels its working children; nothing is left behind.
- On start (a restarted node), what a previous run left is cancelled: parents still waiting
  locally (restored from a Redis cache) and children at the venue, also those the node adopted
  at reconciliation without knowing them (spawned ids ``<parent>-E<n>``); the strategy's target
  logic then trades what is still missing, once.
- When a parent ends, its execution quality is published on ``EXECUTION_QUALITY_TOPIC`` and
  kept in ``quality``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any

import msgspec
from nautilus_trader.common.events import TimeEvent
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.algorithm import ExecAlgorithm
from nautilus_trader.execution.messages import CancelOrder
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.events import OrderCanceled
from nautilus_trader.model.events import OrderDenied
from nautilus_trader.model.events import OrderEvent
from nautilus_trader.model.events import OrderExpired
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import OrderUpdated
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.model.orders import Order

from seraphim.execution.params import parse_params
from seraphim.execution.quality import EXECUTION_QUALITY_TOPIC
from seraphim.execution.quality import ExecutionQuality
from seraphim.execution.quality import measure
from seraphim.execution.schedule import Slice
from seraphim.portfolio import last_price
from seraphim.risk.messages import RISK_HEADROOM_ENDPOINT
from seraphim.risk.messages import HeadroomQuery

# nautilus names a spawned order "<primary id>-E<sequence>" (ExecAlgorithm._spawn_client_order_id)
SPAWNED_ID = re.compile(r"-E\d+$")


@dataclass
class Parent:
    """A parent order the algorithm works, with what it needs beyond nautilus's order."""

    order_id: ClientOrderId
    instrument: Instrument
    quantity: Decimal  # the original quantity (the order's own shrinks as children spawn)
    side: int  # +1 buy, -1 sell
    params: Any
    arrival_ns: int
    arrival_px: float | None
    finishing: bool = False  # the last step began: no more children
    cancelled: bool = False  # cancelled from outside (strategy, operator)
    children: int = 0
    alerts: list[str] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)  # the algorithm's own


class SeraphimExecAlgorithm(ExecAlgorithm):
    """Base class: subclasses set ``params_type`` and implement ``begin``."""

    params_type: type[msgspec.Struct]

    def __init__(self, config) -> None:
        super().__init__(config)
        self._parents: dict[ClientOrderId, Parent] = {}
        self.quality: list[ExecutionQuality] = []

    # -- hooks ----------------------------------------------------------------------------

    def begin(self, parent: Parent) -> None:
        """Start working a parent that has just arrived (schedule, subscribe...)."""
        raise NotImplementedError

    def on_child_filled(self, parent: Parent, child: Order) -> None:
        """A child filled completely (the iceberg shows its next part here)."""

    # -- lifecycle ------------------------------------------------------------------------

    def on_start(self) -> None:
        # What a restart left is what the cache holds now; it is cancelled a moment later, once
        # RUNNING (nautilus's algorithm ignores its own commands while it is STARTING).
        leftovers = self._leftovers()
        if leftovers:
            self.clock.set_time_alert_ns(
                f"{self.id}:leftovers",
                self.clock.timestamp_ns() + 1_000_000,
                lambda _e: self._cancel_leftovers(leftovers),
            )

    def on_stop(self) -> None:
        # Parents still working when the node (or the backtest) stops are reported as they stand.
        for parent in list(self._parents.values()):
            self._cancel_alerts(parent)
            self._record(parent)
        self._parents.clear()

    def on_reset(self) -> None:
        self._parents.clear()
        self.quality.clear()

    # -- arrival --------------------------------------------------------------------------

    def on_order(self, order: Order) -> None:
        name = self.id.value
        try:
            params = parse_params(self.params_type, order.exec_algorithm_params, name)
            instrument = self.cache.instrument(order.instrument_id)
            if instrument is None:
                raise ValueError(f"{name}: instrument {order.instrument_id} not found")
            self.validate(order, params)
        except ValueError as e:
            self._deny(order, str(e))
            return
        side = 1 if order.side == OrderSide.BUY else -1
        arrival_px = last_price(self.cache, order.instrument_id)
        headroom = self._headroom(order, side, arrival_px)
        if headroom is not None and headroom < float(order.quantity):
            self._deny(
                order,
                f"{name}: parent quantity {order.quantity} exceeds the risk headroom "
                f"{max(headroom, 0.0):.8g}",
            )
            return
        parent = Parent(
            order_id=order.client_order_id,
            instrument=instrument,
            quantity=order.quantity.as_decimal(),
            side=side,
            params=params,
            arrival_ns=self.clock.timestamp_ns(),
            arrival_px=arrival_px,
        )
        self._parents[parent.order_id] = parent
        self.begin(parent)

    def validate(self, order: Order, params: Any) -> None:
        """Raise ``ValueError`` when this parent cannot be worked with these parameters."""

    # -- children -------------------------------------------------------------------------

    def remaining(self, parent: Parent) -> Decimal:
        """Original quantity less what the parent and its children filled or still work."""
        taken = Decimal(0)
        for order in self.cache.orders_for_exec_spawn(parent.order_id):
            taken += order.filled_qty.as_decimal()
            if order.is_spawned and not order.is_closed:
                taken += order.leaves_qty.as_decimal()
        return max(parent.quantity - taken, Decimal(0))

    def working_children(self, parent: Parent) -> list[Order]:
        return [
            o
            for o in self.cache.orders_for_exec_spawn(parent.order_id)
            if o.is_spawned and not o.is_closed
        ]

    def send_child(
        self,
        parent: Parent,
        quantity: Decimal,
        limit: bool = False,
        offset_ticks: int = 0,
        price: Price | None = None,
        display_qty: Quantity | None = None,
        whole: bool = False,
    ) -> Order | None:
        """
        Spawn and submit a child of at most ``quantity`` (capped by what remains and by the
        parent's own leaves, rounded down to the size increment); ``None`` when nothing is left
        or the rest is below the instrument's minimum (the final step takes it).

        A child that would take all the parent's leaves starts the final step instead (the
        parent itself goes, as nautilus's own TWAP does: a parent cannot shrink to zero), unless
        ``whole``: then the child is spawned for everything and the parent, now empty of work,
        is closed locally (the native iceberg: one venue order carrying ``display_qty``).
        """
        primary = self.cache.order(parent.order_id)
        if primary is None or parent.finishing or not primary.is_active_local:
            return None
        instrument = parent.instrument
        increment = instrument.size_increment.as_decimal()
        leaves = primary.leaves_qty.as_decimal()
        cap = min(quantity, self.remaining(parent), leaves)
        cap = (cap // increment) * increment
        if cap <= 0 or (instrument.min_quantity and cap < instrument.min_quantity.as_decimal()):
            return None
        if cap >= leaves and not whole:
            self.finish(parent)
            return None
        qty = instrument.make_qty(cap)
        if limit or primary.has_price:  # a limit parent's children respect its price
            child = self.spawn_limit(
                primary,
                qty,
                price or self.child_price(parent, primary, offset_ticks if limit else None),
                time_in_force=primary.time_in_force,
                display_qty=display_qty,
                reduce_only=primary.is_reduce_only,
                reduce_primary=not whole,
            )
        else:
            child = self.spawn_market(
                primary,
                qty,
                time_in_force=primary.time_in_force,
                reduce_only=primary.is_reduce_only,
            )
        parent.children += 1
        self.submit_order(child)
        if whole:
            parent.finishing = True
            parent.state["sweep"] = False
            self._close_locally(primary)
        return child

    def child_price(self, parent: Parent, primary: Order, offset_ticks: int | None) -> Price:
        """
        A limit child's price: the near touch moved by ``offset_ticks`` (``None``: the parent's
        own price), never beyond a limit parent's price.
        """
        if offset_ticks is None:
            return primary.price
        price = self.touch_price(parent, offset_ticks)
        if primary.has_price:
            price = min(price, primary.price) if parent.side > 0 else max(price, primary.price)
        return price

    def touch_price(self, parent: Parent, offset_ticks: int = 0) -> Price:
        """The near touch (best bid to buy, best ask to sell), ``offset_ticks`` more aggressive."""
        instrument = parent.instrument
        quote = self.cache.quote_tick(instrument.id)
        if quote is not None:
            base = (quote.bid_price if parent.side > 0 else quote.ask_price).as_double()
        else:
            base = last_price(self.cache, instrument.id) or float(parent.arrival_px or 0.0)
        px = base + parent.side * offset_ticks * instrument.price_increment.as_double()
        return instrument.make_price(px)

    # -- schedule -------------------------------------------------------------------------

    def at(self, parent: Parent, ts_ns: int, tag: str, callback) -> None:
        """Call ``callback(parent)`` at ``ts_ns`` (now when it is already due)."""
        if ts_ns <= self.clock.timestamp_ns():
            callback(parent)
            return
        name = f"{self.id}:{parent.order_id}:{tag}"
        parent.alerts.append(name)

        def fire(_event: TimeEvent) -> None:
            parent.alerts.remove(name)
            if self._parents.get(parent.order_id) is parent and not parent.cancelled:
                callback(parent)

        self.clock.set_time_alert_ns(name, ts_ns, fire)

    def follow(self, parent: Parent, slices: list[Slice], child: str, offset_ticks: int) -> None:
        """
        Send ``slices`` as children at their offsets from the parent's arrival; the last slice
        is the final step (the parent itself takes what is left). Limit children still working
        when the next one goes are cancelled (their rest returns to the parent).
        """
        parent.state["schedule"] = slices
        limit = child == "limit"

        def slice_due(number: int):
            def send(p: Parent) -> None:
                if number == len(slices) - 1:
                    self.finish(p)
                    return
                if limit:
                    for working in self.working_children(p):
                        if not working.is_pending_cancel:
                            self.cancel_order(working)
                if slices[number].quantity > 0:
                    self.send_child(p, slices[number].quantity, limit, offset_ticks)

            return send

        for number, part in enumerate(slices):
            self.at(parent, parent.arrival_ns + part.offset_ns, str(number), slice_due(number))

    def _cancel_alerts(self, parent: Parent) -> None:
        for name in list(parent.alerts):
            if name in self.clock.timer_names:
                self.clock.cancel_timer(name)
        parent.alerts.clear()

    # -- the end --------------------------------------------------------------------------

    def finish(self, parent: Parent, sweep: bool = True) -> None:
        """
        The last step: no more children; resting (limit) children are cancelled; once no child
        works, the parent itself is submitted for what is left (``sweep``) or closed locally.
        """
        parent.finishing = True
        parent.state["sweep"] = sweep
        self._cancel_alerts(parent)
        working = self.working_children(parent)
        for child in working:
            resting = child.order_type != OrderType.MARKET
            if resting and not child.is_pending_cancel:
                self.cancel_order(child)
        if not working:
            self._release_parent(parent, sweep)

    def _release_parent(self, parent: Parent, sweep: bool) -> None:
        primary = self.cache.order(parent.order_id)
        if primary is None or not primary.is_active_local:
            return
        left = min(self.remaining(parent), primary.leaves_qty.as_decimal())
        minimum = parent.instrument.min_quantity
        if sweep and left > 0 and not (minimum and left < minimum.as_decimal()):
            if left != primary.leaves_qty.as_decimal():
                self._set_quantity(primary, primary.filled_qty.as_decimal() + left)
            parent.children += 1
            self.submit_order(primary)
        else:
            self._close_locally(primary)

    def _close_locally(self, primary: Order) -> None:
        # The parent never reached the venue: nautilus's algorithm cancels it in place (an
        # OrderCanceled to its strategy) when the cancel comes through its own endpoint.
        self.execute(
            CancelOrder(
                trader_id=primary.trader_id,
                strategy_id=primary.strategy_id,
                instrument_id=primary.instrument_id,
                client_order_id=primary.client_order_id,
                venue_order_id=None,
                command_id=UUID4(),
                ts_init=self.clock.timestamp_ns(),
            ),
        )

    def _set_quantity(self, primary: Order, quantity: Decimal) -> None:
        # The same OrderUpdated nautilus applies when it reduces or restores a primary.
        ts = self.clock.timestamp_ns()
        primary.apply(
            OrderUpdated(
                trader_id=primary.trader_id,
                strategy_id=primary.strategy_id,
                instrument_id=primary.instrument_id,
                client_order_id=primary.client_order_id,
                venue_order_id=primary.venue_order_id,
                account_id=primary.account_id,
                quantity=parent_qty(primary, quantity),
                price=None,
                trigger_price=None,
                event_id=UUID4(),
                ts_event=ts,
                ts_init=ts,
            ),
        )
        self.cache.update_order(primary)

    # -- events ---------------------------------------------------------------------------

    def on_order_event(self, event: OrderEvent) -> None:
        order = self.cache.order(event.client_order_id)
        if order is None:
            return
        parent = self._parents.get(order.exec_spawn_id)
        if parent is None:
            return
        is_parent = order.client_order_id == parent.order_id
        if is_parent and isinstance(event, OrderCanceled | OrderDenied) and not parent.finishing:
            self._cascade(parent)
        elif not is_parent and isinstance(event, OrderCanceled | OrderExpired):
            self._give_back(parent, order)
        if not is_parent and isinstance(event, OrderFilled) and order.is_closed:
            self.on_child_filled(parent, order)
        if (
            parent.finishing
            and not is_parent
            and order.is_closed
            and not self.working_children(parent)
        ):
            self._release_parent(parent, parent.state.get("sweep", True))
        self._maybe_complete(parent)

    def _cascade(self, parent: Parent) -> None:
        parent.cancelled = True
        parent.finishing = True
        self._cancel_alerts(parent)
        for child in self.working_children(parent):
            if not child.is_pending_cancel:
                self.cancel_order(child)

    def _give_back(self, parent: Parent, child: Order) -> None:
        """A child ended unfilled (not denied/rejected: nautilus restores those itself)."""
        primary = self.cache.order(parent.order_id)
        if parent.cancelled or primary is None or not primary.is_active_local:
            return
        rest = child.leaves_qty.as_decimal()
        if rest > 0:
            self._set_quantity(primary, primary.quantity.as_decimal() + rest)

    def _maybe_complete(self, parent: Parent) -> None:
        primary = self.cache.order(parent.order_id)
        if primary is None or not primary.is_closed or self.working_children(parent):
            return
        del self._parents[parent.order_id]
        self._cancel_alerts(parent)
        self._record(parent)

    def _record(self, parent: Parent) -> None:
        family = self.cache.orders_for_exec_spawn(parent.order_id)
        filled = sum((o.filled_qty.as_decimal() for o in family), Decimal(0))
        notional = sum(o.filled_qty.as_double() * (o.avg_px or 0.0) for o in family)
        avg_px = notional / float(filled) if filled > 0 else None
        end_px = last_price(self.cache, parent.instrument.id)
        slippage, shortfall = measure(
            side=parent.side,
            quantity=float(parent.quantity),
            filled=float(filled),
            arrival_px=parent.arrival_px,
            avg_px=avg_px,
            end_px=end_px,
        )
        primary = self.cache.order(parent.order_id)
        row = ExecutionQuality(
            parent_id=parent.order_id.value,
            algorithm=self.id.value,
            strategy_id=primary.strategy_id.value,
            instrument_id=parent.instrument.id.value,
            side="BUY" if parent.side > 0 else "SELL",
            quantity=float(parent.quantity),
            filled=float(filled),
            children=parent.children,
            arrival_px=parent.arrival_px,
            avg_px=avg_px,
            end_px=end_px,
            slippage_bps=slippage,
            shortfall_bps=shortfall,
            ts_arrival=parent.arrival_ns,
            ts_end=self.clock.timestamp_ns(),
            status=_status(parent, filled),
        )
        self.quality.append(row)
        self.msgbus.publish(EXECUTION_QUALITY_TOPIC, row)

    # -- guards ---------------------------------------------------------------------------

    def _headroom(self, order: Order, side: int, price: float | None) -> float | None:
        if RISK_HEADROOM_ENDPOINT not in self.msgbus.endpoints():
            return None
        query = HeadroomQuery(order.strategy_id, order.instrument_id, side, price)
        self.msgbus.send(RISK_HEADROOM_ENDPOINT, query)
        return query.result

    def _deny(self, order: Order, reason: str) -> None:
        self.log.error(f"Denied {order.client_order_id}: {reason}")
        self.msgbus.send(
            endpoint="ExecEngine.process",
            msg=OrderDenied(
                trader_id=order.trader_id,
                strategy_id=order.strategy_id,
                instrument_id=order.instrument_id,
                client_order_id=order.client_order_id,
                reason=reason,
                event_id=UUID4(),
                ts_init=self.clock.timestamp_ns(),
            ),
        )

    def _leftovers(self) -> list[Order]:
        """Orders still waiting locally (parents, unsent children) and children at the venue."""
        found = [o for o in self.cache.orders_for_exec_algorithm(self.id) if o.is_active_local]
        for order in self.cache.orders_open():
            if order.exec_algorithm_id == self.id or (
                order.exec_algorithm_id is None and SPAWNED_ID.search(order.client_order_id.value)
            ):
                found.append(order)
        return found

    def _cancel_leftovers(self, orders: list[Order]) -> None:
        for order in orders:
            if order.is_closed or order.is_pending_cancel:
                continue  # e.g. another algorithm took it
            self.log.warning(f"Cancelling {order.client_order_id}, left by a restart")
            if order.is_active_local:
                self._close_locally(order)
            else:
                self.cancel_order(order)


def parent_qty(primary: Order, quantity: Decimal) -> Quantity:
    return Quantity(quantity, primary.quantity.precision)


def _status(parent: Parent, filled: Decimal) -> str:
    if filled >= parent.quantity:
        return "completed"
    return "cancelled" if parent.cancelled else "partial"
