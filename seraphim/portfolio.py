"""Account valuation shared by strategies, sizers and the equity recorder."""

from __future__ import annotations

from nautilus_trader.cache.cache import Cache
from nautilus_trader.model.enums import PriceType
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import Symbol
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Currency
from nautilus_trader.portfolio.base import PortfolioFacade


def last_price(cache: Cache, instrument_id: InstrumentId) -> float | None:
    """The last traded price, else mid quote, else last bar close; ``None`` when unknown."""
    for price_type in (PriceType.LAST, PriceType.MID):
        price = cache.price(instrument_id, price_type)
        if price is not None:
            return price.as_double()
    return None


def account_equity(
    cache: Cache,
    portfolio: PortfolioFacade,
    venue: Venue,
    currency: Currency,
) -> float:
    """
    Equity of the venue's account in ``currency``: every balance converted at the venue's last
    ``<ASSET>/<currency>`` price, plus unrealised PnL on a margin account, plus the market value
    of positions in instruments without a base currency (shares) on a cash account. Balances
    with no price to convert them are left out.
    """
    return mark_to_market(cache, portfolio, venue, currency)[0]


def mark_to_market(
    cache: Cache,
    portfolio: PortfolioFacade,
    venue: Venue,
    currency: Currency,
    marks: dict[InstrumentId, float] | None = None,
) -> tuple[float, float]:
    """
    (equity, gross exposure) of the venue's account in ``currency`` at the last prices
    (``marks`` first, when the caller tracks them, else nautilus's cache).

    Gross exposure is the summed absolute market value of the open positions. Linear
    positions are valued directly from their average price and quantity; inverse ones go
    through nautilus's portfolio. On a cash account a spot pair's base asset is a balance
    (counted above), but a stock's shares are only a position (nautilus's ``Equity`` has no
    base currency), so they are counted at their market value.
    """
    account = cache.account_for_venue(venue)
    if account is None:
        return 0.0, 0.0
    total = 0.0
    for balance_currency, money in account.balances_total().items():
        amount = money.as_double()
        if balance_currency == currency:
            total += amount
        elif amount:
            rate = _rate(cache, balance_currency, currency, venue)
            total += amount * rate if rate is not None else 0.0
    margin = account.is_margin_account
    exposure = 0.0
    unrealized = 0.0
    delegate = False
    for position in cache.positions_open(venue=venue):
        instrument = cache.instrument(position.instrument_id)
        mark = marks.get(position.instrument_id) if marks else None
        if mark is None:
            mark = last_price(cache, position.instrument_id)
        if mark is None:
            continue
        if instrument.is_inverse:
            delegate = True
            continue
        rate = _rate(cache, instrument.quote_currency, currency, venue)
        if rate is None:
            continue
        value = float(instrument.multiplier) * rate
        exposure += abs(position.signed_qty) * mark * value
        if margin:
            unrealized += (mark - position.avg_px_open) * position.signed_qty * value
        elif getattr(instrument, "base_currency", None) is None:
            total += position.signed_qty * mark * value  # shares held, not a balance
    if margin:
        if delegate:
            pnl = portfolio.unrealized_pnls(venue).get(currency)
            unrealized = pnl.as_double() if pnl is not None else unrealized
        total += unrealized
    return total, exposure


def _rate(cache: Cache, source: Currency, target: Currency, venue: Venue) -> float | None:
    if source == target:
        return 1.0
    return last_price(cache, InstrumentId(Symbol(f"{source}/{target}"), venue))
