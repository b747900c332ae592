"""Observation channels (sim/observation/): data, the 2019 cut, likelihoods, per-run parameters,
SimView's time convention and the 2010 history scenario."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.observation import CHANNELS, HeldOutError, SimView, all_params
from sim.observation.icews import mean_coop_share
from sim.observation.reference import fit_on_implied, implied_view
from sim.observation.stats import ar1_loglik, betabinom_logpmf
from sim.observation.trade import cny_reference, market, seasonal_factors
from sim.resources import scenario_path
from sim.spec import load_scenario

EXPECTED = {  # channel: (rows, first year, last year, pairs)
    "un_distance": (171, 1946, 2019, 3),
    "rollcall_agreement": (171, 1946, 2019, 3),
    "statedept_coincidence": (14, 2013, 2019, 2),
    "icews_coop": (78, 2002, 2014, 6),
    "trade_usa_chn_monthly": (240, 2010, 2019, 2),
    "trade_chn_rus_annual": (10, 2010, 2019, 1),
}


def synthetic_view(runs: int = 4, start: str = "2010-01", months: int = 120,
                   seed: int = 0) -> SimView:
    """USA, CHN, RUS with wandering relations and imports near the 2010 levels."""
    rng = np.random.default_rng(seed)
    z = np.cumsum(rng.normal(0, 0.05, (runs, months + 1, 3, 3)), axis=1)
    z += np.array([[0, -0.9, -0.4], [-0.9, 0, 0.9], [-0.4, 0.9, 0]])
    base = np.array([[0, 365.0, 26.5], [91.9, 0, 25.8], [9.8, 29.6, 0]])
    imports = base * np.exp(np.cumsum(rng.normal(0, 0.01, (runs, months + 1, 3, 3)), axis=1))
    return SimView(np.tanh(z), imports, ("USA", "CHN", "RUS"), start)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_channel_loads_its_data(name):
    rows, first, last, pairs = EXPECTED[name]
    df = CHANNELS[name].observed()
    assert len(df) == rows
    assert (df["year"].min(), df["year"].max(), df["pair"].nunique()) == (first, last, pairs)
    assert np.isfinite(df["value"]).all()
    if "trials" in df:
        assert ((df["value"] >= 0) & (df["value"] <= df["trials"])).all()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_channel_refuses_years_after_2019(name):
    ch = CHANNELS[name]
    with pytest.raises(HeldOutError, match="2020 is after 2019"):
        ch.observed(2010, 2020)
    view = synthetic_view(months=180)  # 2010-2024
    with pytest.raises(HeldOutError):
        ch.loglik(view, None, 2010, 2021)
    assert ch.rows(view)["year"].max() <= 2019  # a run past 2019 is scored only to 2019


def test_every_parameter_is_declared_with_its_prior():
    par = all_params()
    assert len(par) == sum(len(ch.params) for ch in CHANNELS.values())
    for name, p in par.items():
        assert name.split(".")[0] in CHANNELS and p.why and p.unit
        assert np.isfinite(p.logprior(p.default)) and p.logprior(p.hi + 1.0) == -np.inf


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_likelihood_peaks_near_the_generating_parameters(name):
    """Simulate from the channel at its defaults (one replicate per run); the likelihood summed
    over the runs is higher at the truth than with the loading (or trend) shifted either way."""
    ch = CHANNELS[name]
    view = synthetic_view(runs=8)
    rows = ch.rows(view)
    y = ch.draw(view, None, rows, np.random.default_rng(3))
    key = {"trade_usa_chn_monthly": "imports.trend", "trade_chn_rus_annual": "trend"}.get(
        name, "loading")
    par = all_params()[f"{name}.{key}"]
    step = 0.05 if "trend" in key else 0.4

    def total(value: float) -> float:
        out = 0.0
        for r in range(view.runs):  # each run's replicate scored under its own run
            one = SimView(view.x[r:r + 1], view.imports[r:r + 1], view.ids, view.start)
            out += ch.logpdf(one, {par.name: value}, rows.assign(value=y[r]))[0]
        return out

    at_truth = total(par.default)
    assert np.isfinite(at_truth)
    assert at_truth > total(par.default + step)
    assert at_truth > total(max(par.lo, par.default - step))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_per_run_theta_equals_scalar_theta(name):
    ch = CHANNELS[name]
    view = synthetic_view(runs=3)
    values = {p.name: np.array([p.default, 0.5 * (p.default + p.hi), p.lo + 0.3 * (p.hi - p.lo)])
              for p in ch.params}
    ll = ch.loglik(view, values)
    mean = ch.expected(view, values)
    for r in range(3):
        scalar = {k: float(v[r]) for k, v in values.items()}
        assert ch.loglik(view, scalar)[r] == pytest.approx(ll[r], rel=1e-12)
        np.testing.assert_allclose(ch.expected(view, scalar)[r], mean[r], rtol=1e-12)
    assert len(set(np.round(ll, 6))) == 3  # the three parameter sets do differ


def test_betabinomial_equals_scipy():
    k, n, p, rho = np.array([3, 40, 7]), np.array([10, 50, 7]), np.array([0.2, 0.9, 0.6]), 0.1
    a, b = p * (1 - rho) / rho, (1 - p) * (1 - rho) / rho
    np.testing.assert_allclose(betabinom_logpmf(k, n, p, rho),
                               stats.betabinom.logpmf(k, n, a, b), rtol=1e-10)
    np.testing.assert_allclose(betabinom_logpmf(k, n, p, 0.0), stats.binom.logpmf(k, n, p),
                               rtol=1e-12)


def test_statedept_loglik_equals_scipy_on_a_hand_case():
    """CHN 2013: same 30, oppose 45; one run with z̄ = 0.5 all year."""
    ch = CHANNELS["statedept_coincidence"]
    x = np.zeros((1, 13, 3, 3))
    x[0, :, 0, 1] = x[0, :, 1, 0] = np.tanh(0.5)
    view = SimView(x, np.ones_like(x), ("USA", "CHN", "RUS"), "2013-01")
    rows = ch.rows(view).query("pair == 'USA-CHN'")
    theta = {"statedept_coincidence.intercept": -0.3, "statedept_coincidence.loading": 0.8,
             "statedept_coincidence.rho": 0.05}
    p = 1 / (1 + np.exp(-(-0.3 + 0.8 * 0.5)))
    a, b = p * 0.95 / 0.05, (1 - p) * 0.95 / 0.05
    assert ch.logpdf(view, theta, rows)[0] == pytest.approx(stats.betabinom.logpmf(30, 75, a, b))


def test_ar1_loglik_equals_multivariate_normal():
    rng = np.random.default_rng(1)
    e, times, sigma, phi = rng.normal(size=(1, 5)), np.array([0, 1, 2, 4, 5]), 0.3, 0.6
    cov = sigma**2 * phi ** np.abs(times[:, None] - times[None, :])
    want = stats.multivariate_normal(np.zeros(5), cov).logpdf(e[0])
    assert ar1_loglik(e, np.zeros(5), times, sigma, phi)[0] == pytest.approx(want)


def test_simview_annual_mean_is_the_mean_of_the_end_of_month_states():
    months = 30  # 2009-07 .. 2011-12: complete years 2010 and 2011 only
    x = np.zeros((2, months + 1, 2, 2))
    x[:, :, 0, 1] = np.arange(months + 1) / 100
    x[:, :, 1, 0] = -np.arange(months + 1) / 200
    x[1] *= 2
    view = SimView(x, np.zeros_like(x), ("A", "B"), "2009-07")
    years, ann = view.annual(view.dyad_mean("A-B"))
    assert list(years) == [2010, 2011]
    # 2010 = months 6..17 after 2009-07, end-of-month states at steps 7..18
    hand = np.mean([(s / 100 - s / 200) / 2 for s in range(7, 19)])
    assert ann[0, 0] == pytest.approx(hand) and ann[1, 0] == pytest.approx(2 * hand)
    assert view.at_months(view.directed("A", "B"), ["2009-07"])[0, 0] == pytest.approx(0.01)
    with pytest.raises(ValueError, match="2009"):
        view.at_years(view.dyad_mean("A-B"), [2009])


def test_count_defaults_are_the_rounded_fit_on_implied_relations():
    """The shipped defaults of the vote and event channels are what :func:`fit_on_implied`
    gives (rounded); a change of data or model form shows here."""
    spans = {"rollcall_agreement": (1992, 2019), "statedept_coincidence": (2013, 2019),
             "icews_coop": (2002, 2014)}
    for name, (a, b) in spans.items():
        fit, default = fit_on_implied(CHANNELS[name], a, b), CHANNELS[name].defaults()
        for key, val in fit.items():
            assert default[key] == pytest.approx(val, abs=0.06), key


def test_implied_view_reproduces_the_distances_under_the_default_map():
    ch = CHANNELS["un_distance"]
    view = implied_view(2005, 2019)
    rows = ch.rows(view)
    np.testing.assert_allclose(ch.expected(view)[0], rows["value"], atol=1e-9)


def test_trade_constants_come_from_the_data():
    cny = market()["cny_per_usd"]
    assert cny_reference() == pytest.approx(cny[cny.index.str.startswith("2010")].mean())
    season = seasonal_factors(CHANNELS["trade_usa_chn_monthly"].observed())
    for f in ("CHN->USA", "USA->CHN"):
        assert season[f].shape == (12,) and abs(season[f].sum()) < 1e-9
    assert season["CHN->USA"][1] < -0.1  # February (Chinese New Year) is the low month


def test_icews_2014_usa_rus_anomaly_and_weak_link_to_un_distance():
    """Issue 10's numbers: USA-RUS cooperation in 2014 is 3.5 sd below 2002-13; year-on-year
    changes of cooperation and of UN closeness correlate only 0.11-0.27."""
    icews = CHANNELS["icews_coop"].observed()
    dist = CHANNELS["un_distance"].observed(2002, 2014)
    share = mean_coop_share(icews, "USA-RUS")
    pre = share.loc[:2013]
    z = (share.loc[2014] - pre.mean()) / pre.std()
    assert z == pytest.approx(-3.50, abs=0.01)
    for pair in ("USA-CHN", "USA-RUS", "CHN-RUS"):
        d = dist[dist["pair"] == pair].set_index("year")["value"]
        r = np.corrcoef(mean_coop_share(icews, pair).diff().dropna(), -d.diff().dropna())[0, 1]
        assert 0.1 < r < 0.28


def test_history_2010_scenario_validates_and_starts_in_2010():
    spec = load_scenario(scenario_path("history_2010_2024"))
    assert (spec.scenario.start, spec.scenario.months) == ("2010-01", 180)
    ideal = {s.id: s.ideal_point for s in spec.states}
    assert ideal["USA"] - ideal["CHN"] == pytest.approx(2.9598, abs=1e-4)  # 2009 distance
    assert not spec.policies
    assert {e.date[:4] for e in spec.events} >= {"2014", "2018", "2024"}
    assert all(c for c in spec.cites.values())


def test_channels_read_sim_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SIM_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        CHANNELS["un_distance"].observed()


def test_un_distance_intercepts_are_per_dyad():
    """Each triad dyad has its own intercept: moving one moves only that dyad's expected
    distance, data drawn with distinct levels are fitted better by their own intercepts than by
    one common intercept, and a pair without an intercept is refused."""
    from sim.observation.votes import TRIAD_PAIRS, intercept_name

    ch = CHANNELS["un_distance"]
    view = synthetic_view(runs=1)
    rows = ch.rows(view)
    base = ch.mean(view, None, rows)[0]
    moved = ch.mean(view, {intercept_name("USA-RUS"): 2.25}, rows)[0]
    usa_rus = (rows["pair"] == "USA-RUS").to_numpy()
    np.testing.assert_allclose(moved[usa_rus] - base[usa_rus], 0.5, atol=1e-12)
    np.testing.assert_array_equal(moved[~usa_rus], base[~usa_rus])

    truth = {intercept_name(p): a for p, a in zip(TRIAD_PAIRS, (2.6, 1.1, 1.9), strict=True)}
    truth |= {"un_distance.sigma": 0.1, "un_distance.ar1": 0.3}
    y = ch.draw(view, truth, rows, np.random.default_rng(4))[0]
    data = rows.assign(value=y)
    at_truth = ch.logpdf(view, truth, data)[0]
    common = {**truth, **dict.fromkeys((intercept_name(p) for p in TRIAD_PAIRS), 1.8667)}
    assert at_truth > ch.logpdf(view, common, data)[0] + 50.0
    for p in TRIAD_PAIRS:
        for step in (-0.3, 0.3):
            shifted = {**truth, intercept_name(p): truth[intercept_name(p)] + step}
            assert at_truth > ch.logpdf(view, shifted, data)[0]
    with pytest.raises(ValueError, match="USA-EU"):
        ch.mean(view, None, rows.assign(pair="USA-EU"))


def _one_month(name: str):
    spec = load_scenario(scenario_path(name))
    return spec.model_copy(update={"scenario": spec.scenario.model_copy(update={"months": 1})})


def test_calibrated_start_inverts_the_un_distance_channel_in_every_run():
    """``start_relations = "calibrated"`` (the baseline): in every run of an ensemble with
    posterior draws (``anchor.d_half`` varies by run), the UN distance the calibrated channel
    expects at month 0 is the 2019 distance in the data file, for each triad dyad, and the
    scenario's gap between RUS->CHN and CHN->RUS is kept."""
    import pandas as pd

    from sim import api
    from sim.observation.votes import UnDistance, calibrated_theta
    from sim.resources import data_dir

    res = api.run(_one_month("baseline"), draws=16, runs_per_draw=1)
    assert np.ptp(res.traj.params.values["anchor.d_half"]) > 0  # the rule would vary by run
    ids, x0 = res.world.ids, res.traj.x[:, 0]
    raw = pd.read_csv(data_dir() / "derived_idealpoint_distances_USA_CHN_RUS.csv")
    y2019 = raw[raw.year == 2019].iloc[0]
    theta = calibrated_theta()
    for pair in ("USA-CHN", "USA-RUS", "CHN-RUS"):
        a, b = (ids.index(s) for s in pair.split("-"))
        xbar = 0.5 * (x0[:, a, b] + x0[:, b, a])
        d = UnDistance().distance(xbar, theta, np.array([pair]))
        np.testing.assert_allclose(d, y2019[f"dist_{pair.replace('-', '_')}_fp"], atol=2e-4)
    c, r = ids.index("CHN"), ids.index("RUS")
    np.testing.assert_allclose(x0[:, r, c] - x0[:, c, r], 0.10, atol=1e-12)


