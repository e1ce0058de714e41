"""Drift bands on real history: fixed weights, no schedule, a rebalance when a band breaks."""

import pytest

from tests.allocation.portfolio_run import run_portfolio

WEIGHTS = {"MACross-000": 0.5, "Momentum-001": 0.3, "MeanReversion-002": 0.2}
BAND = 0.03


@pytest.mark.slow
def test_drift_band_rebalances_when_a_share_leaves_it(real_catalog, tmp_path):
    portfolio = {"scheme": "fixed", "weights": WEIGHTS, "drift_band": BAND}
    run = run_portfolio(real_catalog, tmp_path, "2022-01-01", "2022-07-01", portfolio=portfolio)
    allocation, returns = run["allocation"], run["returns"]
    assert set(allocation["reason"]) == {"start", "drift"}
    for _, group in allocation.groupby("timestamp"):
        assert dict(zip(group["strategy_id"], group["weight"], strict=True)) == WEIGHTS
    drifts = allocation[allocation["reason"] == "drift"]
    times = list(drifts["timestamp"].drop_duplicates())
    assert len(times) >= 3
    # What the rebalance saw: a share beyond the band...
    for ts in times:
        group = drifts[drifts["timestamp"] == ts]
        gap = (group["previous_share"] - group["strategy_id"].map(WEIGHTS)).abs()
        assert gap.max() > BAND
    # ...which is the last complete bar time before it, and no other bar time broke the band.
    gaps = (returns["share"] - returns["strategy_id"].map(WEIGHTS)).abs()
    worst = gaps.groupby(returns["timestamp"]).max()
    broken = list(worst[worst > BAND].index)
    stamps = list(worst.index)
    assert broken == [stamps[stamps.index(ts) - 1] for ts in times]
