"""The background writer on its own: batches, idempotent rewrites, a row PostgreSQL refuses."""

from __future__ import annotations

import uuid
from datetime import UTC
from datetime import datetime
from decimal import Decimal

from seraphim.journal.writer import JournalWriter

from .conftest import query


def fill(scope: str, trade: int, quantity: Decimal | None = Decimal("0.5")) -> tuple[str, dict]:
    return (
        "fills",
        {
            "scope": scope,
            "instrument_id": "BTC/USD.KRAKEN",
            "trade_id": f"T-{trade}",
            "client_order_id": f"O-{trade}",
            "run_id": None,
            "trader_id": "W-001",
            "strategy_id": "S-000",
            "account_id": "KRAKEN-001",
            "venue_order_id": f"V-{trade}",
            "position_id": None,
            "side": "BUY",
            "order_type": "MARKET",
            "quantity": quantity,
            "price": Decimal("65000.1"),
            "currency": "USD",
            "commission": Decimal("0.1"),
            "commission_currency": "USD",
            "liquidity_side": "TAKER",
            "event_id": uuid.uuid4(),
            "reconciliation": False,
            "ts_event": datetime.now(tz=UTC),
        },
    )


def test_batches_rewrites_and_a_refused_row(journal_db):
    dsn, schema = journal_db
    scope = f"live:W{uuid.uuid4().hex[:6]}-001"
    writer = JournalWriter(dsn, schema, batch_size=50, flush_interval=0.05)
    writer.start()
    try:
        assert writer.submit([fill(scope, i) for i in range(120)])
        assert writer.flush(10)
        # The same fills again (a retried batch, a sweep): nothing written twice.
        assert writer.submit([fill(scope, i) for i in range(120)])
        # One row PostgreSQL refuses (NOT NULL): the others still land, the bad one is counted.
        assert writer.submit([fill(scope, 200), fill(scope, 201, quantity=None), fill(scope, 202)])
        assert writer.flush(10)
    finally:
        assert writer.stop(5)
    rows = query(dsn, schema, "SELECT trade_id FROM fills WHERE scope = %s", (scope,))
    assert len(rows) == 122 and {"T-200", "T-202"} <= {r[0] for r in rows}
    assert writer.stats.rejected_rows == 1 and writer.stats.batches >= 3
    assert writer.stats.inserted["fills"] == 122  # inserted rows; duplicates did not count


def test_overflow_keeps_what_fits_and_says_so(journal_db):
    _, schema = journal_db
    writer = JournalWriter("host=127.0.0.1 port=1 dbname=x user=postgres", schema, max_buffer=10)
    writer.start()
    try:
        assert writer.submit([fill("live:X-1", i) for i in range(8)])
        assert not writer.submit([fill("live:X-1", i) for i in range(8, 12)])
        assert writer.overflowed and writer.stats.dropped_rows == 4 and writer.pending == 8
        assert not writer.flush(0.5)
    finally:
        assert not writer.stop(0.5)
