"""Fixtures for the dashboard: users, a migrated journal schema of the test's own, the app."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import uvicorn
from fastapi.testclient import TestClient
from ops.conftest import journal_env  # noqa: F401  (a fixture: a fresh migrated journal schema)
from ops.conftest import operator_env  # noqa: F401
from ops.conftest import trader_id  # noqa: F401

from seraphim.dashboard.app import create_app
from seraphim.dashboard.services import DashboardSettings
from seraphim.dashboard.sessions import CSRF_HEADER
from seraphim.dashboard.users import UserStore
from seraphim.ops import keys

PASSWORDS = {"ada": "admin-password-1", "tom": "trader-password-1", "vic": "viewer-password-1"}
ROLES = {"ada": "admin", "tom": "trader", "vic": "viewer"}
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="session")
def users_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("dashboard") / "users.yaml"
    store = UserStore.load(path, missing_ok=True)
    for name, password in PASSWORDS.items():
        store.set_user(name, ROLES[name], password)
    return path


@pytest.fixture
def settings(users_path, journal_env, tmp_path) -> DashboardSettings:  # noqa: F811
    dsn, schema = journal_env
    return DashboardSettings(
        users_file=users_path,
        redis_url=REDIS_URL,
        journal_dsn=dsn,
        journal_schema=schema,
        catalog=Path(__file__).resolve().parents[2] / "catalog",
    )


@pytest.fixture
def client(settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as test_client:
        yield test_client


def login(client, name: str) -> str:
    """Sign ``name`` in on ``client``; returns the CSRF token (also set as the default header)."""
    answer = client.post("/api/auth/login", json={"username": name, "password": PASSWORDS[name]})
    assert answer.status_code == 200, answer.text
    token = answer.json()["csrf_token"]
    client.headers[CSRF_HEADER] = token
    return token


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def fake_trader(redis_client) -> Iterator[str]:
    """A trader id of the test's own whose ops keys are removed afterwards."""
    trader = f"DASHTEST-{secrets.token_hex(3).upper()}"
    yield trader
    for key in redis_client.scan_iter(match=f"{keys.trader_prefix(trader)}:*"):
        redis_client.delete(key)


class Served:
    """The app served by uvicorn on a free loopback port, on a thread."""

    def __init__(self, settings: DashboardSettings) -> None:
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=0, log_level="warning", ws="websockets"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="dashboard", daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = threading.Event()
        for _ in range(200):
            if self.server.started:
                break
            deadline.wait(0.05)
        assert self.server.started, "the dashboard did not start within 10 s"
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)
