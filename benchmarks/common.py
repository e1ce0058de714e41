"""Shared benchmark helpers: repeated timing with medians, and a rich table."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from seraphim.paths import REPO_ROOT
from seraphim.paths import shared_data_dir


def median_seconds(run: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``repeats`` calls (after one warm-up call)."""
    run()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def quantile(values: list[float], q: float) -> float:
    """The nearest-rank quantile (``q`` in 0..1) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def real_or_sample_csv() -> tuple[Path | None, str]:
    """The real XBTUSD hourly history when ../shared is present."""
    path = shared_data_dir() / "kraken/ohlcvt/XBTUSD_60.csv"
    return (path, "real XBTUSD_60.csv") if path.is_file() else (None, "synthetic sample")


def print_table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="left" if column == columns[0] else "right")
    for row in rows:
        table.add_row(*row)
    Console(width=140).print(table)


SAMPLE_CATALOG = REPO_ROOT / "catalog"
