"""sim.explore: sensitivity (SALib), discovery (PRIM/CART), attribution, and their commands.

Sizes are tiny (seconds each): these tests check the machinery (designs, pairing, tables,
output rules, errors), not the model's numbers."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, ROOT, SCENARIOS

from sim.cli import main
from sim.explore import runner
from sim.explore.attribution import attribute, event_variant, policy_switches, variants
from sim.explore.discovery import discover, evaluate_condition, parse_condition
from sim.explore.sensitivity import flag, morris, sobol
from sim.explore.space import space
from sim.outcomes import OutcomeError
from sim.output import UserError
from sim.params import registry
from sim.spec import load_scenario
from sim.world import World

SHIPPED = sorted(p.stem for p in SCENARIOS.glob("*.toml"))
# EMA Workbench's Prim calls DataFrame.drop(inplace=True), which pandas 3.1 deprecates
# (Pandas4Warning, a DeprecationWarning); the library's code, not sim's: ignored there only.
pytestmark = pytest.mark.filterwarnings(
    "ignore:The inplace keyword in DataFrame.drop is deprecated:DeprecationWarning:"
    "ema_workbench.analysis.prim")


@pytest.fixture(scope="module")
def spec():
    return load_scenario(BASELINE)


def test_grouped_streams_share_within_group_and_differ_across():
    s = runner.grouped_streams(rows=6, group=3, reps=2).reshape(6, 2)
    assert (s[:3] == s[0]).all() and (s[3:] == s[3]).all()  # a group shares its streams
    assert set(s[0]).isdisjoint(s[3])  # groups do not
    assert len(set(s[0])) == 2  # replicates differ


def test_space_covers_declared_and_registered_numbers(spec):
    reg = registry(spec)
    declared, every = space(spec, "declared"), space(spec, "all")
    assert set(declared.names) == set(spec.uncertainties) - {
        n for n, u in spec.uncertainties.items() if u.kind == "fixed"}
    assert set(declared.names) < set(every.names) <= set(reg)
    assert not [n for n in every.names if reg[n].kind == "switch"]
    assert any(n.startswith("policies.") for n in every.names)
    q = np.linspace(0, 1, 11)
    for f in every.factors:
        v = f.values(q)
        assert not reg[f.name].bad(v).any(), f.name
        assert np.all(np.diff(v) >= 0), f.name  # a quantile function
        assert f.lo <= v.min() and v.max() <= f.hi, f.name


def test_space_subset_names_unknown_parameter(spec):
    with pytest.raises(UserError, match=r'did you mean "anchor\.w_ideology"'):
        space(spec).subset(["anchor.w_ideolgy"])


def test_flag_rules():
    assert flag(0.5, 0.01) == ""
    assert flag(0.5, 0.06) == "wide"
    assert flag(0.01, 0.02) == "includes 0"
    assert flag(-0.01, 0.005) == "includes 0; negative"
    assert flag(float("nan"), float("nan")) == "no variance"


def test_sobol_is_reproducible_and_complete(spec):
    # trade, where drawn parameters and the model's noise both matter (since the steady start
    # the USA-CHN relation at the horizon owes almost all its variance to noise)
    kw = {"outcomes": ["trade:USA-CHN"], "n": 16, "reps": 2,
          "params": ["anchor.rate", "trade.diversion", "noise.sigma"]}
    a, b = sobol(spec, **kw), sobol(spec, **kw)
    pd.testing.assert_frame_equal(a.indices, b.indices)
    assert a.runs == 16 * 5 * 2
    assert set(a.indices["index"]) == {"S1", "ST"}
    assert sorted(a.convergence.n.unique()) == [2, 4, 8, 16]
    share = a.noise.noise_share.iloc[0]
    assert 0 < share < 1  # the model's own noise is part of the variance, not all of it
    wide = a.indices[2 * a.indices.conf > 0.1]
    assert (wide.flag.str.contains("wide")).all()


def test_effect_of_a_scenario_against_itself_is_zero(spec):
    """--vs pairs runs by parameters and streams: the same scenario gives no effect at all."""
    res = sobol(spec, vs=spec, outcomes=["trade:USA-CHN"], n=16, reps=2,
                params=["trade.elasticity_one_year", "anchor.rate"])
    assert (res.indices.flag == "no variance").all()
    assert res.noise.variance.iloc[0] == 0
    assert res.top("trade:USA-CHN").ST.isna().all()


def test_morris_ranks_every_factor_and_writes(spec, tmp_path):
    res = morris(spec, outcomes=["trade:USA-CHN"], r=3, reps=1)
    assert set(res.indices.parameter) == set(res.space.names)
    assert res.runs == 3 * (len(res.space) + 1)
    out = res.write(tmp_path / "m")
    files = json.loads((out / "manifest.json").read_text())["files"]
    assert "indices.csv" in files and any(f.startswith("figures/morris_") for f in files)
    text = (out / "summary.md").read_text()
    assert "Noise: not estimated (one replicate per point" in text and "n/a of" not in text
    for lo in re.findall(r"\| [\w.:]+ \| [^|]*?\[([^,\]]+),", text):
        assert float(lo) >= 0, text  # μ* ≥ 0: its interval's lower end is shown at 0 or above


def test_sobol_effect_screen_chooses_parameters(spec):
    res = sobol(spec, vs=SCENARIOS / "tariff_escalation.toml", outcomes=["trade:USA-CHN"],
                n=16, reps=1, top=3, screen_r=3)
    assert len(res.space) == 3 and res.screening is not None
    assert res.quantity == "effect of tariff_escalation"
    assert res.indices.value.notna().all()


def test_sensitivity_counts_every_run_it_makes(spec, monkeypatch):
    """The runs a Sobol analysis reports are all it simulated, its Morris screen included
    (counted where every run goes: the ensemble's outcome values)."""
    import sim.explore.sensitivity as sens

    made = []
    real = sens.outcome_values

    def counting(world, seed, streams, par, *args, **kwargs):
        made.append(len(streams))  # one stream row per run
        return real(world, seed, streams, par, *args, **kwargs)

    monkeypatch.setattr(sens, "outcome_values", counting)
    res = sobol(spec, outcomes=["relation:USA-CHN"], n=16, reps=1, top=3, screen_r=3)
    assert res.all_runs == sum(made) > res.runs == made[-1]
    assert res.runs_text().startswith(f"{sum(made):,} runs (")
    assert f"{res.screening.runs:,} in the Morris screen" in res.runs_text()


def test_event_variants(spec):
    i = next(k for k, e in enumerate(spec.events) if e.rate is not None)
    half = event_variant(spec, i, "x0.5")
    assert half.events[i].rate == pytest.approx(spec.events[i].rate * 0.5)
    assert half.events[i].coverage == spec.events[i].coverage
    assert not event_variant(spec, i, "removed").events[i].enabled
    v = variants(spec)
    enabled = sum(e.enabled for e in spec.events)
    assert len(v) == 3 * enabled + len(policy_switches(spec))


def test_attribution_small_scenario(write_scenario):
    """One tariff, no policies: removing it raises the pair's trade in every run pair."""
    from conftest import SMALL

    res = attribute(write_scenario(SMALL), outcomes=["trade:USA-CHN"], draws=1,
                    runs_per_draw=6)
    t = res.table.set_index("change")
    assert list(t.index) == ["removed", "x0.5", "x1.5"]
    assert t.loc["removed", "mean"] > 0 and t.loc["x0.5", "mean"] > 0
    assert t.loc["x1.5", "mean"] < 0
    # a skewed effect (a decision switching in a few draws) has its mean outside the 90%
    # interval across draws: the tornado chart must still draw it
    skew = res.table.copy()
    skew.loc[skew.change == "removed", ["param_lo", "param_hi"]] = [2e9, 3e9]
    res.table = skew
    fig = res.figures()[f"tornado_trade_USA-CHN_{res.dates[-1]}"]
    assert fig.axes[0].get_xlim()[1] > 2e9


def test_condition_parsing_and_logic(spec):
    world = World.from_spec(spec)
    g = parse_condition("relation:CHN-RUS at 2027-05 > 0.8 and decision:CHN:pipeline by "
                        "2027-05 or trade:USA-CHN < 100", world)
    assert [len(x) for x in g] == [2, 1]
    (a, b), (c,) = g
    assert (a.date, a.op, a.value, b.op) == ("2027-05", ">", 0.8, "")
    vals = {(a.name, a.step): np.array([0.9, 0.9, 0.1]), (b.name, b.step): np.array([1, 0, 1]),
            (c.name, c.step): np.array([500, 500, 50])}
    assert evaluate_condition(g, vals).tolist() == [True, False, True]
    with pytest.raises(UserError, match="expected NAME"):
        parse_condition("relation:CHN-RUS is high", world)
    with pytest.raises(OutcomeError, match="did you mean"):
        parse_condition("relation:CHN-RSU > 0", world)
    with pytest.raises(OutcomeError, match="2027-13"):
        parse_condition("relation:CHN-RUS at 2027-13 > 0", world)


def test_discover_finds_a_box(spec):
    world = World.from_spec(spec)
    res = discover(spec, "trade:USA-CHN > 500", draws=60)
    assert 0 < res.share < 1
    assert res.trajectory.coverage.iloc[0] == pytest.approx(1.0)
    assert set(res.box.parameter) <= set(res.x.columns)
    assert {"coverage", "density", "limits"} <= set(res.cart.columns)
    assert world.dates()[-1] in res.condition


def test_discover_refuses_a_condition_that_always_holds(spec):
    with pytest.raises(UserError, match="holds in all"):
        discover(spec, "relation:USA-CHN < 2", draws=10)


def test_cli_refuses_non_empty_folder_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "att"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    code = main(["attribute", "baseline", "--draws", "2", "--runs-per-draw", "1", "--out",
                 str(out), "--quiet"])
    assert code == 2 and "not empty" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["mine.txt"]


def _median_threshold(name: str) -> float:
    """A trade threshold that splits the scenario's runs (so PRIM has something to find)."""
    from sim.explore.runner import outcome_values
    from sim.uncertainty import make_design

    spec = load_scenario(SCENARIOS / f"{name}.toml")
    world = World.from_spec(spec)
    a, b = world.key_pairs()[0]
    design = make_design(spec, draws=30)
    v = outcome_values(world, design.seed, np.arange(design.runs), design.params_for(spec),
                       [f"trade:{a}-{b}"], [world.months])
    return f"trade:{a}-{b} > {float(np.median(v)):.6g}"


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED)
def test_every_command_runs_on_every_shipped_scenario(name, tmp_path):
    listed = subprocess.run([sys.executable, "-m", "sim.cli", "list"], capture_output=True,
                            text=True, check=True, cwd=ROOT).stdout
    assert name in listed.split()
    small = ["--quiet", "--workers", "1", "--no-figures"]
    for i, args in enumerate([
            ["sensitivity", name, "--method", "morris", "--n", "2", "--reps", "1"],
            ["sensitivity", name, "--method", "sobol", "--n", "16", "--reps", "1", "--top", "2",
             *(["--vs", "tariff_escalation" if name == "baseline" else "baseline"]
               if name != "history_2014_2024" else [])],
            ["attribute", name, "--draws", "2", "--runs-per-draw", "1"],
            ["discover", name, "--where", _median_threshold(name), "--draws", "30"]]):
        out = tmp_path / f"o{i}"
        assert main([*args, *small, "--out", str(out)]) == 0, args
        assert (out / "manifest.json").is_file() and (out / "summary.md").is_file()


