"""A strategy that leaves state behind: an open position, a resting order, saved state."""

from __future__ import annotations

from decimal import Decimal

from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.trading.strategy import Strategy


class LeaveOpenConfig(StrategyConfig, frozen=True):
    instrument_id: InstrumentId
    bar_type: BarType


class LeaveOpen(Strategy):
    """Buys once (position stays open), rests a far limit order, cancels another."""

    def __init__(self, config: LeaveOpenConfig) -> None:
        super().__init__(config)
        self.bars = 0

    def on_start(self) -> None:
        self.instrument = self.cache.instrument(self.config.instrument_id)
        self.subscribe_bars(self.config.bar_type)

    def on_bar(self, bar: Bar) -> None:
        self.bars += 1
        price = bar.close.as_double()
        if self.bars == 5:
            self.submit_order(
                self.order_factory.market(
                    self.instrument.id, OrderSide.BUY, self.instrument.make_qty(Decimal("0.5"))
                )
            )
        elif self.bars == 6:
            self.resting = self.order_factory.limit(
                self.instrument.id,
                OrderSide.BUY,
                self.instrument.make_qty(Decimal("0.1")),
                self.instrument.make_price(price * 0.5),
            )
            self.submit_order(self.resting)
        elif self.bars == 7:
            self.canceled = self.order_factory.limit(
                self.instrument.id,
                OrderSide.SELL,
                self.instrument.make_qty(Decimal("0.1")),
                self.instrument.make_price(price * 2),
            )
            self.submit_order(self.canceled)
        elif self.bars == 9:
            self.cancel_order(self.canceled)

    def on_save(self) -> dict[str, bytes]:
        return {"bars_seen": str(self.bars).encode(), "mode": b'{"phase": "test"}'}

    def on_stop(self) -> None:
        pass  # leave the position and the resting order for `seraphim state` to find
