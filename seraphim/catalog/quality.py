"""
Data quality checks over the raw Parquet files of a catalog.

The files are read as stored (in file-name order, rows as written) rather than through a
query, which would sort and hide the very problems looked for. Hard errors (exit non-zero):
duplicates, out-of-order rows, OHLC inconsistencies, non-positive prices. Warnings: gaps longer
than the bar interval, and outlier returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from nautilus_trader.model.data import BarType

from seraphim.catalog.fixed import decode_fixed
from seraphim.catalog.inventory import series_files
from seraphim.catalog.store import SeraphimCatalog

ERROR = "error"
WARNING = "warning"
OUTLIER_ROBUST_Z = 12.0
_MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Finding:
    severity: str
    check: str
    count: int
    examples: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SeriesReport:
    identifier: str
    rows: int
    findings: list[Finding]

    @property
    def has_errors(self) -> bool:
        return any(f.severity == ERROR for f in self.findings)


def read_bars_raw(files: list[Path]) -> pd.DataFrame:
    """Bars exactly as stored: open/high/low/close/volume as floats, ts_event in ns."""
    frames = []
    for file in files:
        table = pq.read_table(file)
        frame = pd.DataFrame(
            {
                name: decode_fixed(table[name])
                for name in ("open", "high", "low", "close", "volume")
            },
        )
        frame["ts_event"] = table["ts_event"].to_numpy().astype(np.int64)
        frame["file"] = file.name
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def read_trades_raw(files: list[Path]) -> pd.DataFrame:
    frames = []
    for file in files:
        table = pq.read_table(file)
        frames.append(
            pd.DataFrame(
                {
                    "price": decode_fixed(table["price"]),
                    "size": decode_fixed(table["size"]),
                    "trade_id": table["trade_id"].to_pandas().astype(str),
                    "ts_event": table["ts_event"].to_numpy().astype(np.int64),
                },
            ),
        )
    return pd.concat(frames, ignore_index=True)


def _stamp(ns: int) -> str:
    return pd.Timestamp(int(ns), tz="UTC").isoformat()


def _finding(severity: str, check: str, mask: np.ndarray, frame: pd.DataFrame) -> Finding | None:
    count = int(mask.sum())
    if count == 0:
        return None
    examples = [_stamp(ts) for ts in frame.loc[mask, "ts_event"].head(_MAX_EXAMPLES)]
    return Finding(severity, check, count, examples)


def check_bars(frame: pd.DataFrame, interval_ns: int) -> list[Finding]:
    ts = frame["ts_event"].to_numpy()
    diffs = np.diff(ts, prepend=ts[0] - interval_ns if len(ts) else 0)
    o, h, low, c = (frame[k].to_numpy() for k in ("open", "high", "low", "close"))
    findings = [
        _finding(ERROR, "out-of-order rows", diffs < 0, frame),
        _finding(ERROR, "duplicate timestamps", frame["ts_event"].duplicated().to_numpy(), frame),
        _finding(ERROR, "high below open/close/low", h < np.maximum.reduce([o, c, low]), frame),
        _finding(ERROR, "low above open/close", low > np.minimum(o, c), frame),
        _finding(ERROR, "non-positive prices", (np.minimum.reduce([o, h, low, c]) <= 0), frame),
        _finding(ERROR, "negative volume", frame["volume"].to_numpy() < 0, frame),
        _outliers(frame),
    ]
    gaps = _gaps(ts, interval_ns)
    return [f for f in [*findings, gaps] if f is not None]


def _gaps(ts: np.ndarray, interval_ns: int) -> Finding | None:
    ordered = np.sort(ts)
    diffs = np.diff(ordered)
    gap_index = np.flatnonzero(diffs > interval_ns)
    if len(gap_index) == 0:
        return None
    missing = int(((diffs[gap_index] // interval_ns) - 1).sum())
    longest = gap_index[np.argsort(diffs[gap_index])[::-1][:_MAX_EXAMPLES]]
    examples = [
        f"{_stamp(ordered[i])} -> {_stamp(ordered[i + 1])} "
        f"({(diffs[i] // interval_ns) - 1} missing)"
        for i in longest
    ]
    return Finding(WARNING, f"gaps ({missing} missing bars)", len(gap_index), examples)


def _outliers(frame: pd.DataFrame) -> Finding | None:
    # Robust z-score of log returns: the median absolute deviation is not itself moved by the
    # outliers it looks for.
    returns = np.log(frame["close"]).diff().to_numpy()[1:]
    if len(returns) < 10:
        return None
    deviation = np.abs(returns - np.median(returns))
    mad = np.median(deviation) * 1.4826
    if mad == 0:
        return None
    mask = np.concatenate([[False], deviation / mad > OUTLIER_ROBUST_Z])
    return _finding(WARNING, f"outlier returns (robust z > {OUTLIER_ROBUST_Z:g})", mask, frame)


def check_trades(frame: pd.DataFrame) -> list[Finding]:
    ts = frame["ts_event"].to_numpy()
    findings = [
        _finding(ERROR, "out-of-order rows", np.diff(ts, prepend=ts[0]) < 0, frame),
        _finding(ERROR, "duplicate trade ids", frame["trade_id"].duplicated().to_numpy(), frame),
        _finding(ERROR, "non-positive price", frame["price"].to_numpy() <= 0, frame),
        _finding(ERROR, "non-positive size", frame["size"].to_numpy() <= 0, frame),
    ]
    return [f for f in findings if f is not None]


def check_catalog(
    catalog: SeraphimCatalog, identifiers: list[str] | None = None
) -> list[SeriesReport]:
    """Check every bar and trade series (or the given identifiers)."""
    reports = []
    for (kind, identifier), files in series_files(catalog).items():
        if identifiers and identifier not in identifiers:
            continue
        if kind == "bar":
            frame = read_bars_raw(files)
            interval_ns = BarType.from_str(identifier).spec.timedelta.value
            reports.append(SeriesReport(identifier, len(frame), check_bars(frame, interval_ns)))
        elif kind == "trade_tick":
            frame = read_trades_raw(files)
            reports.append(SeriesReport(identifier, len(frame), check_trades(frame)))
    return reports
