"""
Child-order schedules as pure functions of a parent's quantity and the algorithm's parameters.

A backtest and a live node call the same functions with the same parameters (and seed), so they
make the same child schedule: the times are offsets from the parent's arrival, the quantities
are rounded to the instrument's size increment and always add up to the parent's quantity.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Slice:
    """One child of a schedule: ``offset_ns`` after the parent arrived, ``quantity`` units."""

    offset_ns: int
    quantity: Decimal


def twap_offsets(duration_ns: int, slices: int, jitter: float, seed: int) -> list[int]:
    """
    ``slices`` start times over ``duration_ns``: the first at once, the rest ``duration/slices``
    apart, each moved by up to ``jitter`` of that interval either way (seeded, so repeatable).
    With ``jitter`` < 0.5 the children keep their order and never bunch closer than
    ``(1 - 2 jitter)`` intervals.
    """
    if slices < 1:
        raise ValueError(f"slices must be at least 1, was {slices}")
    if not 0.0 <= jitter < 0.5:
        raise ValueError(f"jitter must be in [0, 0.5), was {jitter}")
    interval = duration_ns / slices
    rng = random.Random(seed)
    offsets = [0]
    for number in range(1, slices):
        offsets.append(round(interval * (number + rng.uniform(-jitter, jitter))))
    return offsets


def split_quantity(
    total: Decimal, weights: list[float], increment: Decimal, minimum: Decimal = Decimal(0)
) -> list[Decimal]:
    """
    ``total`` split in proportion to ``weights``, each part rounded down to ``increment`` and the
    rounding remainder added to the last part. Parts below ``minimum`` are merged into the next
    one, so a child is never smaller than the venue allows (zero parts stay as markers of a
    slice that sends nothing; the caller skips them).
    """
    if total <= 0:
        raise ValueError(f"quantity must be positive, was {total}")
    weight_sum = sum(weights)
    if not weights or weight_sum <= 0 or any(w < 0 for w in weights):
        raise ValueError("weights must be non-negative with a positive sum")
    parts = []
    for weight in weights:
        share = total * Decimal(str(weight / weight_sum))
        parts.append((share // increment) * increment)
    parts[-1] += total - sum(parts)
    carried = Decimal(0)
    merged = []
    for number, share in enumerate(parts):
        part = share + carried
        carried = Decimal(0)
        if part < minimum and number < len(parts) - 1:
            carried, part = part, Decimal(0)
        merged.append(part)
    if merged[-1] < minimum:  # the tail is too small on its own: give it to the last real part
        last = max((n for n, p in enumerate(merged[:-1]) if p > 0), default=None)
        if last is not None:
            merged[last] += merged[-1]
            merged[-1] = Decimal(0)
    return merged


def twap_schedule(
    total: Decimal,
    duration_ns: int,
    slices: int,
    jitter: float,
    seed: int,
    increment: Decimal,
    minimum: Decimal = Decimal(0),
) -> list[Slice]:
    """Equal parts at (jittered) equal intervals."""
    offsets = twap_offsets(duration_ns, slices, jitter, seed)
    parts = split_quantity(total, [1.0] * slices, increment, minimum)
    return [Slice(t, q) for t, q in zip(offsets, parts, strict=True)]


def volume_profile(bars: list[tuple[int, float]], buckets: int, bucket_ns: int) -> list[float]:
    """
    The share of volume traded in each of ``buckets`` periods of ``bucket_ns`` within a day
    (buckets counted from midnight UTC), from ``(ts_ns, volume)`` rows: the estimate a VWAP
    child schedule follows. Periods never seen get the mean share.
    """
    if buckets < 1 or bucket_ns <= 0:
        raise ValueError("buckets and bucket length must be positive")
    day_ns = 86_400 * 10**9
    totals = [0.0] * buckets
    for ts, volume in bars:
        bucket = ((ts % day_ns) // bucket_ns) % buckets
        totals[bucket] += max(volume, 0.0)
    grand = sum(totals)
    if grand <= 0:
        return [1.0 / buckets] * buckets
    return [t / grand for t in totals]


def vwap_schedule(
    total: Decimal,
    start_ns: int,
    duration_ns: int,
    slices: int,
    profile: list[float],
    profile_bucket_ns: int,
    increment: Decimal,
    minimum: Decimal = Decimal(0),
) -> list[Slice]:
    """
    ``slices`` children at equal intervals from ``start_ns``, each sized by the profile's share
    of volume for the time of day it covers (``profile`` as from :func:`volume_profile`).
    """
    if slices < 1:
        raise ValueError(f"slices must be at least 1, was {slices}")
    interval = duration_ns // slices
    day_ns = 86_400 * 10**9
    weights = []
    for number in range(slices):
        middle = start_ns + number * interval + interval // 2
        weights.append(profile[((middle % day_ns) // profile_bucket_ns) % len(profile)])
    if sum(weights) <= 0:
        weights = [1.0] * slices
    parts = split_quantity(total, weights, increment, minimum)
    return [Slice(number * interval, q) for number, q in enumerate(parts)]
