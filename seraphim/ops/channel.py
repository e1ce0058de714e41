"""
The node's side of the control channel: a thread that reads the trader's command stream from
Redis (consumer group, acknowledged after the answer), verifies each command, claims its id once
(``SET NX`` on the result key: a command sent twice is answered twice but run once), has it run
on the event loop and writes the answer. All Redis I/O is on this thread, with timeouts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

import msgspec

from seraphim.ops import keys
from seraphim.ops.commands import CommandError
from seraphim.ops.commands import CommandResult
from seraphim.ops.commands import ControlCommand
from seraphim.ops.commands import decode
from seraphim.ops.commands import validate
from seraphim.ops.commands import verify
from seraphim.state.settings import RedisSettings

_PENDING = b"pending"
BLOCK_MS = 500
RUN_TIMEOUT_SECS = 5.0


@dataclass(frozen=True)
class Handled:
    """One delivery and what became of it (for the log and the journal)."""

    entry_id: str
    command: ControlCommand | None
    result: CommandResult


class ControlChannel:
    """
    Parameters
    ----------
    run : callable
        Schedules a verified command on the event loop; returns a future of its result.
    on_handled : callable
        Called (on this thread) with every ``Handled`` delivery: run, refused or duplicate.
    """

    def __init__(
        self,
        settings: RedisSettings,
        trader_id: str,
        secret: bytes,
        run: Callable[[ControlCommand], Future],
        on_handled: Callable[[Handled], None],
        on_error: Callable[[str], None],
        max_age_secs: float,
    ) -> None:
        self._settings = settings
        self.trader_id = trader_id
        self._secret = secret
        self._run_on_loop = run
        self._on_handled = on_handled
        self._on_error = on_error
        self.max_age_secs = max_age_secs
        self.stream = keys.control_stream(trader_id)
        # One consumer name per trader: a restarted node re-reads what it never acknowledged.
        self.consumer = trader_id
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.handled = 0

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="seraphim-control", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    # -- the thread ---------------------------------------------------------------------------

    def _loop(self) -> None:
        import redis

        backoff = 0.2
        client = None
        last_error = None
        while not self._stop.is_set():
            try:
                if client is None:
                    client = self._settings.client(timeout=BLOCK_MS / 1000 + 2, retries=0)
                    self._ensure_group(client)
                    self._read(client, "0")  # delivered before a restart, never acknowledged
                self._read(client, ">")
                backoff = 0.2
                if last_error is not None:
                    last_error = None
                    self._on_error("control channel: Redis reachable again")
            except (redis.RedisError, OSError) as e:
                if client is not None:
                    client.close()
                    client = None
                reason = f"control channel: Redis at {self._settings.url} unavailable ({e})"
                if reason != last_error:
                    self._on_error(reason)
                last_error = reason
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
        if client is not None:
            client.close()

    def _ensure_group(self, client) -> None:
        import redis

        try:
            client.xgroup_create(self.stream, keys.CONSUMER_GROUP, id="$", mkstream=True)
        except redis.ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise

    def _read(self, client, start: str) -> None:
        block = None if start == "0" else BLOCK_MS
        answer = client.xreadgroup(
            keys.CONSUMER_GROUP, self.consumer, {self.stream: start}, count=16, block=block
        )
        for _stream, entries in answer or []:
            for entry_id, fields in entries:
                self._handle(client, entry_id.decode(), fields)

    def _handle(self, client, entry_id: str, fields: dict) -> None:
        command, result = self._process(client, fields)
        if result is not None:
            self._answer(client, command, result)
        client.xack(self.stream, keys.CONSUMER_GROUP, entry_id)
        self.handled += 1
        if result is not None:
            self._on_handled(Handled(entry_id, command, result))

    def _process(self, client, fields: dict) -> tuple[ControlCommand | None, CommandResult | None]:
        try:
            command = decode(fields.get(b"command", b""))
        except CommandError as e:
            return None, CommandResult("", "refused", str(e), time.time_ns())
        refusal = self._refusal(command)
        if refusal is not None:
            return command, CommandResult(command.id, "refused", refusal, time.time_ns())
        result_key = keys.result_key(self.trader_id, command.id)
        if not client.set(result_key, _PENDING, nx=True, ex=keys.RESULT_TTL_SECS):
            return command, self._earlier_result(client, command, result_key)
        try:
            result = self._run_on_loop(command).result(RUN_TIMEOUT_SECS)
        except Exception as e:  # the loop did not finish it in time, or it failed part-way
            detail = f"failed or unfinished, check the node: {type(e).__name__}: {e}"
            result = CommandResult(command.id, "refused", detail, time.time_ns())
        client.set(result_key, msgspec.json.encode(result), ex=keys.RESULT_TTL_SECS)
        return command, result

    def _refusal(self, command: ControlCommand) -> str | None:
        if command.trader_id != self.trader_id:
            return f"command for trader {command.trader_id} sent to {self.trader_id}"
        refusal = verify(command, self._secret, time.time_ns(), self.max_age_secs)
        if refusal is not None:
            return refusal
        try:
            validate(command)
        except CommandError as e:
            return str(e)
        return None

    def _earlier_result(self, client, command: ControlCommand, result_key: str) -> CommandResult:
        raw = client.get(result_key)
        if raw in (None, _PENDING):
            detail = "already received; still running"
            return CommandResult(command.id, "done", detail, time.time_ns(), duplicate=True)
        earlier = msgspec.json.decode(raw, type=CommandResult)
        return msgspec.structs.replace(earlier, duplicate=True)

    def _answer(self, client, command: ControlCommand | None, result: CommandResult) -> None:
        if command is None or not command.id:
            return
        reply = keys.reply_key(self.trader_id, command.id)
        with client.pipeline(transaction=True) as pipe:
            pipe.rpush(reply, msgspec.json.encode(result))
            pipe.expire(reply, keys.REPLY_TTL_SECS)
            pipe.execute()
