"""``seraphim monitor`` against real nodes in their own processes, and its bad input."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import yaml
from adapters_kraken.node_harness import lively_sim
from adapters_kraken.node_harness import write_node_config
from adapters_kraken.node_process import node_env
from click.testing import CliRunner

from seraphim.cli import main
from seraphim.ops.client import ControlClient
from seraphim.paths import REPO_ROOT

from .harness import wait_for
from .receivers import WebhookReceiver

SERAPHIM = [sys.executable, "-c", "from seraphim.cli import main; main()"]


class Process:
    def __init__(self, args: list[str], env: dict, log) -> None:
        self.log = log
        self._out = log.open("w")
        self.proc = subprocess.Popen(
            args, env=env, stdout=self._out, stderr=subprocess.STDOUT, cwd=REPO_ROOT
        )

    def text(self) -> str:
        return self.log.read_text()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._out.close()


THRESHOLD_SECS = 3.0
INTERVAL_SECS = 0.25
# The monitor's loop looks every INTERVAL_SECS plus the time a look takes (Redis round trips)
# and the scheduler's delay on a loaded machine: this much on top of the interval, at most.
LOOK_SLACK_SECS = 0.5
LOST_REPORT = re.compile(r"silent for [\d.]+ s \(last beat (\S+), noticed (\S+)\)")


def unix_nanos(iso: str) -> int:
    return pd.Timestamp(iso).value


@pytest.mark.slow
def test_monitor_says_heartbeat_lost_within_its_timeout_after_a_node_is_killed(tmp_path, trader_id):
    hook = WebhookReceiver()
    env = node_env(TEST_ALERT_HOOK=hook.url)
    rule = {"rule": "heartbeat_missing", "threshold": THRESHOLD_SECS, "severity": "critical"}
    alerts = tmp_path / "alerts.yaml"
    alerts.write_text(
        yaml.safe_dump(
            {
                "channels": {"hook": {"url_env": "TEST_ALERT_HOOK"}},
                "routes": {"critical": ["hook"]},
                "rules": [rule],
            }
        )
    )
    lost = f"[CRITICAL] monitor heartbeat_missing {trader_id}"
    with lively_sim() as tsim:
        path = write_node_config(tmp_path, tsim, trader_id=trader_id)
        node = Process(
            [sys.executable, "-m", "ops.node_main", str(path)], env, tmp_path / "node.log"
        )
        watcher = Process(
            [*SERAPHIM, "monitor", "--alerts", str(alerts), "--interval", str(INTERVAL_SECS)],
            env,
            tmp_path / "monitor.log",
        )
        try:
            with ControlClient.connect() as client:

                def running() -> bool:
                    assert node.proc.poll() is None, node.text()[-3000:]
                    health = client.health(trader_id)
                    return bool(health) and health["status"] == "running"

                wait_for(running, 90, "the node's heartbeat")
                wait_for(lambda: "watching heartbeats" in watcher.text(), 30, "the monitor")
                assert lost not in hook.titles()
                node.proc.send_signal(signal.SIGKILL)
                killed_ns = time.time_ns()
                node.proc.wait(10)
                final_beat_ns = client.health(trader_id)["ts"]
                # a wall-clock backstop only (a loaded machine may be slow to deliver): the
                # timing itself is checked on the monitor's own report below
                wait_for(lambda: lost in hook.titles(), THRESHOLD_SECS + 12, "heartbeat lost")
        finally:
            node.stop()
            watcher.stop()
            hook.close()
    (message,) = [r["message"] for r in hook.received if r["title"] == lost]
    assert message.startswith(f"heartbeat lost: {trader_id} silent for "), message
    assert message in watcher.text()
    last_beat, noticed = LOST_REPORT.search(message).groups()
    # the loss it reports is of the node's last beat ...
    assert unix_nanos(last_beat) == final_beat_ns <= killed_ns
    # ... noticed once that beat was older than the threshold, at the first look after that
    silent = (unix_nanos(noticed) - unix_nanos(last_beat)) / 1e9
    assert THRESHOLD_SECS < silent <= THRESHOLD_SECS + INTERVAL_SECS + LOOK_SLACK_SECS, message
    assert watcher.proc.returncode == 0, watcher.text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--redis", "redis://127.0.0.1:1/0"], "Redis at redis://127.0.0.1:1/0 is unreachable"),
        (["--timeout", "-1"], "Invalid value for --timeout: must be positive"),
        (["--alerts", "/nonexistent/alerts.yaml"], "alerts file /nonexistent/alerts.yaml:"),
    ],
)
def test_monitor_bad_input_is_one_clear_error(args, message):
    result = CliRunner().invoke(main, ["monitor", *args])
    assert result.exit_code != 0
    assert message in result.output, result.output
    assert "Traceback" not in result.output


def test_control_bad_input_is_one_clear_error(operator_env, trader_id, monkeypatch):
    runner = CliRunner()

    def run(*args: str, **env: str) -> str:
        result = runner.invoke(main, ["control", *args], env=env or None)
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        (line,) = result.output.strip().splitlines()
        return line

    assert run(trader_id, "pause", "MACross-000") == (
        f"Error: unknown trader {trader_id}: no node has opened a control channel for it on "
        "redis://127.0.0.1:6379/0"
    )
    assert run("--redis", "redis://127.0.0.1:1/0", trader_id, "reset-guard").startswith(
        "Error: Redis at redis://127.0.0.1:1/0 is unreachable"
    )
    assert run(trader_id, "order", "BTC/USD", "BUY", "1") == (
        "Error: instrument id 'BTC/USD' needs a venue, e.g. BTC/USD.KRAKEN"
    )
    assert run(trader_id, "order", "BTC/USD.KRAKEN", "BUY", "0") == (
        "Error: order quantity must be a positive number (got '0')"
    )
    assert run(trader_id, "set-params", "MACross-000", "fast") == (
        "Error: expected NAME=VALUE, got 'fast'"
    )
    monkeypatch.delenv("SERAPHIM_OPERATOR_SECRET")
    assert run(trader_id, "reset-guard") == (
        "Error: no operator secret: set $SERAPHIM_OPERATOR_SECRET or "
        "$SERAPHIM_OPERATOR_SECRET_FILE (a file holding it)"
    )
    assert os.environ.get("SERAPHIM_OPERATOR_SECRET") is None
