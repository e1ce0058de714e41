"""
The base every Seraphim strategy builds on: a nautilus ``Strategy`` with managed indicators,
warm-up, pluggable sizing, a target-position helper, runtime control and saved state.

A strategy author writes::

    class MyConfig(SeraphimStrategyConfig, frozen=True):
        period: PositiveInt = 20

    @register_strategy("my_strategy", MyConfig)
    class MyStrategy(SeraphimStrategy):
        '''One line for `seraphim strategies list`. Then the rules.'''

        def setup(self):                      # build indicators from self.params
            self.sma = self.add_indicator(SimpleMovingAverage(self.params.period))

        def warmup_bar_count(self):
            return self.params.period

        def evaluate(self, bar):              # called on each bar once not paused
            if self.sma.initialized:
                signal = 1.0 if bar.close.as_double() > self.sma.value else 0.0
                self.set_target_position(self.target_quantity(signal, bar.close.as_double()))

Strategies express *what position they want*; the base turns that into orders for the
difference, within what the risk layer allows. Nothing here knows whether it runs in a
backtest or a live node.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import msgspec
from nautilus_trader.config import PositiveInt
from nautilus_trader.config import StrategyConfig
from nautilus_trader.indicators import AverageTrueRange
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.events import OrderInitialized
from nautilus_trader.model.identifiers import ExecAlgorithmId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.orders import Order
from nautilus_trader.model.position import Position
from nautilus_trader.trading.strategy import Strategy

from seraphim.allocation.messages import ALLOCATION_CAPITAL_ENDPOINT
from seraphim.allocation.messages import CapitalQuery
from seraphim.portfolio import account_equity
from seraphim.risk.messages import RISK_HEADROOM_ENDPOINT
from seraphim.risk.messages import HeadroomQuery
from seraphim.risk.sizing import AtrVolatilitySizer
from seraphim.risk.sizing import EquityFractionSizer
from seraphim.risk.sizing import FixedQuantitySizer
from seraphim.risk.sizing import KellySizer
from seraphim.risk.sizing import PositionSizer
from seraphim.strategies.control import CONTROL_ALL
from seraphim.strategies.control import CONTROL_EVENT_TOPIC
from seraphim.strategies.control import StrategyControl
from seraphim.strategies.control import StrategyControlEvent
from seraphim.strategies.control import control_topic
from seraphim.strategies.working import UnfinishedOrders
from seraphim.strategies.working import is_protective

# Parameters that define *what* a strategy trades; they cannot change while it runs.
_FIXED_PARAMS = {"instrument_id", "bar_type", "strategy_id", "order_id_tag"}


class SeraphimStrategyConfig(StrategyConfig, frozen=True):
    """
    Parameters shared by Seraphim strategies.

    Parameters
    ----------
    instrument_id : InstrumentId
        The traded instrument.
    bar_type : BarType
        The bars that drive the strategy.
    trade_size : Decimal, optional
        Sizing: a fixed position quantity (e.g. 0.5 BTC). The default when no sizing is given: 1.
    equity_fraction : float, optional
        Sizing: a position worth this fraction of account equity.
    atr_risk : float, optional
        Sizing: volatility targeting, a position whose one-ATR move is this fraction of equity.
    atr_period : int, default 14
        Bars in the ATR (volatility targeting).
    kelly_scale : float, optional
        Sizing: this fraction of the Kelly criterion from the strategy's recent closed trades.
    kelly_cap : float, default 0.25
        Kelly sizing: the largest fraction of equity.
    kelly_window : int, default 50
        Kelly sizing: closed trades in the statistics.
    kelly_min_trades : int, default 10
        Kelly sizing: trades needed before Kelly applies (2 % of equity until then).
    warmup_bars : int, optional
        Historical bars to request on start (default: what the strategy's indicators need).
    close_positions_on_stop : bool, default True
        Flatten on stop.
    rebalance_band : float, default 0.05
        Leave a position alone while it is on the target's side and within this fraction of
        the target (a sizer whose size moves with equity or volatility does not churn).
    clip_to_risk : bool, default True
        Ask the risk layer how much may still be traded and trade at most that (scaling every
        leg of a multi-leg target alike) instead of sending orders it would deny.
    exec_algorithm_id : str, optional
        Work each target change through this execution algorithm (TWAP, VWAP, POV, ICEBERG;
        see docs/EXECUTION.md) instead of sending it as one market order.
    exec_algorithm_params : dict, optional
        The algorithm's parameters, e.g. ``{duration_secs: 600, slices: 10}``.

    """

    instrument_id: InstrumentId
    bar_type: BarType
    trade_size: Decimal | None = None
    equity_fraction: float | None = None
    atr_risk: float | None = None
    atr_period: PositiveInt = 14
    kelly_scale: float | None = None
    kelly_cap: float = 0.25
    kelly_window: PositiveInt = 50
    kelly_min_trades: PositiveInt = 10
    warmup_bars: PositiveInt | None = None
    close_positions_on_stop: bool = True
    rebalance_band: float = 0.05
    clip_to_risk: bool = True
    exec_algorithm_id: str | None = None
    exec_algorithm_params: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.trade_size is not None and self.trade_size <= 0:
            raise ValueError(f"trade_size must be positive, was {self.trade_size}")

    def needs_margin(self) -> bool:
        """True when the parameters ask for short positions, which a spot cash account refuses."""
        return False


class SeraphimStrategy(Strategy):
    """Base class: subclasses implement ``setup`` and ``evaluate``."""

    # The rules' position state (-1 short, 0 flat, +1 long); kept across parameter changes.
    state: int = 0
    # Attributes saved with nautilus's ``on_save`` and restored by ``on_load`` (JSON values).
    persisted: tuple[str, ...] = ("state",)

    def __init__(self, config: SeraphimStrategyConfig) -> None:
        super().__init__(config)
        sizings = [
            name
            for name in ("trade_size", "equity_fraction", "atr_risk", "kelly_scale")
            if getattr(config, name) is not None
        ]
        if len(sizings) > 1:
            raise ValueError(f"give one sizing parameter, not {' and '.join(sizings)}")
        self.params = config
        self._band = _decimal(config.rebalance_band)
        self.validate_params(config)
        self.paused = False
        self.instrument: Instrument | None = None
        self.control_events: list[StrategyControlEvent] = []
        self._overrides: dict = {}
        self._series: dict[str, _Series] = {}  # by str(bar type): see _update_indicators
        self._has_risk_gate = False
        self._has_allocator = False
        self._unfinished = UnfinishedOrders()
        self._held_key: tuple[float, int] | None = None
        self._held_decimal = Decimal(0)
        self.atr: AverageTrueRange | None = None
        self.sizer: PositionSizer = self._make_sizer(config)
        self._setup_indicators()

    # -- hooks for subclasses --------------------------------------------------------------

    def setup(self) -> None:
        """Build indicators from ``self.params`` (called at start and on parameter changes)."""

    def evaluate(self, bar: Bar) -> None:
        """The strategy's rules, on each bar of its bar types while not paused."""

    def validate_params(self, params: SeraphimStrategyConfig) -> None:
        """Raise ``ValueError`` for parameters that cannot work together."""

    def warmup_bar_count(self) -> int:
        """How many past bars the strategy needs before it can trade (default 0)."""
        return 0

    def bar_types(self) -> list[BarType]:
        """The bar series the strategy subscribes to (default: its ``bar_type``)."""
        return [self.params.bar_type]

    def instrument_ids(self) -> list[InstrumentId]:
        """The instruments it trades (default: its ``instrument_id``)."""
        return [self.params.instrument_id]

    def save_state(self) -> dict[str, bytes]:
        """Extra state to persist (through nautilus's ``on_save``)."""
        return {}

    def load_state(self, state: dict[str, bytes]) -> None:
        """Restore what ``save_state`` returned."""

    # -- indicators -----------------------------------------------------------------------

    def add_indicator(self, indicator, bar_type: BarType | None = None):
        """Update ``indicator`` (anything with ``handle_bar``) with every bar of ``bar_type``."""
        self._series_of(bar_type or self.params.bar_type).indicators.append(indicator)
        return indicator

    def _series_of(self, bar_type: BarType) -> _Series:
        key = str(bar_type)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _Series(bar_type)
        return series

    def _setup_indicators(self) -> None:
        self._series = {}
        if self.params.atr_risk is not None:
            self.atr = self.add_indicator(AverageTrueRange(self.params.atr_period))
            if isinstance(self.sizer, AtrVolatilitySizer):
                self.sizer.atr = self.atr
        self.setup()

    def _update_indicators(self, bar: Bar) -> None:
        # Each bar once, in time order: a warm-up response may overlap the first live bar.
        # Series are keyed by the bar type's string: a BarType hashes and compares through its
        # string, so one conversion per bar instead of one per lookup.
        series = self._series_of(bar.bar_type)
        ts = bar.ts_event
        if ts <= series.last_ts:
            return
        series.last_ts = ts
        for indicator in series.indicators:
            indicator.handle_bar(bar)

    def _replay_cached_bars(self) -> int:
        """Re-warm freshly built indicators from the bars the cache still holds, in time order."""
        bars = [
            (bar.ts_event, order, bar)
            for order, series in enumerate(self._series.values())
            for bar in self.cache.bars(series.bar_type)
        ]
        bars.sort(key=lambda row: (row[0], row[1]))
        for _, _, bar in bars:
            self._update_indicators(bar)
        return len(bars)

    # -- sizing ---------------------------------------------------------------------------

    def _make_sizer(self, config: SeraphimStrategyConfig) -> PositionSizer:
        if config.equity_fraction is not None:
            return EquityFractionSizer(config.equity_fraction)
        if config.atr_risk is not None:
            return AtrVolatilitySizer(config.atr_risk, self.atr)
        if config.kelly_scale is not None:
            return KellySizer(
                scale=config.kelly_scale,
                cap=config.kelly_cap,
                window=config.kelly_window,
                min_trades=config.kelly_min_trades,
            )
        return FixedQuantitySizer(Decimal(1) if config.trade_size is None else config.trade_size)

    # -- lifecycle ------------------------------------------------------------------------

    def on_start(self) -> None:
        self.instrument = self.cache.instrument(self.params.instrument_id)
        for instrument_id in self.instrument_ids():
            if self.cache.instrument(instrument_id) is None:
                self.log.error(f"Could not find instrument for {instrument_id}")
                self.stop()
                return
        self._has_risk_gate = RISK_HEADROOM_ENDPOINT in self.msgbus.endpoints()
        self._has_allocator = ALLOCATION_CAPITAL_ENDPOINT in self.msgbus.endpoints()
        for order in self.cache.orders(strategy_id=self.id):  # e.g. restored after a restart
            self._unfinished.add(order)
        self.msgbus.subscribe(control_topic(self.id.value), self._on_control)
        self.msgbus.subscribe(CONTROL_ALL, self._on_control)
        for bar_type in self.bar_types():
            self.request_warmup(bar_type)
            self.subscribe_bars(bar_type)

    def request_warmup(self, bar_type: BarType) -> None:
        """Request enough history that a live strategy does not wait for N new bars."""
        count = self.params.warmup_bars or self.warmup_bar_count()
        if self.atr is not None:
            count = max(count, self.params.atr_period)
        if count <= 0:
            return
        lookback = bar_type.spec.timedelta * (count + 1)
        self.request_bars(bar_type, start=self.clock.utc_now() - lookback)

    def on_historical_data(self, data) -> None:
        if isinstance(data, Bar):
            self._update_indicators(data)

    def on_bar(self, bar: Bar) -> None:
        self._update_indicators(bar)
        if not self.paused:
            self.evaluate(bar)

    def on_stop(self) -> None:
        self.msgbus.unsubscribe(control_topic(self.id.value), self._on_control)
        self.msgbus.unsubscribe(CONTROL_ALL, self._on_control)
        for instrument_id in self.instrument_ids():
            if self.params.close_positions_on_stop:
                self._close_on_stop(instrument_id)
            else:
                self.cancel_all_orders(instrument_id)

    def _close_on_stop(self, instrument_id: InstrumentId) -> None:
        """
        Cancel the orders that rest (limits, protection) and close what the position and the
        market orders still on their way will hold together: a closing order already sent
        (the venue may have it, unanswered) is never sent a second time.
        """
        coming = Decimal(0)
        orders = {o.client_order_id: o for o in self._unfinished.of(instrument_id)}
        for order in self.cache.orders_open(instrument_id=instrument_id, strategy_id=self.id):
            orders.setdefault(order.client_order_id, order)  # e.g. adopted at reconciliation
        for order in orders.values():
            if order.exec_algorithm_id and order.is_primary and order.is_active_local:
                self.cancel_order(order)  # its algorithm cancels the children it still works
            elif order.order_type == OrderType.MARKET and not is_protective(order):
                leaves = order.leaves_qty.as_decimal()
                coming += leaves if order.side == OrderSide.BUY else -leaves
            elif not (order.is_closed or order.is_pending_cancel):
                self.cancel_order(order)
        held = self.position_quantity(instrument_id) + coming
        instrument = self.cache.instrument(instrument_id)
        quantity = _round_down(abs(held), instrument.size_increment.as_decimal())
        if quantity <= 0:
            return
        self.submit_order(
            self.order_factory.market(
                instrument_id=instrument_id,
                order_side=OrderSide.SELL if held > 0 else OrderSide.BUY,
                quantity=instrument.make_qty(quantity),
            ),
        )

    def on_reset(self) -> None:
        self._unfinished.clear()
        for name in self.persisted:
            self.__dict__.pop(name, None)  # back to the class default
        self._setup_indicators()

    def on_position_closed(self, event) -> None:
        if isinstance(self.sizer, KellySizer):
            self.sizer.record_trade(event.realized_return)
        # A stop or take-profit closed it (or the target did): the others protect nothing now.
        self.cancel_protective_orders(event.instrument_id)

    # -- runtime control ------------------------------------------------------------------

    def _on_control(self, command: StrategyControl) -> None:
        try:
            if command.action == "pause":
                self.paused = True
                detail = "paused"
                if command.flatten:
                    for instrument_id in self.instrument_ids():
                        self.cancel_all_orders(instrument_id)
                        self.close_all_positions(instrument_id)
                    detail += " and flattened"
            elif command.action == "resume":
                self.paused = False
                detail = "resumed"
            elif command.action == "set_params":
                detail = self.update_params(command.params)
            else:
                raise ValueError(f"unknown action {command.action!r}")
        except (ValueError, TypeError, msgspec.ValidationError) as e:
            self._control_event(command, False, f"rejected: {e}")
            return
        self._control_event(command, True, detail)

    def _control_event(self, command: StrategyControl, accepted: bool, detail: str) -> None:
        event = StrategyControlEvent(
            self.clock.timestamp_ns(), self.id.value, command.action, accepted, detail
        )
        self.control_events.append(event)
        message = f"CONTROL {command.action} by {command.operator}: {detail}"
        if accepted:
            self.log.warning(message)
        else:
            self.log.error(message)
        self.msgbus.publish(CONTROL_EVENT_TOPIC, event)

    def update_params(self, changes: dict) -> str:
        """Change parameters while running; indicators are rebuilt and re-warmed."""
        fields = {f.name for f in msgspec.structs.fields(type(self.config))}
        unknown = sorted(set(changes) - fields)
        if unknown:
            raise ValueError(f"unknown parameter(s) {', '.join(unknown)}")
        fixed = sorted(name for name in changes if name in _FIXED_PARAMS or "instrument" in name)
        if fixed:
            raise ValueError(f"cannot change {', '.join(fixed)} while running")
        current = msgspec.json.decode(self.params.json())
        params = type(self.config).parse(msgspec.json.encode({**current, **changes}))
        self.validate_params(params)
        old = self.params
        self.params = params
        self._band = _decimal(params.rebalance_band)
        self._overrides.update(changes)
        if any(getattr(old, k) != getattr(params, k) for k in _SIZING_PARAMS):
            kelly = self.sizer if isinstance(self.sizer, KellySizer) else None
            self.sizer = self._make_sizer(params)
            if kelly is not None and isinstance(self.sizer, KellySizer):
                self.sizer.returns.extend(kelly.returns)
        self._setup_indicators()
        replayed = self._replay_cached_bars()
        changed = ", ".join(f"{k}: {getattr(old, k)} -> {getattr(params, k)}" for k in changes)
        return f"parameters changed ({changed}); indicators re-warmed on {replayed} bars"

    # -- saved state ----------------------------------------------------------------------

    def on_save(self) -> dict[str, bytes]:
        state = {
            "seraphim.params": json.dumps(self._overrides).encode(),
            "seraphim.paused": b"1" if self.paused else b"0",
        }
        if isinstance(self.sizer, KellySizer):
            state["seraphim.kelly"] = self.sizer.save()
        for name in self.persisted:
            state[f"attr.{name}"] = json.dumps(getattr(self, name)).encode()
        for key, value in self.save_state().items():
            state[f"strategy.{key}"] = value
        return state

    def on_load(self, state: dict[str, bytes]) -> None:
        overrides = json.loads(state.get("seraphim.params", b"{}").decode())
        if overrides:
            self.update_params(overrides)
        self.paused = state.get("seraphim.paused", b"0") == b"1"
        if "seraphim.kelly" in state and isinstance(self.sizer, KellySizer):
            self.sizer.load(state["seraphim.kelly"])
        for name in self.persisted:
            if f"attr.{name}" in state:
                setattr(self, name, json.loads(state[f"attr.{name}"].decode()))
        own = {
            k.removeprefix("strategy."): v for k, v in state.items() if k.startswith("strategy.")
        }
        if own:
            self.load_state(own)

    # -- positions and orders -------------------------------------------------------------

    def equity(self, instrument_id: InstrumentId | None = None) -> float:
        """Account equity at the instrument's venue, in its quote currency, marked to market."""
        instrument = self.cache.instrument(instrument_id or self.params.instrument_id)
        return account_equity(
            self.cache, self.portfolio, instrument.id.venue, instrument.quote_currency
        )

    def sizing_capital(self, instrument_id: InstrumentId | None = None) -> float:
        """
        What the sizer sizes from, in the instrument's quote currency: the strategy's capital
        when a portfolio allocator runs (``seraphim.allocation``) and counts it, else
        ``equity``.
        """
        instrument_id = instrument_id or self.params.instrument_id
        if self._has_allocator:
            query = CapitalQuery(self.id, instrument_id)
            self.msgbus.send(ALLOCATION_CAPITAL_ENDPOINT, query)
            if query.result is not None:
                return query.result
        return self.equity(instrument_id)

    def target_quantity(
        self, signal: float, price: float, instrument_id: InstrumentId | None = None
    ) -> Decimal:
        """A signed target position for a signal in [-1, 1], sized by the strategy's sizer."""
        instrument = self.cache.instrument(instrument_id or self.params.instrument_id)
        sized = getattr(self.sizer, "needs_equity", True)
        equity = self.sizing_capital(instrument.id) if sized else 0.0
        magnitude = self.sizer.size(instrument, price, equity)
        return _decimal(signal) * magnitude

    def position_quantity(self, instrument_id: InstrumentId | None = None) -> Decimal:
        """This strategy's own signed position (other strategies' positions are not counted)."""
        total = Decimal(0)
        for position in self.cache.positions_open(
            instrument_id=instrument_id or self.params.instrument_id, strategy_id=self.id
        ):
            total += self._signed_quantity(position)
        return total

    def _signed_quantity(self, position: Position) -> Decimal:
        """
        ``position.signed_decimal_qty()``: nautilus formats its float quantity into a new
        Decimal on each call; the same non-zero float at the same precision gives the same
        Decimal, so the last one is kept (a held position is asked about on every bar).
        """
        key = (position.signed_qty, position.size_precision)
        if key[0] and key == self._held_key:
            return self._held_decimal
        self._held_decimal = position.signed_decimal_qty()
        self._held_key = key
        return self._held_decimal

    def submit_order(self, order: Order, *args, **kwargs) -> None:
        """nautilus's ``submit_order``; the order counts as unfinished from this moment."""
        self._unfinished.add(order)
        super().submit_order(order, *args, **kwargs)

    def submit_order_list(self, order_list, *args, **kwargs) -> None:
        """nautilus's ``submit_order_list``; its orders count as unfinished from this moment."""
        for order in order_list.orders:
            self._unfinished.add(order)
        super().submit_order_list(order_list, *args, **kwargs)

    def on_order_initialized(self, event: OrderInitialized) -> None:
        """
        An execution algorithm's child counts as unfinished from its creation, as the parent
        it came from shrank by its quantity (subclasses overriding this call ``super()``).
        """
        if event.exec_spawn_id is not None and event.exec_spawn_id != event.client_order_id:
            order = self.cache.order(event.client_order_id)
            if order is not None:
                self._unfinished.add(order)

    def pending_quantity(self, instrument_id: InstrumentId | None = None) -> Decimal:
        """
        Signed quantity still to fill on this strategy's orders working toward its target:
        every order from submission (INITIALIZED, not yet acknowledged, included) until it is
        final, except protective ones (``seraphim.strategies.working.is_protective``).
        """
        total = Decimal(0)
        for order in self._unfinished.of(instrument_id or self.params.instrument_id):
            if is_protective(order):
                continue
            leaves = order.leaves_qty.as_decimal()
            total += leaves if order.side == OrderSide.BUY else -leaves
        return total

    def protective_orders(self, instrument_id: InstrumentId | None = None) -> list[Order]:
        """This strategy's unfinished protective orders (stops, take-profits, ...)."""
        orders = self._unfinished.of(instrument_id or self.params.instrument_id)
        return [order for order in orders if is_protective(order)]

    def protect(
        self,
        stop_loss: float | None = None,
        take_profit: float | None = None,
        instrument_id: InstrumentId | None = None,
    ) -> list[Order]:
        """
        Protect the position this strategy holds and works toward: replace its protective
        orders on the instrument with a reduce-only stop-market at ``stop_loss`` and/or a
        reduce-only limit at ``take_profit``, for the whole quantity. Once the position is
        closed (by either of them, or by the target) the rest are cancelled.
        """
        instrument = self.cache.instrument(instrument_id or self.params.instrument_id)
        self.cancel_protective_orders(instrument.id)
        held = self.position_quantity(instrument.id) + self.pending_quantity(instrument.id)
        quantity = _round_down(abs(held), instrument.size_increment.as_decimal())
        if quantity <= 0:
            return []
        side = OrderSide.SELL if held > 0 else OrderSide.BUY
        orders = []
        if stop_loss is not None:
            orders.append(
                self.order_factory.stop_market(
                    instrument.id,
                    side,
                    instrument.make_qty(quantity),
                    trigger_price=instrument.make_price(stop_loss),
                    reduce_only=True,
                ),
            )
        if take_profit is not None:
            orders.append(
                self.order_factory.limit(
                    instrument.id,
                    side,
                    instrument.make_qty(quantity),
                    price=instrument.make_price(take_profit),
                    reduce_only=True,
                ),
            )
        for order in orders:
            self.submit_order(order)
        return orders

    def cancel_all_orders(
        self,
        instrument_id: InstrumentId,
        order_side: OrderSide = OrderSide.NO_ORDER_SIDE,
        client_id=None,
        params=None,
    ) -> None:
        """
        nautilus's ``cancel_all_orders``, plus the parents an execution algorithm still holds
        locally: nautilus returns early when nothing is open at the venue (e.g. between two
        TWAP children) and leaves such a parent working.
        """
        super().cancel_all_orders(instrument_id, order_side, client_id, params)
        for order in self._unfinished.of(instrument_id):
            if not (order.exec_algorithm_id and order.is_primary and order.is_active_local):
                continue
            if order_side in (OrderSide.NO_ORDER_SIDE, order.side) and not order.is_closed:
                self.cancel_order(order)

    def cancel_protective_orders(self, instrument_id: InstrumentId | None = None) -> None:
        """Cancel this strategy's protective orders on the instrument (once each)."""
        for order in self.protective_orders(instrument_id):
            if not order.is_pending_cancel:
                self.cancel_order(order)

    def net_position(self, instrument_id: InstrumentId | None = None) -> Decimal:
        return self.position_quantity(instrument_id)

    def risk_headroom(
        self,
        instrument_id: InstrumentId,
        side: int,
        price: float | None = None,
        shrinking_only: bool = False,
    ) -> float:
        """
        How many units the risk layer still allows on ``side`` (inf without a risk gate);
        negative when already beyond a limit in that direction by that many units.
        ``shrinking_only`` asks only whether the position is now beyond a limit that tightens
        by itself (exact when negative; 0 may stand for any headroom >= 0).
        """
        if not self._has_risk_gate:
            return float("inf")
        query = HeadroomQuery(self.id, instrument_id, side, price, shrinking_only)
        self.msgbus.send(RISK_HEADROOM_ENDPOINT, query)
        return float("inf") if query.result is None else query.result

    def set_target_position(
        self,
        target: Decimal,
        instrument_id: InstrumentId | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
    ) -> Order | None:
        """
        Trade towards a signed target position with one market order (worked by the
        ``exec_algorithm_id`` algorithm when one is set) for the difference
        between the target and this strategy's position plus its unfilled orders.

        Quantities are rounded down to the instrument's size increment; a difference smaller
        than one increment, or than the instrument's minimum size, is not traded.

        Unfinished orders count from the moment they are submitted, so bars that arrive in a
        burst (e.g. replayed after a reconnect) before any acknowledgement trade the difference
        once. Protective orders (stops, take-profits, trailing, emulated, bracket children,
        resting reduce-only orders; see ``protect``) do not count: they only act if the price
        reaches them. A target of 0 cancels them, and so does the position closing.
        """
        instrument_id = instrument_id or self.params.instrument_id
        orders = self.set_target_positions({instrument_id: target}, time_in_force)
        return orders[0] if orders else None

    def set_target_positions(
        self,
        targets: dict[InstrumentId, Decimal],
        time_in_force: TimeInForce = TimeInForce.GTC,
    ) -> list[Order]:
        """
        Trade several instruments towards their targets together (e.g. both legs of a pair).
        With ``clip_to_risk`` every leg is scaled by the same factor, the smallest the risk
        layer allows for any leg, so the legs stay in proportion.
        """
        if self.paused:
            return []
        legs = []
        for instrument_id, wanted in targets.items():
            instrument = self.cache.instrument(instrument_id)
            held = self.position_quantity(instrument_id) + self.pending_quantity(instrument_id)
            target = wanted if type(wanted) is Decimal else Decimal(wanted)
            if target == 0:
                self.cancel_protective_orders(instrument_id)  # nothing left to protect
            delta = target - held
            if held * target > 0 and abs(delta) <= self._band * abs(target):
                delta = Decimal(0)  # on the target's side and close enough
            legs.append([instrument, held, delta])
        if self.params.clip_to_risk and self._has_risk_gate:
            self._clip_to_risk(legs)
        orders = []
        for instrument, _, delta in legs:
            if delta == 0:
                continue
            quantity = _round_down(abs(delta), instrument.size_increment.as_decimal())
            if quantity <= 0 or (instrument.min_quantity and quantity < instrument.min_quantity):
                continue
            algorithm = self.params.exec_algorithm_id
            order = self.order_factory.market(
                instrument_id=instrument.id,
                order_side=OrderSide.BUY if delta > 0 else OrderSide.SELL,
                quantity=instrument.make_qty(quantity),
                time_in_force=time_in_force,
                exec_algorithm_id=ExecAlgorithmId(algorithm) if algorithm else None,
                exec_algorithm_params=self.params.exec_algorithm_params if algorithm else None,
            )
            self.submit_order(order)
            orders.append(order)
        return orders

    def _clip_to_risk(self, legs: list[list]) -> None:
        """
        Scale the legs' trades by one factor so the risk layer accepts them all; a leg whose
        position is already beyond a limit (e.g. volatility rose above a ``scale`` threshold)
        by more than the rebalance band is instead reduced back within it.
        """
        scale = 1.0
        reduced = set()
        band = self.params.rebalance_band
        for number, (instrument, held, delta) in enumerate(legs):
            allowed_held = None
            if held != 0:  # already beyond a limit in the direction it holds?
                holding = 1 if held > 0 else -1
                # Only a limit that tightens by itself can leave a held position beyond it;
                # every rule is asked when the answer also sizes an addition to the position.
                adding = delta * holding > 0
                allowed_held = self.risk_headroom(instrument.id, holding, shrinking_only=not adding)
                if allowed_held < 0 and -allowed_held > band * float(abs(held)):
                    cut = min(Decimal(str(-allowed_held)), abs(held))
                    if delta * holding < 0:
                        cut = max(cut, abs(delta))  # the strategy was reducing anyway
                    legs[number][2] = -holding * cut
                    reduced.add(number)
                    continue
            if delta == 0:
                continue
            direction = 1 if delta > 0 else -1
            if allowed_held is not None and direction * held > 0:
                allowed = allowed_held  # asked with every rule (adding)
            else:
                allowed = self.risk_headroom(instrument.id, direction, None)
            scale = min(scale, max(allowed, 0.0) / float(abs(delta)))
        if scale < 1.0:
            factor = Decimal(str(max(scale, 0.0)))
            for number, leg in enumerate(legs):
                if number not in reduced:
                    leg[2] = leg[2] * factor

    def bar_interval(self, bar: Bar) -> timedelta:
        return bar.bar_type.spec.timedelta


_SIZING_PARAMS = (
    "trade_size",
    "equity_fraction",
    "atr_risk",
    "atr_period",
    "kelly_scale",
    "kelly_cap",
    "kelly_window",
    "kelly_min_trades",
)


class _Series:
    """One bar series's indicators and the time of the last bar they were updated with."""

    __slots__ = ("bar_type", "indicators", "last_ts")

    def __init__(self, bar_type: BarType) -> None:
        self.bar_type = bar_type
        self.indicators: list = []
        self.last_ts = -1


# Decimal(str(x)) of the usual signals (floats, or the rules' -1/0/+1 states), built once; a float
# 0.0 is left out, as -0.0 equals it but converts to Decimal("-0.0").
_KNOWN_DECIMALS = {
    float: {1.0: Decimal("1.0"), -1.0: Decimal("-1.0")},
    int: {1: Decimal("1"), 0: Decimal("0"), -1: Decimal("-1")},
}


def _decimal(value: float) -> Decimal:
    """``Decimal(str(value))``: the number as written, not its binary expansion."""
    known = _KNOWN_DECIMALS.get(type(value))
    exact = known.get(value) if known is not None else None
    return exact if exact is not None else Decimal(str(value))


def _round_down(value: Decimal, increment: Decimal) -> Decimal:
    return (value // increment) * increment
