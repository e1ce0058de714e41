"""
``RiskController``: installs the risk layer in a nautilus kernel.

It is a nautilus ``Controller`` (the kernel's hook for a component that manages the trader),
configured by ``ImportableControllerConfig`` in ``BacktestEngineConfig.controller`` or
``TradingNodeConfig.controller``, so backtests and live nodes get the same object::

    ImportableControllerConfig(
        controller_path="seraphim.risk.controller:RiskController",
        config_path="seraphim.risk.config:RiskControllerConfig",
        config={"risk": {...}},   # a RiskConfig as builtins
    )

On registration it puts the ``RiskGate`` in front of the RiskEngine, listens to bars (for
volatility, volume and equity samples) and order events (fills, nautilus's own denials), and
applies the guard's decisions: the nautilus ``TradingState`` and, if configured, flattening.
Operators send ``RiskCommand`` to ``Seraphim.Risk.execute`` (e.g. ``reset`` after a trip).
"""

from __future__ import annotations

from nautilus_trader.model.enums import TradingState
from nautilus_trader.model.events import OrderCanceled
from nautilus_trader.model.events import OrderDenied
from nautilus_trader.model.events import OrderExpired
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import OrderModifyRejected
from nautilus_trader.model.events import OrderRejected
from nautilus_trader.model.events import OrderUpdated
from nautilus_trader.trading.controller import Controller
from nautilus_trader.trading.trader import Trader

from seraphim.risk.config import RiskControllerConfig
from seraphim.risk.gate import RiskGate
from seraphim.risk.guard import GuardEvent
from seraphim.risk.messages import RISK_COMMAND_ENDPOINT
from seraphim.risk.messages import RISK_EVENT_TOPIC
from seraphim.risk.messages import RISK_HEADROOM_ENDPOINT
from seraphim.risk.messages import RISK_USAGE_ENDPOINT
from seraphim.risk.messages import RISK_VALUATION_ENDPOINT
from seraphim.risk.messages import HeadroomQuery
from seraphim.risk.messages import RiskCommand
from seraphim.risk.messages import RiskEvent
from seraphim.risk.messages import UsageQuery
from seraphim.risk.messages import ValuationQuery

_SETTLES_MODIFY = (OrderUpdated, OrderModifyRejected, OrderCanceled, OrderExpired, OrderRejected)

_STATES = {
    "ACTIVE": TradingState.ACTIVE,
    "REDUCING": TradingState.REDUCING,
    "HALTED": TradingState.HALTED,
}


