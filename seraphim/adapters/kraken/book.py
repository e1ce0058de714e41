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

Speed: each level keeps its checksum fragment (``b"294302" b"18967538"``), formatted once when
the level changes, in a list parallel to the sorted prices. A checksum is then one join of ten
fragments per side and two CRC32 calls, and a side whose top 10 did not change reuses its bytes.
"""

from __future__ import annotations

import zlib
from bisect import bisect_left
from collections.abc import Iterable

CHECKSUM_LEVELS = 10

# (is_bid, price, qty, existed_before): qty 0 means the level is gone.
Change = tuple[bool, int, int, bool]


class _Side:
    """One side of the book: levels by price, and the same levels sorted best first."""

    __slots__ = ("frags", "is_bid", "keys", "levels", "sign", "top_bytes")

    def __init__(self, is_bid: bool) -> None:
        self.is_bid = is_bid
        self.sign = -1 if is_bid else 1  # sort key = sign * price: ascending is best first
        self.levels: dict[int, int] = {}  # price -> qty
        self.keys: list[int] = []
        self.frags: list[bytes] = []  # checksum fragment of keys[i]
        self.top_bytes: bytes | None = None  # joined top fragments; None when stale

    def clear(self) -> None:
        self.levels.clear()
        self.keys.clear()
        self.frags.clear()
        self.top_bytes = None

    def apply(self, levels: Iterable[tuple[int, int]], depth: int, out: list[Change]) -> None:
        book, keys, frags, sign, is_bid = self.levels, self.keys, self.frags, self.sign, self.is_bid
        top_changed = False
        for price, qty in levels:
            existed = price in book
            if qty == 0:
                if existed:
                    del book[price]
                    i = bisect_left(keys, sign * price)
                    del keys[i]
                    del frags[i]
                    top_changed = top_changed or i < CHECKSUM_LEVELS
                    out.append((is_bid, price, 0, True))
                continue
            frag = f"{price}{qty}".encode()
            key = sign * price
            i = bisect_left(keys, key)
            if existed:
                frags[i] = frag
            else:
                keys.insert(i, key)
                frags.insert(i, frag)
            top_changed = top_changed or i < CHECKSUM_LEVELS
            book[price] = qty
            out.append((is_bid, price, qty, existed))
        while len(keys) > depth:
            price = sign * keys.pop()
            frags.pop()
            del book[price]
            out.append((is_bid, price, 0, True))
        # Truncation drops levels below the depth; at a depth under 10 it follows an insert
        # that already marked the top as changed.
        if top_changed:
            self.top_bytes = None

    def top(self) -> bytes:
        top = self.top_bytes
        if top is None:
            top = self.top_bytes = b"".join(self.frags[:CHECKSUM_LEVELS])
        return top


class KrakenBook:
    """One symbol's book at a subscribed depth, in scaled integers."""

    __slots__ = (
        "_asks",
        "_bids",
        "_checksum",
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
        self._bids = _Side(is_bid=True)
        self._asks = _Side(is_bid=False)
        self.bids: dict[int, int] = self._bids.levels
        self.asks: dict[int, int] = self._asks.levels
        self._checksum: int | None = None

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
        self._bids.clear()
        self._asks.clear()
        self._checksum = None

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
        self._bids.apply(bids, self.depth, out)
        self._asks.apply(asks, self.depth, out)
        if out:
            self._checksum = None
        return out

    def apply_wire(self, bids: list, asks: list) -> list[Change]:
        """Apply levels as decoded from the wire (objects with float ``price`` and ``qty``)."""
        ps, qs = self.price_scale, self.qty_scale
        out: list[Change] = []
        # Most updates touch one side only: the other is skipped without a call.
        if bids:
            self._bids.apply(
                [(round(lv.price * ps), round(lv.qty * qs)) for lv in bids], self.depth, out
            )
        if asks:
            self._asks.apply(
                [(round(lv.price * ps), round(lv.qty * qs)) for lv in asks], self.depth, out
            )
        if out:
            self._checksum = None
        return out

    # ------------------------------------------------------------------ queries

    def checksum_string(self) -> str:
        """The text whose CRC32 is Kraken's checksum."""
        return (self._asks.top() + self._bids.top()).decode()

    def checksum(self) -> int:
        """Kraken's CRC32 checksum of the current book (unsigned)."""
        checksum = self._checksum
        if checksum is None:
            checksum = zlib.crc32(self._bids.top(), zlib.crc32(self._asks.top()))
            self._checksum = checksum
        return checksum

    def best_bid(self) -> tuple[int, int] | None:
        """(price, qty) of the best bid."""
        keys = self._bids.keys
        if not keys:
            return None
        price = -keys[0]
        return price, self.bids[price]

    def best_ask(self) -> tuple[int, int] | None:
        """(price, qty) of the best ask."""
        keys = self._asks.keys
        if not keys:
            return None
        price = keys[0]
        return price, self.asks[price]

    def top(self, n: int = CHECKSUM_LEVELS) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """(bids best first, asks best first), scaled."""
        bids = [(-k, self.bids[-k]) for k in self._bids.keys[:n]]
        asks = [(p, self.asks[p]) for p in self._asks.keys[:n]]
        return bids, asks

    def __len__(self) -> int:
        return len(self.bids) + len(self.asks)
