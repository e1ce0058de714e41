"""Moving-average crossover."""

from __future__ import annotations

from nautilus_trader.config import PositiveInt
from nautilus_trader.indicators import ExponentialMovingAverage
from nautilus_trader.indicators import SimpleMovingAverage
from nautilus_trader.model.data import Bar

from seraphim.strategies.base import SeraphimStrategy
from seraphim.strategies.directional import DirectionalConfig
from seraphim.strategies.registry import register_strategy

_AVERAGES = {"sma": SimpleMovingAverage, "ema": ExponentialMovingAverage}


class MACrossConfig(DirectionalConfig, frozen=True):
    """
    Parameters of ``ma_cross``.

    fast, slow : periods of the two averages (fast < slow).
    ma_type : "sma" or "ema".
    long_only : when False the strategy also holds short positions (needs a margin account).
    """

    fast: PositiveInt = 10
    slow: PositiveInt = 30
    ma_type: str = "sma"


@register_strategy("ma_cross", MACrossConfig)
class MACross(SeraphimStrategy):
    """
    Moving-average crossover: long while the fast average is above the slow one.

    Rules, evaluated on each bar close once both averages have ``slow`` bars:
    fast > slow -> hold +size; fast < slow -> hold 0 (long_only) or -size; equal -> no change.
    Orders are market orders for the difference between the target and the current position.
    """

    def validate_params(self, params: MACrossConfig) -> None:
        if params.fast >= params.slow:
            raise ValueError(f"fast ({params.fast}) must be less than slow ({params.slow})")
        if params.ma_type not in _AVERAGES:
            raise ValueError(f"ma_type must be one of {sorted(_AVERAGES)}, was {params.ma_type!r}")

    def setup(self) -> None:
        average = _AVERAGES[self.params.ma_type]
        self.fast_ma = self.add_indicator(average(self.params.fast))
        self.slow_ma = self.add_indicator(average(self.params.slow))

    def warmup_bar_count(self) -> int:
        return self.params.slow

    def evaluate(self, bar: Bar) -> None:
        if not (self.fast_ma.initialized and self.slow_ma.initialized):
            return
        fast, slow = self.fast_ma.value, self.slow_ma.value
        if fast == slow:
            return
        signal = 1.0 if fast > slow else (0.0 if self.params.long_only else -1.0)
        self.set_target_position(self.target_quantity(signal, bar.close.as_double()))
