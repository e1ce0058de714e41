"""
Execution algorithms (nautilus ``ExecAlgorithm``s): TWAP, VWAP, POV and iceberg, registered in
every backtest engine and trading node, so any strategy reaches them by setting
``exec_algorithm_id`` / ``exec_algorithm_params`` on an order (or, for Seraphim strategies, the
``exec_algorithm_id`` / ``exec_algorithm_params`` parameters ``set_target_position`` honours).
"""

from __future__ import annotations

from nautilus_trader.config import ImportableExecAlgorithmConfig

# (id, module, class, config class)
ALGORITHMS = (
    ("TWAP", "seraphim.execution.twap", "TwapExecAlgorithm", "TwapConfig"),
    ("VWAP", "seraphim.execution.vwap", "VwapExecAlgorithm", "VwapConfig"),
    ("POV", "seraphim.execution.pov", "PovExecAlgorithm", "PovConfig"),
    ("ICEBERG", "seraphim.execution.iceberg", "IcebergExecAlgorithm", "IcebergConfig"),
)
ALGORITHM_IDS = tuple(row[0] for row in ALGORITHMS)


def exec_algorithm_configs() -> list[ImportableExecAlgorithmConfig]:
    """The configs of Seraphim's execution algorithms, for a backtest engine or a node."""
    return [
        ImportableExecAlgorithmConfig(
            exec_algorithm_path=f"{module}:{cls}",
            config_path=f"{module}:{config}",
            config={"exec_algorithm_id": algorithm_id},
        )
        for algorithm_id, module, cls, config in ALGORITHMS
    ]
