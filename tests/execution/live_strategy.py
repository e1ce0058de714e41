"""
A live strategy for the end-to-end tests: on its first quote it sets its target position
(worked by its execution algorithm), optionally cancels everything once the venue has accepted
so many of its children (an event, not a time: the test holds on a loaded machine), and asks the
node to stop once the parent has ended. What it sees goes to ``RECORDS[scenario]``.
"""

from __future__ import annotations

from collections import defaultdict
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
    cancel_after_children: int | None = None  # cancel all once this many children are accepted
    limit_below_bid: float | None = None  # send a limit buy this far below the bid instead


class QuoteTarget(SeraphimStrategy):
    def on_start(self) -> None:
        super().on_start()
        self.rec = RECORDS[self.params.scenario]
        self.sent = False
        self.children_accepted = 0
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

    def on_order_accepted(self, event) -> None:
        order = self.cache.order(event.client_order_id)
        if order is None or not order.is_spawned:
            return
        self.children_accepted += 1
        if self.children_accepted == self.params.cancel_after_children:
            self.cancel_all_orders(self.params.instrument_id)

    def _on_quality(self, row: ExecutionQuality) -> None:
        self.rec["quality"].append(row)
        self.shutdown_system(f"test: parent {row.status}")
