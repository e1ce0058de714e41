"""Deflated Sharpe ratio against the paper's worked example; trade intervals; neighbourhoods."""

import math

import numpy as np
import pandas as pd
import pytest

from seraphim.research.robustness import deflate
from seraphim.research.robustness import deflated_sharpe
from seraphim.research.robustness import expected_max_sharpe
from seraphim.research.robustness import neighbourhood
from seraphim.research.robustness import trade_intervals


def test_deflated_sharpe_matches_the_papers_example():
    # Bailey & López de Prado (2014), section 5: 100 trials whose annualised Sharpes vary by
    # 1/2, a best of 2.5 annualised over 1,250 daily returns with skew -3 and kurtosis 10:
    # SR0 = 0.1132 per day and DSR = 0.9004.
    days = 250
    variance = 0.5 / days
    assert expected_max_sharpe(variance, 100) == pytest.approx(0.1132, abs=1e-4)
    dsr = deflated_sharpe(2.5 / math.sqrt(days), variance, 100, 1250, skew=-3, kurtosis=10)
    assert dsr == pytest.approx(0.9004, abs=5e-4)


def test_more_trials_deflate_more():
    rng = np.random.default_rng(1)
    returns = pd.Series(rng.normal(0.001, 0.01, 730))
    sharpes = list(rng.normal(0.5, 0.6, 200))
    few, many = deflate(returns, sharpes[:5]), deflate(returns, sharpes)
    assert (
        few.sharpe == many.sharpe == pytest.approx(returns.mean() / returns.std() * math.sqrt(365))
    )
    assert many.threshold > few.threshold
    assert many.probability < few.probability
    assert (few.trials, many.trials, many.observations) == (5, 200, 730)


def test_trade_intervals():
    pnls = [100.0, -50.0, 80.0, -20.0, 60.0, -90.0, 40.0]
    out = trade_intervals(pnls, 10_000.0, samples=500, seed=3)
    assert out == trade_intervals(pnls, 10_000.0, samples=500, seed=3)
    shuffled = out["reshuffle"]["total_return"]
    assert shuffled.low == shuffled.median == shuffled.high == pytest.approx(120 / 10_000)
    boot = out["bootstrap"]["total_return"]
    assert boot.low < 120 / 10_000 < boot.high
    drawdown = out["reshuffle"]["max_drawdown"]
    assert (
        -160 / 10_000 - 1e-9 <= drawdown.low <= drawdown.high <= -90 / 10_280 + 1e-9
    )  # the deepest loss at the highest peak
    assert trade_intervals([], 1.0) == {}


def test_neighbourhood_of_a_lone_spike_is_poor():
    rows = [
        {"status": "ok", "fast": f, "slow": s, "sharpe": 0.1}
        for f in (5, 10, 15, 20)
        for s in (30, 60)
    ]
    frame = pd.DataFrame(rows)
    frame.loc[2, "sharpe"] = 3.0  # fast 10, slow 30
    assert neighbourhood(frame, 2, ["fast", "slow"], "sharpe") == pytest.approx(0.1)
    frame.loc[[0, 1, 3, 4, 5], "sharpe"] = 2.0
    assert neighbourhood(frame, 2, ["fast", "slow"], "sharpe") == pytest.approx(2.0)