EVENTFUL = """
[[events]]
id = "visit"
type = "visit"
date = "2024-03"
actor = "RUS"
target = "CHN"

[uncertainties]
"balance.rate" = { dist = "uniform", lo = 0.0, hi = 0.03, cite = "test" }
"""


def test_discover_events_finds_the_event_that_drives_the_condition(write_scenario):
    """SMALL's tariff (id "big") lowers USA-CHN trade: a trade threshold between the runs
    without it and those with it at half strength is met only where it is on."""
    from conftest import SMALL

    from sim.explore.attribution import with_events
    from sim.uncertainty import make_design

    spec = load_scenario(write_scenario(
        SMALL.replace('type = "tariff"', 'id = "big"\ntype = "tariff"') + EVENTFUL))
    world = World.from_spec(spec)
    step = world.dates().index("2024-06")

    def median(changes: dict[int, tuple[bool, float]]) -> float:
        w = World.from_spec(with_events(spec, changes))
        return float(np.median(runner.outcome_values(w, 3, np.arange(10), None,
                                                     ["trade:USA-CHN"], [step])))

    cut = (median({0: (False, 1.0)}) + median({0: (True, 0.5)})) / 2
    where = f"trade:USA-CHN at 2024-06 < {cut:.6g}"
    res = discover(spec, where, draws=30, runs_per_draw=2, events=True)
    plain = make_design(spec, draws=30, runs_per_draw=2)
    cols = ["event:big.on", "event:big.scale", "event:visit.on", "event:visit.scale"]
    assert list(res.x.columns) == ["balance.rate", *cols]
    # the same parameter draws as without --events
    assert np.array_equal(res.x["balance.rate"], np.repeat(plain.values[:, 0], 2))
    assert 0.2 < res.x["event:big.on"].mean() < 0.8
    assert res.x["event:big.scale"].between(0.5, 1.5).all()
    box = res.box.set_index("parameter")
    assert "event:big.on" in box.index and box.loc["event:big.on", "min"] > 0
    assert not any(p.startswith("event:visit") for p in box.index)
    assert res.trajectory.density[res.chosen] > 0.9
    assert "(on only)" in res.markdown()
    again = discover(spec, where, draws=30, runs_per_draw=2, events=True)
    assert again.x.equals(res.x) and (again.y == res.y).all() and again.box.equals(res.box)
    other = discover(spec, where, draws=30, runs_per_draw=2, events=True, seed=4)
    assert not other.events.equals(res.events)


