"""What a node's wiring gets from ``seraphim.ops.node_actors``, and what stops it early."""

from __future__ import annotations

import pytest

from seraphim.ops import node_actors
from seraphim.ops.alerts.rules import AlertRulesError
from seraphim.ops.secret import OperatorSecretError
from seraphim.ops.secret import operator_secret_configured


def test_the_control_channel_needs_the_operator_secret_the_monitor_does_not(monkeypatch):
    monkeypatch.delenv("SERAPHIM_OPERATOR_SECRET", raising=False)
    monkeypatch.delenv("SERAPHIM_OPERATOR_SECRET_FILE", raising=False)
    assert not operator_secret_configured()
    with pytest.raises(OperatorSecretError, match=r"^no operator secret: set "):
        node_actors()
    (monitor,) = node_actors(control=False, metrics_port=9100)
    assert monitor.actor_path == "seraphim.ops.monitor:MonitorActor"
    assert monitor.config["metrics_port"] == 9100


def test_with_the_secret_a_node_gets_control_monitor_and_the_operator_strategy(operator_env):
    assert operator_secret_configured()
    control, monitor, operator = node_actors(journal=True)
    assert control.actor_path == "seraphim.ops.control:ControlActor"
    assert control.config == {"journal": True}  # the secret is never in a config
    assert monitor.config["journal"] is True
    assert operator.strategy_path == "seraphim.ops.operator:OperatorStrategy"


def test_a_bad_alerts_file_stops_the_wiring_before_the_node_starts(tmp_path, operator_env):
    path = tmp_path / "alerts.yaml"
    path.write_text("rules: [{rule: moon_phase}]\n")
    with pytest.raises(AlertRulesError, match=r"rules\[0\]: unknown rule 'moon_phase'"):
        node_actors(alerts_file=path)
