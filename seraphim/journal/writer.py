"""
A background writer: rows go into a bounded in-memory buffer and a thread writes them to
PostgreSQL in batches, so the event loop never waits on the database.

When PostgreSQL is unreachable the writer keeps the rows, retries with backoff and catches up
when it returns. If the buffer reaches its bound, new rows are not kept and ``overflowed`` is set:
the owner (the journal actor) then rewrites everything from nautilus's cache, which still holds
every order, fill and position, so nothing is lost; keys make the rewrite write nothing twice.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field

from seraphim.journal.rows import Row
from seraphim.journal.settings import JournalError
from seraphim.journal.settings import connect
from seraphim.journal.settings import redact

log = logging.getLogger("seraphim.journal")


@dataclass
class WriterStats:
    written_rows: int = 0
    batches: int = 0
    failures: int = 0
    dropped_rows: int = 0
    rejected_rows: int = 0
    connected: bool = False
    last_error: str | None = None
    inserted: dict[str, int] = field(default_factory=dict)


class JournalWriter:
    """
    Parameters
    ----------
    dsn, schema : str
        Where to write (the DSN is held in memory only, never logged).
    max_buffer : int
        Most rows held while PostgreSQL is slow or down; beyond it rows are dropped and
        ``overflowed`` is set for the owner to resynchronise.
    batch_size : int
        Most rows per transaction.
    flush_interval : float
        Seconds the thread waits for more rows before writing a partial batch.
    retry_max : float
        Longest pause between reconnection attempts (backoff doubles from 0.1 s).
    on_error : callable, optional
        Called with a message on each failure (e.g. the actor's logger).
    """

    def __init__(
        self,
        dsn: str,
        schema: str,
        max_buffer: int = 100_000,
        batch_size: int = 1_000,
        flush_interval: float = 0.2,
        retry_max: float = 5.0,
        on_error: Callable[[str], None] | None = None,
        on_recover: Callable[[str], None] | None = None,
    ) -> None:
        self._dsn = dsn
        self.schema = schema
        self.max_buffer = max_buffer
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.retry_max = retry_max
        self._on_error = on_error or log.warning
        self._on_recover = on_recover or log.info
        self._buffer: deque[Row] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn = None
        self._in_flight = 0
        self.overflowed = False
        self.stats = WriterStats()

    # -- producer side (any thread, never blocks on I/O) ---------------------------------------

    def submit(self, rows: list[Row]) -> bool:
        """Queue rows; False (and ``overflowed``) when the buffer is full."""
        if not rows:
            return True
        with self._lock:
            if len(self._buffer) + self._in_flight + len(rows) > self.max_buffer:
                self.overflowed = True
                self.stats.dropped_rows += len(rows)
                return False
            self._buffer.extend(rows)
            self._idle.clear()
        self._wake.set()
        return True

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._buffer) + self._in_flight

    def clear_overflow(self) -> None:
        with self._lock:
            self.overflowed = False

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="seraphim-journal", daemon=True)
        self._thread.start()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued is written (True) or ``timeout`` passes (False)."""
        self._wake.set()
        return self._idle.wait(timeout)

    def stop(self, timeout: float = 10.0) -> bool:
        """Flush (up to ``timeout``), then stop the thread; True when nothing was left."""
        drained = self.flush(timeout)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=max(1.0, self.retry_max + 1))
            self._thread = None
        self._close()
        return drained

    # -- the thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            self._wake.wait(self.flush_interval)
            with self._lock:
                size = min(self.batch_size, len(self._buffer))
                batch = [self._buffer.popleft() for _ in range(size)]
                self._in_flight = len(batch)
                if not batch:
                    self._wake.clear()
                    self._idle.set()
                    continue
            try:
                self._write(batch)
                backoff = 0.1
                if self.stats.last_error is not None:
                    self.stats.last_error = None
                    self._on_recover(f"journal writing again; {self.pending} rows to catch up")
            except Exception as e:
                # Keep the batch (front of the queue, original order) and retry after a pause.
                with self._lock:
                    self._buffer.extendleft(reversed(batch))
                    self._in_flight = 0
                self.stats.failures += 1
                self.stats.connected = False
                self._close()
                reason = _describe(e)
                if reason != self.stats.last_error:
                    self._on_error(f"journal write failed ({reason}); {self.pending} rows buffered")
                self.stats.last_error = reason
                if self._stop.wait(backoff):
                    break
                backoff = min(backoff * 2, self.retry_max)
                continue
            with self._lock:
                self._in_flight = 0

    def _write(self, batch: list[Row]) -> None:
        import psycopg

        from seraphim.journal.store import write_rows

        if self._conn is None or self._conn.closed:
            from seraphim.journal.migrate import require_current

            conn = connect(self._dsn, self.schema, autocommit=True)
            try:
                require_current(conn, self.schema)  # not migrated: keep buffering, say why
            except Exception:
                conn.close()
                raise
            self._conn = conn
            self.stats.connected = True
        try:
            result = write_rows(self._conn, batch)
        except (psycopg.DataError, psycopg.IntegrityError) as e:
            # A row PostgreSQL will never accept: write the rest one by one, report the bad ones.
            self._write_one_by_one(batch, e)
            return
        self._account(result, len(batch))

    def _write_one_by_one(self, batch: list[Row], first_error: Exception) -> None:
        import psycopg

        from seraphim.journal.store import write_rows

        for row in batch:
            try:
                self._account(write_rows(self._conn, [row]), 1)
            except (psycopg.DataError, psycopg.IntegrityError) as e:
                self.stats.rejected_rows += 1
                self._on_error(f"journal rejected a {row[0]} row: {_describe(e)}")

    def _account(self, result, count: int) -> None:
        self.stats.written_rows += count
        self.stats.batches += 1
        for table, n in (result.inserted or {}).items():
            self.stats.inserted[table] = self.stats.inserted.get(table, 0) + n

    def _close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None


def _describe(error: Exception) -> str:
    if isinstance(error, JournalError):
        return str(error)
    text = str(error).strip().splitlines()
    return redact(f"{type(error).__name__}: {text[0] if text else ''}".strip())


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
