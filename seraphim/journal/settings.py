"""
Where the journal lives: a PostgreSQL DSN and schema from the environment.

``SERAPHIM_PG_DSN`` (default ``host=127.0.0.1 port=5432 dbname=seraphim user=postgres``; a libpq
key/value string or a ``postgresql://`` URL) and ``SERAPHIM_PG_SCHEMA`` (default ``journal``).
The DSN is read where it is used and never put in a config object, a log line, Redis or the
journal; what Seraphim prints is :func:`redact`-ed.
"""

from __future__ import annotations

import os
import re

DSN_ENV = "SERAPHIM_PG_DSN"
SCHEMA_ENV = "SERAPHIM_PG_SCHEMA"
DEFAULT_DSN = "host=127.0.0.1 port=5432 dbname=seraphim user=postgres"
DEFAULT_SCHEMA = "journal"
CONNECT_TIMEOUT_SECS = 5

_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class JournalError(Exception):
    """A journal operation that cannot be done; the message is for the user (no traceback)."""


def journal_dsn(dsn: str | None = None) -> str:
    return dsn or os.environ.get(DSN_ENV) or DEFAULT_DSN


def journal_schema(schema: str | None = None) -> str:
    name = schema or os.environ.get(SCHEMA_ENV) or DEFAULT_SCHEMA
    if not _SCHEMA_NAME.fullmatch(name):
        raise JournalError(
            f"journal schema {name!r} must be lower-case letters, digits and _ (from --schema "
            f"or ${SCHEMA_ENV})"
        )
    return name


def redact(dsn: str) -> str:
    """The DSN with any password replaced by ``***`` (key/value or URL form)."""
    dsn = re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", dsn, flags=re.I)
    return re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", dsn)


def describe(dsn: str) -> str:
    """A short, password-free description: ``host:port/dbname``."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        parts = conninfo_to_dict(dsn)
    except Exception:
        return redact(dsn)
    host = parts.get("host") or "localhost"
    port = parts.get("port") or "5432"
    return f"{host}:{port}/{parts.get('dbname') or parts.get('user') or '?'}"


def connect(
    dsn: str | None = None,
    schema: str | None = None,
    autocommit: bool = False,
    timeout: int = CONNECT_TIMEOUT_SECS,
):
    """
    A psycopg connection with ``search_path`` on the journal schema; ``JournalError`` with a
    clear, password-free message when PostgreSQL cannot be reached within ``timeout`` seconds
    (libpq's ``connect_timeout``: whole seconds, at least 2).
    """
    import psycopg

    dsn = journal_dsn(dsn)
    schema = journal_schema(schema)
    try:
        conn = psycopg.connect(
            dsn,
            autocommit=autocommit,
            connect_timeout=timeout,
            application_name="seraphim-journal",
        )
    except psycopg.OperationalError as e:
        reason = _first_line(e)
        if "timeout expired" in reason:
            reason = f"no answer within {timeout} s"
        if "does not exist" in reason and "database" in reason:
            reason += " (create it, or run `seraphim journal migrate --create-database`)"
        raise JournalError(f"cannot reach PostgreSQL at {describe(dsn)}: {reason}") from None
    except psycopg.ProgrammingError as e:
        raise JournalError(f"bad PostgreSQL DSN ({redact(dsn)}): {_first_line(e)}") from None
    with conn.cursor() as cur:
        cur.execute(f'SET search_path TO "{schema}"')
    if not autocommit:
        conn.commit()
    return conn


def _first_line(error: Exception) -> str:
    """libpq's reason without its preamble, e.g. ``Connection refused``."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    text = lines[0] if lines else type(error).__name__
    text = re.sub(r"^connection failed:\s*", "", text)
    text = re.sub(r"^connection to server (at|on) .*?(, port \d+)? failed:\s*", "", text)
    text = re.sub(r"^FATAL:\s*", "", text)
    return redact(text)
