"""
The dashboard under load.

1. Paging a journal of 100,000 fills newest first (keyset pages of 100, as ``/api/fills``
   serves them): the first page, a page 50,000 rows deep and the last page, through the
   journal query alone and through the whole app (HTTP, JSON), medians of repeats. A fresh
   schema in the test database, dropped afterwards.
2. 50 WebSocket viewers while a node trades the local exchange (``--state redis``, the
   operations actors on): the dashboard and the viewers run in processes of their own, as they
   would beside a real node. How long each order event takes from the node's write to Redis
   to every viewer, p50 / p99 per event type; and the node's tick-to-order latency
   (``kraken_ws``'s probe) with and without the dashboard and its viewers, alternating.
"""

from __future__ import annotations

import asyncio
import base64
import json
import multiprocessing
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

from benchmarks.common import print_table
from benchmarks.common import quantile
from benchmarks.kraken_ws import LATENCY_SAMPLES
from benchmarks.kraken_ws import LatencyProbe
from benchmarks.kraken_ws import LatencyProbeConfig

BENCH_DSN = os.environ.get(
    "SERAPHIM_TEST_PG_DSN", "host=127.0.0.1 port=5432 dbname=seraphim_test user=postgres"
)
FILLS = 100_000
PAGE = 100
VIEWERS = 50
REPEATS = 7
PASSWORD = "bench-password-1"


# ---------------------------------------------------------------------- journal paging


def _bench_schema() -> str:
    from seraphim.journal.migrate import ensure_database
    from seraphim.journal.migrate import migrate

    ensure_database(BENCH_DSN)
    schema = f"dashboard_bench_{uuid.uuid4().hex[:8]}"
    migrate(BENCH_DSN, schema)
    return schema


def _drop(schema: str) -> None:
    from seraphim.journal.settings import connect

    conn = connect(BENCH_DSN, "public", autocommit=True)
    try:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        conn.close()


def _load_fills(schema: str, trader: str) -> None:
    """100k fills with COPY (as a year of a busy node would leave them)."""
    from seraphim.journal.settings import connect

    start = datetime(2025, 1, 1, tzinfo=UTC)
    conn = connect(BENCH_DSN, schema, autocommit=True)
    try:
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY fills (scope, instrument_id, trade_id, client_order_id, trader_id, "
                "strategy_id, side, quantity, price, commission, event_id, ts_event) FROM STDIN"
            ) as copy,
        ):
            for i in range(FILLS):
                copy.write_row(
                    (f"live:{trader}", "BTC/USD.KRAKEN", f"T{i:08d}", f"O-{i}", trader,
                     f"S-{i % 5:03d}", "BUY" if i % 2 else "SELL", "0.01", 60000 + i % 977,
                     "0.1", uuid.uuid4(), start + timedelta(seconds=30 * i))
                )  # fmt: skip
        conn.execute("ANALYZE fills")
    finally:
        conn.close()


def paging_benchmark() -> None:
    from fastapi.testclient import TestClient

    from seraphim.dashboard.app import create_app
    from seraphim.dashboard.audit import Journal
    from seraphim.dashboard.records import Records
    from seraphim.dashboard.services import DashboardSettings
    from seraphim.dashboard.users import UserStore

    trader = "PAGING-001"
    schema = _bench_schema()
    try:
        _load_fills(schema, trader)
        records = Records(Journal(BENCH_DSN, schema))
        # Cursors into the history: newest page, 50,000 rows deep, the oldest page.
        cursors = {}
        for name, offset in (("first page", 0), ("page at row 50,000", 50_000),
                             ("last page", FILLS - PAGE)):  # fmt: skip
            if offset == 0:
                cursors[name] = None
                continue
            row = records.journal.query(
                "SELECT ts_event, trade_id FROM fills WHERE trader_id = %s "
                "ORDER BY ts_event DESC, trade_id DESC OFFSET %s LIMIT 1",
                [trader, offset - 1],
            )[0]
            cursors[name] = (row["ts_event"], row["trade_id"])
        with tempfile.TemporaryDirectory() as tmp:
            users = UserStore.load(Path(tmp) / "users.yaml", missing_ok=True)
            users.set_user("bench", "viewer", PASSWORD)
            settings = DashboardSettings(
                users_file=users.path, journal_dsn=BENCH_DSN, journal_schema=schema
            )
            with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
                client.post("/api/auth/login", json={"username": "bench", "password": PASSWORD})
                rows = []
                for name, cursor in cursors.items():
                    query = {"trader": trader, "limit": PAGE}
                    if cursor:
                        query.update(before_ts=cursor[0].isoformat(), before_trade_id=cursor[1])

                    def direct(cursor=cursor) -> None:
                        assert len(records.fills(trader, None, PAGE, cursor)) == PAGE

                    def http(query=query) -> None:
                        answer = client.get("/api/fills", params=query)
                        assert answer.status_code == 200 and len(answer.json()) == PAGE

                    rows.append([name, *(f"{_median_ms(f):.2f}" for f in (direct, http))])
        records.journal.close()
    finally:
        _drop(schema)
    print_table(
        f"Journal of {FILLS:,} fills paged newest first, {PAGE} per page (keyset), "
        f"median of {REPEATS}",
        ["page", "journal query ms", "GET /api/fills ms"],
        rows,
    )


