"""
Before a node starts, every external dependency it needs answers within a bounded time, or the
run ends at once with one line naming the dependency: the venue's REST API and WebSockets,
Redis (``--state redis``), PostgreSQL (``--journal``) and the IB gateway.

nautilus would otherwise wait inside native code (Redis: up to 100 reconnect attempts with
backoff, holding the GIL, so no signal is handled) or keep "running" with clients that never
connected.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from seraphim.node.config import NodeSpec

WS_FIRST_MESSAGE_SECS = 10.0


class DependencyError(RuntimeError):
    """A dependency the node needs is unreachable; the message names it and the reason."""


def check_dependencies(spec: NodeSpec, node_config: Any) -> None:
    """Every dependency of ``node_config`` (a ``TradingNodeConfig``) answers, else raise."""
    if "KRAKEN" in node_config.data_clients:  # an IB-only node has no Kraken to check
        asyncio.run(check_kraken(spec, node_config.data_clients["KRAKEN"].pairs))
    if "INTERACTIVE_BROKERS" in node_config.data_clients:  # nautilus would retry forever
        from seraphim.adapters.ibkr.node import IbkrGatewayError
        from seraphim.adapters.ibkr.node import ibkr_preflight

        try:
            ibkr_preflight(node_config.data_clients["INTERACTIVE_BROKERS"])
        except IbkrGatewayError as e:
            raise DependencyError(str(e)) from None
    database = node_config.cache.database if node_config.cache else None
    if database is not None:
        check_redis(database)
    journal_paths = {a.actor_path for a in node_config.actors}
    if "seraphim.journal.actor:JournalActor" in journal_paths:
        check_journal()


async def check_kraken(spec: NodeSpec, pairs: list[str] | None) -> None:
    """
    The REST API answers (and knows the pairs; for trading, accepts the key) and both
    WebSockets send their first message, each within its timeout.
    """
    k = spec.kraken
    assert k is not None
    # Retries included, a silent venue still ends here (one slow answer is not a failure).
    limit = k.http_timeout_secs * 1.5 + 2.0
    try:
        await asyncio.wait_for(_check_kraken_rest(spec, pairs), limit)
    except TimeoutError:
        raise DependencyError(
            f"Kraken REST API at {k.rest_url} did not answer within {limit:.0f} s"
        ) from None
    await check_websocket("Kraken public WebSocket", k.ws_public_url)
    if spec.execution == "kraken":
        await check_websocket("Kraken private WebSocket", k.ws_private_url)


async def _check_kraken_rest(spec: NodeSpec, pairs: list[str] | None) -> None:
    from seraphim.adapters.kraken.credentials import credentials_from_env
    from seraphim.adapters.kraken.factories import get_kraken_http_client
    from seraphim.adapters.kraken.http.endpoints import KrakenSpotApi
    from seraphim.adapters.kraken.http.errors import KrakenAuthError
    from seraphim.adapters.kraken.http.errors import KrakenConfigError
    from seraphim.adapters.kraken.http.errors import KrakenTransportError
    from seraphim.adapters.kraken.pairs import find_pair

    k = spec.kraken
    assert k is not None
    trading = spec.execution == "kraken"
    credentials = credentials_from_env(None, k.api_key_env, k.api_secret_env, required=trading)
    # The node's own shared client: its rate-limit counter carries over to the node.
    client = get_kraken_http_client(
        k.rest_url,
        credentials,
        tier=k.tier,
        timeout=k.http_timeout_secs,
        max_retries=k.max_retries,
        public_rate=k.public_rate_per_sec,
    )
    api = KrakenSpotApi(client)
    try:
        try:
            listed = await api.asset_pairs()
        except KrakenTransportError as e:
            raise DependencyError(f"Kraken REST API at {k.rest_url} is unreachable: {e}") from None
        for pair in pairs or []:
            try:
                find_pair(listed, pair)
            except KeyError:
                raise KrakenConfigError(f"unknown Kraken pair {pair!r} at {k.rest_url}") from None
        if trading:
            try:
                await api.balance_ex()
            except KrakenAuthError as e:
                if "127.0.0.1" in k.rest_url or "localhost" in k.rest_url:
                    raise KrakenAuthError(
                        [
                            *e.errors,
                            f"(the local exchange accepts only the key it was started with: "
                            f"export the same ${k.api_key_env} / ${k.api_secret_env} in both "
                            f"terminals)",
                        ],
                        method=e.method,
                    ) from None
                raise
    finally:
        await client.close()


async def check_websocket(name: str, url: str, timeout: float = WS_FIRST_MESSAGE_SECS) -> None:
    """The WebSocket at ``url`` accepts a connection and sends a message within ``timeout``."""
    try:
        async with aiohttp.ClientSession() as session:
            async with asyncio.timeout(timeout):
                async with session.ws_connect(url, heartbeat=None) as ws:
                    message = await ws.receive()
            if message.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                raise DependencyError(f"{name} at {url} closed at once ({message.type.name})")
    except TimeoutError:
        raise DependencyError(f"{name} at {url} did not answer within {timeout:.0f} s") from None
    except (aiohttp.ClientError, OSError) as e:
        raise DependencyError(f"{name} at {url} is unreachable: {_reason(e)}") from None


def check_redis(database: Any) -> None:
    """Redis (nautilus's ``DatabaseConfig``) answers PING within seraphim.state's timeout."""
    from seraphim.state.settings import RedisSettings
    from seraphim.state.settings import RedisUnavailable
    from seraphim.state.settings import connect_redis

    settings = RedisSettings(
        host=database.host or "127.0.0.1",
        port=database.port or 6379,
        username=database.username,
        password=database.password,
        ssl=database.ssl,
    )
    try:
        connect_redis(settings).close()
    except RedisUnavailable as e:
        raise DependencyError(f"{e} (--state redis)") from None


def check_journal() -> None:
    """The PostgreSQL journal (``--journal``) answers and its schema is migrated."""
    from seraphim.journal.migrate import require_current
    from seraphim.journal.settings import JournalError
    from seraphim.journal.settings import connect
    from seraphim.journal.settings import journal_schema

    try:
        conn = connect(autocommit=True)
        try:
            require_current(conn, journal_schema())
        finally:
            conn.close()
    except JournalError as e:
        raise DependencyError(f"journal (--journal): {e}") from None


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return text or type(error).__name__
