"""
The ``ibkr:`` section of a node file, turned into nautilus's own IB client configs.

```yaml
ibkr:
  host: 127.0.0.1          # IB Gateway / TWS (or the local gateway, `seraphim sim ibkr`)
  port: 4002               # paper IB Gateway; live 4001, TWS paper 7497 / live 7496
  client_id: 11            # the node's API client id (tools use their own)
  account_id: DU1234567    # or leave it out and set TWS_ACCOUNT
  instruments: [AAPL.NASDAQ, SPY.ARCA]
  contracts:               # anything an instrument id cannot name (IBContract fields)
    - {secType: CRYPTO, symbol: BTC, exchange: PAXOS, currency: USD}
  market_data_type: REALTIME   # DELAYED / DELAYED_FROZEN without a data subscription
  use_regular_trading_hours: true
  execution: true          # false: market data only
```

Environment variables override the file, so one file serves the local gateway, a paper and a
live gateway: ``SERAPHIM_IBKR_HOST``, ``SERAPHIM_IBKR_PORT``, ``SERAPHIM_IBKR_CLIENT_ID`` and
``TWS_ACCOUNT`` (nautilus's own variable) when ``account_id`` is not in the file.

The clients are nautilus's: ``InteractiveBrokersDataClientConfig`` /
``InteractiveBrokersExecClientConfig`` with ``dockerized_gateway=None`` (an existing gateway),
registered under nautilus's name ``INTERACTIVE_BROKERS``. The factories are nautilus's with
Seraphim's additions: resubscription after a quick 1100/1101 (``connectivity.py``) and the IB
account answering for each routed venue (``execution.py``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import msgspec

IB = "INTERACTIVE_BROKERS"  # nautilus's IB client name and venue
SIM_PORT = 4010  # `seraphim sim ibkr`
PAPER_GATEWAY_PORT = 4002  # IB Gateway, paper account
LIVE_GATEWAY_PORT = 4001  # IB Gateway, live account
TWS_PAPER_PORT = 7497
TWS_LIVE_PORT = 7496
HOST_ENV = "SERAPHIM_IBKR_HOST"
PORT_ENV = "SERAPHIM_IBKR_PORT"
CLIENT_ID_ENV = "SERAPHIM_IBKR_CLIENT_ID"
ACCOUNT_ENV = "TWS_ACCOUNT"
MARKET_DATA_TYPES = ("REALTIME", "FROZEN", "DELAYED", "DELAYED_FROZEN")


class IbkrConfigError(ValueError):
    """An ``ibkr:`` section that cannot work; the message names the field."""


class IbkrSection(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The ``ibkr:`` section of a node file (see the module docstring)."""

    host: str = "127.0.0.1"
    port: int = PAPER_GATEWAY_PORT
    client_id: int = 1
    account_id: str | None = None
    execution: bool = True
    instruments: list[str] = []
    contracts: list[dict[str, Any]] = []
    market_data_type: str = "REALTIME"
    use_regular_trading_hours: bool = True
    fetch_all_open_orders: bool = False
    connection_timeout: int = 60
    request_timeout: int = 60
    resubscribe_on_data_lost: bool = True
    routing_venues: list[str] | None = None
    default_routing: bool = False


@dataclass
class IbkrClients:
    """What a TradingNode needs for IB: client configs and factories, keyed by client name."""

    section: IbkrSection
    data_clients: dict[str, Any] = field(default_factory=dict)
    exec_clients: dict[str, Any] = field(default_factory=dict)
    data_factories: dict[str, type] = field(default_factory=dict)
    exec_factories: dict[str, type] = field(default_factory=dict)
    venues: list[str] = field(default_factory=list)


def parse_ibkr_section(
    raw: Mapping[str, Any] | IbkrSection | None,
    environ: Mapping[str, str] | None = None,
    source: str = "ibkr",
) -> IbkrSection:
    """Validate the section and apply the environment overrides."""
    env = os.environ if environ is None else environ
    if isinstance(raw, IbkrSection):
        section = raw
    else:
        if raw is not None and not isinstance(raw, Mapping):
            raise IbkrConfigError(f"{source}: expected a mapping")
        try:
            section = msgspec.convert(dict(raw or {}), IbkrSection, strict=False)
        except msgspec.ValidationError as e:
            raise IbkrConfigError(f"{source}: {e}") from None
    overrides: dict[str, Any] = {}
    if env.get(HOST_ENV):
        overrides["host"] = env[HOST_ENV]
    for name, key in ((PORT_ENV, "port"), (CLIENT_ID_ENV, "client_id")):
        if env.get(name):
            try:
                overrides[key] = int(env[name])
            except ValueError:
                raise IbkrConfigError(f"${name} must be an integer, was {env[name]!r}") from None
    if not section.account_id and env.get(ACCOUNT_ENV):
        overrides["account_id"] = env[ACCOUNT_ENV]
    if overrides:
        section = msgspec.structs.replace(section, **overrides)
    if not 0 < section.port < 65536:
        raise IbkrConfigError(f"{source}.port must be a TCP port, was {section.port}")
    if section.client_id < 0:
        raise IbkrConfigError(f"{source}.client_id must be >= 0, was {section.client_id}")
    if section.market_data_type.upper() not in MARKET_DATA_TYPES:
        raise IbkrConfigError(
            f"{source}.market_data_type must be one of {', '.join(MARKET_DATA_TYPES)}, "
            f"was {section.market_data_type!r}"
        )
    if section.execution and not section.account_id:
        raise IbkrConfigError(
            f"{source}: execution needs the IB account id: set {source}.account_id "
            f"or ${ACCOUNT_ENV} (e.g. DU1234567 for a paper account)"
        )
    return section


