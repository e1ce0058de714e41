"""
Kraken's rate-limit counters, kept on the client side so the venue never has to refuse us.

The rules themselves (tiers, costs) are in ``seraphim.adapters.kraken.common.rate_limits``.
Each ``acquire`` waits (asynchronously) until the cost fits under the tier's maximum. When the
venue still answers with a rate-limit error (another process shares the key, or a restarted
node meets a counter that is still high), ``saturate`` marks the counter full so the next call
waits for a full decay step instead of hammering the venue.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from seraphim.adapters.kraken.common.rate_limits import REST_TIERS
from seraphim.adapters.kraken.common.rate_limits import TRADING_TIERS
from seraphim.adapters.kraken.common.rate_limits import rest_cost


@dataclass
class DecayingCounter:
    """A counter that decays continuously at ``decay`` per second and must stay <= ``maximum``."""

    maximum: float
    decay: float
    headroom: float = 0.0  # keep this much below the venue's maximum
    clock: Callable[[], float] = time.monotonic
    value: float = 0.0
    at: float = 0.0

    def level(self) -> float:
        """The counter now."""
        now = self.clock()
        return max(0.0, self.value - max(0.0, now - self.at) * self.decay)

    def wait_time(self, cost: float) -> float:
        """Seconds until ``cost`` fits (0 when it fits now)."""
        limit = max(self.maximum - self.headroom, min(cost, self.maximum))
        excess = self.level() + cost - limit
        return excess / self.decay if excess > 0 else 0.0

    def add(self, cost: float) -> None:
        """Charge ``cost`` now."""
        now = self.clock()
        self.value, self.at = self.level() + cost, now

    def saturate(self) -> None:
        """The venue says we are over: assume the counter is full."""
        self.value, self.at = self.maximum, self.clock()


class KrakenRateLimiter:
    """The REST counter of one key and the trading counters of its pairs."""

    def __init__(
        self,
        tier: str = "starter",
        *,
        headroom: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if tier not in REST_TIERS:
            raise ValueError(f"unknown Kraken tier {tier!r} (one of {', '.join(REST_TIERS)})")
        self.tier = tier
        self._clock = clock
        self._headroom = headroom
        maximum, decay = REST_TIERS[tier]
        self.rest = DecayingCounter(maximum, decay, headroom, clock)
        self._trading: dict[str, DecayingCounter] = {}
        # Per counter: the loop its lock belongs to. Keyed by the loop object, not its id(): a
        # later loop may reuse a closed one's id and inherit a lock that loop left held.
        self._locks: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Lock]] = {}
        self.waited_seconds = 0.0  # total time spent waiting (for stats and tests)

    def trading(self, pair: str) -> DecayingCounter:
        """The trading counter of a pair."""
        counter = self._trading.get(pair)
        if counter is None:
            maximum, decay = TRADING_TIERS[self.tier]
            counter = DecayingCounter(maximum, decay, self._headroom, self._clock)
            self._trading[pair] = counter
        return counter

    async def _acquire(self, counter: DecayingCounter, cost: float) -> None:
        if cost <= 0:
            return
        loop = asyncio.get_running_loop()
        entry = self._locks.get(id(counter))  # counters live as long as the limiter
        if entry is None or entry[0] is not loop:
            entry = self._locks[id(counter)] = (loop, asyncio.Lock())
        async with entry[1]:
            while True:
                wait = counter.wait_time(cost)
                if wait <= 0:
                    counter.add(cost)
                    return
                self.waited_seconds += wait
                await asyncio.sleep(wait)

    async def acquire_rest(self, method: str) -> None:
        """Wait until a REST call fits under the key's counter, then charge it."""
        await self._acquire(self.rest, rest_cost(method))

    async def acquire_trading(self, pair: str, cost: float = 1.0) -> None:
        """Wait until a trading action fits under the pair's counter, then charge it."""
        await self._acquire(self.trading(pair), cost)
