"""
nautilus's fixed-point Prices and Quantities as Arrow columns, converted a column at a time.

nautilus stores a value as the raw integer ``value x 10^FIXED_PRECISION`` in a
``fixed_size_binary[16]`` column (a little-endian 128-bit integer in its high-precision build).
``encode_fixed`` reproduces nautilus's own ``f64_to_fixed_i128``: round ``value x 10^precision``
half away from zero, then scale by the remaining powers of ten, so a column built here holds the
same bytes as the one nautilus's serialiser writes.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyarrow as pa
from nautilus_trader.model.objects import FIXED_PRECISION

_WORD_MASK = np.uint64(0xFFFF_FFFF)
_HALF_WORD = np.uint64(32)


def encode_fixed(values: np.ndarray, precision: int) -> pa.FixedSizeBinaryArray:
    """Float values rounded to ``precision`` decimals, as nautilus's 128-bit raw column."""
    scaled = np.asarray(values, dtype=np.float64) * float(10**precision)
    units = np.trunc(scaled)
    # Rust's f64::round (half away from zero), not numpy's half-to-even.
    units += np.where(np.abs(scaled - units) >= 0.5, np.sign(scaled), 0.0)
    mantissa = units.astype(np.int64)
    low, high = _multiply(np.abs(mantissa).astype(np.uint64), 10 ** (FIXED_PRECISION - precision))
    negative = mantissa < 0
    if negative.any():  # two's complement of the 128-bit magnitude
        low_neg = ~low + np.uint64(1)
        high_neg = ~high + (low_neg == 0).astype(np.uint64)
        low, high = np.where(negative, low_neg, low), np.where(negative, high_neg, high)
    words = np.empty(2 * len(mantissa), dtype="<u8")
    words[0::2], words[1::2] = low, high
    return pa.Array.from_buffers(pa.binary(16), len(mantissa), [None, pa.py_buffer(words)])


def _multiply(a: np.ndarray, b: int) -> tuple[np.ndarray, np.ndarray]:
    """The 128-bit products ``a x b`` (``a`` unsigned 64-bit, ``b`` < 2^64) as (low, high) words."""
    a_lo, a_hi = a & _WORD_MASK, a >> _HALF_WORD
    b_lo, b_hi = np.uint64(b & 0xFFFF_FFFF), np.uint64(b >> 32)
    lo_lo, lo_hi, hi_lo = a_lo * b_lo, a_lo * b_hi, a_hi * b_lo
    middle = (lo_lo >> _HALF_WORD) + (lo_hi & _WORD_MASK) + (hi_lo & _WORD_MASK)
    low = (lo_lo & _WORD_MASK) | (middle << _HALF_WORD)
    high = a_hi * b_hi + (lo_hi >> _HALF_WORD) + (hi_lo >> _HALF_WORD) + (middle >> _HALF_WORD)
    return low, high


def decode_fixed(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Decode nautilus fixed-point Parquet values (64 or 128-bit raw integers) to floats."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    width = array.type.byte_width
    words = np.frombuffer(array.buffers()[1], dtype="<i8")
    start, stop = array.offset * width // 8, (array.offset + len(array)) * width // 8
    words = words[start:stop]
    if width == 16:
        low = words[0::2].view(np.uint64).astype(np.float64)
        high = words[1::2].astype(np.float64)
        return (high * 2.0**64 + low) / 1e16
    return words.astype(np.float64) / 1e9


def fixed_to_decimal(raw: bytes, precision: int) -> Decimal:
    """One raw value exactly, for messages: ``raw`` as stored, shown at ``precision`` decimals."""
    scale = FIXED_PRECISION if len(raw) == 16 else 9
    value = Decimal(int.from_bytes(raw, "little", signed=True)).scaleb(-scale)
    return value.quantize(Decimal(1).scaleb(-precision))
