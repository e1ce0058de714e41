"""
The local Kraken exchange's listeners (the venue itself is ``venue.py``): REST, WebSocket v2
public (``/v2``) and the ``/_sim/*`` inspection and control endpoints on one listener; the
private WebSocket at ``/v2`` on a second listener, as Kraken serves it on its own host
(``wss://ws-auth.kraken.com/v2``). The first listener also keeps the private WebSocket at its
former address ``/v2-auth``.

    async with KrakenSimServer(SimConfig(accounts=[AccountConfig(key, secret)])) as sim:
        sim.rest_url, sim.ws_public_url, sim.ws_private_url
        sim.exchange   # the exchange's truth: orders, trades, balances
        sim.faults     # fault injection
        await sim.advance(5)  # with a ManualClock
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiohttp import web

from seraphim.sim.kraken.clock import ManualClock
from seraphim.sim.kraken.config import SimConfig
from seraphim.sim.kraken.fmt import fixed
from seraphim.sim.kraken.matching import Event
from seraphim.sim.kraken.matching import KrakenError
from seraphim.sim.kraken.rest import RestApi
from seraphim.sim.kraken.rest import order_info
from seraphim.sim.kraken.rest import trade_info
from seraphim.sim.kraken.venue import KrakenSimVenue
from seraphim.sim.kraken.ws_common import WsSession
from seraphim.sim.kraken.ws_private import PrivateSession
from seraphim.sim.kraken.ws_public import PublicSession

log = logging.getLogger(__name__)

WS_PATH = "/v2"
WS_PRIVATE_LEGACY_PATH = "/v2-auth"  # the private WebSocket's address before it had a listener
# Bounds of a stop: in-flight requests and WebSocket close handshakes get this long.
SHUTDOWN_TIMEOUT = 2.0


class KrakenSimServer:
    """A running local Kraken Spot exchange (start/stop, or ``async with``)."""

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        self.venue = KrakenSimVenue(self.config)
        # The venue's parts, as callers (tests, the CLI) reach them.
        self.clock = self.venue.clock
        self.exchange = self.venue.exchange
        self.faults = self.venue.faults
        self.sources = self.venue.sources
        self.faults.drop_handler = self._drop
        self.sessions: set[WsSession] = set()
        self.exchange.listeners.append(self._on_exchange)
        self._runners: list[web.AppRunner] = []
        self._ticker: asyncio.Task | None = None
        self.host = self.config.host
        self.port = self.config.port
        self.auth_ws_port = self.config.auth_ws_port
        self.rest = RestApi(self.venue)

    # ------------------------------------------------------------ lifecycle

    @property
    def rest_url(self) -> str:
        """``http://127.0.0.1:<port>`` (REST base; paths ``/0/public/...``)."""
        return f"http://{self.host}:{self.port}"

    @property
    def ws_public_url(self) -> str:
        """WebSocket v2 public endpoint (Kraken: ``wss://ws.kraken.com/v2``)."""
        return f"ws://{self.host}:{self.port}{WS_PATH}"

    @property
    def ws_private_url(self) -> str:
        """WebSocket v2 private endpoint (Kraken: ``wss://ws-auth.kraken.com/v2``)."""
        return f"ws://{self.host}:{self.auth_ws_port}{WS_PATH}"

    def addresses(self) -> dict[str, str]:
        """The URLs a client needs."""
        return {
            "rest": self.rest_url,
            "ws_public": self.ws_public_url,
            "ws_private": self.ws_private_url,
        }

    def make_app(self) -> web.Application:
        """The main listener's application: REST, public WebSocket, control endpoints."""
        app = web.Application()
        app.add_routes(self.rest.routes())
        app.add_routes(
            [
                web.get(WS_PATH, self._ws_public),
                web.get(WS_PRIVATE_LEGACY_PATH, self._ws_private),
            ]
        )
        if self.config.control:
            app.add_routes(
                [
                    web.get("/_sim/state", self._state_handler),
                    web.post("/_sim/faults", self._faults_handler),
                    web.post("/_sim/status", self._status_handler),
                    web.post("/_sim/advance", self._advance_handler),
                ]
            )
        return app

    def make_auth_app(self) -> web.Application:
        """The private WebSocket listener's application."""
        app = web.Application()
        app.add_routes([web.get(WS_PATH, self._ws_private)])
        return app

    async def _listen(self, app: web.Application, port: int) -> int:
        runner = web.AppRunner(
            app, handle_signals=False, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT
        )
        await runner.setup()
        self._runners.append(runner)
        site = web.TCPSite(runner, self.config.host, port)
        await site.start()
        server = site._server  # the bound socket tells the real port when port=0
        if server is not None and server.sockets:  # type: ignore[union-attr]
            return server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return port

    async def start(self) -> None:
        """Seed the markets, bind both listeners and start the clock loop."""
        self.venue.seed_markets()
        try:
            self.port = await self._listen(self.make_app(), self.config.port)
            self.auth_ws_port = await self._listen(self.make_auth_app(), self.config.auth_ws_port)
        except BaseException:
            await self.stop()
            raise
        self._ticker = asyncio.create_task(self._tick_loop())

    async def stop(self) -> None:
        """Close every connection and both listening sockets (bounded in time)."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        sessions = list(self.sessions)
        for session in sessions:
            session.closed = True
        if sessions:
            await asyncio.wait(
                [asyncio.ensure_future(s.ws.close()) for s in sessions], timeout=SHUTDOWN_TIMEOUT
            )
        for runner in self._runners:
            await runner.cleanup()
        self._runners = []

    async def __aenter__(self) -> KrakenSimServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _tick_loop(self) -> None:
        last = None
        while True:
            now = self.clock.now()
            if now != last:
                self.tick()
                last = now
            await asyncio.sleep(self.config.tick_interval)

    def tick(self) -> None:
        """Apply the exchange time: scheduled faults, market sources, expiries."""
        try:
            self.venue.tick()
        except Exception:
            log.exception("exchange tick failed")

    async def advance(self, seconds: float) -> None:
        """Move a ManualClock forward, apply it, and let the writers send what it produced."""
        if not isinstance(self.clock, ManualClock):
            raise TypeError("advance() needs a ManualClock")
        self.clock.advance(seconds)
        self.tick()
        await asyncio.sleep(0)

    # ------------------------------------------------------------ websockets

    async def _serve_ws(self, request: web.Request, cls: type[WsSession]) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, timeout=SHUTDOWN_TIMEOUT)
        await ws.prepare(request)
        session = cls(self.venue, ws)
        self.sessions.add(session)
        try:
            await session.run()
        finally:
            self.sessions.discard(session)
        return ws

    async def _ws_public(self, request: web.Request) -> web.WebSocketResponse:
        return await self._serve_ws(request, PublicSession)

    async def _ws_private(self, request: web.Request) -> web.WebSocketResponse:
        return await self._serve_ws(request, PrivateSession)

    def _on_exchange(self, events: list[Event], dirty: set[str]) -> None:
        for session in list(self.sessions):
            try:
                session.on_exchange(events, dirty)
            except Exception:
                log.exception("dispatch to a WebSocket session failed")

    def _drop(self, which: str) -> int:
        targets = [s for s in self.sessions if which in ("all", s.kind)]
        for session in targets:
            session.closed = True
            asyncio.get_running_loop().create_task(session.ws.close())
        return len(targets)

    # ------------------------------------------------------------ inspection and control

    def state(self) -> dict[str, Any]:
        """The exchange's own truth (never secrets): time, status, books, accounts."""
        accounts = {}
        decimals = self.venue.asset_decimals
        for key, account in self.exchange.accounts.items():
            accounts[key] = {
                "tier": account.tier,
                "balances": {a: fixed(v, decimals(a)) for a, v in account.balances.items()},
                "holds": {a: fixed(account.hold(a), decimals(a)) for a in account.balances},
                "open_orders": {o.txid: order_info(o, True) for o in account.open_orders()},
                "orders": {t: order_info(o, True) for t, o in account.orders.items()},
                "trades": {t: trade_info(tr) for t, tr in account.trades.items()},
            }
        books = {}
        for key, book in self.exchange.books.items():
            asks, bids = book.top(10)
            books[self.exchange.pairs[key].symbol] = {
                "asks": [[str(p), str(q)] for p, q in asks],
                "bids": [[str(p), str(q)] for p, q in bids],
                "checksum": book.checksum(),
                "last": str(self.exchange.last_price[key] or ""),
            }
        return {
            "time": self.exchange.now(),
            "status": self.exchange.status,
            "books": books,
            "accounts": accounts,
            "faults": self.faults.describe(),
            "connections": {
                "public": sum(1 for s in self.sessions if s.kind == "public"),
                "private": sum(1 for s in self.sessions if s.kind == "private"),
            },
        }

    async def _state_handler(self, request: web.Request) -> web.Response:
        return web.json_response(self.state())

    async def _faults_handler(self, request: web.Request) -> web.Response:
        try:
            spec = await request.json()
            specs = spec if isinstance(spec, list) else [spec]
            for item in specs:
                self.faults.apply(item, now=self.exchange.now())
        except (ValueError, TypeError, KrakenError) as e:
            return web.json_response({"ok": False, "error": str(e)}, status=400)
        return web.json_response({"ok": True, "faults": self.faults.describe()})

    async def _status_handler(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            self.exchange.set_status(str(body.get("status")))
        except (ValueError, TypeError, AttributeError) as e:
            return web.json_response({"ok": False, "error": str(e)}, status=400)
        return web.json_response({"ok": True, "status": self.exchange.status})

    async def _advance_handler(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            await self.advance(float(body.get("seconds", 0)))
        except (ValueError, TypeError, AttributeError) as e:
            return web.json_response({"ok": False, "error": str(e)}, status=400)
        return web.json_response({"ok": True, "time": self.exchange.now()})
