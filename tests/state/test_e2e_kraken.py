"""
The proof over real servers: a node (``seraphim.node.runner``, Kraken adapter) with its state in
Redis and the journal on trades against the local Kraken exchange; PostgreSQL goes away while it
trades; the node is SIGKILLed with journal rows unwritten; PostgreSQL comes back (a node does not
start without its journal) and the node restarts, its state back from Redis; the node stops.
Then ``seraphim state`` shows exactly the exchange's orders and position, no order reached the
exchange twice, and the journal holds every fill of the exchange exactly once.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from journal.conftest import TEST_DSN
from journal.conftest import drop_schema
from journal.conftest import new_schema
from journal.conftest import query
from journal.proxy import TcpProxy

from seraphim.journal.migrate import ensure_database
from seraphim.journal.migrate import migrate
from seraphim.journal.settings import JournalError
from seraphim.state.reader import TraderState
from seraphim.state.reader import connect
from seraphim.state.settings import redis_settings

from .conftest import delete_trader_keys
from .conftest import unique_trader

pytestmark = pytest.mark.slow

HERE = Path(__file__).parent
BIN = Path(sys.executable).parent
KEY = "e2e-state-key"
SECRET = base64.b64encode(b"seraphim-e2e-state-secret-0123").decode()
START_BTC = Decimal(1)


@pytest.fixture
def pg_schema():
    try:
        ensure_database(TEST_DSN)
    except JournalError as e:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL needed in CI: {e}")
        pytest.skip(f"PostgreSQL unavailable: {e}")
    schema = new_schema()
    migrate(TEST_DSN, schema)
    yield schema
    drop_schema(TEST_DSN, schema)


@pytest.fixture
def exchange():
    """The local Kraken exchange in its own process: its REST/WS addresses."""
    proc = subprocess.Popen(
        [str(BIN / "seraphim"), "sim", "kraken", "--port", "0", "--seed", "5",
         "--api-key", KEY, "--api-secret", SECRET,
         "--balance", "ZUSD=100000", "--balance", f"XXBT={START_BTC}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    line = proc.stdout.readline()
    assert line, proc.stderr.read()
    yield json.loads(line)
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def node_file(tmp_path: Path, trader: str, addresses: dict) -> Path:
    path = tmp_path / "node.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "e2e-state",
                "trader_id": trader,
                "environment": "sim",
                "kraken": {
                    "rest_url": addresses["rest"],
                    "ws_public_url": addresses["ws_public"],
                    "ws_private_url": addresses["ws_private"],
                    "public_rate_per_sec": 0,
                    "pairs": ["BTC/USD"],
                    "reconcile_interval_secs": 3.0,
                },
                "execution": "kraken",
                "log_level": "WARNING",
                "timeout_post_stop": 1.0,
                "timeout_disconnection": 5.0,
            }
        )
    )
    return path


def start_node(path: Path, env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(HERE / "kraken_node.py"), str(path)],
        stdout=log.open("a"), stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip


def wait_for(predicate, timeout: float, what: str, node: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if node.poll() is not None:
            raise AssertionError(f"node exited ({node.returncode}) waiting for {what}:\n"
                                 + log.read_text()[-3000:])  # fmt: skip
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}:\n" + log.read_text()[-3000:])


async def exchange_view(rest_url: str):
    from seraphim.adapters.kraken.common.credentials import Credentials
    from seraphim.adapters.kraken.common.credentials import Secret
    from seraphim.adapters.kraken.http.client import KrakenHttpClient
    from seraphim.adapters.kraken.http.endpoints import KrakenSpotApi

    client = KrakenHttpClient(rest_url, Credentials(KEY, Secret(SECRET)), public_rate=0)
    try:
        api = KrakenSpotApi(client)
        open_orders = await api.open_orders()
        closed = await api.closed_orders_all(max_pages=100)
        trades = await api.trades_history_all(max_pages=100)
        balances = await api.balance()
    finally:
        await client.close()
    return open_orders, closed, trades, balances


@pytest.fixture
def trader(redis_url):
    """The node's trader id; its Redis keys are deleted however the test ends."""
    trader = unique_trader("E2E")
    yield trader
    delete_trader_keys(redis_url, trader)


