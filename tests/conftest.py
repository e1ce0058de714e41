from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from hypothesis import settings

from seraphim.paths import shared_data_dir

# CI replays the same examples every run (a failure found by exploring at a desk is kept by
# hypothesis's database and reproduced; CI must not be a lottery).
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# End-to-end tests run whole nodes against local venues over real sockets, with wall-clock
# timing on a shared 2-core machine. A failure that is only timing gets up to two more tries;
# the reruns are reported in pytest's summary, so flakiness stays visible.
SLOW_TEST_RERUNS = 2


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        if item.get_closest_marker("slow") and not item.get_closest_marker("flaky"):
            item.add_marker(pytest.mark.flaky(reruns=SLOW_TEST_RERUNS, reruns_delay=2))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real Kraken data in ../shared/data; skips when absent, fails in CI when absent."""
    path = shared_data_dir()
    if not (path / "kraken").is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"shared data missing in CI: {path}")
        pytest.skip(f"real data not found at {path} (set SERAPHIM_SHARED_DATA)")
    return path


@pytest.fixture(autouse=True)
def _restore_signal_handlers():
    """
    A TradingNode built in the test process installs SIGINT/SIGTERM handlers on its event loop
    and nautilus never removes them: later tests would find Ctrl-C swallowed. Put back what was
    there before each test.
    """
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    changed = [sig for sig, handler in saved.items() if signal.getsignal(sig) is not handler]
    for sig in changed:
        signal.signal(sig, saved[sig])
    if changed:
        signal.set_wakeup_fd(-1)  # the node's closed loop no longer reads it
