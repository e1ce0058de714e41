"""
When an alert is raised, resolved or kept quiet: a condition per (rule, subject) that starts
(raised notice), holds (nothing) and clears (resolved notice). A rule's cooldown suppresses a
new raise of the same (rule, subject) within that many seconds of the last one sent, and the
resolution of a raise that was suppressed. Pure logic, no I/O: the caller delivers notices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from seraphim.ops.alerts.rules import AlertRules


@dataclass(frozen=True)
class Notice:
    trader_id: str
    rule: str
    subject: str  # what it is about: an instrument, a venue, a strategy, the node
    severity: str
    kind: Literal["raised", "resolved"]
    message: str
    ts: int  # UNIX nanoseconds
    action: str | None = None

    @property
    def title(self) -> str:
        state = "RESOLVED" if self.kind == "resolved" else self.severity.upper()
        return f"[{state}] {self.trader_id} {self.rule} {self.subject}"


@dataclass
class _Condition:
    since: int
    notified: bool


class AlertEngine:
    def __init__(self, rules: AlertRules, trader_id: str) -> None:
        self.rules = rules
        self.trader_id = trader_id
        self._active: dict[tuple[str, str], _Condition] = {}
        self._last_raised: dict[tuple[str, str], int] = {}
        self.suppressed = 0

    def active(self) -> list[tuple[str, str]]:
        return [key for key, c in self._active.items() if c.notified]

    def check(
        self, rule: str, subject: str, value: float | None, now: int, message: str
    ) -> Notice | None:
        """A threshold rule's latest ``value`` (``None``: unknown, treated as clear)."""
        spec = self.rules.rule(rule)
        if spec is None:
            return None
        key = (rule, subject)
        condition = self._active.get(key)
        if value is not None and value > spec.threshold:
            if condition is not None:
                return None
            notify = self._may_raise(key, spec.cooldown_secs, now)
            self._active[key] = _Condition(now, notify)
            return self._notice(spec, subject, "raised", message, now) if notify else None
        if condition is None:
            return None
        del self._active[key]
        if not condition.notified:
            return None
        held = (now - condition.since) / 1e9
        return self._notice(spec, subject, "resolved", f"cleared after {held:.1f} s", now)

    def event(self, rule: str, subject: str, now: int, message: str) -> Notice | None:
        """An event rule (a fill, a guard trip, a start): raised once per cooldown."""
        spec = self.rules.rule(rule)
        if spec is None or not self._may_raise((rule, subject), spec.cooldown_secs, now):
            return None
        return self._notice(spec, subject, "raised", message, now)

    def _may_raise(self, key: tuple[str, str], cooldown_secs: float, now: int) -> bool:
        last = self._last_raised.get(key)
        if last is not None and (now - last) < cooldown_secs * 1e9:
            self.suppressed += 1
            return False
        self._last_raised[key] = now
        return True

    def _notice(self, spec, subject: str, kind: str, message: str, now: int) -> Notice:
        action = spec.action if kind == "raised" else None
        return Notice(self.trader_id, spec.rule, subject, spec.severity, kind, message, now, action)
