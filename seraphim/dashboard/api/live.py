"""``/api/ws``: live node health and order events (fills within a second of the venue's)."""

from __future__ import annotations

from urllib.parse import urlsplit

import anyio
from fastapi import APIRouter
from fastapi import WebSocket
from fastapi import WebSocketDisconnect

from seraphim.dashboard.sessions import COOKIE_NAME

router = APIRouter(tags=["live"])


@router.websocket("/api/ws")
async def live(websocket: WebSocket) -> None:
    """Signed-in viewers only, from this site only (the Origin must be the dashboard's own: a
    WebSocket is not covered by SameSite cookies alone). Messages are JSON: ``{"type": "health",
    "trader_id", "health"}`` or ``{"type": "order", "trader_id", "stream_id", "event"}``."""
    services = websocket.app.state.services
    current = services.sessions.get(websocket.cookies.get(COOKIE_NAME))
    origin = websocket.headers.get("origin")
    if current is None or (origin and urlsplit(origin).netloc != websocket.headers.get("host")):
        await websocket.close(code=4401 if current is None else 4403)
        return
    await websocket.accept()
    feed = websocket.app.state.feed
    subscriber = feed.subscribe()

    async def forward() -> None:
        await websocket.send_json({"type": "hello", "user": current.user.name})
        while True:
            message = await subscriber.queue.get()
            if services.sessions.get(websocket.cookies.get(COOKIE_NAME)) is None:
                await websocket.close(code=4401)  # signed out or expired meanwhile
                return
            await websocket.send_text(message.decode())

    async def until_closed() -> None:
        # The viewer only listens; reading is how a departed viewer (or a server shutting
        # down) is noticed while no message is on its way.
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass

    try:
        async with anyio.create_task_group() as group:

            async def first_to_end(part) -> None:
                await part()
                group.cancel_scope.cancel()

            group.start_soon(first_to_end, forward)
            group.start_soon(first_to_end, until_closed)
    except* WebSocketDisconnect:
        pass  # the viewer left while a message was on its way (from the task group)
    finally:
        feed.unsubscribe(subscriber)
