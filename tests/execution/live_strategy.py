"""
A live strategy for the end-to-end tests: on its first quote it sets its target position
(worked by its execution algorithm), optionally cancels everything after a while, and asks the
node to stop once the parent has ended. What it sees goes to ``RECORDS[scenario]``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any

from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.identifiers import ExecAlgorithmId

from seraphim.execution.quality import EXECUTION_QUALITY_TOPIC
from seraphim.execution.quality import ExecutionQuality
from seraphim.strategies.base import SeraphimStrategy
from seraphim.strategies.base import SeraphimStrategyConfig

RECORDS: dict[str, dict[str, Any]] = defaultdict(lambda: defaultdict(list))


class QuoteTargetConfig(SeraphimStrategyConfig, frozen=True):
    target: float = 1.0
    scenario: str = "twap"
    cancel_after_secs: float | None = None
    limit_below_bid: float | None = None  # send a limit buy this far below the bid instead


class QuoteTarget(SeraphimStrategy):
    def on_start(self) -> None:
        super().on_start()
        self.rec = RECORDS[self.params.scenario]
        self.sent = False
        self.subscribe_quote_ticks(self.params.instrument_id)
        self.msgbus.subscribe(EXECUTION_QUALITY_TOPIC, self._on_quality)

    def on_quote_tick(self, tick: QuoteTick) -> None:
        self.rec["quotes"].append(tick)
        if self.sent:
            return
        self.sent = True
        self.rec["adopted_position"].append(self.position_quantity())
        if self.params.limit_below_bid is None:
            parent = self.set_target_position(Decimal(str(self.params.target)))
        else:
            parent = self.order_factory.limit(
                self.params.instrument_id,
                OrderSide.BUY,
                self.instrument.make_qty(self.params.target),
                self.instrument.make_price(
                    tick.bid_price.as_double() - self.params.limit_below_bid
                ),
                exec_algorithm_id=ExecAlgorithmId(self.params.exec_algorithm_id),
                exec_algorithm_params=self.params.exec_algorithm_params,
            )
            self.submit_order(parent)
        self.rec["parents"].append(parent)
        if parent is None:
            self.shutdown_system("test: nothing left to trade")
        elif self.params.cancel_after_secs is not None:
            self.clock.set_time_alert(
                "cancel",
                self.clock.utc_now() + timedelta(seconds=self.params.cancel_after_secs),
                lambda _e: self.cancel_all_orders(self.params.instrument_id),
            )

    def _on_quality(self, row: ExecutionQuality) -> None:
        self.rec["quality"].append(row)
        self.shutdown_system(f"test: parent {row.status}")
