"""
The book path's speed-ups kept honest: cached checksum fragments against a from-scratch Decimal
checksum, nautilus deltas that rebuild the same book in nautilus's own ``OrderBook``, and the
fast path of Kraken's timestamps.
"""

from __future__ import annotations

import json
import random
from decimal import Decimal

import msgspec
import pytest
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.enums import BookAction
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import RecordFlag
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity

from seraphim.adapters.kraken.book import KrakenBook
from seraphim.adapters.kraken.book_checksum import book_checksum
from seraphim.adapters.kraken.book_deltas import BookDeltaBuilder
from seraphim.adapters.kraken.parsing import rfc3339_to_ns
from seraphim.adapters.kraken.schemas.ws import BookMessage

BTC = InstrumentId.from_str("BTC/USD.KRAKEN")
F_SNAPSHOT, F_LAST = int(RecordFlag.F_SNAPSHOT), int(RecordFlag.F_LAST)


def _reference_checksum(book: KrakenBook) -> int:
    """Sort and format everything again, as the local exchange does (Decimal)."""
    bids, asks = book.top(10)
    pp, sp = book.price_scale, book.qty_scale
    as_dec = [[(Decimal(p) / pp, Decimal(q) / sp) for p, q in side] for side in (asks, bids)]
    return book_checksum(as_dec[0], as_dec[1], book.price_precision, book.size_precision)


@pytest.mark.parametrize("depth", [25, 3])
def test_cached_fragments_match_a_fresh_checksum_after_every_random_update(depth: int) -> None:
    """Changes below the top 10, deletions pulling level 11 up, truncation into the top 10."""
    rng = random.Random(18)
    book = KrakenBook(depth, 1, 8)
    seen_unchanged_side = False
    for _ in range(3000):
        sides = [
            [
                (
                    rng.randint(1000, 1080) if side else rng.randint(1081, 1160),
                    rng.choice([0, 0, rng.randint(1, 10**9)]),
                )
                for _ in range(rng.choice([0, 1, 1, 1, 2, 3]))
            ]
            for side in (True, False)
        ]
        before = book.checksum()
        changes = book.apply(sides[0], sides[1])
        assert book.checksum() == _reference_checksum(book)
        assert len(book.bids) <= depth and len(book.asks) <= depth
        if not changes:
            assert book.checksum() == before
        seen_unchanged_side = seen_unchanged_side or (bool(sides[0]) != bool(sides[1]))
    assert seen_unchanged_side and len(book) == 2 * depth


def test_snapshot_deltas_clear_then_add_with_flags() -> None:
    book = KrakenBook(10, 1, 8)
    builder = BookDeltaBuilder(BTC, 1, 8)
    changes = book.apply([(294302, 18967538), (294296, 11621)], [(294303, 825215653)])
    deltas = builder.build(changes, snapshot=True, ts_event=5, ts_init=6).deltas
    assert [d.action for d in deltas] == [BookAction.CLEAR, *[BookAction.ADD] * 3]
    assert [d.flags for d in deltas] == [0, F_SNAPSHOT, F_SNAPSHOT, F_SNAPSHOT | F_LAST]
    first = deltas[1].order
    assert first.side == OrderSide.BUY
    assert first.price == Price.from_str("29430.2")
    assert first.size == Quantity.from_str("0.18967538")
    assert deltas[3].order.side == OrderSide.SELL
    assert deltas[3].order.size == Quantity.from_str("8.25215653")
    assert {(d.ts_event, d.ts_init) for d in deltas} == {(5, 6)}
    empty = BookDeltaBuilder(BTC, 1, 8).build([], snapshot=True, ts_event=1, ts_init=1).deltas
    assert [(d.action, d.flags) for d in empty] == [(BookAction.CLEAR, F_SNAPSHOT | F_LAST)]


def test_update_deltas_add_update_delete_and_truncation() -> None:
    book = KrakenBook(2, 1, 2)
    builder = BookDeltaBuilder(BTC, 1, 2)
    book.apply([(100, 1), (99, 2)], [])
    assert builder.build(book.apply([(50, 0)], []), False, 0, 0) is None  # nothing visible
    changes = book.apply([(100, 3), (101, 4)], [])  # update, then a new best pushes 99 out
    deltas = builder.build(changes, False, 0, 0).deltas
    assert [(d.action, d.order.price.as_double(), d.flags) for d in deltas] == [
        (BookAction.UPDATE, 10.0, 0),
        (BookAction.ADD, 10.1, 0),
        (BookAction.DELETE, 9.9, F_LAST),
    ]


@pytest.mark.shared_data
def test_recorded_stream_deltas_rebuild_the_same_book_in_nautilus(shared_data) -> None:
    raw = json.loads((shared_data / "kraken/ws/book_v2_btcusd_stream.json").read_text())
    decoder = msgspec.json.Decoder(BookMessage)
    book = KrakenBook(10, 1, 8)
    builder = BookDeltaBuilder(BTC, 1, 8)
    nautilus_book = OrderBook(BTC, BookType.L2_MBP)
    for message in [raw["init"], *raw["updates"]]:
        decoded = decoder.decode(json.dumps(message))
        snapshot = decoded.type == "snapshot"
        data = decoded.data[0]
        changes = book.apply_wire(data.bids, data.asks)
        assert book.checksum() == data.checksum
        ts = rfc3339_to_ns(data.timestamp) if data.timestamp else 0  # snapshots have none
        deltas = builder.build(changes, snapshot, ts, ts)
        if deltas is not None:
            nautilus_book.apply_deltas(deltas)
        bids, asks = book.top(10)
        assert [
            (round(lv.price * 10), round(lv.size() * 1e8)) for lv in nautilus_book.bids()
        ] == bids
        assert [
            (round(lv.price * 10), round(lv.size() * 1e8)) for lv in nautilus_book.asks()
        ] == asks
    assert nautilus_book.update_count > 500


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-07-30T15:29:58.343415Z", 1690730998_343415000),
        ("2023-07-30T15:29:58.343415123Z", 1690730998_343415123),
        ("2023-07-30T15:29:58.3Z", 1690730998_300000000),
        ("2023-07-30T15:29:58Z", 1690730998_000000000),
        ("2023-07-30T15:29:58.000001Z", 1690730998_000001000),
    ],
)
def test_rfc3339_timestamps(text: str, expected: int) -> None:
    assert rfc3339_to_ns(text) == expected
