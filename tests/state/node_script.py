"""
A TradingNode with its state in Redis (no venues), for health and restart tests:
``python node_script.py TRADER_ID REDIS_URL``. Prints READY once built; SIGINT stops it
gracefully (saving strategy state), SIGKILL does not.
"""

from __future__ import annotations

import sys

from nautilus_trader.config import ImportableStrategyConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import StrategyConfig
from nautilus_trader.config import TradingNodeConfig
from nautilus_trader.live.node import TradingNode
from nautilus_trader.trading.strategy import Strategy

from seraphim.state.settings import redis_cache_configs
from seraphim.state.settings import redis_settings


class Counter(Strategy):
    """Counts its starts across restarts through saved state."""

    def __init__(self, config: StrategyConfig) -> None:
        super().__init__(config)
        self.starts = 0

    def on_load(self, state: dict[str, bytes]) -> None:
        self.starts = int(state.get("starts", b"0"))

    def on_start(self) -> None:
        self.starts += 1

    def on_save(self) -> dict[str, bytes]:
        return {"starts": str(self.starts).encode()}


def main() -> None:
    trader_id, url = sys.argv[1], sys.argv[2]
    cache, bus = redis_cache_configs(trader_id, redis_settings(url), heartbeat_secs=1)
    config = TradingNodeConfig(
        trader_id=trader_id,
        logging=LoggingConfig(log_level="ERROR"),
        cache=cache,
        message_bus=bus,
        load_state=True,
        save_state=True,
        timeout_connection=2,
        timeout_reconciliation=1,
        timeout_portfolio=1,
        timeout_disconnection=1,
        timeout_post_stop=0.1,
        strategies=[  # from the config, so the kernel loads its saved state
            ImportableStrategyConfig(
                strategy_path="node_script:Counter",
                config_path="nautilus_trader.config:StrategyConfig",
                config={"order_id_tag": "000"},
            )
        ],
    )
    node = TradingNode(config=config)
    node.build()
    print("READY", flush=True)
    try:
        node.run()
    finally:
        node.dispose()


if __name__ == "__main__":
    main()
