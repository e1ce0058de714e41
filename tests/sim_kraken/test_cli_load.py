"""
Issue 11 fault 8: ``seraphim sim kraken --speed 600`` (what ``kraken_sim.yaml`` suggests) with a
subscriber on every public channel stays responsive and ends on SIGTERM in bounded time.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time

import aiohttp
import pytest

from seraphim.sim.kraken.fmt import parse_rfc3339

from .client import WsClient

PAIRS = ["BTC/USD", "ETH/USD"]
EXCHANGE_HOURS = 2.0  # of a 600x clock: 12 s of wall time


def start_sim(*args: str) -> tuple[subprocess.Popen, dict]:
    """``seraphim sim kraken`` on free ports; its address line."""
    cmd = [sys.executable, "-c", "from seraphim.cli import main; main()", "sim", "kraken"]
    proc = subprocess.Popen(
        [*cmd, "--port", "0", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    return proc, json.loads(proc.stdout.readline())


async def subscribe_everything(ws: WsClient) -> None:
    for channel, extra in (("book", {"depth": 10}), ("trade", {}), ("ticker", {})):
        await ws.request("subscribe", {"channel": channel, "symbol": PAIRS, **extra})
    for interval in (1, 5, 60):
        await ws.request("subscribe", {"channel": "ohlc", "symbol": PAIRS, "interval": interval})


@pytest.mark.slow
def test_a_busy_600x_sim_keeps_answering_and_stops_on_sigterm() -> None:
    proc, addresses = start_sim("--speed", "600", "--history", "96")
    try:

        async def busy() -> None:
            async with aiohttp.ClientSession() as session:
                ws = await WsClient.connect(session, addresses["ws_public"])
                await subscribe_everything(ws)
                # Two exchange hours of every channel on both pairs, read as fast as they come.
                start = None
                async with asyncio.timeout(120):
                    async for msg in ws.ws:
                        message = json.loads(msg.data)
                        if message.get("channel") != "ticker":
                            continue
                        at = parse_rfc3339(message["data"][0]["timestamp"])
                        start = at if start is None else start
                        if at > start + EXCHANGE_HOURS * 3600:
                            break
                timeout = aiohttp.ClientTimeout(total=10)
                async with session.get(addresses["rest"] + "/0/public/Time", timeout=timeout) as r:
                    assert (await r.json())["error"] == []

        asyncio.run(busy())
        asked = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=8) == 0
        print(f"stopped {time.monotonic() - asked:.2f} s after SIGTERM")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
