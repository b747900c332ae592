"""Uncertainty in scenario files: declarations, Latin-hypercube draws, propagation, manifests."""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import BASELINE, SCENARIOS, SMALL
from scipy import stats

import sim
from sim import seeds
from sim import uncertainty as unc
from sim.cli import main
from sim.ensemble import run_ensemble
from sim.output import UserError, compare_folders
from sim.params import registry
from sim.spec import ScenarioError, load_scenario
from sim.world import World

DECLARED = """
[uncertainties]
"anchor.rate" = { dist = "uniform", lo = 0.01, hi = 0.1, cite = "test" }
"trade.diversion" = { dist = "triangular", lo = 0.2, mode = 0.5, hi = 0.9, cite = "test" }
"noise.sigma" = { dist = "lognormal", median = 0.01, sdlog = 0.5, cite = "test" }
"balance.rate" = { dist = "normal", mean = 0.02, sd = 0.03, cite = "test" }
"anchor.w_trade" = { dist = "normal", mean = 0.5, sd = 0.5, lo = 0.02, hi = 1.0, cite = "test" }

[uncertainties."events.ties_half_life"]
dist = "lognormal"
median = 36
sdlog = 0.3
lo = 12
hi = 100
cite = "test: written as a table"
"""


def cdf(u, name: str):
    """The declared distribution of ``name`` in ``DECLARED``, as a CDF."""
    return {
        "anchor.rate": stats.uniform(0.01, 0.09).cdf,
        "trade.diversion": stats.triang((0.5 - 0.2) / 0.7, loc=0.2, scale=0.7).cdf,
        "noise.sigma": lambda v: stats.truncnorm.cdf(np.log(v), -np.inf,
                                                     -math.log(0.01) / 0.5,
                                                     loc=math.log(0.01), scale=0.5),
        "balance.rate": stats.truncnorm((0 - 0.02) / 0.03, (1 - 0.02) / 0.03, loc=0.02,
                                        scale=0.03).cdf,
        "anchor.w_trade": stats.truncnorm((0.02 - 0.5) / 0.5, (1 - 0.5) / 0.5, loc=0.5,
                                          scale=0.5).cdf,
        "events.ties_half_life": lambda v: stats.truncnorm.cdf(
            np.log(v), (math.log(12) - math.log(36)) / 0.3, (math.log(100) - math.log(36)) / 0.3,
            loc=math.log(36), scale=0.3),
    }[name]


@pytest.fixture
def small(write_scenario):
    """SMALL with the declarations above."""
    return load_scenario(write_scenario(SMALL + DECLARED, "small.toml"))


def child_of(write_scenario, parent: Path, body: str, name: str = "child") -> Path:
    head = f'[scenario]\nextends = "{parent}"\nname = "{name}"\ntitle = "t"\n'
    return write_scenario(head + textwrap.dedent(body), f"{name}.toml")


# ----------------------------------------------------------------------------- draws


def test_marginals_have_the_declared_distributions_and_are_stratified(small):
    d = 400
    names, values = unc.draw_table(small, d, seed=5)
    assert sorted(names) == sorted(small.uncertainties)
    for j, name in enumerate(names):
        p = cdf(None, name)(values[:, j])
        # Latin hypercube: exactly one draw in each of the D equal-probability strata
        assert np.array_equal(np.sort(np.floor(p * d).astype(int)), np.arange(d)), name
        assert stats.kstest(values[:, j], cdf(None, name)).pvalue > 0.05, name
        lo, hi = registry(small)[name].lo, registry(small)[name].hi
        assert values[:, j].min() >= lo and values[:, j].max() <= hi


def test_wrong_distribution_is_detected(small):
    """The checks above can fail: the untruncated normal is not what balance.rate draws."""
    names, values = unc.draw_table(small, 400, seed=5)
    v = values[:, names.index("balance.rate")]
    assert v.min() >= 0  # truncated at the allowed range's 0
    assert stats.kstest(v, stats.norm(0.02, 0.03).cdf).pvalue < 1e-6


def test_latin_hypercube_columns_are_stratified_and_seeded():
    u = unc.latin_hypercube(3, 50, seed=1)
    for col in u.T:
        assert np.array_equal(np.sort(np.floor(col * 50)), np.arange(50))
    assert np.array_equal(u, unc.latin_hypercube(3, 50, seed=1))
    assert not np.allclose(u, unc.latin_hypercube(3, 50, seed=2))
    # its own stream: the within-stratum offsets are not run 0's decision uniforms
    _, first = seeds.draw(1, np.array([0]), np.array([0]), 1)
    offsets = (u * 50) % 1
    assert not np.isclose(offsets.ravel()[:, None], first.ravel()[None, :], atol=1e-9).any()


