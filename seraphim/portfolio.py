"""
Account valuation shared by strategies, sizers, the equity recorder and the risk gate: one
rule for what an account is worth.

* Balances count at the venue's last ``<ASSET>/<currency>`` price, else the inverse of its
  ``<currency>/<ASSET>`` price; a balance with neither is left out.
* A margin account adds its positions' unrealised PnL (inverse instruments through nautilus's
  portfolio).
* On a cash account a spot pair's base asset is a balance (counted above), but a stock's shares
  are only a position (nautilus's ``Equity`` has no base currency): they count at market value.

``holdings`` reads what an account holds from nautilus once; ``value`` prices it, so a caller
that values often (the risk gate) re-reads holdings only when they change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from nautilus_trader.cache.cache import Cache
from nautilus_trader.model.enums import PriceType
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import Symbol
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Currency
from nautilus_trader.portfolio.base import PortfolioFacade

PriceOf = Callable[[InstrumentId], float | None]


@dataclass(frozen=True, slots=True)
class HeldPosition:
    instrument_id: InstrumentId
    avg_px_open: float
    signed_qty: float
    multiplier: float
    quote_currency: Currency
    is_inverse: bool
    is_shares: bool  # no base currency: on a cash account the position is the holding


@dataclass(frozen=True, slots=True)
class Holdings:
    """What one venue's account holds: its balances and open positions."""

    venue: Venue
    is_margin: bool
    balances: tuple[tuple[Currency, float], ...]
    positions: tuple[HeldPosition, ...]


def last_price(cache: Cache, instrument_id: InstrumentId) -> float | None:
    """The last traded price, else mid quote, else last bar close; ``None`` when unknown."""
    for price_type in (PriceType.LAST, PriceType.MID):
        price = cache.price(instrument_id, price_type)
        if price is not None:
            return price.as_double()
    return None


def conversion_rate(
    price: PriceOf, source: Currency, target: Currency, venue: Venue
) -> float | None:
    """One ``source`` in ``target`` at the venue's last prices; ``None`` when unknown."""
    if source == target:
        return 1.0
    direct = price(InstrumentId(Symbol(f"{source.code}/{target.code}"), venue))
    if direct:
        return direct
    inverse = price(InstrumentId(Symbol(f"{target.code}/{source.code}"), venue))
    if inverse:
        return 1.0 / inverse
    return None


def holdings(cache: Cache, venue: Venue) -> Holdings | None:
    """The venue's account as nautilus holds it now; ``None`` without an account."""
    account = cache.account_for_venue(venue)
    if account is None:
        return None
    positions = []
    for position in cache.positions_open(venue=venue):
        instrument = cache.instrument(position.instrument_id)
        positions.append(
            HeldPosition(
                position.instrument_id,
                position.avg_px_open,
                position.signed_qty,
                float(instrument.multiplier),
                instrument.quote_currency,
                instrument.is_inverse,
                getattr(instrument, "base_currency", None) is None,
            ),
        )
    return Holdings(
        venue,
        account.is_margin_account,
        tuple((c, m.as_double()) for c, m in account.balances_total().items()),
        tuple(positions),
    )


def value(
    held: Holdings,
    currency: Currency,
    price: PriceOf,
    portfolio: PortfolioFacade,
) -> tuple[float, float]:
    """(equity, gross exposure) of ``held`` in ``currency`` at the prices ``price`` gives."""
    venue = held.venue
    total = 0.0
    # The same currency is 1.0 (as conversion_rate gives) without a call: the usual case, per bar.
    for balance_currency, amount in held.balances:
        if amount:
            rate = (
                1.0
                if balance_currency == currency
                else conversion_rate(price, balance_currency, currency, venue)
            )
            total += amount * rate if rate is not None else 0.0
    exposure = 0.0
    unrealized = 0.0
    delegate = False
    for position in held.positions:
        mark = price(position.instrument_id)
        if mark is None:
            continue
        if position.is_inverse:
            delegate = True
            continue
        quote_currency = position.quote_currency
        rate = (
            1.0
            if quote_currency == currency
            else conversion_rate(price, quote_currency, currency, venue)
        )
        if rate is None:
            continue
        unit = position.multiplier * rate
        exposure += abs(position.signed_qty) * mark * unit
        if held.is_margin:
            unrealized += (mark - position.avg_px_open) * position.signed_qty * unit
        elif position.is_shares:
            total += position.signed_qty * mark * unit
    if held.is_margin:
        if delegate:
            pnl = portfolio.unrealized_pnls(venue).get(currency)
            unrealized = pnl.as_double() if pnl is not None else unrealized
        total += unrealized
    return total, exposure


def account_equity(
    cache: Cache,
    portfolio: PortfolioFacade,
    venue: Venue,
    currency: Currency,
) -> float:
    """Equity of the venue's account in ``currency`` at the last prices (0 without one)."""
    return mark_to_market(cache, portfolio, venue, currency)[0]


def unpriced(cache: Cache, venue: Venue, currency: Currency) -> list[str]:
    """The venue's non-zero balances with no price in ``currency`` yet (their value is unknown)."""
    held = holdings(cache, venue)
    if held is None:
        return []

    def price(instrument_id: InstrumentId) -> float | None:
        return last_price(cache, instrument_id)

    return [
        balance_currency.code
        for balance_currency, amount in held.balances
        if amount and conversion_rate(price, balance_currency, currency, venue) is None
    ]


def mark_to_market(
    cache: Cache,
    portfolio: PortfolioFacade,
    venue: Venue,
    currency: Currency,
    marks: dict[InstrumentId, float] | None = None,
) -> tuple[float, float]:
    """
    (equity, gross exposure) of the venue's account in ``currency`` at the last prices
    (``marks`` first, when the caller tracks them, else nautilus's cache). Gross exposure is
    the summed absolute market value of the open positions.
    """
    held = holdings(cache, venue)
    if held is None:
        return 0.0, 0.0

    def price(instrument_id: InstrumentId) -> float | None:
        mark = marks.get(instrument_id) if marks else None
        return mark if mark is not None else last_price(cache, instrument_id)

    return value(held, currency, price, portfolio)
