"""Weighting schemes: risk parity equalises risk contributions, inverse vol, the edge cases."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from seraphim.allocation.weights import AllocationError
from seraphim.allocation.weights import equal_weights
from seraphim.allocation.weights import inverse_vol_weights
from seraphim.allocation.weights import risk_contributions
from seraphim.allocation.weights import risk_parity_weights
from seraphim.allocation.weights import risk_weights


def covariance_from(seed: int, n: int, factors: int, scale: float) -> np.ndarray:
    """A random covariance: a few common factors plus idiosyncratic variance, any scale."""
    rng = np.random.default_rng(seed)
    loadings = rng.normal(size=(n, factors))
    idiosyncratic = rng.uniform(0.05, 2.0, size=n)
    vols = rng.uniform(0.1, 10.0, size=n)
    cov = loadings @ loadings.T + np.diag(idiosyncratic)
    return scale * cov * np.outer(vols, vols)


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 12),
    factors=st.integers(1, 4),
    scale=st.sampled_from([1e-8, 1e-4, 1.0, 1e4]),
)
def test_risk_parity_equalises_risk_contributions(seed, n, factors, scale):
    cov = covariance_from(seed, n, factors, scale)
    weights = risk_parity_weights(cov)
    assert weights.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(weights > 0)
    contributions = risk_contributions(weights, cov)
    assert np.max(np.abs(contributions - 1.0 / n)) < 1e-7


def test_risk_parity_of_uncorrelated_strategies_is_inverse_vol():
    # With no correlation, equal risk contribution has a closed form: w_i ~ 1 / sigma_i.
    vols = np.array([0.01, 0.02, 0.04, 0.05])
    weights = risk_parity_weights(np.diag(vols**2))
    np.testing.assert_allclose(weights, inverse_vol_weights(vols), rtol=1e-9)
    np.testing.assert_allclose(weights, [100 / 195, 50 / 195, 25 / 195, 20 / 195], rtol=1e-9)


def test_risk_parity_two_correlated_strategies_closed_form():
    # For two assets ERC is inverse vol whatever the correlation.
    vols = np.array([0.2, 0.05])
    for rho in (-0.9, 0.0, 0.5, 0.99):
        cov = np.array([[vols[0] ** 2, rho * vols.prod()], [rho * vols.prod(), vols[1] ** 2]])
        np.testing.assert_allclose(risk_parity_weights(cov), [0.2, 0.8], rtol=1e-9)


def test_risk_parity_differs_from_inverse_vol_under_correlation():
    # Two highly correlated strategies and an independent one: risk parity gives the
    # independent one more than inverse vol does, and the contributions show why.
    cov = np.array([[1.0, 0.9, 0.0], [0.9, 1.0, 0.0], [0.0, 0.0, 1.0]])
    erc = risk_parity_weights(cov)
    inv = inverse_vol_weights(np.ones(3))
    assert erc[2] > inv[2] + 0.05
    np.testing.assert_allclose(risk_contributions(erc, cov), [1 / 3] * 3, atol=1e-9)
    assert risk_contributions(inv, cov)[2] < 0.3


def test_perfect_hedge_still_solves():
    cov = np.array([[1.0, -1.0], [-1.0, 1.0]])  # singular: the pair has no risk at 50/50
    np.testing.assert_allclose(risk_parity_weights(cov), [0.5, 0.5], atol=1e-9)


def test_inverse_vol():
    weights = inverse_vol_weights(np.array([1.0, 2.0, 4.0]))
    np.testing.assert_allclose(weights, [4 / 7, 2 / 7, 1 / 7])
    with pytest.raises(AllocationError, match="positive finite"):
        inverse_vol_weights(np.array([0.1, 0.0]))


def test_equal_weights():
    np.testing.assert_allclose(equal_weights(4), [0.25] * 4)
    with pytest.raises(AllocationError, match="no strategies"):
        equal_weights(0)


def test_bad_covariance_is_named():
    with pytest.raises(AllocationError, match="positive variance"):
        risk_parity_weights(np.array([[1.0, 0.0], [0.0, 0.0]]))
    with pytest.raises(AllocationError, match="square"):
        risk_parity_weights(np.ones((2, 3)))


def sample_returns(seed: int, samples: int, vols: list[float]) -> np.ndarray:
    rng = np.random.default_rng(seed)
    common = rng.normal(size=(samples, 1))
    own = rng.normal(size=(samples, len(vols)))
    return (0.5 * common + own) * np.array(vols)


@pytest.mark.parametrize("scheme", ["inverse_vol", "risk_parity"])
def test_risk_weights_from_returns(scheme):
    returns = sample_returns(1, 500, [0.01, 0.02, 0.03])
    result = risk_weights(scheme, returns, equal_weights(3))
    cov = np.cov(returns, rowvar=False)
    np.testing.assert_allclose(result.volatility, np.sqrt(np.diag(cov)))
    np.testing.assert_allclose(result.risk_contribution, risk_contributions(result.weights, cov))
    assert result.weights.sum() == pytest.approx(1.0)
    if scheme == "inverse_vol":
        np.testing.assert_allclose(result.weights, inverse_vol_weights(result.volatility))
    else:
        np.testing.assert_allclose(result.risk_contribution, [1 / 3] * 3, atol=1e-9)


def test_a_strategy_that_held_nothing_keeps_its_weight():
    returns = sample_returns(2, 300, [0.01, 0.02, 0.03])
    returns[:, 1] = 0.0  # flat all window
    current = np.array([0.2, 0.5, 0.3])
    result = risk_weights("risk_parity", returns, current)
    assert result.weights[1] == 0.5
    assert result.weights.sum() == pytest.approx(1.0)
    active = result.risk_contribution[[0, 2]]
    np.testing.assert_allclose(active, [0.5, 0.5], atol=1e-9)
    assert result.risk_contribution[1] == 0.0


def test_risk_weights_need_samples():
    with pytest.raises(AllocationError, match="at least 2 samples"):
        risk_weights("risk_parity", np.zeros((1, 3)), equal_weights(3))
    with pytest.raises(AllocationError, match="not a risk-based scheme"):
        risk_weights("equal", np.zeros((10, 3)), equal_weights(3))
