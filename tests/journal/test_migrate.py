"""The versioned schema: migrations apply once, in order, and are checked before use."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from click.testing import CliRunner

from seraphim.journal.cli import journal
from seraphim.journal.migrate import check_journal
from seraphim.journal.migrate import latest_version
from seraphim.journal.migrate import migrate
from seraphim.journal.migrate import migrations
from seraphim.journal.migrate import require_current
from seraphim.journal.settings import JournalError
from seraphim.journal.settings import connect
from seraphim.journal.settings import redact

from .conftest import drop_schema
from .conftest import new_schema
from .conftest import query


def test_migrations_are_numbered_and_shipped():
    found = migrations()
    assert [m.version for m in found] == list(range(1, len(found) + 1))
    assert found[0].name == "initial" and "CREATE TABLE fills" in found[0].sql


def test_migrate_applies_once_and_records_versions(pg_dsn):
    schema = new_schema()
    try:
        applied = migrate(pg_dsn, schema)
        assert [m.version for m in applied] == list(range(1, latest_version() + 1))
        assert migrate(pg_dsn, schema) == []  # up to date: nothing applied
        rows = query(pg_dsn, schema, "SELECT version, checksum FROM schema_migrations")
        assert {v for v, _ in rows} == {m.version for m in migrations()}
        assert {c for _, c in rows} == {m.checksum for m in migrations()}
        tables = {
            r[0]
            for r in query(
                pg_dsn,
                schema,
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            )
        }
        assert tables >= {
            "runs",
            "orders",
            "order_events",
            "fills",
            "positions",
            "position_events",
            "account_snapshots",
            "daily_pnl",
            "daily_fees",
        }
    finally:
        drop_schema(pg_dsn, schema)


def test_concurrent_migrations_apply_each_step_once(pg_dsn):
    schema = new_schema()
    results, errors = [], []

    def run():
        try:
            results.append(migrate(pg_dsn, schema))
        except Exception as e:
            errors.append(e)

    try:
        threads = [threading.Thread(target=run) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not errors
        assert sorted(len(r) for r in results) == [0, 0, 0, latest_version()]
    finally:
        drop_schema(pg_dsn, schema)


def test_unmigrated_schema_is_refused_with_the_fix(pg_dsn):
    schema = new_schema()
    conn = connect(pg_dsn, schema, autocommit=True)
    try:
        with pytest.raises(JournalError, match=r"version 0 of \d+: run `seraphim journal migrate`"):
            require_current(conn, schema)
    finally:
        conn.close()


def test_cli_migrate_status_and_bad_inputs(pg_dsn, monkeypatch):
    schema = new_schema()
    monkeypatch.setenv("SERAPHIM_PG_DSN", pg_dsn)
    monkeypatch.setenv("SERAPHIM_PG_SCHEMA", schema)
    runner = CliRunner()
    try:
        result = runner.invoke(journal, ["pnl"])
        assert result.exit_code == 1 and "run `seraphim journal migrate`" in result.output
        result = runner.invoke(journal, ["migrate"])
        assert result.exit_code == 0, result.output
        assert "applied 0001_initial" in result.output
        result = runner.invoke(journal, ["migrate"])
        assert "up to date" in result.output
        result = runner.invoke(journal, ["status", "--json"])
        assert result.exit_code == 0 and f'"version": {latest_version()}' in result.output
        result = runner.invoke(journal, ["pnl"])
        assert result.exit_code == 0 and "nothing recorded" in result.output
        result = runner.invoke(journal, ["pnl", "--schema", "Bad-Name"])
        assert result.exit_code == 1 and "lower-case" in result.output
        result = runner.invoke(journal, ["pnl", "--run", "deadbeef"])
        assert result.exit_code == 1 and "no run 'deadbeef'" in result.output
        result = runner.invoke(journal, ["pnl", "--since", "yesterday"])
        assert result.exit_code == 1 and "not a date" in result.output
    finally:
        drop_schema(pg_dsn, schema)


def test_unreachable_postgres_is_one_clear_line(monkeypatch):
    runner = CliRunner()
    monkeypatch.setenv(
        "SERAPHIM_PG_DSN", "host=127.0.0.1 port=1 dbname=x user=postgres password=hunter2"
    )
    for args in (["pnl"], ["migrate"], ["trades"], ["status"]):
        result = runner.invoke(journal, args)
        assert result.exit_code == 1, result.output
        assert result.output.startswith("error: cannot reach PostgreSQL at 127.0.0.1:1/x")
        assert "Traceback" not in result.output and "hunter2" not in result.output
    monkeypatch.setenv(
        "SERAPHIM_PG_DSN", "host=127.0.0.1 port=5432 dbname=seraphim_nope_db user=postgres"
    )
    result = runner.invoke(journal, ["status"])
    assert result.exit_code == 1 and "--create-database" in result.output


def test_check_journal_answers_within_its_timeout(pg_dsn, journal_db):
    """What a node checks before it starts: reachable, migrated, or one line naming why not."""
    dsn, schema = journal_db
    check_journal(dsn, schema, timeout=2)
    with pytest.raises(JournalError, match="version 0 of"):
        check_journal(dsn, new_schema(), timeout=2)
    hung = socket.socket()  # accepts connections, never answers
    hung.bind(("127.0.0.1", 0))
    hung.listen(8)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    try:
        for port, reason in ((closed, "Connection refused"), (hung.getsockname()[1], "no answer")):
            bad = f"host=127.0.0.1 port={port} dbname=x user=postgres password=hunter2"
            started = time.monotonic()
            with pytest.raises(JournalError) as caught:
                check_journal(bad, schema, timeout=2)
            assert time.monotonic() - started < 5
            message = str(caught.value)
            assert message.startswith(f"cannot reach PostgreSQL at 127.0.0.1:{port}/x: ")
            assert reason in message and "hunter2" not in message and "\n" not in message
    finally:
        hung.close()


def test_redact_hides_passwords():
    assert "s3cret" not in redact("host=x password=s3cret user=u")
    assert "s3cret" not in redact("host=x password='s3 cret' user=u".replace("s3 cret", "s3cret"))
    assert redact("postgresql://u:s3cret@h:5432/db") == "postgresql://u:***@h:5432/db"