def test_calibrated_start_follows_the_map_it_is_given():
    """:func:`sim.world.observed_start` inverts the channel's map for any parameters: with
    intercept 2 and loading 1.5, a distance of 2.6 starts at (2 − 2.6)/1.5 = −0.4; starts
    beyond ±0.99 are clipped."""
    from sim.observation.votes import intercept_name
    from sim.world import observed_start

    theta = {intercept_name("USA-CHN"): 2.0, intercept_name("USA-RUS"): 1.0,
             intercept_name("CHN-RUS"): 1.4, "un_distance.loading": 1.5}
    ideal = np.array([2.6, 0.0, -1.0])  # USA-CHN 2.6, USA-RUS 3.6, CHN-RUS 1.0
    x = np.array([[0.0, 0.1, 0.0], [0.3, 0.0, 0.2], [0.0, 0.2, 0.0]])
    out, mask = observed_start(ideal, x, ["USA", "CHN", "RUS"], theta)
    assert mask.sum() == 6 and not mask.diagonal().any()
    np.testing.assert_allclose([out[0, 1], out[1, 0]], [-0.4 - 0.1, -0.4 + 0.1])
    np.testing.assert_allclose([out[0, 2], out[2, 0]], -0.99)  # (1 − 3.6)/1.5 = −1.73
    np.testing.assert_allclose([out[1, 2], out[2, 1]], (1.4 - 1.0) / 1.5)


def test_history_keeps_the_ideal_point_rule_the_calibration_used():
    """The history scenario (the calibration's) starts from the rule 1 − d/d_half, not from the
    calibrated map, so the shipped posterior stays the posterior of the model it runs."""
    from sim.world import World, initial_relations

    spec = load_scenario(scenario_path("history_2010_2024"))
    assert spec.scenario.start_relations == "rule"
    world = World.from_spec(spec)
    rule = initial_relations(world.ideal, spec.mechanisms.anchor.d_half)
    t = list(world.triad())
    np.testing.assert_array_equal(world.x0[np.ix_(t, t)], rule[np.ix_(t, t)])