def test_calibration_block_draws_joint_rows_of_the_shipped_posterior():
    """Every from = "calibration" entry of the baseline takes, per draw, the values of one row of
    calibration/posterior.csv.gz: the posterior's correlations are kept, not re-approximated."""
    from sim.calibrate import load_posterior

    spec = load_scenario(BASELINE)
    joint = [n for n, u in unc.declared(spec).items() if u.kind == "calibration"]
    assert joint  # the baseline draws its calibrated parameters from the posterior
    post = load_posterior()[joint].to_numpy()
    names, values = unc.draw_table(spec, 200, seed=3)
    got = values[:, [names.index(n) for n in joint]]
    rows = {tuple(r) for r in post}
    assert all(tuple(r) in rows for r in got)
    if len(joint) > 1:  # the draws carry the posterior's correlation (within sampling error)
        r_post = np.corrcoef(post[:, 0], post[:, 1])[0, 1]
        assert np.corrcoef(got[:, 0], got[:, 1])[0, 1] == pytest.approx(r_post, abs=0.2)


def test_draws_are_reproducible_and_follow_the_seed(small):
    a = unc.make_design(small, draws=20, runs_per_draw=3, seed=9)
    b = unc.make_design(small, draws=20, runs_per_draw=3, seed=9)
    c = unc.make_design(small, draws=20, runs_per_draw=3, seed=10)
    assert a.digest() == b.digest() != c.digest()
    assert a.runs == 60 and np.array_equal(a.draw, np.repeat(np.arange(20), 3))
    np.testing.assert_array_equal(unc.per_run(a.values, 3)[7], a.values[2])


@pytest.mark.parametrize(("given", "expected"), [
    ({}, (200, 5)), ({"runs": 50}, (50, 1)), ({"runs": 50, "draws": 10}, (10, 5)),
    ({"runs": 50, "runs_per_draw": 5}, (10, 5)), ({"draws": 7}, (7, 5)),
    ({"fixed": True}, (1, 100)), ({"fixed": True, "runs": 30}, (1, 30))])
def test_counts(given, expected):
    assert unc.split_runs(**given) == expected


def test_counts_that_do_not_fit_are_one_line(small):
    with pytest.raises(UserError, match=r"--runs: got 50 with --draws 7; expected a multiple of 7 "
                       r"\(every draw gets the same number of runs\), e.g. --runs 49 or --runs 56"):
        unc.split_runs(runs=50, draws=7)
    with pytest.raises(UserError, match=r"e\.g\. --runs 5 or --runs 10$"):  # fewer runs than draws
        unc.split_runs(runs=3, draws=5)
    with pytest.raises(UserError, match=r"--runs: got 50 with --draws 7 and --runs-per-draw 3; "
                       r"expected 21 \(draws × runs per draw\), or leave one of the three out"):
        unc.split_runs(runs=50, draws=7, runs_per_draw=3)
    with pytest.raises(UserError, match=r"a multiple of 4 .*--runs 8 or --runs 12"):
        unc.split_runs(runs=10, runs_per_draw=4)
    with pytest.raises(UserError, match="--draws: got 4; expected no --draws with --fixed"):
        unc.split_runs(draws=4, fixed=True)


# ----------------------------------------------------------------------------- ensembles


def test_runs_of_a_draw_share_its_parameters(small):
    design = unc.make_design(small, draws=4, runs_per_draw=3, seed=2)
    res = sim.run(small, design=design)
    assert np.array_equal(res.traj.draw, [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3])
    assert np.array_equal(res.draw, res.traj.draw)
    rate = res.traj.params["anchor.rate"]
    assert np.array_equal(rate, np.repeat(design.values[:, design.names.index("anchor.rate")],
                                          3))
    # the runs of one draw differ by their noise only; the draws differ by their parameters
    x = res.traj.x[:, -1]
    assert not np.array_equal(x[0], x[1]) and not np.array_equal(x[0], x[3])


def test_fixed_params_is_the_noise_only_ensemble_bit_for_bit():
    spec = load_scenario(BASELINE)
    old = run_ensemble(World.from_spec(spec), 3, 5, progress=False)  # as before uncertainty
    fixed = sim.run(spec, runs=5, seed=3, fixed_params=True)
    for name in ("x", "imports", "prob", "fired"):
        assert np.array_equal(getattr(fixed.traj, name), getattr(old, name)), name
    assert fixed.traj.params is None and not fixed.draw.any()
    drawn = sim.run(spec, runs=5, seed=3)  # the default propagates: other runs
    assert not np.array_equal(drawn.traj.x, old.x)


