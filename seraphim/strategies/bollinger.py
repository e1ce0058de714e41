"""Bollinger band mean reversion."""

from __future__ import annotations

from nautilus_trader.config import PositiveFloat
from nautilus_trader.config import PositiveInt
from nautilus_trader.indicators import BollingerBands
from nautilus_trader.model.data import Bar

from seraphim.strategies.base import SeraphimStrategy
from seraphim.strategies.directional import DirectionalConfig
from seraphim.strategies.registry import register_strategy
from seraphim.strategies.signals import band_state


class BollingerConfig(DirectionalConfig, frozen=True):
    """
    Parameters of ``bollinger``.

    period : bars in the moving average and the deviation.  k : band width in deviations.
    long_only : when False the strategy also sells short above the upper band (needs margin).
    """

    period: PositiveInt = 20
    k: PositiveFloat = 2.0


@register_strategy("bollinger", BollingerConfig)
class Bollinger(SeraphimStrategy):
    """
    Bollinger band mean reversion: buy below the lower band, exit at the middle band.

    Bands are nautilus's ``BollingerBands`` on the typical price (high+low+close)/3: middle =
    SMA(period), upper/lower = middle +/- k * population standard deviation. On each bar close
    once the bands have ``period`` bars, comparing the close: exits first: a long is closed
    when close >= middle, a short when close <= middle; then, when flat: close < lower -> long;
    close > upper -> short (only if not long_only).
    """

    def setup(self) -> None:
        self.bands = self.add_indicator(BollingerBands(self.params.period, self.params.k))

    def warmup_bar_count(self) -> int:
        return self.params.period

    def evaluate(self, bar: Bar) -> None:
        if not self.bands.initialized:
            return
        bands = self.bands
        close = bar.close.as_double()
        self.state = band_state(
            self.state,
            close,
            long_entry=lambda c: c < bands.lower,
            long_exit=lambda c: c >= bands.middle,
            short_entry=None if self.params.long_only else (lambda c: c > bands.upper),
            short_exit=lambda c: c <= bands.middle,
        )
        self.set_target_position(self.target_quantity(self.state, close))
