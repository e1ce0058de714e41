"""
The base every Seraphim strategy builds on: a nautilus ``Strategy`` with warm-up, sizing and a
target-position helper. Strategies express *what position they want*; the base turns that into
orders. Nothing here knows whether it runs in a backtest or a live node.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from nautilus_trader.config import PositiveInt
from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.trading.strategy import Strategy

from seraphim.portfolio import account_equity
from seraphim.strategies.sizing import EquityFractionSizer
from seraphim.strategies.sizing import FixedQuantitySizer
from seraphim.strategies.sizing import PositionSizer


class SeraphimStrategyConfig(StrategyConfig, frozen=True):
    """
    Parameters shared by Seraphim strategies.

    Parameters
    ----------
    instrument_id : InstrumentId
        The traded instrument.
    bar_type : BarType
        The bars that drive the strategy.
    trade_size : Decimal, optional
        Fixed position quantity (e.g. 0.5 for half a BTC). Default when no sizing is given: 1.
    equity_fraction : float, optional
        Alternatively, size each position at this fraction of account equity.
    warmup_bars : int, optional
        Historical bars to request on start (default: what the strategy's indicators need).
    close_positions_on_stop : bool, default True
        Flatten on stop.

    """

    instrument_id: InstrumentId
    bar_type: BarType
    trade_size: Decimal | None = None
    equity_fraction: float | None = None
    warmup_bars: PositiveInt | None = None
    close_positions_on_stop: bool = True

    def needs_margin(self) -> bool:
        """True when the parameters ask for short positions, which a spot cash account refuses."""
        return False


class SeraphimStrategy(Strategy):
    """Base class: subclasses implement ``on_bar`` and call ``set_target_position``."""

    def __init__(self, config: SeraphimStrategyConfig) -> None:
        super().__init__(config)
        if config.trade_size is not None and config.equity_fraction is not None:
            raise ValueError("give either trade_size or equity_fraction, not both")
        self.instrument: Instrument | None = None
        self.sizer: PositionSizer = (
            EquityFractionSizer(config.equity_fraction)
            if config.equity_fraction is not None
            else FixedQuantitySizer(config.trade_size or Decimal(1))
        )

    # -- hooks for subclasses --------------------------------------------------------------

    def warmup_bar_count(self) -> int:
        """How many past bars the strategy needs before it can trade (default 0)."""
        return 0

    # -- lifecycle -------------------------------------------------------------------------

    def on_start(self) -> None:
        self.instrument = self.cache.instrument(self.config.instrument_id)
        if self.instrument is None:
            self.log.error(f"Could not find instrument for {self.config.instrument_id}")
            self.stop()
            return
        self.request_warmup(self.config.bar_type)
        self.subscribe_bars(self.config.bar_type)

    def request_warmup(self, bar_type: BarType) -> None:
        """Request enough history that a live strategy does not wait for N new bars."""
        count = self.config.warmup_bars or self.warmup_bar_count()
        if count <= 0:
            return
        lookback = bar_type.spec.timedelta * (count + 1)
        self.request_bars(bar_type, start=self.clock.utc_now() - lookback)

    def on_stop(self) -> None:
        self.cancel_all_orders(self.config.instrument_id)
        if self.config.close_positions_on_stop:
            self.close_all_positions(self.config.instrument_id)

    # -- helpers ---------------------------------------------------------------------------

    def equity(self) -> float:
        """Account equity at the instrument's venue, in its quote currency, marked to market."""
        return account_equity(
            self.cache,
            self.portfolio,
            self.config.instrument_id.venue,
            self.instrument.quote_currency,
        )

    def target_quantity(self, signal: float, price: float) -> Decimal:
        """A signed target position for a signal in [-1, 1], sized by the strategy's sizer."""
        magnitude = self.sizer.size(self.instrument, price, self.equity())
        return Decimal(str(signal)) * magnitude

    def net_position(self, instrument_id: InstrumentId | None = None) -> Decimal:
        return Decimal(str(self.portfolio.net_position(instrument_id or self.config.instrument_id)))

    def set_target_position(
        self,
        target: Decimal,
        instrument_id: InstrumentId | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
    ) -> None:
        """
        Trade towards a signed target position with one market order for the difference.

        Quantities are rounded down to the instrument's size increment; a difference smaller
        than one increment, or than the instrument's minimum size, is not traded.
        """
        instrument_id = instrument_id or self.config.instrument_id
        instrument = self.cache.instrument(instrument_id)
        delta = Decimal(target) - self.net_position(instrument_id)
        quantity = _round_down(abs(delta), instrument.size_increment.as_decimal())
        if quantity <= 0 or (instrument.min_quantity and quantity < instrument.min_quantity):
            return
        order = self.order_factory.market(
            instrument_id=instrument_id,
            order_side=OrderSide.BUY if delta > 0 else OrderSide.SELL,
            quantity=instrument.make_qty(quantity),
            time_in_force=time_in_force,
        )
        self.submit_order(order)

    def bar_interval(self, bar: Bar) -> timedelta:
        return bar.bar_type.spec.timedelta


def _round_down(value: Decimal, increment: Decimal) -> Decimal:
    return (value // increment) * increment
