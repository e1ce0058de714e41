"""
Catalog ingest rows per second: ``seraphim catalog ingest kraken-ohlcvt`` (validation, line-named
errors, interval check, conflict-checked merge, atomic swap, provenance) against the bare nautilus
path a hand-rolled setup would use (pandas read + BarDataWrangler + ParquetDataCatalog.write_data),
same file, same run. Both write the same Parquet file (tests/catalog/test_nautilus_files.py).
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd
from nautilus_trader.model.data import BarType
from nautilus_trader.persistence.catalog import ParquetDataCatalog
from nautilus_trader.persistence.wranglers import BarDataWrangler

from benchmarks.common import median_seconds
from benchmarks.common import print_table
from benchmarks.common import real_or_sample_csv
from seraphim.adapters.kraken.common.pairs import instrument_for
from seraphim.adapters.kraken.ingest import ingest_kraken_ohlcvt
from seraphim.catalog.sample import SampleMarket
from seraphim.catalog.sample import simulate_ohlcv
from seraphim.catalog.store import SeraphimCatalog

REPEATS = 5


def _csv(workdir: Path) -> tuple[Path, str]:
    path, label = real_or_sample_csv()
    if path is not None:
        return path, label
    frame = simulate_ohlcv(SampleMarket(days=3 * 365))["BTC/USD"]
    path = workdir / "sample.csv"
    seconds = frame.index.asi8 // 1_000_000_000 - 3600
    frame.assign(time=seconds, trades=1)[
        ["time", "open", "high", "low", "close", "volume", "trades"]
    ].to_csv(path, header=False, index=False)
    return path, label


def nautilus_plain(path: Path, root: Path) -> None:
    instrument = instrument_for("BTC/USD")
    frame = pd.read_csv(
        path, header=None, names=["t", "open", "high", "low", "close", "volume", "n"]
    )
    frame.index = pd.to_datetime((frame["t"] + 3600) * 1_000_000_000, utc=True)
    bar_type = BarType.from_str("BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL")
    bars = BarDataWrangler(bar_type, instrument).process(
        frame[["open", "high", "low", "close", "volume"]]
    )
    catalog = ParquetDataCatalog(str(root))
    catalog.write_data([instrument])
    catalog.write_data(bars)


def seraphim_ingest(path: Path, root: Path) -> None:
    ingest_kraken_ohlcvt(SeraphimCatalog(root), path, "BTC/USD", 60)


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        work = Path(workdir)
        path, label = _csv(work)
        rows_in_file = sum(1 for _ in path.open())
        results = []
        for name, job in (
            ("nautilus wrangler + write_data (reference)", nautilus_plain),
            ("seraphim ingest, fresh catalog", seraphim_ingest),
        ):
            target = work / "catalog"

            def fresh(job=job, target=target) -> None:
                shutil.rmtree(target, ignore_errors=True)
                job(path, target)

            results.append((name, median_seconds(fresh, REPEATS)))
        # Re-ingesting the same file into a catalog that holds it (the idempotent merge path).
        target = work / "catalog"
        shutil.rmtree(target, ignore_errors=True)
        seraphim_ingest(path, target)
        results.append(
            (
                "seraphim ingest, same file again (merge, nothing new)",
                median_seconds(lambda: seraphim_ingest(path, target), REPEATS),
            )
        )
        # The usual update: the catalog holds all but the newest tenth; the whole file comes in.
        lines = path.read_text().splitlines(keepends=True)
        older = work / "older.csv"
        older.write_text("".join(lines[: len(lines) * 9 // 10]))

        def update() -> None:
            shutil.rmtree(target, ignore_errors=True)
            seraphim_ingest(older, target)
            started = time.perf_counter()
            seraphim_ingest(path, target)
            timings.append(time.perf_counter() - started)

        timings: list[float] = []
        for _ in range(REPEATS):
            update()
        results.append(("seraphim ingest, newest tenth added (merge)", statistics.median(timings)))
    reference = results[0][1]
    print_table(
        f"Catalog ingest of {label} ({rows_in_file:,} rows, median of {REPEATS})",
        ["path", "seconds", "rows/s", "speed vs reference"],
        [[n, f"{s:.3f}", f"{rows_in_file / s:,.0f}", f"{reference / s:.2f}"] for n, s in results],
    )


if __name__ == "__main__":
    main()
