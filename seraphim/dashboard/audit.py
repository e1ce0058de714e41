"""
The dashboard's audit trail in the journal (``dashboard_audit``): a row is written before an
action is taken (no row, no action) and completed with its outcome.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.types.json import Jsonb

from seraphim.dashboard.users import User
from seraphim.journal.settings import JournalError
from seraphim.journal.settings import connect


class AuditUnavailable(JournalError):
    """The journal cannot record the action, so it is not taken."""


class Journal:
    """One connection to the journal shared by the app's worker threads (queries are short)."""

    def __init__(self, dsn: str | None = None, schema: str | None = None) -> None:
        self._dsn = dsn
        self._schema = schema
        self._conn = None
        self._lock = threading.Lock()

    @contextmanager
    def cursor(self) -> Iterator[psycopg.Cursor]:
        """A cursor in autocommit mode; a broken connection is replaced on the next use."""
        with self._lock:
            if self._conn is None or self._conn.closed:
                self._conn = connect(self._dsn, self._schema, autocommit=True)
            try:
                with self._conn.cursor() as cur:
                    yield cur
            except psycopg.OperationalError:
                self._conn.close()
                self._conn = None
                raise

    def query(self, sql: str, params: list | tuple = ()) -> list[dict]:
        with self.cursor() as cur:
            cur.execute(sql, params)
            names = [d.name for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


class AuditLog:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def begin(
        self, user: User | str, client: str | None, action: str, target: str | None, request: dict
    ) -> int:
        """Record an action about to be taken; ``AuditUnavailable`` when it cannot be."""
        name, role = (user.name, user.role) if isinstance(user, User) else (user, None)
        try:
            with self.journal.cursor() as cur:
                cur.execute(
                    "INSERT INTO dashboard_audit (username, role, client, action, target, "
                    "request, outcome) VALUES (%s, %s, %s, %s, %s, %s, 'pending') "
                    "RETURNING audit_id",
                    (name, role, client, action, target, Jsonb(request)),
                )
                return cur.fetchone()[0]
        except (psycopg.Error, JournalError) as e:
            raise AuditUnavailable(f"journal unavailable, action not taken: {e}") from None

    def finish(self, audit_id: int, outcome: str, detail: str) -> None:
        try:
            with self.journal.cursor() as cur:
                cur.execute(
                    "UPDATE dashboard_audit SET outcome = %s, detail = %s, finished_at = now() "
                    "WHERE audit_id = %s",
                    (outcome, detail, audit_id),
                )
        except (psycopg.Error, JournalError):
            pass  # the action happened; its row stays 'pending', which says so

    def record(
        self,
        user: User | str,
        client: str | None,
        action: str,
        outcome: str,
        detail: str,
        target: str | None = None,
    ) -> None:
        """An action already decided (a login, a refusal): one complete row."""
        audit_id = self.begin(user, client, action, target, {})
        self.finish(audit_id, outcome, detail)

    def recent(self, limit: int, before: int | None = None) -> list[dict]:
        clause = "WHERE audit_id < %s" if before else ""
        params = [before] if before else []
        return self.journal.query(
            f"SELECT audit_id, at, username, role, client, action, target, request, outcome, "
            f"detail, finished_at FROM dashboard_audit {clause} ORDER BY audit_id DESC LIMIT %s",
            [*params, limit],
        )