def test_discover_events_runs_keep_their_streams(write_scenario):
    """A run whose draw has every event on at scale 1 gives what the same run gives without
    --events: the design stays paired."""
    from conftest import SMALL

    from sim.explore.discovery import event_draws, event_worlds
    from sim.uncertainty import make_design

    spec = load_scenario(write_scenario(SMALL + EVENTFUL))
    design = make_design(spec, draws=6, runs_per_draw=2)
    table = event_draws(spec, design.draws, design.seed)
    table.loc[:, [c for c in table.columns if c.endswith(".on")]] = 1.0
    table.loc[:, [c for c in table.columns if c.endswith(".scale")]] = 1.0
    table.loc[2, "event:visit.on"] = 0.0
    worlds, which = event_worlds(spec, table)
    assert len(worlds) == 2
    args = (design.seed, np.arange(design.runs), design.params_for(spec), ["trade:USA-CHN",
            "relation:CHN-RUS"], [spec.scenario.months])
    grouped = runner.outcome_values(worlds, *args, group=which[design.draw])
    full = runner.outcome_values(World.from_spec(spec), *args)
    same = design.draw != 2
    assert np.array_equal(grouped[same], full[same])
    assert not np.allclose(grouped[~same][:, 1], full[~same][:, 1])


def test_cli_discover_events_needs_scheduled_events(write_scenario, tmp_path, capsys):
    from conftest import SMALL

    head = SMALL[:SMALL.index("[[events]]")]
    path = write_scenario(head + EVENTFUL[EVENTFUL.index("[uncertainties]"):])
    out = tmp_path / "d"
    code = main(["discover", str(path), "--where", "trade:USA-CHN > 500", "--events",
                 "--draws", "4", "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "no enabled scheduled event" in err and "--events" in err
    assert "Traceback" not in err and not out.exists()
