"""A strategy that keeps trading on a timer (live end-to-end tests): market orders that flip a
small position, and a resting limit order replaced now and then."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.trading.strategy import Strategy


class ChurnConfig(StrategyConfig, frozen=True):
    instrument_id: InstrumentId
    interval_secs: float = 1.0
    size: str = "0.001"


class Churn(Strategy):
    def __init__(self, config: ChurnConfig) -> None:
        super().__init__(config)
        self.ticks = 0
        self.resting = None

    def on_start(self) -> None:
        self.instrument = self.cache.instrument(self.config.instrument_id)
        self.subscribe_quote_ticks(self.config.instrument_id)
        self.clock.set_timer(
            "churn", timedelta(seconds=self.config.interval_secs), callback=self._tick
        )

    def _tick(self, _event) -> None:
        quote = self.cache.quote_tick(self.config.instrument_id)
        if quote is None or self.instrument is None:
            return
        self.ticks += 1
        qty = self.instrument.make_qty(Decimal(self.config.size))
        net = self.portfolio.net_position(self.config.instrument_id)
        if self.ticks % 4 == 0:
            if self.resting is not None and self.resting.is_open:
                self.cancel_order(self.resting)
            price = self.instrument.make_price(quote.bid_price.as_double() * 0.95)
            self.resting = self.order_factory.limit(
                self.config.instrument_id, OrderSide.BUY, qty, price, post_only=True
            )
            self.submit_order(self.resting)
            return
        side = OrderSide.BUY if net <= 0 else OrderSide.SELL
        self.submit_order(self.order_factory.market(self.config.instrument_id, side, qty))

    def on_stop(self) -> None:
        self.clock.cancel_timers()  # leave the resting order: `seraphim state` must show it