class RiskController(Controller):
    """The risk gate, the portfolio guard and operator commands, wired into a kernel."""

    def __init__(self, trader: Trader, config: RiskControllerConfig | None = None) -> None:
        super().__init__(trader, config or RiskControllerConfig())
        self.gate: RiskGate | None = None
        self._halt_when_flat = False

    def register_base(self, portfolio, msgbus, cache, clock) -> None:
        super().register_base(portfolio, msgbus, cache, clock)
        self._add_gate()
        if not self.config.risk.enabled:
            self.log.warning("Seraphim risk rules DISABLED: orders go straight to the RiskEngine")
            return
        msgbus.register(RISK_COMMAND_ENDPOINT, self.execute_risk_command)
        msgbus.register(RISK_HEADROOM_ENDPOINT, self._answer_headroom)
        msgbus.register(RISK_USAGE_ENDPOINT, self._answer_usage)
        msgbus.register(RISK_VALUATION_ENDPOINT, self._answer_valuation)
        msgbus.subscribe("events.order.*", self._on_order_event, priority=5)

    def on_reset(self) -> None:
        # A reused backtest engine (research sweeps) runs again: a fresh gate takes the old
        # one's place in front of the same RiskEngine and OrderEmulator, and nautilus's reset
        # leaves the RiskEngine's trading state alone, so the guard's last decision is undone.
        old = self.gate
        self._halt_when_flat = False
        if not self.config.risk.enabled:
            self._add_gate()
            return
        old.uninstall()
        for topic, handler in self._gate_subscriptions(old):
            self.msgbus.unsubscribe(topic, handler)
        self._add_gate(old.risk_engine, old.emulator)
        if old.risk_engine.trading_state != TradingState.ACTIVE:
            old.risk_engine.set_trading_state(TradingState.ACTIVE)

    def _add_gate(self, risk_engine=None, emulator=None) -> None:
        gate = RiskGate(
            self.config.risk, self.cache, self.portfolio, self.clock, self.msgbus, self.log
        )
        gate.on_guard_event = self._on_guard_event
        self.gate = gate
        if not self.config.risk.enabled:
            return
        gate.install(risk_engine, emulator)  # None: found on the bus
        for topic, handler in self._gate_subscriptions(gate):
            # Priority 5: after nautilus's Portfolio (10) has marked positions to the new bar or
            # applied the fill, before strategies (0) act on it.
            self.msgbus.subscribe(topic, handler, priority=5)

    @staticmethod
    def _gate_subscriptions(gate: RiskGate) -> list[tuple[str, object]]:
        # Balances and positions change after a fill's event: re-read them on these too.
        topics = [
            ("events.account.*", gate.on_account_event),
            ("events.position.*", gate.on_account_event),
        ]
        return [("data.bars.*", gate.on_bar), *topics] if gate.needs_bars else topics

    def on_start(self) -> None:
        # The gate is already wired (in register_base, before any strategy can send an order).
        state = "on" if self.config.risk.enabled else "OFF"
        self.log.info(f"Seraphim risk gate {state}")

    def on_stop(self) -> None:
        if self.gate is not None and self.gate.denied:
            self.log.info(f"Seraphim risk gate denials by rule: {dict(self.gate.denied)}")

    # -- bus handlers ---------------------------------------------------------------------

    def _answer_headroom(self, query: HeadroomQuery) -> None:
        query.result = self.gate.headroom(query)

    def _answer_usage(self, query: UsageQuery) -> None:
        query.result = self.gate.usage()

    def _answer_valuation(self, query: ValuationQuery) -> None:
        query.result = self.gate if self.gate.needs_bars else None

    def _on_order_event(self, event) -> None:
        self.gate.on_order_event(event)
        if isinstance(event, _SETTLES_MODIFY):
            self.gate.on_modify_settled(event.client_order_id)
        if isinstance(event, OrderFilled):
            self.gate.on_fill(event)
            if self._halt_when_flat:
                self._check_flat()
        elif isinstance(event, OrderDenied) and not self.gate.is_own_denial(event):
            self.gate.count_external_denial(event)

    def execute_risk_command(self, command: RiskCommand) -> None:
        self.log.warning(f"RISK command {command.action} from {command.operator}: {command.note}")
        if command.action == "reset":
            self._halt_when_flat = False
            self.gate.reset_guard(command.operator)
        elif command.action in ("halt", "reduce"):
            self.gate.trip_guard("HALTED" if command.action == "halt" else "REDUCING")
        else:
            self.log.error(f"unknown risk command {command.action!r}")

    # -- guard decisions ------------------------------------------------------------------

    def _on_guard_event(self, event: GuardEvent) -> None:
        self.msgbus.publish(RISK_EVENT_TOPIC, self.gate.events[-1])
        if event.kind != "trip":
            self._halt_when_flat = False
            self._set_state("ACTIVE", event.ts)
            return
        if self.config.risk.guard.flatten:
            # Closing orders must get through nautilus's RiskEngine too: REDUCING lets them pass,
            # HALTED follows once everything is flat.
            self._halt_when_flat = event.state == "HALTED"
            self._set_state("REDUCING", event.ts)
            self._flatten(event.ts)
            if self._halt_when_flat:
                self._check_flat()
        else:
            self._set_state(event.state, event.ts)

    def _set_state(self, state: str, ts: int) -> None:
        engine = self.gate.risk_engine
        if engine.trading_state == _STATES[state]:
            return
        engine.set_trading_state(_STATES[state])
        self.gate.record(RiskEvent(ts, "trading_state", "", f"TradingState -> {state}", state))

    def _flatten(self, ts: int) -> None:
        closed = 0
        for strategy in self._trader.strategies():
            instruments = {o.instrument_id for o in self.cache.orders_open(strategy_id=strategy.id)}
            positions = self.cache.positions_open(strategy_id=strategy.id)
            for instrument_id in instruments:
                strategy.cancel_all_orders(instrument_id)
            for instrument_id in {p.instrument_id for p in positions}:
                strategy.close_all_positions(instrument_id)
            closed += len(positions)
        self.gate.record(
            RiskEvent(ts, "flatten", "", f"guard flattened {closed} position(s)", "REDUCING")
        )

    def _check_flat(self) -> None:
        if not self.cache.positions_open() and not self.cache.orders_open():
            self._halt_when_flat = False
            self._set_state("HALTED", self.clock.timestamp_ns())
