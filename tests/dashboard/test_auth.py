"""Sign-in, sessions, CSRF, roles, the login rate limit and the audit trail, through the real
app on the real journal (PostgreSQL) and Redis."""

from __future__ import annotations

import os
import stat

import pytest
import yaml
from click.testing import CliRunner
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from seraphim.cli import main
from seraphim.dashboard.app import create_app
from seraphim.dashboard.sessions import COOKIE_NAME
from seraphim.dashboard.sessions import CSRF_HEADER
from seraphim.journal.settings import connect

from .conftest import PASSWORDS
from .conftest import login

PUBLIC = {"/api/health", "/api/auth/login"}


def _audit(settings) -> list[tuple]:
    conn = connect(settings.journal_dsn, settings.journal_schema, autocommit=True)
    try:
        rows = conn.execute(
            "SELECT username, role, action, outcome, detail FROM dashboard_audit ORDER BY audit_id"
        ).fetchall()
    finally:
        conn.close()
    return rows


def test_every_route_but_login_and_health_refuses_the_unauthenticated(client):
    schema = client.get("/api/openapi.json").json()
    checked = 0
    for path, operations in schema["paths"].items():
        for method in operations:
            if path in PUBLIC:
                continue
            url = path.format(
                trader_id="X-1",
                strategy_id="S-1",
                action="pause",
                run_id="r",
                alert_id="a",
                client_order_id="O-1",
            )
            answer = client.request(method.upper(), url, json={})
            assert answer.status_code == 401, (method, path, answer.text)
            assert "not signed in" in answer.json()["detail"]
            checked += 1
    assert checked >= 20
    assert client.get("/api/health").json()["status"] == "ok"
    for page in ("/", "/alerts", "/nodes/X-1", "/backtests", "/catalog", "/audit"):
        assert client.get(page).status_code == 401
    assert client.get("/login").status_code == 200
    with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect("/api/ws"):
        pass
    assert closed.value.code == 4401


def test_sign_in_sets_a_strict_http_only_cookie_and_sign_out_ends_the_session(client, settings):
    wrong = client.post("/api/auth/login", json={"username": "ada", "password": "nope-nope"})
    assert (wrong.status_code, wrong.json()["detail"]) == (401, "wrong user name or password")
    answer = client.post("/api/auth/login", json={"username": "ada", "password": PASSWORDS["ada"]})
    assert answer.status_code == 200
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=28800" in cookie
    assert PASSWORDS["ada"] not in answer.text
    me = client.get("/api/auth/me").json()
    assert (me["user"], me["role"]) == ("ada", "admin")
    assert me["csrf_token"] == answer.json()["csrf_token"]
    session_cookie = client.cookies[COOKIE_NAME]

    # Sign-out needs the CSRF token, then the cookie opens nothing, even sent again by hand.
    assert client.post("/api/auth/logout").status_code == 403
    out = client.post("/api/auth/logout", headers={CSRF_HEADER: me["csrf_token"]})
    assert out.status_code == 204
    replay = TestClient(client.app, base_url="http://127.0.0.1")
    replay.cookies[COOKIE_NAME] = session_cookie
    assert replay.get("/api/auth/me").status_code == 401
    forged = session_cookie.rsplit(".", 1)[0] + ".0000"
    replay.cookies[COOKIE_NAME] = forged
    assert replay.get("/api/auth/me").status_code == 401

    audit = _audit(settings)
    assert [(u, a, o) for u, _, a, o, _ in audit] == [
        ("ada", "login", "refused"),
        ("ada", "login", "done"),
        ("ada", "logout", "done"),
    ]
    assert all(PASSWORDS["ada"] not in str(row) for row in audit)


def test_state_changing_requests_need_the_csrf_token_and_the_role(client, fake_trader):
    login(client, "vic")
    token = client.headers.pop(CSRF_HEADER)
    ticket = {"instrument_id": "BTC/USD.KRAKEN", "side": "BUY", "quantity": "0.01"}
    no_token = client.post(f"/api/nodes/{fake_trader}/orders", json=ticket)
    assert (no_token.status_code, no_token.json()["detail"]) == (
        403,
        f"missing or wrong CSRF token (send it in {CSRF_HEADER})",
    )
    viewer = client.post(
        f"/api/nodes/{fake_trader}/orders", json=ticket, headers={CSRF_HEADER: token}
    )
    assert viewer.status_code == 403
    assert viewer.json()["detail"] == "role viewer may not do this (needs trader)"
    assert client.get("/api/audit").status_code == 403

    client.cookies.clear()
    login(client, "tom")
    reset = client.post(f"/api/nodes/{fake_trader}/reset-guard", json={"confirm": fake_trader})
    assert reset.json()["detail"] == "role trader may not do this (needs admin)"
    # A trader passes the role check; this trader has no node, which is named.
    unknown = client.post(f"/api/nodes/{fake_trader}/orders", json=ticket)
    assert unknown.status_code == 404
    assert unknown.json()["detail"].startswith(f"unknown trader {fake_trader}")


