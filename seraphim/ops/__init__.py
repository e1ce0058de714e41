"""
Live operations: the control channel into running nodes, their health monitoring, Prometheus
metrics and alerts. ``node_actors`` gives the components a node runs for them.
"""

from __future__ import annotations

from pathlib import Path

from nautilus_trader.common.config import ImportableActorConfig
from nautilus_trader.config import ImportableStrategyConfig


def node_actors(
    *,
    control: bool = True,
    metrics_port: int | None = None,
    alerts_file: str | Path | None = None,
    journal: bool = False,
    heartbeat_secs: float = 1.0,
) -> list[ImportableActorConfig | ImportableStrategyConfig]:
    """
    The monitor actor and, with ``control``, the control actor and the operator strategy for a
    node (add the actors to ``TradingNodeConfig.actors``, the strategy to ``strategies``). The
    operator secret (with ``control``) and the alerts file are checked here, so a node with
    either unusable does not start (``OperatorSecretError`` / ``AlertRulesError``, one line).
    """
    if control:
        from seraphim.ops.secret import operator_secret

        operator_secret()
    if alerts_file is not None:
        from seraphim.ops.alerts.rules import load_rules

        load_rules(alerts_file)  # AlertRulesError with a one-line message
    monitor = ImportableActorConfig(
        actor_path="seraphim.ops.monitor:MonitorActor",
        config_path="seraphim.ops.monitor:MonitorActorConfig",
        config={
            "metrics_port": metrics_port,
            "alerts_file": str(alerts_file) if alerts_file is not None else None,
            "journal": journal,
            "heartbeat_secs": heartbeat_secs,
        },
    )
    if not control:
        return [monitor]
    return [
        ImportableActorConfig(
            actor_path="seraphim.ops.control:ControlActor",
            config_path="seraphim.ops.control:ControlActorConfig",
            config={"journal": journal},
        ),
        monitor,
        ImportableStrategyConfig(
            strategy_path="seraphim.ops.operator:OperatorStrategy",
            config_path="seraphim.ops.operator:OperatorStrategyConfig",
            config={},
        ),
    ]
