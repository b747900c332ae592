"""Parameters as data (sim.params): the registry covers every field of the scenario models,
one way reads and sets a parameter, and per-run parameters in the batched engine give each run
exactly what the Mesa model gives with that run's parameters."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from conftest import BASELINE, SCENARIOS, design

from sim import params as pm
from sim.cli import main
from sim.engine import simulate
from sim.ensemble import run_ensemble, run_stats
from sim.events import Plan
from sim.kernels import power
from sim.model import AlignmentModel
from sim.spec import POLICY_KEYS, Mechanisms, ScenarioError, load_scenario
from sim.world import World

SHIPPED = sorted(SCENARIOS.glob("*.toml"))
FIELDS = ("x", "imports", "prob", "fired")
IDENTITY = {"rule", "actor", "partner", "target", "watch", "ask", "instrument"}
"""Policy fields that say who decides what (not parameters); POLICY_KEYS is a subset."""


def mesa_run(spec, seed: int, run: int, params: dict) -> dict[str, np.ndarray]:
    model = AlignmentModel.from_scenario(spec, rng=seed, run=run, params=params).run_to_end()
    df = model.datacollector.get_model_vars_dataframe()
    return {"x": np.stack(df["x"].to_list()), "imports": np.stack(df["imports"].to_list()),
            "prob": np.stack(df["prob"].to_list()[1:]),
            "fired": np.stack(df["fired"].to_list()[1:])}


# ----------------------------------------------------------------------------- the engine


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_run_i_with_per_run_parameters_equals_the_mesa_model_given_them(path):
    """A design of 3 draws of every parameter runs as one batched call (chunks of 2 runs);
    run i equals the Mesa model given row i, to 1e-12, with the same decisions."""
    spec = load_scenario(path)
    values = design(spec, 3, seed=len(path.stem))
    traj = run_ensemble(World.from_spec(spec), 17, 3, chunk=2, progress=False, params=values)
    par = pm.Params.from_spec(spec, values)
    for i in range(3):
        ref = mesa_run(spec, 17, i, par.row(i))
        for f in ("x", "imports", "prob"):
            assert np.abs(getattr(traj, f)[i] - ref[f]).max(initial=0) <= 1e-12, (path.stem, i, f)
        assert np.array_equal(traj.fired[i], ref["fired"]), (path.stem, i)
    assert not np.array_equal(traj.x[0], simulate(World.from_spec(spec), 17, [0]).x[0])


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shared_values_given_per_run_give_todays_results_bit_for_bit(path):
    """Every parameter given as an array of its scenario value: the same bytes as no params."""
    spec = load_scenario(path)
    world = World.from_spec(spec)
    same = {k: np.full(12, v) for k, v in pm.Params.from_spec(spec).values.items()}
    ref, got = simulate(world, 4, 12), simulate(world, 4, 12, params=same)
    for f in FIELDS:
        assert getattr(ref, f).tobytes() == getattr(got, f).tobytes(), (path.stem, f)


def test_run_i_gets_row_i_whatever_chunks_batches_workers_or_order():
    spec = load_scenario(BASELINE)
    world = World.from_spec(spec)
    values = design(spec, 6, seed=3)
    whole = simulate(world, 8, 6, params=values)
    chunked = run_ensemble(world, 8, 6, chunk=4, progress=False, params=values)
    workers = run_ensemble(world, 8, 6, chunk=3, progress=False, workers=2, params=values)
    backwards = simulate(world, 8, np.arange(6)[::-1], batch=4,
                         params={k: v[::-1] for k, v in values.items()})
    alone = simulate(world, 8, [4], params={k: v[4:5] for k, v in values.items()})
    for f in FIELDS:
        a = getattr(whole, f)
        assert a.tobytes() == getattr(chunked, f).tobytes() == getattr(workers, f).tobytes()
        assert a.tobytes() == getattr(backwards, f)[::-1].tobytes()
        assert a[4].tobytes() == getattr(alone, f)[0].tobytes()


def test_streamed_statistics_take_per_run_parameters(monkeypatch):
    from sim import ensemble

    monkeypatch.setattr(ensemble, "STATS_BLOCK", 4)
    world = World.from_spec(load_scenario(BASELINE))
    values = {"anchor.w_ideology": np.linspace(0.2, 1.5, 12), "noise.sigma": 0.0}
    full = run_ensemble(world, 2, 12, progress=False, params=values)
    a = run_stats(world, 2, 12, chunk=4, params=values)
    b = run_stats(world, 2, 12, chunk=8, params=values)
    assert a.relation_mean.tobytes() == b.relation_mean.tobytes()
    iu, ju = np.triu_indices(world.n, 1)
    mean = (0.5 * (full.x[..., iu, ju] + full.x[..., ju, iu])).mean(0)
    np.testing.assert_allclose(a.relation_mean, mean, rtol=0, atol=1e-12)
    plain = run_stats(world, 2, 12, chunk=4)
    assert not np.allclose(plain.relation_mean, a.relation_mean)


def test_event_magnitudes_are_scaled_per_run_not_compiled_into_the_world():
    """One World, three runs: the May 2024 tariff moves x_USA,CHN by s · g/10 · k per run."""
    spec = load_scenario(BASELINE)
    world = World.from_spec(spec)
    scales = np.array([0.0, 0.1, 0.25])
    par = pm.Params.from_spec(spec, {"events.shock_scale": scales})
    usa, chn = world.idx("USA"), world.idx("CHN")
    dx = Plan.build(world, par).schedule[0].dx[:, usa, chn]
    default = Plan.build(world, pm.Params.from_spec(spec)).schedule[0].dx[usa, chn]
    assert dx[0] == 0.0 and dx[1] == default and dx[2] == pytest.approx(2.5 * default)
    assert default < 0
    step = np.array([0.05, 0.1, 0.2])
    conc = Plan.build(world, pm.Params.from_spec(
        spec, {"policies.RUS:price_concession.step": step})).decisions[-1]
    rus = world.idx("RUS")
    np.testing.assert_allclose(conc.dconcession[:, rus, chn], step, rtol=1e-15)


def test_every_registered_parameter_reaches_the_engine(baseline_child):
    """One batched call, all runs on the same random streams: run k changes parameter k only.
    Every run differs from run 0 except those whose parameter the policy never reads. The
    child adds a hostile act by (and against) every state, a sanction, a pipeline signed and
    price concessions offered from month 0, so that every parameter has something to act on
    (cloglog hazards: thresholds put p near 1 - e^-20 in month 0, below 1 in floats). The
    duration shape of those two rules is inert here: they fire with one month at risk
    (log d = 0); tests/test_model_v2.py checks the duration term itself. The child keeps the
    anchor as the mechanisms give it (``anchor_offset = "none"``): the baseline's steady-start
    offset absorbs the weights of inputs constant over a run (tests/test_anchor_offset.py)."""
    _, child = baseline_child("""
        anchor_offset = "none"
        [[events]]
        type = "sanctions"
        date = "2024-06"
        actor = "EU"
        target = "RUS"
        [[events]]
        type = "threat"
        date = "2024-07"
        actor = "RUS"
        target = "EU"
        [[events]]
        type = "pressure"
        date = "2024-07"
        actor = "JPN"
        target = "IND"
        [[events]]
        type = "pressure"
        date = "2024-08"
        actor = "IND"
        target = "JPN"
        [[policies]]
        rule = "grant_ask"
        actor = "CHN"
        ask = "pipeline"
        hazard = 1.0
        threshold = -0.46  # 0.47 below the status-quo utility (baseline threshold 0.013)
        [[policies]]
        rule = "concede"
        actor = "RUS"
        partner = "CHN"
        hazard = 1.0
        threshold = 0.5
        """)
    spec = load_scenario(child)
    reg = pm.registry(spec)
    names = list(reg)
    base = pm.Params.from_spec(spec).values
    values = {n: np.full(len(names) + 1, base[n]) for n in names}
    for k, name in enumerate(names, 1):
        p, v = reg[name], base[name]
        if p.kind == "switch":
            values[name][k] = not v
        elif p.kind == "int":
            values[name][k] = v // 2 if v > p.lo else v + 1
        else:
            values[name][k] = v * 1.5 + 0.1 if p.lo <= v * 1.5 + 0.1 <= p.hi else v * 0.5
    values["trade.elasticity_one_year"] = np.minimum(values["trade.elasticity_one_year"],
                                                     values["trade.elasticity_long_run"])
    traj = simulate(World.from_spec(spec), 3, np.zeros(len(names) + 1, int), params=values)
    inert = {name for k, name in enumerate(names, 1)
             if all(np.array_equal(getattr(traj, f)[k], getattr(traj, f)[0]) for f in FIELDS)}
    month_zero = {"policies.CHN:pipeline.duration_shape",
                  "policies.RUS:price_concession.duration_shape"}
    assert inert == {name for name, p in reg.items() if not p.used} | month_zero


@pytest.mark.parametrize("e", [-2.0, -1.0, 0.0, 0.5, 1.0, 2.0, 3.0, 1 / 3, 0.039052])
def test_power_per_run_equals_shared_exponent_bit_for_bit(e):
    rng = np.random.default_rng(1)
    for base in (rng.random((5, 6, 6)) + 0.01, rng.random(6) + 0.01):
        exps = np.array([e, 0.7, e, 2.0, e])
        got = power(base, exps)
        for k in (0, 2, 4):
            shared = power(base if base.ndim == 1 else base[k], e)
            assert got[k].tobytes() == shared.tobytes(), (e, base.ndim)


# ----------------------------------------------------------------------------- the registry


def test_registry_covers_every_field_of_the_mechanisms_and_every_policy():
    """Computed from the pydantic models: a field added without registering it fails here."""
    for path in SHIPPED:
        spec = load_scenario(path)
        reg = pm.registry(spec)
        for group, field in Mechanisms.model_fields.items():
            for key, sub in field.annotation.model_fields.items():
                if (group, key) in pm.FAMILY_FIELDS:
                    assert all(f"{group}.{key}.{sid}" in reg for sid in spec.ids)
                else:
                    assert f"{group}.{key}" in reg, f"[mechanisms.{group}] {key} not registered"
                    assert reg[f"{group}.{key}"].default == sub.default
        for label, pol in zip(pm.policy_labels(spec.policies), spec.policies, strict=True):
            for key in type(pol).model_fields:
                if key not in IDENTITY:
                    assert f"policies.{label}.{key}" in reg, f"{pol.rule}.{key} not registered"
            assert set(POLICY_KEYS[pol.rule]) <= IDENTITY
        for name, p in reg.items():
            assert p.unit and p.source, f"{name}: no unit or source in sim.params.META"
            assert p.kind == "switch" or (p.lo is not None and p.hi is not None), name
            assert not p.bad(np.array([pm.get(spec, name)])).any(), (path.stem, name)
    from sim.calibrate import calibrated_names

    for name in calibrated_names():
        assert pm.registry()[name].identified.startswith("sampled"), name
    assert pm.registry()["balance.rate"].identified == "no"


def test_get_and_with_values_round_trip_every_parameter():
    spec = load_scenario(BASELINE)
    assert pm.get(spec, "anchor.w_ideology") == spec.mechanisms.anchor.w_ideology
    assert pm.get(spec, "policies.USA:tariff.threshold") == 0.77
    assert pm.get(spec, "states.CHN.reciprocity") == 0.8
    assert pm.get(spec, "events.pressure_scale.EU") == 1.0
    for name in pm.names(spec):  # setting a value also fixes it: its uncertainty is dropped
        same = pm.with_values(spec, {name: pm.get(spec, name)})
        assert name not in same.uncertainties, name
        assert same.model_copy(update={"uncertainties": spec.uncertainties}) == spec, name
    new = pm.with_values(spec, {"anchor.rate": 0.05, "events.pressure_scale.USA": 2.0,
                                "policies.CHN:pipeline.gain": 0.5, "states.USA.reciprocity": 0})
    assert (pm.get(new, "anchor.rate"), pm.get(new, "events.pressure_scale.USA")) == (0.05, 2.0)
    assert (new.policies[0].gain, new.states[0].reciprocity) == (0.5, 0.0)
    assert pm.get(spec, "anchor.rate") == 0.03, "the original is not changed"


def test_a_scenario_with_values_runs_like_params_given_to_the_engine_and_the_model():
    spec = load_scenario(BASELINE)
    values = {"anchor.w_ideology": 0.4, "anchor.d_half": 2.2, "trade.pipeline_lead_months": 12,
              "policies.CHN:pipeline.threshold": -1.0, "states.RUS.reciprocity": 0.9}
    via_spec = simulate(World.from_spec(pm.with_values(spec, values)), 3, 4)
    via_params = simulate(World.from_spec(spec), 3, 4, params=values)
    for f in FIELDS:
        assert getattr(via_spec, f).tobytes() == getattr(via_params, f).tobytes()
    ref = mesa_run(spec, 3, 2, values)
    assert np.abs(ref["x"] - via_params.x[2]).max() <= 1e-12
    assert via_params.fired[:, :, 0].any(), "the lowered threshold lets the pipeline be signed"


def test_bad_names_and_values_give_one_clear_error():
    spec = load_scenario(BASELINE)
    world = World.from_spec(spec)
    cases = [
        (lambda: pm.get(spec, "anchor.w_ideolgy"), "did you mean 'anchor.w_ideology'?"),
        (lambda: pm.with_values(spec, {"policies.USA:tarif.threshold": 1}),
         "did you mean 'policies.USA:tariff.threshold'?"),
        (lambda: pm.with_values(spec, {"mechanisms.anchor.rate": 0.1}),
         "did you mean 'anchor.rate'?"),
        (lambda: simulate(world, 1, 2, params={"noise.sigmaa": 0.0}),
         "did you mean 'noise.sigma'?"),
        (lambda: AlignmentModel.from_scenario(spec, params={"balance.rat": 0.1}),
         "did you mean 'balance.rate'?"),
        (lambda: pm.with_values(spec, {"anchor.rate": 1.5}), "a number in [0, 1]"),
        (lambda: pm.with_values(spec, {"trade.pipeline_lead_months": 2.5}),
         "a whole number in [0, 240]"),
        (lambda: pm.with_values(spec, {"noise.enabled": 1.0}), "true or false"),
        (lambda: pm.with_values(spec, {"trade.elasticity_one_year": 3.0}),
         "elasticity_one_year at most elasticity_long_run"),
        (lambda: simulate(world, 1, 3, params={"anchor.rate": [0.1, 0.2, -0.1]}),
         "parameters.anchor.rate[run 2]: got -0.1; expected a number in [0, 1]"),
        (lambda: simulate(world, 1, 3, params={"anchor.rate": [0.1, 0.2]}),
         "3 values (one per run)"),
        (lambda: simulate(world, 1, 2, params={"trade.elasticity_one_year": [0.5, 2.5]}),
         "elasticity_one_year at most elasticity_long_run"),
        (lambda: pm.Params.from_spec(spec, {"threat.enabled": ["yes", "no"]}), "true or false"),
    ]
    for call, text in cases:
        with pytest.raises(ScenarioError) as err:
            call()
        message = str(err.value)
        assert text in message and message.startswith(str(BASELINE)), message
        assert "\n" not in message


def test_sim_params_prints_the_table(capsys):
    spec = load_scenario(BASELINE)
    assert main(["params", "baseline"]) == 0
    out = capsys.readouterr().out
    for name in pm.names(spec):
        assert f"\n{name} " in out, name
    line = next(row for row in out.splitlines() if row.startswith("anchor.w_ideology "))
    assert "[0, 2]" in line and "sim.standardise" in line
    assert main(["params", str(BASELINE), "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["name"] for r in rows] == pm.names(spec)
    row = {r["name"]: r for r in rows}["policies.USA:tariff.threshold"]
    assert (row["value"], row["default"], row["unit"]) == ("0.77", "1.0", "support index")
    assert main(["params", "baselin"]) == 2
    assert "did you mean" in capsys.readouterr().err


def test_hypotheses_set_parameters_through_the_registry():
    from sim.hypotheses import arm

    dosed = arm(BASELINE, None, {f"events.pressure_scale.{a}": 0.5 for a in ("USA", "EU")})
    merged = load_scenario(BASELINE, overrides={"mechanisms": {"events": {
        "pressure_scale": {"USA": 0.5, "EU": 0.5}}}})
    assert dosed.mechanisms == merged.mechanisms


def _counts(name: str) -> dict[str, int]:
    """What the docs count among a shipped scenario's registered parameters, from the code."""
    from sim.explore.sensitivity import space

    spec = load_scenario(SCENARIOS / f"{name}.toml")
    reg = pm.registry(spec)
    in_use = [p for p in reg.values() if p.kind != "switch" and p.used]
    declared = {k: u for k, u in spec.uncertainties.items() if u.dist != "fixed"}
    return {"registered": len(reg), "switches": sum(p.kind == "switch" for p in reg.values()),
            "unread": sum(p.kind != "switch" and not p.used for p in reg.values()),
            "in use": len(in_use), "factors": len(space(spec, "all").factors),
            "whole": sum(p.kind == "int" for p in in_use), "declared": len(declared),
            "calibrated": sum(u.from_ == "calibration" for u in declared.values())}


