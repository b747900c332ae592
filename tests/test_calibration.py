"""Bayesian calibration (sim/calibrate.py): the simulated likelihood, the sampler's outputs and
determinism, diagnostics on hand cases, the 2019 cut, and ``from = "calibration"`` draws
(sim/uncertainty.py) as joint rows of the posterior file."""

from __future__ import annotations

import gzip
import json
import math
import tomllib
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from calib_synth import SynthChannel, annual_means
from conftest import BASELINE

from sim import calibrate as cb
from sim import uncertainty as unc
from sim.cli import main
from sim.engine import simulate
from sim.output import UserError
from sim.spec import load_scenario
from sim.world import World

TRUTH = {"anchor.bias": 0.3, "anchor.rate": 0.06}
SMALL_MODEL = tuple(m for m in cb.MODEL_PRIORS if m.name in TRUTH)


@pytest.fixture(scope="module")
def history():
    return load_scenario(cb.HISTORY)


@pytest.fixture(scope="module")
def synth(history):
    """Annual USA-CHN relation means 2010-2019 simulated at TRUTH (run 1000: not one of the
    likelihood's replicates) plus N(0, 0.03²) measurement noise."""
    world = World.from_spec(history)
    world = replace(world, months=cb.months_through(world.start, 2019))
    traj = simulate(world, 77, [1000], params={k: np.array([v]) for k, v in TRUTH.items()})
    years = np.arange(2010, 2020)
    mu = annual_means(traj, (0, 1), years)[0]
    values = mu + 0.03 * np.random.default_rng(5).standard_normal(len(years))
    return SynthChannel(years, values, sd=0.03)


def _like(history, synth, k=4):
    names = [m.name for m in SMALL_MODEL] + ["synth.sd"]
    return cb.Likelihood(history, {"synth": synth}, names, [m.name for m in SMALL_MODEL], k,
                         seed=11, view=lambda t: t), names


def _theta(names, **over):
    vals = {**TRUTH, "synth.sd": 0.03, **over}
    return np.array([[vals[n] for n in names]])


def test_likelihood_is_highest_at_the_true_parameters(history, synth):
    like, names = _like(history, synth)
    at_truth = like(_theta(names))[0]
    for shifted in ({"anchor.bias": -0.3}, {"anchor.bias": 0.9}, {"anchor.rate": 0.01},
                    {"synth.sd": 0.3}):
        assert at_truth > like(_theta(names, **shifted))[0] + 1.0, shifted


def test_likelihood_averages_replicates_with_common_random_numbers(history, synth):
    like, names = _like(history, synth, k=3)
    per = like.per_replicate(np.repeat(_theta(names), 2, axis=0))
    assert per.shape == (2, 3)
    np.testing.assert_array_equal(per[0], per[1])  # the same K streams for every θ
    assert not np.allclose(per[0], per[0, 0])  # the replicates differ from each other
    expected = np.log(np.mean(np.exp(per[0] - per[0].max()))) + per[0].max()
    assert like(_theta(names))[0] == pytest.approx(expected, rel=1e-12)


def test_log_mean_exp_is_stable():
    ll = np.array([[-1000.0, -1000.0], [-np.inf, -np.inf], [0.0, math.log(3.0)]])
    out = cb.log_mean_exp(ll)
    assert out[0] == pytest.approx(-1000.0) and out[1] == -np.inf
    assert out[2] == pytest.approx(math.log(2.0))


def test_posterior_skips_runs_outside_the_prior(history, synth):
    _, names = _like(history, synth)
    pri = cb.priors(history, {"synth": synth}, SMALL_MODEL)
    calls = []
    post = cb.Posterior(pri, lambda th: calls.append(len(th)) or np.zeros(len(th)))
    bad = _theta(names, **{"synth.sd": -1.0})
    lp, ll, _ = post(np.vstack([_theta(names), bad]))
    assert calls == [1] and np.isfinite(lp[0]) and lp[1] == -np.inf == ll[1]


