"""
The local Kraken exchange on its own thread, on a manual clock that the parity pacer moves one
market print at a time (a node in the main thread trades against it over real sockets).
"""

from __future__ import annotations

import base64
import secrets
from decimal import Decimal
from typing import Any

from seraphim.sim.kraken import AccountConfig
from seraphim.sim.kraken import SimConfig
from seraphim.sim.kraken.bar_path import BarPathSource
from seraphim.sim.kraken.clock import ManualClock
from seraphim.sim.kraken.instruments import asset_info
from seraphim.sim.kraken.instruments import load_sim_pairs
from seraphim.sim.kraken.threaded import ThreadedKrakenSim

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


class LockstepExchange(ThreadedKrakenSim):
    """A local exchange replaying ``sources`` (pair -> BarPathSource) on a thread."""

    def __init__(
        self,
        sources: dict[str, BarPathSource],
        account: AccountConfig,
    ) -> None:
        start = min(s.first_time for s in sources.values())
        self.clock = ManualClock(start)
        self.account_key = account.api_key
        config = SimConfig(
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
        super().__init__(config, name="parity-exchange")

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
        await self.call_async(lambda: self._step(when, pair))

    async def account_view(self) -> tuple[int, dict[str, Decimal]]:
        """How many fills the account has and its balances by currency code, now."""
        return await self.call_async(self._account_view)

    def _subscribed(self, symbols: list[str]) -> bool:
        assert self.server is not None
        seen = set()
        for session in self.server.sessions:
            seen.update(getattr(session, "ohlc", {}))
        return set(symbols) <= seen

    async def subscribed(self, symbols: list[str]) -> bool:
        """Whether a client follows the OHLC channel of every symbol."""
        return await self.call_async(lambda: self._subscribed(symbols))

    def records(self) -> dict[str, Any]:
        """The venue's own orders and trades of the account (``/_sim/state``'s view)."""
        assert self.server is not None
        return self.call(lambda: self.server.state()["accounts"][self.account_key])