def test_draws_do_not_depend_on_workers_or_chunks(small):
    design = unc.make_design(small, draws=6, runs_per_draw=2, seed=4)
    one = unc.simulate_design(small, design, workers=1)
    two = unc.simulate_design(small, design, workers=2, chunk=5)
    for name in ("x", "imports", "prob", "fired", "draw"):
        assert np.array_equal(getattr(one, name), getattr(two, name)), name
    streamed = unc.stream_design(small, design, workers=2, chunk=250)
    assert np.array_equal(streamed.draw, one.draw)
    rel = 0.5 * (one.x[:, :, 0, 1] + one.x[:, :, 1, 0])
    assert np.allclose(streamed.relation_mean[:, streamed.dyad("USA", "CHN")], rel.mean(0))


def test_cli_workers_give_identical_folders(tmp_path, write_scenario):
    path = write_scenario(SMALL + DECLARED, "small.toml")
    outs = []
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}"
        assert main(["run", str(path), "--draws", "5", "--runs-per-draw", "2", "--workers",
                     workers, "--out", str(out), "--quiet", "--no-figures"]) == 0
        outs.append(out)
    assert compare_folders(*outs) == []


# ----------------------------------------------------------------------------- manifests


def test_manifest_records_the_draws_and_rerun_is_identical(tmp_path):
    out = tmp_path / "u"
    assert main(["run", str(BASELINE), "--draws", "4", "--runs-per-draw", "2", "--seed", "8",
                 "--out", str(out), "--quiet", "--no-figures"]) == 0
    man = json.loads((out / "manifest.json").read_text())
    rec = man["settings"]["uncertainty"]
    assert (rec["draws"], rec["runs_per_draw"], rec["runs"], rec["seed"]) == (4, 2, 8, 8)
    assert rec["fixed_params"] is False and "scipy" in man["versions"]
    assert rec["calibration"]["hash"].startswith("sha256:")
    assert rec["declarations"]["anchor.bias"]["from"] == "calibration"
    design = unc.make_design(load_scenario(BASELINE), draws=4, runs_per_draw=2, seed=8)
    assert rec["draws_sha256"] == design.digest() and rec["parameters"] == list(design.names)
    table = np.loadtxt(out / "draws.csv", delimiter=",", skiprows=1)
    assert np.array_equal(table[:, 1:], design.values)  # every digit written
    summary = np.loadtxt(out / "summary.csv", delimiter=",", skiprows=1, usecols=(0, 1))
    assert np.array_equal(summary[:, 1], np.repeat(np.arange(4), 2))  # run, draw
    assert main(["rerun", str(out), "--quiet"]) == 0
    assert compare_folders(out, tmp_path / "u-rerun") == []


def test_fixed_params_rerun_and_streamed_rerun(tmp_path):
    fixed, streamed = tmp_path / "f", tmp_path / "s"
    assert main(["run", str(BASELINE), "--fixed-params", "--runs", "3", "--out", str(fixed),
                 "--quiet", "--no-figures"]) == 0
    rec = json.loads((fixed / "manifest.json").read_text())["settings"]["uncertainty"]
    assert rec["fixed_params"] is True and rec["parameters"] == []
    assert not (fixed / "draws.csv").exists()
    assert main(["run", str(BASELINE), "--stream", "--draws", "3", "--runs-per-draw", "2",
                 "--out", str(streamed), "--quiet", "--no-figures"]) == 0
    for out in (fixed, streamed):
        assert main(["rerun", str(out), "--quiet"]) == 0
        assert compare_folders(out, out.with_name(out.name + "-rerun")) == []


# ----------------------------------------------------------------------------- comparisons


LOWER_TRIGGER = """
    [[policies]]
    rule = "escalate"
    actor = "USA"
    instrument = "tariff"
    target = "CHN"
    threshold = { value = 0.9, cite = "test: a lower trigger" }
    """


