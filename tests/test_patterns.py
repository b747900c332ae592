"""The pattern rules of docs/VALIDATION.md §0 (sim.validation.patterns) and the saturation target
of the latent-scale relations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.resources import data_dir
from sim.validation import patterns as pt


def test_trade_ranges_are_the_data_ranges():
    raw = pd.read_csv(data_dir() / "derived_trade_series_long.csv")
    usa_chn = raw[(raw.flow == "total") & raw.series.str.startswith("USA-CHN")]
    assert pt.trade_ranges()["USA-CHN"] == (usa_chn.value.min(), usa_chn.value.max())
    assert set(pt.trade_ranges()) == {"USA-CHN", "CHN-RUS"}
    chn_rus = raw[(raw.flow == "total") & raw.series.str.startswith("CHN-RUS")]
    top = chn_rus.loc[chn_rus.value.idxmax()]
    assert pt.trade_ranges()["CHN-RUS"][1] == top.value and top.year == 2019  # why the trade
    # range test widens the range by 1%: the baseline starts at the top of the range


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
    high = np.abs(xbar[..., iu[0], iu[1]]) > 0.95
    assert float(high.mean()) <= 0.01, float(high.mean())  # per dyad-month
    assert float(high.any(axis=-1).mean()) <= 0.01, float(high.any(axis=-1).mean())  # any dyad
    assert np.isfinite(x).all() and (np.abs(x) < 1).all()


@pytest.mark.slow
def test_baseline_leaves_the_historical_ranges_only_by_its_events():
    """Issue 10's target on observables: the implied UN distances stay inside their 1992–2019
    ranges unless a scenario's events say why not. With the baseline's events and policies
    switched off, ≥ 99% of runs keep every triad dyad inside its own range in every year
    (before the steady start, the model's own pull took CHN–RUS outside in half the runs)."""
    quiet = pt.baseline_runs(draws=200, runs_per_draw=1, events=False)
    own = pt.distance_ranges()
    for dyad, d in pt.implied_distances(quiet).items():
        ok, what = pt.share_inside(d, *own[dyad], 0.99)
        assert ok, (dyad, what)


@pytest.mark.slow
def test_baseline_trade_leaves_its_range_only_by_its_events():
    """Issue 10's target on the other observable, trade: with the baseline's events and
    policies off, ≥ 99% of runs keep USA–CHN and CHN–RUS annual trade inside the 2010–2019
    range of the data in every year, widened by 1% at each end: the baseline starts from the
    2019 values, and 2019 is CHN–RUS's highest year, so noise alone would cross the edge. With
    the events on, trade leaves it (the 2018–24 tariffs, the 2022 sanctions' diversion), which
    docs/VALIDATION.md §0 reports."""
    quiet = pt.baseline_runs(draws=200, runs_per_draw=1, events=False)
    ranges = pt.trade_ranges()
    for pair, v in pt.annual_trade(quiet).items():
        lo, hi = ranges[pair]
        ok, what = pt.share_inside(v, 0.99 * lo, 1.01 * hi, 0.99)
        assert ok, (pair, what, float(v.min()), float(v.max()))


def test_implied_distance_uses_each_dyads_own_intercept(monkeypatch):
    """P3 reads d = a_p − λ·x̄ with the dyad's own posterior-mean intercept a_p: constant
    relations give each dyad its own level."""
    from types import SimpleNamespace

    from sim.observation.votes import intercept_name

    ids = ("USA", "CHN", "RUS")
    means = {"un_distance.loading": 1.5, intercept_name("USA-CHN"): 2.0,
             intercept_name("USA-RUS"): 1.0, intercept_name("CHN-RUS"): 1.4}
    monkeypatch.setattr(pt, "_posterior_means", lambda: means)
    x = np.zeros((2, 25, 3, 3))  # 2 runs, 24 months
    x[..., 0, 1] = x[..., 1, 0] = -0.6
    x[..., 0, 2], x[..., 2, 0] = -0.2, -0.4  # dyad mean -0.3
    x[..., 1, 2] = x[..., 2, 1] = 0.5
    res = SimpleNamespace(world=SimpleNamespace(ids=ids, n=3), traj=SimpleNamespace(x=x))
    d = pt.implied_distances(res)
    assert {k: v.shape for k, v in d.items()} == dict.fromkeys(("USA-CHN", "USA-RUS",
                                                                "CHN-RUS"), (2, 2))
    np.testing.assert_allclose(d["USA-CHN"], 2.0 + 1.5 * 0.6)
    np.testing.assert_allclose(d["USA-RUS"], 1.0 + 1.5 * 0.3)
    np.testing.assert_allclose(d["CHN-RUS"], 1.4 - 1.5 * 0.5)


def test_p3_is_judged_on_each_dyads_own_range():
    """The P3 rule evaluated is the corrected one: a USA-CHN distance of 3.5 every year is
    inside USA-CHN's own range but outside the range the rule was first written with."""
    lo, hi = pt.distance_ranges()["USA-CHN"]
    vals = np.full((100, 10), 3.5)
    assert pt.share_inside(vals, lo, hi, 0.99)[0]
    assert not pt.share_inside(vals, *pt.DISTANCE_RANGE, 0.99)[0]
    assert "own 1992–2019 range" in next(p.rule for p in pt.PATTERNS if p.key == "P3")


@pytest.mark.slow
def test_implied_distance_stays_in_each_dyads_range_in_sample():
    """The P3 diagnostic in sample: on the history 2010–2019 under the shipped posterior (events
    through 2019), each dyad's median implied UN distance lies inside its own 1992–2019 range in
    every year. With one intercept for all dyads the USA–RUS median drifted to 2.88–2.90, above
    the dyad's 2.76 (docs/VALIDATION.md §0)."""
    shares = pt.history_range_shares(draws=100, last_event_year=2019)
    own = pt.distance_ranges()
    sample = shares[shares["year"] <= 2019]
    assert set(sample["dyad"]) == set(own) and sample["year"].nunique() == 10
    for dyad, rows in sample.groupby("dyad"):
        lo, hi = own[dyad]
        assert rows["median"].between(lo, hi).all(), (dyad, rows["median"].round(2).tolist())
