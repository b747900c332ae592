"""No information from after a forecast origin reaches a rolling-origin forecast: covariates,
counts, observation parameters, data of any kind, scenario events; and the forecast is
conditioned on the autocorrelated residual at the origin."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import SCENARIOS

from sim import resources
from sim.observation import CHANNELS
from sim.observation.reference import theta_at_origin
from sim.observation.stats import ar1_draw
from sim.observation.trade import covariate_paths, market
from sim.spec import load_scenario
from sim.validation import rolling as ro
from sim.world import World

ORIGIN = 2016
CHANNEL_FILES = ("derived_brent_cnyusd_monthly_2010_2019.csv",
                 "derived_icews_quad_triad_2002_2014.csv",
                 "derived_idealpoint_distances_USA_CHN_RUS.csv",
                 "derived_statedept_coincidence_with_USA_CHN_RUS_2013_2019.csv",
                 "derived_trade_series_long.csv", "derived_unga_agreement_by_year_long.csv",
                 "derived_us_china_trade_monthly_2010_2019.csv")


def view(runs: int = 3, seed: int = 0):
    """A synthetic 2010-2019 view (tests/test_observation.py's)."""
    from test_observation import synthetic_view

    return synthetic_view(runs=runs, months=120, seed=seed)


def perturb_after(folder, origin: int) -> None:
    """Every number of every channel's data file dated after ``origin`` changed in place
    (floats × 0.7, integer counts halved): values, trials, covariates, ideal points."""
    for name in CHANNEL_FILES:
        path = folder / name
        df = pd.read_csv(path)
        when = df["year"] if "year" in df else df["month"].str[:4].astype(int)
        late = when.to_numpy() > origin
        for col in df.columns:
            if col == "year" or not pd.api.types.is_numeric_dtype(df[col]):
                continue
            if pd.api.types.is_integer_dtype(df[col]):
                df.loc[late, col] = df.loc[late, col] // 2
            else:
                df.loc[late, col] = df.loc[late, col] * 0.7
        df.to_csv(path, index=False)


@pytest.fixture(scope="module")
def perturbed_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data") / "data"
    shutil.copytree(resources.data_dir(), folder)
    perturb_after(folder, ORIGIN)
    return folder


@pytest.fixture(scope="module")
def world():
    return World.from_spec(load_scenario(SCENARIOS / "history_2010_2024.toml"))


def forecasts(world, monkeypatch=None, data=None):
    if data is not None:
        monkeypatch.setenv("SIM_DATA_DIR", str(data))
    return ro.origin_forecasts(world, dict(CHANNELS), ORIGIN, particles=12, samples=40, seed=3)


def test_perturbing_every_datum_after_the_origin_changes_no_forecast(world, perturbed_dir,
                                                                     monkeypatch):
    """Model and baseline samples from origin 2016 are bit for bit the same when every value,
    count and covariate of 2017-2019 is changed; the targets themselves do change."""
    before = forecasts(world)
    after = forecasts(world, monkeypatch, perturbed_dir)
    assert before.keys() == after.keys() and {"un_distance", "trade_usa_chn_monthly",
                                              "trade_chn_rus_annual"} <= before.keys()
    changed = 0
    for name, (targets, _, methods) in before.items():
        t2, _, m2 = after[name]
        changed += int(not np.allclose(targets["value"], t2["value"]))
        assert methods.keys() == m2.keys(), name
        for m in methods:
            np.testing.assert_array_equal(methods[m], m2[m], err_msg=f"{name} {m}")
    assert changed >= 4, "the perturbation must reach the targets"


def test_observation_parameters_at_an_origin_ignore_later_data(perturbed_dir, monkeypatch):
    ref = theta_at_origin(dict(CHANNELS), ORIGIN)
    assert ref != theta_at_origin(dict(CHANNELS), 2019), "later data do move the 2019 fit"
    monkeypatch.setenv("SIM_DATA_DIR", str(perturbed_dir))
    assert theta_at_origin(dict(CHANNELS), ORIGIN) == ref


@pytest.mark.parametrize("name", ["trade_usa_chn_monthly", "trade_chn_rus_annual"])
def test_trade_forecasts_never_read_covariates_after_the_origin(name, monkeypatch):
    ch = CHANNELS[name].at_origin(ORIGIN)
    rows = ch.observed(ORIGIN + 1, 2019)
    v = view()
    before = ch.forecast(v, None, rows, np.random.default_rng(1))
    replicated = ch.draw(v, None, rows, np.random.default_rng(1))
    real = market()
    late = real.index.str[:4].astype(int) > ORIGIN
    monkeypatch.setattr("sim.observation.trade.market",
                        lambda: real.mul(np.where(late, 3.0, 1.0), axis=0))
    np.testing.assert_array_equal(ch.forecast(v, None, rows, np.random.default_rng(1)), before)
    # the in-sample replication does read them (so the perturbation is seen where allowed)
    assert not np.allclose(ch.draw(v, None, rows, np.random.default_rng(1)), replicated)


@pytest.mark.parametrize("name", ["trade_usa_chn_monthly", "trade_chn_rus_annual"])
def test_trade_forecasts_2020_2024_exist_without_covariate_data(name):
    ch = CHANNELS[name]
    last = ch.observed(2019, 2019)
    monthly = ro.is_monthly(last)
    times = ([f"{y}-{m:02d}" for y in range(2020, 2025) for m in range(1, 13)] if monthly
             else list(range(2020, 2025)))
    pair = last["pair"].iloc[0]
    rows = pd.DataFrame({"time": times, "year": [int(str(t)[:4]) for t in times],
                         "pair": pair, "value": np.nan})
    from test_observation import synthetic_view

    v = synthetic_view(runs=200, months=180, seed=1)
    s = ch.forecast(v, None, rows, np.random.default_rng(0))
    assert s.shape == (200, len(rows)) and np.isfinite(s).all() and (s > 0).all()
    spread = np.log(s).std(axis=0)
    assert spread[-1] > spread[0], "covariate uncertainty grows with the horizon"


def test_covariate_paths_use_volatility_to_the_origin_only():
    cny = market()["cny_per_usd"]
    rng = np.random.default_rng(0)
    p = covariate_paths(cny, 2015, 24, 4000, rng)
    known = np.log(cny[cny.index <= "2015-12"].to_numpy())
    sd = np.diff(known).std(ddof=1)
    assert np.log(p[:, 0]).mean() == pytest.approx(known[-1], abs=4 * sd / np.sqrt(4000))
    assert np.diff(np.log(p), axis=1).std() == pytest.approx(sd, rel=0.05)
    with pytest.raises(ValueError, match="2020-12"):
        covariate_paths(cny, 2020, 3, 2, rng)


@pytest.mark.parametrize("name", ["rollcall_agreement", "statedept_coincidence"])
def test_count_forecasts_use_the_last_known_number_of_trials(name, monkeypatch):
    ch = CHANNELS[name].at_origin(ORIGIN)
    rows = ch.observed(ORIGIN + 1, 2019)
    known = ch.observed(None, ORIGIN)
    last = known.sort_values("year").groupby("pair")["trials"].last()
    fr = ch.forecast_rows(rows)
    np.testing.assert_array_equal(fr["trials"], rows["pair"].map(last))
    v = view()
    before = ch.forecast(v, None, rows, np.random.default_rng(2))
    np.testing.assert_array_equal(
        ch.forecast(v, None, rows.assign(trials=rows["trials"] * 3), np.random.default_rng(2)),
        before)
    with pytest.raises(ValueError, match="after the origin"):
        ch.forecast_rows(known)


def test_future_events_are_removed_from_the_world_at_the_origin(world):
    at = ro.world_at_origin(world, ORIGIN)
    assert all(int(e.date[:4]) <= ORIGIN for e in at.spec.events)
    assert len(at.spec.events) < len(world.spec.events)
    assert any(int(e.date[:4]) > ORIGIN for e in world.spec.events)
    # the forecast from the origin is the same whether the later events existed or not
    a = ro.origin_forecasts(world, {"un_distance": CHANNELS["un_distance"]}, ORIGIN, 8, 20, 5)
    b = ro.origin_forecasts(at, {"un_distance": CHANNELS["un_distance"]}, ORIGIN, 8, 20, 5)
    np.testing.assert_array_equal(a["un_distance"][2]["model"], b["un_distance"][2]["model"])


def test_ar1_draw_from_a_known_residual_has_the_conditional_law():
    rng = np.random.default_rng(0)
    e0 = np.full(20000, 1.0)
    out = ar1_draw((20000, 2), np.zeros(2), np.array([3, 4]), 0.5, 0.8, rng,
                   prev={0: (1, e0)})
    assert out[:, 0].mean() == pytest.approx(0.8**2, abs=0.01)
    assert out[:, 0].std() == pytest.approx(0.5 * np.sqrt(1 - 0.8**4), rel=0.03)
    assert out[:, 1].mean() == pytest.approx(0.8**3, abs=0.01)
    with pytest.raises(ValueError, match="not before"):
        ar1_draw((2, 1), np.zeros(1), np.array([1]), 0.5, 0.8, rng, prev={0: (1, e0[:2])})


@pytest.mark.parametrize("name, key", [("un_distance", "ar1"),
                                       ("trade_usa_chn_monthly", "exports.ar1")])
def test_forecast_is_conditioned_on_the_residual_at_the_origin(name, key, monkeypatch):
    """Raising the observation at the origin raises the first forecast by φ times as much per
    run (in logs for trade); with φ = 0 it changes nothing."""
    ch = CHANNELS[name].at_origin(ORIGIN)
    rows = ch.observed(ORIGIN + 1, ORIGIN + 1)
    first = rows.groupby("pair").head(1).index.to_numpy()
    v = view()
    trade = name.startswith("trade")
    real = type(ch).load
    bump = 0.1

    def raised(self):
        df = real(self)
        at = df["time"].astype(str).isin([str(ORIGIN), f"{ORIGIN}-12"]).to_numpy()
        new = df["value"] * np.exp(bump) if trade else df["value"] + bump
        return df.assign(value=np.where(at, new, df["value"]))

    for phi in (0.6, 0.0):
        theta = {f"{name}.{key}": phi}
        if trade:
            theta[f"{name}.imports.ar1"] = phi
        a = ch.forecast(v, theta, rows, np.random.default_rng(4))
        monkeypatch.setattr(type(ch), "load", raised)
        b = ch.forecast(v, theta, rows, np.random.default_rng(4))
        monkeypatch.setattr(type(ch), "load", real)
        diff = (np.log(b) - np.log(a) if trade else b - a)[:, first]
        np.testing.assert_allclose(diff, phi * bump, atol=1e-9)
