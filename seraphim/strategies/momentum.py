"""Momentum: channel breakouts confirmed by the rate of change."""

from __future__ import annotations

from nautilus_trader.config import PositiveInt
from nautilus_trader.indicators import DonchianChannel
from nautilus_trader.indicators import RateOfChange
from nautilus_trader.model.data import Bar

from seraphim.strategies.base import SeraphimStrategy
from seraphim.strategies.directional import DirectionalConfig
from seraphim.strategies.registry import register_strategy


class MomentumConfig(DirectionalConfig, frozen=True):
    """
    Parameters of ``momentum``.

    entry_period : bars in the breakout channel (highest high / lowest low).
    exit_period : bars in the exit channel.  roc_period : closes in the rate of change.
    min_roc : the rate of change an entry needs (e.g. 0.02 = +2 % for a long).
    long_only : when False the strategy also sells downside breakouts (needs margin).
    """

    entry_period: PositiveInt = 48
    exit_period: PositiveInt = 24
    roc_period: PositiveInt = 24
    min_roc: float = 0.0


@register_strategy("momentum", MomentumConfig)
class Momentum(SeraphimStrategy):
    """
    Breakout momentum: buy a close above the prior N-bar high when the rate of change agrees.

    Channels are nautilus ``DonchianChannel``s of the *previous* bars (the current bar is not in
    them); ROC is nautilus's ``RateOfChange``: close / close (roc_period - 1) bars ago - 1.
    On each bar close once all are warm: exits first: a long is closed when close < the prior
    exit_period-bar low, a short when close > the prior exit_period-bar high; then, when flat:
    close > prior entry_period-bar high and ROC > min_roc -> long; close < prior entry_period-bar
    low and ROC < -min_roc -> short (only if not long_only).
    """

    def validate_params(self, params: MomentumConfig) -> None:
        if params.roc_period < 2:
            raise ValueError("roc_period must be >= 2")

    def setup(self) -> None:
        self.entry_channel = self.add_indicator(DonchianChannel(self.params.entry_period))
        self.exit_channel = self.add_indicator(DonchianChannel(self.params.exit_period))
        self.roc = self.add_indicator(RateOfChange(self.params.roc_period))
        self._prior: tuple[float, float, float, float] | None = None

    def warmup_bar_count(self) -> int:
        return max(self.params.entry_period, self.params.exit_period, self.params.roc_period) + 1

    def evaluate(self, bar: Bar) -> None:
        prior = self._prior
        if self.entry_channel.initialized and self.exit_channel.initialized:
            self._prior = (
                self.entry_channel.upper,
                self.entry_channel.lower,
                self.exit_channel.upper,
                self.exit_channel.lower,
            )
        if prior is None or not self.roc.initialized:
            return
        entry_high, entry_low, exit_high, exit_low = prior
        close, roc, p = bar.close.as_double(), self.roc.value, self.params
        if (self.state > 0 and close < exit_low) or (self.state < 0 and close > exit_high):
            self.state = 0
        if self.state == 0:
            if close > entry_high and roc > p.min_roc:
                self.state = 1
            elif not p.long_only and close < entry_low and roc < -p.min_roc:
                self.state = -1
        self.set_target_position(self.target_quantity(self.state, close))
