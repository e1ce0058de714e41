"""
Runs verified operator commands on the node's event loop, through nautilus's public bus:
strategies are found by their order-event subscriptions, start/stop goes to the node's
``Controller.execute``, trading states to the RiskEngine, guard resets to Seraphim's risk
controller and manual orders to the operator strategy.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from nautilus_trader.common.component import MessageBus
from nautilus_trader.model.enums import TradingState
from nautilus_trader.model.events import OrderDenied
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import StrategyId
from nautilus_trader.risk.engine import RiskEngine
from nautilus_trader.trading.messages import StartStrategy
from nautilus_trader.trading.messages import StopStrategy
from nautilus_trader.trading.strategy import Strategy

from seraphim.ops import bus
from seraphim.ops.commands import CommandError
from seraphim.ops.commands import CommandResult
from seraphim.ops.commands import ControlCommand
from seraphim.ops.operator import OPERATOR_STRATEGY_ID
from seraphim.ops.operator import OperatorStrategy
from seraphim.risk.messages import RISK_COMMAND_ENDPOINT
from seraphim.risk.messages import RiskCommand
from seraphim.strategies.control import send_control

# How long a manual order may take to be accepted or denied before the answer goes out
# (the sender expects one within a second).
ORDER_SETTLE_SECS = 0.7
_CONTROL_ACTIONS = {"pause": "pause", "resume": "resume", "set-params": "set_params"}


class CommandExecutor:
    def __init__(self, msgbus: MessageBus, cache, clock) -> None:
        self.msgbus = msgbus
        self.cache = cache
        self.clock = clock

    async def execute(self, command: ControlCommand) -> CommandResult:
        try:
            detail = await self._run(command)
        except CommandError as e:
            return self._result(command, "refused", str(e))
        return self._result(command, "done", detail)

    def _result(self, command: ControlCommand, status: str, detail: str) -> CommandResult:
        return CommandResult(command.id, status, detail, time.time_ns())

    async def _run(self, c: ControlCommand) -> str:
        if c.action in _CONTROL_ACTIONS:
            return self._strategy_control(c)
        if c.action in ("start", "stop"):
            return self._start_stop(c)
        if c.action == "cancel" and c.client_order_id is not None:
            return await self._cancel_order(c.client_order_id)
        if c.action in ("cancel", "flatten"):
            return self._cancel_or_flatten(c)
        if c.action == "state":
            return self.set_trading_state(c.state, c.operator)
        if c.action == "reset-guard":
            return self._risk_command(RiskCommand("reset", operator=c.operator))
        if c.action == "order":
            return await self._manual_order(c)
        raise CommandError(f"unknown action {c.action!r}")

    # -- finding things on the bus --------------------------------------------------------

    def strategies(self) -> dict[str, Strategy]:
        return bus.strategies(self.msgbus)

    def _strategy(self, strategy_id: str) -> Strategy:
        strategies = self.strategies()
        strategy = strategies.get(strategy_id)
        if strategy is None:
            known = ", ".join(sorted(strategies)) or "none"
            raise CommandError(f"unknown strategy {strategy_id} (this node runs: {known})")
        return strategy

    def _targets(self, strategy_id: str | None) -> list[Strategy]:
        if strategy_id in (None, "all"):
            return list(self.strategies().values())
        return [self._strategy(strategy_id)]

    def _risk_engine(self) -> RiskEngine:
        engine = bus.risk_engine(self.msgbus)
        if engine is None:
            raise CommandError("no RiskEngine on this node's message bus")
        return engine

    # -- actions ----------------------------------------------------------------------------

    def _strategy_control(self, c: ControlCommand) -> str:
        strategy = self._strategy(c.strategy_id)
        events = getattr(strategy, "control_events", None)
        if events is None:
            raise CommandError(f"{c.strategy_id} does not take runtime control")
        before = len(events)
        send_control(
            self.msgbus, c.strategy_id, _CONTROL_ACTIONS[c.action], params=dict(c.params),
            operator=c.operator,
        )  # fmt: skip
        if len(events) == before:
            raise CommandError(f"{c.strategy_id} did not answer (is it running?)")
        event = events[-1]
        if not event.accepted:
            raise CommandError(f"{c.strategy_id}: {event.detail}")
        # Saved at once (not only on stop): a restart and `seraphim state strategies` see it.
        self.cache.update_strategy(strategy)
        return f"{c.strategy_id}: {event.detail}"

    def _start_stop(self, c: ControlCommand) -> str:
        strategy = self._strategy(c.strategy_id)
        if "Controller.execute" not in self.msgbus.endpoints():
            raise CommandError("this node has no controller to start or stop strategies")
        if c.action == "start" and strategy.is_stopped:
            # nautilus's component state machine has no START from STOPPED (only resume or
            # reset, neither of which re-runs on_start, and a reset restarts order ids).
            raise CommandError(
                f"{c.strategy_id} is stopped and nautilus cannot start it again in place "
                "(pause/resume keep a strategy running; restart the node to bring it back)"
            )
        message = StartStrategy if c.action == "start" else StopStrategy
        self.msgbus.send(
            "Controller.execute", message(strategy.id, ts_init=self.clock.timestamp_ns())
        )
        return f"{c.strategy_id} {_state(strategy)}"

    def _cancel_or_flatten(self, c: ControlCommand) -> str:
        return self.cancel_or_flatten(c.strategy_id, c.instrument_id, c.action == "flatten")

    def cancel_or_flatten(
        self, strategy_id: str | None, instrument_id: str | None, flatten: bool
    ) -> str:
        """Cancel open orders and, with ``flatten``, close positions (``None``: all)."""
        instrument = _instrument(instrument_id)
        orders = positions = 0
        for strategy in self._targets(strategy_id):
            sid = StrategyId(strategy.id.value)
            open_orders = self.cache.orders_open(instrument_id=instrument, strategy_id=sid)
            for order_instrument in {o.instrument_id for o in open_orders}:
                strategy.cancel_all_orders(order_instrument)
            orders += len(open_orders)
            if flatten:
                held = self.cache.positions_open(instrument_id=instrument, strategy_id=sid)
                for held_instrument in {p.instrument_id for p in held}:
                    strategy.close_all_positions(held_instrument)
                positions += len(held)
        if not flatten:
            return f"canceling {orders} open order(s)"
        return f"canceling {orders} open order(s), closing {positions} position(s)"

    async def _cancel_order(self, client_order_id: str) -> str:
        """Cancel one order through the strategy that owns it; answers once the venue has
        confirmed (or after ``ORDER_SETTLE_SECS`` with the order's state then)."""
        order = self.cache.order(ClientOrderId(client_order_id))
        if order is None:
            raise CommandError(f"unknown order {client_order_id}: not in this node's cache")
        if order.is_closed:
            raise CommandError(f"order {client_order_id} is already {order.status_string()}")
        owner = self.strategies().get(order.strategy_id.value)
        if owner is None:
            raise CommandError(
                f"order {client_order_id} belongs to {order.strategy_id}, "
                "which this node does not run"
            )
        owner.cancel_order(order)
        await _settle(lambda: order.is_open or order.is_inflight)
        return f"order {client_order_id} {order.status_string()}"

    def set_trading_state(self, state: str, operator: str) -> str:
        """With Seraphim's risk layer the state goes through its guard (so it knows, and a
        flatten-on-trip applies): HALTED/REDUCING trip it by hand, ACTIVE resets it."""
        engine = self._risk_engine()
        previous = engine.trading_state.name
        if RISK_COMMAND_ENDPOINT in self.msgbus.endpoints():
            action = {"ACTIVE": "reset", "HALTED": "halt", "REDUCING": "reduce"}[state]
            self.msgbus.send(RISK_COMMAND_ENDPOINT, RiskCommand(action, operator=operator))
        else:
            engine.set_trading_state(TradingState[state])
        return f"trading state {previous} -> {engine.trading_state.name}"

    def _risk_command(self, command: RiskCommand) -> str:
        if RISK_COMMAND_ENDPOINT not in self.msgbus.endpoints():
            raise CommandError("this node has no Seraphim risk controller (no risk rules)")
        self.msgbus.send(RISK_COMMAND_ENDPOINT, command)
        return (
            f"risk guard {command.action}; trading state {self._risk_engine().trading_state.name}"
        )

    async def _manual_order(self, c: ControlCommand) -> str:
        operator = self.strategies().get(OPERATOR_STRATEGY_ID)
        if not isinstance(operator, OperatorStrategy):
            raise CommandError(f"this node runs no operator strategy {OPERATOR_STRATEGY_ID}")
        if not operator.is_running:
            raise CommandError(f"{OPERATOR_STRATEGY_ID} is {_state(operator)}")
        denied: list[OrderDenied] = []
        topic = f"events.order.{OPERATOR_STRATEGY_ID}"

        def on_event(event) -> None:
            if isinstance(event, OrderDenied):
                denied.append(event)

        self.msgbus.subscribe(topic, on_event)
        try:
            order = operator.submit_manual(c.order, c.operator)
            await _settle(
                lambda: order.is_inflight or order.status_string() in ("INITIALIZED", "RELEASED")
            )
        finally:
            self.msgbus.unsubscribe(topic, on_event)
        ident = order.client_order_id.value
        if order.status_string() == "DENIED":
            reason = next(
                (d.reason for d in denied if d.client_order_id == order.client_order_id), ""
            )
            raise CommandError(f"order {ident} denied: {reason}")
        return f"order {ident} {order.status_string()}"


async def _settle(unsettled: Callable[[], bool]) -> None:
    """Let the loop run until ``unsettled()`` is false or ``ORDER_SETTLE_SECS`` have passed."""
    deadline = time.monotonic() + ORDER_SETTLE_SECS
    while unsettled() and time.monotonic() < deadline:
        await asyncio.sleep(0.005)


def _instrument(value: str | None) -> InstrumentId | None:
    if value is None:
        return None
    try:
        return InstrumentId.from_str(value)
    except ValueError:
        raise CommandError(f"invalid instrument id {value!r}") from None


def _state(component) -> str:
    if component.is_running:
        return "running"
    return "stopped" if component.is_stopped else "not running"
