"""The portfolio section: validation messages, drift bands, and the assembly floor's use of it."""

import numpy as np
import pytest
from nautilus_trader.model.data import BarType

from seraphim.allocation.config import PortfolioSpec
from seraphim.allocation.drift import capital_shares
from seraphim.allocation.drift import drifted
from seraphim.assembly import AssemblyError
from seraphim.assembly import StrategyEntry
from seraphim.assembly import assemble
from seraphim.assembly import load_sections
from seraphim.risk.config import RiskConfig

BTC = BarType.from_str("BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL")
IDS = ["MACross-000", "Momentum-001"]
CASH = {"KRAKEN": "CASH"}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (PortfolioSpec(scheme="magic"), "scheme must be one of fixed, equal, inverse_vol"),
        (PortfolioSpec(rebalance="soon"), "'soon' is not a positive period"),
        (PortfolioSpec(rebalance="-1D"), "is not a positive period"),
        (PortfolioSpec(drift_band=1.5), "drift_band must be in (0, 1)"),
        (PortfolioSpec(lookback=1), "lookback must be at least 2"),
        (PortfolioSpec(lookback=100, min_history=200), "min_history must be in [2, lookback=100]"),
        (PortfolioSpec(weights={"MACross-000": 1.0}), "weights only go with scheme fixed"),
        (PortfolioSpec(scheme="fixed", weights={"MACross-000": 1.0}), "missing: Momentum-001"),
        (
            PortfolioSpec(scheme="fixed", weights={"MACross-000": 0.5, "X-9": 0.5}),
            "unknown: X-9",
        ),
        (
            PortfolioSpec(scheme="fixed", weights={"MACross-000": 0.7, "Momentum-001": 0.7}),
            "must sum to 1, they sum to 1.4",
        ),
        (
            PortfolioSpec(scheme="fixed", weights={"MACross-000": 1.5, "Momentum-001": -0.5}),
            "non-negative",
        ),
    ],
)
def test_bad_sections_are_named(spec, message):
    with pytest.raises(ValueError) as error:
        spec.validate(IDS)
    assert message in str(error.value)


def test_periods():
    assert PortfolioSpec(rebalance="7D").rebalance_ns() == 7 * 86_400 * 10**9
    assert PortfolioSpec(rebalance="24h").rebalance_ns() == 86_400 * 10**9
    assert PortfolioSpec(rebalance="2W").rebalance_ns() == 14 * 86_400 * 10**9
    assert PortfolioSpec().rebalance_ns() is None


def test_drift_band_triggers_only_beyond_the_band():
    weights = np.array([0.5, 0.3, 0.2])
    assert not drifted(capital_shares(np.array([50.0, 30.0, 20.0])), weights, 0.05)
    assert not drifted(capital_shares(np.array([54.0, 28.0, 18.0])), weights, 0.05)  # 4 points
    assert drifted(capital_shares(np.array([56.0, 26.0, 18.0])), weights, 0.05)  # 6 points
    assert drifted(capital_shares(np.array([50.0, 30.0, 28.0])), weights, 0.05)  # 0.463 / 0.259
    assert not drifted(capital_shares(np.array([90.0, 5.0, 5.0])), weights, None)  # no band
    assert capital_shares(np.zeros(3)).tolist() == [0.0, 0.0, 0.0]


def entries(**params) -> list[StrategyEntry]:
    return [
        StrategyEntry("ma_cross", params=params),
        StrategyEntry("momentum", params={"equity_fraction": 0.5}),
    ]


def test_assembly_adds_the_allocator_and_sizes_from_capital():
    portfolio = PortfolioSpec(scheme="risk_parity", rebalance="7D", drift_band=0.1)
    built = assemble(entries(), [BTC], CASH, RiskConfig(), portfolio=portfolio)
    (actor,) = built.actors
    assert actor.actor_path == "seraphim.allocation.actor:PortfolioAllocator"
    assert actor.config["strategy_ids"] == IDS
    assert actor.config["venues"] == ["KRAKEN"]
    assert actor.config["portfolio"]["scheme"] == "risk_parity"
    assert built.strategies[0].config["equity_fraction"] == 1.0  # no sizing: all its capital
    assert built.strategies[1].config["equity_fraction"] == 0.5


def test_assembly_without_portfolio_is_unchanged():
    built = assemble(entries(trade_size=1), [BTC], CASH, RiskConfig())
    assert built.actors == []
    assert "equity_fraction" not in built.strategies[0].config


def test_fixed_quantities_are_refused_under_a_portfolio():
    with pytest.raises(AssemblyError, match=r"'ma_cross': under `portfolio` .* not trade_size"):
        assemble(entries(trade_size=1), [BTC], CASH, RiskConfig(), "f.yaml", PortfolioSpec())


def test_bad_portfolio_names_the_file():
    with pytest.raises(AssemblyError, match=r"f\.yaml: portfolio\.scheme must be one of"):
        assemble(entries(), [BTC], CASH, RiskConfig(), "f.yaml", PortfolioSpec("x"))


def test_sections_read_the_portfolio(tmp_path):
    path = tmp_path / "bt.yaml"
    path.write_text(
        "data: [{bar_type: BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL}]\n"
        "strategies: [{name: ma_cross}]\n"
        "portfolio: {scheme: inverse_vol, rebalance: 24h, lookback: 48, min_history: 24}\n"
    )
    sections = load_sections(path)
    assert sections.portfolio == PortfolioSpec(
        scheme="inverse_vol", rebalance="24h", lookback=48, min_history=24
    )
