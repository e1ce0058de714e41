"""REST signing against Kraken's published worked example, and the shared book checksum."""

from __future__ import annotations

import json

import pytest

from seraphim.adapters.kraken.book_checksum import book_checksum
from seraphim.adapters.kraken.book_checksum import format_checksum_value
from seraphim.adapters.kraken.common.signing import sign_request
from seraphim.adapters.kraken.common.signing import verify_signature

from .client import docs_sign

# Kraken's REST authentication guide.
DOC_SECRET = (
    "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
)
DOC_NONCE = 1616492376594
DOC_POSTDATA = "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
DOC_SIGNATURE = (
    "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
)


def test_sign_request_matches_kraken_published_example() -> None:
    assert sign_request("/0/private/AddOrder", DOC_POSTDATA, DOC_NONCE, DOC_SECRET) == DOC_SIGNATURE
    # bytes input and the test client's independent implementation agree
    assert sign_request(
        "/0/private/AddOrder", DOC_POSTDATA.encode(), str(DOC_NONCE), DOC_SECRET
    ) == (DOC_SIGNATURE)
    assert docs_sign("/0/private/AddOrder", DOC_POSTDATA, DOC_NONCE, DOC_SECRET) == DOC_SIGNATURE


def test_verify_signature_rejects_any_change() -> None:
    path = "/0/private/AddOrder"
    assert verify_signature(path, DOC_POSTDATA, DOC_NONCE, DOC_SECRET, DOC_SIGNATURE)
    assert not verify_signature(path + "x", DOC_POSTDATA, DOC_NONCE, DOC_SECRET, DOC_SIGNATURE)
    assert not verify_signature(path, DOC_POSTDATA + "&x=1", DOC_NONCE, DOC_SECRET, DOC_SIGNATURE)
    assert not verify_signature(path, DOC_POSTDATA, DOC_NONCE + 1, DOC_SECRET, DOC_SIGNATURE)
    assert not verify_signature(path, DOC_POSTDATA, DOC_NONCE, "not base64!", DOC_SIGNATURE)


def test_sign_request_bad_secret_does_not_echo_it() -> None:
    with pytest.raises(ValueError) as info:
        sign_request("/0/private/Balance", "nonce=1", 1, "secret-with-#-chars")
    assert "secret-with" not in str(info.value)


def test_checksum_formatting() -> None:
    assert format_checksum_value("0.00011621", 8) == "11621"
    assert format_checksum_value(4.0, 8) == "400000000"
    assert format_checksum_value("29430.2", 1) == "294302"


def test_recorded_book_stream_validates_with_shared_checksum(shared_data) -> None:
    data = json.loads((shared_data / "kraken/ws/book_v2_btcusd_stream.json").read_text())
    bids: dict[str, float] = {}
    asks: dict[str, float] = {}

    def apply(entry: dict) -> int:
        for side, book in (("bids", bids), ("asks", asks)):
            for level in entry[side]:
                key = repr(level["price"])
                if level["qty"] == 0:
                    book.pop(key, None)
                else:
                    book[key] = level["qty"]
        for book, rev in ((bids, True), (asks, False)):
            for key in sorted(book, key=float, reverse=rev)[10:]:
                del book[key]
        a = sorted(((float(p), q) for p, q in asks.items()))
        b = sorted(((float(p), q) for p, q in bids.items()), reverse=True)
        return book_checksum(a, b, 1, 8)

    entries = [data["init"]["data"][0]] + [m["data"][0] for m in data["updates"]]
    assert len(entries) == 510
    assert all(apply(e) == e["checksum"] for e in entries)
    # altering one level makes the checksum differ
    price = next(iter(asks))
    asks[price] += 0.00000001
    a = sorted(((float(p), q) for p, q in asks.items()))
    b = sorted(((float(p), q) for p, q in bids.items()), reverse=True)
    assert book_checksum(a, b, 1, 8) != entries[-1]["checksum"]
