"""
Kraken wires itself into a node (``seraphim.adapters.kraken.node``): the ``kraken:`` section, the
client configs it makes, and the preflight against a real local exchange.
"""

from __future__ import annotations

import pytest
from nautilus_trader.adapters.sandbox.config import SandboxExecutionClientConfig

from seraphim.adapters.kraken.common.errors import KrakenConfigError
from seraphim.adapters.kraken.config import KrakenDataClientConfig
from seraphim.adapters.kraken.config import KrakenExecClientConfig
from seraphim.adapters.kraken.factories import clear_caches
from seraphim.adapters.kraken.node import KrakenSectionError
from seraphim.adapters.kraken.node import KrakenSpec
from seraphim.adapters.kraken.node import KrakenUnreachableError
from seraphim.adapters.kraken.node import kraken_node_clients
from seraphim.adapters.kraken.node import kraken_preflight
from seraphim.adapters.kraken.node import refuse_secrets
from seraphim.node.config import NodeConfigError
from seraphim.node.config import parse_node_spec
from seraphim.sim.kraken import KrakenSimServer

from .helpers import KEY
from .helpers import SECRET
from .helpers import free_port
from .helpers import run
from .helpers import sim_config


@pytest.fixture(autouse=True)
def _fresh_clients():
    clear_caches()  # the preflight's HTTP clients belong to each test's event loop
    yield
    clear_caches()


def test_pairs_default_to_the_kraken_instruments_the_strategies_trade() -> None:
    ids = ["SOL/USD.KRAKEN", "AAPL.NASDAQ", "BTC/USD.KRAKEN"]
    clients = kraken_node_clients(KrakenSpec(), ids, trading=False)
    assert clients.pairs == ["BTC/USD", "SOL/USD"]  # other venues' instruments left out
    assert clients.exec_clients == {} and clients.exec_factories == {}
    assert kraken_node_clients(KrakenSpec(pairs=["ETH/USD"]), ids, trading=False).pairs == [
        "ETH/USD"
    ]
    assert kraken_node_clients(KrakenSpec(), ["AAPL.NASDAQ"], trading=False).pairs is None


def test_data_and_exec_clients_take_the_same_connection_settings() -> None:
    spec = KrakenSpec(
        rest_url="http://127.0.0.1:1",
        ws_public_url="ws://127.0.0.1:1/v2",
        ws_private_url="ws://127.0.0.1:2/v2",
        api_key_env="MY_KEY",
        api_secret_env="MY_SECRET",
        tier="pro",
        public_rate_per_sec=0.0,
        http_timeout_secs=3.0,
        max_retries=1,
        book_depth=25,
        use_ws_trading=False,
    )
    clients = kraken_node_clients(spec, ["BTC/USD.KRAKEN"], trading=True, settle_timeout_secs=4.0)
    data, execution = clients.data_clients["KRAKEN"], clients.exec_clients["KRAKEN"]
    assert isinstance(data, KrakenDataClientConfig) and isinstance(
        execution, KrakenExecClientConfig
    )
    for name in (
        "base_url_http",
        "api_key_env",
        "api_secret_env",
        "pairs",
        "tier",
        "public_rate_per_sec",
        "http_timeout_secs",
        "max_retries",
    ):
        assert getattr(data, name) == getattr(execution, name), name
    assert (data.base_url_ws, data.book_depth) == ("ws://127.0.0.1:1/v2", 25)
    assert (execution.base_url_ws_private, execution.use_ws_trading) == (
        "ws://127.0.0.1:2/v2",
        False,
    )
    assert execution.settle_timeout_secs == 4.0 and execution.tier == "pro"


def test_a_bad_section_is_one_line_naming_the_field() -> None:
    with pytest.raises(
        NodeConfigError, match=r"^n.yaml: kraken.quotes_from must be ticker or book"
    ):
        parse_node_spec({"kraken": {"quotes_from": "trades"}}, "n.yaml")
    with pytest.raises(NodeConfigError, match=r"kraken\.spot_position_source must be"):
        parse_node_spec({"kraken": {"spot_position_source": "guess"}}, "n.yaml")
    with pytest.raises(KrakenSectionError, match="set KRAKEN_API_SECRET in the environment"):
        refuse_secrets({"api_secret": "x"})
    assert parse_node_spec({"kraken": None, "ibkr": {}}).kraken is None  # an IB-only node


def test_preflight_against_the_local_exchange(monkeypatch) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", KEY)
    monkeypatch.setenv("KRAKEN_API_SECRET", SECRET)

    async def body() -> None:
        async with KrakenSimServer(sim_config()) as sim:
            spec = KrakenSpec(
                rest_url=sim.rest_url,
                ws_public_url=sim.ws_public_url,
                ws_private_url=sim.ws_private_url,
                public_rate_per_sec=0.0,
            )
            clients = kraken_node_clients(spec, ["BTC/USD.KRAKEN"], trading=True)
            data, execution = clients.data_clients["KRAKEN"], clients.exec_clients["KRAKEN"]
            await kraken_preflight(data, execution)  # REST, key, both WebSockets answer
            paper = SandboxExecutionClientConfig(venue="KRAKEN", starting_balances=["1 USD"])
            monkeypatch.delenv("KRAKEN_API_SECRET")
            await kraken_preflight(data, paper)  # paper trading needs no key
            unknown = kraken_node_clients(
                KrakenSpec(rest_url=sim.rest_url, pairs=["BTC/XYZ"], public_rate_per_sec=0.0),
                trading=False,
            ).data_clients["KRAKEN"]
            with pytest.raises(KrakenConfigError, match="unknown Kraken pair 'BTC/XYZ'"):
                await kraken_preflight(unknown)

    run(body())


def test_preflight_names_a_venue_that_is_not_there() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    spec = KrakenSpec(rest_url=url, max_retries=0, http_timeout_secs=2.0)
    data = kraken_node_clients(spec, trading=False).data_clients["KRAKEN"]
    with pytest.raises(KrakenUnreachableError, match=f"Kraken REST API at {url} is unreachable"):
        run(kraken_preflight(data))
