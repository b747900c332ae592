"""sim.validation.scores and sim.validation.baselines against analytic cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.validation import baselines as bl
from sim.validation import scores as sc


def normal_crps(mu: float, sigma: float, y: np.ndarray) -> np.ndarray:
    """Closed form (Gneiting & Raftery 2007, Eq. 21): σ[z(2Φ(z)−1) + 2φ(z) − 1/√π]."""
    z = (y - mu) / sigma
    return sigma * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / np.sqrt(np.pi))


def test_crps_of_a_normal_ensemble_matches_the_closed_form():
    rng = np.random.default_rng(0)
    y = np.array([-3.0, -0.5, 0.0, 1.0, 4.0])
    s = rng.normal(1.0, 2.0, (20_000, len(y)))
    np.testing.assert_allclose(sc.crps(s, y), normal_crps(1.0, 2.0, y), rtol=0.03, atol=0.01)


def test_crps_of_a_point_mass_is_the_absolute_error():
    s = np.full((5, 3), 2.0)
    np.testing.assert_allclose(sc.crps(s, np.array([2.0, 0.0, 5.0])), [0.0, 2.0, 3.0])


def test_coverage_and_pit_of_the_true_distribution_are_nominal():
    rng = np.random.default_rng(1)
    k = 4000
    s = rng.standard_normal((500, k))
    y = rng.standard_normal(k)
    assert sc.coverage(s, y, 0.5).mean() == pytest.approx(0.5, abs=0.03)
    assert sc.coverage(s, y, 0.9).mean() == pytest.approx(0.9, abs=0.02)
    hist, _ = sc.pit_histogram(sc.pit(s, y, seed=3), bins=10)
    np.testing.assert_allclose(hist, 0.1, atol=0.02)
    # too narrow a forecast: PIT piles up at the ends, coverage falls short
    narrow = 0.3 * s
    assert sc.coverage(narrow, y, 0.9).mean() < 0.5
    h2, _ = sc.pit_histogram(sc.pit(narrow, y, seed=3), bins=10)
    assert h2[0] + h2[-1] > 0.5


def test_pit_breaks_ties_at_random_and_is_seeded():
    s = np.zeros((9, 2000))
    y = np.zeros(2000)
    p = sc.pit(s, y, seed=7)
    assert np.array_equal(p, sc.pit(s, y, seed=7))
    assert p.min() > 0 and p.max() < 1 and p.mean() == pytest.approx(0.5, abs=0.02)


def test_brier_direction():
    s = np.array([[1.0, 1.0], [3.0, 1.0], [3.0, 1.0], [3.0, 1.0]])  # P(up from 2) = 0.75, 0
    b = sc.brier_direction(s, np.array([5.0, 5.0]), 2.0)
    np.testing.assert_allclose(b, [0.0625, 1.0])


def test_skill():
    assert sc.skill(np.array([1.0, 1.0]), np.array([2.0, 2.0])) == 0.5
    assert sc.skill(3.0, 2.0) == -0.5


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="expected"):
        sc.crps(np.zeros((3, 2)), np.zeros(3))


# ----------------------------------------------------------------------------- baselines


def test_rw_drift_recovers_drift_and_spread():
    rng = np.random.default_rng(2)
    y = np.cumsum(rng.normal(0.5, 1.0, 400))
    s = bl.rw_drift(y, 4, 20_000, seed=1)
    assert s.shape == (20_000, 4)
    np.testing.assert_allclose(s.mean(0) - y[-1], 0.5 * np.arange(1, 5), atol=0.15)
    np.testing.assert_allclose(s.std(0), np.sqrt(np.arange(1, 5)), rtol=0.08)


def test_ar1_mean_reverts_to_the_fitted_mean():
    rng = np.random.default_rng(3)
    e = rng.standard_normal(600)
    y = np.empty(600)
    y[0] = 10
    for t in range(1, 600):
        y[t] = 10 + 0.5 * (y[t - 1] - 10) + e[t]
    y[-1] = 14.0
    s = bl.ar1(y, 3, 20_000, seed=1)
    np.testing.assert_allclose(s.mean(0), 10 + 4 * 0.5 ** np.arange(1, 4), atol=0.2)


def test_var_samples_match_statsmodels_forecast():
    from statsmodels.tsa.api import VAR

    rng = np.random.default_rng(4)
    z = rng.normal(0, 1, (90, 2)).cumsum(0) * 0.1 + np.sin(np.arange(90) * np.pi / 6)[:, None]
    s = bl.var(z, 6, 20_000, seed=0, season_start=3)
    dummies = bl._month_dummies
    res = VAR(z, exog=dummies(3, 90)).fit(2, trend="c")
    mean = res.forecast(z[-2:], 6, exog_future=dummies((3 - 1 + 90) % 12 + 1, 6))
    np.testing.assert_allclose(s.mean(0), mean, atol=0.02)


@pytest.mark.parametrize("method", ["rw_drift", "ar1", "var"])
def test_baselines_are_deterministic_and_never_see_beyond_their_history(method):
    rng = np.random.default_rng(5)
    y = rng.normal(3, 0.2, (60, 2)).cumsum(0) / 10
    cut = 48

    def run(data: np.ndarray) -> np.ndarray:
        hist = data[:cut]  # what the rolling origin passes: data up to the origin only
        if method == "var":
            return bl.var(hist, 5, 200, seed=9, season_start=1)
        return getattr(bl, method)(hist[:, 0], 5, 200, seed=9)

    perturbed = y.copy()
    perturbed[cut:] += 100.0
    assert np.array_equal(run(y), run(perturbed))
    other = y.copy()
    other[cut - 1] += 1.0
    assert not np.array_equal(run(y), run(other))
