"""``seraphim sim ibkr`` as a process: JSON startup line, serves clients, stops on SIGINT."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys

from ib_async import IB
from ib_async import util


def test_cli_prints_startup_line_serves_and_stops_on_sigint() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from seraphim.cli import main; main()",
            "sim",
            "ibkr",
            "--port",
            "0",
            "--seed",
            "3",
            "--account",
            "DU111",
            "--account",
            "DU222",
            "--fault",
            "0.2:disconnect",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        info = json.loads(line)
        assert info["host"] == "127.0.0.1" and info["server_version"] == 176
        assert info["accounts"] == ["DU111", "DU222"] and info["port"] > 0

        async def probe() -> tuple[list[str], list[int]]:
            util.getLoop.cache_clear()  # ib_async 2.0.1 would keep an earlier test's closed loop
            ib = IB()
            codes: list[int] = []
            ib.errorEvent += lambda req_id, code, msg, contract: codes.append(code)
            await ib.connectAsync("127.0.0.1", info["port"], clientId=1, timeout=5)
            accounts = ib.managedAccounts()
            for _ in range(100):
                if 1100 in codes:
                    break
                await asyncio.sleep(0.05)
            ib.disconnect()
            return accounts, codes

        accounts, codes = asyncio.run(probe())
        assert accounts == ["DU111", "DU222"]
        assert 1100 in codes  # the scripted fault fired
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
