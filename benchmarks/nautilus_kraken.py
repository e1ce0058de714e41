"""
Book stream throughput over a real socket, nautilus's Rust Kraken adapter beside ours, in the
same run: a feeder process serves the recorded Kraken v2 book stream
(``../shared/data/kraken/ws/book_v2_btcusd_stream.json``, a snapshot and 509 updates) ``PASSES``
times as fast as it can to whichever client subscribes; messages per second from the first
book message to the last, medians of ``REPEATS``.

- nautilus: ``nautilus_pyo3.KrakenSpotWebSocketClient`` (Rust: decode, ``OrderBookDeltas`` to a
  Python callback as a capsule, turned into data as its data client does; instruments from
  ``KrakenSpotHttpClient`` against the local exchange). It rejects Kraken's book snapshots
  (no ``timestamp`` field), so it handles the 509 updates of each pass only.
- ours: ``KrakenWebSocketClient`` with the data client's book path (``kraken_ws.book_path``:
  msgspec decode, ``KrakenBook`` with CRC32 check on every message, nautilus ``OrderBookDeltas``).

Tick-to-order cannot be measured for nautilus's adapter against a local exchange: its execution
client asks https://api.kraken.com for the WebSocket token (see tests/nautilus_kraken), so it
never connects; ``benchmarks/kraken_ws.py`` measures ours.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from aiohttp import web
from nautilus_trader.core import nautilus_pyo3
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.data import capsule_to_data

from benchmarks.common import print_table
from benchmarks.kraken_ws import INSTRUMENT
from benchmarks.kraken_ws import book_path
from benchmarks.kraken_ws import load_stream
from seraphim.adapters.kraken.websocket.client import KrakenWebSocketClient
from seraphim.paths import REPO_ROOT

PASSES = 20
REPEATS = 5
IDLE_TIMEOUT = 10.0  # seconds without a book message: the run is over (short of messages)


# ---------------------------------------------------------------------- the feeder process


def serve(passes: int) -> None:
    """Serve the stream at ws://127.0.0.1:<port>/v2 (the port printed on stdout)."""
    messages = load_stream()

    async def feed(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        status = {"system": "online", "api_version": "v2", "connection_id": 1, "version": "2.0.10"}
        await ws.send_str(json.dumps({"channel": "status", "type": "update", "data": [status]}))
        async for msg in ws:
            request_ = json.loads(msg.data)
            method, params = request_.get("method"), request_.get("params", {})
            if method == "ping":
                await ws.send_str(json.dumps({"method": "pong", "req_id": request_.get("req_id")}))
                continue
            reply = {"method": method, "success": True, "req_id": request_.get("req_id")}
            reply["result"] = {"channel": params.get("channel"), "symbol": "BTC/USD", "depth": 10}
            await ws.send_str(json.dumps(reply))
            if method == "subscribe" and params.get("channel") == "book":
                for _ in range(passes):
                    for text in messages:
                        await ws.send_str(text)
        return ws

    async def main() -> None:
        app = web.Application()
        app.add_routes([web.get("/v2", feed)])
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(site._server.sockets[0].getsockname()[1], flush=True)  # type: ignore[union-attr]
        await asyncio.Event().wait()

    asyncio.run(main())


def start(cmd: list[str], env: dict | None = None) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    return proc, proc.stdout.readline().strip()  # type: ignore[union-attr]


# ---------------------------------------------------------------------- the two clients


class Meter:
    """Counts book messages; done when ``expected`` arrived or the stream went idle."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.count = 0
        self.first = self.last = 0.0
        self.cpu_first = self.cpu_last = 0.0  # process time: every thread, Rust's too
        self.done = asyncio.Event()

    def tick(self) -> None:
        now = time.perf_counter()
        if not self.first:
            self.first, self.cpu_first = now, time.process_time()
        self.last = now
        self.count += 1
        if self.count >= self.expected:
            self.cpu_last = time.process_time()  # costly with threads: only first and last
            self.done.set()

    async def wait(self) -> None:
        while not self.done.is_set():
            seen = self.count
            try:
                await asyncio.wait_for(self.done.wait(), IDLE_TIMEOUT)
            except TimeoutError:
                if self.count == seen:
                    self.cpu_last = time.process_time()  # short of messages: idle time too
                    return

    def rate(self) -> float:
        return (self.count - 1) / (self.last - self.first) if self.last > self.first else 0.0

    def cpu_us(self) -> float:
        """CPU microseconds of this process per message (less sensitive to other load)."""
        return (self.cpu_last - self.cpu_first) * 1e6 / max(1, self.count - 1)


async def nautilus_run(url: str, rest: str, expected: int) -> Meter:
    http = nautilus_pyo3.KrakenSpotHttpClient(base_url=rest)
    instruments = await http.request_instruments()
    meter = Meter(expected)
    ws = nautilus_pyo3.KrakenSpotWebSocketClient(base_url=url)

    def on_message(message: object) -> None:
        # as nautilus's data client does: Rust data arrives as a capsule
        if isinstance(capsule_to_data(message), OrderBookDeltas):
            meter.tick()

    await ws.connect(asyncio.get_running_loop(), instruments, on_message)
    await ws.wait_until_active(timeout_secs=10.0)
    await ws.subscribe_book(nautilus_pyo3.InstrumentId.from_str(INSTRUMENT), 10)
    await meter.wait()
    await ws.close()
    return meter


def book_handler(meter: Meter) -> Callable[[str], None]:
    """Our data client's book path (the same function as ``benchmarks/kraken_ws.py``'s) for
    every book message off the socket."""
    handle_book = book_path(deltas=True)

    def handle(text: str) -> None:
        if text.startswith('{"channel":"book"'):
            handle_book(text)
            meter.tick()

    return handle


async def seraphim_run(url: str, expected: int) -> Meter:
    meter = Meter(expected)
    client = KrakenWebSocketClient(url, book_handler(meter))
    await client.connect()
    await client.subscribe({"channel": "book", "symbol": ["BTC/USD"], "depth": 10})
    await meter.wait()
    await client.disconnect()
    return meter


# ---------------------------------------------------------------------- the run


def main() -> None:
    updates = len(load_stream()) - 1  # a snapshot, then updates
    expected = {"nautilus (Rust)": PASSES * updates, "Seraphim": PASSES * (1 + updates)}
    python = sys.executable
    sim, line = start(
        [python, "-c", "from seraphim.cli import main; main()", "sim", "kraken", "--port", "0"],
        env={**os.environ},
    )
    rest = json.loads(line)["rest"]
    results: dict[str, list[Meter]] = {"nautilus (Rust)": [], "Seraphim": []}
    try:
        for _ in range(REPEATS):
            for name, meters in results.items():
                feeder, port = start(
                    [
                        python,
                        "-c",
                        f"from {__name__} import serve; serve({PASSES})",
                    ]
                )
                url = f"ws://127.0.0.1:{port}/v2"
                try:
                    if name.startswith("nautilus"):
                        meter = asyncio.run(nautilus_run(url, rest, expected[name]))
                    else:
                        meter = asyncio.run(seraphim_run(url, expected[name]))
                    meters.append(meter)
                finally:
                    feeder.terminate()
                    feeder.wait(timeout=10)
    finally:
        sim.terminate()
        sim.wait(timeout=10)
    rates = {name: statistics.median(m.rate() for m in meters) for name, meters in results.items()}
    cpu = {name: statistics.median(m.cpu_us() for m in meters) for name, meters in results.items()}
    ours = rates["Seraphim"]
    rows = [
        [
            name,
            f"{statistics.median(m.count for m in meters):,} / {expected[name]:,}",
            f"{rates[name]:,.0f}",
            f"{rates[name] / ours:.2f}" if ours else "-",
            f"{cpu[name]:.1f}",
            f"{cpu['Seraphim'] / cpu[name]:.2f}" if cpu[name] else "-",
        ]
        for name, meters in results.items()
    ]
    print_table(
        f"Kraken book stream over a socket ({PASSES} passes of the recorded stream), "
        f"median of {REPEATS}",
        [
            "client",
            "book messages handled",
            "messages/s",
            "vs Seraphim",
            "CPU µs/message",
            "speed vs Seraphim (CPU)",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
