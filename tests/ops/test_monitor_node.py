"""Monitoring a node trading the local Kraken exchange: health in Redis, Prometheus metrics
that parse and move, and alerts to a real webhook and SMTP server when the book stalls and
when drawdown crosses, each resolved when the condition clears; cooldown keeps fills quiet."""

from __future__ import annotations

import time
import urllib.request
from decimal import Decimal

import pytest
import yaml
from adapters_kraken.helpers import KEY
from adapters_kraken.helpers import SECRET as KRAKEN_SECRET
from adapters_kraken.helpers import ThreadedSim
from adapters_kraken.helpers import sim_config
from adapters_kraken.node_harness import write_node_config
from prometheus_client.parser import text_string_to_metric_families

from seraphim.journal.settings import connect
from seraphim.ops import node_actors
from seraphim.ops.client import ControlClient
from seraphim.ops.commands import new_command
from seraphim.ops.monitor import MonitorActor
from seraphim.sim.kraken import AccountConfig

from .harness import run_with_script
from .harness import ticker
from .harness import wait_for
from .receivers import SmtpReceiver
from .receivers import WebhookReceiver

pytestmark = pytest.mark.slow

CALM_MARKET = {
    "warmup_seconds": 2 * 3600,
    "step_seconds": 0.2,
    "volatility": 0.00001,
    "trade_probability": 0.9,
}


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def total(samples: dict, name: str, **labels: str) -> float:
    return sum(
        v
        for (n, lab), v in samples.items()
        if n == name and all(dict(lab).get(k) == w for k, w in labels.items())
    )


