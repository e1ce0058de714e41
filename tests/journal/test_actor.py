"""
The journal actor in a BacktestEngine (the same class runs in live nodes) against real
PostgreSQL: every order, fill, position and account state lands exactly once, also when
PostgreSQL goes away for a while, when the buffer bound is hit, and after a crash (Redis cache).
"""

from __future__ import annotations

import uuid

import pytest

from seraphim.journal.actor import JournalActor
from seraphim.journal.actor import JournalActorConfig
from seraphim.journal.actor import journal_actor_config
from seraphim.journal.rows import live_scope

from .conftest import query
from .engine import make_engine
from .engine import synthetic_bars
from .proxy import TcpProxy

DSN_VAR = "SERAPHIM_TEST_JOURNAL_DSN"


def expected(engine) -> dict:
    """What nautilus's cache holds after a run: the truth the journal must match."""
    orders = engine.cache.orders()
    fills = {
        (e.trade_id.value, e.client_order_id.value)
        for o in orders
        for e in o.events
        if type(e).__name__ == "OrderFilled"
    }
    cycles = list(engine.cache.position_snapshots()) + list(engine.cache.positions())
    account = engine.cache.accounts()[0]
    return {
        "orders": {o.client_order_id.value: o.status_string() for o in orders},
        "events": sum(len(o.events) for o in orders),
        "fills": fills,
        "cycles": len(cycles),
        "realized": sum(p.realized_pnl.as_double() for p in cycles),
        "account_rows": sum(len(e.balances) for e in account.events),
    }


def journaled(dsn: str, schema: str, trader: str) -> dict:
    scope = live_scope(trader)
    fills = query(
        dsn, schema, "SELECT trade_id, client_order_id FROM fills WHERE scope = %s", (scope,)
    )
    return {
        "orders": dict(
            query(
                dsn, schema, "SELECT client_order_id, status FROM orders WHERE scope = %s", (scope,)
            )
        ),
        "events": query(
            dsn, schema, "SELECT count(*) FROM order_events WHERE scope = %s", (scope,)
        )[0][0],
        "fill_rows": len(fills),
        "fills": set(fills),
        "cycles": query(dsn, schema, "SELECT count(*) FROM positions WHERE scope = %s", (scope,))[
            0
        ][0],
        "realized": float(
            query(
                dsn,
                schema,
                "SELECT coalesce(sum(realized_pnl), 0) FROM realized_pnl_changes WHERE scope = %s",
                (scope,),
            )[0][0]
        ),
        "account_rows": query(
            dsn, schema, "SELECT count(*) FROM account_snapshots WHERE scope = %s", (scope,)
        )[0][0],
    }


def assert_complete(truth: dict, got: dict) -> None:
    assert got["fill_rows"] == len(truth["fills"])  # nothing twice
    assert got["fills"] == truth["fills"]  # nothing lost
    assert got["orders"] == truth["orders"]  # final states
    assert got["events"] == truth["events"]
    assert got["cycles"] == truth["cycles"]
    assert got["realized"] == pytest.approx(truth["realized"], abs=1e-6)
    assert got["account_rows"] == truth["account_rows"]


def unique_trader() -> str:
    return f"JRNL{uuid.uuid4().hex[:8].upper()}-001"


def test_records_every_order_fill_position_and_account_state(journal_env, monkeypatch):
    dsn, schema = journal_env
    monkeypatch.setenv(DSN_VAR, dsn)
    trader = unique_trader()
    actor = JournalActor(JournalActorConfig(dsn_env=DSN_VAR, schema=schema))
    engine = make_engine(trader, actors=[actor])
    engine.add_data(synthetic_bars(2000))
    engine.run()
    truth = expected(engine)
    assert len(truth["fills"]) > 100
    engine.dispose()  # flushes the journal
    assert_complete(truth, journaled(dsn, schema, trader))
    (kind, name, metrics, finished) = query(
        dsn,
        schema,
        "SELECT kind, name, metrics, finished_at FROM runs WHERE trader_id = %s",
        (trader,),
    )[0]
    assert kind == "live" and name == f"{trader} session" and finished is not None
    assert metrics["write_failures"] == 0