def test_parameter_counts_in_the_docs_match_the_registry():
    """Each parameter count in README.md, docs/ODD.md, docs/EXPLORE.md and docs/SCENARIOS.md
    says what it counts, and the number is the code's."""

    root = SCENARIOS.parent
    text = {f: " ".join((root / f).read_text(encoding="utf-8").split())
            for f in ("README.md", "docs/ODD.md", "docs/EXPLORE.md", "docs/SCENARIOS.md")}
    b, h = _counts("baseline"), _counts("history_2014_2024")
    cal = _counts("baseline_calibrated")
    assert b["factors"] == b["in use"] == b["registered"] - b["switches"] - b["unread"]
    assert (f"`sim params baseline` lists {b['registered']} registered parameters: "
            f"{b['switches']} on/off switches, {b['unread']} numbers its policies do not read, "
            f"and {b['in use']} numbers in use, which `sim sensitivity` varies; of these, "
            f"{b['declared']} continuous ones have declared distributions ({b['calibrated']} of "
            f"them calibrated) and {b['whole']} whole numbers") in text["README.md"]
    assert b["declared"] + b["whole"] == b["in use"]
    odd = text["docs/ODD.md"]
    assert (f"({b['declared']} of the baseline's {b['registered']} registered parameters and "
            f"{h['declared']} of the history's {h['registered']};") in odd
    assert f"draws the other {cal['declared']}." in odd
    assert f"a Morris screen of {b['factors']} factors: every number the baseline uses" in (
        text["docs/EXPLORE.md"])
    assert f"{b['declared']} uncertain parameters" in text["docs/SCENARIOS.md"]


def test_drawn_elasticities_keep_the_one_year_at_most_the_long_run():
    """A design's independent draws can pair a calibrated one-year elasticity from the
    posterior's tail with a low long-run one: the long-run one is raised to it (the boundary of
    the rule), the calibrated value is kept, and other parameters are untouched."""
    one, long = pm.ELASTICITIES
    drawn = {one: np.array([0.8, 1.78, 1.2]), long: np.array([2.0, 1.76, 1.75]),
             "anchor.rate": np.array([0.1, 0.2, 0.3])}
    kept = pm.within_rules(drawn)
    np.testing.assert_array_equal(kept[one], drawn[one])
    np.testing.assert_array_equal(kept[long], [2.0, 1.78, 1.75])
    np.testing.assert_array_equal(kept["anchor.rate"], drawn["anchor.rate"])
    spec = load_scenario(BASELINE)
    pm.Params.from_spec(spec, kept, runs=3)  # valid now
    with pytest.raises(ScenarioError, match="elasticity_one_year at most"):
        pm.Params.from_spec(spec, drawn, runs=3)
    assert pm.within_rules({one: drawn[one]}) == {one: drawn[one]}  # one alone: nothing to do
