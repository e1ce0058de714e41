"""Helpers for the local Kraken exchange tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp

from seraphim.sim.kraken import AccountConfig
from seraphim.sim.kraken import KrakenSimServer
from seraphim.sim.kraken import SimConfig
from seraphim.sim.kraken.clock import ManualClock
from seraphim.sim.kraken.market import StaticBookSource

from .client import TEST_SECRET
from .client import RestClient

KEY = "test-key"
START = 1_700_000_000.0


def run(coro, timeout: float = 30.0):
    """Run one async test body."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def make_config(**overrides) -> SimConfig:
    """A deterministic test exchange: manual clock, one funded account, static BTC/USD book."""
    kwargs = {
        "pairs": ["BTC/USD", "ETH/USD"],
        "accounts": [
            AccountConfig(KEY, TEST_SECRET, balances={"ZUSD": "100000", "XXBT": "2", "XETH": "10"})
        ],
        "clock": ManualClock(START),
        "sources": {
            "BTC/USD": StaticBookSource(
                bids=[("49990.0", "0.5"), ("49980.0", "1.0")],
                asks=[("50000.0", "0.5"), ("50010.0", "1.0")],
            )
        },
        "random_walk": {"warmup_seconds": 3600},
        "heartbeat_interval": 0.2,
    }
    kwargs.update(overrides)
    return SimConfig(**kwargs)


@contextlib.asynccontextmanager
async def sim_and_client(**overrides) -> AsyncIterator[tuple[KrakenSimServer, RestClient]]:
    """A started exchange and a REST client holding the test key."""
    async with KrakenSimServer(make_config(**overrides)) as sim, aiohttp.ClientSession() as s:
        yield sim, RestClient(s, sim.rest_url, KEY, TEST_SECRET)