def test_topics_published_before_the_actor_started_are_recorded(journal_env, monkeypatch):
    """
    The account's topic is first published when the venue connects, before the trader starts
    its actors; the actor's wildcard subscription still receives every later account state
    (nautilus < 1.227 never delivered such a topic to a later wildcard, so the actor used to
    subscribe to each known topic by name as well). No sweep: only live events are recorded.
    """
    dsn, schema = journal_env
    monkeypatch.setenv(DSN_VAR, dsn)
    trader = unique_trader()
    actor = JournalActor(JournalActorConfig(dsn_env=DSN_VAR, schema=schema, sweep_on_start=False))
    engine = make_engine(trader, actors=[actor])
    engine.add_data(synthetic_bars(600))
    engine.run()
    events = engine.cache.accounts()[0].events
    truth = expected(engine)
    engine.dispose()
    got = journaled(dsn, schema, trader)
    assert len(events) > 10
    assert got["account_rows"] == sum(len(e.balances) for e in events[1:])  # all after start
    assert got["fills"] == truth["fills"] and got["fill_rows"] == len(truth["fills"])


def test_postgres_down_mid_session_catches_up_losing_nothing(journal_env, monkeypatch):
    """Up, then down (connections cut mid-session), then back: every fill exactly once."""
    dsn, schema = journal_env
    proxy = TcpProxy(("127.0.0.1", 5432))
    monkeypatch.setenv(DSN_VAR, dsn.replace("host=127.0.0.1 port=5432", proxy.dsn_host_port))
    trader = unique_trader()
    actor = JournalActor(
        JournalActorConfig(dsn_env=DSN_VAR, schema=schema, retry_max_secs=0.2, batch_size=200)
    )
    engine = make_engine(trader, actors=[actor])
    bars = synthetic_bars(3000)
    proxy.up()
    try:
        engine.add_data(bars[:1000])
        engine.run(streaming=True)
        assert actor.writer.flush(10)
        written_before = journaled(dsn, schema, trader)["fill_rows"]
        assert written_before > 0

        proxy.down()  # PostgreSQL "stops": open connections reset, new ones refused
        engine.clear_data()
        engine.add_data(bars[1000:2000])
        engine.run(streaming=True)
        assert not actor.writer.flush(1.0)  # cannot write: rows stay buffered
        assert actor.writer.pending > 0 and actor.writer.stats.failures > 0
        assert not actor.writer.overflowed
        assert journaled(dsn, schema, trader)["fill_rows"] == written_before

        proxy.up()  # back: the writer reconnects and catches up by itself
        assert actor.writer.flush(15)
        engine.clear_data()
        engine.add_data(bars[2000:])
        engine.run(streaming=True)
        engine.end()
        truth = expected(engine)
        engine.dispose()
    finally:
        proxy.down()
    assert_complete(truth, journaled(dsn, schema, trader))


def test_buffer_bound_then_resync_from_cache(journal_env, monkeypatch):
    """A tiny bound overflows while PostgreSQL is down; the cache fills the gap afterwards."""
    dsn, schema = journal_env
    proxy = TcpProxy(("127.0.0.1", 5432))
    monkeypatch.setenv(DSN_VAR, dsn.replace("host=127.0.0.1 port=5432", proxy.dsn_host_port))
    trader = unique_trader()
    actor = JournalActor(
        JournalActorConfig(
            dsn_env=DSN_VAR, schema=schema, max_buffer=200, retry_max_secs=0.2, sweep_chunk=50
        )
    )
    engine = make_engine(trader, actors=[actor])
    bars = synthetic_bars(2400)
    try:
        engine.add_data(bars[:1200])  # PostgreSQL down from the start
        engine.run(streaming=True)
        assert actor.writer.overflowed and actor.writer.stats.dropped_rows > 0
        proxy.up()
        engine.clear_data()
        engine.add_data(bars[1200:])  # the actor resyncs from the cache as trading goes on
        engine.run(streaming=True)
        engine.end()
        truth = expected(engine)
        engine.dispose()
    finally:
        proxy.down()
    assert_complete(truth, journaled(dsn, schema, trader))


