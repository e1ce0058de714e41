"""
The shipped node configs, ``seraphim node run`` / ``seraphim kraken`` / ``seraphim catalog ingest
kraken`` as a user runs them, and bad input: unknown pair, bad credentials, malformed messages,
secrets kept out of configs, logs and errors.
"""

from __future__ import annotations

import asyncio
import json

import pytest
import yaml
from click.testing import CliRunner
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.identifiers import PositionId
from nautilus_trader.model.objects import Money

from seraphim.adapters.kraken.config import KrakenDataClientConfig
from seraphim.adapters.kraken.config import KrakenExecClientConfig
from seraphim.adapters.kraken.data import KrakenDataClient
from seraphim.adapters.kraken.execution import KrakenExecutionClient
from seraphim.adapters.kraken.http.client import KrakenHttpClient
from seraphim.adapters.kraken.http.endpoints import KrakenSpotApi
from seraphim.adapters.kraken.providers import KrakenInstrumentProvider
from seraphim.backtest.analyzer import ColumnarAnalyzer
from seraphim.catalog.store import SeraphimCatalog
from seraphim.cli import main
from seraphim.node.config import NodeConfigError
from seraphim.node.config import build_node_config
from seraphim.node.config import load_node_spec
from seraphim.node.config import parse_node_spec
from seraphim.node.runner import build_node
from seraphim.node.runner import dispose_node
from seraphim.paths import REPO_ROOT

from .helpers import KEY
from .helpers import SECRET
from .helpers import ThreadedSim
from .helpers import sim_config
from .node_harness import write_node_config


@pytest.fixture
def kraken_env(monkeypatch):
    monkeypatch.setenv("KRAKEN_API_KEY", KEY)
    monkeypatch.setenv("KRAKEN_API_SECRET", SECRET)


@pytest.fixture(scope="module")
def tsim():
    with ThreadedSim(sim_config()) as running:
        yield running


def test_shipped_node_configs_build(kraken_env) -> None:
    sim_spec, base = load_node_spec(REPO_ROOT / "node_configs/kraken_sim.yaml")
    config, _, exec_f = build_node_config(sim_spec, base)
    data = config.data_clients["KRAKEN"]
    assert isinstance(data, KrakenDataClientConfig)
    assert data.base_url_http == "http://127.0.0.1:8090"  # `seraphim sim kraken` default
    assert data.base_url_ws == "ws://127.0.0.1:8090/v2"
    exec_config = config.exec_clients["KRAKEN"]
    assert isinstance(exec_config, KrakenExecClientConfig)
    assert exec_config.base_url_ws_private == "ws://127.0.0.1:8091/v2"
    (strategy,) = config.strategies  # the demo backtest's strategy, unchanged
    demo = yaml.safe_load((REPO_ROOT / "configs/demo.yaml").read_text())["strategies"][0]
    assert strategy.strategy_path == "seraphim.strategies.ma_cross:MACross"
    for name, value in demo["params"].items():
        assert strategy.config[name] == value
    assert data.pairs == ["BTC/USD"]

    live_spec, base = load_node_spec(REPO_ROOT / "node_configs/kraken_live.yaml")
    config, _, _ = build_node_config(live_spec, base)
    assert config.data_clients["KRAKEN"].base_url_ws == "wss://ws.kraken.com/v2"
    assert config.exec_clients["KRAKEN"].base_url_http == "https://api.kraken.com"
    assert config.exec_engine.reconciliation_lookback_mins == 1440

    paper_spec, base = load_node_spec(REPO_ROOT / "node_configs/kraken_paper.yaml")
    config, _, exec_f = build_node_config(paper_spec, base)
    assert type(config.exec_clients["KRAKEN"]).__name__ == "SandboxExecutionClientConfig"
    assert exec_f["KRAKEN"].__name__ == "SandboxLiveExecClientFactory"
    for path in (REPO_ROOT / "node_configs").glob("*.yaml"):
        text = path.read_text()
        assert "api_secret:" not in text and SECRET not in text


