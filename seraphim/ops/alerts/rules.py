"""
The alerts file: channels (apprise URLs, read from the environment or a file so no secret sits
in the YAML), routing by severity, and rules. Example::

    channels:
      ops:  {url_env: SERAPHIM_ALERT_WEBHOOK}      # e.g. json://host/path, slack://...
      mail: {url_file: /run/secrets/alert_mail}    # e.g. mailtos://user:pass@host
    routes:
      critical: [ops, mail]
      warning: [ops]
      info: []                                     # quiet: logged and journaled only
    rules:
      - {rule: data_stale, threshold: 10, severity: warning, cooldown_secs: 300}
      - {rule: drawdown, threshold: 5, severity: critical, action: flatten}
      - {rule: heartbeat_missing, threshold: 15, severity: critical}

Every problem is one line naming the file, the entry and what is wrong.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Literal

import msgspec
import yaml

SEVERITIES = ("info", "warning", "critical")
ACTIONS = ("halt", "flatten")

# rule -> (threshold meaning, or None for event rules that take no threshold)
RULES: dict[str, str | None] = {
    "data_stale": "seconds since an instrument's last data",
    "venue_disconnected": "seconds a venue client has been disconnected",
    "drawdown": "percent below the equity peak",
    "daily_loss": "loss since the UTC day began, in the account currency",
    "rejects_per_minute": "rejected or denied orders in the last minute",
    "event_loop_lag": "seconds the event loop is late",
    "heartbeat_missing": "seconds without a node's heartbeat (seraphim monitor)",
    "guard_tripped": None,
    "order_filled": None,
    "node_started": None,
    "node_stopped": None,
}


class AlertRulesError(ValueError):
    """An alerts file that cannot be used (one line naming the problem)."""


class RuleSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    rule: str
    threshold: float | None = None
    severity: Literal["info", "warning", "critical"] = "warning"
    cooldown_secs: float = 300.0
    action: Literal["halt", "flatten"] | None = None


class ChannelSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    url_env: str | None = None
    url_file: str | None = None


class AlertsFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    rules: list[RuleSpec]
    channels: dict[str, ChannelSpec] = {}
    routes: dict[str, list[str]] = {}
    retries: int = 3


@dataclass(frozen=True)
class AlertRules:
    rules: list[RuleSpec]
    # severity -> the apprise URLs to notify (resolved secrets; never printed)
    routes: dict[str, list[str]] = field(default_factory=dict, repr=False)
    retries: int = 3

    def rule(self, name: str) -> RuleSpec | None:
        return next((r for r in self.rules if r.rule == name), None)


def load_rules(path: str | Path) -> AlertRules:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as e:
        raise AlertRulesError(f"alerts file {path}: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise AlertRulesError(f"alerts file {path}: not valid YAML ({_first_line(e)})") from None
    return parse_rules(raw, str(path), base=path.parent)


def parse_rules(raw, source: str = "alerts", base: Path | None = None) -> AlertRules:
    try:
        spec = msgspec.convert(raw, AlertsFile)
    except msgspec.ValidationError as e:
        raise AlertRulesError(f"{source}: {e}") from None
    seen = set()
    for i, rule in enumerate(spec.rules):
        where = f"{source}: rules[{i}]"
        if rule.rule not in RULES:
            raise AlertRulesError(
                f"{where}: unknown rule {rule.rule!r} (known: {', '.join(RULES)})"
            )
        if rule.rule in seen:
            raise AlertRulesError(f"{where}: rule {rule.rule} given twice")
        seen.add(rule.rule)
        needs = RULES[rule.rule]
        if needs is not None and (rule.threshold is None or rule.threshold <= 0):
            raise AlertRulesError(f"{where}: {rule.rule} needs a positive threshold ({needs})")
        if needs is None and rule.threshold is not None:
            raise AlertRulesError(f"{where}: {rule.rule} takes no threshold")
        if rule.cooldown_secs < 0:
            raise AlertRulesError(f"{where}: cooldown_secs must not be negative")
    urls = {name: _channel_url(name, c, source, base) for name, c in spec.channels.items()}
    routes: dict[str, list[str]] = {}
    for severity, names in spec.routes.items():
        if severity not in SEVERITIES:
            raise AlertRulesError(
                f"{source}: routes: unknown severity {severity!r} (one of {', '.join(SEVERITIES)})"
            )
        for name in names:
            if name not in urls:
                raise AlertRulesError(f"{source}: routes.{severity}: unknown channel {name!r}")
        routes[severity] = [urls[name] for name in names]
    if spec.retries < 0:
        raise AlertRulesError(f"{source}: retries must not be negative")
    return AlertRules(list(spec.rules), routes, spec.retries)


def _channel_url(name: str, channel: ChannelSpec, source: str, base: Path | None) -> str:
    where = f"{source}: channels.{name}"
    if (channel.url_env is None) == (channel.url_file is None):
        raise AlertRulesError(f"{where}: give exactly one of url_env or url_file")
    if channel.url_env is not None:
        url = os.environ.get(channel.url_env, "").strip()
        if not url:
            raise AlertRulesError(f"{where}: ${channel.url_env} is not set")
    else:
        path = Path(channel.url_file)
        if base is not None and not path.is_absolute():
            path = base / path
        try:
            url = path.read_text().strip()
        except OSError as e:
            raise AlertRulesError(f"{where}: {path}: {e.strerror}") from None
    import apprise

    if not apprise.Apprise().add(url):
        scheme = url.split("://", 1)[0] if "://" in url else "no scheme"
        # The URL itself may hold a token or a password: name only its scheme.
        raise AlertRulesError(f"{where}: apprise does not accept this URL (scheme {scheme!r})")
    return url


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]
