"""
Runtime control of running strategies over nautilus's message bus.

A ``SeraphimStrategy`` subscribes to ``seraphim.control.<strategy id>`` (and
``seraphim.control.all``) while running. Publishing a ``StrategyControl`` there pauses it,
resumes it or changes its parameters without restarting the node; every accepted or rejected
command is logged and published as a ``StrategyControlEvent`` on ``events.seraphim.control``.

    send_control(node.kernel.msgbus, "MACross-000", "set_params", params={"fast": 5})
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Literal

CONTROL_TOPIC = "seraphim.control"
CONTROL_ALL = f"{CONTROL_TOPIC}.all"
CONTROL_EVENT_TOPIC = "events.seraphim.control"

Action = Literal["pause", "resume", "set_params"]


@dataclass
class StrategyControl:
    """
    ``pause``: stop evaluating signals and trading (indicators keep updating); with
    ``flatten`` also cancel orders and close positions. ``resume``: trade again.
    ``set_params``: change parameters (validated like the config; indicators are rebuilt and
    re-warmed from the cached bars).
    """

    action: Action
    params: dict = field(default_factory=dict)
    flatten: bool = False
    operator: str = "operator"


@dataclass(frozen=True)
class StrategyControlEvent:
    ts: int
    strategy_id: str
    action: str
    accepted: bool
    detail: str


def control_topic(strategy_id: str) -> str:
    return f"{CONTROL_TOPIC}.{strategy_id}"


def send_control(msgbus, strategy_id: str, action: Action, **kwargs) -> StrategyControl:
    """Publish a control command to one strategy (``strategy_id="all"`` for every one)."""
    command = StrategyControl(action=action, **kwargs)
    msgbus.publish(control_topic(str(strategy_id)), command)
    return command
