"""
The ``insufficient_cash`` check: on a CASH account an order must be paid for by what the account
holds, less what its other unfinished orders will take.

A buy needs the quote currency (a single-currency account's own currency): quantity x price x
multiplier, plus the taker fee and a slippage allowance (a market order is valued at the
instrument's last price, from trades, quotes or bars, since it fills a little later). A sell
needs the base asset (a stock has none: its shares are a position, not a balance; so is any
asset on a single-currency account). Orders already working on the account reserve their share
first; reduce-only orders reserve nothing (they can only shrink a position the account holds).
Without this check a backtest dies of ``AccountBalanceNegative`` at the fill, and a venue
rejects the order live.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from collections.abc import Iterable

from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Currency
from nautilus_trader.model.orders import Order

from seraphim.portfolio import conversion_rate
from seraphim.risk.rules import Denial

RULE = "insufficient_cash"


class CashCheck:
    """How much a CASH account can still pay for, per instrument and side."""

    def __init__(self, cache, mark: Callable, slippage: float) -> None:
        self.cache = cache
        self.mark = mark  # instrument id -> last price (float) or None
        self.slippage = slippage

    def headroom(
        self,
        instrument: Instrument,
        side: int,
        price: float | None,
        unfinished: Iterable[Order],
    ) -> tuple[float, Callable[[], str]]:
        """
        (largest quantity the account can pay for, what it holds) for an order on ``side``;
        ``inf`` when the venue's account is not a CASH account (or the order sells a stock).
        """
        account = self.cache.account_for_venue(instrument.id.venue)
        if account is None or account.type != AccountType.CASH:
            return math.inf, str
        single = account.base_currency  # a single-currency account holds only that currency
        if side > 0:
            currency = single or instrument.quote_currency
            unit_cost = self._unit_cost(instrument, price)
            if unit_cost is None:
                return 0.0, lambda: f"no price to value a {instrument.id} order"
            rate = conversion_rate(
                self.mark, instrument.quote_currency, currency, instrument.id.venue
            )
            if rate is None:
                return math.inf, str  # nautilus's own RiskEngine converts what it can
            unit_cost *= rate
        else:
            currency = getattr(instrument, "base_currency", None)
            if currency is None or single is not None:
                return math.inf, str  # what is sold is a position, not a balance
            unit_cost = 1.0
        balance = account.balance_total(currency)
        held = balance.as_double() if balance is not None else 0.0
        reserved = self._reserved(currency, side, unfinished)
        available = max(held - reserved, 0.0)

        def detail() -> str:
            code = currency.code
            text = f"{_fmt(held)} {code} held, {_fmt(reserved)} {code} reserved by open orders"
            if side > 0:
                text += f", {_fmt(unit_cost)} {code} per unit with fees and slippage"
            return text

        return available / unit_cost, detail

    def check(
        self,
        instrument: Instrument,
        side: int,
        quantity: float,
        price: float | None,
        unfinished: Iterable[Order],
    ) -> Denial | None:
        allowed, detail = self.headroom(instrument, side, price, unfinished)
        if quantity <= allowed * (1 + 1e-9):
            return None
        side_name = "BUY" if side > 0 else "SELL"
        return Denial(
            RULE,
            f"{RULE}: {instrument.id} {side_name} {_fmt(quantity)} > affordable "
            f"{_fmt(allowed)} ({detail()})",
        )

    def _unit_cost(self, instrument: Instrument, price: float | None) -> float | None:
        """Quote currency one unit costs, fees and (for an unpriced order) slippage included."""
        if price is None:
            price = self.mark(instrument.id)
            if price is None:
                return None
            price *= 1.0 + self.slippage
        return price * float(instrument.multiplier) * (1.0 + float(instrument.taker_fee))

    def _reserved(self, currency: Currency, side: int, unfinished: Iterable[Order]) -> float:
        reserved = 0.0
        wanted = OrderSide.BUY if side > 0 else OrderSide.SELL
        for order in unfinished:
            if order.side != wanted or order.is_reduce_only:
                continue
            instrument = self.cache.instrument(order.instrument_id)
            if instrument is None:
                continue
            leaves = order.leaves_qty.as_double()
            if side > 0 and instrument.quote_currency == currency:
                price = order.price.as_double() if order.has_price else None
                reserved += leaves * (self._unit_cost(instrument, price) or 0.0)
            elif side < 0 and getattr(instrument, "base_currency", None) == currency:
                reserved += leaves
        return reserved


def _fmt(value: float) -> str:
    return f"{value:,.6g}"
