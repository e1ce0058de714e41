"""The REST client against the local exchange: signing, nonces, rate limits, faults, errors."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import web

from seraphim.adapters.kraken.common.credentials import Credentials
from seraphim.adapters.kraken.common.credentials import Secret
from seraphim.adapters.kraken.common.credentials import credentials_from_env
from seraphim.adapters.kraken.common.errors import KrakenAmbiguousError
from seraphim.adapters.kraken.common.errors import KrakenAuthError
from seraphim.adapters.kraken.common.errors import KrakenConfigError
from seraphim.adapters.kraken.common.errors import KrakenNonceError
from seraphim.adapters.kraken.common.errors import KrakenOrderError
from seraphim.adapters.kraken.common.errors import KrakenServiceError
from seraphim.adapters.kraken.common.errors import KrakenTransportError
from seraphim.adapters.kraken.http.client import KrakenHttpClient
from seraphim.adapters.kraken.http.endpoints import KrakenSpotApi
from seraphim.sim.kraken import AccountConfig
from seraphim.sim.kraken import KrakenSimServer

from .helpers import KEY
from .helpers import SECRET
from .helpers import http_client
from .helpers import run
from .helpers import sim_and_api
from .helpers import sim_config

# Kraken's REST authentication guide (the published worked example).
DOC_SECRET = (
    "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
)
DOC_NONCE = 1616492376594
DOC_POSTDATA = "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
DOC_SIGNATURE = (
    "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
)


async def _capture_server(reply: str = '{"error":[],"result":{"txid":["O1"]}}', status=200):
    seen: list[tuple[dict, bytes]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append((dict(request.headers), await request.read()))
        return web.Response(status=status, text=reply, content_type="application/json")

    app = web.Application()
    app.add_routes([web.post("/0/private/{m}", handler), web.get("/0/public/{m}", handler)])
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}", seen


def test_signed_request_matches_kraken_published_example() -> None:
    async def body():
        runner, url, seen = await _capture_server()
        client = KrakenHttpClient(url, Credentials("doc-key", Secret(DOC_SECRET)), public_rate=0)
        client._nonces.next = lambda: DOC_NONCE  # type: ignore[method-assign,union-attr]
        params = {"ordertype": "limit", "pair": "XBTUSD", "price": 37500, "type": "buy"}
        params["volume"] = "1.25"
        await client.private("AddOrder", params)
        await client.close()
        await runner.cleanup()
        headers, sent = seen[0]
        assert sent.decode() == DOC_POSTDATA
        assert headers["API-Sign"] == DOC_SIGNATURE
        assert headers["API-Key"] == "doc-key"

    run(body())


def test_public_endpoints_decode_into_structs() -> None:
    async def body():
        async with sim_and_api() as (sim, api):
            assert (await api.system_status()).status == "online"
            assert abs((await api.server_time()).unixtime - sim.exchange.now()) < 5
            pairs = await api.asset_pairs()
            assert set(pairs) == {"XXBTZUSD", "XETHZUSD"}
            assert pairs["XXBTZUSD"].symbol == "BTC/USD"
            key, rows, last = await api.ohlc("XBTUSD", 1)
            assert key == "XXBTZUSD" and rows[-1][0] > last  # the forming candle comes last
            key, trades, cursor = await api.trades("XBTUSD")
            assert trades and abs(cursor - trades[-1][2] * 1e9) < 1e6  # nanosecond cursor
            ticker = (await api.ticker(["XBTUSD"]))["XXBTZUSD"]
            assert float(ticker.a[0]) > float(ticker.b[0])

    run(body())


def test_concurrent_signed_calls_never_break_nonce_order() -> None:
    async def body():
        async with sim_and_api(rate_limits=False) as (sim, api):
            other = KrakenSpotApi(http_client(sim))  # a second client on the same key
            calls = [api.balance_ex() for _ in range(8)] + [other.balance() for _ in range(8)]
            results = await asyncio.gather(*calls)
            assert all(r for r in results)
            assert api.client.stats["errors:KrakenNonceError"] == 0
            assert other.client.stats["errors:KrakenNonceError"] == 0
            await other.client.close()

    run(body())


def test_invalid_nonce_is_retried_at_once_then_raised() -> None:
    async def body():
        async with sim_and_api(rate_limits=False) as (sim, api):
            sim.exchange.accounts[KEY].last_nonce = int(time.time() * 1000) + 60_000
            started = time.monotonic()
            with pytest.raises(KrakenNonceError, match="EAPI:Invalid nonce"):
                await api.balance()
            assert api.client.stats["requests:Balance"] == 4  # 1 + max_retries, no backoff
            assert time.monotonic() - started < 2

    run(body())


@pytest.mark.slow
def test_client_side_rate_limiter_keeps_under_the_venue_counter() -> None:
    async def body():
        config = sim_config(accounts=[AccountConfig(KEY, SECRET, tier="pro")])
        async with KrakenSimServer(config) as sim:
            client = http_client(sim, tier="pro")  # max 20, decays 1/s
            api = KrakenSpotApi(client)
            started = time.monotonic()
            for _ in range(23):
                await api.balance()
            elapsed = time.monotonic() - started
            assert client.stats["errors:KrakenRateLimitError"] == 0
            assert elapsed >= 3.0  # the last calls waited for the counter to decay
            assert client.limiter.waited_seconds > 2.5
            await client.close()

    run(body())


def test_venue_rate_limit_answers_back_off_without_a_storm() -> None:
    async def body():
        config = sim_config(accounts=[AccountConfig(KEY, SECRET, tier="starter")])
        async with KrakenSimServer(config) as sim:
            # A client that believes it is "pro" overruns the starter counter (max 15).
            client = http_client(sim, tier="pro", max_retries=2)
            api = KrakenSpotApi(client)
            for _ in range(15):
                await api.balance()
            started = time.monotonic()
            assert await api.balance()  # refused, then waited for the counter to decay
            attempts = client.stats["requests:Balance"] - 15
            assert 2 <= attempts <= 3 and client.stats["errors:KrakenRateLimitError"] >= 1
            assert time.monotonic() - started > 1.5  # the saturated counter paced the retries
            await client.close()

    run(body())


def test_rest_outage_is_retried_with_backoff_then_succeeds() -> None:
    async def body():
        async with sim_and_api() as (sim, api):
            sim.faults.rest_error("5xx", count=2, methods=["Balance"])
            started = time.monotonic()
            assert await api.balance()
            fired = [f for f in sim.faults.fired if f["method"] == "Balance"]
            assert len(fired) == 2 and api.client.stats["retries"] == 2
            assert time.monotonic() - started >= 0.05  # backed off (initial delay 0.05 s)

    run(body())


def test_persistent_outage_gives_up_after_bounded_attempts() -> None:
    async def body():
        async with sim_and_api() as (sim, api):
            sim.faults.rest_error("unavailable", count=100, methods=["Ticker"])
            with pytest.raises(KrakenServiceError, match="EService:Unavailable"):
                await api.ticker(["XBTUSD"])
            fired = [f for f in sim.faults.fired if f["method"] == "Ticker"]
            assert len(fired) == 4  # max_retries=3: no retry storm
            sim.faults.clear()

    run(body())


def test_add_order_with_a_lost_answer_is_never_resent() -> None:
    async def body():
        async with sim_and_api() as (sim, api):
            sim.faults.lose_ack(methods=["AddOrder"])
            params = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "price": "1000"}
            params |= {"volume": "0.01", "cl_ord_id": "lost-ack-1"}
            with pytest.raises(KrakenAmbiguousError, match="outcome is unknown"):
                await api.add_order(params)
            assert api.client.stats["requests:AddOrder"] == 1
            orders = list(sim.exchange.accounts[KEY].orders.values())
            assert len(orders) == 1 and orders[0].cl_ord_id == "lost-ack-1"
            found = await api.open_orders(cl_ord_id="lost-ack-1")
            assert list(found) == [orders[0].txid]

    run(body())


def test_add_order_timeout_is_ambiguous() -> None:
    async def body():
        async with KrakenSimServer(sim_config()) as sim:
            client = http_client(sim, timeout=0.5)
            sim.faults.rest_error("timeout", count=1, methods=["AddOrder"], delay=2.0)
            params = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "price": "1000"}
            with pytest.raises(KrakenAmbiguousError):
                await KrakenSpotApi(client).add_order(params | {"volume": "0.01"})
            assert client.stats["requests:AddOrder"] == 1
            await client.close()

    run(body())


def test_bad_credentials_and_unknown_pair_are_clear_errors_without_the_secret() -> None:
    async def body():
        async with KrakenSimServer(sim_config()) as sim:
            bad_key = KrakenHttpClient(sim.rest_url, Credentials("nope", Secret(SECRET)))
            with pytest.raises(KrakenAuthError, match="EAPI:Invalid key") as e1:
                await KrakenSpotApi(bad_key).balance()
            wrong_secret = "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA=="
            bad_sig = KrakenHttpClient(sim.rest_url, Credentials(KEY, Secret(wrong_secret)))
            with pytest.raises(KrakenAuthError, match="EAPI:Invalid signature") as e2:
                await KrakenSpotApi(bad_sig).balance()
            assert bad_key.stats["requests:Balance"] == 1  # auth errors are not retried
            for error, client, secret in ((e1, bad_key, SECRET), (e2, bad_sig, wrong_secret)):
                for text in (str(error.value), repr(error.value), repr(client)):
                    assert secret not in text
            api = KrakenSpotApi(http_client(sim))
            with pytest.raises(KrakenOrderError, match="EQuery:Unknown asset pair"):
                await api.ohlc("FOOBAR", 60)
            for client in (bad_key, bad_sig, api.client):
                await client.close()

    run(body())


def test_malformed_and_unreachable_answers_are_transport_errors() -> None:
    async def body():
        runner, url, _ = await _capture_server(reply="<html>gateway</html>")
        client = KrakenHttpClient(url, public_rate=0, max_retries=1, retry_delay_initial=0.01)
        with pytest.raises(KrakenTransportError, match="not a Kraken JSON answer"):
            await client.public("Time")
        assert client.stats["requests:Time"] == 2
        await client.close()
        await runner.cleanup()
        dead = KrakenHttpClient(url, public_rate=0, max_retries=0)
        with pytest.raises(KrakenTransportError, match="cannot connect"):
            await dead.public("Time")
        await dead.close()

    run(body())


def test_credentials_come_from_the_environment_only(monkeypatch) -> None:
    monkeypatch.delenv("KRAKEN_API_KEY", raising=False)
    monkeypatch.delenv("KRAKEN_API_SECRET", raising=False)
    with pytest.raises(KrakenConfigError, match="KRAKEN_API_KEY and KRAKEN_API_SECRET"):
        credentials_from_env()
    assert credentials_from_env(required=False) is None
    monkeypatch.setenv("KRAKEN_API_KEY", "k")
    monkeypatch.setenv("KRAKEN_API_SECRET", "not base64 !!! s3cr3t")
    with pytest.raises(KrakenConfigError, match="not valid base64") as error:
        credentials_from_env()
    assert "s3cr3t" not in str(error.value)
    monkeypatch.setenv("KRAKEN_API_SECRET", SECRET)
    creds = credentials_from_env()
    assert creds.api_secret.reveal() == SECRET
    assert SECRET not in repr(creds) and SECRET not in str(creds.api_secret)
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(creds.api_secret)


def test_a_signed_call_lock_left_held_by_a_dead_loop_does_not_block_the_next(monkeypatch) -> None:
    """A node's loop closed while a signed call held the key's lock; the next node's loop may
    get the same ``id()`` (simulated here: every object has one id) and must not wait forever."""
    from seraphim.adapters.kraken.http import client as http_client_module

    async def hold() -> None:
        await http_client_module._key_lock("dead-loop-key").acquire()  # never released

    monkeypatch.setattr(http_client_module, "id", lambda _obj: 1, raising=False)
    first = asyncio.new_event_loop()
    first.run_until_complete(hold())
    first.close()

    async def take() -> None:
        async with http_client_module._key_lock("dead-loop-key"):
            pass

    run(take(), timeout=2.0)
