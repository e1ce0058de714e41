"""
Sweep throughput (backtests per second) of ``seraphim research sweep`` against a bare loop of
nautilus ``BacktestEngine`` runs with ``reset()`` on the same bars and the same strategy
(``ma_cross`` over a grid of ``fast``), in the same run; medians of interleaved batches.

The bare loop keeps one engine and swaps the strategy after each ``reset()``: no equity
recorder, no risk gate, no Seraphim metrics (nautilus's own statistics run, as by default). Both
loops drop the old strategy's message-bus handlers when they swap it (nautilus 1.231 leaves them
subscribed, issue #3967, and each run would then get slower than the last). A
Seraphim trial reuses its engine the same way, with the spec's recorder, risk controller, Kraken
fees and seeded fill model reset between trials, and computes the run's metrics, so the 1-worker
ratio is the price of those.

Both in-process loops are timed in CPU seconds of this process (the machine is shared: wall
time carries other processes' load). The 2-worker pool is timed twice: in wall seconds (what a
user waits; it needs two idle cores) and by the CPU seconds the batch used in all (workers'
threads, from /proc, and this process's) divided by two, the batch's time when each worker has
a core of its own and their shares are even: its ratio to the 1-worker CPU time is the pool's
scaling without the machine's load (less than 2 by what the pool costs: dispatch, results;
and by what two busy processes cost each other). The bare loop's trials handed to two
processes the same way, timed the same way, show how far this machine lets two engines scale.
Pool start-up is left out: workers are started and load the bars once per sweep.
"""

from __future__ import annotations

import multiprocessing
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Money

from benchmarks.common import SAMPLE_CATALOG
from benchmarks.common import print_table
from seraphim.backtest.config import parse_spec
from seraphim.catalog.store import SeraphimCatalog
from seraphim.research.executors import InProcess
from seraphim.research.executors import LocalPool
from seraphim.research.executors import Task
from seraphim.research.reuse import clear_strategies
from seraphim.strategies.ma_cross import MACross
from seraphim.strategies.ma_cross import MACrossConfig

BAR_TYPE = BarType.from_str("BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL")
START, END = "2024-03-01", "2024-04-01"
FAST = list(range(4, 28, 2))  # 12 trials a batch
SLOW = 40
BATCHES = 5
REFERENCE = "bare nautilus loop, reset() (reference)"
BARE_TWO = "bare nautilus loop, 2 processes"
ONE_WORKER = "seraphim sweep, 1 worker"
TWO_WORKERS = "seraphim sweep, 2 workers"


def _strategy(fast: int) -> MACross:
    return MACross(
        MACrossConfig(
            instrument_id=BAR_TYPE.instrument_id,
            bar_type=BAR_TYPE,
            fast=fast,
            slow=SLOW,
            trade_size=Decimal("0.5"),
        )
    )


class BareLoop:
    """One engine; each trial resets it and swaps the strategy."""

    def __init__(self, catalog: SeraphimCatalog) -> None:
        self.engine = BacktestEngine(
            BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True))
        )
        self.engine.add_venue(
            Venue("KRAKEN"), OmsType.NETTING, AccountType.CASH, [Money(100_000, USD)]
        )
        self.engine.add_instrument(catalog.nautilus.instruments()[0])
        bars = catalog.nautilus.query(Bar, identifiers=[str(BAR_TYPE)], start=START, end=END)
        self.engine.add_data(bars)

    def batch(self) -> None:
        for fast in FAST:
            self.trial(fast)

    def trial(self, fast: int) -> None:
        self.engine.reset()
        clear_strategies(self.engine)  # nautilus's, without its bus leak (as a sweep's)
        self.engine.add_strategy(_strategy(fast))
        self.engine.run()

    def close(self) -> None:
        self.engine.dispose()


_WORKER_LOOP: BareLoop | None = None


def _start_bare_worker() -> None:
    global _WORKER_LOOP  # noqa: PLW0603 (one loop per worker process, as a sweep's runner)
    _WORKER_LOOP = BareLoop(SeraphimCatalog(SAMPLE_CATALOG))


def _bare_trial(fast: int) -> None:
    _WORKER_LOOP.trial(fast)


class BarePool:
    """
    The bare loop's trials shared by worker processes, each with its own engine, handed out one
    at a time as the sweep's pool does: how far this machine lets engines scale.
    """

    def __init__(self, workers: int) -> None:
        self._pool, self.workers = _started(
            lambda: multiprocessing.get_context("spawn").Pool(
                workers, initializer=_start_bare_worker
            )
        )

    def batch(self) -> None:
        list(self._pool.imap_unordered(_bare_trial, FAST, chunksize=1))

    def close(self) -> None:
        self._pool.close()
        self._pool.join()


