"""The candle interval a user names must be the one the rows themselves are spaced by."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from seraphim.adapters.kraken.constants import OHLC_INTERVALS
from seraphim.catalog.errors import MalformedInputError


def check_spacing(
    open_times: np.ndarray,
    interval_seconds: int,
    path: str | Path,
    describe_row: Callable[[int], str],
) -> None:
    """
    Refuse ``interval_seconds`` unless it is the spacing of ``open_times`` (UNIX seconds).

    The spacing is the greatest common divisor of the steps between rows, so hours without
    trades (missing candles) do not hide it. A file with one candle cannot be checked.
    """
    steps = np.diff(np.asarray(open_times, dtype=np.int64))
    moves = np.abs(steps[steps != 0])
    if len(moves) == 0:
        return
    spacing = int(np.gcd.reduce(moves))
    if spacing == interval_seconds:
        return
    problem = (
        f"rows are {_duration(spacing)} apart, but the interval given is "
        f"{_duration(interval_seconds)}"
    )
    off = np.flatnonzero(steps % interval_seconds)
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
