"""
``ControlActor``: the control channel inside a node. It starts the Redis consumer thread
(``seraphim.ops.channel``), runs each verified command on the event loop with
``seraphim.ops.executor`` and logs and journals every delivery (who, when, what, result).

The operator secret and the Redis URL come from the environment, never from the config
(nautilus publishes actor configs on the bus and into Redis).
"""

from __future__ import annotations

import asyncio

from nautilus_trader.common.actor import Actor
from nautilus_trader.common.config import ActorConfig

from seraphim.journal.settings import journal_schema
from seraphim.ops.channel import ControlChannel
from seraphim.ops.channel import Handled
from seraphim.ops.commands import DEFAULT_MAX_AGE_SECS
from seraphim.ops.commands import ControlCommand
from seraphim.ops.executor import CommandExecutor
from seraphim.ops.secret import operator_secret
from seraphim.state.settings import redis_settings


class ControlActorConfig(ActorConfig, frozen=True):
    """
    Parameters
    ----------
    max_age_secs : float
        Commands signed further than this from the node's clock are refused as stale.
    journal : bool
        Record every command in the journal (PostgreSQL from ``$SERAPHIM_PG_DSN``).
    """

    component_id: str | None = "SeraphimControl"
    max_age_secs: float = DEFAULT_MAX_AGE_SECS
    journal: bool = False


class ControlActor(Actor):
    def __init__(self, config: ControlActorConfig | None = None) -> None:
        super().__init__(config or ControlActorConfig())
        self.channel: ControlChannel | None = None
        self.executor: CommandExecutor | None = None
        self.writer = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def on_start(self) -> None:
        secret = operator_secret()  # no secret: the node does not start (OperatorSecretError)
        self._loop = asyncio.get_event_loop()
        self.executor = CommandExecutor(self.msgbus, self.cache, self.clock)
        if self.config.journal and self.writer is None:
            from seraphim.ops.journal import ops_writer

            self.writer = ops_writer(self.log.warning, self.log.info)
            self.log.info(f"Operator actions journaled to schema {journal_schema(None)}")
        settings = redis_settings()
        self.channel = ControlChannel(
            settings,
            self.trader_id.value,
            secret,
            run=self._schedule,
            on_handled=self._on_handled,
            on_error=self.log.warning,
            max_age_secs=self.config.max_age_secs,
        )
        self.channel.start()
        self.log.info(f"Control channel on {settings.url} stream {self.channel.stream}")

    def on_stop(self) -> None:
        if self.channel is not None:
            self.channel.stop()
            self.channel = None

    def on_dispose(self) -> None:
        if self.writer is not None:
            self.writer.stop(5.0)
            self.writer = None

    def _schedule(self, command: ControlCommand):
        """From the channel's thread: run the command on the node's event loop."""
        return asyncio.run_coroutine_threadsafe(self.executor.execute(command), self._loop)

    def _on_handled(self, handled: Handled) -> None:
        """From the channel's thread: log and journal (the writer is thread-safe)."""
        command, result = handled.command, handled.result
        who = command.operator if command else "?"
        what = command.describe() if command else "malformed"
        suffix = " (duplicate, not run again)" if result.duplicate else ""
        message = f"OPERATOR {who}: {what} -> {result.status}: {result.detail}{suffix}"
        if result.ok:
            self.log.warning(message)
        else:
            self.log.error(message)
        if self.writer is not None:
            from seraphim.ops.journal import operator_action_row

            self.writer.submit([operator_action_row(self.trader_id.value, handled)])