def _started(start):
    """``start()``'s result and the processes it started (a pool's workers, timed by CPU)."""
    before = {p.pid for p in multiprocessing.active_children()}
    started = start()
    return started, tuple(p.pid for p in multiprocessing.active_children() if p.pid not in before)


class Sweep:
    def __init__(self, executor, workers: tuple[int, ...] = ()) -> None:
        self.executor = executor
        self.workers = workers  # the pool's worker processes (their CPU time is counted)

    def batch(self) -> None:
        tasks = [Task(i, {"fast": f, "slow": SLOW}) for i, f in enumerate(FAST)]
        results = list(self.executor.map(tasks))
        assert all(r.status == "ok" for r in results), [r.reason for r in results]

    def close(self) -> None:
        self.executor.close()


def _median_ratio(base: list[float], times: list[float]) -> float:
    """Median over rounds of (base batch time / this batch time): the throughput ratio."""
    return statistics.median(b / t for b, t in zip(base, times, strict=True))


def _cpu_seconds(pid: int) -> float:
    """CPU time of every thread of process ``pid`` (Linux schedstat: nanoseconds on a CPU)."""
    tasks = Path(f"/proc/{pid}/task")
    return sum(int((t / "schedstat").read_text().split()[0]) for t in tasks.iterdir()) / 1e9


def _timed(run) -> tuple[float, float]:
    """
    (wall seconds, CPU seconds) of a batch. For a pool, the CPU seconds are those the batch
    used in all (its workers' and this process's) shared by the workers: the batch's time with
    a core per worker and nothing else running.
    """
    workers = getattr(run, "workers", ())
    before = [_cpu_seconds(pid) for pid in workers]
    began, cpu = time.perf_counter(), time.process_time()
    run.batch()
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    if workers:
        used = sum(_cpu_seconds(pid) - b for pid, b in zip(workers, before, strict=True))
        cpu = (used + cpu) / len(workers)
    return wall, cpu


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        catalog = SeraphimCatalog(SAMPLE_CATALOG)
        spec = parse_spec(
            {
                "catalog": str(catalog.path),
                "output": str(Path(workdir) / "out"),
                "start": START,
                "end": END,
                "data": [{"bar_type": str(BAR_TYPE)}],
                "strategies": [{"name": "ma_cross", "params": {"trade_size": 0.5}}],
            }
        )
        runs = {
            REFERENCE: BareLoop(catalog),
            BARE_TWO: BarePool(2),
            ONE_WORKER: Sweep(InProcess(spec)),
            TWO_WORKERS: Sweep(*_started(lambda: LocalPool(spec, 2))),
        }
        # Batches interleaved, so a change in the shared machine's load hits every row alike;
        # the first round warms up.
        timings = {name: [] for name in runs}
        for round_ in range(BATCHES + 1):
            for name, run in runs.items():
                seconds = _timed(run)
                if round_:
                    timings[name].append(seconds)
        for run in runs.values():
            run.close()
    wall = {name: [w for w, _ in times] for name, times in timings.items()}
    cpu = {name: [c for _, c in times] for name, times in timings.items()}
    # Ratios of the same round's batches (run back to back), then their median: a load swing
    # between rounds cancels out, where a ratio of medians would carry it.
    rows = [
        _row(f"{REFERENCE} (CPU)", cpu[REFERENCE], cpu[REFERENCE], cpu[REFERENCE]),
        _row(f"{BARE_TWO} (CPU / 2)", cpu[BARE_TWO], None, cpu[REFERENCE]),
        _row(f"{ONE_WORKER} (CPU)", cpu[ONE_WORKER], cpu[REFERENCE], cpu[ONE_WORKER]),
        _row(f"{TWO_WORKERS} (CPU / 2)", cpu[TWO_WORKERS], None, cpu[ONE_WORKER]),
        _row(f"{ONE_WORKER} (wall)", wall[ONE_WORKER], wall[REFERENCE], wall[ONE_WORKER]),
        _row(f"{TWO_WORKERS} (wall)", wall[TWO_WORKERS], None, wall[ONE_WORKER]),
    ]
    print_table(
        f"Sweep throughput: ma_cross, {len(FAST)} trials of {START} to {END} (1-hour bars, "
        f"synthetic sample), medians of {BATCHES} interleaved batches",
        ["run", "s/batch", "backtests/s", "vs bare loop", "vs 1 process"],
        rows,
    )


def _row(name: str, times: list[float], reference: list[float] | None, one: list[float]) -> list:
    median = statistics.median(times)
    versus_bare = f"{_median_ratio(reference, times):.2f}" if reference else "-"
    return [name, f"{median:.2f}", f"{len(FAST) / median:.2f}", versus_bare,
            f"{_median_ratio(one, times):.2f}"]  # fmt: skip


if __name__ == "__main__":
    main()
