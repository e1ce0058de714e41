"""
``MonitorActor``: a node's health, measured on its event loop and published each heartbeat to
Redis (``seraphim:ops:<trader>:health``, JSON) and as Prometheus metrics; alert rules are
evaluated on it and their notices delivered off the loop (``seraphim.ops.alerts``).

Nothing of it runs per market-data event: each instrument's last data is read from nautilus's
cache once per heartbeat. Per order event the message bus appends the event to a list (a C call,
no Python frame); the heartbeat counts them, times submit to ack from their timestamps and raises
the fill notices. All the work (staleness, equity, drawdown, metrics, alerts) happens once per
heartbeat, off the path from a tick to its order (``benchmarks/ops.py`` measures it).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections import defaultdict
from collections import deque
from datetime import UTC
from datetime import datetime
from datetime import timedelta

from nautilus_trader.common.actor import Actor
from nautilus_trader.common.config import ActorConfig
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.events import OrderAccepted
from nautilus_trader.model.events import OrderDenied
from nautilus_trader.model.events import OrderEvent
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import OrderRejected
from nautilus_trader.model.events import OrderSubmitted
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import Venue

from seraphim.ops import bus
from seraphim.ops import keys
from seraphim.ops.alerts.engine import AlertEngine
from seraphim.ops.alerts.engine import Notice
from seraphim.ops.commands import CommandError
from seraphim.ops.executor import CommandExecutor
from seraphim.ops.health import HealthPublisher
from seraphim.ops.health import history_length
from seraphim.ops.metrics import NodeMetrics
from seraphim.portfolio import account_equity
from seraphim.portfolio import unpriced
from seraphim.risk.messages import RISK_EVENT_TOPIC
from seraphim.risk.messages import RISK_USAGE_ENDPOINT
from seraphim.risk.messages import UsageQuery
from seraphim.state.settings import redis_settings

_ORDER_EVENTS = "events.order.*"
_HEARTBEAT_TIMER = "seraphim-monitor-heartbeat"


class MonitorActorConfig(ActorConfig, frozen=True):
    """
    Parameters
    ----------
    heartbeat_secs : float
        How often health is measured, published and checked against the alert rules.
    metrics_port : int, optional
        Serve Prometheus metrics on ``metrics_host:metrics_port`` (0: any free port).
    alerts_file : str, optional
        The alert rules (see ``seraphim.ops.alerts.rules``).
    journal : bool
        Record alert notices in the journal.
    """

    component_id: str | None = "SeraphimMonitor"
    heartbeat_secs: float = 1.0
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    alerts_file: str | None = None
    journal: bool = False
    reject_window_secs: float = 60.0


class MonitorActor(Actor):
    def __init__(self, config: MonitorActorConfig | None = None) -> None:
        super().__init__(config or MonitorActorConfig())
        self.metrics = NodeMetrics()
        self.metrics_port: int | None = None
        self.publisher: HealthPublisher | None = None
        self.alerts: AlertEngine | None = None
        self.dispatcher = None
        self.writer = None
        self.snapshot: dict = {}
        self._started_ns = 0
        # The bus appends every order event here; the heartbeat takes them (see module doc).
        self._order_events: list[OrderEvent] = []
        self._submitted: dict[str, int] = {}
        self._rejects: dict[str, deque[int]] = defaultdict(deque)
        self._last_ack_ms: float | None = None
        self._loop_lag_secs = 0.0
        self._disconnected_since: dict[str, int] = {}
        self._equity_peak: float | None = None
        self._day: tuple[str, float] | None = None  # (UTC date, equity at its start)
        self._unpriced: list[str] | None = None  # balances the equity leaves out (no price)
        self._guard = "ACTIVE"
        self._clients: list = []
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    def on_start(self) -> None:
        config: MonitorActorConfig = self.config
        trader = self.trader_id.value
        if config.metrics_port is not None and self.metrics_port is None:
            self.metrics_port = self.metrics.serve(config.metrics_port, config.metrics_host)
            self.log.info(f"Metrics on http://{config.metrics_host}:{self.metrics_port}/metrics")
        if config.alerts_file and self.alerts is None:
            self._start_alerts(config.alerts_file, trader)
        self.publisher = HealthPublisher(
            redis_settings(),
            keys.health_key(trader),
            self.log.warning,
            history_key=keys.equity_key(trader),
            history_len=history_length(config.heartbeat_secs),
        )
        self.publisher.start()
        self._started_ns = self.clock.timestamp_ns()
        self.msgbus.subscribe(_ORDER_EVENTS, self._order_events.append)
        self.msgbus.subscribe(RISK_EVENT_TOPIC, self._on_risk_event)
        self._clients = bus.venue_clients(self.msgbus)
        self._loop = asyncio.get_event_loop()
        self.clock.set_timer(
            _HEARTBEAT_TIMER, timedelta(seconds=config.heartbeat_secs), callback=self._on_timer
        )
        self._event("node_started", "node", "node started")
        self._beat(time.perf_counter())

    def on_stop(self) -> None:
        if _HEARTBEAT_TIMER in self.clock.timer_names:
            self.clock.cancel_timer(_HEARTBEAT_TIMER)
        self.msgbus.unsubscribe(_ORDER_EVENTS, self._order_events.append)
        self.msgbus.unsubscribe(RISK_EVENT_TOPIC, self._on_risk_event)
        self._take_order_events()  # the fills since the last heartbeat are told first
        self._event("node_stopped", "node", "node stopping")
        if self.publisher is not None:
            self.publisher.stop({**self.snapshot, "status": "stopped", "ts": time.time_ns()})
            self.publisher = None

    def on_dispose(self) -> None:
        if self.dispatcher is not None:
            self.dispatcher.stop(10.0)
        if self.writer is not None:
            self.writer.stop(5.0)
            self.writer = None
        self.metrics.close()

    def _start_alerts(self, path: str, trader: str) -> None:
        from seraphim.ops.alerts.delivery import AlertDispatcher
        from seraphim.ops.alerts.rules import load_rules

        rules = load_rules(path)
        journal = None
        if self.config.journal:
            from seraphim.ops.journal import alert_row
            from seraphim.ops.journal import ops_writer

            self.writer = ops_writer(self.log.warning, self.log.info)

            def journal(notice, delivered, attempts, error) -> None:
                self.writer.submit([alert_row(trader, notice, delivered, attempts, error)])

        self.alerts = AlertEngine(rules, trader)
        self.dispatcher = AlertDispatcher(rules, self.log.warning, journal)
        self.dispatcher.start()

    # -- events --------------------------------------------------------------------------------

    def _take_order_events(self) -> None:
        """Count the order events since the last heartbeat, time submit to ack (each event's
        ``ts_init``: when the node produced it) and raise the fill notices."""
        if not self._order_events:
            return
        events = self._order_events.copy()
        self._order_events.clear()  # the same list: the bus holds its append
        trader = self.trader_id.value
        counts: Counter[tuple[str, str, str]] = Counter()
        for event in events:
            strategy = event.strategy_id.value
            instrument = event.instrument_id.value
            counts[strategy, instrument, type(event).__name__] += 1
            ts = event.ts_init
            key = event.client_order_id.value
            if isinstance(event, OrderSubmitted):
                self._submitted[key] = ts
            elif isinstance(event, OrderAccepted | OrderRejected | OrderFilled):
                sent = self._submitted.pop(key, None)
                if sent is not None and not isinstance(event, OrderRejected):
                    latency = (ts - sent) / 1e9
                    self._last_ack_ms = latency * 1e3
                    venue = event.instrument_id.venue.value
                    self.metrics.ack_latency.labels(trader, strategy, venue).observe(latency)
            if isinstance(event, OrderRejected | OrderDenied):
                self._rejects[strategy].append(ts)
            if isinstance(event, OrderFilled):
                self._event(
                    "order_filled",
                    strategy,
                    f"{strategy} {event.order_side.name} {event.last_qty} {instrument} "
                    f"@ {event.last_px} ({event.client_order_id})",
                    ts,
                )
        for (strategy, instrument, kind), n in counts.items():
            self.metrics.orders.labels(trader, strategy, instrument, kind).inc(n)

    def _on_risk_event(self, event) -> None:
        self._guard = event.state
        if event.kind == "guard_trip":
            self._event("guard_tripped", event.rule or "guard", f"{event.state}: {event.detail}")

    # -- the heartbeat ------------------------------------------------------------------------

    def _on_timer(self, _event) -> None:
        # nautilus's live timers call back on their own thread: measure on the loop, and how
        # late the loop runs what is handed to it is its lag.
        self._loop.call_soon_threadsafe(self._beat, time.perf_counter())

    def _beat(self, scheduled: float) -> None:
        self._loop_lag_secs = time.perf_counter() - scheduled
        self._take_order_events()
        now = self.clock.timestamp_ns()
        snapshot = {
            "trader_id": self.trader_id.value,
            "status": "running",
            "ts": time.time_ns(),
            "heartbeat_secs": self.config.heartbeat_secs,
            "metrics_port": self.metrics_port,
            "instruments": self._instruments(now),
            "venues": self._venues(now),
            "strategies": self._strategies(now),
            "submit_ack_ms_last": self._last_ack_ms,
            "event_loop_lag_ms": round(self._loop_lag_secs * 1e3, 3),
            **self._equity(),
            "trading_state": self._trading_state(),
            "guard": self._guard,
            "risk": self._risk_usage(),
        }
        if self.alerts is not None:
            self._check_alerts(snapshot, now)
            snapshot["alerts_active"] = [f"{r} {s}" for r, s in self.alerts.active()]
        self.snapshot = snapshot
        self._update_metrics(snapshot)
        if self.publisher is not None:
            self.publisher.publish(snapshot)

    def _instruments(self, now: int) -> dict:
        return {
            iid: {"staleness_secs": round((now - ts) / 1e9, 3)}
            for iid, ts in sorted(self._last_data().items())
        }

    def _last_data(self) -> dict[str, int]:
        """When each instrument's latest quote, trade, bar or book update reached the node
        (its ``ts_init``), from nautilus's cache; what came before the monitor started (e.g.
        requested history) does not count."""
        cache = self.cache
        last: dict[str, int] = {}

        def note(instrument_id: InstrumentId, ts: int) -> None:
            if ts >= self._started_ns and ts > last.get(instrument_id.value, 0):
                last[instrument_id.value] = ts

        for instrument_id in cache.instrument_ids():
            for data in (cache.quote_tick(instrument_id), cache.trade_tick(instrument_id)):
                if data is not None:
                    note(instrument_id, data.ts_init)
            book = cache.order_book(instrument_id)
            if book is not None and book.update_count:
                note(instrument_id, book.ts_last)
        for bar_type in cache.bar_types():
            bar = cache.bar(bar_type)
            if bar is not None:
                note(bar_type.instrument_id, bar.ts_init)
        return last

    def _venues(self, now: int) -> dict:
        out = {}
        for kind, client in self._clients:
            name = f"{client.id.value} {kind}"
            connected, reconnects = bus.connection_state(client)
            if connected:
                self._disconnected_since.pop(name, None)
            else:
                self._disconnected_since.setdefault(name, now)
            since = self._disconnected_since.get(name)
            out[name] = {
                "venue": client.venue.value if client.venue is not None else client.id.value,
                "connected": connected,
                "disconnected_secs": round((now - since) / 1e9, 3) if since else 0.0,
                "reconnects": reconnects,
            }
        return out

    def _strategies(self, now: int) -> dict:
        window = int(self.config.reject_window_secs * 1e9)
        out = {}
        for strategy in sorted(bus.strategies(self.msgbus)):
            times = self._rejects[strategy]
            while times and times[0] < now - window:
                times.popleft()
            out[strategy] = {"rejects_per_minute": len(times) * 60 / self.config.reject_window_secs}
        return out

    def _equity(self) -> dict:
        by_venue = {}
        unknown = []
        for account in self.cache.accounts():
            venue = Venue(account.id.get_issuer())
            # One currency for every venue, so the total and the drawdown add up.
            by_venue[venue.value] = account_equity(self.cache, self.portfolio, venue, USD)
            unknown += unpriced(self.cache, venue, USD)
        if not by_venue:
            return {"equity": None, "equity_by_venue": {}, "drawdown_pct": None, "daily_pnl": None}
        if unknown != self._unpriced:
            # Balances without a price count for nothing (e.g. BTC before its first quote, or
            # dust the node trades no pair of): when one gets a price the equity means something
            # else, so the peak and the day's start begin again from it.
            self._unpriced = unknown
            self._equity_peak = None
            self._day = None
        total = sum(by_venue.values())
        self._equity_peak = max(self._equity_peak or total, total)
        today = datetime.now(tz=UTC).date().isoformat()
        if self._day is None or self._day[0] != today:
            self._day = (today, total)
        drawdown = (self._equity_peak - total) / self._equity_peak * 100 if self._equity_peak else 0
        return {
            "equity": round(total, 2),
            "equity_by_venue": {v: round(e, 2) for v, e in by_venue.items()},
            "drawdown_pct": round(drawdown, 4),
            "daily_pnl": round(total - self._day[1], 2),
            "unpriced": unknown,
        }

    def _risk_usage(self) -> dict | None:
        """Each risk limit with its usage, from Seraphim's risk gate (None without one)."""
        if RISK_USAGE_ENDPOINT not in self.msgbus.endpoints():
            return None
        query = UsageQuery()
        try:
            self.msgbus.send(RISK_USAGE_ENDPOINT, query)
        except Exception as e:  # the heartbeat goes on without it
            self.log.warning(f"risk usage unavailable: {type(e).__name__}: {e}")
        return query.result

    def _trading_state(self) -> str | None:
        engine = bus.risk_engine(self.msgbus)
        return engine.trading_state.name if engine is not None else None

    def _update_metrics(self, s: dict) -> None:
        m, trader = self.metrics, self.trader_id.value
        m.heartbeat.labels(trader).set(s["ts"] / 1e9)
        for iid, info in s["instruments"].items():
            m.staleness.labels(trader, iid.rsplit(".", 1)[-1], iid).set(info["staleness_secs"])
        for name, info in s["venues"].items():
            m.connected.labels(trader, info["venue"], name).set(1 if info["connected"] else 0)
            m.reconnects.labels(trader, info["venue"], name).set(info["reconnects"])
        m.loop_lag.labels(trader).set(self._loop_lag_secs)
        if s["equity"] is not None:
            for venue, equity in s["equity_by_venue"].items():
                m.equity.labels(trader, venue).set(equity)
            m.drawdown.labels(trader).set(s["drawdown_pct"] / 100)
            m.daily_pnl.labels(trader).set(s["daily_pnl"])
        engine = bus.risk_engine(self.msgbus)
        if engine is not None:
            m.trading_state.labels(trader).set(int(engine.trading_state.value))
        if self.alerts is not None:
            m.alerts_active.labels(trader).set(len(self.alerts.active()))

    # -- alerts -------------------------------------------------------------------------------

    def _check_alerts(self, s: dict, now: int) -> None:
        a = self.alerts
        checks = []
        for iid, info in s["instruments"].items():
            age = info["staleness_secs"]
            checks.append(("data_stale", iid, age, f"no data for {age:.1f} s"))
        for name, info in s["venues"].items():
            gone = info["disconnected_secs"]
            checks.append(("venue_disconnected", name, gone, f"disconnected for {gone:.1f} s"))
        for strategy, info in s["strategies"].items():
            rate = info["rejects_per_minute"]
            checks.append(("rejects_per_minute", strategy, rate, f"{rate:g} rejects in a minute"))
        lag = s["event_loop_lag_ms"] / 1e3
        checks.append(("event_loop_lag", "node", lag, f"event loop {lag * 1e3:.0f} ms late"))
        if s["equity"] is not None:
            dd = s["drawdown_pct"]
            checks.append(("drawdown", "equity", dd, f"drawdown {dd:.2f} % (equity {s['equity']})"))
            loss = -s["daily_pnl"]
            checks.append(("daily_loss", "equity", loss, f"daily PnL {s['daily_pnl']}"))
        for rule, subject, value, message in checks:
            self._deliver(a.check(rule, subject, value, now, message))

    def _event(self, rule: str, subject: str, message: str, ts: int | None = None) -> None:
        if self.alerts is not None:
            ts = self.clock.timestamp_ns() if ts is None else ts
            self._deliver(self.alerts.event(rule, subject, ts, message))

    def _deliver(self, notice: Notice | None) -> None:
        if notice is None:
            return
        self.dispatcher.submit(notice)
        if notice.action is not None:
            self._act(notice)

    def _act(self, notice: Notice) -> None:
        """The rule's emergency action, at once on the loop (delivery never delays it)."""
        executor = CommandExecutor(self.msgbus, self.cache, self.clock)
        try:
            if notice.action == "halt":
                done = executor.set_trading_state("HALTED", f"alert {notice.rule}")
            else:
                done = executor.cancel_or_flatten(None, None, flatten=True)
        except CommandError as e:
            done = f"failed: {e}"
        self.log.error(f"ALERT {notice.title}: action {notice.action}: {done}")
