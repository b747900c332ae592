"""The explorer's core (sim.dashboard): controls from the registries for every shipped scenario,
what-if changes applied and exported as a child scenario that `sim run` reproduces bit for bit,
paired answers, one clear error for a bad change."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from sim import params as pm
from sim.api import run
from sim.cli import main
from sim.dashboard import (
    FIGURES,
    HIDDEN,
    TABLES,
    ChangeError,
    WhatIf,
    answer,
    apply,
    controls,
    scenario_files,
    sensitivity,
    shipped,
    to_toml,
)
from sim.dashboard.answer import resolve_engine
from sim.dashboard.scenarios import load_shipped
from sim.resources import scenarios_dir
from sim.spec import ScenarioSpec, load_scenario, month_label
from sim.uncertainty import declared
from sim.world import World, policy_labels

RUNS, SEED = 40, 5
CACHE: dict = {}


def _answer(whatif: WhatIf) -> object:
    return answer(whatif, runs=RUNS, seed=SEED, reference_cache=CACHE)


def _at(res, outcome: str, date: str) -> np.ndarray:
    return res.value(outcome)[:, res.dates.index(date)]


def _content(spec: ScenarioSpec) -> dict:
    """What the model reads of a scenario (not its name, cites or file)."""
    return spec.model_dump(exclude={"cites", "source", "scenario"})


# ------------------------------------------------------------------------------ controls


def test_every_shipped_scenario_but_the_backtests_is_offered():
    stems = {p.stem for p in scenarios_dir().glob("*.toml")}
    assert set(shipped()) == stems - HIDDEN
    assert {"history_2010_2024", "history_2014_2024"} <= HIDDEN
    assert next(iter(shipped())) == "baseline"
    import sim.app as app  # the dashboard of one run offers the same list

    assert app.scenario_files() == scenario_files()


@pytest.mark.parametrize("stem", list(shipped()))
def test_controls_read_the_scenario_through_the_registries(stem):
    spec = load_shipped(stem)
    cs = controls(spec)
    keys = [c.key for c in cs]
    assert len(keys) == len(set(keys))
    by = {c.key: c for c in cs}
    months = [month_label(spec.scenario.start, t) for t in range(spec.scenario.months)]
    named = [ev for ev in spec.events if ev.id is not None]
    assert named and len([k for k in keys if k.startswith("event:")]) == 3 * len(named)
    for ev in named:
        assert by[f"event:{ev.id}.on"].default is ev.enabled
        date = by[f"event:{ev.id}.date"]
        assert date.default == ev.date[:7] and date.default in date.choices
        assert list(date.choices) == months
        scale = by[f"event:{ev.id}.scale"]
        assert scale.default == 1.0 and scale.low == 0 and scale.high * ev.intensity <= 10
    reg = pm.registry(spec)
    labels = policy_labels(spec.policies)
    assert len([k for k in keys if k.startswith("policy:")]) == 2 * len(labels)
    for label in labels:
        assert by[f"policy:{label}.on"].default is pm.get(spec, f"policies.{label}.enabled")
        thr = by[f"policy:{label}.threshold"]
        assert thr.default == pm.get(spec, f"policies.{label}.threshold")
        p = reg[f"policies.{label}.threshold"]
        assert (thr.low, thr.high) == (p.lo, p.hi)
        assert thr.low <= thr.default <= thr.high
    decl = declared(spec)
    assert {k.removeprefix("uncertainty:").removesuffix(".fixed") for k in keys
            if k.endswith(".fixed")} == set(decl)
    assert {k.removeprefix("uncertainty:").removesuffix(".width") for k in keys
            if k.endswith(".width")} == {n for n, u in decl.items() if u.kind != "calibration"}
    for c in cs:
        if c.key.endswith(".width"):
            assert c.default == 1.0 and c.low < 1 < c.high
        if c.key.endswith(".fixed"):
            assert c.default is None and c.low < c.high
        assert c.kind in ("switch", "month", "number") and c.label and c.help


# ------------------------------------------------------------------------------ applying


def test_each_kind_of_change_changes_the_spec():
    base = load_shipped("baseline")
    ev = {e.id: e for e in base.events}
    u_div, u_thr = base.uncertainties["trade.diversion"], \
        base.uncertainties["policies.USA:tariff.threshold"]
    thr = pm.get(base, "policies.USA:tariff.threshold")
    spec = apply(base, {"event:may2024_tariffs.on": False, "event:state_visit.date": "2026-01",
                        "event:secondary_widening.scale": 3.0,
                        "policy:CHN:pipeline.on": False,
                        "policy:USA:tariff.threshold": thr + 0.1,
                        "uncertainty:trade.diversion.width": 2.0,
                        "uncertainty:states.USA.reciprocity.fixed": 0.2})
    new = {e.id: e for e in spec.events}
    assert new["may2024_tariffs"].enabled is False
    assert "may2024_tariffs" not in {e.id for _, e in World.from_spec(spec).scheduled_events}
    assert new["state_visit"].date == "2026-01"
    assert new["secondary_widening"].intensity == 3 * ev["secondary_widening"].intensity
    assert pm.get(spec, "policies.CHN:pipeline.enabled") is False
    assert pm.get(spec, "policies.USA:tariff.threshold") == pytest.approx(thr + 0.1)
    moved = spec.uncertainties["policies.USA:tariff.threshold"]
    assert (moved.lo, moved.hi) == pytest.approx((u_thr.lo + 0.1, u_thr.hi + 0.1))
    wide = spec.uncertainties["trade.diversion"]
    assert wide.mode == u_div.mode
    assert wide.hi - wide.lo == pytest.approx(2 * (u_div.hi - u_div.lo))
    assert pm.get(spec, "states.USA.reciprocity") == 0.2
    assert "states.USA.reciprocity" not in declared(spec)
    untouched = {k: v for k, v in _content(base).items() if k not in ("events", "policies",
                                                                      "uncertainties", "states")}
    assert untouched == {k: v for k, v in _content(spec).items() if k in untouched}
    assert apply(base, {}) is base
    assert apply(base, {"event:state_visit.on": True}) is base  # the default: no change


def test_a_threshold_at_its_bound_keeps_its_drawn_spread_inside_the_range():
    base = load_shipped("baseline")
    u = base.uncertainties["policies.USA:tariff.threshold"]
    spec = apply(base, {"policy:USA:tariff.threshold": 5.0})
    moved = spec.uncertainties["policies.USA:tariff.threshold"]
    assert moved.hi == 5.0 and moved.hi - moved.lo == pytest.approx(u.hi - u.lo)


@pytest.mark.parametrize(("changes", "expected"), [
    ({"event:nope.on": False}, "event:nope.on"),
    ({"event:may2024_tarifs.on": False}, "did you mean 'event:may2024_tariffs.on'"),
    ({"event:may2024_tariffs.date": "2031-01"}, "within the horizon 2024-05 .. 2030-04"),
    ({"event:may2024_tariffs.date": "May 2025"}, "a month YYYY-MM"),
    ({"event:may2024_tariffs.scale": -0.5}, "a number from 0 to"),
    ({"event:may2024_tariffs.on": "no"}, "true or false"),
    ({"policy:USA:tariff.threshold": 7.0}, "a number from -5 to 5"),
    ({"uncertainty:trade.diversion.width": 0.0}, "a number from 0.1 to 3"),
    ({"uncertainty:trade.diversion.width": 2.0, "uncertainty:trade.diversion.fixed": 0.5},
     "either a width or a fixed value"),
    ({"uncertainty:noise.sigma.width": 2.0}, "uncertainty:noise.sigma.width"),  # calibration
    ({"uncertainty:trade.elasticity_long_run.fixed": 1.8,
      "uncertainty:trade.elasticity_one_year.fixed": 2.0}, "at most elasticity_long_run"),
])
def test_a_bad_change_raises_one_clear_error(changes, expected):
    base = load_shipped("baseline")
    with pytest.raises(ChangeError) as err:
        apply(base, changes)
    text = str(err.value)
    assert expected in text and "got" in text and "expected" in text
    assert isinstance(err.value, ValueError)
    with pytest.raises(ChangeError):
        to_toml(WhatIf("baseline", changes))


def test_an_unknown_scenario_is_an_error():
    with pytest.raises(ValueError, match="history_2014_2024"):
        answer(WhatIf("history_2014_2024"), runs=2)


# ------------------------------------------------------------------------------ answers


def test_no_change_gives_paired_differences_of_exactly_zero():
    a = _answer(WhatIf("baseline"))
    assert a.results.runs == RUNS
    diff = a.table("differences")
    assert len(diff) >= 6 and diff["paired"].all()
    assert (diff[["median", "mean", "param_lo", "param_hi"]] == 0).all().all()
    ref = run(load_shipped("baseline"), runs=RUNS, seed=SEED, engine=a.engine)
    assert np.array_equal(a.reference.traj.x, ref.traj.x)  # the cached reference is `sim run`'s


def test_switching_off_the_may_2024_tariffs_raises_us_china_trade():
    a = _answer(WhatIf("baseline", {"event:may2024_tariffs.on": False}))
    d = _at(a.results, "trade:USA-CHN", "2025-05") - _at(a.reference, "trade:USA-CHN", "2025-05")
    assert np.median(d) > 0 and (d > 0).mean() > 0.9
    row = a.table("differences").set_index("outcome").loc["trade_USA-CHN"]
    assert row["median"] > 0 and row["sign_share"] > 0.9
    # a lever keeps the parameter draws: run i of both has the same parameters
    assert np.array_equal(a.results.traj.design.values, a.reference.traj.design.values)


def test_later_tariffs_and_a_larger_reply_move_trade_as_expected():
    later = _answer(WhatIf("baseline", {"event:may2024_tariffs.date": "2027-05"}))
    d = (_at(later.results, "trade:USA-CHN", "2026-05")
         - _at(later.reference, "trade:USA-CHN", "2026-05"))
    assert np.median(d) > 0  # not yet imposed in 2026
    bigger = _answer(WhatIf("baseline", {"event:china_reply_tariffs.scale": 3.0}))
    d = (_at(bigger.results, "trade:USA-CHN", "2025-09")
         - _at(bigger.reference, "trade:USA-CHN", "2025-09"))
    assert np.median(d) < 0


def test_a_policy_switched_off_never_fires():
    a = _answer(WhatIf("baseline", {"policy:USA:secondary_sanctions.on": False}))
    k = [d.label for d in a.results.world.decisions].index("USA:secondary_sanctions")
    assert a.results.made[:, -1, k].max() == 0
    assert a.reference.made[:, -1, k].max() > 0  # it did fire in the reference


def test_uncertainty_width_and_fixed_change_the_draws():
    wide = _answer(WhatIf("baseline", {"uncertainty:trade.diversion.width": 0.2}))
    names = list(wide.results.traj.design.names)
    j = names.index("trade.diversion")
    mine, ref = wide.results.traj.design.values[:, j], wide.reference.traj.design.values[:, j]
    assert np.ptp(mine) < 0.25 * np.ptp(ref)
    # the same hypercube coordinates: the draws keep their order (paired)
    assert np.array_equal(np.argsort(mine), np.argsort(ref))
    fixed = _answer(WhatIf("baseline", {"uncertainty:trade.diversion.fixed": 0.3}))
    assert "trade.diversion" not in fixed.results.traj.design.names
    assert pm.get(fixed.results.world.spec, "trade.diversion") == 0.3


def test_figures_and_tables():
    a = _answer(WhatIf("baseline", {"event:may2024_tariffs.on": False}, reference="detente"))
    assert a.names == ("baseline (what-if)", "detente")
    for name in FIGURES:
        fig = a.figure(name, "2026-05")
        assert isinstance(fig, Figure) and fig.axes
    assert a.figure("triangle", "2026-05") is a.figure("triangle", "2026-05")  # kept
    assert a.figure("triangle", "2027-05") is not a.figure("triangle", "2026-05")
    titles = " ".join(ax.get_title() for ax in a.figure("triangle", "2027-05").axes)
    assert "2027-05" in titles and "detente" in titles
    with pytest.raises(ValueError, match="2024-05 to 2030-05"):
        a.figure("heatmap", "2031-01")
    with pytest.raises(ValueError, match="expected one of"):
        a.figure("nope")
    for name in TABLES:
        assert isinstance(a.table(name), pd.DataFrame) and len(a.table(name))
    dec = a.table("decisions")
    assert set(dec["scenario"]) == set(a.names)
    assert dec["share_taken"].between(0, 1).all()
    with pytest.raises(ValueError, match="expected one of"):
        a.table("nope")


def test_sensitivity_ranks_declared_parameters():
    w = WhatIf("baseline", {"event:may2024_tariffs.on": False})
    table = sensitivity(w, "relation:USA-CHN", r=2, top=5)
    assert len(table) == 5
    assert set(table["parameter"]) <= set(declared(w.spec()))
    assert table["mu_star"].is_monotonic_decreasing and (table["mu_star"] >= 0).all()


# ------------------------------------------------------------------------------ export


LEVERS = {"event:may2024_tariffs.scale": 0.5, "event:state_visit.date": "2025-02",
          "event:joint_statement.on": False, "policy:CHN:pipeline.on": False}
"""Changes that keep the unmodified scenario's parameter draws (its design is reused)."""


