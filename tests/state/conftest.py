"""Real Redis for state tests: a unique trader id per test, its keys deleted afterwards."""

from __future__ import annotations

import os
import uuid

import pytest

from seraphim.state.reader import StateError
from seraphim.state.reader import connect
from seraphim.state.settings import redis_settings

TEST_REDIS_URL = os.environ.get("SERAPHIM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The test Redis URL; skips when Redis is unreachable, fails in CI."""
    try:
        connect(redis_settings(TEST_REDIS_URL)).close()
    except StateError as e:
        if os.environ.get("CI"):
            pytest.fail(f"Redis needed in CI: {e}")
        pytest.skip(f"Redis unavailable: {e}")
    return TEST_REDIS_URL


def unique_trader(prefix: str = "TEST") -> str:
    return f"{prefix}{uuid.uuid4().hex[:8].upper()}-001"


def delete_trader_keys(url: str, trader_id: str) -> None:
    """Delete exactly this trader's keys (never FLUSHALL: the server is shared)."""
    client = redis_settings(url).client()
    try:
        keys = list(client.scan_iter(match=f"trader-{trader_id}:*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
    finally:
        client.close()


@pytest.fixture
def trader_id(redis_url):
    """A fresh trader id whose Redis keys are removed after the test."""
    trader = unique_trader()
    yield trader
    delete_trader_keys(redis_url, trader)
