"""
The soak test's strategy: every ``interval_ms`` it picks a new target position (0 to
``max_lots`` lots, seeded) and asks for it one to four times in a row, as replayed bars would;
four times a second it checks that its position stays within the largest target plus one lot.

It runs in a ``seraphim node run`` process: a violation is logged as ``SOAK VIOLATION``.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from seraphim.strategies.base import SeraphimStrategy
from seraphim.strategies.base import SeraphimStrategyConfig


class SoakConfig(SeraphimStrategyConfig, frozen=True):
    lot: Decimal = Decimal("0.01")
    max_lots: int = 3
    interval_ms: int = 400
    seed: int = 1


class SoakStrategy(SeraphimStrategy):
    """Random targets in bursts; the position invariant checked at every fill."""

    def __init__(self, config: SoakConfig) -> None:
        super().__init__(config)
        self.rng = random.Random(config.seed)
        self.checks = 0
        self.outside_since: float | None = None

    def on_start(self) -> None:
        super().on_start()
        # Prices for the risk gate, which values every order a CASH account must pay for.
        self.subscribe_quote_ticks(self.params.instrument_id)
        self.subscribe_trade_ticks(self.params.instrument_id)
        interval = timedelta(milliseconds=self.params.interval_ms)
        self.clock.set_timer("soak-target", interval, callback=self._new_target)
        self.clock.set_timer(
            "soak-check", timedelta(milliseconds=250), callback=self._check_position
        )

    def _new_target(self, _event) -> None:
        target = self.params.lot * self.rng.randint(0, self.params.max_lots)
        for _ in range(self.rng.randint(1, 4)):  # a burst, as bars replayed after a reconnect
            self.set_target_position(target)

    def _check_position(self, _event) -> None:
        # Delayed and reordered executions (the venue holds some back up to 2.5 s) may apply a
        # sell before the buy it followed: the node's view may be out of bounds that long; out
        # of bounds for longer than 3 s is a position really held.
        position = self.position_quantity()
        limit = self.params.lot * (self.params.max_lots + 1)
        self.checks += 1
        if -self.params.lot <= position <= limit:
            self.outside_since = None
            return
        now = self.clock.timestamp()
        self.outside_since = self.outside_since or now
        if now - self.outside_since > 3.0:
            self.log.error(f"SOAK VIOLATION: node position {position} beyond {limit}")

    def on_stop(self) -> None:
        super().on_stop()
        self.log.warning(f"SOAK CHECKS: {self.checks}")
