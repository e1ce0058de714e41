"""The control channel over the real Redis without a node: signatures, the time window,
running a command id once (also across a restart of the consumer), and the answer."""

from __future__ import annotations

import time
from concurrent.futures import Future

import msgspec
import pytest

from seraphim.ops import keys
from seraphim.ops.channel import ControlChannel
from seraphim.ops.client import ControlClient
from seraphim.ops.client import ControlError
from seraphim.ops.commands import CommandError
from seraphim.ops.commands import CommandResult
from seraphim.ops.commands import ManualOrder
from seraphim.ops.commands import new_command
from seraphim.ops.commands import sign
from seraphim.ops.commands import verify
from seraphim.ops.secret import OperatorSecretError
from seraphim.ops.secret import operator_secret
from seraphim.state.settings import redis_settings

from .harness import wait_for


class Runs:
    """Stands in for the event loop: runs nothing, records what it was asked to run."""

    def __init__(self) -> None:
        self.commands = []

    def __call__(self, command) -> Future:
        self.commands.append(command)
        future = Future()
        future.set_result(CommandResult(command.id, "done", f"ran {command.action}", 0))
        return future


@pytest.fixture
def channel(trader_id, operator_env):
    runs, handled, errors = Runs(), [], []
    channel = ControlChannel(
        redis_settings(),
        trader_id,
        operator_env.encode(),
        run=runs,
        on_handled=handled.append,
        on_error=errors.append,
        max_age_secs=5.0,
    )
    channel.start()
    client = ControlClient.connect()
    wait_for(lambda: trader_id in client.traders(), 10, "the consumer group")
    yield channel, client, runs, handled
    channel.stop()
    client.close()
    assert errors == []


def test_a_command_sent_twice_runs_once_and_both_are_answered(channel, trader_id):
    channel_, client, runs, handled = channel
    command = new_command(trader_id, "reset-guard", "alice")
    first, second = client.send(command), client.send(command)
    assert (first.status, first.detail, first.duplicate) == ("done", "ran reset-guard", False)
    assert (second.detail, second.duplicate) == ("ran reset-guard", True)
    assert [c.id for c in runs.commands] == [command.id]
    wait_for(lambda: len(handled) == 2, 10, "both deliveries handled")  # after the answers
    assert [h.result.duplicate for h in handled] == [False, True]
    stored = client.client.get(keys.result_key(trader_id, command.id))
    assert msgspec.json.decode(stored, type=CommandResult) == first
    assert client.client.xpending(channel_.stream, keys.CONSUMER_GROUP)["pending"] == 0


def test_unsigned_forged_stale_and_misaddressed_commands_are_refused_and_not_run(
    channel, trader_id
):
    _channel, client, runs, handled = channel
    forged = ControlClient(client.settings, b"guessed-secret-0123456789", client.client)
    assert forged.send(new_command(trader_id, "flatten", "eve")).detail == "bad signature"
    stale = msgspec.structs.replace(
        new_command(trader_id, "flatten", "alice"), ts=time.time_ns() - 60 * 10**9
    )
    assert client.send(stale).detail == "stale command: signed 60.0 s ago (window 5 s)"
    unsigned = new_command(trader_id, "flatten", "alice")
    client.client.xadd(keys.control_stream(trader_id), {"command": msgspec.json.encode(unsigned)})
    wait_for(lambda: len(handled) == 3, 10, "the unsigned command handled")
    assert handled[-1].result.detail == "unsigned command"
    # Signed for another trader and replayed into this one's stream.
    other = sign(new_command("OTHER-001", "flatten", "alice"), client.secret)
    client.client.xadd(keys.control_stream(trader_id), {"command": msgspec.json.encode(other)})
    wait_for(lambda: len(handled) == 4, 10, "the misaddressed command handled")
    assert handled[-1].result.detail == f"command for trader OTHER-001 sent to {trader_id}"
    assert runs.commands == []
    # A refused id is not spent: the real command with that id still runs.
    assert client.send(msgspec.structs.replace(stale, ts=time.time_ns())).ok


def test_a_command_delivered_but_never_acknowledged_is_handled_after_a_restart(
    trader_id, operator_env
):
    client = ControlClient.connect()
    stream = keys.control_stream(trader_id)
    client.client.xgroup_create(stream, keys.CONSUMER_GROUP, id="$", mkstream=True)
    command = sign(new_command(trader_id, "reset-guard", "alice"), client.secret)
    client.client.xadd(stream, {"command": msgspec.json.encode(command)})
    # A consumer that died after reading it: delivered, never acknowledged.
    client.client.xreadgroup(keys.CONSUMER_GROUP, trader_id, {stream: ">"}, count=1)
    runs, handled = Runs(), []
    channel = ControlChannel(
        redis_settings(), trader_id, client.secret, runs, handled.append, print, 5.0
    )
    channel.start()
    try:
        wait_for(lambda: handled, 10, "the pending command")
    finally:
        channel.stop()
        client.close()
    assert [c.id for c in runs.commands] == [command.id]


def test_signatures_cover_every_field(operator_env):
    secret = operator_secret()
    command = sign(
        new_command("T-001", "order", "alice", order=ManualOrder("BTC/USD.KRAKEN", "BUY", "1")),
        secret,
    )
    now = command.ts
    assert verify(command, secret, now, 5) is None
    bigger = ManualOrder("BTC/USD.KRAKEN", "BUY", "10")
    for changed in (
        msgspec.structs.replace(command, order=bigger),
        msgspec.structs.replace(command, trader_id="T-002"),
        msgspec.structs.replace(command, operator="bob"),
        msgspec.structs.replace(command, ts=now + 1),
    ):
        assert verify(changed, secret, now, 5) == "bad signature"


def test_bad_commands_and_secrets_are_one_clear_error(monkeypatch, tmp_path):
    with pytest.raises(CommandError, match=r"^unknown action 'explode' \(one of pause, "):
        new_command("T-001", "explode", "alice")
    with pytest.raises(CommandError, match=r"^trading state must be one of ACTIVE, REDUCING"):
        new_command("T-001", "state", "alice", state="PANIC")
    with pytest.raises(CommandError, match=r"^a LIMIT order needs a positive --price$"):
        new_command("T-001", "order", "a", order=ManualOrder("X.Y", "BUY", "1", type="LIMIT"))
    monkeypatch.delenv("SERAPHIM_OPERATOR_SECRET", raising=False)
    monkeypatch.setenv("SERAPHIM_OPERATOR_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(OperatorSecretError, match=r"unreadable: No such file or directory$"):
        operator_secret()
    (tmp_path / "short").write_text("tiny\n")
    monkeypatch.setenv("SERAPHIM_OPERATOR_SECRET_FILE", str(tmp_path / "short"))
    with pytest.raises(OperatorSecretError, match=r"at least 16 characters$"):
        operator_secret()


def test_no_node_answering_is_a_clear_error(trader_id, operator_env):
    with ControlClient.connect() as client:
        stream = keys.control_stream(trader_id)
        client.client.xgroup_create(stream, keys.CONSUMER_GROUP, id="$", mkstream=True)
        with pytest.raises(ControlError, match=f"^no answer from trader {trader_id} within 0.3 s"):
            client.send(new_command(trader_id, "reset-guard", "alice"), timeout=0.3)