def test_contraction_and_rhat_on_hand_cases():
    assert cb.contraction(0.25, 1.0) == pytest.approx(0.75)
    assert cb.contraction(1.0, 1.0) == 0.0
    # chains from one distribution: R-hat near 1; chains with different means: well above 1
    rng = np.random.default_rng(0)
    same = rng.standard_normal((2000, 8))
    assert cb.split_rhat(same) == pytest.approx(1.0, abs=0.01)
    apart = same + np.arange(8)[None, :]
    assert cb.split_rhat(apart) > 2.0


def test_summary_contraction_uses_the_prior_variance():
    """A Uniform(0, 1) prior (variance 1/12) and posterior samples with variance v: the
    contraction is 1 - 12 v."""
    pri = [cb.Prior("a", "uniform", 0.0, 1.0, 0.0, 1.0, "hand case")]
    rng = np.random.default_rng(1)
    chain = 0.5 + 0.05 * rng.standard_normal((200, 10, 1))
    ch = cb.Chain(["a"], chain, np.zeros((200, 10)), np.zeros((200, 10)), np.full(10, 0.4),
                  cb.Settings(walkers=10, steps=200, burn=100, thin=1), 10, 0.0)
    post = cb.posterior_frame(ch)
    assert len(post) == 100 * 10 and post["step"].min() == 100
    row = cb.summary_table(ch, post, pri)[0]
    v = post["a"].var(ddof=1)
    assert row["contraction"] == pytest.approx(1 - 12 * v)
    assert row["prior_sd"] == pytest.approx(math.sqrt(1 / 12))
    assert row["q05"] < row["median"] < row["q95"]


def test_priors_come_from_the_registry_range_and_the_channels(history, synth):
    pri = cb.priors(history, {"synth": synth})
    names = [p.name for p in pri]
    assert names == [m.name for m in cb.MODEL_PRIORS] + ["synth.sd"]
    assert all(p.source for p in pri)
    rate = pri[names.index("anchor.rate")]
    assert rate.support == (0.005, 0.15)
    assert pri[-1].observation and pri[-1].support == pytest.approx((1e-3, 1.0))
    with pytest.raises(UserError, match=r"anchor\.nonsense"):
        cb.priors(history, {}, (cb.ModelPrior("anchor.nonsense", "uniform", 0, 1, "x"),))


def test_ppc_statistics_and_pvalue():
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    st = cb.ppc_stats(y, lag=1)
    assert st["level"] == 3.0 and st["change"] == 0.0
    assert st["acf1"] == pytest.approx(0.4)  # Σ c_t c_(t-1) / Σ c_t² = (2 + 0 + 0 + 2) / 10
    assert cb.ppp_value(np.array([0.0, 1.0, 2.0, 3.0]), 1.0) == pytest.approx(0.625)


def test_tiny_calibration_is_deterministic_and_writes_every_file(tmp_path, history, synth):
    settings = cb.Settings(walkers=8, steps=6, replicates=2, burn=2, thin=1, ppc_draws=6, seed=3)
    kw = {"settings": settings, "channels": {"synth": synth}, "view": lambda t: t,
          "model": SMALL_MODEL}
    a, b = tmp_path / "a", tmp_path / "b"
    rep = cb.calibrate(cb.HISTORY, a, **kw)
    cb.calibrate(cb.HISTORY, b, **kw)
    files = {cb.POSTERIOR, cb.REPORT, cb.FRAGMENT, "manifest.json", "trace.png",
             "marginals.png", "ppc_synth.png"}
    assert {p.name for p in a.iterdir()} == files
    assert (a / cb.POSTERIOR).read_bytes() == (b / cb.POSTERIOR).read_bytes()
    post = pd.read_csv(a / cb.POSTERIOR)
    assert list(post.columns) == [*TRUTH, "synth.sd", *cb.EXTRA_COLUMNS]
    assert len(post) == 8 * 4 == rep["samples"]
    assert np.all(np.isfinite(post["loglik"])) and post["step"].min() == 2
    saved = json.loads((a / cb.REPORT).read_text())
    assert [p["name"] for p in saved["parameters"]] == [*TRUTH, "synth.sd"]
    assert saved["data_through"] == 2019 and saved["observations"]["synth"]["last"] == "2019"
    assert set(saved["ppc"]["synth"]["A-B"]) >= {"level", "change", "acf1"}
    man = json.loads((a / "manifest.json").read_text())
    assert set(man["files"]) == files and man["settings"]["seed"] == 3
    frag = tomllib.loads((a / cb.FRAGMENT).read_text())
    assert frag["mechanisms"]["anchor"]["bias"]["value"] == pytest.approx(post["anchor.bias"]
                                                                          .mean(), rel=1e-5)
    spec = cb.load_calibrated(cb.HISTORY, a / cb.FRAGMENT)
    assert spec.mechanisms.anchor.rate == pytest.approx(post["anchor.rate"].mean(), rel=1e-5)
    c = tmp_path / "c"
    cb.calibrate(cb.HISTORY, c, **{**kw, "settings": replace(settings, seed=4)})
    assert (a / cb.POSTERIOR).read_bytes() != (c / cb.POSTERIOR).read_bytes()


