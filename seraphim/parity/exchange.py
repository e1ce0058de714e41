"""
The local Kraken exchange on its own thread, on a manual clock that the parity pacer moves one
market print at a time (a node in the main thread trades against it over real sockets).
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from seraphim.sim.kraken import AccountConfig
from seraphim.sim.kraken import KrakenSimServer
from seraphim.sim.kraken import SimConfig
from seraphim.sim.kraken.bar_path import BarPathSource
from seraphim.sim.kraken.clock import ManualClock
from seraphim.sim.kraken.instruments import asset_info
from seraphim.sim.kraken.instruments import load_sim_pairs

START_TIMEOUT = 30.0
CALL_TIMEOUT = 30.0
# The replay runs months of exchange time in minutes: a WebSocket token must outlive it.
TOKEN_TTL = 10 * 365 * 86400.0


def parity_credentials() -> tuple[str, str]:
    """A fresh key and base64 secret for one run (the exchange accepts them, the node signs)."""
    return f"parity-{secrets.token_hex(4)}", base64.b64encode(secrets.token_bytes(32)).decode()


def starting_balances(pairs: list[str], balances: list[str]) -> dict[str, Decimal]:
    """
    Kraken asset ids and amounts from a backtest venue's ``starting_balances`` ("100000 USD"):
    every asset of ``pairs`` starts at zero unless named, as a fresh backtest account does.
    """
    assets = {}
    for pair in load_sim_pairs(pairs):
        for asset in (pair.base, pair.quote):
            assets[asset.ws_name] = asset.asset_id
    out = dict.fromkeys(assets.values(), Decimal(0))
    for item in balances:
        amount, _, code = item.strip().partition(" ")
        if code not in assets:
            raise ValueError(f"starting balance {item!r}: {code} is not an asset of {pairs}")
        out[assets[code]] = Decimal(amount)
    return out


class LockstepExchange:
    """A ``KrakenSimServer`` replaying ``sources`` (pair -> BarPathSource) on a thread."""

    def __init__(
        self,
        sources: dict[str, BarPathSource],
        account: AccountConfig,
    ) -> None:
        start = min(s.first_time for s in sources.values())
        self.clock = ManualClock(start)
        self.account_key = account.api_key
        self.config = SimConfig(
            pairs=list(sources),
            accounts=[account],
            clock=self.clock,
            sources=dict(sources),
            token_ttl=TOKEN_TTL,
            # Only the pacer moves the market (one pair at a time): the exchange's own clock
            # loop, which would apply every pair at once, never runs after the start.
            tick_interval=TOKEN_TTL,
            heartbeat_interval=1.0,
        )
        self.server: KrakenSimServer | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="parity-exchange", daemon=True)

    def __enter__(self) -> LockstepExchange:
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
        """REST, public and private WebSocket addresses."""
        assert self.server is not None
        return {
            "rest_url": self.server.rest_url,
            "ws_public_url": self.server.ws_public_url,
            "ws_private_url": self.server.ws_private_url,
        }

    async def call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the exchange's loop from another loop, without blocking that loop."""
        assert self.loop is not None

        async def on_exchange() -> Any:
            return fn()

        future = asyncio.run_coroutine_threadsafe(on_exchange(), self.loop)
        return await asyncio.wait_for(asyncio.wrap_future(future), CALL_TIMEOUT)

    def call_sync(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the exchange's loop and wait for its result (from a plain thread)."""
        assert self.loop is not None

        async def on_exchange() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(on_exchange(), self.loop).result(CALL_TIMEOUT)

    def _account_view(self) -> tuple[int, dict[str, Decimal]]:
        assert self.server is not None
        account = self.server.exchange.accounts[self.account_key]
        balances = {asset_info(a).ws_name: v for a, v in account.balances.items()}
        return len(account.trades), balances

    def _step(self, when: float, pair: str) -> None:
        assert self.server is not None
        self.clock.set(when)
        key = self.server.exchange.find_pair(pair).key
        self.server.exchange.advance({key: self.server.sources[key]})

    async def step(self, when: float, pair: str) -> None:
        """Move the clock to ``when`` and apply the prints of ``pair`` due by then."""
        await self.call(lambda: self._step(when, pair))

    async def account_view(self) -> tuple[int, dict[str, Decimal]]:
        """How many fills the account has and its balances by currency code, now."""
        return await self.call(self._account_view)

    def _subscribed(self, symbols: list[str]) -> bool:
        assert self.server is not None
        seen = set()
        for session in self.server.sessions:
            seen.update(getattr(session, "ohlc", {}))
        return set(symbols) <= seen

    async def subscribed(self, symbols: list[str]) -> bool:
        """Whether a client follows the OHLC channel of every symbol."""
        return await self.call(lambda: self._subscribed(symbols))

    def records(self) -> dict[str, Any]:
        """The venue's own orders and trades of the account (``/_sim/state``'s view)."""
        assert self.server is not None
        return self.call_sync(lambda: self.server.state()["accounts"][self.account_key])
