"""
The Kraken Spot execution client.

- Orders go out over the private WebSocket (``add_order``); REST ``AddOrder`` is the fallback
  when the socket is down. Market, limit, stop-loss, take-profit and their -limit variants;
  post-only, IOC, GTD, reduce-only and display quantity (iceberg).
- Modify is ``amend_order``; cancel, cancel-all (per instrument and side) and batch cancel.
- The ``executions`` channel drives OrderAccepted / Rejected / Updated / Triggered / Canceled /
  Expired / Filled (exact fees, liquidity side and Kraken's trade ids). Every handler is
  idempotent: duplicated or reordered messages never double a fill, and a terminal event whose
  fills have not arrived yet waits for them.
- The ``balances`` channel produces AccountState (reported by the venue).
- An order whose acknowledgement is lost is looked up at the venue by its ``cl_ord_id`` and
  adopted, never resent. Sequence gaps, reconnects and a periodic check compare open orders with
  the venue and recover missed fills and cancels.
- Reconciliation reports (orders, fills and spot positions) let a node started or restarted
  mid-session adopt the venue's truth.

The private channels are read in ``execution_stream`` (a mixin of this client, with their
sequence-number state machine); what the client has told nautilus about each order, and the
``cl_ord_id`` mapping, is kept in ``order_tracking``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections import Counter
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.common.enums import LogColor
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.messages import BatchCancelOrders
from nautilus_trader.execution.messages import CancelAllOrders
from nautilus_trader.execution.messages import CancelOrder
from nautilus_trader.execution.messages import GenerateFillReports
from nautilus_trader.execution.messages import GenerateOrderStatusReport
from nautilus_trader.execution.messages import GenerateOrderStatusReports
from nautilus_trader.execution.messages import GeneratePositionStatusReports
from nautilus_trader.execution.messages import ModifyOrder
from nautilus_trader.execution.messages import QueryAccount
from nautilus_trader.execution.messages import SubmitOrder
from nautilus_trader.execution.messages import SubmitOrderList
from nautilus_trader.execution.reports import FillReport
from nautilus_trader.execution.reports import OrderStatusReport
from nautilus_trader.execution.reports import PositionStatusReport
from nautilus_trader.live.execution_client import LiveExecutionClient
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import LiquiditySide
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.enums import PositionSide
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.enums import TriggerType
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import AccountId
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.identifiers import VenueOrderId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import AccountBalance
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.orders import Order

from seraphim.adapters.kraken.common.constants import KRAKEN_VENUE
from seraphim.adapters.kraken.common.errors import KrakenAmbiguousError
from seraphim.adapters.kraken.common.errors import KrakenError
from seraphim.adapters.kraken.common.errors import KrakenRateLimitError
from seraphim.adapters.kraken.common.errors import error_from_strings
from seraphim.adapters.kraken.common.pairs import currency_for
from seraphim.adapters.kraken.common.pairs import normalize_asset
from seraphim.adapters.kraken.common.rate_limits import amend_cost
from seraphim.adapters.kraken.common.rate_limits import cancel_cost
from seraphim.adapters.kraken.config import KrakenExecClientConfig
from seraphim.adapters.kraken.execution_stream import ExecutionSequence
from seraphim.adapters.kraken.execution_stream import KrakenExecutionStreamMixin
from seraphim.adapters.kraken.http.client import KrakenHttpClient
from seraphim.adapters.kraken.http.endpoints import KrakenSpotApi
from seraphim.adapters.kraken.order_tracking import KrakenOrderTracker
from seraphim.adapters.kraken.parsing import ORDER_TYPE_TO_KRAKEN
from seraphim.adapters.kraken.parsing import TIF_TO_KRAKEN
from seraphim.adapters.kraken.parsing import fee_currency
from seraphim.adapters.kraken.parsing import liquidity_side
from seraphim.adapters.kraken.parsing import ns_to_rfc3339
from seraphim.adapters.kraken.parsing import secs_to_ns
from seraphim.adapters.kraken.providers import KrakenInstrumentProvider
from seraphim.adapters.kraken.schemas.rest import OrderInfo
from seraphim.adapters.kraken.schemas.rest import TradeInfo
from seraphim.adapters.kraken.schemas.ws import AddOrderAck
from seraphim.adapters.kraken.schemas.ws import ExecData
from seraphim.adapters.kraken.schemas.ws import MethodResponse
from seraphim.adapters.kraken.websocket.client import KrakenWebSocketClient
from seraphim.adapters.kraken.websocket.client import KrakenWsNotConnected

_STOP_TYPES = (
    OrderType.STOP_MARKET,
    OrderType.STOP_LIMIT,
    OrderType.MARKET_IF_TOUCHED,
    OrderType.LIMIT_IF_TOUCHED,
)
_LIMIT_TYPES = (OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.LIMIT_IF_TOUCHED)
_ZERO = Decimal(0)
_REST_TIME_RESOLUTION_NS = 100_000  # REST times have four decimals (0.1 ms)
_MAX_ACCOUNT_STATE_WAITS = 20  # account state deferred at most this many times for fills


def _num(value: Any) -> float:
    """A price or quantity as the JSON number Kraken expects (the nearest double to its text)."""
    return float(str(value))


def _venue_command(method):
    """A command sent to the venue: the client waits for its answer before disconnecting."""

    @functools.wraps(method)
    async def run(self, command) -> None:
        task = asyncio.current_task()
        mine = task is not None and task not in self._commands  # not nested (order lists)
        if mine:
            self._commands.add(task)
        try:
            await method(self, command)
        finally:
            if mine:
                self._commands.discard(task)

    return run


class KrakenExecutionClient(KrakenExecutionStreamMixin, LiveExecutionClient):
    """Kraken Spot execution for nautilus (see the module docstring)."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        client: KrakenHttpClient,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
        instrument_provider: KrakenInstrumentProvider,
        config: KrakenExecClientConfig,
        name: str | None = None,
    ) -> None:
        super().__init__(
            loop=loop,
            client_id=ClientId(name or KRAKEN_VENUE.value),
            venue=KRAKEN_VENUE,
            oms_type=OmsType.NETTING,
            account_type=AccountType.CASH,
            base_currency=None,
            instrument_provider=instrument_provider,
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            config=config,
        )
        self._config = config
        self._http = client
        self._api = KrakenSpotApi(client)
        self._provider: KrakenInstrumentProvider = instrument_provider
        self._set_account_id(AccountId(f"{name or KRAKEN_VENUE.value}-SPOT"))
        self._ws = KrakenWebSocketClient(
            config.base_url_ws_private,
            self._handle_ws_message,
            name="private",
            token_provider=self._get_ws_token,
            on_reconnect=self._on_ws_reconnect,
            on_disconnect=self._on_ws_disconnect,
            request_timeout=config.ws_request_timeout_secs,
            idle_timeout=config.ws_idle_timeout_secs,
            logger=self._log,
        )
        self._dec_ack = msgspec.json.Decoder(AddOrderAck)
        self.stats: Counter[str] = Counter()
        self._orders = KrakenOrderTracker(cache)
        self._sequence = ExecutionSequence(self.stats, self._on_sequence_gap)
        self._account_state_pending = False
        self._trades_cache: dict[float | None, tuple[float, asyncio.Future]] = {}
        self._balances: dict[str, Decimal] = {}
        self._oflags: dict[str, str] = {}
        self._reconcile_lock = asyncio.Lock()
        self._bg_tasks: list[asyncio.Task] = []
        self._commands: set[asyncio.Task] = set()  # venue commands awaiting their answer

    # ------------------------------------------------------------------ lifecycle

    async def _connect(self) -> None:
        if not self._http.has_credentials:
            raise KrakenError("the execution client needs KRAKEN_API_KEY and KRAKEN_API_SECRET")
        await self._provider.initialize()
        for instrument in self._provider.list_all():
            if self._cache.instrument(instrument.id) is None:
                self._cache.add_instrument(instrument)
        await self._update_account_state()
        await self._await_account_registered()
        await self._ws.connect()
        await self._subscribe_private()
        if self._config.reconcile_interval_secs:
            self._bg_tasks.append(
                self._loop.create_task(self._reconcile_loop(self._config.reconcile_interval_secs))
            )

    async def _disconnect(self) -> None:
        try:
            await asyncio.wait_for(self._settle(), self._config.settle_timeout_secs)
        except TimeoutError:
            self._log.warning(
                f"Orders still in flight after {self._config.settle_timeout_secs}s; the next "
                "start reconciles them with the venue"
            )
        for task in self._bg_tasks:
            task.cancel()
        for task in self._bg_tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._bg_tasks.clear()
        await self._ws.disconnect()
        await self._http.close()

    async def _settle(self) -> None:
        """
        Before disconnecting: orders sent get the venue's outcome (acknowledged, filled,
        canceled) by their answer or a look-up, and balances are the venue's, so what the node
        records equals the venue's state.
        """
        if self._commands:
            await asyncio.wait(set(self._commands))
        try:
            await self._look_up_unanswered()
            await self.reconcile_open_orders()
        except KrakenError as e:
            self._log.warning(f"Settling orders before disconnect failed: {e}")
        await self._cache_caught_up()
        # Last, after every fill is applied: nautilus rebalances a CASH account on each fill at
        # the currency's precision (USD 2 decimals), the venue keeps 4; its balances must win.
        try:
            await self._update_account_state()
        except KrakenError as e:
            self._log.warning(f"Fetching balances before disconnect failed: {e}")

    async def _look_up_unanswered(self) -> None:
        """Orders sent without an answer, found at the venue by cl_ord_id (two calls for all)."""
        unanswered = {
            self._orders.cl_ord_id(o.client_order_id): o
            for o in self._cache.orders_inflight(venue=KRAKEN_VENUE)
            if self._orders.is_pending(o.client_order_id)
        }
        if not unanswered:
            return
        found = {
            info.cl_ord_id: (txid, info)
            for txid, info in (await self._api.open_orders()).items()
            if info.cl_ord_id in unanswered
        }
        if len(found) < len(unanswered):  # the newest closed orders (they were just sent)
            closed = (await self._api.closed_orders()).closed
            found.update(
                (info.cl_ord_id, (txid, info))
                for txid, info in closed.items()
                if info.cl_ord_id in unanswered
            )
        for cl_ord_id, (txid, info) in found.items():
            self.stats["settled_by_lookup"] += 1
            await self._apply_venue_order(unanswered[cl_ord_id], txid, info)

    async def _cache_caught_up(self) -> None:
        """Wait until nautilus has applied the events this client generated (its queue)."""
        while self._orders.cache_behind():
            await asyncio.sleep(0.02)

    async def _get_ws_token(self) -> str:
        return (await self._api.websockets_token()).token

    async def _subscribe_private(self) -> None:
        self._sequence.new_connection()
        await self._ws.subscribe(
            {"channel": "executions", "snap_orders": True, "snap_trades": True}
        )
        await self._ws.subscribe({"channel": "balances", "snapshot": True})

    def _on_ws_disconnect(self) -> None:
        self.stats["ws_disconnects"] += 1

    def _on_ws_reconnect(self) -> None:
        self._sequence.new_connection()  # before the new connection's first message is read
        self.stats["ws_reconnects"] += 1
        self.create_task(self.reconcile_open_orders(), log_msg="reconcile after reconnect")

    # ------------------------------------------------------------------ instruments

    def _instrument(self, instrument_id: InstrumentId) -> Instrument:
        instrument = self._cache.instrument(instrument_id) or self._provider.find(instrument_id)
        if instrument is None:
            raise KrakenError(f"instrument {instrument_id} not loaded")
        return instrument

    # ------------------------------------------------------------------ account

    async def _update_account_state(self) -> None:
        balances = await self._api.balance_ex()
        totals: dict[str, Decimal] = {}
        holds: dict[str, Decimal] = {}
        for asset, entry in balances.items():
            code = normalize_asset(asset)
            totals[code] = totals.get(code, _ZERO) + Decimal(entry.balance)
            holds[code] = holds.get(code, _ZERO) + Decimal(entry.hold_trade or "0")
        self._balances = totals
        self._emit_account_state(holds)

    async def _query_account(self, _command: QueryAccount) -> None:
        await self._update_account_state()

    def _computed_holds(self) -> dict[str, Decimal]:
        """Funds reserved by our open orders, the way Kraken reserves them."""
        holds: dict[str, Decimal] = {}
        for order in self._cache.orders_open(venue=KRAKEN_VENUE):
            instrument = self._cache.instrument(order.instrument_id)
            if instrument is None or order.order_type == OrderType.MARKET:
                continue
            remaining = order.leaves_qty.as_decimal()
            if order.side == OrderSide.BUY:
                ref = order.price if order.has_price else order.trigger_price
                if ref is None:
                    continue
                amount = remaining * ref.as_decimal() * (1 + instrument.taker_fee)
                code = instrument.quote_currency.code
            else:
                amount = remaining
                code = instrument.base_currency.code
            holds[code] = holds.get(code, _ZERO) + amount
        return holds

    def _schedule_account_state(self, delay: float = 0.05, waited: int = 0) -> None:
        """Emit the account state shortly, once nautilus has applied the order events."""
        if self._account_state_pending or not self._balances:
            return
        self._account_state_pending = True

        def emit() -> None:
            self._account_state_pending = False
            # nautilus applies a fill to a CASH account when its queued event is processed;
            # the venue's balances (which hold the fill already) must come after that, or the
            # fill counts twice until the next balances message.
            if waited < _MAX_ACCOUNT_STATE_WAITS and self._orders.fills_unapplied():
                self._schedule_account_state(delay, waited + 1)
                return
            self._emit_account_state()

        self._loop.call_later(delay, emit)

    def _emit_account_state(self, holds: dict[str, Decimal] | None = None) -> None:
        holds = self._computed_holds() if holds is None else holds
        balances = []
        for code, total in sorted(self._balances.items()):
            currency = currency_for(code)
            total_m = Money(total, currency)
            locked = min(max(holds.get(code, _ZERO), _ZERO), total_m.as_decimal())
            locked_m = Money(max(locked, _ZERO), currency)
            free_m = Money(total_m.as_decimal() - locked_m.as_decimal(), currency)
            balances.append(AccountBalance(total_m, locked_m, free_m))
        if not balances:
            return
        self.generate_account_state(
            balances=balances, margins=[], reported=True, ts_event=self._clock.timestamp_ns()
        )

    # ------------------------------------------------------------------ order events

    def _accept(self, order: Order, venue_order_id: VenueOrderId, ts: int) -> None:
        if not self._orders.accept(order):
            return
        self._schedule_account_state()
        self.generate_order_accepted(
            order.strategy_id, order.instrument_id, order.client_order_id, venue_order_id, ts
        )

    def _apply_fill(
        self,
        order: Order,
        venue_order_id: VenueOrderId,
        trade_id: str,
        last_qty,
        last_px: Price,
        commission: Money,
        liquidity: LiquiditySide,
        ts: int,
    ) -> None:
        self._accept(order, venue_order_id, ts)
        instrument = self._instrument(order.instrument_id)
        track = self._orders.track(order)
        track.filled += last_qty.as_decimal()
        if track.filled >= track.quantity:
            track.closed = True
        self.stats["fills"] += 1
        self.generate_order_filled(
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            client_order_id=order.client_order_id,
            venue_order_id=venue_order_id,
            venue_position_id=None,
            trade_id=TradeId(trade_id),
            order_side=order.side,
            order_type=order.order_type,
            last_qty=last_qty,
            last_px=last_px,
            quote_currency=instrument.quote_currency,
            commission=commission,
            liquidity_side=liquidity,
            ts_event=ts,
        )
        self._schedule_account_state()
        deferred = self._orders.due_terminal(order)
        if deferred is not None:
            self._terminal(order, venue_order_id, deferred, ts, from_deferred=True)

    def _terminal(
        self,
        order: Order,
        venue_order_id: VenueOrderId,
        data: ExecData,
        ts: int,
        from_deferred: bool = False,
    ) -> None:
        track = self._orders.track(order)
        if track.closed:
            return
        cum = Decimal(str(data.cum_qty)) if data.cum_qty is not None else _ZERO
        if cum > track.filled and not from_deferred:
            # Fills not seen yet (reordered or lost): wait for them, then close the order.
            self.stats["terminal_deferred"] += 1
            self._orders.defer_terminal(order.client_order_id, data)
            self.create_task(self._resolve_deferred(order.client_order_id, data.order_id))
            return
        self._accept(order, venue_order_id, ts)
        track.closed = True
        self._schedule_account_state()
        if data.exec_type == "expired":
            self.generate_order_expired(
                order.strategy_id, order.instrument_id, order.client_order_id, venue_order_id, ts
            )
        else:
            self.generate_order_canceled(
                order.strategy_id, order.instrument_id, order.client_order_id, venue_order_id, ts
            )

    async def _resolve_deferred(self, client_order_id: ClientOrderId, txid: str) -> None:
        await asyncio.sleep(1.0)
        if self._orders.is_deferred(client_order_id):
            self.stats["deferred_resolved_rest"] += 1
            await self._recover_order(client_order_id, txid)

    # ------------------------------------------------------------------ submit

    def _unsupported(self, order: Order) -> str | None:
        if order.order_type not in ORDER_TYPE_TO_KRAKEN:
            return f"order type {order.order_type.name} is not supported on Kraken Spot"
        if order.time_in_force not in TIF_TO_KRAKEN:
            return f"time in force {order.time_in_force.name} is not supported on Kraken Spot"
        if order.is_quote_quantity:
            return "quote-quantity orders are not supported by this adapter"
        if order.is_post_only and order.order_type != OrderType.LIMIT:
            return "post-only applies to limit orders only on Kraken"
        if _display_qty(order) is not None and order.order_type != OrderType.LIMIT:
            return "display quantity (iceberg) applies to limit orders only on Kraken"
        return None

    def _ws_params(self, order: Order, symbol: str, cl_ord_id: str) -> dict[str, Any]:
        display = _display_qty(order)
        params: dict[str, Any] = {
            "order_type": "iceberg"
            if display is not None
            else ORDER_TYPE_TO_KRAKEN[order.order_type],
            "side": "buy" if order.side == OrderSide.BUY else "sell",
            "order_qty": _num(order.quantity),
            "symbol": symbol,
            "cl_ord_id": cl_ord_id,
        }
        if order.order_type != OrderType.MARKET:
            params["time_in_force"] = TIF_TO_KRAKEN[order.time_in_force]
        if order.order_type in _LIMIT_TYPES:
            params["limit_price"] = _num(order.price)
        if order.order_type in _STOP_TYPES:
            params["triggers"] = {
                "reference": _trigger_reference(order),
                "price": _num(order.trigger_price),
                "price_type": "static",
            }
        if order.time_in_force == TimeInForce.GTD and _expire_ns(order):
            params["expire_time"] = ns_to_rfc3339(_expire_ns(order))
        if order.is_post_only:
            params["post_only"] = True
        if order.is_reduce_only:
            params["reduce_only"] = True
        if display is not None:
            params["display_qty"] = _num(display)
        return params

    def _rest_params(self, order: Order, pair: str, cl_ord_id: str) -> dict[str, Any]:
        display = _display_qty(order)
        params: dict[str, Any] = {
            "pair": pair,
            "type": "buy" if order.side == OrderSide.BUY else "sell",
            "ordertype": ORDER_TYPE_TO_KRAKEN[order.order_type],
            "volume": str(order.quantity),
            "cl_ord_id": cl_ord_id,
        }
        if order.order_type == OrderType.LIMIT:
            params["price"] = str(order.price)
        elif order.order_type in _STOP_TYPES:
            params["price"] = str(order.trigger_price)
            params["trigger"] = _trigger_reference(order)
            if order.order_type in _LIMIT_TYPES:
                params["price2"] = str(order.price)
        if order.order_type != OrderType.MARKET:
            params["timeinforce"] = TIF_TO_KRAKEN[order.time_in_force].upper()
        if order.time_in_force == TimeInForce.GTD and _expire_ns(order):
            params["expiretm"] = str(_expire_ns(order) // 1_000_000_000)
        if order.is_post_only:
            params["oflags"] = "post"
        if order.is_reduce_only:
            params["reduce_only"] = True
        if display is not None:
            params["displayvol"] = str(display)
        return params

    def submit_order(self, command: SubmitOrder) -> None:
        """
        As ``LiveExecutionClient.submit_order``, but the task starts eagerly: the coroutine runs
        now, up to its first real wait, so the order leaves in this turn of the event loop
        instead of the next one (one hop less between a tick and its order). The order is
        logged once its frame is written (formatting it took time before the write).
        """
        task = asyncio.Task(
            self._submit_order(command),
            loop=self._loop,
            name=f"submit_order: {command.order.client_order_id}",
            eager_start=True,
        )
        # nautilus's create_task does these two (its task set and error logging; both internal):
        # it has no eager variant.
        task.add_done_callback(
            functools.partial(self._on_task_completed, None, None, LogColor.NORMAL)
        )
        self._tasks.add(task)
        self._log.info(f"Submit {command.order}", LogColor.BLUE)

    @_venue_command
    async def _submit_order(self, command: SubmitOrder) -> None:
        order = command.order
        if order.is_closed:
            return
        self.generate_order_submitted(
            order.strategy_id, order.instrument_id, order.client_order_id,
            self._clock.timestamp_ns(),
        )  # fmt: skip
        reason = self._unsupported(order)
        if reason is not None:
            self._reject(order, reason)
            return
        try:
            pair = self._provider.pair_key(order.instrument_id)
            symbol = self._provider.ws_symbol(order.instrument_id)
        except KrakenError as e:
            self._reject(order, str(e))
            return
        cl = self._orders.cl_ord_id(order.client_order_id)
        await self._http.limiter.acquire_trading(pair, 1.0)
        try:
            if self._config.use_ws_trading and self._ws.is_connected:
                try:
                    response = await self._ws.request(
                        "add_order", self._ws_params(order, symbol, cl)
                    )
                except KrakenWsNotConnected:
                    response = None  # nothing was sent: fall back to REST
                if response is not None:
                    self.stats["orders_ws"] += 1
                    self._on_add_order_response(order, response, pair)
                    return
            self.stats["orders_rest"] += 1
            result = await self._api.add_order(self._rest_params(order, pair, cl))
            if result.txid:
                self._accept(order, VenueOrderId(result.txid[0]), self._clock.timestamp_ns())
        except KrakenAmbiguousError as e:
            self.stats["lost_acks"] += 1
            self._log.warning(f"{order.client_order_id!r}: {e}; looking it up at the venue")
            self.create_task(self._recover_lost_ack(order.client_order_id, cl))
        except KrakenError as e:
            if isinstance(e, KrakenRateLimitError):
                self._http.limiter.trading(pair).saturate()
            self._reject(order, str(e))

    def _on_add_order_response(self, order: Order, response: MethodResponse, pair: str) -> None:
        if response.success:
            ack = self._dec_ack.decode(response.result)
            self._accept(order, VenueOrderId(ack.order_id), self._clock.timestamp_ns())
            return
        error = error_from_strings([response.error or "EGeneral:Unknown error"], "add_order")
        if isinstance(error, KrakenRateLimitError):
            self._http.limiter.trading(pair).saturate()
        self._reject(order, str(error))

    def _reject(self, order: Order, reason: str) -> None:
        track = self._orders.track(order)
        if track.accepted or track.closed:
            return
        track.closed = True
        self.stats["rejected"] += 1
        self.generate_order_rejected(
            order.strategy_id,
            order.instrument_id,
            order.client_order_id,
            reason,
            self._clock.timestamp_ns(),
        )

    async def _recover_lost_ack(self, client_order_id: ClientOrderId, cl_ord_id: str) -> None:
        """The venue may hold the order: find it by cl_ord_id (never resend)."""
        for delay in self._config.ack_recovery_delays_secs:
            await asyncio.sleep(delay)
            order = self._cache.order(client_order_id)
            if order is None or not self._orders.is_pending(client_order_id):
                self.stats["lost_acks_resolved_by_stream"] += 1
                return  # the executions channel already told us
            try:
                found = await self._find_venue_order(cl_ord_id)
            except KrakenError as e:
                self._log.warning(f"Looking up {client_order_id!r} failed: {e}")
                continue
            if found is not None:
                txid, info = found
                self.stats["lost_acks_recovered"] += 1
                await self._apply_venue_order(order, txid, info)
                return
        order = self._cache.order(client_order_id)
        if order is not None and self._orders.is_pending(client_order_id):
            self._reject(order, "acknowledgement lost and the order is not at the venue")

    async def _find_venue_order(self, cl_ord_id: str) -> tuple[str, OrderInfo] | None:
        open_orders = await self._api.open_orders(cl_ord_id=cl_ord_id)
        for txid, info in open_orders.items():
            if info.cl_ord_id == cl_ord_id:
                return txid, info
        closed = await self._api.closed_orders(cl_ord_id=cl_ord_id)
        for txid, info in closed.closed.items():
            if info.cl_ord_id == cl_ord_id:
                return txid, info
        return None

    async def _apply_venue_order(self, order: Order, txid: str, info: OrderInfo) -> None:
        """Bring a nautilus order in line with the venue's record of it (fills first)."""
        venue_order_id = VenueOrderId(txid)
        ts = secs_to_ns(info.opentm)
        self._accept(order, venue_order_id, ts)
        if Decimal(info.vol_exec) > self._orders.track(order).filled:
            trade_ids = info.trades or []
            if not trade_ids:
                refreshed = await self._api.query_orders([txid], trades=True)
                trade_ids = refreshed.get(txid, info).trades or []
            if trade_ids:
                trades = await self._api.query_trades(trade_ids)
                for trade_id, trade in sorted(trades.items(), key=lambda kv: kv[1].time):
                    current = self._cache.order(order.client_order_id) or order
                    if self._orders.trade_seen(trade_id, current):
                        continue
                    self._apply_rest_fill(current, venue_order_id, trade_id, trade, info.oflags)
        if info.status in ("canceled", "expired") and not self._orders.track(order).closed:
            data = ExecData(
                order_id=txid,
                exec_type="expired" if info.status == "expired" else "canceled",
                cum_qty=float(info.vol_exec),
            )
            self._orders.drop_deferred(order.client_order_id)
            self._terminal(
                order, venue_order_id, data, secs_to_ns(info.closetm or info.opentm), True
            )

    def _apply_rest_fill(
        self,
        order: Order,
        venue_order_id: VenueOrderId,
        trade_id: str,
        trade: TradeInfo,
        oflags: str,
    ) -> None:
        instrument = self._instrument(order.instrument_id)
        self.stats["fills_recovered_rest"] += 1
        self._apply_fill(
            order,
            venue_order_id,
            trade_id,
            instrument.make_qty(Decimal(trade.vol)),
            instrument.make_price(Decimal(trade.price)),
            Money(Decimal(trade.fee), fee_currency(instrument, oflags)),
            liquidity_side(trade.maker),
            secs_to_ns(trade.time),
        )

    async def _recover_order(self, client_order_id: ClientOrderId, txid: str) -> None:
        """Fetch one order from the venue and apply what we missed."""
        order = self._cache.order(client_order_id)
        if order is None:
            return
        try:
            infos = await self._api.query_orders([txid], trades=True)
        except KrakenError as e:
            self._log.warning(f"Recovering {client_order_id!r} failed: {e}")
            return
        info = infos.get(txid)
        if info is not None:
            await self._apply_venue_order(order, txid, info)

    async def reconcile_open_orders(self) -> None:
        """Compare our open orders with the venue's and recover whatever was missed."""
        async with self._reconcile_lock:
            try:
                venue_open = await self._api.open_orders(trades=True)
            except KrakenError as e:
                self._log.warning(f"Open-order check failed: {e}")
                return
            self.stats["open_order_checks"] += 1
            gone: dict[str, Order] = {}  # open here, not at the venue: closed meanwhile
            for order in self._cache.orders_open(venue=KRAKEN_VENUE):
                track = self._orders.track(order)
                if order.venue_order_id is None or not track.accepted or track.closed:
                    continue
                txid = order.venue_order_id.value
                info = venue_open.get(txid)
                if info is None:
                    gone[txid] = order
                elif Decimal(info.vol_exec) > track.filled:
                    await self._apply_venue_order(order, txid, info)
            txids = list(gone)
            for start in range(0, len(txids), 50):  # QueryOrders takes up to 50 txids
                try:
                    infos = await self._api.query_orders(txids[start : start + 50], trades=True)
                except KrakenError as e:
                    self._log.warning(f"Recovering closed orders failed: {e}")
                    return
                for txid, info in infos.items():
                    if txid in gone:
                        current = self._cache.order(gone[txid].client_order_id) or gone[txid]
                        await self._apply_venue_order(current, txid, info)

    async def _reconcile_loop(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self.reconcile_open_orders()

    @_venue_command
    async def _submit_order_list(self, command: SubmitOrderList) -> None:
        for order in command.order_list.orders:
            await self._submit_order(
                SubmitOrder(
                    trader_id=command.trader_id,
                    strategy_id=command.strategy_id,
                    order=order,
                    command_id=UUID4(),
                    ts_init=command.ts_init,
                    position_id=command.position_id,
                    client_id=command.client_id,
                )
            )

    # ------------------------------------------------------------------ modify and cancel

    @_venue_command
    async def _modify_order(self, command: ModifyOrder) -> None:
        order = self._cache.order(command.client_order_id)
        if order is None or order.is_closed or order.venue_order_id is None:
            self.generate_order_modify_rejected(
                command.strategy_id, command.instrument_id, command.client_order_id,
                command.venue_order_id, "order not open at the venue", self._clock.timestamp_ns(),
            )  # fmt: skip
            return
        txid = order.venue_order_id.value
        pair = self._provider.pair_key(order.instrument_id)
        await self._http.limiter.acquire_trading(
            pair, amend_cost(self._orders.age(order.client_order_id))
        )
        ws_params: dict[str, Any] = {"order_id": txid}
        rest_params: dict[str, Any] = {"txid": txid}
        if command.quantity is not None:
            ws_params["order_qty"] = _num(command.quantity)
            rest_params["order_qty"] = str(command.quantity)
        if command.price is not None:
            ws_params["limit_price"] = _num(command.price)
            rest_params["limit_price"] = str(command.price)
        if command.trigger_price is not None:
            ws_params["trigger_price"] = _num(command.trigger_price)
            rest_params["trigger_price"] = str(command.trigger_price)
        error: str | None = None
        try:
            response = None
            if self._config.use_ws_trading and self._ws.is_connected:
                try:
                    response = await self._ws.request("amend_order", ws_params)
                except KrakenWsNotConnected:
                    response = None
            if response is not None:
                if not response.success:
                    error = response.error or "amend failed"
            else:
                await self._api.amend_order(rest_params)
        except KrakenAmbiguousError:
            self.create_task(self._recover_order(order.client_order_id, txid))
            return
        except KrakenError as e:
            error = str(e)
        if error is not None:
            self.generate_order_modify_rejected(
                order.strategy_id, order.instrument_id, order.client_order_id,
                order.venue_order_id, error, self._clock.timestamp_ns(),
            )  # fmt: skip
        # Success: the executions channel's "amended" event produces OrderUpdated.

    @_venue_command
    async def _cancel_order(self, command: CancelOrder) -> None:
        order = self._cache.order(command.client_order_id)
        if order is None or order.is_closed:
            return
        await self._cancel_orders([order])

    async def _cancel_orders(self, orders: list[Order]) -> None:
        by_txid: dict[str, Order] = {}
        for order in orders:
            if order.venue_order_id is None:
                # Not acknowledged yet: cancel by cl_ord_id.
                await self._cancel_one(order, None)
                continue
            by_txid[order.venue_order_id.value] = order
        txids = list(by_txid)
        if len(txids) == 1:
            await self._cancel_one(by_txid[txids[0]], txids[0])
            return
        for start in range(0, len(txids), 50):
            chunk = txids[start : start + 50]
            if len(chunk) == 1:
                await self._cancel_one(by_txid[chunk[0]], chunk[0])
                continue
            for txid in chunk:
                order = by_txid[txid]
                await self._http.limiter.acquire_trading(
                    self._provider.pair_key(order.instrument_id),
                    cancel_cost(self._orders.age(order.client_order_id)),
                )
            try:
                if not (self._config.use_ws_trading and self._ws.is_connected):
                    raise KrakenWsNotConnected("not connected")
                response = await self._ws.request("batch_cancel", {"orders": chunk})
                if not response.success:
                    for txid in chunk:
                        order = by_txid[txid]
                        self._cancel_rejected(order, response.error or "batch cancel failed")
            except KrakenWsNotConnected:
                for txid in chunk:
                    await self._cancel_one(by_txid[txid], txid, charged=True)
            except KrakenAmbiguousError:
                self.create_task(self.reconcile_open_orders())

    async def _cancel_one(self, order: Order, txid: str | None, charged: bool = False) -> None:
        pair = self._provider.pair_key(order.instrument_id)
        if not charged:
            await self._http.limiter.acquire_trading(
                pair, cancel_cost(self._orders.age(order.client_order_id))
            )
        cl = self._orders.cl_ord_id(order.client_order_id)
        try:
            if self._config.use_ws_trading and self._ws.is_connected:
                params = {"order_id": [txid]} if txid else {"cl_ord_id": [cl]}
                try:
                    response = await self._ws.request("cancel_order", params)
                except KrakenWsNotConnected:
                    response = None
                if response is not None:
                    if not response.success:
                        self._cancel_rejected(order, response.error or "cancel failed")
                    return
            await self._api.cancel_order(txid or cl)
        except KrakenAmbiguousError:
            if txid:
                self.create_task(self._recover_order(order.client_order_id, txid))
        except KrakenError as e:
            self._cancel_rejected(order, str(e))

    def _cancel_rejected(self, order: Order, reason: str) -> None:
        self.generate_order_cancel_rejected(
            order.strategy_id, order.instrument_id, order.client_order_id,
            order.venue_order_id, reason, self._clock.timestamp_ns(),
        )  # fmt: skip
        if order.venue_order_id is not None and "Unknown order" in reason:
            # Probably closed meanwhile: fetch the venue's record.
            self.create_task(self._recover_order(order.client_order_id, order.venue_order_id.value))

    @_venue_command
    async def _cancel_all_orders(self, command: CancelAllOrders) -> None:
        orders = [
            o
            for o in self._cache.orders_open(
                venue=KRAKEN_VENUE, instrument_id=command.instrument_id
            )
            if command.order_side in (OrderSide.NO_ORDER_SIDE, o.side)
        ]
        if orders:
            await self._cancel_orders(orders)

    @_venue_command
    async def _batch_cancel_orders(self, command: BatchCancelOrders) -> None:
        orders = []
        for cancel in command.cancels:
            order = self._cache.order(cancel.client_order_id)
            if order is not None and not order.is_closed:
                orders.append(order)
        if orders:
            await self._cancel_orders(orders)

    # ------------------------------------------------------------------ reports

    def _order_report(self, txid: str, info: OrderInfo) -> OrderStatusReport | None:
        instrument_id = self._provider.instrument_id_for(info.descr.pair)
        if instrument_id is None:
            return None
        instrument = self._instrument(instrument_id)
        self._oflags[txid] = info.oflags
        cl_ord_id = info.cl_ord_id
        return info.parse_to_order_status_report(
            account_id=self.account_id,
            instrument=instrument,
            venue_order_id=VenueOrderId(txid),
            client_order_id=self._orders.client_order_id_for(cl_ord_id) if cl_ord_id else None,
            report_id=UUID4(),
            ts_init=self._clock.timestamp_ns(),
        )

    async def generate_order_status_report(
        self, command: GenerateOrderStatusReport
    ) -> OrderStatusReport | None:
        try:
            if command.venue_order_id is not None:
                txid = command.venue_order_id.value
                infos = await self._api.query_orders([txid], trades=True)
                info = infos.get(txid)
                return self._order_report(txid, info) if info is not None else None
            if command.client_order_id is not None:
                found = await self._find_venue_order(
                    self._orders.cl_ord_id(command.client_order_id)
                )
                return self._order_report(*found) if found is not None else None
        except KrakenError as e:
            self._log.warning(f"Order status report failed: {e}")
        return None

    async def generate_order_status_reports(
        self, command: GenerateOrderStatusReports
    ) -> list[OrderStatusReport]:
        start = command.start.timestamp() if command.start is not None else None
        orders = dict(await self._api.open_orders(trades=True))
        if not command.open_only:
            orders.update(
                await self._api.closed_orders_all(
                    start=start, max_pages=self._config.max_history_pages
                )
            )
        reports = []
        end = command.end.timestamp() if command.end is not None else None
        for txid, info in orders.items():
            if end is not None and info.opentm > end:
                continue
            report = self._order_report(txid, info)
            if report is None:
                continue
            if command.instrument_id is not None and report.instrument_id != command.instrument_id:
                continue
            reports.append(report)
        self._log.info(f"Generated {len(reports)} order status report(s)")
        return reports

    def _fill_report(self, trade_id: str, trade: TradeInfo) -> FillReport | None:
        instrument_id = self._provider.instrument_id_for(trade.pair)
        if instrument_id is None:
            return None
        client_order_id = self._cache.client_order_id(VenueOrderId(trade.ordertxid))
        return trade.parse_to_fill_report(
            account_id=self.account_id,
            instrument=self._instrument(instrument_id),
            trade_id=TradeId(trade_id),
            client_order_id=client_order_id,
            oflags=self._oflags.get(trade.ordertxid, ""),
            report_id=UUID4(),
            ts_event=self._fill_time(client_order_id, trade_id, trade.time),
            ts_init=self._clock.timestamp_ns(),
        )

    def _fill_time(self, client_order_id: ClientOrderId | None, trade_id: str, time: float) -> int:
        """
        A REST trade's time in nanoseconds, or the recorded fill's when the node already has
        this trade: REST gives 0.1 ms, the executions stream microseconds, for the same instant.
        """
        ts = secs_to_ns(time)
        order = self._cache.order(client_order_id) if client_order_id is not None else None
        if order is None:
            return ts
        for event in order.events:
            if (
                isinstance(event, OrderFilled)
                and event.trade_id.value == trade_id
                and abs(event.ts_event - ts) <= _REST_TIME_RESOLUTION_NS
            ):
                return event.ts_event
        return ts

    async def _trades_since(self, start: datetime | None) -> dict[str, TradeInfo]:
        """The account's trades since ``start`` (shared by fill and position reports)."""
        since = start.timestamp() if start is not None else None
        cached = self._trades_cache.get(since)
        if cached is not None and time.monotonic() - cached[0] < 5.0:
            return await cached[1]
        future = asyncio.ensure_future(
            self._api.trades_history_all(start=since, max_pages=self._config.max_history_pages)
        )
        self._trades_cache[since] = (time.monotonic(), future)
        try:
            return await future
        except Exception:
            self._trades_cache.pop(since, None)
            raise

    async def generate_fill_reports(self, command: GenerateFillReports) -> list[FillReport]:
        if command.venue_order_id is not None:
            txid = command.venue_order_id.value
            infos = await self._api.query_orders([txid], trades=True)
            info = infos.get(txid)
            trade_ids = (info.trades or []) if info else []
            if info is not None:
                self._oflags[txid] = info.oflags
            trades = await self._api.query_trades(trade_ids) if trade_ids else {}
        else:
            trades = await self._trades_since(command.start)
        end = command.end.timestamp() if command.end is not None else None
        reports = []
        for trade_id, trade in sorted(trades.items(), key=lambda kv: kv[1].time):
            if end is not None and trade.time > end:
                continue
            report = self._fill_report(trade_id, trade)
            if report is None:
                continue
            if command.instrument_id is not None and report.instrument_id != command.instrument_id:
                continue
            reports.append(report)
        self._log.info(f"Generated {len(reports)} fill report(s)")
        return reports

    async def generate_position_status_reports(
        self, command: GeneratePositionStatusReports
    ) -> list[PositionStatusReport]:
        source = self._config.spot_position_source
        if source == "none":
            return []
        now = self._clock.timestamp_ns()
        net: dict[InstrumentId, Decimal] = {}
        if source == "balances":
            balances = await self._api.balance_ex()
            totals: dict[str, Decimal] = {}
            for asset, entry in balances.items():
                code = normalize_asset(asset)
                totals[code] = totals.get(code, _ZERO) + Decimal(entry.balance)
            for instrument in self._provider.list_all():
                net[instrument.id] = totals.get(instrument.base_currency.code, _ZERO)
        else:
            trades = await self._trades_since(command.start)
            for trade in trades.values():
                instrument_id = self._provider.instrument_id_for(trade.pair)
                if instrument_id is None:
                    continue
                signed = Decimal(trade.vol) if trade.type == "buy" else -Decimal(trade.vol)
                net[instrument_id] = net.get(instrument_id, _ZERO) + signed
        reports = []
        for instrument_id, quantity in net.items():
            if command.instrument_id is not None and instrument_id != command.instrument_id:
                continue
            instrument = self._instrument(instrument_id)
            qty = instrument.make_qty(abs(quantity))
            if qty.as_decimal() == 0:
                side = PositionSide.FLAT
            else:
                side = PositionSide.LONG if quantity > 0 else PositionSide.SHORT
            reports.append(
                PositionStatusReport(
                    account_id=self.account_id,
                    instrument_id=instrument_id,
                    position_side=side,
                    quantity=qty,
                    report_id=UUID4(),
                    ts_last=now,
                    ts_init=now,
                )
            )
        return reports

    # ------------------------------------------------------------------ introspection

    def adapter_stats(self) -> dict[str, int]:
        """Counters of what happened (orders, fills, duplicates, recoveries...)."""
        return {**self.stats, **{f"ws_{k}": v for k, v in self._ws.stats.items()}}


def _trigger_reference(order: Order) -> str:
    trigger_type = getattr(order, "trigger_type", TriggerType.DEFAULT)
    return "index" if trigger_type in (TriggerType.INDEX_PRICE, TriggerType.MARK_PRICE) else "last"


def _display_qty(order: Order):
    display = getattr(order, "display_qty", None)
    return display if display is not None and display != order.quantity else None


def _expire_ns(order: Order) -> int:
    return getattr(order, "expire_time_ns", 0) or 0
