"""
Risk settings: pre-trade limits (globally and per strategy) and the portfolio guard.

Every limit is off (``None``) unless set. Fractions are plain numbers: ``0.25`` is 25 %.
Money amounts are in the report currency (``RiskConfig.currency``, USD by default).
"""

from __future__ import annotations

from typing import Literal

import msgspec
from nautilus_trader.common.config import ActorConfig
from nautilus_trader.common.config import NautilusConfig

RULE_NAMES = (
    "guard",
    "insufficient_cash",
    "max_position",
    "max_order_notional",
    "concentration",
    "volatility",
    "liquidity",
    "gross_leverage",
    "daily_loss",
)


class RiskLimits(NautilusConfig, frozen=True, forbid_unknown_fields=True):
    """
    Pre-trade limits. Applied globally they bound the sum over all strategies; applied to one
    strategy they bound that strategy's own positions and orders.

    Parameters
    ----------
    max_position_qty : float or dict[str, float], optional
        Largest absolute position per instrument in its base unit (e.g. 2.0 BTC); a mapping
        gives one limit per instrument id (``"BTC/USD.KRAKEN": 2.0``), others unlimited.
    max_position_pct : float, optional
        Largest position per instrument as a fraction of equity (notional / equity).
    max_order_notional : float, optional
        Largest notional of a single order.
    max_asset_pct : float, optional
        Concentration: largest exposure to one base asset (over all venues) / equity.
    max_venue_pct : float, optional
        Concentration: largest gross exposure at one venue / equity.
    max_volatility : float, optional
        Annualised realised volatility (e.g. 1.2 = 120 %) above which the rule acts.
    volatility_window : int, default 48
        Bars of log returns for the realised volatility.
    volatility_action : "block" or "scale", default "block"
        ``block``: above the threshold no order may increase exposure. ``scale``: the
        instrument's exposure is capped at ``volatility_scale_pct * equity * threshold / vol``.
    volatility_scale_pct : float, default 1.0
        The exposure (fraction of equity) the ``scale`` action scales down from.
    max_volume_fraction : float, optional
        Liquidity: an order may be at most this fraction of the mean bar volume over
        ``liquidity_window`` bars.
    liquidity_window : int, default 24
        Bars averaged for the volume.
    max_book_fraction : float, optional
        Liquidity: an order may be at most this fraction of the top-of-book size it takes
        (ask size for a buy); applies only where quotes are known.
    max_gross_leverage : float, optional
        Sum of absolute exposures over all instruments / equity.
    max_daily_loss : float, optional
        Once the day's loss (since 00:00 UTC) reaches this fraction of the day's starting
        equity, orders that increase exposure are denied until the next UTC day.

    """

    max_position_qty: float | dict[str, float] | None = None
    max_position_pct: float | None = None
    max_order_notional: float | None = None
    max_asset_pct: float | None = None
    max_venue_pct: float | None = None
    max_volatility: float | None = None
    volatility_window: int = 48
    volatility_action: Literal["block", "scale"] = "block"
    volatility_scale_pct: float = 1.0
    max_volume_fraction: float | None = None
    liquidity_window: int = 24
    max_book_fraction: float | None = None
    max_gross_leverage: float | None = None
    max_daily_loss: float | None = None

    def is_empty(self) -> bool:
        return all(
            getattr(self, name) is None
            for name in (
                "max_position_qty",
                "max_position_pct",
                "max_order_notional",
                "max_asset_pct",
                "max_venue_pct",
                "max_volatility",
                "max_volume_fraction",
                "max_book_fraction",
                "max_gross_leverage",
                "max_daily_loss",
            )
        )

    def validate(self, where: str = "limits") -> None:
        for name in self.__struct_fields__:  # names only: structs.fields evaluates the types
            value = getattr(self, name)
            if isinstance(value, dict):
                bad = {k: v for k, v in value.items() if not v >= 0}
                if bad:
                    raise ValueError(f"{where}.{name}: limits must be >= 0, got {bad}")
            elif isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
                raise ValueError(f"{where}.{name} must be >= 0, was {value}")
        if self.volatility_window < 2 or self.liquidity_window < 1:
            raise ValueError(f"{where}: volatility_window >= 2 and liquidity_window >= 1")


class GuardConfig(NautilusConfig, frozen=True, forbid_unknown_fields=True):
    """
    The portfolio guard (kill switch) on total equity over all venues.

    Parameters
    ----------
    max_drawdown : float, optional
        Trip when equity falls this fraction below its running peak (0.1 = 10 %).
    max_daily_loss : float, optional
        Trip when equity falls this fraction below the day's starting equity (UTC days).
    action : "REDUCING" or "HALTED", default "HALTED"
        The nautilus ``TradingState`` set on a trip.
    flatten : bool, default False
        Also cancel every open order and close every position on a trip.
    daily_reset : bool, default True
        A daily-loss trip clears itself at the next UTC day; a drawdown trip always needs an
        operator reset.

    """

    max_drawdown: float | None = None
    max_daily_loss: float | None = None
    action: Literal["REDUCING", "HALTED"] = "HALTED"
    flatten: bool = False
    daily_reset: bool = True

    def is_empty(self) -> bool:
        return self.max_drawdown is None and self.max_daily_loss is None


class RiskConfig(NautilusConfig, frozen=True, forbid_unknown_fields=True):
    """
    Everything the risk layer enforces.

    Parameters
    ----------
    enabled : bool, default True
        False turns every rule and the guard off (orders pass straight to nautilus's RiskEngine).
    limits : RiskLimits
        Global limits, over the sum of all strategies.
    strategies : dict[str, RiskLimits]
        Limits per strategy id (e.g. ``"MACross-000"``), over that strategy's own book.
    guard : GuardConfig
        The portfolio guard.
    currency : str, default "USD"
        The currency equity and notionals are measured in.
    slippage_allowance : float, default 0.005
        On CASH accounts every order must be paid for (rule ``insufficient_cash``); a market
        order is valued this fraction above its last price, for the move before it fills.

    """

    enabled: bool = True
    limits: RiskLimits = RiskLimits()
    strategies: dict[str, RiskLimits] = msgspec.field(default_factory=dict)
    guard: GuardConfig = GuardConfig()
    currency: str = "USD"
    slippage_allowance: float = 0.005

    def validate(self) -> None:
        if not 0 <= self.slippage_allowance < 1:
            raise ValueError(f"slippage_allowance must be in [0, 1), was {self.slippage_allowance}")
        self.limits.validate("limits")
        for strategy_id, limits in self.strategies.items():
            limits.validate(f"strategies.{strategy_id}")
        for name in ("max_drawdown", "max_daily_loss"):
            value = getattr(self.guard, name)
            if value is not None and not 0 < value < 1:
                raise ValueError(f"guard.{name} must be in (0, 1), was {value}")


class RiskControllerConfig(ActorConfig, frozen=True):
    """The nautilus controller config that installs the risk layer in a kernel."""

    risk: RiskConfig = RiskConfig()
