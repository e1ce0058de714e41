import os
import secrets
import uuid

import pytest
import redis
from adapters_kraken.helpers import KEY
from adapters_kraken.helpers import SECRET as KRAKEN_SECRET

from seraphim.journal.migrate import ensure_database
from seraphim.journal.migrate import migrate
from seraphim.journal.settings import JournalError
from seraphim.journal.settings import connect

from .harness import delete_trader_keys

SECRET = "operator-secret-for-tests-0123456789"


@pytest.fixture
def operator_env(monkeypatch):
    monkeypatch.setenv("SERAPHIM_OPERATOR_SECRET", SECRET)
    monkeypatch.delenv("SERAPHIM_OPERATOR_SECRET_FILE", raising=False)
    monkeypatch.setenv("SERAPHIM_REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("KRAKEN_API_KEY", KEY)
    monkeypatch.setenv("KRAKEN_API_SECRET", KRAKEN_SECRET)
    return SECRET


@pytest.fixture
def trader_id(operator_env):
    """A trader id of this test's own; its Redis keys are deleted afterwards."""
    trader = f"OPSTEST-{secrets.token_hex(3).upper()}"
    yield trader
    client = redis.Redis(host="127.0.0.1", port=6379, db=0)
    delete_trader_keys(client, trader)
    client.close()


TEST_DSN = os.environ.get(
    "SERAPHIM_TEST_PG_DSN", "host=127.0.0.1 port=5432 dbname=seraphim_test user=postgres"
)


@pytest.fixture
def journal_env(monkeypatch):
    """A fresh migrated journal schema in the environment (as a node reads it); dropped after."""
    try:
        ensure_database(TEST_DSN)
    except JournalError as e:
        pytest.skip(f"PostgreSQL unavailable: {e}")
    schema = f"ops_test_{uuid.uuid4().hex[:10]}"
    migrate(TEST_DSN, schema)
    monkeypatch.setenv("SERAPHIM_PG_DSN", TEST_DSN)
    monkeypatch.setenv("SERAPHIM_PG_SCHEMA", schema)
    yield TEST_DSN, schema
    conn = connect(TEST_DSN, "public", autocommit=True)
    try:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        conn.close()
