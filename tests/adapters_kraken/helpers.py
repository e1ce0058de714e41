"""Shared helpers of the Kraken adapter tests: the local exchange (in-loop or on a thread)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import threading
from collections.abc import AsyncIterator
from typing import Any

from seraphim.adapters.kraken.common.credentials import Credentials
from seraphim.adapters.kraken.common.credentials import Secret
from seraphim.adapters.kraken.http.client import KrakenHttpClient
from seraphim.adapters.kraken.http.endpoints import KrakenSpotApi
from seraphim.sim.kraken import AccountConfig
from seraphim.sim.kraken import KrakenSimServer
from seraphim.sim.kraken import SimConfig
from seraphim.sim.kraken.threaded import ThreadedKrakenSim

KEY = "adapter-test-key"
SECRET = base64.b64encode(b"seraphim-adapter-secret-" * 3).decode()


def run(coro, timeout: float = 60.0):
    """Run one async test body, bounded in time."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def sim_config(**overrides: Any) -> SimConfig:
    """A local exchange with one funded account (the default balances: 100k USD, 10 BTC...)."""
    kwargs: dict[str, Any] = {
        "pairs": ["BTC/USD", "ETH/USD"],
        "accounts": [AccountConfig(KEY, SECRET)],
        "random_walk": {"warmup_seconds": 3 * 3600},
        "heartbeat_interval": 0.5,
        "tick_interval": 0.05,
    }
    kwargs.update(overrides)
    return SimConfig(**kwargs)


def http_client(sim: KrakenSimServer, **kwargs: Any) -> KrakenHttpClient:
    """A REST client holding the test key, pointed at the exchange, unpaced."""
    kwargs.setdefault("public_rate", 0)
    kwargs.setdefault("retry_delay_initial", 0.05)
    kwargs.setdefault("retry_delay_max", 0.4)
    return KrakenHttpClient(sim.rest_url, Credentials(KEY, Secret(SECRET)), **kwargs)


@contextlib.asynccontextmanager
async def sim_and_api(**overrides: Any) -> AsyncIterator[tuple[KrakenSimServer, KrakenSpotApi]]:
    """A started exchange (in this loop) and the adapter's typed REST API."""
    async with KrakenSimServer(sim_config(**overrides)) as sim:
        client = http_client(sim)
        try:
            yield sim, KrakenSpotApi(client)
        finally:
            await client.close()


class ThreadedSim(ThreadedKrakenSim):
    """The local exchange on its own thread (for a TradingNode in this thread), the test account."""

    def __init__(self, config: SimConfig | None = None) -> None:
        super().__init__(config or sim_config())

    @property
    def sim(self) -> KrakenSimServer | None:
        return self.server

    @property
    def account(self):
        """The test account as the exchange holds it."""
        assert self.server is not None
        return self.server.exchange.accounts[KEY]


class SilentListener:
    """A TCP server on 127.0.0.1 that accepts connections and never sends a byte."""

    def __init__(self) -> None:
        import socket

        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self._held: list = []
        self._thread = threading.Thread(target=self._accept, name="silent", daemon=True)

    def __enter__(self) -> SilentListener:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.close()
        for conn in self._held:
            conn.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            self._held.append(conn)


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
