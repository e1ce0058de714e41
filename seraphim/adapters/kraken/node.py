"""
The hooks ``seraphim node run`` calls for a node file's ``kraken:`` section: the section itself,
the Kraken client configs and factories it makes, and the preflight that fails fast when the
venue does not answer.

```yaml
kraken:
  rest_url: http://127.0.0.1:8090          # default: https://api.kraken.com
  ws_public_url: ws://127.0.0.1:8090/v2
  ws_private_url: ws://127.0.0.1:8091/v2
  api_key_env: KRAKEN_API_KEY              # the secret is only ever in the environment
  pairs: [BTC/USD]                         # default: the pairs the strategies trade
```
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import aiohttp
import msgspec
from nautilus_trader.config import InstrumentProviderConfig

from seraphim.adapters.kraken.common.constants import KRAKEN
from seraphim.adapters.kraken.common.credentials import DEFAULT_KEY_ENV
from seraphim.adapters.kraken.common.credentials import DEFAULT_SECRET_ENV
from seraphim.adapters.kraken.common.errors import KrakenConfigError
from seraphim.adapters.kraken.config import KrakenDataClientConfig
from seraphim.adapters.kraken.config import KrakenExecClientConfig
from seraphim.adapters.kraken.http.client import DEFAULT_REST_URL
from seraphim.adapters.kraken.websocket.client import DEFAULT_WS_PRIVATE_URL
from seraphim.adapters.kraken.websocket.client import DEFAULT_WS_PUBLIC_URL

ACCOUNT_TYPE = "CASH"  # Kraken spot accounts hold balances, no margin
WS_FIRST_MESSAGE_SECS = 10.0
_SECRET_FIELDS = ("api_secret", "secret", "api_key_secret")


class KrakenSectionError(ValueError):
    """A ``kraken:`` section that cannot work; the message names the field."""


class KrakenUnreachableError(RuntimeError):
    """The Kraken REST API or a WebSocket does not answer; the message names which and why."""


class KrakenSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Where the Kraken adapter connects and how it behaves (a node file's ``kraken:``)."""

    rest_url: str = DEFAULT_REST_URL
    ws_public_url: str = DEFAULT_WS_PUBLIC_URL
    ws_private_url: str = DEFAULT_WS_PRIVATE_URL
    api_key_env: str = DEFAULT_KEY_ENV
    api_secret_env: str = DEFAULT_SECRET_ENV
    tier: str = "starter"
    pairs: list[str] | None = None
    public_rate_per_sec: float = 1.0
    use_ws_trading: bool = True
    book_depth: int = 10
    quotes_from: str = "ticker"
    reconcile_interval_secs: float | None = 30.0
    spot_position_source: str = "fills"
    ws_request_timeout_secs: float = 5.0
    http_timeout_secs: float = 10.0
    max_retries: int = 3

    def __post_init__(self) -> None:
        # msgspec reports these as validation errors at ``$.kraken`` of the file.
        if self.spot_position_source not in ("fills", "balances", "none"):
            raise ValueError("kraken.spot_position_source must be fills|balances|none")
        if self.quotes_from not in ("ticker", "book"):
            raise ValueError("kraken.quotes_from must be ticker or book")


@dataclass
class KrakenClients:
    """What a TradingNode needs for Kraken: client configs and factories, keyed by client name."""

    pairs: list[str] | None
    data_clients: dict[str, Any] = field(default_factory=dict)
    exec_clients: dict[str, Any] = field(default_factory=dict)
    data_factories: dict[str, type] = field(default_factory=dict)
    exec_factories: dict[str, type] = field(default_factory=dict)


def refuse_secrets(raw: Mapping[str, Any] | None) -> None:
    """A secret written into the section (or beside it) is refused before anything reads it."""
    if raw is not None and any(name in raw for name in _SECRET_FIELDS):
        raise KrakenSectionError(
            f"secrets never go in a config file; set {DEFAULT_SECRET_ENV} in the environment "
            "instead"
        )


