"""Pairs trading: a rolling hedge ratio and a z-score of the spread between two instruments."""

from __future__ import annotations

import math
from collections import deque
from decimal import Decimal

from nautilus_trader.config import PositiveFloat
from nautilus_trader.config import PositiveInt
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.identifiers import InstrumentId

from seraphim.strategies.base import SeraphimStrategy
from seraphim.strategies.base import SeraphimStrategyConfig
from seraphim.strategies.registry import register_strategy
from seraphim.strategies.signals import band_state


class PairsConfig(SeraphimStrategyConfig, frozen=True, kw_only=True):
    """
    Parameters of ``pairs``. ``instrument_id``/``bar_type`` are leg A (e.g. BTC/USD),
    ``instrument_b``/``bar_type_b`` leg B (e.g. ETH/USD). The sizing parameters size leg A;
    leg B is sized from it with the hedge ratio.

    window : aligned bars in the rolling regression and z-score.
    entry_z : |z| that opens a spread position.  exit_z : |z| under which it closes.
    """

    instrument_b: InstrumentId
    bar_type_b: BarType
    window: PositiveInt = 168
    entry_z: PositiveFloat = 2.0
    exit_z: float = 0.5

    def needs_margin(self) -> bool:
        return True  # one leg is always short


class PairSpread:
    """
    On timestamps where both legs have a bar: the OLS regression of ln(A) on ln(B) (with an
    intercept) over the last ``window`` aligned closes gives the hedge ratio
    beta = cov(lnA, lnB) / var(lnB); the spread is lnA - beta * lnB and its z-score is the
    latest residual over the residual standard deviation, sqrt(var(lnA) - beta * cov) (ddof=1).
    """

    def __init__(self, window: int, bar_type_a: BarType, bar_type_b: BarType) -> None:
        if window < 3:
            raise ValueError("window must be >= 3")
        self.window = window
        self.bar_type_a, self.bar_type_b = bar_type_a, bar_type_b
        self.points: deque[tuple[float, float]] = deque(maxlen=window)
        self.last: dict[BarType, Bar] = {}
        self.ts = -1
        self.beta = self.z = 0.0
        self.price_a = self.price_b = 0.0
        self.initialized = False

    def handle_bar(self, bar: Bar) -> None:
        self.last[bar.bar_type] = bar
        a, b = self.last.get(self.bar_type_a), self.last.get(self.bar_type_b)
        if a is None or b is None or a.ts_event != b.ts_event or a.ts_event == self.ts:
            return
        self.ts = a.ts_event
        self.price_a, self.price_b = a.close.as_double(), b.close.as_double()
        self.points.append((math.log(self.price_a), math.log(self.price_b)))
        if len(self.points) < self.window:
            return
        n = len(self.points)
        mean_a = sum(p[0] for p in self.points) / n
        mean_b = sum(p[1] for p in self.points) / n
        cov = sum((p[0] - mean_a) * (p[1] - mean_b) for p in self.points) / (n - 1)
        var_a = sum((p[0] - mean_a) ** 2 for p in self.points) / (n - 1)
        var_b = sum((p[1] - mean_b) ** 2 for p in self.points) / (n - 1)
        if var_b <= 0:
            return
        self.beta = cov / var_b
        residual_var = var_a - self.beta * cov
        last_a, last_b = self.points[-1]
        residual = (last_a - mean_a) - self.beta * (last_b - mean_b)
        self.z = residual / math.sqrt(residual_var) if residual_var > 0 else 0.0
        self.initialized = True


@register_strategy("pairs", PairsConfig)
class Pairs(SeraphimStrategy):
    """
    Pairs trading: trade the z-score of ln(A) - beta * ln(B), with both legs sized together.

    beta is the rolling OLS hedge ratio over ``window`` aligned bars (see ``PairSpread``). On
    each timestamp where both legs have a bar, once the window is full: exits first: a long
    spread is closed when z > -exit_z, a short spread when z < exit_z; then, when flat:
    z < -entry_z -> long spread (buy A, sell B); z > entry_z -> short spread (sell A, buy B).
    On entry leg A is ``size`` units and leg B ``beta * size * price_A / price_B`` units the
    other way (equal log exposure); both legs are sent together and, under risk limits, scaled
    by the same factor. Positions change only when the state changes.
    """

    def validate_params(self, params: PairsConfig) -> None:
        if not 0 <= params.exit_z < params.entry_z:
            raise ValueError("need 0 <= exit_z < entry_z")
        if params.instrument_b == params.instrument_id:
            raise ValueError("the two legs must be different instruments")

    def setup(self) -> None:
        p = self.params
        self.spread = PairSpread(p.window, p.bar_type, p.bar_type_b)
        self.add_indicator(self.spread, p.bar_type)
        self.add_indicator(self.spread, p.bar_type_b)
        self._evaluated = -1

    def bar_types(self) -> list[BarType]:
        return [self.params.bar_type, self.params.bar_type_b]

    def instrument_ids(self) -> list[InstrumentId]:
        return [self.params.instrument_id, self.params.instrument_b]

    def warmup_bar_count(self) -> int:
        return self.params.window

    def evaluate(self, bar: Bar) -> None:
        spread = self.spread
        if not spread.initialized or spread.ts != bar.ts_event or self._evaluated == spread.ts:
            return
        self._evaluated = spread.ts
        p = self.params
        previous = self.state
        self.state = band_state(
            previous,
            spread.z,
            long_entry=lambda z: z < -p.entry_z,
            long_exit=lambda z: z > -p.exit_z,
            short_entry=lambda z: z > p.entry_z,
            short_exit=lambda z: z < p.exit_z,
        )
        if self.state == previous:
            return
        if self.state == 0:
            targets = {p.instrument_id: Decimal(0), p.instrument_b: Decimal(0)}
        else:
            size_a = self.target_quantity(1.0, spread.price_a, p.instrument_id)
            size_b = size_a * Decimal(str(spread.beta * spread.price_a / spread.price_b))
            targets = {p.instrument_id: self.state * size_a, p.instrument_b: -self.state * size_b}
        self.set_target_positions(targets)
