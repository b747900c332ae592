"""The Mesa model: construction, stepping, data collection, decisions acting as events."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BASELINE, SMALL

from sim.engine import simulate
from sim.model import AlignmentModel
from sim.spec import load_scenario
from sim.world import World


def test_default_model_builds_and_steps():
    m = AlignmentModel()
    assert len(m.agents) == 6 and m.world.spec.scenario.name == "baseline"
    m.run_for(3)
    df = m.datacollector.get_model_vars_dataframe()
    assert list(df["step"]) == [0, 1, 2, 3]
    agents = m.datacollector.get_agent_vars_dataframe()
    assert len(agents) == 4 * 6
    assert agents["mean_relation_out"].between(-1, 1).all()


def test_run_to_end_reaches_horizon_and_stays_bounded():
    m = AlignmentModel(BASELINE, rng=5).run_to_end()
    assert m.time == 72
    assert np.abs(m.state.x).max() <= 1 and (m.state.imports >= 0).all()


def test_same_seed_same_run_different_run_differs():
    a = AlignmentModel(BASELINE, rng=5, run=0).run_to_end().state.x
    b = AlignmentModel(BASELINE, rng=5, run=0).run_to_end().state.x
    c = AlignmentModel(BASELINE, rng=5, run=1).run_to_end().state.x
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_model_equals_batched_engine_on_baseline():
    world = World.from_spec(load_scenario(BASELINE))
    traj = simulate(world, 9, [0, 4])
    for k, run in enumerate([0, 4]):
        m = AlignmentModel(world, rng=9, run=run).run_to_end()
        x = np.stack(m.datacollector.get_model_vars_dataframe()["x"].to_list())
        assert np.abs(x - traj.x[k]).max() <= 1e-12


def test_decision_has_the_effect_of_the_same_scheduled_event(write_scenario):
    """A policy that surely fires in month 0 equals the scenario with that event scheduled."""
    policy = write_scenario(SMALL + """
[[policies]]
rule = "grant_ask"
actor = "CHN"
partner = "RUS"
ask = "military_hardware"
hazard = 1.0
threshold = -5.0
temperature = 0.01
""", "policy.toml")
    event = write_scenario(SMALL + """
[[events]]
type = "military_aid"
date = "2024-01"
actor = "CHN"
target = "RUS"

[[policies]]
rule = "grant_ask"
actor = "CHN"
partner = "RUS"
ask = "military_hardware"
hazard = 0.0
""", "event.toml")
    mp = AlignmentModel(policy, rng=1)
    me = AlignmentModel(event, rng=1)
    mp.run_for(1)
    me.run_for(1)
    assert mp.agent_by_id["CHN"].acted == ["CHN:military_hardware"]
    assert mp.fired[0, 0] and not me.fired[0, 0]
    for name in ("x", "ties", "support", "imports", "tau"):
        assert np.allclose(getattr(mp.state, name), getattr(me.state, name)), name


def test_each_mechanism_can_be_switched_off(write_scenario):
    text = SMALL + "\n".join(f"[mechanisms.{m}]\nenabled = false\n" for m in
                             ("balance", "anchor", "threat", "events", "trade", "noise"))
    m = AlignmentModel(write_scenario(text), rng=1).run_to_end()
    assert np.array_equal(m.state.x[0], m.world.x0)
    assert np.array_equal(m.state.imports[0], m.world.imports0)


def test_mesa_future_warnings_are_errors():
    import mesa

    with pytest.raises(FutureWarning):  # Mesa's own deprecation of seed=, made an error
        mesa.Model(seed=1)
