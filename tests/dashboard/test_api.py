"""The API over real records: journal fills paged, runs compared, alerts acknowledged (and
audited), the catalog's inventory, nodes and their health from Redis, live health over the
WebSocket."""

from __future__ import annotations

import time
import uuid
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from decimal import Decimal

import msgspec

from seraphim.dashboard.nodes import EQUITY_POINTS
from seraphim.dashboard.sessions import COOKIE_NAME
from seraphim.journal.settings import connect
from seraphim.journal.store import write_rows
from seraphim.ops import keys
from seraphim.ops.health import HealthPublisher
from seraphim.state.settings import redis_settings

from .conftest import REDIS_URL
from .conftest import login

T0 = datetime(2026, 1, 5, 12, tzinfo=UTC)


def fill_row(i: int, trader: str, strategy: str = "MACross-000") -> tuple[str, dict]:
    return (
        "fills",
        {
            "scope": f"live:{trader}", "instrument_id": "BTC/USD.KRAKEN", "trade_id": f"T{i:06d}",
            "client_order_id": f"O-{i}", "run_id": None, "trader_id": trader,
            "strategy_id": strategy, "account_id": "KRAKEN-001", "venue_order_id": f"V{i}",
            "position_id": None, "side": "BUY" if i % 2 else "SELL", "order_type": "MARKET",
            "quantity": Decimal("0.01"), "price": Decimal(60000 + i), "currency": "USD",
            "commission": Decimal("0.1"), "commission_currency": "USD",
            "liquidity_side": "TAKER", "event_id": uuid.uuid4(), "reconciliation": False,
            # Pairs share a time so paging must break ties by trade id.
            "ts_event": T0 + timedelta(seconds=i // 2),
        },
    )  # fmt: skip


def run_row(name: str, metrics: dict, output: str | None = None) -> tuple[str, dict]:
    return (
        "runs",
        {
            "run_id": uuid.uuid4(), "kind": "backtest", "trader_id": "BACKTESTER-001",
            "name": name, "config": {"output": output} if output else {}, "metrics": metrics,
            "started_at": T0, "finished_at": T0, "period_start": None, "period_end": None,
            "host": "test", "seraphim_version": None,
        },
    )  # fmt: skip


def _write(settings, rows) -> None:
    conn = connect(settings.journal_dsn, settings.journal_schema, autocommit=True)
    try:
        write_rows(conn, rows)
    finally:
        conn.close()


def test_fills_page_newest_first_without_gaps_or_repeats(client, settings):
    _write(settings, [fill_row(i, "PAGER-001") for i in range(45)])
    _write(settings, [fill_row(i, "OTHER-001") for i in range(3)])
    login(client, "vic")
    seen, query = [], {"trader": "PAGER-001", "limit": 10}
    while True:
        page = client.get("/api/fills", params=query).json()
        if not page:
            break
        seen.extend(f["trade_id"] for f in page)
        last = page[-1]
        query = {**query, "before_ts": last["ts_event"], "before_trade_id": last["trade_id"]}
    assert seen == [f"T{i:06d}" for i in reversed(range(45))]
    half = client.get("/api/fills", params={"before_ts": T0.isoformat()})
    assert half.status_code == 422 and "both before_ts and before_trade_id" in half.text
    totals = {r["trader_id"]: r["total_trades"] for r in client.get("/api/pnl/today").json()}
    assert totals == {"PAGER-001": 45, "OTHER-001": 3}


def test_two_runs_compare_and_a_run_opens_its_report(client, settings, tmp_path):
    (tmp_path / "report.html").write_text("<html>the report</html>")
    a = run_row("fast", {"total_return": 0.12, "sharpe": 1.5, "trades": 10}, str(tmp_path))
    b = run_row("slow", {"total_return": -0.02, "sharpe": -0.1, "max_drawdown": 0.2})
    _write(settings, [a, b])
    login(client, "vic")
    runs = client.get("/api/backtests").json()
    assert [r["name"] for r in runs] == ["slow", "fast"] or {r["name"] for r in runs} == {
        "fast",
        "slow",
    }
    ida, idb = str(a[1]["run_id"]), str(b[1]["run_id"])
    compared = client.get("/api/backtests/compare", params={"a": ida, "b": idb}).json()
    assert compared["metrics"] == [
        {"metric": "total_return", "a": 0.12, "b": -0.02},
        {"metric": "sharpe", "a": 1.5, "b": -0.1},
        {"metric": "max_drawdown", "a": None, "b": 0.2},
        {"metric": "trades", "a": 10, "b": None},
    ]
    assert client.get(f"/api/backtests/{ida}/report").text == "<html>the report</html>"
    missing = client.get(f"/api/backtests/{idb}/report")
    assert missing.status_code == 404 and "has no report on this machine" in missing.text
    bad = client.get("/api/backtests/compare", params={"a": "x", "b": idb})
    assert (bad.status_code, bad.json()["detail"]) == (422, "run a 'x' is not a uuid")
    unknown = client.get(f"/api/backtests/{uuid.uuid4()}")
    assert unknown.status_code == 404


def test_alerts_are_acknowledged_once_by_a_trader_and_audited(client, settings):
    alert_id = uuid.uuid4()
    _write(
        settings,
        [
            (
                "alerts",
                {
                    "alert_id": alert_id,
                    "trader_id": "ALERTED-001",
                    "rule": "drawdown",
                    "subject": "equity",
                    "severity": "critical",
                    "kind": "raised",
                    "message": "drawdown 6 %",
                    "raised_at": T0,
                    "delivered": True,
                    "attempts": 1,
                    "error": None,
                },
            )
        ],
    )
    login(client, "vic")
    assert [a["rule"] for a in client.get("/api/alerts", params={"open": True}).json()] == [
        "drawdown"
    ]
    assert client.post(f"/api/alerts/{alert_id}/ack").status_code == 403
    client.cookies.clear()
    login(client, "tom")
    acked = client.post(f"/api/alerts/{alert_id}/ack").json()
    assert acked["acked_by"] == "tom"
    assert client.get("/api/alerts", params={"open": True}).json() == []
    assert client.post(f"/api/alerts/{uuid.uuid4()}/ack").status_code == 404
    client.cookies.clear()
    login(client, "ada")
    audit = client.get("/api/audit").json()
    assert [(r["username"], r["action"], r["outcome"]) for r in audit[1:6]] == [
        ("tom", "ack-alert", "refused"),
        ("tom", "ack-alert", "done"),
        ("tom", "login", "done"),
        ("vic", f"/api/alerts/{alert_id}/ack", "refused"),
        ("vic", "login", "done"),
    ]


def test_catalog_inventory_names_series_and_gaps(client):
    login(client, "vic")
    inventory = client.get("/api/catalog").json()
    series = {s["identifier"]: s for s in inventory["series"]}
    btc = series["BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL"]
    assert btc["synthetic"] is True and btc["rows"] > 8000
    assert isinstance(btc["gaps"], int)


def test_a_node_is_listed_with_its_health_and_goes_stale(client, redis_client, fake_trader):
    snapshot = {
        "trader_id": fake_trader, "status": "running", "ts": time.time_ns(),
        "heartbeat_secs": 1.0, "equity": 10_000.0, "daily_pnl": 12.5, "drawdown_pct": 0.1,
        "strategies": {"MACross-000": {"rejects_per_minute": 0.0}}, "venues": {},
        "instruments": {}, "trading_state": "ACTIVE", "guard": "ACTIVE",
    }  # fmt: skip
    redis_client.set(keys.health_key(fake_trader), msgspec.json.encode(snapshot))
    login(client, "vic")
    nodes = {n["trader_id"]: n for n in client.get("/api/nodes").json()}
    assert nodes[fake_trader]["health"]["status"] == "running"
    assert nodes[fake_trader]["health"]["daily_pnl"] == 12.5
    node = client.get(f"/api/nodes/{fake_trader}").json()
    assert node["strategies"] == [
        {
            "strategy_id": "MACross-000",
            "running": True,
            "paused": False,
            "params": {},
            "rejects_per_minute": 0.0,
        }
    ]
    stale = {**snapshot, "ts": time.time_ns() - 10 * 10**9}
    redis_client.set(keys.health_key(fake_trader), msgspec.json.encode(stale))
    assert client.get(f"/api/nodes/{fake_trader}").json()["health"]["status"] == "stale"
    assert client.get("/api/nodes/NOBODY-000").status_code == 404
    assert client.get("/api/nodes/bad id").status_code == 422


def test_health_snapshots_reach_websocket_viewers(client, redis_client, fake_trader):
    login(client, "vic")
    # The test client's websocket does not send the cookie jar by itself.
    cookie = f"{COOKIE_NAME}={client.cookies[COOKIE_NAME]}"
    with client.websocket_connect("/api/ws", headers={"cookie": cookie}) as ws:
        assert ws.receive_json() == {"type": "hello", "user": "vic"}
        snapshot = {"trader_id": fake_trader, "ts": time.time_ns(), "equity": 5.0}
        redis_client.set(keys.health_key(fake_trader), msgspec.json.encode(snapshot))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            message = ws.receive_json()
            if message.get("trader_id") == fake_trader:
                break
        assert message["type"] == "health" and message["health"]["equity"] == 5.0


def test_the_equity_curve_shows_the_day_so_far_from_the_nodes_history(
    client, redis_client, fake_trader
):
    """Points published before the page (or the dashboard) opened: from the node's capped
    history in Redis, thinned for the chart with each stretch's low and high kept."""
    errors: list[str] = []
    publisher = HealthPublisher(
        redis_settings(REDIS_URL),
        keys.health_key(fake_trader),
        errors.append,
        history_key=keys.equity_key(fake_trader),
        history_len=5_000,
    )
    publisher.start()
    t0 = time.time_ns() - 6_000 * 10**9
    equities = [10_000.0 + (i % 100) - (2_000.0 if i == 4_321 else 0.0) for i in range(6_000)]
    for i, equity in enumerate(equities):
        publisher.publish({"trader_id": fake_trader, "ts": t0 + i * 10**9, "equity": equity})
    publisher.publish({"trader_id": fake_trader, "ts": t0 + 6_000 * 10**9, "equity": None})
    publisher.stop()
    assert errors == []
    assert redis_client.llen(keys.equity_key(fake_trader)) == 5_000  # capped: the oldest gone
    login(client, "vic")
    points = client.get(f"/api/nodes/{fake_trader}/equity").json()
    assert len(points) <= EQUITY_POINTS
    assert points[0] == {"ts": t0 + 1_000 * 10**9, "equity": equities[1_000]}
    assert points[-1] == {"ts": t0 + 5_999 * 10**9, "equity": equities[5_999]}
    assert min(p["equity"] for p in points) == 8_021.0  # the dip survives the thinning
    assert [p["ts"] for p in points] == sorted(p["ts"] for p in points)