def test_a_monitored_node_alerts_on_a_stalled_book_and_drawdown_and_exports_metrics(
    tmp_path, trader_id, monkeypatch, journal_env
):
    hook, smtp = WebhookReceiver(), SmtpReceiver()
    monkeypatch.setenv("TEST_ALERT_HOOK", hook.url)
    monkeypatch.setenv("TEST_ALERT_MAIL", smtp.url)
    alerts = tmp_path / "alerts.yaml"
    alerts.write_text(
        yaml.safe_dump(
            {
                "channels": {
                    "hook": {"url_env": "TEST_ALERT_HOOK"},
                    "mail": {"url_env": "TEST_ALERT_MAIL"},
                },
                "routes": {"critical": ["hook", "mail"], "warning": ["hook"], "info": ["hook"]},
                "rules": [
                    {"rule": "data_stale", "threshold": 3, "severity": "warning"},
                    {"rule": "drawdown", "threshold": 2, "severity": "critical", "action": "halt"},
                    {"rule": "venue_disconnected", "threshold": 2, "severity": "warning"},
                    {"rule": "order_filled", "severity": "info", "cooldown_secs": 600},
                    {"rule": "node_started", "severity": "info"},
                    {"rule": "node_stopped", "severity": "info"},
                ],
            }
        )
    )
    actors = node_actors(metrics_port=0, alerts_file=alerts, heartbeat_secs=0.5, journal=True)
    account = AccountConfig(KEY, KRAKEN_SECRET, balances={"ZUSD": "100000", "XXBT": "1"})
    seen: dict = {}
    config = sim_config(random_walk=CALM_MARKET, accounts=[account])
    with ThreadedSim(config) as tsim:
        path = write_node_config(tmp_path, tsim, trader_id=trader_id)
        sources = tsim.sim.sources

        def stall(on: bool) -> None:
            for source in sources.values():
                source._next = time.time() + (1e9 if on else 0)  # the walk's next step

        def move_price(factor: str) -> None:
            for source in sources.values():
                source.mid = source.mid * Decimal(factor)

        def script(node) -> None:
            client = ControlClient.connect()
            monitor = next(a for a in node.trader.actors() if isinstance(a, MonitorActor))
            prefix = f"{trader_id} "
            wait_for(lambda: monitor.metrics_port, 30, "the metrics server")
            wait_for(
                lambda: (
                    total(
                        scrape(monitor.metrics_port),
                        "seraphim_order_events_total",
                        event="OrderFilled",
                    )
                    >= 2
                ),
                60,
                "two fills in the metrics",
            )
            first = scrape(monitor.metrics_port)
            health = client.health(trader_id)
            assert health["status"] == "running"
            assert health["instruments"]["BTC/USD.KRAKEN"]["staleness_secs"] < 3
            assert health["venues"]["KRAKEN data"]["connected"] is True
            assert health["venues"]["KRAKEN exec"]["connected"] is True
            assert health["equity"] > 100_000 and health["trading_state"] == "ACTIVE"
            # The day's start is the first fully priced equity (BTC valued), not the USD alone.
            assert abs(health["daily_pnl"]) < 0.01 * health["equity"]
            assert total(first, "seraphim_venue_connected", venue="KRAKEN") >= 1

            # The book stalls past the threshold: a warning, resolved once it moves again.
            # (The strategy pauses first: its own fills would print on the tape.)
            tick = next(s for s in node.trader.strategies() if s.id.value == "Ticker-000")
            assert client.send(new_command(trader_id, "pause", "ops", strategy_id="Ticker-000")).ok
            wait_for(lambda: not node.kernel.cache.orders_inflight(), 20, "the last order")
            tsim.call(lambda: stall(True))
            stale = f"[WARNING] {prefix}data_stale BTC/USD.KRAKEN"
            wait_for(lambda: stale in hook.titles(), 30, "the staleness alert")
            tsim.call(lambda: stall(False))
            assert client.send(
                new_command(trader_id, "resume", "ops", strategy_id=tick.id.value)
            ).ok
            resolved = f"[RESOLVED] {prefix}data_stale BTC/USD.KRAKEN"
            wait_for(lambda: resolved in hook.titles(), 30, "the staleness resolution")

            # BTC falls 10 %: drawdown crosses 2 % of equity (critical: webhook and mail).
            assert node.kernel.risk_engine.trading_state.name == "ACTIVE"
            tsim.call(lambda: move_price("0.9"))
            dd = f"[CRITICAL] {prefix}drawdown equity"
            wait_for(lambda: dd in hook.titles() and dd in smtp.subjects, 30, "the drawdown alert")
            # Its action halts the node at once (the emergency stop), whatever the delivery.
            engine = node.kernel.risk_engine
            wait_for(lambda: engine.trading_state.name == "HALTED", 10, "the halt")
            tsim.call(lambda: move_price("1.2"))
            back = f"[RESOLVED] {prefix}drawdown equity"
            wait_for(lambda: back in smtp.subjects, 30, "the drawdown resolution")

            # The exchange drops the private WebSocket and refuses new tokens for a while.
            faults = tsim.sim.faults

            def outage() -> None:
                faults.rest_error("5xx", count=1000, methods=["GetWebSocketsToken"])
                faults.drop_ws("private")

            tsim.call(outage)
            down = f"[WARNING] {prefix}venue_disconnected KRAKEN exec"
            wait_for(lambda: down in hook.titles(), 30, "the disconnection alert")
            tsim.call(faults.clear)
            up = f"[RESOLVED] {prefix}venue_disconnected KRAKEN exec"
            wait_for(lambda: up in hook.titles(), 60, "the reconnection")

            later = scrape(monitor.metrics_port)
            assert total(later, "seraphim_venue_reconnects", client="KRAKEN exec") >= 1
            filled = total(later, "seraphim_order_events_total", event="OrderFilled")
            assert filled > total(first, "seraphim_order_events_total", event="OrderFilled")
            assert total(later, "seraphim_submit_ack_latency_seconds_count") > 0
            assert total(later, "seraphim_drawdown_ratio") >= 0
            seen["fills"] = filled
            client.close()

        run_with_script(path, script, actors=actors[:2], strategies=[ticker(interval_ms=300)])
    try:
        fills = [t for t in hook.titles() if "order_filled" in t]
        assert fills == [f"[INFO] {trader_id} order_filled {t}" for t in ["Ticker-000"]]
        assert seen["fills"] > 1  # many fills, one notice: the cooldown held the rest
        titles = hook.titles()
        assert titles[0] == f"[INFO] {trader_id} node_started node"
        assert titles[-1] == f"[INFO] {trader_id} node_stopped node"
        assert sum("drawdown" in s for s in smtp.subjects) == 2
        with ControlClient.connect() as client:
            assert client.health(trader_id)["status"] == "stopped"
        dsn, schema = journal_env
        conn = connect(dsn, schema)
        try:
            logged = conn.execute(
                "SELECT rule, subject, kind, delivered FROM alerts WHERE trader_id = %s "
                "ORDER BY raised_at",
                (trader_id,),
            ).fetchall()
        finally:
            conn.close()
        assert ("data_stale", "BTC/USD.KRAKEN", "raised", True) in logged
        assert ("drawdown", "equity", "resolved", True) in logged
        assert ("venue_disconnected", "KRAKEN exec", "raised", True) in logged
        assert len(logged) == len(hook.titles())  # every notice sent is in the alert log
    finally:
        hook.close()
        smtp.close()
