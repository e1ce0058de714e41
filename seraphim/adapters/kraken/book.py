"""
A Kraken WebSocket v2 L2 book kept exactly as Kraken keeps it, for checksum validation.

Prices and quantities are held as integers scaled by the pair's precisions (``29430.2`` at one
decimal is ``294302``). Kraken's checksum formats each value at the pair's precision, removes
the point and strips leading zeros, which for a positive scaled integer is simply ``str(n)``:
the checksum string is built without any float or Decimal formatting.

Rules (Kraken's book guide): a level with quantity 0 is deleted, any other is inserted or
replaced, in message order; after each message the book is truncated to the subscribed depth;
every message's ``checksum`` is the CRC32 of the top 10 asks (lowest first) then the top 10 bids
(highest first). A mismatch means the local book is wrong and must be resynchronised.
"""

from __future__ import annotations

import zlib
from bisect import bisect_left
from bisect import insort
from collections.abc import Iterable

CHECKSUM_LEVELS = 10

# (is_bid, price, qty, existed_before): qty 0 means the level is gone.
Change = tuple[bool, int, int, bool]


class KrakenBook:
    """One symbol's book at a subscribed depth, in scaled integers."""

    __slots__ = (
        "_ask_prices",
        "_bid_keys",
        "asks",
        "bids",
        "depth",
        "price_precision",
        "price_scale",
        "qty_scale",
        "size_precision",
    )

    def __init__(self, depth: int, price_precision: int, size_precision: int) -> None:
        self.depth = depth
        self.price_precision = price_precision
        self.size_precision = size_precision
        self.price_scale = 10**price_precision
        self.qty_scale = 10**size_precision
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self._bid_keys: list[int] = []  # negated prices, ascending = best bid first
        self._ask_prices: list[int] = []  # ascending = best ask first

    # ------------------------------------------------------------------ conversion

    def scale_price(self, price: float) -> int:
        """A wire price (JSON number) as a scaled integer."""
        return round(price * self.price_scale)

    def scale_qty(self, qty: float) -> int:
        """A wire quantity as a scaled integer."""
        return round(qty * self.qty_scale)

    # ------------------------------------------------------------------ updates

    def clear(self) -> None:
        """Forget every level."""
        self.bids.clear()
        self.asks.clear()
        self._bid_keys.clear()
        self._ask_prices.clear()

    def apply(
        self,
        bids: Iterable[tuple[int, int]],
        asks: Iterable[tuple[int, int]],
        changes: list[Change] | None = None,
    ) -> list[Change]:
        """
        Apply scaled ``(price, qty)`` levels in order, then truncate to the depth.

        Returns the changes made (including levels truncated away), for emitting deltas.
        """
        out: list[Change] = [] if changes is None else changes
        book = self.bids
        keys = self._bid_keys
        for price, qty in bids:
            existed = price in book
            if qty == 0:
                if existed:
                    del book[price]
                    del keys[bisect_left(keys, -price)]
                    out.append((True, price, 0, True))
                continue
            if not existed:
                insort(keys, -price)
            book[price] = qty
            out.append((True, price, qty, existed))
        while len(keys) > self.depth:
            price = -keys.pop()
            del book[price]
            out.append((True, price, 0, True))
        book = self.asks
        keys = self._ask_prices
        for price, qty in asks:
            existed = price in book
            if qty == 0:
                if existed:
                    del book[price]
                    del keys[bisect_left(keys, price)]
                    out.append((False, price, 0, True))
                continue
            if not existed:
                insort(keys, price)
            book[price] = qty
            out.append((False, price, qty, existed))
        while len(keys) > self.depth:
            price = keys.pop()
            del book[price]
            out.append((False, price, 0, True))
        return out

    def apply_wire(self, bids: Iterable, asks: Iterable) -> list[Change]:
        """Apply levels as decoded from the wire (objects with float ``price`` and ``qty``)."""
        ps, qs = self.price_scale, self.qty_scale
        return self.apply(
            [(round(lv.price * ps), round(lv.qty * qs)) for lv in bids],
            [(round(lv.price * ps), round(lv.qty * qs)) for lv in asks],
        )

    # ------------------------------------------------------------------ queries

    def checksum_string(self) -> str:
        """The text whose CRC32 is Kraken's checksum."""
        asks, bids = self.asks, self.bids
        parts = [f"{p}{asks[p]}" for p in self._ask_prices[:CHECKSUM_LEVELS]]
        parts.extend(f"{-k}{bids[-k]}" for k in self._bid_keys[:CHECKSUM_LEVELS])
        return "".join(parts)

    def checksum(self) -> int:
        """Kraken's CRC32 checksum of the current book (unsigned)."""
        return zlib.crc32(self.checksum_string().encode())

    def best_bid(self) -> tuple[int, int] | None:
        """(price, qty) of the best bid."""
        if not self._bid_keys:
            return None
        price = -self._bid_keys[0]
        return price, self.bids[price]

    def best_ask(self) -> tuple[int, int] | None:
        """(price, qty) of the best ask."""
        if not self._ask_prices:
            return None
        price = self._ask_prices[0]
        return price, self.asks[price]

    def top(self, n: int = CHECKSUM_LEVELS) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """(bids best first, asks best first), scaled."""
        bids = [(-k, self.bids[-k]) for k in self._bid_keys[:n]]
        asks = [(p, self.asks[p]) for p in self._ask_prices[:n]]
        return bids, asks

    def __len__(self) -> int:
        return len(self.bids) + len(self.asks)