def test_several_strategies_on_one_instrument_build_a_node(tmp_path, tsim, kraken_env) -> None:
    """The first strategy on an instrument claims its external orders (nautilus takes one)."""
    two = [
        {"name": "ma_cross", "params": {"trade_size": 0.01}},
        {"name": "bollinger", "params": {"trade_size": 0.01}},
    ]
    path = write_node_config(
        tmp_path, tsim, data=[{"bar_type": "BTC/USD.KRAKEN-1-MINUTE-LAST-EXTERNAL"}], strategies=two
    )
    config, _, _ = build_node_config(*load_node_spec(path))
    claims = [s.config["external_order_claims"] for s in config.strategies]
    assert claims == [["BTC/USD.KRAKEN"], []]
    node, _ = build_node(path)
    dispose_node(node)


def test_a_built_node_records_closed_positions_columnar(tmp_path, tsim, kraken_env) -> None:
    """nautilus's own analyzer appends every closed position with a pandas concat."""
    node, _ = build_node(write_node_config(tmp_path, tsim))
    try:
        analyzer = node.portfolio.analyzer
        assert isinstance(analyzer, ColumnarAnalyzer)
        for number in range(3):
            analyzer.record_trade(PositionId(f"P-{number}"), Money(number, USD), number)
        assert analyzer.realized_pnls(USD).to_dict() == {"P-0": 0.0, "P-1": 1.0, "P-2": 2.0}
    finally:
        dispose_node(node)


def test_secrets_in_a_config_file_are_refused() -> None:
    with pytest.raises(NodeConfigError, match="secrets never go in a config file"):
        parse_node_spec({"kraken": {"api_secret": "abc"}})
    with pytest.raises(NodeConfigError, match="execution must be one of"):
        parse_node_spec({"execution": "paper-ish"})


