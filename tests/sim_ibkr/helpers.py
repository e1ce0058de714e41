"""Helpers for driving the local IB gateway with real clients over real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any

from ib_async import IB
from ib_async import util

from seraphim.sim.ibkr import IbkrSimConfig
from seraphim.sim.ibkr import IbkrSimServer

# A weekday during regular US trading hours, for tests that need a fixed clock.
WEDNESDAY_NOON = dt.datetime(2025, 3, 12, 16, 0, tzinfo=dt.UTC).timestamp()


def async_test(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
    """Run an async test function in a fresh event loop (there is no pytest-asyncio here)."""

    async def run(*args: Any, **kwargs: Any) -> Any:
        util.getLoop.cache_clear()  # ib_async 2.0.1 would keep an earlier test's closed loop
        return await asyncio.wait_for(fn(*args, **kwargs), timeout=60)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return asyncio.run(run(*args, **kwargs))

    return wrapper


def config(**overrides: Any) -> IbkrSimConfig:
    """A test configuration: ephemeral port, fast market ticks."""
    base: dict[str, Any] = {"port": 0, "tick_interval": 0.05}
    base.update(overrides)
    return IbkrSimConfig(**base)


@contextlib.asynccontextmanager
async def gateway(**overrides: Any) -> AsyncIterator[IbkrSimServer]:
    """A running gateway for the duration of the block."""
    async with IbkrSimServer(config(**overrides)) as gw:
        yield gw


class ErrorLog:
    """Collects (reqId, code, message) from an ib_async IB's errorEvent."""

    def __init__(self, ib: IB) -> None:
        self.items: list[tuple[int, int, str]] = []
        ib.errorEvent += self._on_error

    def _on_error(self, req_id: int, code: int, message: str, contract: Any = None) -> None:
        self.items.append((req_id, code, message))

    def codes(self) -> list[int]:
        """Error codes seen, in order."""
        return [code for _, code, _ in self.items]

    async def wait_for(self, code: int, timeout: float = 5.0) -> tuple[int, int, str]:
        """Wait until an error with this code has arrived."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for item in self.items:
                if item[1] == code:
                    return item
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"error {code} not received; got {self.items}")
            await asyncio.sleep(0.02)


async def connect(gw: IbkrSimServer, client_id: int = 1, **kwargs: Any) -> IB:
    """An ib_async IB connected to the gateway."""
    ib = IB()
    ib.RaiseRequestErrors = False
    await ib.connectAsync("127.0.0.1", gw.port, clientId=client_id, timeout=5, **kwargs)
    return ib


async def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll until ``predicate()`` is true."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
