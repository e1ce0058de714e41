"""State settings: the Redis URL, the backend switch and the nautilus configs they produce."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from nautilus_trader.config import TradingNodeConfig

from seraphim.state.settings import RedisUnavailable
from seraphim.state.settings import StateConfigError
from seraphim.state.settings import check_redis
from seraphim.state.settings import redis_cache_configs
from seraphim.state.settings import redis_settings
from seraphim.state.settings import state_backend
from seraphim.state.settings import with_state_backend


def test_redis_url_from_argument_environment_or_default(monkeypatch):
    monkeypatch.delenv("SERAPHIM_REDIS_URL", raising=False)
    assert redis_settings().url == "redis://127.0.0.1:6379/0"
    monkeypatch.setenv("SERAPHIM_REDIS_URL", "redis://cache.local:6380/0")
    assert (redis_settings().host, redis_settings().port) == ("cache.local", 6380)
    s = redis_settings("rediss://ops:p%40ss@r.example:7000/0")
    assert (s.username, s.password, s.ssl) == ("ops", "p@ss", True)
    assert "p@ss" not in s.url and s.url == "rediss://ops:***@r.example:7000/0"
    with pytest.raises(StateConfigError, match="redis://"):
        redis_settings("http://x")
    with pytest.raises(StateConfigError, match="database must be a number"):
        redis_settings("redis://h/abc")


def test_backend_switch_option_beats_environment(monkeypatch):
    monkeypatch.delenv("SERAPHIM_STATE", raising=False)
    assert state_backend() == "memory"  # the embedded default stays in memory
    monkeypatch.setenv("SERAPHIM_STATE", "redis")
    assert state_backend() == "redis"
    assert state_backend("memory") == "memory"
    with pytest.raises(StateConfigError, match="unknown state backend 'disk'"):
        state_backend("disk")


def test_cache_and_message_bus_configs():
    cache, bus = redis_cache_configs("NODE-001", redis_settings("redis://10.0.0.5:6390/0"))
    assert cache.database.type == "redis" and cache.database.port == 6390
    assert cache.encoding == "msgpack" and cache.use_trader_prefix and not cache.flush_on_start
    assert bus.database == cache.database and bus.streams_prefix == "stream"
    assert bus.stream_per_topic and bus.heartbeat_interval_secs == 5
    assert bus.types_filter  # quote/trade ticks kept off the streams
    with pytest.raises(StateConfigError, match="database 0"):
        redis_cache_configs("NODE-001", redis_settings("redis://h:6379/3"))
    assert cache.database.number_of_retries <= 5 and cache.database.max_delay <= 2
    json_cache, json_bus = redis_cache_configs("NODE-001", encoding="json")
    assert json_cache.encoding == json_bus.encoding == "json"
    with pytest.raises(StateConfigError, match="msgpack or json"):
        redis_cache_configs("NODE-001", encoding="capnp")


def test_with_state_backend_on_a_node_config(monkeypatch):
    monkeypatch.delenv("SERAPHIM_STATE", raising=False)
    config = TradingNodeConfig(trader_id="NODE-001")
    assert with_state_backend(config) is config
    redis = with_state_backend(config, "redis")
    assert redis.cache.database.type == "redis" and redis.message_bus.database.type == "redis"
    assert redis.load_state and redis.save_state and redis.trader_id == config.trader_id


def test_node_options_add_redis_and_the_journal_actor(monkeypatch):
    from seraphim.state.node import journal_enabled
    from seraphim.state.node import with_node_options

    monkeypatch.delenv("SERAPHIM_STATE", raising=False)
    monkeypatch.delenv("SERAPHIM_JOURNAL", raising=False)
    config = TradingNodeConfig(trader_id="NODE-001")
    assert with_node_options(config) is config  # defaults: in memory, no journal
    assert not journal_enabled()
    monkeypatch.setenv("SERAPHIM_JOURNAL", "1")
    monkeypatch.setenv("SERAPHIM_STATE", "redis")
    both = with_node_options(config)
    assert both.cache.database.type == "redis"
    assert [a.actor_path for a in both.actors] == ["seraphim.journal.actor:JournalActor"]
    assert with_node_options(both).actors == both.actors  # idempotent
    assert with_node_options(config, state="memory", journal=False) is config
    monkeypatch.setenv("SERAPHIM_JOURNAL", "maybe")
    with pytest.raises(StateConfigError, match="SERAPHIM_JOURNAL"):
        journal_enabled()


@pytest.fixture
def silent_port():
    """A port that accepts TCP connections and never answers (a hung server)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield server.getsockname()[1]
    server.close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_check_redis_names_the_server_within_the_timeout(redis_url, silent_port):
    assert check_redis(redis_url, timeout=2).url == redis_settings(redis_url).url
    assert check_redis(redis_settings(redis_url)) == redis_settings(redis_url)
    for port, reason in ((closed_port(), "Connection refused"), (silent_port, "no answer")):
        started = time.monotonic()
        with pytest.raises(RedisUnavailable) as caught:
            check_redis(f"redis://:s3cret@127.0.0.1:{port}/0", timeout=1)
        assert time.monotonic() - started < 3
        message = str(caught.value)
        assert message.startswith(f"Redis at redis://:***@127.0.0.1:{port}/0 is unreachable: ")
        assert reason in message and "s3cret" not in message and "\n" not in message
    with pytest.raises(StateConfigError, match="redis://"):
        check_redis("http://x")


def test_nautilus_gives_up_on_an_unreachable_redis_in_bounded_time():
    """nautilus's defaults would retry a refused connection 100 times with growing delays."""
    url = f"redis://127.0.0.1:{closed_port()}/0"
    script = (
        "from journal.engine import make_engine\n"
        "from seraphim.state.settings import redis_cache_configs, redis_settings\n"
        f"cache, bus = redis_cache_configs(settings=redis_settings({url!r}))\n"
        "make_engine('NOREDIS-001', cache=cache, message_bus=bus)\n"
    )
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", script],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
    )
    assert result.returncode != 0 and "Connection refused" in result.stderr
    assert time.monotonic() - started < 60
