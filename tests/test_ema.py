"""sim.ema: an EMA Workbench model of a scenario, checked against sim's own runs."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BASELINE

from sim.engine import simulate
from sim.explore.attribution import MAGNITUDES, _bounded
from sim.params import registry
from sim.spec import ScenarioSpec, load_scenario
from sim.world import World

ema = pytest.importorskip("ema_workbench")
# Narrow filters for what the library itself emits, not sim:
# - ema_workbench warns on import that the optional ipyparallel evaluator is missing;
# - its MultiprocessingEvaluator starts a multiprocessing.Pool with the platform default
#   ("fork" on Linux, no option to change it), and Python 3.12 warns when a process with
#   threads forks. The workers only run sim's model function, which starts no threads.
pytestmark = pytest.mark.filterwarnings(
    "ignore:ipyparallel not installed:UserWarning",
    r"ignore:This process \(pid=\d+\) is multi-threaded, use of fork\(\) may lead to "
    "deadlocks:DeprecationWarning")
OUTCOMES = ["relation:USA-CHN", "trade:USA-CHN", "decision:CHN:pipeline"]


@pytest.fixture(scope="module")
def model():
    import sim.ema

    return sim.ema.model(BASELINE, outcomes=OUTCOMES)


def test_model_is_built_from_the_registries(model):
    spec = load_scenario(BASELINE)
    reg = registry(spec)
    names = [v for p in model.uncertainties for v in p.variable_name]
    assert set(names) <= set(reg) and len(names) == len(set(names))
    levers = [v for p in model.levers for v in p.variable_name]
    assert any(n.endswith(".threshold") and n in reg for n in levers)
    events = [e for e in spec.events if e.enabled]
    assert sum(n.endswith("_on") for n in levers) == len(events)
    assert not set(names) & set(levers)  # a parameter is an uncertainty or a lever
    assert {o.name for o in model.outcomes} == {
        "relation_USA_CHN", "trade_USA_CHN", "decision_CHN_pipeline",
        "relation_USA_CHN_series", "trade_USA_CHN_series", "decision_CHN_pipeline_series"}


def _sim_outcomes(model, experiments):
    """The same experiments through sim's batched engine, one call per policy."""
    from sim import outcomes as oc

    spec = load_scenario(BASELINE)
    reg = registry(spec)
    by_name = {p.name: p.variable_name[0] for p in [*model.uncertainties, *model.levers]}
    runner = model.function
    out = {o: np.empty(len(experiments)) for o in OUTCOMES}
    for _, rows in experiments.groupby("policy", sort=False):
        data = spec.model_dump()
        first = rows.iloc[0]
        for stem, idx in runner.events:
            ev = data["events"][idx]
            ev["enabled"] = bool(first[f"{stem}_on"])
            for key in MAGNITUDES:
                if ev.get(key) is not None:
                    ev[key] = _bounded(ev[key] * float(first[f"{stem}_scale"]), key)
        world = World.from_spec(ScenarioSpec.model_validate(data))
        params = {by_name[c]: rows[c].to_numpy() for c in rows.columns
                  if c in by_name and by_name[c] in reg}
        traj = simulate(world, spec.scenario.seed, np.zeros(len(rows), dtype=int), params=params)
        for o in OUTCOMES:
            out[o][rows.index.to_numpy()] = oc.parse(o).values(traj)[:, -1]
    return out


@pytest.mark.slow
@pytest.mark.parametrize("evaluator", ["SequentialEvaluator", "MultiprocessingEvaluator"])
def test_perform_experiments_equals_sims_own_runs(model, evaluator):
    from ema_workbench import MultiprocessingEvaluator, SequentialEvaluator

    from sim.ema import ident

    ev = (SequentialEvaluator(model) if evaluator == "SequentialEvaluator"
          else MultiprocessingEvaluator(model, n_processes=2))
    with ev:
        experiments, outcomes = ev.perform_experiments(scenarios=50, policies=2)
    assert len(experiments) == 100 and experiments["policy"].nunique() == 2
    ours = _sim_outcomes(model, experiments)
    for o in OUTCOMES:
        np.testing.assert_array_equal(outcomes[ident(o)], ours[o], err_msg=o)
        assert outcomes[f"{ident(o)}_series"].shape == (100, 73)
    assert np.ptp(outcomes["relation_USA_CHN"]) > 0  # the experiments differ


def test_replications_use_runs_0_to_k(model):
    from ema_workbench import SequentialEvaluator

    import sim.ema

    rep = sim.ema.model(BASELINE, outcomes=["relation:USA-CHN"], replications=3)
    with SequentialEvaluator(rep) as ev:
        _, out = ev.perform_experiments(scenarios=2, policies=1)
    v = out["relation_USA_CHN_runs"]
    assert v.shape == (2, 3) and np.ptp(v[0]) > 0  # three runs, three noise paths
