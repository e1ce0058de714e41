"""
`seraphim state` over the real Redis state a nautilus kernel writes (a BacktestEngine with the
Redis cache and message bus from `redis_cache_configs`), in both of nautilus's encodings
(msgpack, and json, the message bus's default since 1.230): it shows exactly what nautilus holds.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

# The synthetic-bar engine shared with the journal tests (tests/ is on sys.path under pytest).
from journal.engine import BAR_TYPE
from journal.engine import INSTRUMENT
from journal.engine import ema_cross
from journal.engine import make_engine
from journal.engine import synthetic_bars

from seraphim.state.cli import state
from seraphim.state.reader import TraderNotFound
from seraphim.state.reader import TraderState
from seraphim.state.reader import connect
from seraphim.state.reader import list_traders
from seraphim.state.settings import redis_cache_configs
from seraphim.state.settings import redis_settings

from .conftest import delete_trader_keys
from .conftest import unique_trader
from .strategies import LeaveOpen
from .strategies import LeaveOpenConfig


@pytest.fixture(scope="module", params=["msgpack", "json"])
def kernel_state(redis_url, request):
    """Run a kernel writing to Redis; returns (trader id, what its cache held)."""
    trader = unique_trader("STATE")
    cache, bus = redis_cache_configs(trader, redis_settings(redis_url), encoding=request.param)
    leave_open = LeaveOpen(LeaveOpenConfig(instrument_id=INSTRUMENT.id, bar_type=BAR_TYPE))
    engine = make_engine(
        trader, cache=cache, message_bus=bus, strategies=[ema_cross("000"), leave_open]
    )
    engine.add_data(synthetic_bars(800))
    engine.run()
    engine.cache.update_strategy(leave_open)  # what a live node does on stop (save_state)
    truth = {
        "orders": {
            o.client_order_id.value: (
                o.status_string(),
                str(o.filled_qty),
                o.venue_order_id.value if o.venue_order_id else None,
                o.strategy_id.value,
            )
            for o in engine.cache.orders()
        },
        "open_orders": {o.client_order_id.value for o in engine.cache.orders_open()},
        "positions": {
            p.id.value: (p.side.name, str(p.quantity), p.is_open, str(p.realized_pnl))
            for p in engine.cache.positions()
        },
        "balances": {
            b.currency.code: (str(b.total.as_decimal()), str(b.free.as_decimal()))
            for b in engine.cache.accounts()[0].balances().values()
        },
        "fills": [
            e.trade_id.value
            for o in engine.cache.orders()
            for e in o.events
            if type(e).__name__ == "OrderFilled"
        ],
    }
    engine.dispose()
    yield trader, truth
    delete_trader_keys(redis_url, trader)


@pytest.fixture(scope="module")
def reader(redis_url, kernel_state):
    client = connect(redis_settings(redis_url))
    yield TraderState.open(client, kernel_state[0])
    client.close()


def test_traders_lists_the_trader(redis_url, kernel_state):
    client = connect(redis_settings(redis_url))
    assert kernel_state[0] in list_traders(client)
    with pytest.raises(TraderNotFound, match="no trader 'NOPE-001' in Redis"):
        TraderState.open(client, "NOPE-001")
    client.close()


def test_orders_are_exactly_the_kernels(reader, kernel_state):
    _, truth = kernel_state
    orders = reader.orders()
    assert not reader.problems
    got = {
        o.client_order_id.value: (
            o.status_string(),
            str(o.filled_qty),
            o.venue_order_id.value if o.venue_order_id else None,
            o.strategy_id.value,
        )
        for o in orders
    }
    assert got == truth["orders"] and len(got) > 50
    assert {o.client_order_id.value for o in reader.orders("open")} == truth["open_orders"]
    assert len(truth["open_orders"]) == 1
    closed = reader.orders("closed")
    assert len(closed) == len(got) - 1 and any(o.status_string() == "CANCELED" for o in closed)
    by_strategy = reader.orders(strategy="LeaveOpen-*")
    assert len(by_strategy) == 3
    assert all(o.strategy_id.value.startswith("LeaveOpen-") for o in by_strategy)
    assert len(reader.orders(instrument="ETH*")) == 0
    assert [o.ts_last for o in orders] == sorted((o.ts_last for o in orders), reverse=True)


def test_positions_and_accounts_are_exactly_the_kernels(reader, kernel_state):
    _, truth = kernel_state
    got = {
        p.id.value: (p.side.name, str(p.quantity), p.is_open, str(p.realized_pnl))
        for p in reader.positions()
    }
    assert got.keys() == truth["positions"].keys()
    assert got == truth["positions"]
    # Open/closed come from nautilus's index sets (ids only since 1.225; 1.221 added event blobs
    # on every position update).
    assert {p.id.value for p in reader.positions("open")} == {
        k for k, v in truth["positions"].items() if v[2]
    }
    assert {p.id.value for p in reader.positions("closed")} == {
        k for k, v in truth["positions"].items() if not v[2]
    }
    assert reader.counts()["positions_open"] == sum(v[2] for v in truth["positions"].values())
    assert not reader.problems
    (account,) = reader.accounts()
    balances = {
        b.currency.code: (str(b.total.as_decimal()), str(b.free.as_decimal()))
        for b in account.balances
    }
    assert balances == truth["balances"]


def test_saved_strategy_state(reader):
    states = reader.saved_states()
    (component,) = [c for c in states if c.startswith("LeaveOpen")]
    kind, saved = states[component]
    assert kind == "strategy" and saved["bars_seen"] == b"800"


def _invoke(redis_url, *args):
    return CliRunner().invoke(state, [*args, "--redis-url", redis_url])


def test_cli_json_matches_the_kernel(redis_url, kernel_state):
    trader, truth = kernel_state
    result = _invoke(redis_url, "orders", "--trader", trader, "--limit", "0", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert {r["client_order_id"]: r["status"] for r in rows} == {
        k: v[0] for k, v in truth["orders"].items()
    }
    result = _invoke(redis_url, "orders", "-t", trader, "--open", "--json")
    (row,) = json.loads(result.output)
    assert row["status"] == "ACCEPTED" and row["type"] == "LIMIT" and row["price"]

    result = _invoke(redis_url, "positions", "-t", trader, "--status", "open", "--json")
    rows = json.loads(result.output)
    assert {r["position_id"] for r in rows} == {k for k, v in truth["positions"].items() if v[2]}

    result = _invoke(redis_url, "accounts", "-t", trader, "--json")
    rows = json.loads(result.output)
    assert {r["currency"]: (r["total"], r["free"]) for r in rows} == truth["balances"]

    result = _invoke(redis_url, "strategies", "-t", trader, "--json")
    rows = json.loads(result.output)
    saved = {r["component_id"]: r["state"] for r in rows}
    assert {"bars_seen": 800, "mode": {"phase": "test"}} in saved.values()

    result = _invoke(redis_url, "traders", "--json")
    (mine,) = [r for r in json.loads(result.output) if r["trader_id"] == trader]
    assert mine["orders"] == len(truth["orders"]) and mine["orders_open"] == 1


def test_cli_tables_for_people(redis_url, kernel_state):
    trader, truth = kernel_state
    for command in ("orders", "positions", "accounts", "strategies"):
        result = _invoke(redis_url, command, "-t", trader)
        assert result.exit_code == 0, result.output
        assert trader in result.output
    result = _invoke(redis_url, "orders", "-t", trader, "--limit", "3")
    assert f"3 of {len(truth['orders'])}" in result.output
    result = _invoke(redis_url, "health", "-t", trader, "--json")
    (health,) = json.loads(result.output)
    # The message bus beat while the kernel ran (nautilus's Redis bus beats in wall time).
    assert health["last_heartbeat"] and health["orders"] == len(truth["orders"])
    assert result.exit_code == (0 if health["status"] == "alive" else 1)


def test_tail_replays_the_message_bus_streams(redis_url, kernel_state):
    trader, truth = kernel_state
    result = _invoke(
        redis_url,
        "tail",
        "-t",
        trader,
        "--from-start",
        "--topic",
        "events.fills.*",
        "--count",
        "5",
        "--json",
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [m["value"]["trade_id"] for m in lines] == truth["fills"][:5]
    assert all(m["value"]["type"] == "OrderFilled" for m in lines)
    result = _invoke(redis_url, "tail", "-t", trader, "--from-start", "--count", "3")
    assert result.exit_code == 0 and "ComponentStateChanged" in result.output


def test_bad_input_is_one_clear_line(redis_url, kernel_state):
    result = _invoke(redis_url, "orders", "--trader", "NOPE-001")
    assert result.exit_code == 1
    assert result.output.startswith("error: no trader 'NOPE-001' in Redis (traders there:")
    result = CliRunner().invoke(state, ["orders", "--redis-url", "redis://:pw@127.0.0.1:1/0"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.startswith(
        "error: Redis at redis://:***@127.0.0.1:1/0 is unreachable: Connection refused"
    )
    result = CliRunner().invoke(state, ["traders", "--redis-url", "http://x"])
    assert result.exit_code == 2 and "redis://" in result.output


def test_an_undecodable_value_is_reported_not_fatal(redis_url, kernel_state):
    trader, truth = kernel_state
    client = redis_settings(redis_url).client()
    key = f"trader-{trader}:orders:O-BROKEN-1"
    client.rpush(key, b"\xc1 not msgpack")
    try:
        result = _invoke(redis_url, "orders", "-t", trader, "--limit", "0")
        assert result.exit_code == 0, result.output
        assert "skipped" in result.output and "O-BROKEN-1" in result.output
        result = _invoke(redis_url, "orders", "-t", trader, "--limit", "0", "--json")
        assert len(json.loads(result.output)) == len(truth["orders"])
    finally:
        client.delete(key)
        client.close()


def test_foreign_and_garbage_keys_are_named_and_the_rest_shown(redis_url, kernel_state):
    """Keys nautilus did not write (wrong types, junk, non-UTF-8 names) never stop a view."""
    trader, truth = kernel_state
    prefix = f"trader-{trader}:"
    junk = unique_trader("JUNK").replace("-", "")  # no NAME-TAG hyphen: not a trader id
    client = redis_settings(redis_url).client()
    planted = [
        f"{prefix}orders:O-STRING".encode(),
        f"{prefix}positions:P-HASH".encode(),
        f"{prefix}accounts:A-SET".encode(),
        f"{prefix}strategies:Foreign-000:state".encode(),
        prefix.encode() + b"orders:O-\xff",
        f"trader-{junk}:whatever".encode(),
        f"trader-{junk}".encode(),
    ]
    client.set(planted[0], b"not a list")
    client.hset(planted[1], "a", "b")
    client.sadd(planted[2], "x")
    client.rpush(planted[3], b"a list, not state")
    client.rpush(planted[4], b"\xc1")
    client.set(planted[5], b"{}")
    client.set(planted[6], b"{}")
    try:
        for command, count in (
            ("orders", len(truth["orders"])),
            ("positions", len(truth["positions"])),
            ("accounts", len(truth["balances"])),
        ):
            result = _invoke(redis_url, command, "-t", trader, *_limit(command), "--json")
            assert result.exit_code == 0, result.output
            assert len(json.loads(result.output)) == count
        result = _invoke(redis_url, "orders", "-t", trader, "--limit", "0")
        assert result.exit_code == 0, result.output
        assert "2 stored value(s) skipped" in result.output and "O-STRING" in result.output
        result = _invoke(redis_url, "positions", "-t", trader)
        assert "P-HASH" in result.output and "WRONGTYPE" in result.output
        result = _invoke(redis_url, "accounts", "-t", trader)
        assert result.exit_code == 0 and "A-SET" in result.output
        result = _invoke(redis_url, "strategies", "-t", trader, "--json")
        assert result.exit_code == 0 and "bars_seen" in result.output
        assert "Foreign-000" not in result.output
        result = _invoke(redis_url, "traders", "--json")
        listed = {row["trader_id"] for row in json.loads(result.output)}
        assert trader in listed and not any(junk in t for t in listed)
        assert junk not in list_traders(client)
    finally:
        client.delete(*planted)
        client.close()


def _limit(command: str) -> list[str]:
    return ["--limit", "0"] if command == "orders" else []
