"""Mean reversion on a rolling z-score of the close."""

from __future__ import annotations

from nautilus_trader.config import PositiveFloat
from nautilus_trader.config import PositiveInt
from nautilus_trader.model.data import Bar

from seraphim.strategies.base import SeraphimStrategy
from seraphim.strategies.directional import DirectionalConfig
from seraphim.strategies.registry import register_strategy
from seraphim.strategies.signals import RollingZScore
from seraphim.strategies.signals import band_state


class MeanReversionConfig(DirectionalConfig, frozen=True):
    """
    Parameters of ``mean_reversion``.

    window : closes in the rolling mean and standard deviation (ddof=1).
    entry_z : |z| that opens a position.  exit_z : |z| under which it closes.
    long_only : when False the strategy also sells short at +entry_z (needs margin).
    """

    window: PositiveInt = 48
    entry_z: PositiveFloat = 2.0
    exit_z: float = 0.5


@register_strategy("mean_reversion", MeanReversionConfig)
class MeanReversion(SeraphimStrategy):
    """
    Rolling z-score mean reversion: buy when the close is far below its recent mean.

    z = (close - mean) / std over the last ``window`` closes (including this one). On each bar
    close once ``window`` closes are known: exits first: a long is closed when z > -exit_z, a
    short when z < exit_z; then, when flat: z < -entry_z -> long; z > entry_z -> short (only if
    not long_only).
    """

    def validate_params(self, params: MeanReversionConfig) -> None:
        if params.window < 2:
            raise ValueError("window must be >= 2")
        if not 0 <= params.exit_z < params.entry_z:
            raise ValueError("need 0 <= exit_z < entry_z")

    def setup(self) -> None:
        self.zscore = self.add_indicator(RollingZScore(self.params.window))

    def warmup_bar_count(self) -> int:
        return self.params.window

    def evaluate(self, bar: Bar) -> None:
        if not self.zscore.initialized:
            return
        p = self.params
        self.state = band_state(
            self.state,
            self.zscore.value,
            long_entry=lambda z: z < -p.entry_z,
            long_exit=lambda z: z > -p.exit_z,
            short_entry=None if p.long_only else (lambda z: z > p.entry_z),
            short_exit=lambda z: z < p.exit_z,
        )
        self.set_target_position(self.target_quantity(self.state, bar.close.as_double()))
