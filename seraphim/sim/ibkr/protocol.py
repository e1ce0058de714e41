"""TWS socket API framing: length-prefixed frames of NUL-terminated ASCII fields.

Every message after the handshake is a 4-byte big-endian length followed by fields, each
terminated by ``\\0``. The client opens with the raw bytes ``API\\0`` and one framed string
``v<min>..<max>[ options]``; the server answers with one frame ``[server_version, conn_time]``.
"""

from __future__ import annotations

import asyncio
import math
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

UNSET_INTEGER = 2**31 - 1
UNSET_LONG = 2**63 - 1
UNSET_DOUBLE = 1.7976931348623157e308
API_PREFIX = b"API\0"
MAX_FRAME = 16 * 1024 * 1024

Field = str | int | float | bool | Decimal | None


class ProtocolError(Exception):
    """The peer sent bytes that are not a valid TWS API message."""


def format_field(value: Field) -> str:
    """Render one field the way TWS does: bools as 0/1, unset numbers as empty strings."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return "" if value in (UNSET_INTEGER, UNSET_LONG) else str(value)
    if isinstance(value, float):
        if value == UNSET_DOUBLE or math.isnan(value):
            return ""
        if math.isinf(value):
            return "Infinity"
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text
    return str(value)


def encode_frame(fields: Iterable[Field]) -> bytes:
    """Encode fields into one length-prefixed frame."""
    payload = "".join(format_field(f) + "\0" for f in fields).encode("ascii", "backslashreplace")
    return struct.pack(">I", len(payload)) + payload


def encode_raw_fields(fields: Iterable[str]) -> bytes:
    """Encode already formatted string fields into one frame (used for exact literals)."""
    payload = "".join(f + "\0" for f in fields).encode("ascii", "backslashreplace")
    return struct.pack(">I", len(payload)) + payload


def split_fields(payload: bytes) -> list[str]:
    """Split a frame payload into its fields (the trailing terminator yields no field)."""
    text = payload.decode("utf-8", "backslashreplace")
    parts = text.split("\0")
    if parts and parts[-1] == "":
        parts.pop()
    return parts


async def read_frame(reader: asyncio.StreamReader) -> list[str]:
    """Read one frame and return its fields; raises IncompleteReadError at EOF."""
    header = await reader.readexactly(4)
    (size,) = struct.unpack(">I", header)
    if size > MAX_FRAME:
        raise ProtocolError(f"frame of {size} bytes is too large")
    return split_fields(await reader.readexactly(size))


@dataclass(frozen=True)
class Handshake:
    """What the client offered: its version range and any connect options."""

    min_version: int
    max_version: int
    options: str = ""


async def read_handshake(reader: asyncio.StreamReader) -> Handshake:
    """Read ``API\\0`` and the framed ``v<min>..<max>`` offer."""
    prefix = await reader.readexactly(len(API_PREFIX))
    if prefix != API_PREFIX:
        raise ProtocolError(f"expected API prefix, got {prefix!r}")
    fields = await read_frame(reader)
    if not fields:
        raise ProtocolError("empty version offer")
    return parse_version_offer(fields[0])


def parse_version_offer(text: str) -> Handshake:
    """Parse ``v100..176`` or ``v100..176 +PACEAPI`` (also a bare ``v176``)."""
    if not text.startswith("v"):
        raise ProtocolError(f"bad version offer {text!r}")
    body, _, options = text[1:].partition(" ")
    low, sep, high = body.partition("..")
    try:
        lo = int(low)
        hi = int(high) if sep else lo
    except ValueError as exc:
        raise ProtocolError(f"bad version offer {text!r}") from exc
    return Handshake(lo, hi, options.strip())


class FieldReader:
    """Sequential typed access to the fields of one incoming request."""

    def __init__(self, fields: list[str], start: int = 0) -> None:
        self._fields = fields
        self._pos = start

    @property
    def remaining(self) -> int:
        """Fields not yet consumed."""
        return len(self._fields) - self._pos

    def str(self) -> str:
        """Next field as text ('' when the message is shorter than expected)."""
        if self._pos >= len(self._fields):
            self._pos += 1
            return ""
        value = self._fields[self._pos]
        self._pos += 1
        return value

    def int(self, default: int = 0) -> int:
        """Next field as an integer; empty means ``default``."""
        text = self.str()
        if text == "":
            return default
        try:
            return int(text)
        except ValueError:
            return int(float(text))

    def float(self, default: float = 0.0) -> float:
        """Next field as a float; empty means ``default``."""
        text = self.str()
        if text == "":
            return default
        if text in ("Infinity", "Infinite"):
            return math.inf
        return float(text)

    def decimal(self, default: Decimal = Decimal(0)) -> Decimal:
        """Next field as a Decimal (quantities)."""
        text = self.str()
        if text == "" or text in ("2147483647", "9223372036854775807", "1.7976931348623157E308"):
            return default
        return Decimal(text)

    def bool(self) -> bool:
        """Next field as a bool (0/1, also 'true'/'false')."""
        return self.str().strip().lower() not in ("", "0", "false")

    def skip(self, n: int = 1) -> None:
        """Skip ``n`` fields."""
        self._pos += n
