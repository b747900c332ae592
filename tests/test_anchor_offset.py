"""``[scenario] anchor_offset = "steady_start"``: the per-dyad anchor offset
(:func:`sim.kernels.anchor_offset`) makes the start a fixed point of the deterministic relation
dynamics; the numpy, numba and Mesa engines agree with it; the option validates."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SCENARIOS, design

from sim import kernels as k
from sim.engine import simulate
from sim.model import AlignmentModel
from sim.params import Params
from sim.spec import ScenarioError, load_scenario, spec_from_dict
from sim.world import World

BASELINE = SCENARIOS / "baseline.toml"
MONTHS = 24


def with_offset(spec, mode: str = "steady_start", quiet: bool = False):
    """``spec`` with ``anchor_offset = mode``; ``quiet``: no scheduled events, no policies."""
    update = {"scenario": spec.scenario.model_copy(update={"anchor_offset": mode,
                                                            "months": MONTHS})}
    if quiet:
        update["events"] = [e.model_copy(update={"enabled": False}) for e in spec.events]
        update["policies"] = [p.model_copy(update={"enabled": False}) for p in spec.policies]
    return spec.model_copy(update=update)


def quiet_params(spec, runs: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Every parameter one value per run (:func:`conftest.design`: balance and threat switched
    off in some runs), with the anchor on, noise, events and decisions off and no weight on
    the ties stock (its initial value fades: :func:`sim.kernels.anchor_offset` docstring)."""
    par = design(spec, runs, seed)
    par["anchor.enabled"] = np.ones(runs, bool)
    par["noise.enabled"] = np.zeros(runs, bool)
    par["events.enabled"] = np.zeros(runs, bool)
    par["anchor.w_ties"] = np.zeros(runs)
    for name in par:
        if name.startswith("policies.") and name.endswith(".enabled"):
            par[name] = np.zeros(runs, bool)
    return par


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_steady_start_is_a_fixed_point_without_events_and_noise(backend):
    spec = load_scenario(BASELINE)
    runs = 12
    par = quiet_params(spec, runs, seed=3)
    assert not par["balance.enabled"].all() and par["balance.enabled"].any()
    on = simulate(World.from_spec(with_offset(spec, quiet=True)), 1, runs, params=par,
                  backend=backend)
    z = np.arctanh(on.x)
    assert np.abs(z - z[:, :1]).max() <= 1e-12
    # the same runs without the offset drift: the test can tell the two apart
    off = simulate(World.from_spec(with_offset(spec, "none", quiet=True)), 1, runs, params=par,
                   backend=backend)
    assert np.abs(off.x[:, -1] - off.x[:, 0]).max() > 1e-2
    assert np.array_equal(on.x[:, 0], off.x[:, 0])  # the offset changes no start


def test_mesa_model_keeps_the_steady_start_too():
    spec = with_offset(load_scenario(BASELINE), quiet=True)
    p = Params.from_spec(spec, quiet_params(spec, 4, seed=5), runs=4)
    m = AlignmentModel(World.from_spec(spec), rng=2, run=1, params=p.row(1)).run_to_end()
    x = np.stack(m.datacollector.get_model_vars_dataframe()["x"].to_list())
    assert np.abs(np.arctanh(x) - np.arctanh(x[0])).max() <= 1e-12


def test_offset_is_the_steady_state_residual_per_run():
    """``c = z0 - z*(x0) - (α/β) B(x0)`` against the formula written out (sums over the third
    state by hand); balance off: ``z0 - z*``; anchor off or β = 0: 0."""
    spec = load_scenario(BASELINE)
    world = World.from_spec(spec)
    runs = 6
    vals = design(spec, runs, seed=7)
    vals["anchor.enabled"] = np.array([True, True, True, True, False, True])
    vals["balance.enabled"] = np.array([True, False, True, True, True, True])
    vals["anchor.rate"][5] = 0.0
    par = Params.from_spec(spec, vals, runs=runs)
    st = k.State.initial(world, runs, par)
    target = k.anchor(st.x, st.imports, st.ties, world, par)
    c = k.anchor_offset(st.z, target, st.x, par)
    n = world.n
    for r in range(runs):
        alpha, beta = vals["balance.rate"][r], vals["anchor.rate"][r]
        for i in range(n):
            for j in range(n):
                if i == j or not vals["anchor.enabled"][r] or beta == 0:
                    assert c[r, i, j] == 0.0
                    continue
                b = sum(st.x[r, i, m] * st.x[r, j, m] for m in range(n)) / (n - 2)
                pull = alpha * b if vals["balance.enabled"][r] else 0.0
                want = st.z[r, i, j] - target[r, i, j] - pull / beta
                assert abs(c[r, i, j] - want) <= 1e-12
    assert np.abs(c[:4]).max() > 1e-2  # the start is not already the anchor's steady state


