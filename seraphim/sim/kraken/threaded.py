"""
The local Kraken exchange on a thread of its own, with its own event loop: for a TradingNode (or
a test, a benchmark, the parity replay) that runs in the calling thread and talks to it over
real sockets. ``call`` runs a function on the exchange's loop, where its state lives.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from seraphim.sim.kraken.config import SimConfig
from seraphim.sim.kraken.server import KrakenSimServer

START_TIMEOUT = 30.0
CALL_TIMEOUT = 30.0


class ThreadedKrakenSim:
    """A ``KrakenSimServer`` started on a thread; a context manager that stops it on exit."""

    def __init__(self, config: SimConfig, name: str = "kraken-sim") -> None:
        self.config = config
        self.server: KrakenSimServer | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def __enter__(self):
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            raise RuntimeError(f"the local exchange did not start within {START_TIMEOUT:g} s")
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *exc: object) -> None:
        if self.loop is not None and self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(START_TIMEOUT)

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()

        async def main() -> None:
            try:
                self.server = KrakenSimServer(self.config)
                await self.server.start()
                self._stop = asyncio.Event()
            except BaseException as e:
                self._error = e
                self._ready.set()
                return
            self._ready.set()
            await self._stop.wait()
            await self.server.stop()

        self.loop.run_until_complete(main())
        self.loop.close()

    @property
    def urls(self) -> dict[str, str]:
        """REST, public and private WebSocket addresses (the node file's ``kraken`` keys)."""
        assert self.server is not None
        return {
            "rest_url": self.server.rest_url,
            "ws_public_url": self.server.ws_public_url,
            "ws_private_url": self.server.ws_private_url,
        }

    def call(self, fn: Callable[[], Any], timeout: float = CALL_TIMEOUT) -> Any:
        """Run ``fn`` on the exchange's loop and wait for its result (from a plain thread)."""
        return asyncio.run_coroutine_threadsafe(self._on_exchange(fn), self._loop()).result(timeout)

    async def call_async(self, fn: Callable[[], Any], timeout: float = CALL_TIMEOUT) -> Any:
        """Run ``fn`` on the exchange's loop from another event loop, without blocking it."""
        future = asyncio.run_coroutine_threadsafe(self._on_exchange(fn), self._loop())
        return await asyncio.wait_for(asyncio.wrap_future(future), timeout)

    def call_later(self, delay: float, fn: Callable[[], Any]) -> None:
        """Run ``fn`` on the exchange's loop after ``delay`` seconds."""
        loop = self._loop()
        loop.call_soon_threadsafe(loop.call_later, delay, fn)

    def _loop(self) -> asyncio.AbstractEventLoop:
        if self.loop is None:
            raise RuntimeError("the local exchange is not running")
        return self.loop

    @staticmethod
    async def _on_exchange(fn: Callable[[], Any]) -> Any:
        return fn()
