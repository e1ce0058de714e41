"""
The execution client's order bookkeeping: what it has told nautilus about each order, and the
Kraken identifiers of its orders.

nautilus applies the events a client generates later (through its queue), so the client cannot
read an order's state from the cache to decide whether an event was already sent; each order's
``OrderTrack`` records that instead. ``cl_ord_id`` is the id Kraken knows an order by: the
``ClientOrderId`` itself when Kraken accepts it, else a derived one whose mapping is kept in the
nautilus cache so that a restarted node still recognizes its orders.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from decimal import Decimal

from nautilus_trader.cache.cache import Cache
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.identifiers import VenueOrderId
from nautilus_trader.model.orders import Order

from seraphim.adapters.kraken.parsing import to_cl_ord_id
from seraphim.adapters.kraken.schemas.ws import ExecData

_CL_KEY = "kraken:cl_ord_id:"  # nautilus cache key prefix: cl_ord_id -> ClientOrderId
_MAX_SEEN_TRADES = 50_000
_AGE_UNKNOWN = 300.0  # an order accepted before this client started counts as old


@dataclass
class OrderTrack:
    """What this client has told nautilus about one order (nautilus applies events later)."""

    accepted: bool
    closed: bool
    filled: Decimal
    quantity: Decimal
    triggered: bool = False


class KrakenOrderTracker:
    """
    The orders' tracks, their ``cl_ord_id`` mapping, the trades already applied and the terminal
    events that wait for their fills.
    """

    def __init__(self, cache: Cache) -> None:
        self._cache = cache
        self._cl_to_client: dict[str, ClientOrderId] = {}
        self._client_to_cl: dict[ClientOrderId, str] = {}
        self._accepted_at: dict[ClientOrderId, float] = {}
        self._seen_trades: set[str] = set()
        self._seen_trades_order: deque[str] = deque()
        self._deferred: dict[ClientOrderId, ExecData] = {}
        self._tracks: dict[ClientOrderId, OrderTrack] = {}

    # ------------------------------------------------------------------ identifiers

    def cl_ord_id(self, client_order_id: ClientOrderId) -> str:
        """The ``cl_ord_id`` Kraken knows this order by (recorded for the way back)."""
        cl = self._client_to_cl.get(client_order_id)
        if cl is None:
            cl = to_cl_ord_id(client_order_id.value)
            self._client_to_cl[client_order_id] = cl
            self._cl_to_client[cl] = client_order_id
            if cl != client_order_id.value:
                self._cache.add(_CL_KEY + cl, client_order_id.value.encode())
        return cl

    def client_order_id_for(self, cl_ord_id: str) -> ClientOrderId:
        """The ``ClientOrderId`` of a ``cl_ord_id`` (the id itself when it was never mapped)."""
        cid = self._cl_to_client.get(cl_ord_id)
        if cid is None:
            stored = self._cache.get(_CL_KEY + cl_ord_id)
            cid = ClientOrderId(stored.decode() if stored else cl_ord_id)
            self._cl_to_client[cl_ord_id] = cid
            self._client_to_cl[cid] = cl_ord_id
        return cid

    def order_for(self, venue_order_id: str, cl_ord_id: str | None) -> Order | None:
        """The cached order a venue message is about, or None when it is not ours."""
        cid = None
        if cl_ord_id:
            cid = self.client_order_id_for(cl_ord_id)
        if cid is None or self._cache.order(cid) is None:
            cid = self._cache.client_order_id(VenueOrderId(venue_order_id))
        return self._cache.order(cid) if cid is not None else None

    # ------------------------------------------------------------------ tracks

    def track(self, order: Order) -> OrderTrack:
        """The order's track, started from the cached order the first time it is asked for."""
        track = self._tracks.get(order.client_order_id)
        if track is None:
            track = OrderTrack(
                accepted=order.status not in (OrderStatus.INITIALIZED, OrderStatus.SUBMITTED),
                closed=order.is_closed,
                filled=order.filled_qty.as_decimal(),
                quantity=order.quantity.as_decimal(),
                triggered=order.status == OrderStatus.TRIGGERED,
            )
            self._tracks[order.client_order_id] = track
        return track

    def is_pending(self, client_order_id: ClientOrderId) -> bool:
        """True while the order was submitted but neither acknowledged nor refused."""
        order = self._cache.order(client_order_id)
        if order is None:
            return False
        track = self.track(order)
        return not track.accepted and not track.closed

    def accept(self, order: Order) -> bool:
        """Mark the order accepted; False when it already was, or is closed (nothing to tell)."""
        track = self.track(order)
        if track.accepted or track.closed:
            return False
        track.accepted = True
        self._accepted_at[order.client_order_id] = time.monotonic()
        return True

    def age(self, client_order_id: ClientOrderId) -> float:
        """Seconds since this client saw the order accepted (Kraken's cancel/amend penalties)."""
        accepted = self._accepted_at.get(client_order_id)
        return time.monotonic() - accepted if accepted is not None else _AGE_UNKNOWN

    def trade_seen(self, trade_id: str, order: Order) -> bool:
        """True when the trade was applied already; else remember it and return False."""
        if trade_id in self._seen_trades or TradeId(trade_id) in order.trade_ids:
            return True
        self._seen_trades.add(trade_id)
        self._seen_trades_order.append(trade_id)
        if len(self._seen_trades_order) > _MAX_SEEN_TRADES:
            self._seen_trades.discard(self._seen_trades_order.popleft())
        return False

    def fills_unapplied(self) -> bool:
        """Whether a fill this client generated is still on its way through nautilus."""
        for client_order_id, track in self._tracks.items():
            order = self._cache.order(client_order_id)
            if order is not None and order.filled_qty.as_decimal() < track.filled:
                return True
        return False

    def cache_behind(self) -> bool:
        """Whether nautilus has yet to apply a fill or a close this client generated."""
        for client_order_id, track in self._tracks.items():
            order = self._cache.order(client_order_id)
            if order is None:
                continue
            if order.filled_qty.as_decimal() < track.filled or (
                track.closed and not order.is_closed
            ):
                return True
        return False

    # ------------------------------------------------------------------ deferred terminal events

    def defer_terminal(self, client_order_id: ClientOrderId, data: ExecData) -> None:
        """Keep a cancel/expiry whose fills have not arrived yet."""
        self._deferred[client_order_id] = data

    def is_deferred(self, client_order_id: ClientOrderId) -> bool:
        return client_order_id in self._deferred

    def drop_deferred(self, client_order_id: ClientOrderId) -> None:
        self._deferred.pop(client_order_id, None)

    def due_terminal(self, order: Order) -> ExecData | None:
        """The order's deferred terminal event once its fills are all in (removed), else None."""
        deferred = self._deferred.get(order.client_order_id)
        if deferred is None or self.track(order).filled < Decimal(str(deferred.cum_qty or 0)):
            return None
        del self._deferred[order.client_order_id]
        return deferred
