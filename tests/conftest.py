from __future__ import annotations

import os
from pathlib import Path

import pytest

from seraphim.paths import shared_data_dir

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