def _contract_venue(contract: Mapping[str, Any]) -> str | None:
    exchange = str(contract.get("primaryExchange") or contract.get("exchange") or "")
    return exchange if exchange and exchange != "SMART" else None


def ibkr_clients(
    raw: Mapping[str, Any] | IbkrSection | None,
    instrument_ids: Iterable[str] = (),
    environ: Mapping[str, str] | None = None,
    source: str = "ibkr",
) -> IbkrClients:
    """
    nautilus's IB data (and execution) client configs for one node.

    ``instrument_ids`` (e.g. the instruments the node's strategies trade) are loaded on start
    besides the section's own ``instruments`` and ``contracts``; orders and subscriptions for
    their venues are routed to the IB clients.
    """
    from ibapi.common import MarketDataTypeEnum
    from nautilus_trader.adapters.interactive_brokers.common import IBContract
    from nautilus_trader.adapters.interactive_brokers.config import (
        InteractiveBrokersExecClientConfig,
    )
    from nautilus_trader.adapters.interactive_brokers.config import (
        InteractiveBrokersInstrumentProviderConfig,
    )
    from nautilus_trader.config import RoutingConfig
    from nautilus_trader.model.identifiers import InstrumentId

    from seraphim.adapters.ibkr.execution import SeraphimIbkrExecClientFactory
    from seraphim.adapters.ibkr.factories import SeraphimIbkrDataClientConfig
    from seraphim.adapters.ibkr.factories import SeraphimIbkrDataClientFactory

    section = parse_ibkr_section(raw, environ, source)
    ids = sorted({*section.instruments, *(str(i) for i in instrument_ids)})
    try:
        parsed_ids = [InstrumentId.from_str(i) for i in ids]
    except ValueError as e:
        raise IbkrConfigError(f"{source}.instruments: {e}") from None
    try:
        contracts = [IBContract(**c) for c in section.contracts]
    except (TypeError, msgspec.ValidationError) as e:
        raise IbkrConfigError(f"{source}.contracts: {e}") from None
    if not parsed_ids and not contracts:
        raise IbkrConfigError(
            f"{source}: no instruments to load (name them in {source}.instruments, "
            f"{source}.contracts, or trade them with a strategy)"
        )
    venues = section.routing_venues
    if venues is None:
        venues = sorted(
            {i.venue.value for i in parsed_ids}
            | {v for c in section.contracts if (v := _contract_venue(c))}
        )
    routing = RoutingConfig(default=section.default_routing, venues=frozenset(venues))
    provider = InteractiveBrokersInstrumentProviderConfig(
        load_ids=frozenset(parsed_ids) or None,
        load_contracts=frozenset(contracts) or None,
    )
    market_data_type = getattr(MarketDataTypeEnum, section.market_data_type.upper())
    clients = IbkrClients(section=section, venues=list(venues))
    clients.data_clients[IB] = SeraphimIbkrDataClientConfig(
        ibg_host=section.host,
        ibg_port=section.port,
        ibg_client_id=section.client_id,
        use_regular_trading_hours=section.use_regular_trading_hours,
        market_data_type=market_data_type,
        dockerized_gateway=None,
        connection_timeout=section.connection_timeout,
        request_timeout_secs=section.request_timeout,
        instrument_provider=provider,
        routing=routing,
        resubscribe_on_data_lost=section.resubscribe_on_data_lost,
    )
    clients.data_factories[IB] = SeraphimIbkrDataClientFactory
    if section.execution:
        clients.exec_clients[IB] = InteractiveBrokersExecClientConfig(
            ibg_host=section.host,
            ibg_port=section.port,
            ibg_client_id=section.client_id,
            account_id=section.account_id,
            dockerized_gateway=None,
            connection_timeout=section.connection_timeout,
            request_timeout_secs=section.request_timeout,
            fetch_all_open_orders=section.fetch_all_open_orders,
            instrument_provider=provider,
            routing=routing,
        )
        clients.exec_factories[IB] = SeraphimIbkrExecClientFactory
    return clients
