"""Alert rules, the raise/resolve/cooldown logic and delivery to real local channels."""

from __future__ import annotations

import time

import pytest
import yaml

from seraphim.ops.alerts.delivery import AlertDispatcher
from seraphim.ops.alerts.engine import AlertEngine
from seraphim.ops.alerts.rules import AlertRulesError
from seraphim.ops.alerts.rules import load_rules

from .harness import wait_for
from .receivers import SmtpReceiver
from .receivers import WebhookReceiver

S = 10**9


@pytest.fixture
def channels(monkeypatch):
    hook, smtp = WebhookReceiver(), SmtpReceiver()
    monkeypatch.setenv("TEST_ALERT_HOOK", hook.url)
    monkeypatch.setenv("TEST_ALERT_MAIL", smtp.url)
    yield hook, smtp
    hook.close()
    smtp.close()


def write_rules(tmp_path, rules, **extra):
    doc = {
        "channels": {
            "hook": {"url_env": "TEST_ALERT_HOOK"},
            "mail": {"url_env": "TEST_ALERT_MAIL"},
        },
        "routes": {"critical": ["hook", "mail"], "warning": ["hook"], "info": []},
        "rules": rules,
        **extra,
    }
    path = tmp_path / "alerts.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_conditions_raise_resolve_and_cool_down_to_the_channels_of_their_severity(
    tmp_path, channels
):
    hook, smtp = channels
    rules = load_rules(
        write_rules(
            tmp_path,
            [
                {"rule": "data_stale", "threshold": 5, "severity": "warning", "cooldown_secs": 60},
                {"rule": "drawdown", "threshold": 2, "severity": "critical", "cooldown_secs": 0},
                {"rule": "order_filled", "severity": "info", "cooldown_secs": 30},
            ],
        )
    )
    engine = AlertEngine(rules, "ALERT-001")
    dispatcher = AlertDispatcher(rules, log=lambda _line: None)
    dispatcher.start()
    t = time.time_ns()

    def feed(rule, subject, value, at):
        notice = engine.check(rule, subject, value, t + at * S, f"{rule} {value}")
        if notice is not None:
            dispatcher.submit(notice)

    feed("data_stale", "BTC/USD.KRAKEN", 6, 0)  # raised
    feed("data_stale", "BTC/USD.KRAKEN", 9, 1)  # still stale: nothing
    feed("data_stale", "BTC/USD.KRAKEN", 0.1, 2)  # resolved
    feed("data_stale", "BTC/USD.KRAKEN", 7, 3)  # again within the cooldown: suppressed
    feed("data_stale", "BTC/USD.KRAKEN", 0.1, 4)  # its resolution too
    feed("data_stale", "BTC/USD.KRAKEN", 7, 70)  # after the cooldown: raised
    feed("drawdown", "equity", 3.5, 5)  # critical: webhook and mail
    feed("drawdown", "equity", 1.0, 6)
    fill = engine.event("order_filled", "MACross-000", t, "bought")
    quiet = engine.event("order_filled", "MACross-000", t + S, "bought again")  # cooldown
    dispatcher.submit(fill)
    assert quiet is None
    dispatcher.stop(20)
    assert hook.titles() == [
        "[WARNING] ALERT-001 data_stale BTC/USD.KRAKEN",
        "[RESOLVED] ALERT-001 data_stale BTC/USD.KRAKEN",
        "[WARNING] ALERT-001 data_stale BTC/USD.KRAKEN",
        "[CRITICAL] ALERT-001 drawdown equity",
        "[RESOLVED] ALERT-001 drawdown equity",
    ]
    wait_for(lambda: len(smtp.subjects) == 2, 10, "two mails")
    assert smtp.subjects == [
        "[CRITICAL] ALERT-001 drawdown equity",
        "[RESOLVED] ALERT-001 drawdown equity",
    ]
    assert [n.rule for n in dispatcher.quiet] == ["order_filled"]  # info routes nowhere
    assert engine.suppressed == 2


def test_an_unreachable_channel_is_retried_then_recorded_as_not_delivered(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_ALERT_HOOK", "json://127.0.0.1:9/nothing-listens")
    monkeypatch.setenv("TEST_ALERT_MAIL", "json://127.0.0.1:9/nothing-listens")
    rules = load_rules(write_rules(tmp_path, [{"rule": "node_started"}], retries=2))
    recorded = []
    dispatcher = AlertDispatcher(
        rules, log=lambda _line: None, journal=lambda *row: recorded.append(row)
    )
    notice = AlertEngine(rules, "ALERT-002").event("node_started", "node", time.time_ns(), "up")
    started = time.monotonic()
    assert dispatcher.deliver(notice) is False
    assert time.monotonic() - started >= 0.5 + 1.0  # two backoffs between three attempts
    ((_notice, delivered, attempts, error),) = recorded
    assert (delivered, attempts, error) == (False, 3, "a channel refused or was unreachable")


@pytest.mark.parametrize(
    ("rules", "extra", "message"),
    [
        (
            [{"rule": "data_old", "threshold": 1}],
            {},
            "rules[0]: unknown rule 'data_old' (known: data_stale,",
        ),
        ([{"rule": "drawdown"}], {}, "rules[0]: drawdown needs a positive threshold"),
        ([{"rule": "order_filled", "threshold": 3}], {}, "order_filled takes no threshold"),
        (
            [{"rule": "drawdown", "threshold": 2, "severity": "loud"}],
            {},
            "Invalid enum value 'loud' - at `$.rules[0].severity`",
        ),
        (
            [{"rule": "node_started"}],
            {"routes": {"urgent": ["hook"]}},
            "routes: unknown severity 'urgent'",
        ),
        (
            [{"rule": "node_started"}],
            {"routes": {"critical": ["pager"]}},
            "routes.critical: unknown channel 'pager'",
        ),
        (
            [{"rule": "node_started"}],
            {"channels": {"hook": {"url_env": "TEST_ALERT_BAD"}}, "routes": {}},
            "channels.hook: apprise does not accept this URL (scheme 'nosuchservice')",
        ),
        (
            [{"rule": "node_started"}],
            {"channels": {"hook": {"url_env": "TEST_ALERT_UNSET"}}, "routes": {}},
            "channels.hook: $TEST_ALERT_UNSET is not set",
        ),
    ],
)
def test_a_bad_alerts_file_is_one_clear_error(tmp_path, monkeypatch, rules, extra, message):
    monkeypatch.setenv("TEST_ALERT_HOOK", "json://127.0.0.1:9/x")
    monkeypatch.setenv("TEST_ALERT_MAIL", "json://127.0.0.1:9/y")
    monkeypatch.setenv("TEST_ALERT_BAD", "nosuchservice://token-that-must-not-leak@host")
    monkeypatch.delenv("TEST_ALERT_UNSET", raising=False)
    with pytest.raises(AlertRulesError) as error:
        load_rules(write_rules(tmp_path, rules, **extra))
    text = str(error.value)
    assert message in text and "\n" not in text
    assert "token-that-must-not-leak" not in text
    assert text.startswith(str(tmp_path / "alerts.yaml"))


def test_the_shipped_alerts_file_loads(monkeypatch):
    """configs/alerts.yaml, which the README points to, is a valid rules file."""
    from seraphim.paths import REPO_ROOT

    monkeypatch.setenv("SERAPHIM_ALERT_WEBHOOK", "json://127.0.0.1:9/hook")
    rules = load_rules(REPO_ROOT / "configs/alerts.yaml")
    assert {r.rule for r in rules.rules} >= {"drawdown", "heartbeat_missing", "data_stale"}