def _median_ms(run) -> float:
    run()
    samples = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e3


# ---------------------------------------------------------------------- viewers under load


def _viewers(url: str, cookie: str, count: int, trader: str, out: str, ready, stop) -> None:
    """A process of ``count`` WebSocket viewers; each order event's (type, delay in ms) from
    the node's write to its arrival, for every viewer, written to ``out`` as JSON at ``stop``."""
    import websockets

    delays: list[tuple[str, float]] = []

    async def viewer(connected: asyncio.Event) -> None:
        ws_url = url.replace("http://", "ws://") + "/api/ws"
        async with websockets.connect(ws_url, additional_headers={"Cookie": cookie}) as ws:
            await ws.recv()  # hello
            connected.set()
            while True:
                message = json.loads(await ws.recv())
                if message["type"] == "order" and message["trader_id"] == trader:
                    # From when the node wrote the event to Redis (the stream entry's time):
                    # an event's own ts_event may be the venue's, from long before (an
                    # acceptance re-reported by reconciliation).
                    written = int(message["stream_id"].split("-")[0])
                    delays.append((message["event"]["type"], time.time() * 1e3 - written))

    async def main() -> None:
        events = [asyncio.Event() for _ in range(count)]
        tasks = [asyncio.create_task(viewer(e)) for e in events]
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in events)), 30)
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.2)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(main())
    Path(out).write_text(json.dumps(delays))


class DashboardExited(RuntimeError):
    """The dashboard process ended before it answered (e.g. its port was taken meanwhile)."""


