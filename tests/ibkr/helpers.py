"""Shared helpers of the IBKR tests: the local gateway, the seraphim CLI in a subprocess."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from seraphim.sim.ibkr import IbkrSimConfig
from seraphim.sim.ibkr.protocol import encode_frame

REPO = Path(__file__).resolve().parents[2]
NODE_CONFIGS = REPO / "node_configs"
HARNESS = Path(__file__).with_name("node_harness.py")
SERAPHIM = [str(Path(sys.executable).with_name("seraphim"))]
ACCOUNT = "DU1234567"
# A Friday after the US close: the week of 2025-03-03 is complete (no DST switch inside).
FRIDAY_EVENING = dt.datetime(2025, 3, 7, 23, 0, tzinfo=dt.UTC).timestamp()


def gateway_config(**overrides: Any) -> IbkrSimConfig:
    """An ephemeral-port gateway whose stocks trade around the clock (tests run at any hour)."""
    base: dict[str, Any] = {"port": 0, "tick_interval": 0.1, "around_the_clock": True}
    base.update(overrides)
    return IbkrSimConfig(**base)


def cli_env(port: int | None = None, **extra: str) -> dict[str, str]:
    """The environment for a seraphim subprocess pointed at a gateway port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SERAPHIM_IBKR_", "TWS_"))}
    if port is not None:
        env["SERAPHIM_IBKR_PORT"] = str(port)
    env.update(extra)
    return env


def seraphim(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """Run ``seraphim ARGS`` in a subprocess (one nautilus logging setup per process)."""
    return subprocess.run(
        [*SERAPHIM, *args],
        env=env or cli_env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, interval=0.05) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail with ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class ApiSession:
    """A bare TWS API session over a socket (handshake + startApi): holds a client id."""

    def __init__(self, port: int, client_id: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.sendall(b"API\0" + encode_frame(["v100..187"]))
        self._read_frame()  # server version and connection time
        self.sock.sendall(encode_frame([71, 2, client_id, ""]))
        self._read_frame()  # nextValidId

    def _read_frame(self) -> bytes:
        size = int.from_bytes(self._recv(4), "big")
        return self._recv(size)

    def _recv(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("gateway closed the session")
            data += chunk
        return data

    def close(self) -> None:
        self.sock.close()


def nautilus_order_id(order: Any) -> str:
    """The venue order id nautilus gives a gateway order: IB's permId, stable across sessions."""
    from nautilus_trader.adapters.interactive_brokers.client.common import get_venue_order_id

    return get_venue_order_id(order.order_id, order.perm_id).value


def read_json_lines(text: str) -> list[dict]:
    """JSON objects printed one per line (other lines ignored)."""
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return out
