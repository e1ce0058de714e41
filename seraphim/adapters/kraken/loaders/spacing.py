"""The candle interval a user names must be the one the rows themselves are spaced by."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from seraphim.adapters.kraken.common.constants import OHLC_INTERVALS
from seraphim.catalog.errors import MalformedInputError

# A real series at the named interval shows a single-interval step within this many steps, so a
# coarser common spacing means the interval is wrong. Fewer steps may just be a quiet market.
MIN_STEPS_TO_JUDGE_SPACING = 20


def check_spacing(
    open_times: np.ndarray,
    interval_seconds: int,
    path: str | Path,
    describe_row: Callable[[int], str],
) -> None:
    """
    Refuse ``interval_seconds`` unless it is the spacing of ``open_times`` (UNIX seconds).

    Every step between rows must be a whole number of intervals. The spacing is the greatest
    common divisor of the steps, so candles missing for lack of trades do not hide it; it must
    equal the interval once there are enough steps to tell (``MIN_STEPS_TO_JUDGE_SPACING``).
    """
    steps = np.diff(np.asarray(open_times, dtype=np.int64))
    moves = np.abs(steps[steps != 0])
    if len(moves) == 0:
        return
    spacing = int(np.gcd.reduce(moves))
    off = np.flatnonzero(steps % interval_seconds)
    if spacing == interval_seconds or (len(off) == 0 and len(moves) < MIN_STEPS_TO_JUDGE_SPACING):
        return
    problem = (
        f"rows are {_duration(spacing)} apart, but the interval given is "
        f"{_duration(interval_seconds)}"
    )
    if len(off):
        step = int(off[0])
        problem += (
            f" ({describe_row(step + 1)} is {_duration(abs(int(steps[step])))} after the one "
            f"before)"
        )
    if spacing % 60 == 0 and spacing // 60 in OHLC_INTERVALS:
        problem += f"; use --interval {spacing // 60}"
    raise MalformedInputError(path, None, problem)


def _duration(seconds: int) -> str:
    if seconds % 60:
        return f"{seconds} seconds"
    minutes = seconds // 60
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
