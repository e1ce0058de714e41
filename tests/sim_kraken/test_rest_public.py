"""REST public endpoints: same keys, types and number formatting as recorded real responses."""

from __future__ import annotations

import itertools
import json
import re

import aiohttp
import pytest

from seraphim.sim.kraken import KrakenSimServer

from .client import RestClient
from .helpers import make_config
from .helpers import run
from .helpers import sim_and_client

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def shape(value):
    """Keys, types and, for numeric strings, the number of decimals."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    if isinstance(value, str) and _NUMBER.match(value):
        return ("decimal-string", len(value.partition(".")[2]))
    return type(value).__name__


def rows_shape(rows: list) -> set[str]:
    return {json.dumps(shape(r)) for r in rows}


def recorded(shared_data, name: str) -> dict:
    return json.loads((shared_data / "kraken/rest" / name).read_text())


async def _fetch_all(shared_data) -> dict[str, dict]:
    config = make_config(
        pairs=["XBTUSDT"],
        sources={},
        asset_pairs_file=shared_data / "kraken/rest/asset_pairs.json",
        random_walk={"warmup_seconds": 13 * 3600, "start_price": "105000"},
        accounts=[],
    )
    async with KrakenSimServer(config) as sim, aiohttp.ClientSession() as session:
        await sim.advance(30)
        client = RestClient(session, sim.rest_url)
        out = {
            "server_time.json": await client.public("Time"),
            "system_status.json": await client.public("SystemStatus"),
            "asset_pairs.json": await client.public("AssetPairs", pair="XBTUSDT"),
            "ticker.json": await client.public("Ticker", pair="XBTUSDT"),
            "order_book.json": await client.public("Depth", pair="XBTUSDT", count=5),
            "ohlc.json": await client.public("OHLC", pair="XBTUSDT", interval=1),
            "trades.json": await client.public("Trades", pair="XBTUSDT", since=0),
        }
        return out


@pytest.fixture(scope="module")
def responses(shared_data) -> dict[str, dict]:
    return run(_fetch_all(shared_data))


@pytest.mark.parametrize(
    "name", ["server_time.json", "system_status.json", "asset_pairs.json", "ticker.json"]
)
def test_same_shape_as_recording(shared_data, responses, name) -> None:
    assert shape(responses[name]) == shape(recorded(shared_data, name))


def test_depth_rows_match_recording(shared_data, responses) -> None:
    real = recorded(shared_data, "order_book.json")["result"]["XBTUSDT"]
    ours = responses["order_book.json"]["result"]["XBTUSDT"]
    assert set(ours) == set(real) == {"asks", "bids"}
    for side in ("asks", "bids"):
        assert len(ours[side]) == len(real[side]) == 5
        assert rows_shape(ours[side]) == rows_shape(real[side])
    assert float(ours["asks"][0][0]) > float(ours["bids"][0][0])


def test_ohlc_window_and_cursor_match_recording(shared_data, responses) -> None:
    real = recorded(shared_data, "ohlc.json")["result"]
    ours = responses["ohlc.json"]["result"]
    assert set(ours) == set(real) == {"XBTUSDT", "last"}
    assert len(ours["XBTUSDT"]) == len(real["XBTUSDT"]) == 721
    assert type(ours["last"]) is type(real["last"]) is int
    # `last` is the time of the last committed row: the row before the current, uncommitted one
    assert ours["last"] == ours["XBTUSDT"][-2][0] and real["last"] == real["XBTUSDT"][-2][0]
    assert rows_shape(ours["XBTUSDT"]) <= rows_shape(real["XBTUSDT"])
    times = [r[0] for r in ours["XBTUSDT"]]
    assert all(b - a == 60 for a, b in itertools.pairwise(times))


def test_trades_rows_and_cursor_match_recording(shared_data, responses) -> None:
    real = recorded(shared_data, "trades.json")["result"]
    ours = responses["trades.json"]["result"]
    assert set(ours) == set(real) == {"XBTUSDT", "last"}
    assert rows_shape(ours["XBTUSDT"]) == rows_shape(real["XBTUSDT"][:1])
    assert isinstance(ours["last"], str) and len(ours["last"]) == len(real["last"]) == 19
    assert int(ours["last"]) == round(ours["XBTUSDT"][-1][2] * 1e9)


def test_trades_since_pages_without_overlap() -> None:
    async def body():
        async with sim_and_client(sources={}) as (_sim, client):
            first = (await client.public("Trades", pair="XBTUSD", since=0, count=10))["result"]
            page = first["XXBTZUSD"]
            assert len(page) == 10
            second = (await client.public("Trades", pair="XBTUSD", since=first["last"]))["result"]
            ids = [r[6] for r in page] + [r[6] for r in second["XXBTZUSD"]]
            assert ids == sorted(set(ids))  # increasing, no repeats
            assert ids[10] == ids[9] + 1
            # nothing after the newest trade; `last` stays put
            third = (await client.public("Trades", pair="XBTUSD", since=second["last"]))["result"]
            assert third["XXBTZUSD"] == [] and third["last"] == second["last"]

    run(body())


def test_ohlc_since_returns_only_newer_rows() -> None:
    async def body():
        async with sim_and_client(sources={}) as (_sim, client):
            full = (await client.public("OHLC", pair="XBTUSD"))["result"]
            newer = (await client.public("OHLC", pair="XBTUSD", since=full["last"]))["result"]
            assert [r[0] for r in newer["XXBTZUSD"]] == [full["XXBTZUSD"][-1][0]]
            bad = await client.public("OHLC", pair="XBTUSD", interval=7)
            assert bad["error"] == ["EGeneral:Invalid arguments:interval"]

    run(body())


def test_public_errors_use_kraken_strings() -> None:
    async def body():
        async with sim_and_client() as (_sim, client):
            assert (await client.public("Ticker", pair="FOOBAR"))["error"] == [
                "EQuery:Unknown asset pair"
            ]
            assert (await client.public("Depth", pair="XBTUSD", count=501))["error"] == [
                "EGeneral:Invalid arguments:count"
            ]
            assert (await client.public("Nope"))["error"] == ["EGeneral:Unknown method"]
            depth = (await client.public("Depth", pair="BTC/USD", count=2))["result"]
            assert depth["XXBTZUSD"]["asks"][0][:2] == ["50000.00000", "0.500"]
            assert depth["XXBTZUSD"]["bids"][1][:2] == ["49980.00000", "1.000"]
            spread = (await client.public("Spread", pair="XBTUSD"))["result"]
            assert spread["XXBTZUSD"][-1][1:] == ["49990.00000", "50000.00000"]
            assets = (await client.public("Assets", asset="XXBT"))["result"]
            assert assets["XXBT"]["altname"] == "XBT" and assets["XXBT"]["decimals"] == 10

    run(body())
