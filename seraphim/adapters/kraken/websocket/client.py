"""
A Kraken WebSocket v2 connection that stays up: reconnects with capped backoff, resubscribes
every channel it was subscribed to, and matches request/response pairs by ``req_id``.

Everything runs on the caller's event loop (aiohttp), so handlers may touch nautilus components
directly. nautilus_pyo3's WebSocketClient calls its handler from a Rust runtime thread instead,
which would need a thread hop for every message and for the book state (see the report).

Liveness: the client pings every ``ping_interval`` seconds and treats a connection that says
nothing for ``idle_timeout`` seconds (Kraken heartbeats once a second) as dead.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any

import aiohttp
import msgspec

from seraphim.adapters.kraken.common.errors import KrakenAmbiguousError
from seraphim.adapters.kraken.common.errors import KrakenApiError
from seraphim.adapters.kraken.common.errors import KrakenTransportError
from seraphim.adapters.kraken.common.errors import error_from_strings
from seraphim.adapters.kraken.schemas.ws import MethodResponse
from seraphim.adapters.kraken.schemas.ws import WsHeader

DEFAULT_WS_PUBLIC_URL = "wss://ws.kraken.com/v2"
DEFAULT_WS_PRIVATE_URL = "wss://ws-auth.kraken.com/v2"

_HEADER = msgspec.json.Decoder(WsHeader)
_RESPONSE = msgspec.json.Decoder(MethodResponse)
_ENCODER = msgspec.json.Encoder()


class KrakenWsNotConnected(KrakenTransportError):
    """The connection is down: nothing was sent."""


class KrakenWebSocketClient:
    """
    One WebSocket v2 connection.

    Parameters
    ----------
    url : str
        ``wss://ws.kraken.com/v2``, ``wss://ws-auth.kraken.com/v2`` or the local exchange's.
    handler : Callable[[str], None]
        Called with the text of every channel message (not with request responses).
    token_provider : async callable, optional
        For the private endpoint: returns a fresh token (GetWebSocketsToken).
    on_reconnect : callable, optional
        Called after a reconnect has resubscribed everything, before the next message is read.
        It must not wait (the stream is not read meanwhile): longer work goes in a task.
    on_disconnect : callable, optional
        Called when the connection drops (before reconnecting).

    """

    def __init__(
        self,
        url: str,
        handler: Callable[[str], None],
        *,
        name: str = "public",
        token_provider: Callable[[], Awaitable[str]] | None = None,
        on_reconnect: Callable[[], None] | None = None,
        on_disconnect: Callable[[], None] | None = None,
        ping_interval: float = 10.0,
        idle_timeout: float = 15.0,
        request_timeout: float = 5.0,
        reconnect_delay_initial: float = 0.25,
        reconnect_delay_max: float = 30.0,
        token_refresh_secs: float = 600.0,
        logger: Any = None,
    ) -> None:
        if not url.startswith(("ws://", "wss://")):
            raise ValueError(f"WebSocket URL must start with ws(s)://, was {url!r}")
        self.url = url
        self.name = name
        self._handler = handler
        self._token_provider = token_provider
        self._on_reconnect = on_reconnect
        self._on_disconnect = on_disconnect
        self.ping_interval = ping_interval
        self.idle_timeout = idle_timeout
        self.request_timeout = request_timeout
        self.reconnect_delay_initial = reconnect_delay_initial
        self.reconnect_delay_max = reconnect_delay_max
        self.token_refresh_secs = token_refresh_secs
        self._log = logger or logging.getLogger(__name__)
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._token: str | None = None
        self._token_time = 0.0
        self._subscriptions: dict[str, dict[str, Any]] = {}
        self._pending: dict[int, asyncio.Future] = {}
        self._req_ids = itertools.count(1)
        self._run_task: asyncio.Task | None = None
        self._ping_task: asyncio.Task | None = None
        self._connected = asyncio.Event()
        self._stopping = False
        self.stats: Counter[str] = Counter()
        self.last_message = 0.0

    # ------------------------------------------------------------------ state

    @property
    def is_connected(self) -> bool:
        """True while the socket is open."""
        return self._ws is not None and not self._ws.closed and self._connected.is_set()

    @property
    def subscriptions(self) -> dict[str, dict[str, Any]]:
        """Subscription key -> params, as they will be resent after a reconnect."""
        return dict(self._subscriptions)

    async def wait_connected(self, timeout: float) -> bool:
        """Wait until connected (True) or ``timeout`` passes (False)."""
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
        except TimeoutError:
            return False
        return True

    # ------------------------------------------------------------------ lifecycle

    async def connect(self) -> None:
        """Open the connection (raises when the first attempt fails) and keep it open."""
        self._stopping = False
        await self._open()
        self._run_task = asyncio.get_running_loop().create_task(
            self._run(), name=f"kraken-ws-{self.name}"
        )
        self._ping_task = asyncio.get_running_loop().create_task(
            self._ping_loop(), name=f"kraken-ws-{self.name}-ping"
        )

    async def disconnect(self) -> None:
        """Close for good (no reconnect)."""
        self._stopping = True
        for task in (self._ping_task, self._run_task):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._ping_task = self._run_task = None
        await self._close_socket()
        # Those requests were sent: their outcome is unknown, not "never sent".
        self._fail_pending(
            KrakenAmbiguousError("connection closed before the answer arrived", method=self.name)
        )
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _open(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        self.stats["connect_attempts"] += 1
        if self._token_provider is not None:
            # A fresh token for every connection, fetched first: a slow REST call (e.g. paced
            # by the rate limit) must not leave a new socket unread until the venue drops it.
            await self._refresh_token()
        try:
            self._ws = await asyncio.wait_for(
                self._session.ws_connect(self.url, autoping=True, heartbeat=None, max_msg_size=0),
                10.0,
            )
        except (aiohttp.ClientError, OSError, TimeoutError) as e:
            raise KrakenTransportError(
                f"cannot connect WebSocket {self.url}: {type(e).__name__}", method=self.name
            ) from None
        self.stats["connects"] += 1
        self.last_message = time.monotonic()
        self._connected.set()

    async def _refresh_token(self) -> None:
        assert self._token_provider is not None
        self._token = await self._token_provider()
        self._token_time = time.monotonic()

    async def _close_socket(self) -> None:
        self._connected.clear()
        ws, self._ws = self._ws, None
        if ws is not None and not ws.closed:
            with contextlib.suppress(Exception):
                await ws.close()

    async def _run(self) -> None:
        delay = self.reconnect_delay_initial
        while not self._stopping:
            ws = self._ws
            if ws is not None:
                await self._read(ws)
            if self._stopping:
                return
            self._connected.clear()
            self._fail_pending(
                KrakenAmbiguousError("connection lost before the answer arrived", method=self.name)
            )
            if self._on_disconnect is not None:
                try:
                    self._on_disconnect()
                except Exception as e:
                    self._log.error(f"{self.name} on_disconnect failed: {e!r}")
            self.stats["disconnects"] += 1
            # Reconnect with capped exponential backoff and jitter.
            while not self._stopping:
                sleep = delay / 2 + random.uniform(0, delay / 2)
                self._log.warning(
                    f"Kraken WebSocket {self.name} disconnected; reconnecting in {sleep:.2f}s"
                )
                await asyncio.sleep(sleep)
                try:
                    await self._close_socket()
                    await self._open()
                    await self._resubscribe()
                except Exception as e:
                    delay = min(delay * 2, self.reconnect_delay_max)
                    self._log.warning(f"Kraken WebSocket {self.name} reconnect failed: {e}")
                    await self._close_socket()
                    continue
                self.stats["reconnects"] += 1
                delay = self.reconnect_delay_initial
                self._log.warning(
                    f"Kraken WebSocket {self.name} reconnected; "
                    f"{len(self._subscriptions)} subscription(s) restored"
                )
                if self._on_reconnect is not None:
                    try:
                        self._on_reconnect()
                    except Exception as e:
                        self._log.error(f"{self.name} on_reconnect failed: {e!r}")
                break

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        # One idle timer per quiet period instead of a timeout around every receive (which
        # cost a fifth of the socket path's CPU at book-stream rates).
        watchdog = _IdleWatchdog(self, asyncio.current_task())  # type: ignore[arg-type]
        try:
            while not self._stopping:
                try:
                    msg = await ws.receive()
                except asyncio.CancelledError:
                    if not watchdog.fired or watchdog.task.uncancel() > 0:
                        raise
                    self._log.warning(
                        f"Kraken WebSocket {self.name} silent for {self.idle_timeout}s; "
                        "reconnecting"
                    )
                    self.stats["idle_timeouts"] += 1
                    return
                except Exception as e:
                    self._log.warning(f"Kraken WebSocket {self.name} read failed: {e!r}")
                    return
                if msg.type == aiohttp.WSMsgType.TEXT:
                    self.last_message = time.monotonic()
                    self.stats["messages"] += 1
                    self._dispatch(msg.data)
                elif msg.type == aiohttp.WSMsgType.BINARY:
                    self.last_message = time.monotonic()
                    self._dispatch(msg.data.decode("utf-8", "replace"))
                elif msg.type in (
                    aiohttp.WSMsgType.CLOSE,
                    aiohttp.WSMsgType.CLOSING,
                    aiohttp.WSMsgType.CLOSED,
                    aiohttp.WSMsgType.ERROR,
                ):
                    return
        finally:
            watchdog.cancel()

    async def _ping_loop(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self.ping_interval)
            if self.is_connected:
                with contextlib.suppress(Exception):
                    await self._send({"method": "ping", "req_id": next(self._req_ids)})

    # ------------------------------------------------------------------ messages

    def _dispatch(self, text: str) -> None:
        if text.startswith('{"channel"'):
            self._call_handler(text)
            return
        try:
            header = _HEADER.decode(text)
        except msgspec.DecodeError:
            self.stats["malformed"] += 1
            self._log.error(f"Kraken WebSocket {self.name}: malformed message {text[:120]!r}")
            return
        if header.method is not None:
            if header.method == "pong":
                return
            future = self._pending.pop(header.req_id, None) if header.req_id is not None else None
            if future is not None and not future.done():
                future.set_result(text)
            elif header.success is False:
                self._log.warning(
                    f"Kraken WebSocket {self.name}: {header.method} failed: {header.error}"
                )
            return
        if header.channel is not None:
            self._call_handler(text)
        elif header.error is not None:
            self._log.warning(f"Kraken WebSocket {self.name}: {header.error}")

    def _call_handler(self, text: str) -> None:
        try:
            self._handler(text)
        except Exception as e:
            self.stats["handler_errors"] += 1
            self._log.error(f"Kraken WebSocket {self.name}: handler failed on message: {e!r}")

    def _fail_pending(self, error: Exception) -> None:
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(error)

    async def _send(self, message: dict[str, Any]) -> None:
        ws = self._ws
        if ws is None or ws.closed or not self._connected.is_set():
            raise KrakenWsNotConnected("WebSocket not connected", method=self.name)
        try:
            await ws.send_str(_ENCODER.encode(message).decode())
        except (ConnectionError, RuntimeError, aiohttp.ClientError) as e:
            raise KrakenWsNotConnected(
                f"send failed: {type(e).__name__}", method=self.name
            ) from None

    def _with_token(self, params: dict[str, Any]) -> dict[str, Any]:
        if self._token_provider is None:
            return params
        return {**params, "token": self._token}

    async def request(
        self, method: str, params: dict[str, Any], timeout: float | None = None
    ) -> MethodResponse:
        """
        Send a request and return its response (``success`` may be False: see ``error``).

        Raises ``KrakenWsNotConnected`` when nothing could be sent, ``KrakenAmbiguousError`` when
        it was sent but no answer came (timeout or the connection dropped). A request refused
        for an expired or invalid token (``ESession:...``, not processed) is resent once with a
        fresh token.
        """
        if self._token_provider is not None and (
            time.monotonic() - self._token_time > self.token_refresh_secs
        ):
            await self._refresh_token()
        response = await self._request_once(method, params, timeout)
        if (
            self._token_provider is not None
            and response.success is False
            and (response.error or "").startswith("ESession")
        ):
            self.stats["token_refreshes"] += 1
            await self._refresh_token()
            response = await self._request_once(method, params, timeout)
        return response

    async def _request_once(
        self, method: str, params: dict[str, Any], timeout: float | None
    ) -> MethodResponse:
        req_id = next(self._req_ids)
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._pending[req_id] = future
        try:
            await self._send(
                {"method": method, "params": self._with_token(params), "req_id": req_id}
            )
        except Exception:
            self._pending.pop(req_id, None)
            raise
        try:
            text = await asyncio.wait_for(future, timeout or self.request_timeout)
        except TimeoutError:
            self._pending.pop(req_id, None)
            raise KrakenAmbiguousError(
                f"{method}: no answer within {timeout or self.request_timeout}s", method=self.name
            ) from None
        return _RESPONSE.decode(text)

    # ------------------------------------------------------------------ subscriptions

    @staticmethod
    def subscription_key(params: dict[str, Any]) -> str:
        """A stable key for a subscription (channel, symbols and options)."""
        return json.dumps({k: v for k, v in params.items() if k != "snapshot"}, sort_keys=True)

    async def subscribe(self, params: dict[str, Any], *, wait: bool = True) -> None:
        """
        Subscribe (and remember it for reconnects). With ``wait``, waits for the first ack and
        raises ``KrakenApiError`` when the venue refuses (e.g. unknown symbol).
        """
        key = self.subscription_key(params)
        self._subscriptions[key] = dict(params)
        if not self.is_connected:
            return  # sent on (re)connect
        try:
            response = await self.request("subscribe", params)
        except KrakenTransportError:
            return  # the reconnect will resubscribe
        if wait and response.success is False:
            self._subscriptions.pop(key, None)
            raise error_from_strings([response.error or "subscribe failed"], "subscribe")

    async def unsubscribe(self, params: dict[str, Any]) -> None:
        """Unsubscribe and forget."""
        self._subscriptions.pop(self.subscription_key(params), None)
        if not self.is_connected:
            return
        unsub = {k: v for k, v in params.items() if k != "snapshot"}
        with contextlib.suppress(KrakenTransportError, KrakenApiError):
            await self.request("unsubscribe", unsub)

    async def _resubscribe(self) -> None:
        for params in list(self._subscriptions.values()):
            await self._send(
                {
                    "method": "subscribe",
                    "params": self._with_token(params),
                    "req_id": next(self._req_ids),
                }
            )


class _IdleWatchdog:
    """
    Cancels the reading task once its connection has said nothing for ``idle_timeout``
    seconds. The timer is re-armed only when it fires early (messages came meanwhile), so a
    busy stream costs no timer work per message.
    """

    def __init__(self, client: KrakenWebSocketClient, task: asyncio.Task) -> None:
        self.client = client
        self.task = task
        self.fired = False
        self._loop = asyncio.get_running_loop()
        self._handle = self._loop.call_later(client.idle_timeout, self._check)

    def _check(self) -> None:
        idle = time.monotonic() - self.client.last_message
        if idle >= self.client.idle_timeout:
            self.fired = True
            self.task.cancel()
        else:
            self._handle = self._loop.call_later(self.client.idle_timeout - idle, self._check)

    def cancel(self) -> None:
        self._handle.cancel()
