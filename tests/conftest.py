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


_DEFAULT_HANDLERS = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}


def _default_signal_handlers() -> None:
    changed = [sig for sig, h in _DEFAULT_HANDLERS.items() if signal.getsignal(sig) is not h]
    for sig in changed:
        signal.signal(sig, _DEFAULT_HANDLERS[sig])
    if changed:
        signal.set_wakeup_fd(-1)  # the node's closed loop no longer reads it


@pytest.fixture(autouse=True)
def _restore_signal_handlers():
    """
    A TradingNode (or Ray) in the test process installs SIGINT/SIGTERM handlers and nautilus
    never removes them: later tests would find Ctrl-C swallowed. Every test starts and ends with
    Python's own handlers (also after a module-scoped fixture that built a node).
    """
    _default_signal_handlers()
    yield
    _default_signal_handlers()