def test_compare_gives_every_scenario_the_same_draws(write_scenario):
    ref = load_scenario(BASELINE)
    other = load_scenario(SCENARIOS / "tariff_escalation.toml")
    fixes = load_scenario(child_of(write_scenario, BASELINE, LOWER_TRIGGER))
    design = unc.make_design(ref, draws=5, runs_per_draw=2, seed=1)
    a, b, c = (design.params_for(s) for s in (ref, other, fixes))
    for name in design.names:
        assert np.array_equal(a[name], b[name]), name
    label = "policies.USA:tariff.threshold"
    assert np.all(c[label] == 0.9) and np.array_equal(c["anchor.rate"], a["anchor.rate"])
    assert unc.compare_notes(ref, other, design) == []
    notes = unc.compare_notes(ref, fixes, design)
    assert len(notes) == 1 and label in notes[0] and "keeps its own value" in notes[0]


def test_sim_compare_runs_share_draws_and_streams():
    comp = sim.compare([BASELINE, SCENARIOS / "tariff_escalation.toml"], draws=3,
                       runs_per_draw=2, seed=5)
    ref, esc = (comp.results[n].traj for n in ("baseline", "tariff_escalation"))
    assert np.array_equal(ref.draw, esc.draw) and np.array_equal(ref.draw, [0, 0, 1, 1, 2, 2])
    for name in ref.params.per_run:
        assert np.array_equal(ref.params[name], esc.params[name]), name
    assert np.array_equal(ref.x[:, 0], esc.x[:, 0])  # same start, same parameters


# ----------------------------------------------------------------------------- scenario files


def test_inheritance_change_remove_fix_and_nested_names(write_scenario, small):
    parent = write_scenario(SMALL + DECLARED, "parent.toml")
    child = load_scenario(child_of(write_scenario, parent, """
        [mechanisms.trade]
        diversion = { value = 0.3, cite = "test: this scenario's own value" }

        [uncertainties]
        anchor.rate = { dist = "uniform", lo = 0.02, hi = 0.05, cite = "test: changed" }
        "noise.sigma" = { dist = "fixed", cite = "test: removed" }
        """))
    decl = unc.declared(child)
    assert decl["anchor.rate"].lo == 0.02 and decl["anchor.rate"].mode is None  # replaced whole
    assert "noise.sigma" not in decl and child.uncertainties["noise.sigma"].kind == "fixed"
    assert "trade.diversion" not in decl  # a value set here fixes it
    assert set(decl) == set(unc.declared(small)) - {"noise.sigma", "trade.diversion"}
    assert decl["balance.rate"] == unc.declared(small)["balance.rate"]  # inherited
    design = unc.make_design(child, draws=3, runs_per_draw=1, seed=0)
    assert child.mechanisms.trade.diversion == 0.3
    assert "trade.diversion" not in design.names
    assert set(unc.declared(load_scenario(SCENARIOS / "tariff_escalation.toml"))) == set(
        unc.declared(load_scenario(BASELINE)))


def test_every_shipped_scenario_declares_every_continuous_parameter():
    for path in sorted(SCENARIOS.glob("*.toml")):
        spec = load_scenario(path)
        fixed = {n for n, u in spec.uncertainties.items() if u.kind == "fixed"}
        wanted = {n for n, p in registry(spec).items() if p.kind == "float" and p.used}
        undeclared = wanted - set(unc.declared(spec)) - fixed
        if path.stem == "baseline_calibrated":  # the calibrated values are set, so fixed
            assert undeclared == set(unc.calibrated_targets()), path.stem
        else:
            assert not undeclared, (path.stem, sorted(undeclared))


