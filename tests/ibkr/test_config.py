"""The ``ibkr:`` node section and the node files: nautilus's IB client configs, no sockets."""

from __future__ import annotations

import socket

import pytest
from nautilus_trader.adapters.interactive_brokers import factories as nautilus_ib_factories
from nautilus_trader.adapters.interactive_brokers.config import InteractiveBrokersExecClientConfig
from nautilus_trader.model.identifiers import InstrumentId

from seraphim.adapters.ibkr.config import IB
from seraphim.adapters.ibkr.config import IbkrConfigError
from seraphim.adapters.ibkr.config import ibkr_clients
from seraphim.adapters.ibkr.config import parse_ibkr_section
from seraphim.adapters.ibkr.execution import SeraphimIbkrExecClientFactory
from seraphim.adapters.ibkr.factories import SeraphimIbkrDataClientConfig
from seraphim.adapters.ibkr.factories import SeraphimIbkrDataClientFactory
from seraphim.adapters.ibkr.node import ibkr_node_clients
from seraphim.node.config import NodeConfigError
from seraphim.node.config import build_node_config
from seraphim.node.config import load_node_spec

from .helpers import NODE_CONFIGS
from .helpers import cli_env
from .helpers import seraphim

SECTION = {"port": 4010, "client_id": 11, "account_id": "DU1234567"}


def test_section_defaults_point_at_a_paper_gateway() -> None:
    section = parse_ibkr_section({"account_id": "DU1"}, environ={})
    assert (section.host, section.port, section.client_id) == ("127.0.0.1", 4002, 1)
    assert section.execution and section.use_regular_trading_hours


def test_environment_overrides_the_file() -> None:
    env = {
        "SERAPHIM_IBKR_HOST": "10.0.0.5",
        "SERAPHIM_IBKR_PORT": "4001",
        "SERAPHIM_IBKR_CLIENT_ID": "21",
        "TWS_ACCOUNT": "U7654321",
    }
    section = parse_ibkr_section({"port": 4010, "client_id": 11}, environ=env)
    assert (section.host, section.port, section.client_id) == ("10.0.0.5", 4001, 21)
    assert section.account_id == "U7654321"
    # An account id written in the file wins over TWS_ACCOUNT.
    assert parse_ibkr_section(SECTION, environ=env).account_id == "DU1234567"


@pytest.mark.parametrize(
    ("raw", "env", "message"),
    [
        ({"port": 4010}, {}, "TWS_ACCOUNT"),
        ({**SECTION, "port": 70000}, {}, "port must be a TCP port"),
        ({**SECTION, "market_data_type": "LIVE"}, {}, "market_data_type must be one of"),
        ({**SECTION, "api_secret": "x"}, {}, "unknown field"),
        (SECTION, {"SERAPHIM_IBKR_PORT": "four"}, "must be an integer"),
    ],
)
def test_bad_sections_are_refused_with_the_field_named(raw, env, message) -> None:
    with pytest.raises(IbkrConfigError, match=message):
        parse_ibkr_section(raw, environ=env)


def test_clients_are_nautilus_configs_with_seraphim_factories() -> None:
    raw = {
        **SECTION,
        "instruments": ["SPY.ARCA"],
        "contracts": [
            {"secType": "CRYPTO", "symbol": "BTC", "exchange": "PAXOS", "currency": "USD"}
        ],
        "market_data_type": "DELAYED_FROZEN",
    }
    clients = ibkr_clients(raw, ["AAPL.NASDAQ"], environ={})
    data = clients.data_clients[IB]
    execution = clients.exec_clients[IB]
    assert isinstance(data, SeraphimIbkrDataClientConfig)
    assert isinstance(execution, InteractiveBrokersExecClientConfig)
    assert clients.data_factories[IB] is SeraphimIbkrDataClientFactory
    assert clients.exec_factories[IB] is SeraphimIbkrExecClientFactory
    assert (data.ibg_port, data.ibg_client_id, data.dockerized_gateway) == (4010, 11, None)
    assert execution.account_id == "DU1234567"
    assert data.market_data_type == 4  # DELAYED_FROZEN
    provider = data.instrument_provider
    assert provider.load_ids == frozenset(
        {InstrumentId.from_str("AAPL.NASDAQ"), InstrumentId.from_str("SPY.ARCA")}
    )
    assert [c.symbol for c in provider.load_contracts] == ["BTC"]
    # Orders and subscriptions for these venues go to the IB clients.
    assert clients.venues == ["ARCA", "NASDAQ", "PAXOS"]
    assert data.routing.venues == execution.routing.venues == frozenset(clients.venues)


