"""
Which of a strategy's orders still work toward its target position, and which protect it.

A target-position strategy trades the difference between its target and what it holds plus what
its unfinished orders will still add. "Unfinished" has to start the moment an order is
submitted: in a live node an order stays INITIALIZED while it waits in the risk and execution
engines' queues, and bars replayed after a reconnect arrive in one burst before any of them is
acknowledged. Nautilus's cache indexes open and in-flight orders but not INITIALIZED (or
RELEASED) ones, so the strategy keeps its own record from submission to a final state.

Protective orders (stop-loss, take-profit, trailing, emulated, contingent children of a
bracket, and any resting reduce-only order) only act if the market moves against or for the
position; they are not part of the quantity working toward the target.
"""

from __future__ import annotations

from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.enums import TriggerType
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.orders import Order

CONDITIONAL_ORDER_TYPES = frozenset(
    {
        OrderType.STOP_MARKET,
        OrderType.STOP_LIMIT,
        OrderType.MARKET_IF_TOUCHED,
        OrderType.LIMIT_IF_TOUCHED,
        OrderType.TRAILING_STOP_MARKET,
        OrderType.TRAILING_STOP_LIMIT,
    },
)


def is_protective(order: Order) -> bool:
    """
    True for an order that protects a position rather than builds it: a conditional order
    (it waits for a trigger price), an emulated one, a contingent child (it waits for its
    parent), or a reduce-only order that rests (anything but a market order).
    """
    return (
        order.order_type in CONDITIONAL_ORDER_TYPES
        or order.emulation_trigger != TriggerType.NO_TRIGGER
        or order.parent_order_id is not None
        or (order.is_reduce_only and order.order_type != OrderType.MARKET)
    )


class UnfinishedOrders:
    """A strategy's orders from submission until they reach a final state, per instrument."""

    def __init__(self) -> None:
        self._orders: dict[InstrumentId, dict[ClientOrderId, Order]] = {}

    def add(self, order: Order) -> None:
        if not order.is_closed:
            self._orders.setdefault(order.instrument_id, {})[order.client_order_id] = order

    def of(self, instrument_id: InstrumentId) -> list[Order]:
        """The instrument's orders not yet filled, cancelled, expired, rejected or denied."""
        orders = self._orders.get(instrument_id)
        if not orders:
            return []
        finished = [client_order_id for client_order_id, o in orders.items() if o.is_closed]
        for client_order_id in finished:
            del orders[client_order_id]
        return list(orders.values())

    def clear(self) -> None:
        self._orders.clear()
