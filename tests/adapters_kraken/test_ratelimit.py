"""Kraken's decaying rate-limit counters, kept on the client side (with a fake clock)."""

from __future__ import annotations

import asyncio

import pytest

from seraphim.adapters.kraken.common.rate_limits import amend_cost
from seraphim.adapters.kraken.common.rate_limits import cancel_cost
from seraphim.adapters.kraken.common.rate_limits import rest_cost
from seraphim.adapters.kraken.http.ratelimit import DecayingCounter
from seraphim.adapters.kraken.http.ratelimit import KrakenRateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_counter_decays_and_reports_the_wait() -> None:
    clock = FakeClock()
    counter = DecayingCounter(15.0, 0.33, headroom=0.0, clock=clock)
    for _ in range(15):
        assert counter.wait_time(1) == 0
        counter.add(1)
    assert counter.wait_time(1) == pytest.approx(1 / 0.33)
    clock.now += 3.1
    assert counter.wait_time(1) == 0
    counter.saturate()
    assert counter.level() == 15 and counter.wait_time(2) == pytest.approx(2 / 0.33)


def test_costs_follow_kraken_schedule() -> None:
    assert rest_cost("Balance") == 1 and rest_cost("TradesHistory") == 2
    assert rest_cost("AddOrder") == 0  # trading calls use the per-pair trading counter
    assert cancel_cost(1) == 8 and cancel_cost(12) == 5 and cancel_cost(100) == 1
    assert cancel_cost(400) == 0 and amend_cost(1) == 4 and amend_cost(60) == 1


def test_limiter_waits_instead_of_overrunning() -> None:
    async def body():
        limiter = KrakenRateLimiter("pro", headroom=0.0)  # max 20, -1/s
        for _ in range(20):
            await limiter.acquire_rest("Balance")
        assert limiter.waited_seconds == 0
        loop = asyncio.get_running_loop()
        started = loop.time()
        await limiter.acquire_rest("Balance")
        assert loop.time() - started >= 0.9
        # trading counters are per pair and independent of the REST counter
        for _ in range(5):
            await limiter.acquire_trading("XXBTZUSD", 8.0)
        assert limiter.trading("XXBTZUSD").level() == pytest.approx(40, abs=1)
        assert limiter.trading("XETHZUSD").level() == 0

    asyncio.run(body())


def test_unknown_tier_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown Kraken tier"):
        KrakenRateLimiter("platinum")


def test_a_wait_cut_off_by_a_dead_loop_does_not_block_the_next_loop(monkeypatch) -> None:
    """A node's loop closed while a call waited for the counter (holding its lock); the next
    node's loop may get the same ``id()`` (simulated: every object has one id) and must not
    inherit that held lock."""
    from seraphim.adapters.kraken.http import ratelimit

    monkeypatch.setattr(ratelimit, "id", lambda _obj: 1, raising=False)
    limiter = KrakenRateLimiter("starter", headroom=0.0)
    first = asyncio.new_event_loop()
    waiting = first.create_task(limiter.acquire_trading("XXBTZUSD", 1000.0))  # waits for ever
    first.run_until_complete(asyncio.sleep(0.05))
    assert not waiting.done()
    first.close()  # the waiting task is dropped with the lock held

    async def next_node() -> None:
        await asyncio.wait_for(limiter.acquire_trading("XXBTZUSD", 1.0), 2.0)

    asyncio.run(next_node())
