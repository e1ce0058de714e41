"""A Seraphim strategy for the operations tests: trades on a timer while trade ticks arrive."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from nautilus_trader.config import PositiveInt
from nautilus_trader.model.enums import OrderSide

from seraphim.strategies.base import SeraphimStrategy
from seraphim.strategies.base import SeraphimStrategyConfig


class TickerConfig(SeraphimStrategyConfig, frozen=True):
    interval_ms: PositiveInt = 400


class Ticker(SeraphimStrategy):
    """Every ``interval_ms`` while not paused: buys ``trade_size`` when flat, else sells it all."""

    def __init__(self, config: TickerConfig) -> None:
        super().__init__(config)
        self.ticks = 0
        self.fires = 0
        self.submitted: list[tuple[int, Decimal]] = []  # (ts, signed quantity)

    def on_start(self) -> None:
        super().on_start()
        self.subscribe_trade_ticks(self.params.instrument_id)
        self.clock.set_timer(
            "ticker", timedelta(milliseconds=self.params.interval_ms), callback=self._tick
        )

    def on_trade_tick(self, tick) -> None:
        self.ticks += 1

    def _tick(self, _event) -> None:
        self.fires += 1
        if self.paused or self.cache.orders_inflight(strategy_id=self.id):
            return
        if self.cache.orders_open(strategy_id=self.id):
            return
        net = self.portfolio.net_position(self.params.instrument_id)
        side = OrderSide.SELL if net > 0 else OrderSide.BUY
        quantity = Decimal(str(net)) if net > 0 else self.params.trade_size
        order = self.order_factory.market(
            self.params.instrument_id, side, self.instrument.make_qty(quantity)
        )
        self.submitted.append(
            (self.clock.timestamp_ns(), quantity if side == OrderSide.BUY else -quantity)
        )
        self.submit_order(order)

    def on_stop(self) -> None:
        if "ticker" in self.clock.timer_names:
            self.clock.cancel_timer("ticker")
        super().on_stop()