class DashboardProcess:
    """``seraphim dashboard serve`` in a process of its own, with one viewer user."""

    def __init__(self, tmp: Path, schema: str) -> None:
        import socket

        from seraphim.dashboard.users import UserStore

        users = UserStore.load(tmp / "users.yaml", missing_ok=True)
        users.set_user("bench", "viewer", PASSWORD)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / "dashboard.log"
        env = {**os.environ, "SERAPHIM_PG_DSN": BENCH_DSN, "SERAPHIM_PG_SCHEMA": schema}
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "seraphim"), "dashboard", "serve", "--port",
             str(self.port), "--users", str(users.path)],
            env=env, stdout=subprocess.DEVNULL, stderr=self.log.open("w"),
        )  # fmt: skip

    def sign_in(self) -> str:
        import httpx

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise DashboardExited(self.log.read_text()[-2000:])
            try:
                answer = httpx.post(
                    f"{self.url}/api/auth/login",
                    json={"username": "bench", "password": PASSWORD},
                    timeout=5,
                )
                return f"seraphim_session={answer.cookies['seraphim_session']}"
            except httpx.TransportError:
                time.sleep(0.2)
        tail = self.log.read_text()[-2000:]
        raise SystemExit(f"the dashboard did not answer within 60 s:\n{tail}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise SystemExit("the dashboard did not stop within 15 s of SIGTERM (killed)") from None


def node_run(seconds: float, viewers: int, schema: str) -> tuple[list[float], list[float]]:
    """One node run (Redis state, operations actors) against a fresh local exchange, with
    ``viewers`` dashboard viewers or none: (tick-to-order ms, update delays ms)."""
    import redis
    import yaml
    from nautilus_trader.config import ImportableStrategyConfig

    from seraphim.adapters.kraken.parsing import to_cl_ord_id
    from seraphim.node.runner import run_node
    from seraphim.ops import keys
    from seraphim.sim.kraken import AccountConfig
    from seraphim.sim.kraken import SimConfig
    from seraphim.sim.kraken.threaded import ThreadedKrakenSim

    key, secret = "bench-key", base64.b64encode(b"bench-secret-" * 4).decode()
    os.environ.update(
        KRAKEN_API_KEY=key,
        KRAKEN_API_SECRET=secret,
        SERAPHIM_OPERATOR_SECRET="bench-operator-secret",
    )
    trader = f"DASHBENCH-{secrets.token_hex(3).upper()}"
    config = SimConfig(
        accounts=[AccountConfig(key, secret, tier="pro")],
        random_walk={"warmup_seconds": 1800, "step_seconds": 0.05, "volatility": 0.0002,
                     "trade_probability": 0.8},
        tick_interval=0.02,
        pairs=["BTC/USD"],
    )  # fmt: skip
    LATENCY_SAMPLES.clear()
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Event(), context.Event()
    dashboard = process = None
    with ThreadedKrakenSim(config) as tsim, tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "delays.json"
        if viewers:
            for attempt in range(3):  # a free port found by probing can be taken meanwhile
                dashboard = DashboardProcess(Path(tmp), schema)
                try:
                    cookie = dashboard.sign_in()
                    break
                except DashboardExited as e:
                    if attempt == 2:
                        raise SystemExit(f"the dashboard did not start:\n{e}") from None
            process = context.Process(
                target=_viewers,
                args=(dashboard.url, cookie, viewers, trader, str(out), ready, stop),
            )
            process.start()
            if not ready.wait(60):
                raise SystemExit(f"{viewers} viewers did not connect within 60 s")
        sim = tsim.server
        node_file = Path(tmp) / "bench.yaml"
        node_file.write_text(
            yaml.safe_dump(
                {"name": "dashboard-bench", "trader_id": trader, "execution": "kraken",
                 "log_level": "ERROR", "timeout_post_stop": 0.5,
                 "kraken": {"rest_url": sim.rest_url, "ws_public_url": sim.ws_public_url,
                            "ws_private_url": sim.ws_private_url, "public_rate_per_sec": 0,
                            "tier": "pro", "pairs": ["BTC/USD"]}}
            )
        )  # fmt: skip
        probe = ImportableStrategyConfig(
            strategy_path=f"{LatencyProbe.__module__}:LatencyProbe",
            config_path=f"{LatencyProbeConfig.__module__}:LatencyProbeConfig",
            config={"instrument_id": "BTC/USD.KRAKEN", "every": 4, "max_orders": 120},
        )
        try:
            run_node(node_file, duration=seconds, extra_strategies=[probe], state="redis")
        finally:
            stop.set()
            if process is not None:
                process.join(30)
            if dashboard is not None:
                dashboard.stop()
        orders = {o.cl_ord_id: o for o in sim.exchange.accounts[key].orders.values()}
        delays = json.loads(out.read_text()) if viewers else []
    client = redis.Redis.from_url(os.environ.get("SERAPHIM_REDIS_URL", "redis://127.0.0.1:6379/0"))
    for pattern in (f"{keys.trader_prefix(trader)}:*", f"trader-{trader}:*"):
        for name in client.scan_iter(match=pattern):
            client.delete(name)
    client.close()
    ticks = [
        (orders[cl].opentm - ts) * 1000
        for client_order_id, ts in LATENCY_SAMPLES
        if (cl := to_cl_ord_id(client_order_id)) in orders
    ]
    return ticks, delays


def viewers_benchmark(seconds: float = 20.0, rounds: int = 2) -> None:
    schema = _bench_schema()
    ticks: dict[int, list[float]] = {0: [], VIEWERS: []}
    delays: list[tuple[str, float]] = []
    try:
        for _ in range(rounds):
            for viewers in (0, VIEWERS):
                t, d = node_run(seconds, viewers, schema)
                ticks[viewers] += t
                delays += d
    finally:
        _drop(schema)
        os.environ.pop("SERAPHIM_OPERATOR_SECRET", None)
    rows = []
    for viewers in (0, VIEWERS):
        values = ticks[viewers]
        rows.append([f"{viewers} viewers", str(len(values)), f"{statistics.median(values):.2f}",
                     f"{quantile(values, 0.99):.2f}"])  # fmt: skip
    base, loaded = quantile(ticks[0], 0.99), quantile(ticks[VIEWERS], 0.99)
    rows[1].append(f"{(loaded / base - 1) * 100:+.1f} %")
    rows[0].append("")
    print_table(
        "Tick-to-order in a node (Redis state, operations actors) with and without the "
        f"dashboard and {VIEWERS} WebSocket viewers (separate processes), alternating",
        ["node", "samples", "p50 ms", "p99 ms", "p99 change"],
        rows,
    )
    by_type: dict[str, list[float]] = {}
    for kind, delay in delays:
        by_type.setdefault(kind, []).append(delay)
    by_type["all events"] = [delay for _, delay in delays]
    print_table(
        f"Order events from the node's write to Redis to each of {VIEWERS} WebSocket viewers",
        ["event", "deliveries", "p50 ms", "p99 ms", "max ms"],
        [
            [
                kind,
                f"{len(values):,}",
                f"{statistics.median(values):.1f}",
                f"{quantile(values, 0.99):.1f}",
                f"{max(values):.1f}",
            ]
            for kind, values in sorted(by_type.items())
        ],
    )


def main() -> None:
    paging_benchmark()
    if os.environ.get("DASHBOARD_BENCH_NODE", "1") != "0":
        viewers_benchmark()


if __name__ == "__main__":
    main()
