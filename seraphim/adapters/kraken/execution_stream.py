"""
The private WebSocket's ``executions`` and ``balances`` channels, as the execution client reads
them.

- ``ExecutionSequence``: Kraken numbers each connection's messages; sequences restart on every
  connection (an epoch here). A number seen twice is a duplicate and is dropped; a jump is a gap,
  which the client checks a moment later and closes by reconciling with the venue.
- ``KrakenExecutionStreamMixin``: turns execution messages into the client's order events
  (accepted, filled, triggered, updated, canceled, expired) and balance messages into account
  state. Like nautilus's Interactive Brokers client, the execution client is assembled from
  mixins; this one expects from it: ``_orders`` (a ``KrakenOrderTracker``), ``_sequence``,
  ``_balances``, ``stats``, and ``_instrument``, ``_accept``, ``_apply_fill``, ``_terminal``,
  ``_recover_order``, ``_schedule_account_state`` and ``reconcile_open_orders``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from decimal import Decimal

import msgspec
from nautilus_trader.model.enums import LiquiditySide
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import VenueOrderId
from nautilus_trader.model.objects import Money
from nautilus_trader.model.orders import Order

from seraphim.adapters.kraken.common.pairs import currency_for
from seraphim.adapters.kraken.common.pairs import normalize_asset
from seraphim.adapters.kraken.parsing import rfc3339_to_ns
from seraphim.adapters.kraken.schemas.ws import BalanceMessage
from seraphim.adapters.kraken.schemas.ws import ExecData
from seraphim.adapters.kraken.schemas.ws import ExecMessage

_EXEC_DECODER = msgspec.json.Decoder(ExecMessage)
_BALANCE_DECODER = msgspec.json.Decoder(BalanceMessage)
_MAX_SEEN_SEQUENCES = 20_000
_RECHECK_DELAY_SECS = 1.0  # a gap or missing fill is looked into after this long
_ZERO = Decimal(0)


class ExecutionSequence:
    """
    The sequence numbers of the private channels' messages, per connection.

    ``on_gap(epoch, first, upto)`` is called when numbers ``first`` to ``upto - 1`` were
    skipped; ``missing`` tells later which of them never arrived.
    """

    def __init__(self, stats: Counter[str], on_gap: Callable[[int, int, int], None]) -> None:
        self._stats = stats
        self._on_gap = on_gap
        self._epoch = 0  # connection number (sequences restart per connection)
        self._seen: set[tuple[int, int]] = set()
        self._max: dict[int, int] = {}

    def new_connection(self) -> None:
        """Start a new epoch: call before the new connection's first message is read."""
        self._epoch += 1

    def note(self, sequence: int | None) -> bool:
        """False when this exact message was already handled (a duplicate)."""
        if sequence is None:
            return True
        key = (self._epoch, sequence)
        if key in self._seen:
            self._stats["duplicate_messages"] += 1
            return False
        self._seen.add(key)
        if len(self._seen) > _MAX_SEEN_SEQUENCES:
            self._seen = {k for k in self._seen if k[0] == self._epoch}
        last = self._max.get(self._epoch, 0)
        if sequence > last + 1 and last:
            self._stats["sequence_gaps"] += 1
            self._on_gap(self._epoch, last + 1, sequence)
        self._max[self._epoch] = max(last, sequence)
        return True

    def missing(self, epoch: int, first: int, upto: int) -> list[int]:
        """The numbers from ``first`` to ``upto - 1`` of connection ``epoch`` not seen."""
        return [s for s in range(first, upto) if (epoch, s) not in self._seen]


