from __future__ import annotations

import os
from pathlib import Path

import pytest

from seraphim.paths import shared_data_dir


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real Kraken data in ../shared/data; skips when absent, fails in CI when absent."""
    path = shared_data_dir()
    if not (path / "kraken").is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"shared data missing in CI: {path}")
        pytest.skip(f"real data not found at {path} (set SERAPHIM_SHARED_DATA)")
    return path
