"""
The journal actor: records every order, fill, position and account snapshot of a node in
PostgreSQL, without blocking the event loop.

Event handlers only turn events into rows and hand them to a :class:`JournalWriter` (a thread
writing batches). If PostgreSQL is down the writer buffers (bounded) and catches up; if the
bound is hit, the actor rewrites everything from nautilus's cache once the writer has room again,
and on every start it sweeps the cache (which a Redis-backed node reloads after a crash), so the
journal misses nothing. Every row has a natural key (trade id, event id, order id), so neither a
retried batch nor a sweep writes anything twice.

The PostgreSQL DSN is read from the environment at start (``dsn_env``), never from the config:
nautilus publishes actor configs on the message bus (and so into Redis streams).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime

from nautilus_trader.common.actor import Actor
from nautilus_trader.common.config import ActorConfig
from nautilus_trader.common.config import ImportableActorConfig
from nautilus_trader.common.config import NonNegativeInt
from nautilus_trader.common.config import PositiveFloat
from nautilus_trader.common.config import PositiveInt
from nautilus_trader.model.events import AccountState
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import PositionEvent

from seraphim.execution.quality import EXECUTION_QUALITY_TOPIC
from seraphim.execution.quality import ExecutionQuality
from seraphim.journal import rows
from seraphim.journal.settings import DEFAULT_DSN
from seraphim.journal.settings import DSN_ENV
from seraphim.journal.settings import describe
from seraphim.journal.settings import journal_schema
from seraphim.journal.writer import JournalWriter


class JournalActorConfig(ActorConfig, frozen=True):
    """
    Parameters
    ----------
    dsn_env : str
        The environment variable holding the PostgreSQL DSN (not the DSN itself).
    schema : str, optional
        The journal schema (default ``$SERAPHIM_PG_SCHEMA`` or ``journal``).
    max_buffer : int
        Most rows buffered while PostgreSQL is unavailable.
    batch_size : int
        Most rows per transaction.
    flush_interval_ms : int
        How long the writer waits to gather a batch.
    resync_interval_secs : int
        How often (clock time) the actor checks whether a resync from the cache is due.
    sweep_on_start : bool
        Write everything already in the cache when starting (catches up after a crash).
    flush_timeout_secs : float
        How long stopping waits for buffered rows to be written.
    run_name : str, optional
        A name for this node session in the journal's ``runs`` table.
    """

    dsn_env: str = DSN_ENV
    schema: str | None = None
    max_buffer: PositiveInt = 50_000
    batch_size: PositiveInt = 1_000
    flush_interval_ms: PositiveInt = 200
    resync_interval_secs: PositiveInt = 5
    sweep_on_start: bool = True
    flush_timeout_secs: PositiveFloat = 10.0
    retry_max_secs: PositiveFloat = 5.0
    run_name: str | None = None
    sweep_chunk: NonNegativeInt = 2_000


def journal_actor_config(**config) -> ImportableActorConfig:
    """The importable config a node runner adds to ``TradingNodeConfig.actors``."""
    return ImportableActorConfig(
        actor_path="seraphim.journal.actor:JournalActor",
        config_path="seraphim.journal.actor:JournalActorConfig",
        config=config,
    )


class JournalActor(Actor):
    def __init__(self, config: JournalActorConfig | None = None) -> None:
        super().__init__(config or JournalActorConfig())
        self.writer: JournalWriter | None = None
        self.run_id: uuid.UUID | None = None
        self.scope: str | None = None
        self._sweep: Iterator[list[rows.Row]] | None = None
        self._timer = f"{self.__class__.__name__}-resync"
        self._warned_full = False

    # -- lifecycle ----------------------------------------------------------------------------

    def on_start(self) -> None:
        config: JournalActorConfig = self.config
        if self.writer is None:  # first start (a restarted actor keeps its writer)
            dsn = os.environ.get(config.dsn_env) or DEFAULT_DSN
            schema = journal_schema(config.schema)
            self.scope = rows.live_scope(self.trader_id.value)
            self.run_id = uuid.uuid4()
            self._started_at = datetime.now(tz=UTC)
            self.writer = JournalWriter(
                dsn,
                schema,
                max_buffer=config.max_buffer,
                batch_size=config.batch_size,
                flush_interval=config.flush_interval_ms / 1000,
                retry_max=config.retry_max_secs,
                on_error=self.log.warning,
                on_recover=self.log.info,
            )
            self.writer.start()
            self.writer.submit([self._run_row(finished=False)])
            self.log.info(
                f"Journal to PostgreSQL {describe(dsn)} schema {schema}, run {self.run_id}"
            )
            # Wildcards also reach topics published before now, e.g. reconciliation's order
            # events (nautilus >= 1.227).
            for topic, handler in self._handlers():
                self.msgbus.subscribe(topic, handler)
        if config.sweep_on_start:
            self._sweep = self._sweep_rows()
            self._continue_sweep()
        self.clock.set_timer(
            self._timer,
            interval=_timedelta(config.resync_interval_secs),
            callback=lambda _event: self._check_resync(),
        )

    def on_stop(self) -> None:
        # Strategies stop after actors and their last orders (flattening, cancels) still
        # arrive: keep recording until the node disposes; only flush briefly here.
        if self._timer in self.clock.timer_names:
            self.clock.cancel_timer(self._timer)
        if self.writer is not None:
            self.writer.flush(min(2.0, self.config.flush_timeout_secs))

    def on_dispose(self) -> None:
        self._finish()

    def _finish(self) -> None:
        for topic, handler in self._handlers():
            if self.msgbus.is_subscribed(topic, handler):
                self.msgbus.unsubscribe(topic, handler)
        if self.writer is None:
            return
        if self.writer.overflowed or self._sweep is not None:
            # Finishing: queue the rest of the cache without a bound rather than lose it.
            self.writer.clear_overflow()
            self.writer.max_buffer = 1 << 62
            for chunk in self._sweep_rows():
                self.writer.submit(chunk)
            self._sweep = None
        self.writer.submit([self._run_row(finished=True)])
        if not self.writer.stop(self.config.flush_timeout_secs):
            self.log.error(
                f"Journal: {self.writer.pending} rows not written before stopping "
                f"({self.writer.stats.last_error}); the cache still holds them and the next "
                f"start with a Redis cache writes them",
            )
        self.writer = None

    def _handlers(self) -> list[tuple[str, object]]:
        return [
            ("events.order.*", self._on_order_event),
            ("events.position.*", self._on_position_event),
            ("events.account.*", self._on_account_state),
            (EXECUTION_QUALITY_TOPIC, self._on_execution_quality),
        ]

    # -- events -------------------------------------------------------------------------------

    def _on_order_event(self, event) -> None:
        out = [rows.order_event_row(event, self.scope)]
        order = self.cache.order(event.client_order_id)
        if order is not None:
            out.append(rows.order_row(order, self.scope, self.run_id))
        if isinstance(event, OrderFilled):
            out.append(rows.fill_row(event, self.scope, self.run_id))
        self._submit(out)

    def _on_position_event(self, event: PositionEvent) -> None:
        position = self.cache.position(event.position_id)
        self._submit(rows.position_event_rows(event, self.scope, self.run_id, position))

    def _on_account_state(self, event: AccountState) -> None:
        self._submit(rows.account_rows(event, self.scope, self.run_id, self.trader_id.value))

    def _on_execution_quality(self, quality: ExecutionQuality) -> None:
        self._submit(
            [rows.execution_quality_row(quality, self.scope, self.run_id, self.trader_id.value)]
        )

    def _submit(self, out: list[rows.Row]) -> None:
        if self.writer is None:
            return
        if not self.writer.submit(out) and not self._warned_full:
            self._warned_full = True
            self.log.warning(
                f"Journal buffer full ({self.writer.max_buffer} rows, PostgreSQL unavailable?): "
                f"will rewrite from the cache when it catches up",
            )
        self._check_resync()

    # -- catching up from the cache -----------------------------------------------------------

    def _check_resync(self) -> None:
        """On the event loop: start or continue a sweep once the writer has room again."""
        writer = self.writer
        if writer is None:
            return
        if writer.overflowed and self._sweep is None and writer.pending <= writer.max_buffer // 2:
            writer.clear_overflow()
            self._warned_full = False
            self.log.info("Journal catching up: rewriting orders, fills and positions from cache")
            self._sweep = self._sweep_rows()
        if self._sweep is not None:
            self._continue_sweep()

    def _continue_sweep(self) -> None:
        writer = self.writer
        while self._sweep is not None and writer.pending < writer.max_buffer // 2:
            chunk = next(self._sweep, None)
            if chunk is None:
                self._sweep = None
                break
            if not writer.submit(chunk):
                # No room after all: start over later (already-written rows are skipped by key).
                self._sweep = None
                break

    def _sweep_rows(self) -> Iterator[list[rows.Row]]:
        """Everything the cache holds, in chunks: orders (with events and fills), positions
        (current and snapshotted cycles) and account states."""
        chunk_size = max(1, self.config.sweep_chunk)
        chunk: list[rows.Row] = []
        for order in list(self.cache.orders()):
            chunk.extend(rows.order_rows_with_events(order, self.scope, self.run_id))
            if len(chunk) >= chunk_size:
                yield chunk
                chunk = []
        for position in list(self.cache.positions()):
            cycles = [*self.cache.position_snapshots(position.id), position]
            for cycle in cycles:
                chunk.extend(rows.position_rows(cycle, self.scope, self.run_id, position.id.value))
            if len(chunk) >= chunk_size:
                yield chunk
                chunk = []
        for account in list(self.cache.accounts()):
            for state in list(account.events):
                chunk.extend(
                    rows.account_rows(state, self.scope, self.run_id, self.trader_id.value)
                )
                if len(chunk) >= chunk_size:
                    yield chunk
                    chunk = []
        if chunk:
            yield chunk

    def _run_row(self, finished: bool) -> rows.Row:
        now = datetime.now(tz=UTC)
        stats = self.writer.stats if self.writer is not None else None
        return (
            "runs",
            {
                "run_id": self.run_id,
                "kind": "live",
                "trader_id": self.trader_id.value,
                "name": self.config.run_name or f"{self.trader_id.value} session",
                "config": {"actor": self.id.value},
                "metrics": (
                    {"rows_written": stats.written_rows, "write_failures": stats.failures}
                    if finished and stats
                    else {}
                ),
                "started_at": self._started_at,
                "finished_at": now if finished else None,
                "period_start": None,
                "period_end": None,
                "host": socket.gethostname(),
                "seraphim_version": _version(),
            },
        )


def _timedelta(seconds: int):
    from datetime import timedelta

    return timedelta(seconds=seconds)


def _version() -> str | None:
    try:
        from importlib.metadata import version

        return version("seraphim")
    except Exception:
        return None
