"""A sweep on a Ray cluster (head + one worker on 127.0.0.1) equals the same sweep locally."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seraphim.research.executors import LocalPool
from seraphim.research.executors import RayCluster
from seraphim.research.params import candidates
from seraphim.research.params import parse_axis
from seraphim.research.sweep import run_sweep
from tests.research.conftest import SYNTHETIC_CATALOG
from tests.research.conftest import make_spec

RAY = str(Path(sys.executable).parent / "ray")
STARTED = "Ray runtime started"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args: list[str], log: Path) -> subprocess.Popen:
    """``ray start --block`` in its own session: stopping it stops what it started."""
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    with log.open("w") as out:
        process = subprocess.Popen(
            [RAY, "start", "--block", "--node-ip-address=127.0.0.1", "--num-cpus=1",
             "--object-store-memory=100000000", *args],
            stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + 120
    while STARTED not in log.read_text():
        assert process.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, f"ray did not start in 120 s: {log.read_text()[-3000:]}"
        time.sleep(0.5)
    return process


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


@pytest.fixture
def ray_cluster(tmp_path):
    port = _free_port()
    head = _start(["--head", f"--port={port}", "--include-dashboard=false"], tmp_path / "head.log")
    worker = None
    try:
        worker = _start([f"--address=127.0.0.1:{port}"], tmp_path / "worker.log")
        yield f"127.0.0.1:{port}"
    finally:
        if worker is not None:
            _stop(worker)
        _stop(head)


@pytest.mark.slow
def test_ray_sweep_equals_the_local_pool(ray_cluster, tmp_path):
    spec = make_spec(SYNTHETIC_CATALOG, tmp_path, "2024-03-01", "2024-03-20")
    space = candidates([parse_axis("fast=3:9:2"), parse_axis("slow=15,25")])
    cluster = RayCluster(spec, ray_cluster)
    assert cluster.workers == 2  # one CPU on the head, one on the worker
    on_ray = run_sweep(space, cluster)
    local = run_sweep(space, LocalPool(spec, 2))
    assert len(on_ray.results) == len(local.results) == 8
    for remote, here in zip(on_ray.results, local.results, strict=True):
        assert (remote.number, remote.params, remote.status) == (here.number, here.params, "ok")
        assert remote.metrics == here.metrics
    assert len({r.metrics["sharpe"] for r in local.results}) > 1
