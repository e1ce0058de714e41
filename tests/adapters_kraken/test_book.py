"""The checksum-validated book against Kraken's recorded v2 book stream and published rules."""

from __future__ import annotations

import json
import zlib
from decimal import Decimal

import msgspec
import pytest

from seraphim.adapters.kraken.book import KrakenBook
from seraphim.adapters.kraken.book_checksum import book_checksum
from seraphim.adapters.kraken.schemas.ws import BookMessage

DECODER = msgspec.json.Decoder(BookMessage)


def _stream(shared_data):
    raw = json.loads((shared_data / "kraken/ws/book_v2_btcusd_stream.json").read_text())
    return raw["init"], raw["updates"]


@pytest.mark.shared_data
def test_recorded_stream_every_checksum_matches(shared_data) -> None:
    init, updates = _stream(shared_data)
    book = KrakenBook(10, 1, 8)
    snapshot = DECODER.decode(json.dumps(init))
    book.apply_wire(snapshot.data[0].bids, snapshot.data[0].asks)
    assert book.checksum() == snapshot.data[0].checksum
    for message in updates:
        decoded = DECODER.decode(json.dumps(message))
        for data in decoded.data:
            book.apply_wire(data.bids, data.asks)
            assert book.checksum() == data.checksum
            assert len(book.bids) <= 10 and len(book.asks) <= 10
    assert len(updates) > 500


@pytest.mark.shared_data
def test_recorded_stream_agrees_with_the_shared_decimal_checksum(shared_data) -> None:
    """The integer formatting equals the Decimal formatting used by the local exchange."""
    init, updates = _stream(shared_data)
    book = KrakenBook(10, 1, 8)
    snapshot = DECODER.decode(json.dumps(init))
    book.apply_wire(snapshot.data[0].bids, snapshot.data[0].asks)
    for message in updates[:100]:
        data = DECODER.decode(json.dumps(message)).data[0]
        book.apply_wire(data.bids, data.asks)
        bids, asks = book.top(10)
        as_dec = [[(Decimal(p) / 10, Decimal(q) / 10**8) for p, q in side] for side in (asks, bids)]
        assert book.checksum() == book_checksum(as_dec[0], as_dec[1], 1, 8)


@pytest.mark.shared_data
def test_a_corrupted_or_missing_update_is_detected(shared_data) -> None:
    init, updates = _stream(shared_data)
    book = KrakenBook(10, 1, 8)
    snapshot = DECODER.decode(json.dumps(init))
    book.apply_wire(snapshot.data[0].bids, snapshot.data[0].asks)
    # A wrong quantity in one level
    message = json.loads(json.dumps(updates[0]))
    asks = [lv for lv in message["data"][0]["asks"] if lv["qty"]]
    best = min(asks, key=lambda lv: lv["price"])  # stays in the top 10
    best["qty"] = round(best["qty"] + 1e-8, 8)
    data = DECODER.decode(json.dumps(message)).data[0]
    book.apply_wire(data.bids, data.asks)
    assert book.checksum() != data.checksum
    # A skipped update: the next message no longer matches either
    book = KrakenBook(10, 1, 8)
    book.apply_wire(snapshot.data[0].bids, snapshot.data[0].asks)
    data = DECODER.decode(json.dumps(updates[1])).data[0]
    book.apply_wire(data.bids, data.asks)
    assert book.checksum() != data.checksum


def test_published_checksum_formatting() -> None:
    """Kraken's book guide: precision-formatted, point removed, leading zeros stripped."""
    book = KrakenBook(10, 5, 8)
    book.apply([(5005, 12345678)], [(5010, 100000000)])  # 0.05005 / 0.12345678; 0.0501 / 1.0
    assert book.checksum_string() == "5010100000000" + "500512345678"
    assert book.checksum() == zlib.crc32(b"5010100000000500512345678")


def test_updates_delete_insert_and_truncate_to_depth() -> None:
    book = KrakenBook(3, 1, 2)
    changes = book.apply([(100, 1), (99, 2), (98, 3)], [(101, 1), (102, 2), (103, 3)])
    assert len(changes) == 6 and all(not existed for *_, existed in changes)
    # a new better bid pushes the worst one out (truncation reported as a deletion)
    assert book.apply([(50, 0)], []) == []  # deleting an unknown level: no-op
    changes = book.apply([(101, 5)], [])
    assert changes == [(True, 101, 5, False), (True, 98, 0, True)]
    assert book.top(5)[0] == [(101, 5), (100, 1), (99, 2)]
    # quantity 0 deletes; an existing level is updated in place
    changes = book.apply([(100, 0), (99, 7)], [(101, 0)])
    assert changes == [(True, 100, 0, True), (True, 99, 7, True), (False, 101, 0, True)]
    assert book.best_bid() == (101, 5) and book.best_ask() == (102, 2)


def test_wire_floats_scale_exactly() -> None:
    book = KrakenBook(10, 1, 8)
    assert book.scale_price(29430.2) == 294302
    assert book.scale_qty(0.00011621) == 11621
    assert book.scale_qty(12345.12345678) == 1234512345678