BAD = [
    ('"anchor.rat" = { dist = "uniform", lo = 0.01, hi = 0.1, cite = "x" }',
     'uncertainties."anchor.rat": got "anchor.rat"; expected a registered parameter (did you '
     'mean "anchor.rate"?)'),
    ('"anchor.rate" = { dist = "uniform", lo = -0.2, hi = 0.1, cite = "x" }',
     'uncertainties."anchor.rate".lo: got -0.2; expected a value within the allowed range of '
     'anchor.rate, [0, 1]'),
    ('"anchor.rate" = { dist = "uniform", lo = 0.2, hi = 0.1, cite = "x" }',
     'uncertainties."anchor.rate".hi: got 0.1; expected a number above lo (0.2)'),
    ('"anchor.rate" = { dist = "normal", mean = 0.1, sd = 0, cite = "x" }',
     'uncertainties."anchor.rate".sd: got 0.0; expected a standard deviation above 0'),
    ('"anchor.rate" = { dist = "triangular", lo = 0.1, mode = 0.5, hi = 0.3, cite = "x" }',
     'uncertainties."anchor.rate".mode: got 0.5; expected a mode from lo to hi (0.1 to 0.3)'),
    ('"balance.rate" = { from = "calibration", cite = "x" }',
     'uncertainties."balance.rate".from: got "calibration"; expected a parameter sim calibrate '
     'fits (anchor.bias, '),
    ('"anchor.rate" = { dist = "uniform", lo = 0.01, hi = 0.1 }',
     'uncertainties."anchor.rate".cite: got nothing; expected a citation'),
    ('"anchor.rate" = { dist = "unifrom", lo = 0.01, hi = 0.1, cite = "x" }',
     'uncertainties."anchor.rate".dist: got "unifrom"; expected one of "uniform", "normal"'),
    ('"anchor.rate" = { dist = "uniform", lo = 0.01, hi = 0.1, mode = 0.05, cite = "x" }',
     'uncertainties."anchor.rate".mode: got 0.05; expected no mode for a uniform distribution'),
    ('"anchor.rate" = { dist = "uniform", lo = 0.01, cite = "x" }',
     'uncertainties."anchor.rate".hi: got nothing; expected this key for a uniform '
     'distribution'),
    ('"anchor.rate" = { dist = "lognormal", median = -1, sdlog = 1, cite = "x" }',
     'uncertainties."anchor.rate".median: got -1.0; expected a value within the allowed range'),
    ('"trade.pipeline_lead_months" = { dist = "uniform", lo = 10, hi = 20, cite = "x" }',
     'expected a parameter with a continuous value (trade.pipeline_lead_months is a whole '
     'number'),
    ('anchor.rate = { dist = "uniform", lo = 0.01, hi = 0.1, cite = "x" }\n'
     '"anchor.rate" = { dist = "uniform", lo = 0.01, hi = 0.1, cite = "x" }',
     'uncertainties."anchor.rate": got "anchor.rate"; expected one entry per parameter'),
    ('"anchor.rate" = { dist = "uniform", lo = 0.01, hi = 0.1, cite = "x", hgh = 1 }',
     'uncertainties."anchor.rate".hgh: got hgh; expected a known key'),
    # the scenario's own value (a single run's) must be one the distribution can draw
    ('"anchor.rate" = { dist = "uniform", lo = 0.5, hi = 0.9, cite = "x" }',
     'mechanisms.anchor.rate: got 0.03; expected a value the declared uncertainty '
     'uniform(0.5, 0.9) can draw, from 0.5 to 0.9 (uncertainties."anchor.rate"); set the value '
     'inside it, e.g. 0.7, or widen the distribution'),
    ('"states.CHN.reciprocity" = { dist = "normal", mean = 0.1, sd = 0.1, hi = 0.2, cite = "x" }',
     'states[1].reciprocity: got 0.5; expected a value the declared uncertainty'),
]


@pytest.mark.parametrize(("body", "message"), BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_tables_are_one_clear_line(write_scenario, capsys, body, message):
    path = write_scenario(SMALL + "\n[uncertainties]\n" + body + "\n", "bad.toml")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {path} at "), err
    assert message in err, err
    with pytest.raises(ScenarioError):
        load_scenario(path)


def test_bad_counts_on_the_command_line(tmp_path, capsys):
    out = tmp_path / "x"
    assert main(["run", str(BASELINE), "--fixed-params", "--draws", "3", "--out", str(out),
                 "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--draws: got 3" in err and not out.exists()
    assert main(["run", str(BASELINE), "--runs", "10", "--draws", "3", "--out", str(out),
                 "--quiet"]) == 2
    assert "--runs: got 10" in capsys.readouterr().err and not out.exists()


def test_streamed_design_keeps_parameters_per_draw_with_the_same_results():
    """A streamed design keeps its parameters once per draw (RunParams) and builds each chunk's
    rows: the rows and the statistics equal those of the full per-run table."""
    from sim.ensemble import run_stats

    spec = load_scenario(BASELINE)
    design = unc.make_design(spec, runs=24, draws=6)
    kept, full = design.run_params(spec), design.params_for(spec)
    ids = np.array([23, 0, 7, 12])
    for name, v in full.take(ids).values.items():
        np.testing.assert_array_equal(kept.take(ids).values[name], v, err_msg=name)
    world = World.from_spec(spec)
    a = run_stats(world, design.seed, design.runs, params=kept, draw=design.draw)
    b = run_stats(world, design.seed, design.runs, params=full, draw=design.draw)
    for name in ("relation_mean", "relation_sd", "trade_mean", "fired_share"):
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes(), name
    assert kept.digest() != unc.make_design(spec, runs=24, draws=4).run_params(spec).digest()
