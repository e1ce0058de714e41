"""Cross-venue arbitrage: the same asset on two venues, traded only when the gap beats fees."""

from __future__ import annotations

from decimal import Decimal

from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.identifiers import InstrumentId

from seraphim.strategies.base import SeraphimStrategy
from seraphim.strategies.base import SeraphimStrategyConfig
from seraphim.strategies.registry import register_strategy


class CrossVenueArbConfig(SeraphimStrategyConfig, frozen=True, kw_only=True):
    """
    Parameters of ``cross_venue_arb``. ``instrument_id``/``bar_type`` are venue A (e.g.
    BTC/USD.KRAKEN), ``instrument_b``/``bar_type_b`` the same asset on venue B.

    fee_a, fee_b : taker fee rates (default: each instrument's ``taker_fee``).
    min_edge : what the spread must beat the round-trip fees by (0.001 = 10 bp).
    exit_spread : |spread| at or under which an open position is closed.
    """

    instrument_b: InstrumentId
    bar_type_b: BarType
    fee_a: float | None = None
    fee_b: float | None = None
    min_edge: float = 0.001
    exit_spread: float = 0.0005

    def needs_margin(self) -> bool:
        return True  # the rich venue's leg is a short sale


@register_strategy("cross_venue_arb", CrossVenueArbConfig)
class CrossVenueArb(SeraphimStrategy):
    """
    Cross-venue arbitrage: sell the asset where it is dear and buy it where it is cheap.

    spread = close_B / close_A - 1 on timestamps where both venues have a bar. A round trip
    pays the taker fee on both venues twice: cost = 2 * (fee_a + fee_b). Exits first: a
    position opened on a positive spread (long A, short B) is closed when spread <= exit_spread,
    one opened on a negative spread (short A, long B) when spread >= -exit_spread. Then, when
    flat: spread - exit_spread > cost + min_edge -> buy ``size`` on A and sell ``size`` on B;
    -spread - exit_spread > cost + min_edge -> the opposite. The capture expected from entry to
    exit thus beats both venues' fees by ``min_edge``. Both legs are sent together.
    """

    def validate_params(self, params: CrossVenueArbConfig) -> None:
        if params.instrument_b == params.instrument_id:
            raise ValueError("the two legs must be different instruments")
        if params.instrument_b.symbol != params.instrument_id.symbol:
            raise ValueError("cross_venue_arb trades the same symbol on two venues")
        if params.exit_spread < 0 or params.min_edge < 0:
            raise ValueError("exit_spread and min_edge must be >= 0")

    def setup(self) -> None:
        self._last: dict[BarType, Bar] = {}
        self._evaluated = -1
        self.spread: float | None = None

    def bar_types(self) -> list[BarType]:
        return [self.params.bar_type, self.params.bar_type_b]

    def instrument_ids(self) -> list[InstrumentId]:
        return [self.params.instrument_id, self.params.instrument_b]

    def cost(self) -> float:
        p = self.params
        fee_a = p.fee_a if p.fee_a is not None else float(self._instrument(p.instrument_id))
        fee_b = p.fee_b if p.fee_b is not None else float(self._instrument(p.instrument_b))
        return 2.0 * (fee_a + fee_b)

    def _instrument(self, instrument_id: InstrumentId):
        return self.cache.instrument(instrument_id).taker_fee

    def evaluate(self, bar: Bar) -> None:
        self._last[bar.bar_type] = bar
        p = self.params
        a, b = self._last.get(p.bar_type), self._last.get(p.bar_type_b)
        if a is None or b is None or a.ts_event != b.ts_event or a.ts_event == self._evaluated:
            return
        self._evaluated = a.ts_event
        spread = b.close.as_double() / a.close.as_double() - 1.0
        self.spread = spread
        hurdle = self.cost() + p.min_edge
        previous = self.state
        if (previous > 0 and spread <= p.exit_spread) or (
            previous < 0 and spread >= -p.exit_spread
        ):
            self.state = 0
        if self.state == 0:
            if spread - p.exit_spread > hurdle:
                self.state = 1
            elif -spread - p.exit_spread > hurdle:
                self.state = -1
        if self.state == previous:
            return
        size = self.target_quantity(1.0, a.close.as_double(), p.instrument_id)
        self.set_target_positions(
            {p.instrument_id: self.state * size, p.instrument_b: -self.state * Decimal(size)},
        )