def kraken_node_clients(
    spec: KrakenSpec,
    strategy_instrument_ids: Iterable[str] = (),
    *,
    trading: bool,
    settle_timeout_secs: float = 5.0,
) -> KrakenClients:
    """
    The Kraken data client config (and, when ``trading``, the execution client's) for a node.

    Without ``pairs`` in the section, the pairs are those of the Kraken instruments the
    strategies trade (none: every pair). ``settle_timeout_secs`` should stay below the node's
    ``timeout_disconnection``.
    """
    # The clients' modules load only when a node is built, not when a node file is read.
    from seraphim.adapters.kraken.factories import KrakenLiveDataClientFactory
    from seraphim.adapters.kraken.factories import KrakenLiveExecClientFactory

    pairs = spec.pairs
    if pairs is None:
        suffix = f".{KRAKEN}"
        pairs = [i.removesuffix(suffix) for i in strategy_instrument_ids if i.endswith(suffix)]
        pairs = sorted(pairs) or None
    shared = dict(  # what both clients take from the section
        base_url_http=spec.rest_url,
        api_key_env=spec.api_key_env,
        api_secret_env=spec.api_secret_env,
        pairs=pairs,
        tier=spec.tier,
        public_rate_per_sec=spec.public_rate_per_sec,
        http_timeout_secs=spec.http_timeout_secs,
        max_retries=spec.max_retries,
        instrument_provider=InstrumentProviderConfig(load_all=True),
    )
    clients = KrakenClients(pairs=pairs)
    clients.data_clients[KRAKEN] = KrakenDataClientConfig(
        base_url_ws=spec.ws_public_url,
        book_depth=spec.book_depth,
        quotes_from=spec.quotes_from,
        **shared,
    )
    clients.data_factories[KRAKEN] = KrakenLiveDataClientFactory
    if trading:
        clients.exec_clients[KRAKEN] = KrakenExecClientConfig(
            base_url_ws_private=spec.ws_private_url,
            use_ws_trading=spec.use_ws_trading,
            reconcile_interval_secs=spec.reconcile_interval_secs,
            spot_position_source=spec.spot_position_source,
            ws_request_timeout_secs=spec.ws_request_timeout_secs,
            settle_timeout_secs=settle_timeout_secs,
            **shared,
        )
        clients.exec_factories[KRAKEN] = KrakenLiveExecClientFactory
    return clients


async def kraken_preflight(data_config: KrakenDataClientConfig, exec_config: Any = None) -> None:
    """
    The REST API answers (and knows the pairs; for trading, accepts the key) and the
    WebSockets the node uses send their first message, each within its timeout.

    ``exec_config`` is the node's execution client for the Kraken venue: a
    ``KrakenExecClientConfig`` means trading (key and private WebSocket checked); anything else
    (nautilus's sandbox, none) means data only. Raises ``KrakenUnreachableError`` for a venue
    that does not answer, and the adapter's ``KrakenError``s for one that refuses (unknown pair,
    rejected key).
    """
    trading = isinstance(exec_config, KrakenExecClientConfig)
    rest_url = data_config.base_url_http
    # Retries included, a silent venue still ends here (one slow answer is not a failure).
    limit = data_config.http_timeout_secs * 1.5 + 2.0
    try:
        await asyncio.wait_for(_check_rest(exec_config if trading else data_config, trading), limit)
    except TimeoutError:
        raise KrakenUnreachableError(
            f"Kraken REST API at {rest_url} did not answer within {limit:.0f} s"
        ) from None
    await check_websocket("Kraken public WebSocket", data_config.base_url_ws)
    if trading:
        await check_websocket("Kraken private WebSocket", exec_config.base_url_ws_private)


async def _check_rest(
    config: KrakenDataClientConfig | KrakenExecClientConfig, trading: bool
) -> None:
    from seraphim.adapters.kraken.common.errors import KrakenAuthError
    from seraphim.adapters.kraken.common.errors import KrakenTransportError
    from seraphim.adapters.kraken.common.pairs import find_pair
    from seraphim.adapters.kraken.factories import http_client_for
    from seraphim.adapters.kraken.http.endpoints import KrakenSpotApi

    rest_url = config.base_url_http
    # The node's own shared client: its rate-limit counter carries over to the node.
    client = http_client_for(config, credentials_required=trading)
    api = KrakenSpotApi(client)
    try:
        try:
            listed = await api.asset_pairs()
        except KrakenTransportError as e:
            raise KrakenUnreachableError(
                f"Kraken REST API at {rest_url} is unreachable: {e}"
            ) from None
        for pair in config.pairs or []:
            try:
                find_pair(listed, pair)
            except KeyError:
                raise KrakenConfigError(f"unknown Kraken pair {pair!r} at {rest_url}") from None
        if trading:
            try:
                await api.balance_ex()
            except KrakenAuthError as e:
                if "127.0.0.1" in rest_url or "localhost" in rest_url:
                    raise KrakenAuthError(
                        [
                            *e.errors,
                            f"(the local exchange accepts only the key it was started with: "
                            f"export the same ${config.api_key_env} / ${config.api_secret_env} "
                            f"in both terminals)",
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
                raise KrakenUnreachableError(
                    f"{name} at {url} closed at once ({message.type.name})"
                )
    except TimeoutError:
        raise KrakenUnreachableError(
            f"{name} at {url} did not answer within {timeout:.0f} s"
        ) from None
    except (aiohttp.ClientError, OSError) as e:
        raise KrakenUnreachableError(f"{name} at {url} is unreachable: {_reason(e)}") from None


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return text or type(error).__name__
