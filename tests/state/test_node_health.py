"""
`seraphim state health/traders/tail/strategies` against a real TradingNode process keeping its
state in Redis: alive while it beats, stale after SIGKILL, saved state back after a restart.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("node_script.py")
SERAPHIM = [str(Path(sys.executable).with_name("seraphim"))]

pytestmark = pytest.mark.slow


def seraphim(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*SERAPHIM, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def start_node(trader_id: str, redis_url: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), trader_id, redis_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )
    assert proc.stdout.readline().strip() == "READY"
    return proc


def health(trader_id: str, redis_url: str, *extra: str) -> tuple[int, dict]:
    result = seraphim(
        "state", "health", "-t", trader_id, "--redis-url", redis_url, "--json", *extra
    )
    assert "Traceback" not in result.stderr, result.stderr
    (row,) = json.loads(result.stdout)
    return result.returncode, row


def wait_alive(trader_id: str, redis_url: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = seraphim("state", "health", "-t", trader_id, "--redis-url", redis_url, "--json")
        if result.returncode == 0:
            return json.loads(result.stdout)[0]
        time.sleep(0.5)
    raise AssertionError(f"node {trader_id} never became alive: {result.stdout}{result.stderr}")


def test_health_through_a_graceful_stop_a_sigkill_and_a_restart(redis_url, trader_id):
    node = start_node(trader_id, redis_url)
    try:
        row = wait_alive(trader_id, redis_url)
        assert row["status"] == "alive" and row["heartbeat_age_s"] < 5

        listed = seraphim("state", "traders", "--redis-url", redis_url, "--json")
        assert trader_id in {r["trader_id"] for r in json.loads(listed.stdout)}

        tail = seraphim(
            "state",
            "tail",
            "-t",
            trader_id,
            "--redis-url",
            redis_url,
            "--topic",
            "health:*",
            "--count",
            "2",
            "--timeout",
            "15",
            "--json",
        )
        beats = [json.loads(line) for line in tail.stdout.splitlines()]
        assert tail.returncode == 0 and len(beats) == 2
        assert all(b["topic"] == "health:heartbeat" for b in beats)

        node.send_signal(signal.SIGINT)  # graceful: the node saves strategy state
        node.wait(30)
    finally:
        if node.poll() is None:
            node.kill()
    saved = seraphim("state", "strategies", "-t", trader_id, "--redis-url", redis_url, "--json")
    assert {"component_id": "Counter-000", "kind": "strategy", "state": {"starts": 1}} in (
        json.loads(saved.stdout)
    )

    node = start_node(trader_id, redis_url)  # restart: state comes back from Redis
    try:
        wait_alive(trader_id, redis_url)
        node.send_signal(signal.SIGKILL)
        node.wait(10)
    finally:
        if node.poll() is None:
            node.kill()
    time.sleep(2.5)
    code, row = health(trader_id, redis_url, "--stale-after", "2")
    assert code == 1 and row["status"] == "stale" and row["heartbeat_age_s"] >= 2

    node = start_node(trader_id, redis_url)  # after a SIGKILL the saved state is the last one
    try:
        wait_alive(trader_id, redis_url)
        node.send_signal(signal.SIGINT)
        node.wait(30)
    finally:
        if node.poll() is None:
            node.kill()
    saved = seraphim("state", "strategies", "-t", trader_id, "--redis-url", redis_url, "--json")
    assert json.loads(saved.stdout)[0]["state"] == {"starts": 2}  # 1 loaded + this start


def test_watch_refreshes_until_interrupted(redis_url, trader_id):
    node = start_node(trader_id, redis_url)
    try:
        wait_alive(trader_id, redis_url)
        watch = subprocess.Popen(
            [
                *SERAPHIM,
                "state",
                "health",
                "-t",
                trader_id,
                "--redis-url",
                redis_url,
                "--json",
                "--watch",
                "0.5",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        first = json.loads(watch.stdout.readline())
        second = json.loads(watch.stdout.readline())
        assert first[0]["trader_id"] == second[0]["trader_id"] == trader_id
        watch.send_signal(signal.SIGINT)
        _, err = watch.communicate(timeout=30)  # bounded; generous for a loaded 2-core box
        assert watch.returncode == 0 and "Traceback" not in err
    finally:
        node.send_signal(signal.SIGKILL)
        node.wait(10)
