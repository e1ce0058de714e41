"""The columnar analyzer gives nautilus's own analysis, record for record."""

import pandas as pd
import pytest
from nautilus_trader.analysis.analyzer import PortfolioAnalyzer
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.core.datetime import unix_nanos_to_dt
from nautilus_trader.model.currencies import BTC
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.identifiers import PositionId
from nautilus_trader.model.objects import Money

from seraphim.backtest.analyzer import ColumnarAnalyzer
from seraphim.backtest.analyzer import _summed_by_timestamp
from seraphim.backtest.analyzer import use_columnar_analyzer
from tests.backtest.sample_engine import add_ema_cross
from tests.backtest.sample_engine import sample_data
from tests.backtest.sample_engine import sample_engine


@pytest.fixture(scope="module")
def sample():
    return sample_data()


def _analysis(engine: BacktestEngine) -> dict:
    result = engine.get_result()
    analyzer = engine.portfolio.analyzer
    return {
        "stats_pnls": result.stats_pnls,
        "stats_returns": result.stats_returns,
        "stats_general": analyzer.get_performance_stats_general(),
        "realized_pnls": analyzer.realized_pnls(USD),
        "position_returns": analyzer.position_returns(),
        "returns": analyzer.returns(),
    }


def _assert_same(ours: dict, theirs: dict) -> None:
    assert ours["stats_pnls"] == theirs["stats_pnls"]
    assert ours["stats_returns"] == theirs["stats_returns"]
    assert ours["stats_general"] == theirs["stats_general"]
    for key in ("realized_pnls", "position_returns", "returns"):
        pd.testing.assert_series_equal(ours[key], theirs[key], check_exact=True)


def test_a_backtest_analysed_columnar_equals_nautilus(sample) -> None:
    reference = sample_engine(sample)
    add_ema_cross(reference)
    reference.run()
    theirs = _analysis(reference)
    assert type(reference.portfolio.analyzer) is PortfolioAnalyzer
    assert len(theirs["realized_pnls"]) > 100  # many closed positions, each recorded twice

    engine = sample_engine(sample)
    use_columnar_analyzer(engine.kernel.portfolio)
    add_ema_cross(engine)
    engine.run()
    assert isinstance(engine.portfolio.analyzer, ColumnarAnalyzer)
    _assert_same(_analysis(engine), theirs)

    # A reused engine (research sweeps) starts its analysis afresh.
    engine.reset()
    engine.run()
    _assert_same(_analysis(engine), theirs)
    reference.dispose()
    engine.dispose()


def test_records_keep_their_currency_order_and_missing_timestamps() -> None:
    records = [
        (PositionId("P-1"), Money(1.5, USD), 10),
        (PositionId("P-2"), Money(-2, USD), None),
        (PositionId("P-1"), Money(0.1, BTC), 12),
        (PositionId("P-3"), Money(3, USD), 13),
    ]
    theirs, ours = PortfolioAnalyzer(), ColumnarAnalyzer()
    for analyzer in (theirs, ours):
        for record in records:
            analyzer.record_trade(*record)
        analyzer.add_trade(*records[0])  # outside add_positions: nautilus's own path
        analyzer.add_return(unix_nanos_to_dt(10), 0.25)
    for currency in (USD, BTC):
        pd.testing.assert_series_equal(
            ours.realized_pnls(currency), theirs.realized_pnls(currency), check_exact=True
        )
    pd.testing.assert_series_equal(ours.position_returns(), theirs.position_returns())
    # Records after a read are appended to what was read.
    for analyzer in (theirs, ours):
        analyzer.record_trade(PositionId("P-4"), Money(7, USD), 14)
    pd.testing.assert_series_equal(ours.realized_pnls(USD), theirs.realized_pnls(USD))


def test_returns_on_one_timestamp_add_up_as_nautilus_adds_them() -> None:
    hour = 3_600_000_000_000
    samples = [(5, 0.1), (2, -0.2), (5, 0.3), (7, 0.05)]
    returns = [(unix_nanos_to_dt(t * hour), r) for t, r in samples]
    theirs = PortfolioAnalyzer()
    for timestamp, value in returns:
        theirs.add_position_return(timestamp, value)
    pd.testing.assert_series_equal(
        _summed_by_timestamp(returns), theirs.position_returns(), check_exact=True
    )
