"""
Where trials run: in this process, in a local process pool (each worker loads the spec's bars
once), or on a Ray cluster (one actor per CPU, each loading the bars once). Every executor
yields results as they finish; trial results depend only on the spec and the parameters
(each trial's engine is built, or reset, and seeded afresh), so all three give the same numbers.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from seraphim.backtest.config import BacktestSpec
from seraphim.research.params import Params
from seraphim.research.trial import TrialResult
from seraphim.research.trial import TrialRunner


@dataclass(frozen=True)
class Task:
    number: int
    params: Params
    start: str | None = None
    end: str | None = None
    keep_detail: bool = False


class Executor(Protocol):
    workers: int

    def map(self, tasks: Iterable[Task]) -> Iterator[TrialResult]: ...

    def close(self) -> None: ...


def _run(runner: TrialRunner, task: Task) -> TrialResult:
    return runner.run(task.number, task.params, task.start, task.end, task.keep_detail)


class InProcess:
    """Trials one after another in this process (``--workers 1``)."""

    workers = 1

    def __init__(self, spec: BacktestSpec) -> None:
        self._runner = TrialRunner(spec)

    def map(self, tasks: Iterable[Task]) -> Iterator[TrialResult]:
        for task in tasks:
            yield _run(self._runner, task)

    def close(self) -> None:
        self._runner.close()

    terminate = close


_WORKER_RUNNER: TrialRunner | None = None


def _init_worker(spec: BacktestSpec) -> None:
    global _WORKER_RUNNER  # noqa: PLW0603 (one runner per worker process, by design)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _WORKER_RUNNER = TrialRunner(spec)


def _run_in_worker(task: Task) -> TrialResult:
    return _run(_WORKER_RUNNER, task)


class LocalPool:
    """A pool of ``workers`` processes (spawned: nautilus's Rust runtime does not survive fork)."""

    def __init__(self, spec: BacktestSpec, workers: int) -> None:
        self.workers = workers
        context = multiprocessing.get_context("spawn")
        self._pool = context.Pool(workers, initializer=_init_worker, initargs=(spec,))

    def map(self, tasks: Iterable[Task]) -> Iterator[TrialResult]:
        yield from self._pool.imap_unordered(_run_in_worker, tasks, chunksize=1)

    def close(self) -> None:
        self._pool.close()
        self._pool.join()

    def terminate(self) -> None:
        """Stop now (Ctrl-C): running trials are dropped, finished ones were already yielded."""
        self._pool.terminate()
        self._pool.join()


class RayCluster:
    """One Ray actor per worker, each with its own ``TrialRunner``; Ray schedules them."""

    def __init__(self, spec: BacktestSpec, address: str, workers: int | None = None) -> None:
        import ray
        from ray.util import ActorPool

        ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
        self._ray = ray
        self.workers = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        actor = ray.remote(num_cpus=1)(_RayRunner)
        self._actors = [actor.remote(spec) for _ in range(self.workers)]
        self._pool = ActorPool(self._actors)

    def map(self, tasks: Iterable[Task]) -> Iterator[TrialResult]:
        yield from self._pool.map_unordered(lambda a, task: a.run.remote(task), list(tasks))

    def close(self) -> None:
        """Free the actors and disconnect (the cluster stays up); a second call does nothing."""
        if not self._ray.is_initialized():
            return
        for actor in self._actors:
            self._ray.kill(actor)
        self._ray.shutdown()

    terminate = close


class _RayRunner:
    def __init__(self, spec: BacktestSpec) -> None:
        self._runner = TrialRunner(spec)

    def run(self, task: Task) -> TrialResult:
        return _run(self._runner, task)


def make_executor(
    spec: BacktestSpec, workers: int | None = None, ray: str | None = None
) -> Executor:
    """Ray when an address is given, else a local pool (``workers`` defaults to the CPU count)."""
    if ray:
        return RayCluster(spec, ray, workers)
    workers = workers or os.cpu_count() or 1
    return InProcess(spec) if workers == 1 else LocalPool(spec, workers)