def test_restart_after_crash_writes_the_gap_from_redis_once(journal_env, redis_trader, monkeypatch):
    """
    A node whose journal could not write (PostgreSQL unreachable) dies; its state is in Redis.
    The restarted node's actor sweeps the reloaded cache: the journal then holds every fill of
    the first life exactly once, and a second restart adds nothing.
    """
    from seraphim.state.settings import redis_cache_configs

    dsn, schema = journal_env
    cache, bus = redis_cache_configs(redis_trader)
    monkeypatch.setenv(DSN_VAR, "host=127.0.0.1 port=1 dbname=x user=postgres")  # nothing there
    first = JournalActor(JournalActorConfig(dsn_env=DSN_VAR, schema=schema, flush_timeout_secs=0.5))
    engine = make_engine(redis_trader, actors=[first], cache=cache, message_bus=bus)
    engine.add_data(synthetic_bars(1500))
    engine.run()
    truth = expected(engine)
    engine.dispose()
    assert journaled(dsn, schema, redis_trader)["fill_rows"] == 0

    monkeypatch.setenv(DSN_VAR, dsn)
    for _ in range(2):  # restart twice: the second sweep must write nothing new
        actor = JournalActor(JournalActorConfig(dsn_env=DSN_VAR, schema=schema))
        engine = make_engine(
            redis_trader, actors=[actor], cache=cache, message_bus=bus, strategies=[]
        )
        assert len(engine.cache.orders()) == len(truth["orders"])  # reloaded from Redis
        engine.add_data(synthetic_bars(10, start=1500))
        engine.run()
        engine.dispose()
        got = journaled(dsn, schema, redis_trader)
        assert got["fill_rows"] == len(truth["fills"]) and got["fills"] == truth["fills"]
        assert got["orders"] == truth["orders"]


def test_no_secret_reaches_redis_or_the_journal(journal_env, redis_trader, redis_url, monkeypatch):
    """The DSN (with a password) is read from the environment, never stored anywhere."""
    from seraphim.state.settings import redis_cache_configs
    from seraphim.state.settings import redis_settings

    dsn, schema = journal_env
    marker = "pw-" + uuid.uuid4().hex
    monkeypatch.setenv(DSN_VAR, f"{dsn} password={marker}")  # trust auth ignores it
    cache, bus = redis_cache_configs(redis_trader)
    actor_config = journal_actor_config(dsn_env=DSN_VAR, schema=schema)
    assert marker not in str(actor_config)
    actor = JournalActor(JournalActorConfig(dsn_env=DSN_VAR, schema=schema))
    engine = make_engine(redis_trader, actors=[actor], cache=cache, message_bus=bus)
    engine.add_data(synthetic_bars(300))
    engine.run()
    engine.dispose()
    client = redis_settings(redis_url).client()
    blob = b""
    for key in client.scan_iter(match=f"trader-{redis_trader}:*", count=1000):
        kind = client.type(key)
        if kind == b"string":
            blob += client.get(key)
        elif kind == b"list":
            blob += b"".join(client.lrange(key, 0, -1))
        elif kind == b"stream":
            blob += b"".join(v for _, f in client.xrange(key) for v in f.values())
        elif kind == b"set":
            blob += b"".join(client.smembers(key))
        elif kind == b"hash":
            blob += b"".join(b"".join(kv) for kv in client.hgetall(key).items())
    client.close()
    assert len(blob) > 10_000 and marker.encode() not in blob
    dumped = query(
        dsn,
        schema,
        "SELECT string_agg(t::text, '') FROM ("
        "SELECT row_to_json(r)::text AS t FROM runs r UNION ALL "
        "SELECT payload::text FROM order_events) x",
    )[0][0]
    assert dumped and marker not in dumped
