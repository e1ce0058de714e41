"""
Redis goes away while a kernel trades and comes back: nautilus (with the bounded retries of
`redis_cache_configs`) writes again once it is back, and `seraphim state` rebuilds every order.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from journal.engine import make_engine
from journal.engine import synthetic_bars

from seraphim.state.reader import TraderState
from seraphim.state.reader import connect
from seraphim.state.settings import redis_cache_configs
from seraphim.state.settings import redis_settings

pytestmark = pytest.mark.slow

HERE = Path(__file__).parent
# Longer than nautilus's whole reconnect budget from redis_database_config (5 retries, about
# 5 s): the retries run out during the outage, and writing must still resume afterwards.
OUTAGE_SECS = 8.0


class ProxyProcess:
    def __init__(self, host: str, port: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "tcp_proxy.py"), host, str(port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={"PYTHONPATH": str(HERE.parent)},
        )
        self.port = int(self.proc.stdout.readline())

    def command(self, word: str) -> None:
        self.proc.stdin.write(word + "\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline().strip() == word

    def close(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_writes_resume_after_a_redis_outage(redis_url, trader_id):
    target = redis_settings(redis_url)
    proxy = ProxyProcess(target.host, target.port)
    client = connect(target)
    state = TraderState(client, trader_id)
    try:
        via_proxy = redis_settings(f"redis://127.0.0.1:{proxy.port}/0")
        cache, bus = redis_cache_configs(trader_id, via_proxy)
        engine = make_engine(trader_id, cache=cache, message_bus=bus)
        bars = synthetic_bars(1500)

        def stored() -> dict[str, str]:
            return {o.client_order_id.value: o.status_string() for o in state.orders()}

        def held() -> dict[str, str]:
            return {o.client_order_id.value: o.status_string() for o in engine.cache.orders()}

        engine.add_data(bars[:500])
        engine.run(streaming=True)
        wait_until(lambda: stored() == held(), 20, "the first orders in Redis")

        proxy.command("down")  # Redis unreachable: connections reset, new ones refused
        engine.clear_data()
        engine.add_data(bars[500:1000])
        engine.run(streaming=True)
        during = held().keys() - stored().keys()
        assert during  # the kernel traded on while nothing reached Redis
        time.sleep(OUTAGE_SECS)  # the outage itself, not a wait for something

        proxy.command("up")
        before = held().keys()
        engine.clear_data()
        engine.add_data(bars[1000:])
        engine.run(streaming=True)
        engine.end()
        after = {k: v for k, v in held().items() if k not in before}
        assert len(after) > 10
        wait_until(lambda: after.items() <= stored().items(), 30, "orders placed after the outage")
        assert not state.problems
        engine.dispose()
    finally:
        client.close()
        proxy.close()
