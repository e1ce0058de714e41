"""
Run ``seraphim node run``'s node (seraphim.node.runner.run_node) with the Churn strategy, its
state in Redis and the journal on: ``python kraken_node.py NODE_FILE``. SIGINT stops it.
"""

from __future__ import annotations

import sys

from nautilus_trader.config import ImportableStrategyConfig

from seraphim.node.runner import run_node


def main() -> None:
    churn = ImportableStrategyConfig(
        strategy_path="churn:Churn",
        config_path="churn:ChurnConfig",
        config={"instrument_id": "BTC/USD.KRAKEN", "interval_secs": 0.7, "order_id_tag": "001"},
    )
    run_node(sys.argv[1], extra_strategies=[churn], state="redis", journal=True)


if __name__ == "__main__":
    main()
