"""Framing, handshake and request routing at the byte level."""

from __future__ import annotations

import asyncio
import struct
from decimal import Decimal

import pytest

from seraphim.sim.ibkr.protocol import UNSET_DOUBLE
from seraphim.sim.ibkr.protocol import UNSET_INTEGER
from seraphim.sim.ibkr.protocol import FieldReader
from seraphim.sim.ibkr.protocol import ProtocolError
from seraphim.sim.ibkr.protocol import encode_frame
from seraphim.sim.ibkr.protocol import format_field
from seraphim.sim.ibkr.protocol import parse_version_offer
from seraphim.sim.ibkr.protocol import split_fields

from .helpers import async_test
from .helpers import gateway


def test_frame_is_length_prefixed_nul_terminated_fields() -> None:
    frame = encode_frame([9, 1, 42])
    assert frame == struct.pack(">I", 7) + b"9\x001\x0042\x00"
    assert split_fields(frame[4:]) == ["9", "1", "42"]


def test_field_formatting_matches_tws_conventions() -> None:
    assert format_field(True) == "1"
    assert format_field(False) == "0"
    assert format_field(UNSET_INTEGER) == ""
    assert format_field(UNSET_DOUBLE) == ""
    assert format_field(None) == ""
    assert format_field(100.0) == "100"
    assert format_field(189.12) == "189.12"
    assert format_field(Decimal("1500.0")) == "1500"
    assert format_field(Decimal("0.00010")) == "0.0001"


def test_version_offer_parsing() -> None:
    offer = parse_version_offer("v100..187 +PACEAPI")
    assert (offer.min_version, offer.max_version, offer.options) == (100, 187, "+PACEAPI")
    assert parse_version_offer("v176").max_version == 176
    with pytest.raises(ProtocolError):
        parse_version_offer("100..187")


def test_field_reader_types_and_short_messages() -> None:
    r = FieldReader(["3", "", "1.5", "1", "100.0"])
    assert r.int() == 3
    assert r.float(UNSET_DOUBLE) == UNSET_DOUBLE
    assert r.float() == 1.5
    assert r.bool() is True
    assert r.decimal() == Decimal(100)
    assert r.str() == ""  # past the end: empty, not an exception
    assert r.remaining < 0


async def _read(reader: asyncio.StreamReader) -> list[str]:
    (size,) = struct.unpack(">I", await reader.readexactly(4))
    return split_fields(await reader.readexactly(size))


@async_test
async def test_handshake_answers_one_frame_then_waits_for_start_api() -> None:
    async with gateway() as gw:
        reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
        writer.write(b"API\0" + struct.pack(">I", 9) + b"v100..187")
        await writer.drain()
        version, conn_time = await _read(reader)
        assert version == "176"
        assert conn_time[:2] in ("20", "19") and len(conn_time.split(" ")) == 3
        # Nothing else may arrive before startApi (nautilus parses only the first frame).
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(reader.readexactly(1), 0.3)
        writer.write(encode_frame([71, 2, 5, ""]))
        await writer.drain()
        assert await _read(reader) == ["9", "1", "1"]
        assert await _read(reader) == ["15", "1", "DU1234567"]
        farm = [await _read(reader) for _ in range(3)]
        assert [f[3] for f in farm] == ["2104", "2106", "2158"]
        assert all(f[:3] == ["4", "2", "-1"] for f in farm)
        # An unsupported request gets an error rather than silence.
        writer.write(encode_frame([24, 1]))  # reqScannerParameters
        await writer.drain()
        err = await _read(reader)
        assert err[:4] == ["4", "2", "-1", "321"] and "Unsupported request type 24" in err[4]
        assert gw.client_ids() == [5]
        writer.close()


@async_test
async def test_client_whose_range_excludes_176_is_refused() -> None:
    async with gateway() as gw:
        reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
        writer.write(b"API\0" + struct.pack(">I", 9) + b"v100..170")
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 2) == b""
        writer.close()