class KrakenExecutionStreamMixin:
    """The execution client's handling of the private channels (see the module docstring)."""

    def _handle_ws_message(self, text: str) -> None:
        if '"executions"' in text[:40]:
            self._on_executions(text)
        elif '"balances"' in text[:40]:
            self._on_balances(text)

    def _on_sequence_gap(self, epoch: int, first: int, upto: int) -> None:
        self.create_task(self._check_gap(epoch, first, upto), log_msg="gap")

    async def _check_gap(self, epoch: int, first: int, upto: int) -> None:
        await asyncio.sleep(_RECHECK_DELAY_SECS)
        missing = self._sequence.missing(epoch, first, upto)
        if missing:
            self._log.warning(f"Kraken executions: {len(missing)} message(s) missing; reconciling")
            await self.reconcile_open_orders()

    def _on_executions(self, text: str) -> None:
        try:
            message = _EXEC_DECODER.decode(text)
        except msgspec.DecodeError as e:
            self.stats["malformed"] += 1
            self._log.error(f"Malformed executions message ({e}): {text[:120]!r}")
            return
        if not self._sequence.note(message.sequence):
            return
        for data in message.data:
            try:
                self._on_execution(data, snapshot=message.type == "snapshot")
            except Exception as e:
                self._log.exception(f"Failed to handle execution for {data.order_id}", e)

    def _on_execution(self, data: ExecData, snapshot: bool) -> None:
        order = self._orders.order_for(data.order_id, data.cl_ord_id)
        if order is None:
            self.stats["external_executions"] += 1
            return  # not ours (another client on this key); reconciliation adopts them
        venue_order_id = VenueOrderId(data.order_id)
        ts = rfc3339_to_ns(data.timestamp) if data.timestamp else self._clock.timestamp_ns()
        kind = data.exec_type
        if snapshot and kind != "trade":
            kind = "new"  # a snapshot of an open order
        if kind in ("pending_new", "new"):
            self._accept(order, venue_order_id, ts)
        elif kind == "trade":
            self._fill_from_ws(order, venue_order_id, data, ts)
        elif kind in ("canceled", "expired"):
            self._terminal(order, venue_order_id, data, ts)
        elif kind in ("amended", "restated"):
            self._updated(order, venue_order_id, data, ts)
        elif kind == "status" and data.triggers is not None and data.triggers.status == "triggered":
            self._triggered(order, venue_order_id, ts)
        elif kind == "filled":
            cum = Decimal(str(data.cum_qty)) if data.cum_qty is not None else None
            if cum is not None and cum > self._orders.track(order).filled:
                # The fill events have not arrived (yet): fetch them if they stay missing.
                self.create_task(self._resolve_missing_fills(order.client_order_id, data))

    def _triggered(self, order: Order, venue_order_id: VenueOrderId, ts: int) -> None:
        self._accept(order, venue_order_id, ts)
        track = self._orders.track(order)
        triggerable = order.order_type in (OrderType.STOP_LIMIT, OrderType.LIMIT_IF_TOUCHED)
        if triggerable and not track.closed and not track.triggered and track.filled == 0:
            track.triggered = True
            self.generate_order_triggered(
                order.strategy_id, order.instrument_id, order.client_order_id,
                venue_order_id, ts,
            )  # fmt: skip

    def _fill_from_ws(self, order: Order, venue_order_id: VenueOrderId, data: ExecData, ts: int):
        trade_id = data.exec_id or (str(data.trade_id) if data.trade_id is not None else None)
        if trade_id is None or data.last_qty is None or data.last_price is None:
            self._log.error(f"Kraken trade execution without id or quantity: {data}")
            return
        if self._orders.trade_seen(trade_id, order):
            self.stats["duplicate_fills_ignored"] += 1
            return
        instrument = self._instrument(order.instrument_id)
        fee_currency = instrument.quote_currency
        fee = _ZERO
        if data.fees:
            fee_currency = currency_for(normalize_asset(data.fees[0].asset))
            fee = sum((Decimal(str(f.qty)) for f in data.fees), _ZERO)
        self._apply_fill(
            order,
            venue_order_id,
            trade_id,
            instrument.make_qty(Decimal(str(data.last_qty))),
            instrument.make_price(Decimal(str(data.last_price))),
            Money(fee, fee_currency),
            LiquiditySide.MAKER if data.liquidity_ind == "m" else LiquiditySide.TAKER,
            ts,
        )

    async def _resolve_missing_fills(self, client_order_id: ClientOrderId, data: ExecData):
        await asyncio.sleep(_RECHECK_DELAY_SECS)
        order = self._cache.order(client_order_id)
        cum = Decimal(str(data.cum_qty or 0))
        if order is not None and cum > self._orders.track(order).filled:
            await self._recover_order(client_order_id, data.order_id)

    def _updated(self, order: Order, venue_order_id: VenueOrderId, data: ExecData, ts: int):
        track = self._orders.track(order)
        if track.closed:
            return
        instrument = self._instrument(order.instrument_id)
        quantity = (
            instrument.make_qty(Decimal(str(data.order_qty)))
            if data.order_qty is not None
            else order.quantity
        )
        price = order.price if order.has_price else None
        trigger = order.trigger_price if order.has_trigger_price else None
        if data.limit_price is not None and order.has_price:
            price = instrument.make_price(Decimal(str(data.limit_price)))
        if data.triggers is not None and data.triggers.price is not None and trigger is not None:
            trigger = instrument.make_price(Decimal(str(data.triggers.price)))
        self._accept(order, venue_order_id, ts)
        track.quantity = quantity.as_decimal()
        self._schedule_account_state()
        self.generate_order_updated(
            order.strategy_id,
            order.instrument_id,
            order.client_order_id,
            venue_order_id,
            quantity,
            price,
            trigger,
            ts,
        )

    def _on_balances(self, text: str) -> None:
        try:
            message = _BALANCE_DECODER.decode(text)
        except msgspec.DecodeError as e:
            self.stats["malformed"] += 1
            self._log.error(f"Malformed balances message ({e}): {text[:120]!r}")
            return
        if not self._sequence.note(message.sequence):
            return
        if message.type == "snapshot":
            self._balances = {}
        for data in message.data:
            code = normalize_asset(data.asset)
            if message.type == "snapshot":
                self._balances[code] = self._balances.get(code, _ZERO) + Decimal(str(data.balance))
            else:
                self._balances[code] = Decimal(str(data.balance))
        self._schedule_account_state()
