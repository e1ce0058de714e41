"""The local TWS-protocol gateway: ``async with IbkrSimServer(config) as gw: ...``.

One asyncio server accepts any number of API clients (distinct client ids), all served by one
venue (``venue.py``: contract universe, market, order book and accounts); it pushes market data
on a fixed cadence, turns the engine's events into wire messages and exposes the venue's record
(orders, executions, positions, accounts) and the fault switches to tests and the CLI.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from collections.abc import Coroutine
from decimal import Decimal
from typing import Any

import seraphim.sim.ibkr.encoders as enc
from seraphim.sim.ibkr.account import Account
from seraphim.sim.ibkr.contracts import NEW_YORK
from seraphim.sim.ibkr.faults import ScheduledFault
from seraphim.sim.ibkr.matching import Execution
from seraphim.sim.ibkr.matching import MatchingListener
from seraphim.sim.ibkr.matching import SimOrder
from seraphim.sim.ibkr.messages import NO_VALID_ID
from seraphim.sim.ibkr.session import Session
from seraphim.sim.ibkr.venue import IbkrSimConfig
from seraphim.sim.ibkr.venue import IbkrSimVenue

log = logging.getLogger(__name__)


class IbkrSimServer:
    """A TWS/IB Gateway look-alike on a local port."""

    def __init__(self, config: IbkrSimConfig | None = None) -> None:
        self.config = config or IbkrSimConfig()
        listener = MatchingListener(self._on_order, self._on_execution, self._on_cancel)
        self.venue = IbkrSimVenue(self.config, listener)
        # The venue's parts, as callers (tests, the CLI) reach them.
        self.clock = self.venue.clock
        self.server_version = self.venue.server_version
        self.universe = self.venue.universe
        self.history = self.venue.history
        self.accounts = self.venue.accounts
        self.faults = self.venue.faults
        self.engine = self.venue.engine
        self.requests_seen = self.venue.requests_seen
        self.sessions: dict[int, Session] = {}
        self.connections: set[Session] = set()
        self.host = self.config.host
        self.port = self.config.port
        self._server: asyncio.Server | None = None
        self._tasks: list[asyncio.Task] = []
        self._next_restart: float | None = None
        self.restarts = 0

    # -- lifecycle ------------------------------------------------------------------------------

    async def __aenter__(self) -> IbkrSimServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Listen and start the market loop and any scripted faults."""
        await self._listen(self.config.port)
        self._tasks.append(asyncio.create_task(self._market_loop(), name="ibkr-sim-market"))
        if self.config.faults:
            self._tasks.append(
                asyncio.create_task(self._run_script(self.config.faults), name="ibkr-sim-faults")
            )
        if self.config.restart_at:
            self._next_restart = self._next_restart_time(self.clock())

    async def _listen(self, port: int) -> None:
        self._server = await asyncio.start_server(self._on_connect, self.config.host, port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening, drop every connection and cancel background tasks."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        await self._close_listener()

    async def _close_listener(self) -> None:
        """Stop accepting, drop every connection, then wait for the listener to close (since
        Python 3.12 ``wait_closed`` also waits for the connections it accepted)."""
        if self._server is not None:
            self._server.close()
            await self._drop_connections()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    async def _drop_connections(self) -> None:
        sessions = list(self.connections)
        for s in sessions:
            s.close()
        for s in sessions:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(s.closed.wait(), 2.0)

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = Session(self.venue, self, reader, writer)
        self.connections.add(session)
        try:
            await session.run()
        finally:
            self.connections.discard(session)

    def register(self, session: Session, client_id: int) -> bool:
        """Claim a client id; False when another live connection holds it (error 326)."""
        holder = self.sessions.get(client_id)
        # A holder whose client already hung up (EOF not yet read) releases the id, as TWS does.
        if (
            holder is not None
            and holder is not session
            and holder.is_open
            and not holder.reader.at_eof()
        ):
            return False
        self.sessions[client_id] = session
        return True

    def unregister(self, session: Session) -> None:
        """Release the connection's client id."""
        if session.client_id is not None and self.sessions.get(session.client_id) is session:
            del self.sessions[session.client_id]

    # -- engine events -> wire ------------------------------------------------------------------

    def _order_sessions(self, order: SimOrder) -> list[Session]:
        out = []
        owner = self.sessions.get(order.client_id)
        if owner is not None and owner.is_open:
            out.append(owner)
        master = self.sessions.get(0)
        if order.client_id != 0 and master is not None and master.state.auto_open_orders:
            out.append(master)
        return out

    def _on_order(self, order: SimOrder) -> None:
        for s in self._order_sessions(order):
            s.send(enc.open_order(order))
            s.send(enc.order_status(order))

    def _on_execution(self, ex: Execution) -> None:
        order = ex.order
        for s in self._order_sessions(order):
            s.send(enc.exec_details(-1, ex))
            s.send(enc.order_status(order))
            if order.status == "Filled":
                s.send(enc.open_order(order))
            s.send(enc.commission_report(ex))
        for s in list(self.connections):
            if s.client_id is None:
                continue
            s.push_position(order.account, order.spec)
            s.push_account_changes()

    def _on_cancel(self, order: SimOrder, reason: str) -> None:
        for s in self._order_sessions(order):
            s.send(enc.order_status(order))
            s.error(order.order_id, 202, f"Order Canceled - reason:{reason}")

    # -- market loop ----------------------------------------------------------------------------

    async def _market_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.tick_interval)
            now = self.clock()
            if self._next_restart is not None and now >= self._next_restart:
                self._next_restart = self._next_restart_time(now + 1)
                self._tasks.append(asyncio.create_task(self.restart(self.config.restart_downtime)))
            if not self.faults.connected_to_ib:
                continue
            try:
                self.engine.match_all(now)
                for s in list(self.connections):
                    if s.client_id is not None and s.is_open:
                        s.on_market_tick(now)
            except Exception:
                log.exception("market tick failed")

    def _next_restart_time(self, after: float) -> float:
        hh, mm = (int(x) for x in (self.config.restart_at or "23:45").split(":"))
        local = dt.datetime.fromtimestamp(after, NEW_YORK)
        candidate = local.replace(hour=hh, minute=mm, second=0, microsecond=0)
        if candidate.timestamp() <= after:
            candidate += dt.timedelta(days=1)
        return candidate.timestamp()

    # -- faults ---------------------------------------------------------------------------------

    def broadcast_error(self, code: int, message: str | None = None) -> None:
        """Send an error with reqId -1 to every API connection."""
        for s in list(self.connections):
            if s.client_id is not None:
                s.error(NO_VALID_ID, code, message)

    def lose_connectivity(self) -> None:
        """Error 1100 to everyone; market data and matching stop until restored."""
        self.faults.connected_to_ib = False
        self.broadcast_error(1100)

    def restore_connectivity(self, data_lost: bool = True) -> int:
        """1101 (market data subscriptions dropped, clients must resubscribe) or 1102 (kept).

        Returns the number of market data subscriptions dropped.
        """
        self.faults.connected_to_ib = True
        dropped = 0
        if data_lost:
            for s in list(self.connections):
                dropped += s.state.drop_market_data()
        self.broadcast_error(1101 if data_lost else 1102)
        return dropped

    async def restart(self, downtime: float = 5.0) -> None:
        """The nightly restart: drop every connection, refuse new ones for ``downtime`` seconds,
        then listen again on the same port. Orders, executions and positions survive."""
        port = self.port
        await self._close_listener()
        self.sessions.clear()
        await asyncio.sleep(downtime)
        await self._listen(port)
        self.restarts += 1

    async def _run_script(self, script: tuple[ScheduledFault, ...]) -> None:
        start = time.monotonic()
        for item in sorted(script, key=lambda f: f.at):
            await asyncio.sleep(max(0.0, item.at - (time.monotonic() - start)))
            log.info("fault: %s %s", item.action, item.arg)
            await self.apply_fault(item.action, item.arg)

    async def apply_fault(self, action: str, arg: str = "") -> None:
        """Apply a named fault action (the CLI's ``--fault AT:ACTION[:ARG]`` vocabulary)."""
        if action == "disconnect":
            self.lose_connectivity()
        elif action == "reconnect":
            self.restore_connectivity(data_lost=True)
        elif action == "reconnect-keep":
            self.restore_connectivity(data_lost=False)
        elif action == "restart":
            await self.restart(float(arg) if arg else 5.0)
        elif action == "pacing":
            self.faults.pacing.enabled = arg.lower() not in ("off", "0", "false")
        elif action == "no-permission":
            self.faults.set_permission(arg, "none")
        elif action == "delayed-only":
            self.faults.set_permission(arg, "delayed")
        elif action == "halt":
            self.engine.halted.add(arg.upper())
        elif action == "resume":
            self.engine.halted.discard(arg.upper())
        else:
            raise ValueError(f"unknown fault action {action!r}")

    # -- the gateway's own record ---------------------------------------------------------------

    @property
    def orders(self) -> list[SimOrder]:
        """Every order ever placed, in placement order."""
        return self.venue.orders

    @property
    def executions(self) -> list[Execution]:
        """Every execution, in time order."""
        return self.venue.executions

    def positions(self, account: str | None = None) -> dict[str, Decimal]:
        """Non-zero positions by local symbol, for one account or the first."""
        return self.venue.positions(account)

    def account(self, account: str | None = None) -> Account:
        """One account's record (the first managed account by default)."""
        return self.venue.account(account)

    def account_values(self, account: str | None = None) -> dict[str, float]:
        """Account values at current marks."""
        return self.venue.account_values(account)

    def client_ids(self) -> list[int]:
        """Client ids currently connected."""
        return sorted(cid for cid, s in self.sessions.items() if s.is_open)

    def market_data_subscriptions(self) -> int:
        """Live market data subscriptions across all connections."""
        return sum(
            len(s.state.market)
            + len(s.state.tick_by_tick)
            + len(s.state.realtime_bars)
            + len(s.state.live_history)
            for s in self.connections
        )

    def describe(self) -> dict[str, Any]:
        """The startup line the CLI prints."""
        return {
            "host": self.host,
            "port": self.port,
            "server_version": self.server_version,
            "accounts": self.venue.account_ids,
            "contracts": len(self.universe),
            "seed": self.config.seed,
        }


class ThreadedGateway:
    """Run a gateway on its own event loop in a background thread (for blocking clients).

    ``with ThreadedGateway(config) as gw:`` gives ``gw.port`` and ``gw.server``; use
    ``gw.call(fn)`` / ``gw.run(coro)`` to touch the server from the test thread safely.
    """

    def __init__(self, config: IbkrSimConfig | None = None) -> None:
        self.server = IbkrSimServer(config or IbkrSimConfig(port=0))
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="ibkr-sim", daemon=True)

    @property
    def port(self) -> int:
        """The bound port."""
        return self.server.port

    def __enter__(self) -> ThreadedGateway:
        self._thread.start()
        self.run(self.server.start())
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.run(self.server.stop(), timeout=10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            self._loop.close()

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 30) -> Any:
        """Run a coroutine on the gateway's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def call(self, fn: Callable[[], Any], timeout: float = 30) -> Any:
        """Call a function on the gateway's loop and wait for its result."""

        async def _call() -> Any:
            return fn()

        return self.run(_call(), timeout)
