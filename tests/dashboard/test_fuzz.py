"""schemathesis fuzzes every operation of the OpenAPI schema against the real app (journal in
PostgreSQL, Redis): signed in as an admin, no answer is a server error and every refusal says
why in one line; signed out, everything but sign-in and health is refused."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings as hypothesis_settings

from seraphim.dashboard.app import create_app
from seraphim.dashboard.sessions import COOKIE_NAME
from seraphim.dashboard.sessions import CSRF_HEADER

from .conftest import login

PUBLIC = {"/api/health", "/api/auth/login"}
FUZZ = hypothesis_settings(
    max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None
)


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as test_client:
        yield test_client


def operations(app) -> list:
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) >= 20
    return found


def fuzz(operation, check) -> None:
    """Run ``check(case)`` on generated cases of one operation (pytest's plugin is not used:
    schemathesis's fixture loader does not work with this pytest)."""
    FUZZ(given(case=operation.as_strategy())(check))()


def test_no_input_makes_a_server_error_and_refusals_say_why(client):
    token = login(client, "ada")
    auth = {"headers": {CSRF_HEADER: token}, "cookies": {COOKIE_NAME: client.cookies[COOKIE_NAME]}}

    statuses: list[int] = []

    def check(case) -> None:
        response = case.call(**auth)
        statuses.append(response.status_code)
        assert response.status_code < 500, (case.method, case.formatted_path, response.text)
        if response.status_code >= 400:
            detail = response.json()["detail"]
            assert isinstance(detail, str) and detail and "\n" not in detail, detail

    for operation in operations(client.app):
        # Signing out mid-run would end the session the other cases use (see test_auth).
        if operation.path != "/api/auth/logout":
            fuzz(operation, check)
    # Generated input reached the handlers (not only the validation layer) and was refused too.
    assert len(statuses) > 200 and {200, 404, 422} <= set(statuses), sorted(set(statuses))


def test_signed_out_requests_are_refused(client):
    def check(case) -> None:
        response = case.call()
        assert response.status_code == 401, (case.method, case.formatted_path, response.text)

    for operation in operations(client.app):
        if operation.path not in PUBLIC:
            fuzz(operation, check)