def test_nothing_after_2019_is_used(history, tmp_path):
    from sim.observation import CHANNELS, HeldOutError

    like = cb.Likelihood(history, CHANNELS, [], [], 1, 0)
    assert World.from_spec(history).months > like.world.months  # the history is cut
    assert like.world.dates()[-1] == "2020-01"  # the state at the end of December 2019
    for name, ch in CHANNELS.items():
        assert ch.observed(like.first, like.last)["year"].max() <= 2019, name
        with pytest.raises(HeldOutError):
            ch.observed(like.first, 2020)
    used = cb.observations_used(CHANNELS, like.first, like.last)
    assert max(int(u["last"][:4]) for u in used.values()) == 2019
    with pytest.raises(ValueError, match="2020"):
        cb.Likelihood(history, CHANNELS, [], [], 1, 0, last=2020)
    with pytest.raises(UserError, match="2019"):
        cb.calibrate(cb.HISTORY, tmp_path / "x", last_year=2020)
    assert not (tmp_path / "x").exists()


def test_long_chains_are_thinned_to_a_bounded_number_of_kept_steps():
    """Every 20th step by default; a long chain keeps at most KEPT_STEPS steps per walker, so
    the shipped posterior does not grow with the chain; a given thin is kept."""
    assert cb.Settings(steps=1500).thinning == 20
    long = cb.Settings(steps=12000)
    assert long.thinning > 20
    assert len(range(long.burn_in, long.steps, long.thinning)) <= cb.KEPT_STEPS
    assert len(range(long.burn_in, long.steps, long.thinning - 1)) > cb.KEPT_STEPS
    assert cb.Settings(steps=12000, thin=7).thinning == 7


def test_family_weights_count_a_family_once():
    from sim.observation import CHANNELS

    w = cb.family_weights(CHANNELS)
    fam: dict[str, float] = {}
    for name, ch in CHANNELS.items():
        fam[ch.family] = fam.get(ch.family, 0.0) + w[name]
    assert all(v == pytest.approx(1.0) for v in fam.values())


def test_calibrate_command_quick(tmp_path, capsys):
    out = tmp_path / "cal"
    assert main(["calibrate", "--quick", "--out", str(out), "--quiet"]) == 0
    assert "posterior samples" in capsys.readouterr().out
    rep = json.loads((out / cb.REPORT).read_text())
    assert {p["name"] for p in rep["parameters"]} >= set(cb.calibrated_names())
    assert (out / "ppc_un_distance.png").is_file()
    # the output can be used as a calibration
    post = cb.load_posterior(out)
    assert len(post) == rep["samples"]


# ----------------------------------------------------------------------------- from calibration


def _posterior_file(tmp_path, n=40):
    """A posterior with exactly dependent columns: anchor.bias = -1 + i/100 and
    anchor.w_ideology = 2 * (anchor.bias + 1), so rows are recognisable."""
    names = cb.calibrated_names()
    i = np.arange(n)
    cols = {name: np.full(n, 0.05) for name in names}
    cols["anchor.bias"] = -1 + i / 100
    cols["anchor.w_ideology"] = 2 * (cols["anchor.bias"] + 1) + 0.1
    cols["loglik"] = np.zeros(n)
    path = tmp_path / cb.POSTERIOR
    pd.DataFrame(cols).to_csv(path, index=False)
    return path, pd.DataFrame(cols)


