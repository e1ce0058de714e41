"""``seraphim sim kraken`` as a user runs it: JSON address line, signed calls, clean SIGINT stop."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.parse
import urllib.request

from .client import TEST_SECRET
from .client import docs_sign


def test_cli_starts_serves_signed_calls_and_stops_on_sigint() -> None:
    env = {**os.environ, "KRAKEN_API_KEY": "cli-key", "KRAKEN_API_SECRET": TEST_SECRET}
    cmd = [
        sys.executable,
        "-c",
        "from seraphim.cli import main; main()",
        "sim",
        "kraken",
        "--port",
        "0",
        "--pairs",
        "BTC/USD,ETH/USD",
        "--seed",
        "1",
        "--balance",
        "ZUSD=5000",
        "--fault",
        "rest_unavailable:methods=Ticker",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        addresses = json.loads(line)
        assert set(addresses) == {"rest", "ws_public", "ws_private"}
        rest = addresses["rest"]
        assert rest.startswith("http://127.0.0.1:") and addresses["ws_public"].startswith("ws://")
        # the private WebSocket at /v2 on its own listener, as wss://ws-auth.kraken.com/v2
        public, private = (urllib.parse.urlsplit(addresses[k]) for k in ("ws_public", "ws_private"))
        assert public.path == private.path == "/v2" and public.port != private.port
        with urllib.request.urlopen(rest + "/0/public/Ticker?pair=XBTUSD", timeout=5) as r:
            assert json.load(r)["error"] == ["EService:Unavailable"]  # the armed fault
        nonce = 1
        body = urllib.parse.urlencode({"nonce": nonce})
        req = urllib.request.Request(
            rest + "/0/private/Balance",
            data=body.encode(),
            headers={
                "API-Key": "cli-key",
                "API-Sign": docs_sign("/0/private/Balance", body, nonce, TEST_SECRET),
            },
        )
        with urllib.request.urlopen(req, timeout=5) as r:
            assert json.load(r) == {"error": [], "result": {"ZUSD": "5000.0000"}}
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
        assert TEST_SECRET not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_private_websocket_port_in_use_is_a_one_line_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cmd = [sys.executable, "-c", "from seraphim.cli import main; main()", "sim", "kraken"]
        done = subprocess.run(
            [*cmd, "--port", "0", "--auth-ws-port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"Error: cannot listen on 127.0.0.1: error while attempting to bind on address "
        f"('127.0.0.1', {port}): address already in use"
    ]
