"""What public and private WebSocket v2 sessions share: framing, ping, heartbeat, replies."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from typing import TYPE_CHECKING
from typing import Any

from aiohttp import WSMsgType
from aiohttp import web

from seraphim.sim.kraken.fmt import rfc3339
from seraphim.sim.kraken.matching import Event

if TYPE_CHECKING:
    from seraphim.sim.kraken.venue import KrakenSimVenue

log = logging.getLogger(__name__)


class WsSession:
    """One WebSocket v2 connection: an ordered writer, heartbeats and request dispatch."""

    kind = "public"

    def __init__(self, venue: KrakenSimVenue, ws: web.WebSocketResponse) -> None:
        self.venue = venue
        self.exchange = venue.exchange
        self.ws = ws
        self.subscribed = False
        self.closed = False
        self._backlog: deque[str] = deque()  # messages not written yet, in order
        self._writer: asyncio.Task | None = None

    # ------------------------------------------------------------ io

    def send(self, message: dict[str, Any]) -> None:
        """Write a message now, or after the ones before it while the socket pushes back."""
        if self.closed:
            return
        self._backlog.append(json.dumps(message))
        if self._writer is None or self._writer.done():
            # Started eagerly, the writer writes the frame within this call instead of in a
            # later turn of the event loop (after the rest of the exchange's step): it only
            # suspends when the socket's buffer is full.
            self._writer = asyncio.Task(
                self._write_backlog(), loop=asyncio.get_running_loop(), eager_start=True
            )

    def send_later(self, message: dict[str, Any], delay: float) -> None:
        """Send a message after ``delay`` real seconds."""
        asyncio.get_running_loop().call_later(delay, self.send, message)

    async def _write_backlog(self) -> None:
        while self._backlog and not self.ws.closed:
            try:
                await self.ws.send_str(self._backlog.popleft())
            except (ConnectionError, RuntimeError):
                self._backlog.clear()
                return

    async def _heartbeat(self) -> None:
        while not self.ws.closed:
            await asyncio.sleep(self.venue.config.heartbeat_interval)
            if self.subscribed:
                self.send({"channel": "heartbeat"})

    async def run(self) -> None:
        """Serve the connection until it closes."""
        heartbeat = asyncio.create_task(self._heartbeat())
        self.send(
            {
                "channel": "status",
                "type": "update",
                "data": [
                    {
                        "version": "2.0.10",
                        "system": self.exchange.status,
                        "api_version": "v2",
                        "connection_id": self.exchange.ids.connection_id(),
                    }
                ],
            }
        )
        try:
            async for msg in self.ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                self._on_text(msg.data)
        finally:
            self.closed = True
            heartbeat.cancel()
            if self._writer is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await self._writer

    def _on_text(self, text: str) -> None:
        time_in = rfc3339(self.exchange.now())
        try:
            request = json.loads(text)
            if not isinstance(request, dict):
                raise ValueError
        except ValueError:
            self.send({"error": "EGeneral:Invalid arguments", "success": False, "time_in": time_in})
            return
        method = request.get("method")
        req_id = request.get("req_id")
        if method == "ping":
            reply: dict[str, Any] = {"method": "pong"}
            if req_id is not None:
                reply["req_id"] = req_id
            reply.update(time_in=time_in, time_out=rfc3339(self.exchange.now()))
            self.send(reply)
            return
        params = request.get("params") or {}
        if not isinstance(params, dict):
            self.error(str(method), req_id, "EGeneral:Invalid arguments", time_in)
            return
        try:
            self.handle(str(method), params, req_id, time_in)
        except Exception:
            log.exception("WebSocket %s failed", method)
            self.error(str(method), req_id, "EGeneral:Internal error", time_in)

    def handle(self, method: str, params: dict[str, Any], req_id: Any, time_in: str) -> None:
        """Dispatch one request (overridden)."""
        self.error(method, req_id, "Method not supported", time_in)

    # ------------------------------------------------------------ replies

    def reply(self, method: str, req_id: Any, result: Any, time_in: str, **extra: Any) -> None:
        """A success response."""
        message: dict[str, Any] = {"method": method}
        if req_id is not None:
            message["req_id"] = req_id
        message.update(result=result, success=True, **extra)
        message.update(time_in=time_in, time_out=rfc3339(self.exchange.now()))
        self.send(message)

    def error(self, method: str, req_id: Any, error: str, time_in: str, **extra: Any) -> None:
        """A failure response."""
        message: dict[str, Any] = {"error": error, "method": method}
        if req_id is not None:
            message["req_id"] = req_id
        message.update(success=False, **extra)
        message.update(time_in=time_in, time_out=rfc3339(self.exchange.now()))
        self.send(message)

    def on_exchange(self, events: list[Event], dirty: set[str]) -> None:
        """Exchange events after an operation (overridden)."""

    async def close(self) -> None:
        """Drop the connection."""
        self.closed = True
        await self.ws.close()
