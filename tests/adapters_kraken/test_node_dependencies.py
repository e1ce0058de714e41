"""
A node never hangs on a dead dependency, and every signal ends it in bounded time.

Each dependency (Redis for ``--state redis``, PostgreSQL for ``--journal``, the venue's REST
API and WebSockets) is either refused (nothing listens) or silent (a real socket on 127.0.0.1
that accepts and never answers); ``seraphim node run`` must end at once with one line naming it.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from .helpers import SilentListener
from .helpers import free_port
from .node_harness import lively_sim
from .node_harness import write_node_config
from .node_process import NodeProcess
from .node_process import node_env

pytestmark = pytest.mark.slow

# Generous for a shared 2-core machine; the point is "bounded", not "fast".
FAIL_FAST_SECS = 45.0


def _error_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, text[-3000:]
    return lines[0]


def _run_until_exit(tmp_path: Path, config: Path, *args: str, **env: str) -> tuple[int, str]:
    node = NodeProcess(config, *args, env=node_env(**env), log=tmp_path / "node.log")
    code = node.wait(FAIL_FAST_SECS)
    return code, node.text()


@pytest.mark.parametrize("kind", ["refused", "silent"])
def test_redis_down_ends_the_node_with_one_line(tmp_path, kind) -> None:
    with lively_sim() as tsim, SilentListener() as silent:
        port = silent.port if kind == "silent" else free_port()
        config = write_node_config(tmp_path, tsim)
        code, text = _run_until_exit(
            tmp_path,
            config,
            "--state",
            "redis",
            "--duration",
            "10",
            SERAPHIM_REDIS_URL=f"redis://127.0.0.1:{port}/0",
        )
    assert code == 1, text[-3000:]
    line = _error_line(text)
    assert f"Redis at redis://127.0.0.1:{port}/0" in line and "unreachable" in line


def test_silent_postgres_ends_the_node_with_one_line(tmp_path) -> None:
    with lively_sim() as tsim, SilentListener() as silent:
        config = write_node_config(tmp_path, tsim)
        dsn = f"host=127.0.0.1 port={silent.port} dbname=seraphim user=postgres"
        code, text = _run_until_exit(
            tmp_path, config, "--journal", "--duration", "10", SERAPHIM_PG_DSN=dsn
        )
    assert code == 1, text[-3000:]
    line = _error_line(text)
    assert "--journal" in line and f"PostgreSQL at 127.0.0.1:{silent.port}" in line


def test_silent_venue_rest_api_ends_the_node_with_one_line(tmp_path) -> None:
    with lively_sim() as tsim, SilentListener() as silent:
        url = f"http://127.0.0.1:{silent.port}"
        config = write_node_config(
            tmp_path, tsim, kraken={"rest_url": url, "http_timeout_secs": 2.0}
        )
        code, text = _run_until_exit(tmp_path, config, "--duration", "10")
    assert code == 1, text[-3000:]
    assert f"Kraken REST API at {url} did not answer" in _error_line(text)


@pytest.mark.parametrize("which", ["ws_public_url", "ws_private_url"])
def test_silent_venue_websocket_ends_the_node_with_one_line(tmp_path, which) -> None:
    with lively_sim() as tsim, SilentListener() as silent:
        url = f"ws://127.0.0.1:{silent.port}/v2"
        config = write_node_config(tmp_path, tsim, kraken={which: url})
        code, text = _run_until_exit(tmp_path, config, "--duration", "10")
    assert code == 1, text[-3000:]
    line = _error_line(text)
    assert "WebSocket" in line and url in line and "did not answer" in line


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_a_running_node_gracefully(tmp_path, sig) -> None:
    with lively_sim() as tsim:
        config = write_node_config(tmp_path, tsim, log_level="INFO")
        node = NodeProcess(config, env=node_env(), log=tmp_path / "node.log")
        try:
            node.wait_for_output("Node running until stopped", 60)
            node.signal(sig)
            code = node.wait(30)
        finally:
            node.kill()
    assert code == 0, node.text()[-3000:]
    assert f"Stopping: {sig.name}" in node.text()
    assert "order(s)" in node.text()  # the summary was printed


def test_a_second_sigint_forces_the_stop(tmp_path) -> None:
    with lively_sim() as tsim:
        # A graceful stop would wait 60 s for residual events.
        config = write_node_config(tmp_path, tsim, log_level="INFO", timeout_post_stop=60.0)
        node = NodeProcess(config, env=node_env(), log=tmp_path / "node.log")
        try:
            node.wait_for_output("Node running until stopped", 60)
            node.signal(signal.SIGINT)
            node.wait_for_output("Stopping: SIGINT", 10)
            node.signal(signal.SIGINT)
            code = node.wait(10)
        finally:
            node.kill()
    assert code == 130, node.text()[-3000:]
    assert "forced stop" in node.text()
