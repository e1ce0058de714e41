"""
Kraken's downloadable OHLCVT history: CSV without header, one candle a line,
``unix_time_seconds,open,high,low,close,volume,trade_count``.

Kraken stamps a candle with its open time; nautilus stamps a bar with its close time (the moment
it is known), so ``ts_event = open_time + interval``. Hours without trades are simply absent.
Prices are rounded to the pair's precision (old rows carry more decimals than Kraken's current
tick size). The rows become nautilus's bar columns directly, without a Python object per row.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from nautilus_trader.model.data import BarType
from nautilus_trader.model.instruments import Instrument

from seraphim.adapters.kraken.loaders.spacing import check_spacing
from seraphim.catalog.arrow_rows import SeriesRows
from seraphim.catalog.arrow_rows import bar_rows
from seraphim.catalog.errors import MalformedInputError
from seraphim.catalog.progress import file_progress

COLUMNS = ["time", "open", "high", "low", "close", "volume", "trades"]
_CHUNK_ROWS = 250_000
_EMPTY = f"the file is empty: no rows to ingest (expected lines of {','.join(COLUMNS)})"


def read_ohlcvt(path: str | Path, *, show_progress: bool = False) -> pd.DataFrame:
    """Read and validate an OHLCVT CSV; raise ``MalformedInputError`` naming file and line."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"OHLCVT file not found: {path}")
    if _is_blank(path):
        raise MalformedInputError(path, None, _EMPTY)
    try:
        # Fast path: the C parser straight to floats. Anything it cannot parse is located, with
        # its line number, by the slower text path below.
        frame = _read(path, "float64", show_progress)
    except (ValueError, pd.errors.ParserError):
        frame = _read(path, str, show_progress)
    return frame


def _is_blank(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    return len(head) < 1 << 16 and not head.strip()


def _read(path: Path, dtype: object, show_progress: bool) -> pd.DataFrame:
    frames = []
    first_line = 1
    with path.open("rb") as handle, file_progress(path, enabled=show_progress) as advance:
        try:
            reader = pd.read_csv(
                handle,
                header=None,
                names=COLUMNS,
                dtype=dtype,
                chunksize=_CHUNK_ROWS,
                skip_blank_lines=False,
            )
            for chunk in reader:
                frames.append(_validate(chunk, path, first_line))
                first_line += len(chunk)
                advance(handle.tell())
        except pd.errors.ParserError as e:
            raise MalformedInputError(path, _line_from_parser_error(e), str(e)) from None
    if not frames:
        raise MalformedInputError(path, None, _EMPTY)
    return pd.concat(frames, ignore_index=True)


def _validate(chunk: pd.DataFrame, path: Path, first_line: int) -> pd.DataFrame:
    numeric = (
        chunk if (chunk.dtypes == "float64").all() else chunk.apply(pd.to_numeric, errors="coerce")
    )
    bad = numeric.isna().any(axis=1).to_numpy()
    if bad.any():
        row = int(np.argmax(bad))
        raw = chunk.iloc[row]
        column = next(c for c in COLUMNS if pd.isna(numeric.iloc[row][c]))
        found = "missing" if pd.isna(raw[column]) else repr(raw[column])
        raise MalformedInputError(
            path,
            first_line + row,
            f"{column} is {found}, expected a number (format: {','.join(COLUMNS)})",
        )
    problems = {
        "time is not a whole number of seconds": numeric["time"] % 1 != 0,
        "a price is not positive": (numeric[["open", "high", "low", "close"]] <= 0).any(axis=1),
        "volume is negative": numeric["volume"] < 0,
        "high is below open, close or low": numeric["high"]
        < numeric[["open", "close", "low"]].max(axis=1),
        "low is above open or close": numeric["low"] > numeric[["open", "close"]].min(axis=1),
    }
    for problem, mask in problems.items():
        if mask.any():
            row = int(np.argmax(mask.to_numpy()))
            values = ",".join(str(v) for v in chunk.iloc[row])
            raise MalformedInputError(path, first_line + row, f"{problem}: {values}")
    numeric["time"] = numeric["time"].astype(np.int64)
    return numeric


def _line_from_parser_error(error: Exception) -> int | None:
    # pandas says e.g. "Expected 7 fields in line 12, saw 8".
    words = str(error).replace(",", " ").split()
    for i, word in enumerate(words[:-1]):
        if word == "line" and words[i + 1].isdigit():
            return int(words[i + 1])
    return None


def ohlcvt_rows(
    frame: pd.DataFrame,
    path: str | Path,
    instrument: Instrument,
    bar_type: BarType,
    interval_seconds: int,
) -> SeriesRows:
    """
    A validated OHLCVT frame as bars stamped at their close, in nautilus's Parquet schema.

    Refuses an interval other than the file's own spacing. Errors about a row name ``FILE:LINE``.
    """
    open_times = frame["time"].to_numpy()
    check_spacing(open_times, interval_seconds, path, lambda row: f"line {row + 1}")
    columns = {name: frame[name].to_numpy() for name in ("open", "high", "low", "close", "volume")}
    close_times = (open_times + interval_seconds) * 1_000_000_000
    return bar_rows(bar_type, instrument, columns, close_times, lambda row: f"{path}:{row + 1}")