def test_state_has_the_offset_only_when_asked():
    spec = load_scenario(BASELINE)
    par = Params.from_spec(spec, design(spec, 3, seed=1), runs=3)
    none = k.State.initial(World.from_spec(with_offset(spec, "none")), 3, par)
    steady = k.State.initial(World.from_spec(with_offset(spec)), 3, par)
    assert none.offset is None
    assert steady.offset is not None and steady.offset.shape == (3, none.x.shape[1],
                                                                  none.x.shape[2])


def _assert_same(a, b) -> None:
    assert np.abs(a.x - b.x).max() <= 1e-12
    assert np.abs(a.prob - b.prob).max(initial=0.0) <= 1e-12
    assert (np.abs(a.imports - b.imports) / np.maximum(1.0, np.abs(b.imports))).max() <= 1e-12
    assert np.array_equal(a.fired, b.fired)


def test_numpy_numba_and_mesa_agree_with_the_offset_and_events():
    spec = with_offset(load_scenario(BASELINE))
    world = World.from_spec(spec)
    runs = 8
    vals = design(spec, runs, seed=11)
    ref = simulate(world, 4, runs, params=vals, batch=5)
    fast = simulate(world, 4, runs, params=vals, batch=5, backend="numba")
    _assert_same(fast, ref)
    assert ref.fired.any()
    p = Params.from_spec(spec, vals, runs=runs)
    for run in (0, 6):
        m = AlignmentModel(world, rng=4, run=run, params=p.row(run)).run_to_end()
        x = np.stack(m.datacollector.get_model_vars_dataframe()["x"].to_list())
        assert np.abs(x - ref.x[run]).max() <= 1e-12
    # the offset changes the runs (same draws, same noise), and events still move relations
    plain = simulate(World.from_spec(with_offset(load_scenario(BASELINE), "none")), 4, runs,
                     params=vals, batch=5)
    assert np.abs(plain.x[:, -1] - ref.x[:, -1]).max() > 1e-3
    quiet = simulate(World.from_spec(with_offset(load_scenario(BASELINE), quiet=True)), 4, runs,
                     params=vals, batch=5)
    usa, chn = world.idx("USA"), world.idx("CHN")
    shocked = vals["events.enabled"]  # the May 2024 tariffs land in month 0
    assert shocked.any()
    assert np.abs(quiet.x[shocked, 1, usa, chn] - ref.x[shocked, 1, usa, chn]).min() > 1e-3


@pytest.mark.parametrize("value", ["steady", "", True, 1])
def test_anchor_offset_bad_value_is_one_clear_error(value):
    data = {"scenario": {"name": "t", "title": "t", "start": "2024-01", "months": 2,
                         "anchor_offset": value},
            "states": [{"id": s, "name": s, "capability": 0.1, "gdp": 1.0, "ideal_point": 0.0}
                       for s in ("AAA", "BBB", "CCC")]}
    with pytest.raises(ScenarioError) as err:
        spec_from_dict(data, "t.toml")
    msg = str(err.value)
    assert msg.startswith("t.toml at scenario.anchor_offset: got ")
    assert 'expected one of "none", "steady_start"' in msg
    assert msg.endswith('(did you mean "steady_start"?)') == (value == "steady")  # a near miss


def test_anchor_offset_defaults_to_none():
    """Off unless a scenario asks: the histories (the calibration's) keep the anchor as is."""
    data = {"scenario": {"name": "t", "title": "t", "start": "2024-01", "months": 2},
            "states": [{"id": s, "name": s, "capability": 0.1, "gdp": 1.0, "ideal_point": 0.0}
                       for s in ("AAA", "BBB", "CCC")]}
    assert spec_from_dict(data).scenario.anchor_offset == "none"
    for name in ("history_2010_2024", "history_2014_2024"):
        assert load_scenario(SCENARIOS / f"{name}.toml").scenario.anchor_offset == "none"


def test_offset_absorbs_the_weights_of_inputs_constant_over_a_run():
    """With the steady start, the anchor's level terms (b, w_I Ã, w_L L: constant over a run)
    cancel against the offset up to rounding; the weights of inputs that move (trade) do not."""
    spec = with_offset(load_scenario(BASELINE))
    world = World.from_spec(spec)
    base = Params.from_spec(spec).values
    names = ("anchor.bias", "anchor.w_ideology", "anchor.w_alliance", "anchor.w_trade")
    vals = {n: np.full(len(names) + 1, base[n]) for n in names}
    for run, n in enumerate(names, 1):
        vals[n][run] = base[n] * 1.5 + 0.1
    traj = simulate(world, 3, np.zeros(len(names) + 1, int), params=vals)
    gap = [float(np.abs(traj.x[r] - traj.x[0]).max()) for r in range(1, len(names) + 1)]
    assert max(gap[:3]) <= 1e-12 and gap[3] > 1e-6, gap
