"""Shared benchmark helpers: repeated timing with medians, and a rich table."""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def importable_module_name(function: Callable[..., object]) -> str:
    """The name another process imports ``function``'s module by: under ``python -m
    benchmarks.x`` that module's ``__name__`` is ``__main__``, its spec keeps the real name."""
    spec = getattr(sys.modules[function.__module__], "__spec__", None)
    return spec.name if spec is not None else function.__module__


class PeerProcess:
    """
    A helper process running ``function()`` (an exchange, an echo peer) imported from its
    module: it prints one JSON line when it is ready (``ready``) and, once its stdin closes, one
    more with what it saw (``results()``). Killed on exit if it has not ended by then.
    """

    def __init__(self, function: Callable[[], None]) -> None:
        module = importable_module_name(function)
        name = function.__name__
        self.process = subprocess.Popen(
            [sys.executable, "-c", f"from {module} import {name}; {name}()"],
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.ready: Any = None

    def __enter__(self) -> PeerProcess:
        self.ready = json.loads(self.process.stdout.readline())  # type: ignore[union-attr]
        return self

    def results(self) -> Any:
        self.process.stdin.close()  # type: ignore[union-attr]
        results = json.loads(self.process.stdout.readline())  # type: ignore[union-attr]
        self.process.wait(timeout=30)
        return results

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


SAMPLE_CATALOG = REPO_ROOT / "catalog"


VALGRIND = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]


def valgrind_available(switch: str) -> bool:
    """valgrind is installed and the environment variable ``switch`` is not ``0``."""
    return shutil.which("valgrind") is not None and os.environ.get(switch) != "0"


def instructions(code: str) -> int:
    """
    Instructions (valgrind) of a Python process running ``code`` from the repository root: the
    same count whatever else the machine is doing. Subtract a second process's count to leave
    only the part that differs.
    """
    result = subprocess.run(
        [*VALGRIND, sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"I\s+refs:\s+([\d,]+)", result.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count in valgrind's output: {result.stderr[-300:]}")
    return int(found.group(1).replace(",", ""))
