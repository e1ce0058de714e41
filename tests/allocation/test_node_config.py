"""The same portfolio file in a node: the allocator and the strategies a backtest would run."""

import yaml

from seraphim.allocation.actor import PortfolioAllocator
from seraphim.backtest.config import build_run_config
from seraphim.node.config import build_node_config
from seraphim.node.config import load_node_spec
from seraphim.node.runner import build_node
from seraphim.node.runner import dispose_node
from tests.allocation.portfolio_run import EXAMPLE
from tests.allocation.portfolio_run import example_spec

ALLOCATOR = "seraphim.allocation.actor:PortfolioAllocator"
IDS = ["MACross-000", "Momentum-001", "MeanReversion-002"]


def node_file(tmp_path, **fields) -> tuple:
    path = tmp_path / "node.yaml"
    path.write_text(yaml.safe_dump({"name": "portfolio", "execution": "none", **fields}))
    return load_node_spec(path)


def test_a_node_runs_the_backtest_files_portfolio_unchanged(tmp_path):
    spec, base = node_file(tmp_path, backtest=str(EXAMPLE))
    config, _, _ = build_node_config(spec, base)
    (allocator,) = [a for a in config.actors if a.actor_path == ALLOCATOR]
    assert allocator.config["strategy_ids"] == IDS
    assert allocator.config["venues"] == ["KRAKEN"]
    portfolio = allocator.config["portfolio"]
    assert (portfolio["scheme"], portfolio["rebalance"], portfolio["drift_band"]) == (
        "risk_parity",
        "7D",
        0.1,
    )
    backtest = build_run_config(example_spec()).engine
    (in_backtest,) = [a for a in backtest.actors if a.actor_path == ALLOCATOR]
    assert in_backtest.config == allocator.config
    node_params = [
        {k: v for k, v in s.config.items() if k != "external_order_claims"}
        for s in config.strategies
    ]
    assert node_params == [s.config for s in backtest.strategies]
    assert all(p["equity_fraction"] == 0.95 for p in node_params)


def test_a_node_file_may_carry_its_own_portfolio(tmp_path):
    spec, base = node_file(
        tmp_path,
        data=[{"bar_type": "BTC/USD.KRAKEN-1-MINUTE-LAST-EXTERNAL"}],
        strategies=[{"name": "ma_cross", "params": {"fast": 2, "slow": 3}}, {"name": "momentum"}],
        portfolio={"scheme": "inverse_vol", "rebalance": "1h", "lookback": 60, "min_history": 30},
    )
    config, _, _ = build_node_config(spec, base)
    (allocator,) = [a for a in config.actors if a.actor_path == ALLOCATOR]
    assert allocator.config["strategy_ids"] == ["MACross-000", "Momentum-001"]
    assert [s.config["equity_fraction"] for s in config.strategies] == [1.0, 1.0]


def test_the_built_trading_node_holds_the_allocator(tmp_path):
    # Two of the strategies trade BTC/USD: nautilus lets only one claim external orders there.
    node_file(tmp_path, backtest=str(EXAMPLE), claim_external_orders=False)
    node, _ = build_node(tmp_path / "node.yaml", log_level="ERROR")
    try:
        (allocator,) = [a for a in node.trader.actors() if isinstance(a, PortfolioAllocator)]
        assert [s.value for s in allocator.strategy_ids] == IDS
        assert allocator.spec == example_spec().portfolio
        assert [s.id.value for s in node.trader.strategies()] == IDS
    finally:
        dispose_node(node)  # the actors' executors, started by build, end first
