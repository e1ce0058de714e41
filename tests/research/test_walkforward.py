"""Walk-forward: folds, stitching, and stitched out-of-sample metrics that match backtests."""

import pandas as pd
import pytest

from seraphim.backtest.metrics import Curves
from seraphim.backtest.metrics import curve_metrics
from seraphim.backtest.runner import run_backtest
from seraphim.research.executors import LocalPool
from seraphim.research.params import ParamError
from seraphim.research.params import candidates
from seraphim.research.params import parse_axis
from seraphim.research.trial import spec_with
from seraphim.research.walkforward import _before
from seraphim.research.walkforward import make_folds
from seraphim.research.walkforward import parse_period
from seraphim.research.walkforward import stitch
from seraphim.research.walkforward import walk_forward
from tests.research.conftest import SYNTHETIC_CATALOG
from tests.research.conftest import make_spec

T = pd.Timestamp


def test_periods_and_folds():
    assert parse_period("2y") == pd.DateOffset(years=2)
    assert parse_period("6M") == pd.DateOffset(months=6)
    with pytest.raises(ParamError, match="bad period '2q'"):
        parse_period("2q")
    rolling = make_folds(T("2020-01-01"), T("2022-03-01"), parse_period("1y"), parse_period("6m"))
    assert [(f.train_start, f.train_end, f.test_end) for f in rolling] == [
        (T("2020-01-01"), T("2021-01-01"), T("2021-07-01")),
        (T("2020-07-01"), T("2021-07-01"), T("2022-01-01")),
        (T("2021-01-01"), T("2022-01-01"), T("2022-03-01")),
    ]
    anchored = make_folds(
        T("2020-01-01"), T("2022-01-01"), parse_period("1y"), parse_period("6m"), anchored=True
    )
    assert {f.train_start for f in anchored} == {T("2020-01-01")}
    with pytest.raises(ParamError, match="shorter than one training window"):
        make_folds(T("2020-01-01"), T("2020-06-01"), parse_period("1y"), parse_period("1m"))


def test_stitching_compounds_each_folds_returns():
    index_a = pd.date_range("2021-01-01", periods=3, freq="D", tz="UTC")
    index_b = pd.date_range("2021-01-04", periods=3, freq="D", tz="UTC")
    a = Curves(pd.Series([100.0, 110.0, 120.0], index_a), pd.Series([0.0, 50.0, 0.0], index_a))
    b = Curves(pd.Series([100.0, 90.0, 99.0], index_b), pd.Series([0.0, 10.0, 0.0], index_b))
    both = stitch([a, b])
    assert list(both.equity) == pytest.approx([100, 110, 120, 120, 108, 118.8])
    assert list(both.exposure) == pytest.approx([0, 50, 0, 0, 12, 0])


def _reference(spec, result) -> Curves:
    """The same out-of-sample windows and parameters, each run alone by the backtest runner."""
    runs = []
    for fold in result.folds:
        alone = run_backtest(
            spec_with(
                spec, fold.params, fold.fold.train_end.isoformat(), _before(fold.fold.test_end)
            )
        )
        assert alone.metrics["sharpe"] == fold.out_of_sample.metrics["sharpe"]
        assert alone.metrics["trades"] == fold.out_of_sample.metrics["trades"]
        runs.append(alone.curves)
    return stitch(runs)


def test_stitched_oos_matches_backtests_of_the_same_periods(tmp_path):
    spec = make_spec(SYNTHETIC_CATALOG, tmp_path, "2024-01-01", "2024-05-01")
    folds = make_folds(
        T(spec.start, tz="UTC"), T(spec.end, tz="UTC"), parse_period("6w"), parse_period("3w")
    )
    assert len(folds) == 4
    space = candidates([parse_axis("fast=5,15"), parse_axis("slow=30,60")])
    result = walk_forward(LocalPool(spec, 2), folds, space, "sharpe")
    reference = _reference(spec, result)
    pd.testing.assert_series_equal(result.stitched.equity, reference.equity)
    assert result.metrics == curve_metrics(reference)
    assert result.metrics["total_return"] == pytest.approx(
        pd.Series([f.out_of_sample.metrics["total_return"] + 1 for f in result.folds]).prod() - 1
    )
    assert set(result.stability()) == {"fast", "slow"}
    assert list(result.frame().index) == [0, 1, 2, 3]


@pytest.mark.slow
def test_walk_forward_on_btc_2014_to_2022(real_catalog, tmp_path):
    spec = make_spec(real_catalog.path, tmp_path, "2014-01-01", "2023-01-01")
    folds = make_folds(
        T(spec.start, tz="UTC"), T(spec.end, tz="UTC"), parse_period("1y"), parse_period("1y")
    )
    assert len(folds) >= 8
    space = candidates([parse_axis("fast=10,40"), parse_axis("slow=100")])
    result = walk_forward(LocalPool(spec, 2), folds, space, "sharpe")
    reference = _reference(spec, result)
    pd.testing.assert_series_equal(result.stitched.equity, reference.equity)
    assert result.metrics == curve_metrics(reference)
    assert result.stitched.equity.index[0] < T("2015-01-02", tz="UTC")
    assert result.stitched.equity.index[-1] > T("2022-12-30", tz="UTC")
