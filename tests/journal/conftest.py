"""Real PostgreSQL for journal tests: a dedicated database, a fresh schema per test module."""

from __future__ import annotations

import os
import uuid

import pytest

from seraphim.journal.migrate import ensure_database
from seraphim.journal.migrate import migrate
from seraphim.journal.settings import JournalError
from seraphim.journal.settings import connect

# The tests' own database (created if missing); the server from $SERAPHIM_TEST_PG_DSN.
TEST_DSN = os.environ.get(
    "SERAPHIM_TEST_PG_DSN", "host=127.0.0.1 port=5432 dbname=seraphim_test user=postgres"
)


@pytest.fixture(scope="session")
def pg_dsn() -> str:
    """The test database's DSN; skips when PostgreSQL is unreachable, fails in CI."""
    try:
        ensure_database(TEST_DSN)
        connect(TEST_DSN, "public").close()
    except JournalError as e:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL needed in CI: {e}")
        pytest.skip(f"PostgreSQL unavailable: {e}")
    return TEST_DSN


def new_schema() -> str:
    return f"journal_test_{uuid.uuid4().hex[:10]}"


def drop_schema(dsn: str, schema: str) -> None:
    conn = connect(dsn, "public", autocommit=True)
    try:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        conn.close()


@pytest.fixture(scope="module")
def journal_db(pg_dsn, request):
    """``(dsn, schema)`` of a migrated journal schema, dropped after the module."""
    schema = new_schema()
    migrate(pg_dsn, schema)
    yield pg_dsn, schema
    drop_schema(pg_dsn, schema)


@pytest.fixture
def journal_env(journal_db, monkeypatch):
    """The journal's DSN and schema in the environment, as a node or the CLI reads them."""
    dsn, schema = journal_db
    monkeypatch.setenv("SERAPHIM_PG_DSN", dsn)
    monkeypatch.setenv("SERAPHIM_PG_SCHEMA", schema)
    return dsn, schema


def query(dsn: str, schema: str, sql: str, params=()) -> list[tuple]:
    conn = connect(dsn, schema, autocommit=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """Real Redis (for the restart tests); skips when unreachable, fails in CI."""
    from seraphim.state.reader import StateError
    from seraphim.state.reader import connect as redis_connect
    from seraphim.state.settings import redis_settings

    url = os.environ.get("SERAPHIM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis_connect(redis_settings(url)).close()
    except StateError as e:
        if os.environ.get("CI"):
            pytest.fail(f"Redis needed in CI: {e}")
        pytest.skip(f"Redis unavailable: {e}")
    return url


@pytest.fixture
def redis_trader(redis_url):
    """A fresh trader id whose Redis keys are deleted afterwards (never FLUSHALL)."""
    from seraphim.state.settings import redis_settings

    trader = f"JRNL{uuid.uuid4().hex[:8].upper()}-001"
    yield trader
    client = redis_settings(redis_url).client()
    try:
        keys = list(client.scan_iter(match=f"trader-{trader}:*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
    finally:
        client.close()
