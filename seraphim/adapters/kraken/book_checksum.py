"""
Kraken WebSocket v2 order book checksum (shared by the adapter and the local exchange).

The checksum is the unsigned CRC32 of the top 10 asks (lowest first) then the top 10 bids
(highest first), each level's price then quantity formatted at the pair's precision with the
decimal point removed and leading zeros stripped.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from decimal import Decimal

CHECKSUM_DEPTH = 10

Number = Decimal | float | int | str


def format_checksum_value(value: Number, precision: int) -> str:
    """Format one price or quantity for the checksum: fixed precision, no point, no leading 0s."""
    text = f"{Decimal(str(value)):.{precision}f}"
    return text.replace(".", "").lstrip("0")


def book_checksum_string(
    asks: Iterable[tuple[Number, Number]],
    bids: Iterable[tuple[Number, Number]],
    price_precision: int,
    qty_precision: int,
) -> str:
    """The string whose CRC32 is the checksum; ``asks`` ascending and ``bids`` descending."""
    parts: list[str] = []
    for side in (asks, bids):
        for i, (price, qty) in enumerate(side):
            if i >= CHECKSUM_DEPTH:
                break
            parts.append(format_checksum_value(price, price_precision))
            parts.append(format_checksum_value(qty, qty_precision))
    return "".join(parts)


def book_checksum(
    asks: Iterable[tuple[Number, Number]],
    bids: Iterable[tuple[Number, Number]],
    price_precision: int,
    qty_precision: int,
) -> int:
    """Kraken's CRC32 book checksum (unsigned) of sorted ``(price, qty)`` levels."""
    text = book_checksum_string(asks, bids, price_precision, qty_precision)
    return zlib.crc32(text.encode()) & 0xFFFFFFFF
