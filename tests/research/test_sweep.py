"""Sweeps: the local pool gives run_backtest's own numbers; Ctrl-C keeps finished trials."""

import signal

import pytest

from seraphim.backtest.runner import run_backtest
from seraphim.research.executors import InProcess
from seraphim.research.executors import LocalPool
from seraphim.research.params import candidates
from seraphim.research.params import parse_axis
from seraphim.research.params import parse_constraint
from seraphim.research.sweep import METRIC_COLUMNS
from seraphim.research.sweep import best
from seraphim.research.sweep import run_sweep
from seraphim.research.trial import spec_with
from tests.research.conftest import SYNTHETIC_CATALOG
from tests.research.conftest import make_spec


def _space(grid_fast: str, grid_slow: str):
    axes = [parse_axis(grid_fast), parse_axis(grid_slow)]
    return candidates(axes, [parse_constraint("fast<slow", {"fast", "slow"})])


def assert_same_metrics(trial_metrics: dict, run_metrics: dict) -> None:
    for key in [*METRIC_COLUMNS, "orders", "fills", "fees_paid"]:
        assert trial_metrics.get(key) == run_metrics.get(key), key


def test_pool_sweep_matches_a_run_alone(tmp_path):
    spec = make_spec(SYNTHETIC_CATALOG, tmp_path, "2024-03-01", "2024-04-01")
    points = _space("fast=5:15:5", "slow=10:20:10")
    outcome = run_sweep(points, LocalPool(spec, 2))
    frame = outcome.frame()
    assert not outcome.interrupted
    assert list(frame["status"]) == ["ok", "ok", "skipped", "ok", "skipped", "ok"]
    assert frame.loc[2, "reason"] == "constraint fast<slow is false"
    assert frame.loc[frame["status"] == "ok", "trades"].min() > 0  # the trials trade
    assert frame["sharpe"].nunique() == 4  # and differ
    winner = best(frame, "sharpe")
    params = {"fast": int(winner["fast"]), "slow": int(winner["slow"])}
    alone = run_backtest(spec_with(spec, params))
    by_number = {r.number: r for r in outcome.results}
    assert_same_metrics(by_number[winner.name].metrics, alone.metrics)


def test_a_failing_trial_is_a_result(tmp_path):
    spec = make_spec(SYNTHETIC_CATALOG, tmp_path, "2024-03-01", "2024-03-15")
    outcome = run_sweep(_space("fast=40", "slow=20"), InProcess(spec))  # no constraint given
    (result,) = outcome.results
    assert result.status == "skipped"
    outcome = run_sweep(candidates([parse_axis("fast=40"), parse_axis("slow=20")]), InProcess(spec))
    (result,) = outcome.results
    assert result.status == "error"
    assert result.reason.startswith("ValueError: fast (40) must be less than slow (20)")


def test_ctrl_c_keeps_finished_trials(tmp_path):
    spec = make_spec(SYNTHETIC_CATALOG, tmp_path, "2024-03-01", "2024-03-10")
    points = candidates([parse_axis("fast=2:21:1"), parse_axis("slow=30")])
    pool = LocalPool(spec, 2)
    seen = []

    def interrupt_after_two(result):
        seen.append(result.number)
        if len(seen) == 2:
            signal.raise_signal(signal.SIGINT)  # a real Ctrl-C, delivered to this process

    outcome = run_sweep(points, pool, interrupt_after_two)
    assert outcome.interrupted
    assert 2 <= len(outcome.results) < len(points)
    assert sorted(seen) == [r.number for r in outcome.results]
    assert all(r.status == "ok" and r.metrics for r in outcome.results)
    with pytest.raises(ValueError, match="Pool not running"):
        next(pool.map([]))  # the workers are gone


@pytest.mark.slow
def test_two_hundred_trials_on_real_btc(real_catalog, tmp_path):
    spec = make_spec(real_catalog.path, tmp_path, "2021-01-01", "2021-01-15")
    points = _space("fast=2:40:2", "slow=10:120:10")
    runnable = [p for p in points if not p.skipped]
    assert len(runnable) >= 200
    outcome = run_sweep(points, LocalPool(spec, 2))
    frame = outcome.frame()
    assert (frame.loc[frame["status"] != "skipped", "status"] == "ok").all()
    assert len(frame[frame["status"] == "ok"]) == len(runnable)
    winner = best(frame, "sharpe")
    alone = run_backtest(
        spec_with(spec, {"fast": int(winner["fast"]), "slow": int(winner["slow"])})
    )
    assert_same_metrics({r.number: r for r in outcome.results}[winner.name].metrics, alone.metrics)
