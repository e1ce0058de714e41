"""
nautilus factories for the Kraken Spot clients.

The data and execution clients of one node share one HTTP client per (REST URL, API key), so
their signed calls share the key's nonce sequence, lock and rate-limit counters, and one
instrument provider.
"""

from __future__ import annotations

import asyncio
import hashlib

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.config import InstrumentProviderConfig
from nautilus_trader.live.factories import LiveDataClientFactory
from nautilus_trader.live.factories import LiveExecClientFactory

from seraphim.adapters.kraken.common.credentials import Credentials
from seraphim.adapters.kraken.common.credentials import credentials_from_env
from seraphim.adapters.kraken.config import KrakenDataClientConfig
from seraphim.adapters.kraken.config import KrakenExecClientConfig
from seraphim.adapters.kraken.data import KrakenDataClient
from seraphim.adapters.kraken.execution import KrakenExecutionClient
from seraphim.adapters.kraken.http.client import KrakenHttpClient
from seraphim.adapters.kraken.http.endpoints import KrakenSpotApi
from seraphim.adapters.kraken.providers import KrakenInstrumentProvider

_HTTP_CLIENTS: dict[tuple, KrakenHttpClient] = {}
_PROVIDERS: dict[tuple, KrakenInstrumentProvider] = {}


def get_kraken_http_client(
    base_url: str,
    credentials: Credentials | None,
    *,
    tier: str = "starter",
    timeout: float = 10.0,
    max_retries: int = 3,
    retry_delay_initial: float = 0.5,
    retry_delay_max: float = 8.0,
    public_rate: float = 1.0,
) -> KrakenHttpClient:
    """The shared HTTP client for a REST URL and key (created on first use)."""
    fingerprint = (
        (credentials.api_key, hashlib.sha256(credentials.api_secret.reveal().encode()).hexdigest())
        if credentials
        else None
    )
    key = (base_url, fingerprint, tier)
    client = _HTTP_CLIENTS.get(key)
    if client is None or (credentials is not None and not client.has_credentials):
        client = KrakenHttpClient(
            base_url,
            credentials,
            tier=tier,
            timeout=timeout,
            max_retries=max_retries,
            retry_delay_initial=retry_delay_initial,
            retry_delay_max=retry_delay_max,
            public_rate=public_rate,
        )
        _HTTP_CLIENTS[key] = client
    return client


def get_kraken_instrument_provider(
    client: KrakenHttpClient,
    config: InstrumentProviderConfig,
    pairs: list[str] | None,
) -> KrakenInstrumentProvider:
    """The shared instrument provider for an HTTP client and pair selection."""
    if not config.load_all and not config.load_ids:
        config = InstrumentProviderConfig(load_all=True, filters=config.filters)
    key = (id(client), tuple(pairs or ()), config.load_all, tuple(config.load_ids or ()))
    provider = _PROVIDERS.get(key)
    if provider is None:
        provider = KrakenInstrumentProvider(KrakenSpotApi(client), config, pairs)
        _PROVIDERS[key] = provider
    return provider


def clear_caches() -> None:
    """Forget shared clients and providers (tests, or a node rebuilt in the same process)."""
    _HTTP_CLIENTS.clear()
    _PROVIDERS.clear()


def http_client_for(
    config: KrakenDataClientConfig | KrakenExecClientConfig,
    credentials_required: bool,
) -> KrakenHttpClient:
    """The shared HTTP client for a client config's key and endpoint."""
    credentials = credentials_from_env(
        config.api_key, config.api_key_env, config.api_secret_env, required=credentials_required
    )
    return get_kraken_http_client(
        config.base_url_http,
        credentials,
        tier=config.tier,
        timeout=config.http_timeout_secs,
        max_retries=config.max_retries,
        retry_delay_initial=config.retry_delay_initial_secs,
        retry_delay_max=config.retry_delay_max_secs,
        public_rate=config.public_rate_per_sec,
    )


def _client_and_provider(
    config: KrakenDataClientConfig | KrakenExecClientConfig,
    credentials_required: bool,
) -> tuple[KrakenHttpClient, KrakenInstrumentProvider]:
    """The shared HTTP client for the config's key and endpoint, and its instrument provider."""
    client = http_client_for(config, credentials_required)
    return client, get_kraken_instrument_provider(client, config.instrument_provider, config.pairs)


class KrakenLiveDataClientFactory(LiveDataClientFactory):
    """Creates ``KrakenDataClient`` instances."""

    @staticmethod
    def create(  # type: ignore[override]
        loop: asyncio.AbstractEventLoop,
        name: str,
        config: KrakenDataClientConfig,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
    ) -> KrakenDataClient:
        client, provider = _client_and_provider(config, credentials_required=False)
        return KrakenDataClient(loop, client, msgbus, cache, clock, provider, config, name)


class KrakenLiveExecClientFactory(LiveExecClientFactory):
    """Creates ``KrakenExecutionClient`` instances (credentials required)."""

    @staticmethod
    def create(  # type: ignore[override]
        loop: asyncio.AbstractEventLoop,
        name: str,
        config: KrakenExecClientConfig,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
    ) -> KrakenExecutionClient:
        client, provider = _client_and_provider(config, credentials_required=True)
        return KrakenExecutionClient(loop, client, msgbus, cache, clock, provider, config, name)
