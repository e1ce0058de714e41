"""
The operator's side of the control channel, for the CLI and any other front end (a web API):
sign a command, append it to the trader's stream and wait for the node's answer.

    client = ControlClient.connect()            # $SERAPHIM_REDIS_URL, $SERAPHIM_OPERATOR_SECRET
    result = client.send(new_command("SERAPHIM-001", "pause", "alice", strategy_id="MACross-000"))
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import msgspec

from seraphim.ops import keys
from seraphim.ops.commands import CommandResult
from seraphim.ops.commands import ControlCommand
from seraphim.ops.commands import sign
from seraphim.ops.secret import operator_secret
from seraphim.state.settings import RedisSettings
from seraphim.state.settings import RedisUnavailable
from seraphim.state.settings import connect_redis
from seraphim.state.settings import redis_settings

DEFAULT_TIMEOUT_SECS = 3.0


class ControlError(Exception):
    """The command could not be delivered or answered (one line naming why)."""


@dataclass
class ControlClient:
    settings: RedisSettings
    secret: bytes
    client: object

    @classmethod
    def connect(cls, url: str | None = None, secret: bytes | None = None) -> ControlClient:
        settings = redis_settings(url)
        secret = secret if secret is not None else operator_secret()
        return cls(settings, secret, connect_redis(settings))

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def traders(self) -> list[str]:
        """Traders whose nodes run a control channel (their stream has the node's group)."""
        found = []
        for key in self._call(self.client.scan_iter, match=f"{keys.PREFIX}:*:control"):
            trader = key.decode().removeprefix(f"{keys.PREFIX}:").removesuffix(":control")
            found.append(trader)
        return sorted(found)

    def send(self, command: ControlCommand, timeout: float = DEFAULT_TIMEOUT_SECS) -> CommandResult:
        """Sign and send ``command``; the node's answer, else ``ControlError``."""
        stream = keys.control_stream(command.trader_id)
        if not self._call(self._has_group, stream):
            raise ControlError(
                f"unknown trader {command.trader_id}: no node has opened a control channel "
                f"for it on {self.settings.url}"
            )
        signed = sign(command, self.secret)
        fields = {"command": msgspec.json.encode(signed)}
        self._call(self.client.xadd, stream, fields, maxlen=keys.STREAM_MAXLEN, approximate=True)
        reply = keys.reply_key(command.trader_id, command.id)
        deadline = time.monotonic() + timeout
        answer = None
        while answer is None and (left := deadline - time.monotonic()) > 0:
            # Short waits: each stays well inside the connection's socket timeout.
            answer = self._call(self.client.blpop, [reply], timeout=max(min(left, 1.0), 0.01))
        if answer is None:
            raise ControlError(
                f"no answer from trader {command.trader_id} within {timeout:g} s "
                f"(is its node running?); command {command.id}"
            )
        return msgspec.json.decode(answer[1], type=CommandResult)

    def health(self, trader_id: str) -> dict | None:
        raw = self._call(self.client.get, keys.health_key(trader_id))
        return None if raw is None else msgspec.json.decode(raw)

    def _has_group(self, stream: str) -> bool:
        import redis

        try:
            groups = self.client.xinfo_groups(stream)
        except redis.ResponseError:  # no such stream
            return False
        return any(g["name"] in (keys.CONSUMER_GROUP, keys.CONSUMER_GROUP.encode()) for g in groups)

    def _call(self, fn, *args, **kwargs):
        import redis

        try:
            result = fn(*args, **kwargs)
            return list(result) if fn is self.client.scan_iter else result
        except (redis.ConnectionError, redis.TimeoutError, OSError) as e:
            raise RedisUnavailable(f"Redis at {self.settings.url} is unreachable: {e}") from None