def _from_calibration(*names):
    return load_scenario(BASELINE, overrides={"uncertainties": {
        n: {"from": "calibration", "cite": "test"} for n in names}})


def test_from_calibration_draws_joint_rows_of_the_posterior(tmp_path):
    path, frame = _posterior_file(tmp_path)
    spec = _from_calibration("anchor.bias", "anchor.w_ideology")
    names, values = unc.draw_table(spec, 20, seed=5, report=path)
    got = values[:, [names.index("anchor.bias"), names.index("anchor.w_ideology")]]
    file_rows = {tuple(r) for r in frame[["anchor.bias", "anchor.w_ideology"]].to_numpy()}
    assert all(tuple(r) in file_rows for r in got)  # whole rows: the correlation is kept
    assert len({tuple(r) for r in got}) == 20  # 20 strata of 40 rows: all different
    again = unc.draw_table(spec, 20, seed=5, report=path)[1]
    other = unc.draw_table(spec, 20, seed=6, report=path)[1]
    np.testing.assert_array_equal(values, again)
    assert not np.array_equal(values, other)


def test_posterior_rows_are_stratified():
    u = unc.latin_hypercube(1, 10, seed=2)[:, 0]
    rows = unc.posterior_rows(u, 100)
    assert np.array_equal(np.sort(rows // 10), np.arange(10))  # one row per tenth of the file
    assert unc.posterior_rows(np.array([1 - 1e-12]), 7)[0] == 6


@pytest.mark.parametrize(("content", "message"), [
    (None, "no posterior samples"),
    ("anchor.rate,loglik\n0.1,0\n", "no column 'anchor.bias'"),
    (",".join(cb.calibrated_names()) + "\n"
     + ",".join(["nan"] + ["0.01"] * (len(cb.calibrated_names()) - 1)) + "\n",
     "row 2, column anchor."),
    ("", "cannot read posterior samples"),
    (b"anchor.bias,loglik\n0.1,0\n", "cannot read posterior samples .Not a gzipped file"),
])
def test_bad_calibration_is_one_clear_error(tmp_path, content, message):
    """Contents are written gzipped as sim calibrate writes them; bytes are written as they are
    (a plain CSV under the .gz name)."""
    path = tmp_path / cb.POSTERIOR
    if isinstance(content, str):
        path.write_bytes(gzip.compress(content.encode()))
    elif content is not None:
        path.write_bytes(content)
    spec = _from_calibration("anchor.bias")
    with pytest.raises(UserError, match=message) as err:
        unc.draw_table(spec, 4, seed=1, report=path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_missing_calibration_exits_2_at_the_cli(tmp_path, monkeypatch, capsys):
    from sim import resources

    monkeypatch.setattr(cb, "CALIBRATION", tmp_path / "nowhere")
    monkeypatch.setattr(resources, "calibration_dir", lambda: tmp_path / "nowhere")
    scen = tmp_path / "s.toml"
    scen.write_text(f'[scenario]\nextends = "{BASELINE}"\nname = "s"\n\n[uncertainties]\n'
                    '"anchor.bias" = { from = "calibration", cite = "test" }\n')
    out = tmp_path / "out"
    assert main(["run", str(scen), "--runs", "4", "--draws", "2", "--out", str(out),
                 "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no posterior samples" in err
    assert not out.exists()


def test_un_distance_intercepts_are_sampled_per_dyad(history):
    """The calibration samples one UN-distance intercept per triad dyad (not one for all), and
    the shipped posterior was made with them."""
    from sim.observation.votes import TRIAD_PAIRS, intercept_name

    names = [p.name for p in cb.priors(history, cb.default_channels())]
    wanted = [intercept_name(p) for p in TRIAD_PAIRS]
    assert set(wanted) <= set(names) and "un_distance.intercept" not in names
    post = cb.load_posterior()
    assert set(wanted) <= set(post.columns) and "un_distance.intercept" not in post.columns
