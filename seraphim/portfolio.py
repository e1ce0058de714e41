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
    ``<ASSET>/<currency>`` price, plus unrealised PnL on a margin account. Balances with no
    price to convert them are left out.
    """
    account = cache.account_for_venue(venue)
    if account is None:
        return 0.0
    total = 0.0
    for balance_currency, money in account.balances_total().items():
        amount = money.as_double()
        if balance_currency == currency:
            total += amount
            continue
        price = last_price(cache, InstrumentId(Symbol(f"{balance_currency}/{currency}"), venue))
        if price is not None:
            total += amount * price
    if account.is_margin_account:
        unrealized = portfolio.unrealized_pnls(venue).get(currency)
        if unrealized is not None:
            total += unrealized.as_double()
    return total