def test_node_run_refuses_unknown_pairs_and_bad_credentials(tmp_path, tsim, monkeypatch) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", KEY)
    monkeypatch.setenv("KRAKEN_API_SECRET", SECRET)
    bad_pair = write_node_config(tmp_path, tsim, name="badpair", kraken={"pairs": ["BTC/XYZ"]})
    result = CliRunner().invoke(main, ["node", "run", str(bad_pair), "--duration", "1"])
    assert result.exit_code == 2
    assert "unknown Kraken pair 'BTC/XYZ'" in result.output

    good = write_node_config(tmp_path, tsim, name="creds")
    monkeypatch.setenv("KRAKEN_API_KEY", "someone-else")
    result = CliRunner().invoke(main, ["node", "run", str(good), "--duration", "1"])
    assert result.exit_code == 2 and "EAPI:Invalid key" in result.output

    monkeypatch.setenv("KRAKEN_API_KEY", KEY)
    wrong = "c29tZS1vdGhlci1zZWNyZXQtdmFsdWUtaGVyZQ=="
    monkeypatch.setenv("KRAKEN_API_SECRET", wrong)
    result = CliRunner().invoke(main, ["node", "run", str(good), "--duration", "1"])
    assert result.exit_code == 2 and "EAPI:Invalid signature" in result.output
    assert wrong not in result.output and SECRET not in result.output

    monkeypatch.delenv("KRAKEN_API_SECRET")
    result = CliRunner().invoke(main, ["node", "run", str(good), "--duration", "1"])
    assert result.exit_code == 2 and "KRAKEN_API_SECRET" in result.output
    result = CliRunner().invoke(main, ["node", "run", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and "node config not found" in result.output


def test_kraken_tools(tsim, kraken_env) -> None:
    url = ["--rest-url", tsim.sim.rest_url]
    runner = CliRunner()
    out = runner.invoke(main, ["kraken", "pairs", *url])
    assert out.exit_code == 0 and "BTC/USD.KRAKEN" in out.output and "0.40%" in out.output
    out = runner.invoke(main, ["kraken", "ticker", "XBTUSD", "ETH/USD", *url])
    assert out.exit_code == 0 and "BTC/USD" in out.output and "ETH/USD" in out.output
    out = runner.invoke(main, ["kraken", "balance", *url])
    assert out.exit_code == 0 and "100000.0000" in out.output and "XXBT" in out.output
    out = runner.invoke(main, ["kraken", "open-orders", *url])
    assert out.exit_code == 0 and "no open orders" in out.output
    out = runner.invoke(main, ["kraken", "ticker", "FOO/BAR", *url])
    assert out.exit_code == 2 and "unknown Kraken pair 'FOO/BAR'" in out.output


def test_kraken_tools_with_bad_credentials(tsim, monkeypatch) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", "nobody")
    monkeypatch.setenv("KRAKEN_API_SECRET", SECRET)
    out = CliRunner().invoke(main, ["kraken", "balance", "--rest-url", tsim.sim.rest_url])
    assert out.exit_code == 2 and "EAPI:Invalid key" in out.output
    assert SECRET not in out.output


def test_catalog_ingest_kraken(tmp_path, tsim) -> None:
    since = str(int(tsim.sim.exchange.now()) - 2 * 3600)
    args = ["catalog", "ingest", "kraken", "--pair", "BTC/USD", "--interval", "5"]
    args += ["--since", since, "--rest-url", tsim.sim.rest_url, "--catalog", str(tmp_path)]
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 0, out.output
    assert "BTC/USD.KRAKEN-5-MINUTE-LAST-EXTERNAL" in out.output
    again = CliRunner().invoke(main, args)  # idempotent: nothing new the second time
    assert again.exit_code == 0 and "+0 new" in again.output
    trades = CliRunner().invoke(main, [*args, "--trades"])
    assert trades.exit_code == 0 and "BTC/USD.KRAKEN:" in trades.output
    catalog = SeraphimCatalog(tmp_path)
    provenance = catalog.provenance("BTC/USD.KRAKEN-5-MINUTE-LAST-EXTERNAL")
    assert "kraken-api-ohlc" in json.dumps(provenance) and not provenance.get("synthetic")
    bad = CliRunner().invoke(
        main,
        [*args[:5], "--since", "yesterday-ish", *args[-4:]],
    )
    assert bad.exit_code == 2 and "cannot read the time" in bad.output


def test_malformed_messages_are_reported_not_raised(tsim) -> None:
    async def body():
        loop = asyncio.get_running_loop()
        from nautilus_trader.cache.cache import Cache
        from nautilus_trader.common.component import LiveClock
        from nautilus_trader.common.component import MessageBus
        from nautilus_trader.model.identifiers import TraderId

        clock = LiveClock()
        msgbus = MessageBus(TraderId("TESTER-001"), clock)
        http = KrakenHttpClient(tsim.sim.rest_url, None, public_rate=0)
        provider = KrakenInstrumentProvider(KrakenSpotApi(http))
        await provider.initialize()
        urls = {"base_url_http": tsim.sim.rest_url, "base_url_ws": tsim.sim.ws_public_url}
        data = KrakenDataClient(
            loop, http, msgbus, Cache(), clock, provider, KrakenDataClientConfig(**urls)
        )
        data._handle_ws_message('{"channel": "book", "type": "update", "data": [{"symbol": 3}]}')
        data._handle_ws_message('{"channel": "mystery"}')
        assert data.stats["malformed"] == 1 and data.stats["unknown_channel"] == 1
        execution = KrakenExecutionClient(
            loop, http, msgbus, Cache(), clock, provider,
            KrakenExecClientConfig(base_url_http=tsim.sim.rest_url),
        )  # fmt: skip
        execution._handle_ws_message('{"channel": "executions", "type": "update", "data": 7}')
        execution._handle_ws_message('{"channel": "balances", "data": [{"asset": 1}]}')
        assert execution.stats["malformed"] == 2
        await http.close()

    asyncio.run(body())
