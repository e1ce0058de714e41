"""
``seraphim monitor``: a dead node cannot say so itself. This watches every node's heartbeat in
Redis (the monitor actor's health snapshots) and raises ``heartbeat_missing`` for a node whose
last snapshot says it is running but is older than the timeout; resolved when it beats again or
is stopped cleanly.
"""

from __future__ import annotations

import time

import msgspec
from nautilus_trader.core.datetime import unix_nanos_to_iso8601

from seraphim.ops import keys
from seraphim.ops.alerts.engine import AlertEngine
from seraphim.ops.alerts.engine import Notice
from seraphim.ops.alerts.rules import AlertRules
from seraphim.ops.alerts.rules import RuleSpec

DEFAULT_TIMEOUT_SECS = 10.0


def watcher_rules(rules: AlertRules | None, timeout: float | None) -> AlertRules:
    """The file's rules with a ``heartbeat_missing`` rule (``timeout`` overrides its threshold)."""
    rules = rules or AlertRules([])
    given = rules.rule("heartbeat_missing")
    threshold = timeout or (given.threshold if given else DEFAULT_TIMEOUT_SECS)
    rule = RuleSpec(
        "heartbeat_missing",
        threshold=threshold,
        severity=given.severity if given else "critical",
        cooldown_secs=given.cooldown_secs if given else 0.0,
    )
    others = [r for r in rules.rules if r.rule != "heartbeat_missing"]
    return AlertRules([*others, rule], rules.routes, rules.retries)


class HeartbeatWatcher:
    def __init__(self, redis_client, rules: AlertRules) -> None:
        self.client = redis_client
        self.engine = AlertEngine(rules, "monitor")
        self.threshold = rules.rule("heartbeat_missing").threshold

    def poll(self) -> list[Notice]:
        """One look at every node's heartbeat; the notices it gives."""
        now = time.time_ns()
        notices = []
        for raw_key in self.client.scan_iter(match=keys.health_pattern(), count=500):
            key = raw_key.decode() if isinstance(raw_key, bytes) else raw_key
            raw = self.client.get(key)
            if raw is None:
                continue
            try:
                snapshot = msgspec.json.decode(raw)
                ts, status = int(snapshot["ts"]), snapshot.get("status")
            except (msgspec.DecodeError, KeyError, TypeError, ValueError):
                continue  # not a snapshot this version wrote
            trader = keys.trader_of_health_key(key)
            age = (now - ts) / 1e9
            silent = age if status == "running" else 0.0
            message = (
                f"heartbeat lost: {trader} silent for {age:.1f} s "
                f"(last beat {unix_nanos_to_iso8601(ts)}, noticed {unix_nanos_to_iso8601(now)})"
            )
            notice = self.engine.check("heartbeat_missing", trader, silent, now, message)
            if notice is not None:
                notices.append(notice)
        return notices