def test_redis_state_and_journal_through_sigkill_restart_and_postgres_outage(
    tmp_path, redis_url, pg_schema, exchange, trader
):
    proxy = TcpProxy(("127.0.0.1", 5432))
    proxy.up()
    env = {
        **os.environ,
        "PYTHONPATH": f"{HERE}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "SERAPHIM_REDIS_URL": redis_url,
        "SERAPHIM_PG_DSN": TEST_DSN.replace("host=127.0.0.1 port=5432", proxy.dsn_host_port),
        "SERAPHIM_PG_SCHEMA": pg_schema,
        "KRAKEN_API_KEY": KEY,
        "KRAKEN_API_SECRET": SECRET,
    }
    path = node_file(tmp_path, trader, exchange)
    log = tmp_path / "node.log"
    client = connect(redis_settings(redis_url))
    state = TraderState(client, trader)

    def orders() -> int:
        return len(state.orders())

    def journal_fills() -> int:
        return query(TEST_DSN, pg_schema, "SELECT count(*) FROM fills")[0][0]

    node = start_node(path, env, log)
    try:
        wait_for(lambda: orders() >= 8 and journal_fills() >= 3, 90, "trading", node, log)
        proxy.down()  # PostgreSQL unavailable while the node trades
        seen = orders()
        wait_for(lambda: orders() >= seen + 6, 60, "trading with PG down", node, log)
        node.send_signal(signal.SIGKILL)  # crash mid-session, unwritten journal rows and all
        node.wait(10)
        killed_at = orders()

        proxy.up()  # PostgreSQL back: the restarted journal writes the gap from the cache
        restarted = time.time()
        node = start_node(path, env, log)  # state back from Redis + venue reconciliation
        beat = state.last_heartbeat
        wait_for(lambda: beat() is not None and beat().timestamp() > restarted
                 and orders() >= killed_at + 8,
                 90, "the restarted node trading", node, log)  # fmt: skip
        node.send_signal(signal.SIGINT)
        node.wait(60)
    finally:
        if node.poll() is None:
            node.kill()
        proxy.down()
    open_orders, closed, trades, balances = asyncio.run(exchange_view(exchange["rest"]))
    try:
        # -- no order reached the exchange twice -------------------------------------------
        venue_orders = {**open_orders, **closed}
        cl_ids = Counter(o.cl_ord_id for o in venue_orders.values())
        assert cl_ids and max(cl_ids.values()) == 1, cl_ids.most_common(3)

        # -- `seraphim state` shows exactly the exchange's orders ---------------------------
        result = subprocess.run(
            [str(BIN / "seraphim"), "state", "orders", "-t", trader, "--redis-url", redis_url,
             "--limit", "0", "--json"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        shown = json.loads(result.stdout)
        at_venue = {r["venue_order_id"]: r for r in shown if r["venue_order_id"]}
        assert set(at_venue) == set(venue_orders)
        for txid, info in venue_orders.items():
            row = at_venue[txid]
            assert row["open"] == (info.status in ("open", "pending")), (txid, row, info)
            assert Decimal(row["filled_qty"]) == Decimal(info.vol_exec), (txid, row, info)
        never_sent = [r for r in shown if not r["venue_order_id"]]
        assert all(not r["open"] for r in never_sent)  # e.g. in flight when killed: resolved
        assert open_orders  # the resting order is there, and shown open

        # -- ... and the exchange's position (spot: the BTC balance moved by our fills) ----
        result = subprocess.run(
            [str(BIN / "seraphim"), "state", "positions", "-t", trader, "--redis-url",
             redis_url, "--json"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        net = sum(Decimal(str(p["signed_qty"])) for p in json.loads(result.stdout) if p["open"])
        assert net == Decimal(balances["XXBT"]) - START_BTC

        # -- the journal holds each exchange fill exactly once -----------------------------
        rows = query(TEST_DSN, pg_schema, "SELECT trade_id, quantity FROM fills")
        assert len(rows) == len(trades) > 10
        assert {r[0] for r in rows} == set(trades)
        for trade_id, quantity in rows:
            assert quantity == Decimal(trades[trade_id].vol)
        sessions = query(TEST_DSN, pg_schema, "SELECT count(*) FROM runs WHERE kind = 'live'")
        assert sessions[0][0] == 2
        assert "journal write failed" in log.read_text()  # the outage was real
    finally:
        client.close()