def test_failed_sign_ins_are_rate_limited_per_address_and_name(client, settings):
    for _ in range(settings.login_attempts):
        bad = client.post("/api/auth/login", json={"username": "tom", "password": "guess-guess"})
        assert bad.status_code == 401
    limited = client.post("/api/auth/login", json={"username": "tom", "password": PASSWORDS["tom"]})
    assert limited.status_code == 429
    assert limited.json()["detail"].startswith("too many failed sign-ins: try again in")
    assert 0 < int(limited.headers["retry-after"]) <= settings.login_window_secs
    # From the same address another name is limited too (no spraying names).
    other = client.post("/api/auth/login", json={"username": "ada", "password": PASSWORDS["ada"]})
    assert other.status_code == 429


def test_bad_input_is_a_422_with_one_readable_line(client, fake_trader):
    login(client, "tom")
    answer = client.post(
        f"/api/nodes/{fake_trader}/orders",
        json={"instrument_id": "BTCUSD", "side": "HOLD", "quantity": "-1"},
    )
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert detail.startswith("instrument_id: String should match pattern")
    assert "side: Input should be 'BUY' or 'SELL'" in detail
    assert "quantity: String should match pattern" in detail
    limit = client.post(
        f"/api/nodes/{fake_trader}/orders",
        json={"instrument_id": "BTC/USD.KRAKEN", "side": "BUY", "quantity": "1", "type": "LIMIT"},
    )
    assert (limit.status_code, limit.json()["detail"]) == (
        422,
        "a LIMIT order needs a positive --price",
    )


def test_add_user_writes_an_owner_only_file_of_argon2_hashes(tmp_path):
    path = tmp_path / "users.yaml"
    run = CliRunner().invoke(
        main,
        ["dashboard", "add-user", "eve", "--role", "trader", "--users", str(path)],
        input="eve-password-1\neve-password-1\n",
    )
    assert run.exit_code == 0, run.output
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    entry = yaml.safe_load(path.read_text())["users"]["eve"]
    assert entry["role"] == "trader" and entry["password_hash"].startswith("$argon2id$")
    assert "eve-password-1" not in path.read_text()
    short = CliRunner().invoke(
        main,
        ["dashboard", "add-user", "eve", "--role", "admin", "--users", str(path)],
        input="short\nshort\n",
    )
    assert short.exit_code == 2 and "at least 10 characters" in short.output
    role = CliRunner().invoke(main, ["dashboard", "add-user", "x", "--role", "god"])
    assert role.exit_code == 2 and "'god' is not one of" in role.output


def test_serve_refuses_a_public_address_without_tls(users_path):
    refused = CliRunner().invoke(
        main, ["dashboard", "serve", "--host", "0.0.0.0", "--users", str(users_path)]
    )
    assert refused.exit_code == 2
    assert "refusing to listen on 0.0.0.0 without TLS" in refused.output
    half = CliRunner().invoke(main, ["dashboard", "serve", "--tls-cert", str(users_path)])
    assert "give both --tls-cert and --tls-key" in half.output


def test_a_missing_users_file_is_one_line(settings, tmp_path):
    from dataclasses import replace

    from seraphim.dashboard.users import UsersError

    with pytest.raises(UsersError, match=r"no dashboard users file at .*add-user"):
        create_app(replace(settings, users_file=tmp_path / "none.yaml"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("users:\n  mallory: {role: root, password_hash: x}\n")
    with pytest.raises(UsersError, match="user 'mallory' has role 'root' \\(one of viewer, trader"):
        create_app(replace(settings, users_file=bad))


def test_unreachable_journal_or_redis_refuse_with_503_and_take_no_action(settings):
    from dataclasses import replace

    no_journal = replace(settings, journal_dsn="host=127.0.0.1 port=1 dbname=x user=postgres")
    with TestClient(create_app(no_journal), base_url="http://127.0.0.1") as client:
        answer = client.post("/api/auth/login", json={"username": "ada", "password": "x" * 12})
        assert answer.status_code == 503
        assert answer.json()["detail"].startswith("journal unavailable, action not taken:")
        assert "cannot reach PostgreSQL at 127.0.0.1:1/x" in answer.json()["detail"]
        assert COOKIE_NAME not in client.cookies
    no_redis = replace(settings, redis_url="redis://127.0.0.1:1/0")
    with TestClient(create_app(no_redis), base_url="http://127.0.0.1") as client:
        login(client, "vic")
        answer = client.get("/api/nodes")
        assert answer.status_code == 503
        assert answer.json()["detail"].startswith("Redis at redis://127.0.0.1:1/0 unavailable")
