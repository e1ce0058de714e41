"""
Operator actions and alerts in the journal, through the journal's background writer (never on
the event loop). Journaling is on when the node journals (``$SERAPHIM_JOURNAL``) or when asked.
"""

from __future__ import annotations

import os
from datetime import UTC
from datetime import datetime

from seraphim.journal.rows import Row
from seraphim.journal.rows import derived_id
from seraphim.journal.settings import DEFAULT_DSN
from seraphim.journal.settings import DSN_ENV
from seraphim.journal.settings import journal_schema
from seraphim.journal.writer import JournalWriter
from seraphim.ops.channel import Handled


def ops_writer(on_error, on_recover) -> JournalWriter:
    """A started writer to the journal named by the environment (the DSN never in a config)."""
    writer = JournalWriter(
        os.environ.get(DSN_ENV) or DEFAULT_DSN,
        journal_schema(None),
        max_buffer=10_000,
        on_error=on_error,
        on_recover=on_recover,
    )
    writer.start()
    return writer


def operator_action_row(trader_id: str, handled: Handled) -> Row:
    command, result = handled.command, handled.result
    return (
        "operator_actions",
        {
            "action_id": derived_id(trader_id, handled.entry_id),
            "trader_id": trader_id,
            "command_id": result.id or None,
            "operator": command.operator if command else None,
            "action": command.action if command else None,
            "command": command.public() if command else {},
            "status": result.status,
            "duplicate": result.duplicate,
            "detail": result.detail,
            "signed_at": _ts(command.ts) if command else None,
            "answered_at": _ts(result.ts),
        },
    )


def alert_row(trader_id: str, notice, delivered: bool, attempts: int, error: str | None) -> Row:
    return (
        "alerts",
        {
            "alert_id": derived_id(trader_id, notice.rule, notice.subject, notice.kind, notice.ts),
            "trader_id": trader_id,
            "rule": notice.rule,
            "subject": notice.subject,
            "severity": notice.severity,
            "kind": notice.kind,
            "message": notice.message,
            "raised_at": _ts(notice.ts),
            "delivered": delivered,
            "attempts": attempts,
            "error": error,
        },
    )


def _ts(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC)
