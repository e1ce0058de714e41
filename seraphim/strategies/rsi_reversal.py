"""RSI reversal: buy oversold, sell overbought, exit as the RSI returns to its middle."""

from __future__ import annotations

from nautilus_trader.config import PositiveInt
from nautilus_trader.indicators import RelativeStrengthIndex
from nautilus_trader.model.data import Bar

from seraphim.strategies.base import SeraphimStrategy
from seraphim.strategies.directional import DirectionalConfig
from seraphim.strategies.registry import register_strategy
from seraphim.strategies.signals import band_state


class RSIReversalConfig(DirectionalConfig, frozen=True):
    """
    Parameters of ``rsi_reversal`` (RSI levels on the usual 0-100 scale).

    period : RSI period (nautilus's RSI: exponential averages of gains and losses).
    oversold, overbought : entry levels.  exit_level : where positions are closed.
    long_only : when False the strategy also sells short when overbought (needs margin).
    """

    period: PositiveInt = 14
    oversold: float = 30.0
    overbought: float = 70.0
    exit_level: float = 50.0


@register_strategy("rsi_reversal", RSIReversalConfig)
class RSIReversal(SeraphimStrategy):
    """
    RSI mean reversion: long when the RSI is oversold, flat again once it recovers.

    Rules, on each bar close once the RSI has ``period`` bars (nautilus ``RelativeStrengthIndex``,
    exponential averages with alpha 2/(period+1), scaled here to 0-100):
    exits first: a long is closed when RSI > exit_level, a short when RSI < exit_level; then,
    when flat: RSI < oversold -> long; RSI > overbought -> short (only if not long_only).
    Orders are market orders for the difference between the target and the current position.
    """

    def validate_params(self, params: RSIReversalConfig) -> None:
        if not 0 < params.oversold <= params.exit_level <= params.overbought < 100:
            raise ValueError("need 0 < oversold <= exit_level <= overbought < 100")

    def setup(self) -> None:
        self.rsi = self.add_indicator(RelativeStrengthIndex(self.params.period))

    def warmup_bar_count(self) -> int:
        return self.params.period + 1

    def evaluate(self, bar: Bar) -> None:
        if not self.rsi.initialized:
            return
        p = self.params
        self.state = band_state(
            self.state,
            self.rsi.value * 100.0,
            long_entry=lambda v: v < p.oversold,
            long_exit=lambda v: v > p.exit_level,
            short_entry=None if p.long_only else (lambda v: v > p.overbought),
            short_exit=lambda v: v < p.exit_level,
        )
        self.set_target_position(self.target_quantity(self.state, bar.close.as_double()))
