"""
A price-level order book per pair: the exchange's own resting liquidity (driven by a market
source) plus clients' resting orders, in price-time priority.

At each price the market's liquidity stands ahead of clients' orders, which queue in arrival
order. The public book (REST Depth, WS ``book``) shows the sum of both.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from decimal import Decimal
from itertools import islice
from typing import Protocol

from seraphim.adapters.kraken.book_checksum import book_checksum

ZERO = Decimal(0)
Level = tuple[Decimal, Decimal]


class Resting(Protocol):
    """What the book needs from a client order."""

    @property
    def book_price(self) -> Decimal: ...

    @property
    def remaining(self) -> Decimal: ...

    @property
    def displayed(self) -> Decimal: ...


class BookSide:
    """One side of a book; iterates best price first."""

    def __init__(self, is_bid: bool) -> None:
        self.is_bid = is_bid
        self.market: dict[Decimal, Decimal] = {}
        self.orders: dict[Decimal, list[Resting]] = {}
        self._prices: list[Decimal] = []  # ascending, every price with any liquidity

    def _touch(self, price: Decimal) -> None:
        has = self.market.get(price, ZERO) > 0 or bool(self.orders.get(price))
        i = bisect.bisect_left(self._prices, price)
        present = i < len(self._prices) and self._prices[i] == price
        if has and not present:
            self._prices.insert(i, price)
        elif not has and present:
            del self._prices[i]

    def set_market(self, price: Decimal, qty: Decimal) -> None:
        """Set the exchange's own quantity at a price (0 removes it)."""
        if qty > 0:
            self.market[price] = qty
        else:
            self.market.pop(price, None)
        self._touch(price)

    def clear_market(self) -> None:
        """Remove all of the exchange's own liquidity (clients' orders stay)."""
        prices = list(self.market)
        self.market.clear()
        for price in prices:
            self._touch(price)

    def add_order(self, order: Resting) -> None:
        """Queue a client order at the back of its price level."""
        self.orders.setdefault(order.book_price, []).append(order)
        self._touch(order.book_price)

    def remove_order(self, order: Resting, price: Decimal | None = None) -> None:
        """Take a client order off the book (no-op when absent)."""
        price = order.book_price if price is None else price
        queue = self.orders.get(price)
        if queue and order in queue:
            queue.remove(order)
            if not queue:
                del self.orders[price]
            self._touch(price)

    def qty_at(self, price: Decimal) -> Decimal:
        """Total visible quantity at a price (an iceberg shows only its display part)."""
        total = self.market.get(price, ZERO)
        for order in self.orders.get(price, ()):
            total += order.displayed
        return total

    def prices(self) -> Iterator[Decimal]:
        """Prices best first (a snapshot, safe to mutate the side while iterating)."""
        return iter(list(reversed(self._prices)) if self.is_bid else list(self._prices))

    def best(self) -> Decimal | None:
        """Best price or None."""
        if not self._prices:
            return None
        return self._prices[-1] if self.is_bid else self._prices[0]

    def best_market(self) -> Decimal | None:
        """Best price of the exchange's own liquidity."""
        if not self.market:
            return None
        return max(self.market) if self.is_bid else min(self.market)

    def levels(self, depth: int | None = None) -> list[Level]:
        """``(price, qty)`` best first, at most ``depth`` levels."""
        # Not prices(): its copy of every price is for callers that change the side meanwhile.
        best_first = reversed(self._prices) if self.is_bid else iter(self._prices)
        return [(price, self.qty_at(price)) for price in islice(best_first, depth)]

    def __len__(self) -> int:
        return len(self._prices)


class OrderBook:
    """Both sides of one pair's book."""

    def __init__(self, price_decimals: int, qty_decimals: int) -> None:
        self.price_decimals = price_decimals
        self.qty_decimals = qty_decimals
        self.bids = BookSide(is_bid=True)
        self.asks = BookSide(is_bid=False)
        self.last_change = 0.0

    def side(self, is_bid: bool) -> BookSide:
        """Bids or asks."""
        return self.bids if is_bid else self.asks

    def top(self, depth: int) -> tuple[list[Level], list[Level]]:
        """(asks, bids), best first, ``depth`` levels each."""
        return self.asks.levels(depth), self.bids.levels(depth)

    def checksum(self) -> int:
        """Kraken's v2 CRC32 of the top 10 levels."""
        asks, bids = self.top(10)
        return book_checksum(asks, bids, self.price_decimals, self.qty_decimals)

    def mid(self) -> Decimal | None:
        """Mid price when both sides have liquidity."""
        bid, ask = self.bids.best(), self.asks.best()
        if bid is None or ask is None:
            return bid if ask is None else ask
        return (bid + ask) / 2


def diff_levels(old: list[Level], new: list[Level], side: BookSide) -> list[Level]:
    """
    The level changes that turn a subscriber's ``old`` top-N into ``new`` once it truncates to
    its depth: levels gone from the book as qty 0 first, then new or changed levels. A level that
    only fell below the subscribed depth is not deleted; Kraken leaves that to the client ("you
    won't receive qty 0 for price levels that fall out of scope").
    """
    new_map = dict(new)
    old_map = dict(old)
    out: list[Level] = [(p, ZERO) for p, _ in old if p not in new_map and side.qty_at(p) <= 0]
    out.extend((p, q) for p, q in new if old_map.get(p) != q)
    return out
