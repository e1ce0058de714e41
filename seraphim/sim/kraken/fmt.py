"""Kraken's number, time and identifier formats."""

from __future__ import annotations

import os
import random
import string
import time
from datetime import UTC
from datetime import datetime
from decimal import ROUND_DOWN
from decimal import ROUND_HALF_UP
from decimal import Decimal
from decimal import InvalidOperation

_ID_ALPHABET = string.ascii_uppercase + string.digits


def dec(value: object) -> Decimal:
    """Decimal from str/int/float (floats through their shortest repr)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))


def parse_decimal(value: object) -> Decimal | None:
    """A finite Decimal from client input, or None when it is not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        d = dec(value)
    except (InvalidOperation, ValueError):
        return None
    if not d.is_finite():
        return None
    return d


def fixed(value: Decimal | float | int, decimals: int, rounding: str = ROUND_HALF_UP) -> str:
    """A decimal string with exactly ``decimals`` places (Kraken REST style)."""
    q = Decimal(1).scaleb(-decimals)
    return f"{dec(value).quantize(q, rounding=rounding):.{decimals}f}"


def quantize(value: Decimal, decimals: int, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Round ``value`` to ``decimals`` places."""
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=rounding)


def truncate(value: Decimal, decimals: int) -> Decimal:
    """Cut ``value`` down to ``decimals`` places."""
    return quantize(value, decimals, ROUND_DOWN)


def decimals_of(value: Decimal) -> int:
    """How many places after the point a decimal is written with (trailing zeros ignored)."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def num(value: Decimal) -> float | int:
    """A WebSocket v2 JSON number."""
    return float(value)


def rfc3339(ts: float) -> str:
    """``2023-07-30T15:29:58.343415Z`` (microseconds, as Kraken's v2 timestamps)."""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rfc3339_seconds(ts: float) -> str:
    """``2025-11-11T00:17:10Z``."""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_nanos(ts: float) -> str:
    """``2023-10-04T16:25:00.000000000Z`` (the v2 OHLC ``interval_begin``)."""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


def rfc1123(ts: float) -> str:
    """``Tue, 11 Nov 25 00:17:04 +0000`` (Kraken's Time endpoint, two-digit year)."""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%a, %d %b %y %H:%M:%S +0000")


def parse_rfc3339(text: str) -> float | None:
    """UNIX seconds from an RFC 3339 timestamp, or None."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except (ValueError, AttributeError):
        return None


class IdFactory:
    """
    Kraken-style identifiers, 6-5-6 characters (``OUF4EM-FRGI2-MQMWZD``). The seed is mixed with
    the start time, so a restarted exchange never hands out an id it handed out before.
    """

    def __init__(self, seed: int | None) -> None:
        self._rng = random.Random(f"{seed}:{time.time_ns()}:{os.getpid()}")
        self._issued: set[str] = set()

    def _make(self, prefix: str) -> str:
        while True:
            chars = "".join(self._rng.choice(_ID_ALPHABET) for _ in range(16))
            ident = f"{prefix}{chars[:5]}-{chars[5:10]}-{chars[10:]}"
            if ident not in self._issued:
                self._issued.add(ident)
                return ident

    def order_id(self) -> str:
        """``O`` + 5, then 5, then 6 characters."""
        return self._make("O")

    def trade_id(self) -> str:
        """``T...`` private trade id."""
        return self._make("T")

    def ledger_id(self) -> str:
        """``L...`` ledger id."""
        return self._make("L")

    def token(self) -> str:
        """A WebSocket token (opaque, base64-like text)."""
        alphabet = string.ascii_letters + string.digits + "+/"
        return "".join(self._rng.choice(alphabet) for _ in range(43))

    def connection_id(self) -> int:
        """A v2 connection id (may exceed int64 like Kraken's)."""
        return self._rng.getrandbits(64)
