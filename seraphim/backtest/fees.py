"""
Kraken's maker/taker fee schedule as a nautilus fee model.

Kraken charges by 30-day traded volume: the more an account trades, the lower its tier. The
model starts at ``volume_30d`` and, when ``rolling`` is on, adds every fill's notional to a
30-day window so the tier falls as the backtest trades. Fixed ``maker``/``taker`` rates
override the schedule.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal

from nautilus_trader.backtest.config import FeeModelConfig
from nautilus_trader.backtest.models import FeeModel
from nautilus_trader.model.enums import LiquiditySide
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.model.orders import Order

from seraphim.adapters.kraken.common.pairs import KrakenAssetPair
from seraphim.adapters.kraken.common.pairs import load_asset_pairs

_WINDOW_NS = 30 * 24 * 3600 * 1_000_000_000


class KrakenFeeModelConfig(FeeModelConfig, frozen=True):
    volume_30d: float = 0.0
    rolling: bool = True
    maker: float | None = None
    taker: float | None = None


class KrakenFeeModel(FeeModel):
    """Maker/taker fees by Kraken's volume tiers (or fixed rates), charged in the quote currency."""

    def __init__(self, config: KrakenFeeModelConfig | None = None) -> None:
        self.config = config or KrakenFeeModelConfig()
        self._pairs: dict[str, KrakenAssetPair] = load_asset_pairs()
        self._fills: deque[tuple[int, float]] = deque()
        self._window_volume = 0.0

    def reset(self) -> None:
        """Forget the rolling window's fills (a reused backtest engine starts another run)."""
        self._fills.clear()
        self._window_volume = 0.0

    def rates(self, instrument: Instrument, ts: int) -> tuple[Decimal, Decimal]:
        """The (maker, taker) rates in force for ``instrument`` at time ``ts``."""
        maker, taker = instrument.maker_fee, instrument.taker_fee
        pair = self._pairs.get((instrument.info or {}).get("kraken_pair", ""))
        if pair is not None:
            maker, taker = pair.fee_rates(self.config.volume_30d + self._volume_since(ts))
        if self.config.maker is not None:
            maker = Decimal(str(self.config.maker))
        if self.config.taker is not None:
            taker = Decimal(str(self.config.taker))
        return maker, taker

    def _volume_since(self, ts: int) -> float:
        """The window's volume before ``ts``: fills of that very moment count from the next
        one, as at the local Kraken exchange (an order's own fills never lower its fee)."""
        while self._fills and self._fills[0][0] <= ts - _WINDOW_NS:
            self._window_volume -= self._fills.popleft()[1]
        same_moment = 0.0
        for fill_ts, notional in reversed(self._fills):
            if fill_ts != ts:
                break
            same_moment += notional
        return self._window_volume - same_moment

    def get_commission(
        self,
        order: Order,
        fill_qty: Quantity,
        fill_px: Price,
        instrument: Instrument,
    ) -> Money:
        ts = order.ts_last
        # Unrounded, as the venue counts it (nautilus's notional_value rounds to the cent, which
        # can lift a fill of 49,999.998 USD into the 50k tier).
        notional = float(fill_qty) * float(fill_px) * float(instrument.multiplier)
        maker, taker = self.rates(instrument, ts)
        rate = maker if order.liquidity_side == LiquiditySide.MAKER else taker
        if self.config.rolling:
            self._fills.append((ts, notional))
            self._window_volume += notional
        return Money(notional * float(rate), instrument.quote_currency)
