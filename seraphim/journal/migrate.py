"""
The journal's versioned schema: numbered SQL files in ``migrations/`` applied in order, each in
its own transaction, recorded in ``schema_migrations`` (with a checksum), under an advisory lock
so two processes migrating at once apply each step exactly once.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

from seraphim.journal.settings import CONNECT_TIMEOUT_SECS
from seraphim.journal.settings import JournalError
from seraphim.journal.settings import connect
from seraphim.journal.settings import describe
from seraphim.journal.settings import journal_dsn
from seraphim.journal.settings import journal_schema

_FILE = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def migrations() -> list[Migration]:
    """The migrations shipped with Seraphim, in version order."""
    found = []
    for entry in resources.files("seraphim.journal").joinpath("migrations").iterdir():
        match = _FILE.fullmatch(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text()))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"journal migrations are not numbered 1..n: {versions}")
    return found


def latest_version() -> int:
    return migrations()[-1].version


def _lock_key(schema: str) -> int:
    digest = hashlib.sha256(f"seraphim-journal:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def applied_versions(conn, schema: str) -> dict[int, str]:
    """``{version: checksum}`` of applied migrations (empty when the schema is new)."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT 1 FROM information_schema.tables "
            "WHERE table_schema = %s AND table_name = 'schema_migrations'",
            (schema,),
        )
        if cur.fetchone() is None:
            return {}
        cur.execute(f'SELECT version, checksum FROM "{schema}".schema_migrations')
        return dict(cur.fetchall())


def migrate(dsn: str | None = None, schema: str | None = None) -> list[Migration]:
    """Apply pending migrations; returns the ones applied (empty when up to date)."""
    schema = journal_schema(schema)
    conn = connect(dsn, schema, autocommit=True)
    applied_now = []
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (_lock_key(schema),))
        try:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                cur.execute(
                    f'CREATE TABLE IF NOT EXISTS "{schema}".schema_migrations ('
                    "version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, "
                    "applied_at timestamptz NOT NULL DEFAULT now())"
                )
            done = applied_versions(conn, schema)
            known = {m.version for m in migrations()}
            newer = sorted(set(done) - known)
            if newer:
                raise JournalError(
                    f"journal schema {schema!r} is at version {max(done)}, newer than this "
                    f"Seraphim knows ({max(known)}): upgrade Seraphim"
                )
            for migration in migrations():
                if migration.version in done:
                    continue
                with conn.transaction(), conn.cursor() as cur:
                    cur.execute(f'SET LOCAL search_path TO "{schema}"')
                    cur.execute(migration.sql)
                    cur.execute(
                        "INSERT INTO schema_migrations (version, name, checksum) "
                        "VALUES (%s, %s, %s)",
                        (migration.version, migration.name, migration.checksum),
                    )
                applied_now.append(migration)
        finally:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s)", (_lock_key(schema),))
    finally:
        conn.close()
    return applied_now


def changed_migrations(conn, schema: str) -> list[int]:
    """Versions whose recorded checksum differs from the shipped file (edited after applying)."""
    done = applied_versions(conn, schema)
    return [m.version for m in migrations() if m.version in done and done[m.version] != m.checksum]


def require_current(conn, schema: str) -> None:
    """``JournalError`` (naming the fix) unless the schema is fully migrated."""
    done = applied_versions(conn, schema)
    latest = latest_version()
    current = max(done) if done else 0
    if current < latest:
        raise JournalError(
            f"journal schema {schema!r} is at version {current} of {latest}: "
            f"run `seraphim journal migrate`"
        )


def check_journal(
    dsn: str | None = None, schema: str | None = None, timeout: int = CONNECT_TIMEOUT_SECS
) -> None:
    """
    The journal (``dsn``, else ``$SERAPHIM_PG_DSN``; ``schema``, else ``$SERAPHIM_PG_SCHEMA``)
    answers within ``timeout`` seconds and its schema is migrated; else ``JournalError`` with a
    one-line, password-free message naming PostgreSQL and its address.
    """
    schema = journal_schema(schema)
    conn = connect(dsn, schema, autocommit=True, timeout=timeout)
    try:
        require_current(conn, schema)
    finally:
        conn.close()


def ensure_database(dsn: str | None = None) -> bool:
    """Create the DSN's database when it does not exist (connecting to ``postgres``)."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict
    from psycopg.conninfo import make_conninfo

    dsn = journal_dsn(dsn)
    params = conninfo_to_dict(dsn)
    name = params.get("dbname")
    if not name:
        return False
    admin = make_conninfo(dsn, dbname="postgres")
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if exists.fetchone():
                return False
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return True
    except psycopg.OperationalError as e:
        raise JournalError(
            f"cannot reach PostgreSQL at {describe(dsn)} to create database {name!r}: "
            f"{str(e).strip().splitlines()[-1]}"
        ) from None
    except psycopg.Error as e:
        raise JournalError(f"cannot create database {name!r}: {e}".strip()) from None