def test_data_only_section_builds_no_execution_client() -> None:
    clients = ibkr_clients({"port": 4010, "execution": False}, ["AAPL.NASDAQ"], environ={})
    assert IB in clients.data_clients
    assert clients.exec_clients == {} and clients.exec_factories == {}


def test_a_node_without_instruments_is_refused() -> None:
    with pytest.raises(IbkrConfigError, match="no instruments"):
        ibkr_clients(SECTION, [], environ={})


def test_node_hook_leaves_kraken_instruments_to_kraken_and_clears_nautilus_caches() -> None:
    nautilus_ib_factories.IB_CLIENTS[("stale", 1, 1, False)] = object()
    clients = ibkr_node_clients(SECTION, ["BTC/USD.KRAKEN", "AAPL.NASDAQ"], environ={})
    assert nautilus_ib_factories.IB_CLIENTS == {}
    loaded = clients.data_clients[IB].instrument_provider.load_ids
    assert loaded == frozenset({InstrumentId.from_str("AAPL.NASDAQ")})


def test_ibkr_sim_node_file(monkeypatch) -> None:
    for name in ("SERAPHIM_IBKR_PORT", "SERAPHIM_IBKR_HOST", "TWS_ACCOUNT"):
        monkeypatch.delenv(name, raising=False)
    spec, base = load_node_spec(NODE_CONFIGS / "ibkr_sim.yaml")
    config, data_factories, exec_factories = build_node_config(spec, base)
    assert list(config.data_clients) == list(config.exec_clients) == [IB]  # no Kraken
    assert data_factories == {IB: SeraphimIbkrDataClientFactory}
    assert exec_factories == {IB: SeraphimIbkrExecClientFactory}
    assert config.data_clients[IB].ibg_port == 4010
    assert config.exec_engine.reconciliation
    (strategy,) = config.strategies
    assert strategy.strategy_path == "seraphim.strategies.ma_cross:MACross"
    assert strategy.config["bar_type"] == "AAPL.NASDAQ-5-SECOND-LAST-EXTERNAL"
    # Restarts hand the instrument's open orders and positions back to the strategy.
    assert strategy.config["external_order_claims"] == ["AAPL.NASDAQ"]


def test_ibkr_paper_node_file_needs_the_account_from_the_environment(monkeypatch) -> None:
    monkeypatch.delenv("TWS_ACCOUNT", raising=False)
    monkeypatch.delenv("SERAPHIM_IBKR_PORT", raising=False)
    spec, base = load_node_spec(NODE_CONFIGS / "ibkr_paper.yaml")
    with pytest.raises(NodeConfigError, match="TWS_ACCOUNT"):
        build_node_config(spec, base)
    monkeypatch.setenv("TWS_ACCOUNT", "DU7777777")
    config, _, _ = build_node_config(spec, base)
    assert config.data_clients[IB].ibg_port == 4002
    assert config.exec_clients[IB].account_id == "DU7777777"
    assert config.data_clients[IB].use_regular_trading_hours


def test_multi_venue_node_file_routes_each_venue_to_its_adapter(monkeypatch) -> None:
    monkeypatch.delenv("SERAPHIM_IBKR_PORT", raising=False)
    spec, base = load_node_spec(NODE_CONFIGS / "multi_venue.yaml")
    config, data_factories, exec_factories = build_node_config(spec, base)
    assert set(config.data_clients) == set(config.exec_clients) == {"KRAKEN", IB}
    assert set(data_factories) == set(exec_factories) == {"KRAKEN", IB}
    assert config.data_clients["KRAKEN"].pairs == ["BTC/USD"]
    ib_ids = config.data_clients[IB].instrument_provider.load_ids
    assert ib_ids == frozenset({InstrumentId.from_str("AAPL.NASDAQ")})
    assert config.exec_clients[IB].routing.venues == frozenset({"NASDAQ"})
    traded = sorted(s.config["instrument_id"] for s in config.strategies)
    assert traded == ["AAPL.NASDAQ", "BTC/USD.KRAKEN"]
    assert len({s.config["order_id_tag"] for s in config.strategies}) == 2


def test_node_run_without_a_gateway_fails_fast_with_the_address() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket closes
    config = str(NODE_CONFIGS / "ibkr_sim.yaml")
    run = seraphim("node", "run", config, env=cli_env(port), timeout=60)
    assert run.returncode == 1  # an unreachable dependency, like Redis or PostgreSQL
    assert f"no IB Gateway/TWS at 127.0.0.1:{port}" in run.stdout
