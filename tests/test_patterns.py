"""The pattern rules of docs/VALIDATION.md §0 (sim.validation.patterns) and the saturation target
of the latent-scale relations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.resources import data_dir
from sim.validation import patterns as pt


def test_distance_ranges_are_the_data_ranges_1992_2019():
    raw = pd.read_csv(data_dir() / "derived_idealpoint_distances_USA_CHN_RUS.csv")
    raw = raw[raw.year.between(1992, 2019)]
    d = raw["dist_CHN_RUS_fp"].to_numpy()
    assert (round(float(np.nanmin(d)), 2), round(float(np.nanmax(d)), 2)) == pt.DISTANCE_RANGE
    ranges = pt.distance_ranges()
    assert ranges["CHN-RUS"] == pytest.approx((0.4052, 2.9524))
    assert ranges["USA-CHN"] == pytest.approx((2.6904, 4.7059))


def test_rules_on_hand_cases():
    rng = np.random.default_rng(0)
    rep = rng.normal(size=(4000, 10))
    assert pt.covered_years(rep, np.zeros(10), 8)[0]
    assert not pt.covered_years(rep, np.full(10, 3.0), 8)[0]
    assert pt.ppp_inside(0.5)[0] and not pt.ppp_inside(0.99)[0]
    vals = np.full((100, 5), 1.0)
    vals[0, 2] = 3.5  # one run leaves the range once
    assert pt.share_inside(vals, 0.41, 2.95, 0.99)[0]
    vals[1, 0] = 0.1
    assert not pt.share_inside(vals, 0.41, 2.95, 0.99)[0]
    xbar = np.zeros((10, 10, 3))
    xbar[0, 0, 1] = 0.96  # 1 of 100 run-months
    assert pt.pinned_share(xbar)[0]
    xbar[1, 1, 2] = -0.97
    assert not pt.pinned_share(xbar)[0]
    assert pt.no_firing(0.0088, 56)[0] and not pt.no_firing(0.1, 56)[0]
    assert pt.near_mle(-19.0, -18.0)[0] and not pt.near_mle(-25.0, -18.0)[0]
    skill = pd.DataFrame({"series": ["a", "a", "b", "c"], "skill": [0.1, 0.2, -0.1, 0.3]})
    assert pt.skill_majority(skill)[0]
    assert not pt.skill_majority(skill.assign(skill=[-0.1, 0.2, -0.1, 0.3]))[0]


def test_balance_rule_needs_two_dittmer_patterns():
    start, end = np.zeros(100), np.ones(100)
    one = np.array(["stable_marriage"] * 100)
    assert not pt.balance_moves(start, end, one)[0]
    two = np.array(["stable_marriage"] * 90 + ["romantic_triangle"] * 10)
    assert pt.balance_moves(start, end, two)[0]


@pytest.mark.slow
def test_baseline_relations_rarely_reach_095_under_the_posterior():
    """Issue 10's target: in the baseline with posterior draws, ≤ 1% of dyad run-months have
    |x̄| > 0.95 (before model v2: 23% sat at the ±1 clip under defaults)."""
    res = pt.baseline_runs(draws=200, runs_per_draw=1)
    x = res.traj.x[:, 1:]
    xbar = 0.5 * (x + np.swapaxes(x, -1, -2))
    iu = np.triu_indices(res.world.n, 1)
    share = float((np.abs(xbar[..., iu[0], iu[1]]) > 0.95).mean())
    assert share <= 0.01, share
    assert np.isfinite(x).all() and (np.abs(x) < 1).all()