@pytest.mark.parametrize("changes", [
    LEVERS,
    {**LEVERS, "policy:USA:tariff.threshold": 0.64, "uncertainty:trade.diversion.width": 1.5,
     "uncertainty:states.CHN.reciprocity.fixed": 0.7,
     "uncertainty:events.pressure_scale.USA.fixed": 1.2,
     "uncertainty:policies.CHN:pipeline.gain.fixed": 0.4},
], ids=["levers", "levers-and-uncertainties"])
def test_exported_toml_validates_and_sim_run_reproduces_the_answer(changes, tmp_path, capsys):
    w = WhatIf("baseline", changes)
    path = tmp_path / "whatif.toml"
    a = _answer(w)
    path.write_text(a.toml(), encoding="utf-8")
    assert _content(load_scenario(path)) == _content(w.spec())
    assert main(["validate", str(path)]) == 0
    command = next(line for line in a.toml().splitlines() if "sim run" in line)
    args = command.split("sim run <this file> ")[1].split()
    assert args == ["--runs", str(RUNS), "--seed", str(SEED), "--engine", a.engine]
    out = tmp_path / "out"
    assert main(["run", str(path), *args, "--out", str(out), "--quiet", "--no-figures",
                 "--workers", "1"]) == 0  # (results do not depend on workers; one is faster)
    capsys.readouterr()
    for table in ("timeseries", "summary"):
        written = pd.read_csv(out / f"{table}.csv", dtype=str, keep_default_na=False)
        mine = getattr(a.results, table)
        assert list(written.columns) == list(mine.columns)
        for col in mine.columns:
            if pd.api.types.is_float_dtype(mine[col]):  # parsed exactly (Python's float)
                got = np.array([float(v) if v else np.nan for v in written[col]])
                assert np.array_equal(got, mine[col].to_numpy(), equal_nan=True), col


def test_engine_auto_prefers_numba_when_installed():
    import importlib.util

    want = "numba" if importlib.util.find_spec("numba") else "batched"
    assert resolve_engine("auto") == want and resolve_engine("batched") == "batched"


def test_every_number_control_starts_on_its_own_slider_grid():
    """A slider snaps the value it is given to low + k·step: a shipped value off that grid (a
    threshold of 0.013 on steps of 0.01) would become a change nobody made as soon as the
    control is shown. Every number control of every shipped scenario starts on its grid, and
    a value a slider reports within half a step of the default is no change."""
    from sim.dashboard.page import changed

    checked = 0
    for path in scenario_files().values():
        for c in controls(load_scenario(path)):
            if c.kind != "number" or c.default is None:
                continue
            assert abs(c.snap(c.default) - c.default) < 1e-9, (path.stem, c.key, c.step)
            assert changed({}, c, c.default + 0.4 * c.step) == {}
            assert changed({}, c, c.default + c.step) == {c.key: c.default + c.step}
            checked += 1
    assert checked > 50
