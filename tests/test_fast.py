"""The numba backend (sim.numba_engine) against the numpy reference: every shipped scenario,
per-run parameter draws and a design of the scenario's uncertainties give the same trajectories
to rounding and the same decisions; its own exp/log/tanh agree with numpy's; asking for it
without numba installed gives one clear error."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from conftest import SCENARIOS, design

from sim import numba_engine as ne
from sim import seeds
from sim.engine import BackendError, simulate
from sim.spec import load_scenario
from sim.uncertainty import make_design
from sim.world import World

SHIPPED = sorted(SCENARIOS.glob("*.toml"))
TOL = 1e-12


def assert_same(a, b, where: str) -> None:
    """x and prob to 1e-12; imports (USD bn/yr, up to ~10^3) to 1e-12 relative to their size;
    every decision identical."""
    for f in ("x", "prob"):
        assert np.abs(getattr(a, f) - getattr(b, f)).max(initial=0.0) <= TOL, (where, f)
    scale = np.maximum(1.0, np.abs(b.imports))
    assert (np.abs(a.imports - b.imports) / scale).max() <= TOL, (where, "imports")
    assert np.array_equal(a.fired, b.fired), (where, "fired")


def both(world: World, seed: int, runs: int, params=None, batch: int | None = None):
    return [simulate(world, seed, runs, batch=batch, params=params, backend=b)
            for b in ("numpy", "numba")]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_numba_equals_numpy_on_every_shipped_scenario(path):
    world = World.from_spec(load_scenario(path))
    ref, fast = both(world, 11, 8, batch=5)  # two batches, the second short
    assert_same(fast, ref, path.stem)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_numba_equals_numpy_with_every_parameter_drawn_per_run(path):
    """Every registered parameter one value per run (switches mostly on, numpy's special
    exponents in run 0); the runs must fire some decisions for the test to mean anything."""
    spec = load_scenario(path)
    ref, fast = both(World.from_spec(spec), 5, 10, params=design(spec, 10, seed=len(path.stem)))
    assert_same(fast, ref, path.stem)
    assert ref.fired.any() or not ref.world.decisions


def test_numba_equals_numpy_on_a_design_of_the_scenarios_uncertainties():
    spec = load_scenario(SCENARIOS / "baseline.toml")
    dsg = make_design(spec, draws=6, runs_per_draw=2, seed=3)
    par = dsg.params_for(spec)
    assert par is not None and par.per_run
    ref, fast = both(World.from_spec(spec), dsg.seed, dsg.runs, params=par)
    assert_same(fast, ref, "design")


def test_lane_maths_agree_with_numpy():
    """exp, expm1, log, log1p, pow and tanh of the kernel, over the ranges the model meets,
    within a few units in the last place of numpy's."""
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-700, 700, 2000), rng.uniform(-1, 1, 2000),
                        rng.normal(0, 1e-6, 200), [0.0, -0.0, 1e-300, 700.0]])
    pos = np.concatenate([np.exp(rng.uniform(-690, 690, 2000)), rng.uniform(0.5, 2, 2000),
                          [1.0, 2.0, 0.5, np.sqrt(2), 1e-300]])
    small = np.concatenate([rng.uniform(-0.99, 10, 2000), rng.normal(0, 1e-9, 200), [0.0]])

    def ulps(got, want):
        return np.max(np.abs(got - want) / np.spacing(np.maximum(np.abs(want), 1e-300)))

    assert ulps(np.array([ne.vexp(v) for v in x]), np.exp(x)) <= 4
    assert ulps(np.array([ne.vexpm1(v) for v in x[x < 700]]), np.expm1(x[x < 700])) <= 4
    assert ulps(np.array([ne.vlog(v) for v in pos]), np.log(pos)) <= 2
    assert ulps(np.array([ne.vlog1p(v) for v in small]), np.log1p(small)) <= 4
    assert ulps(np.array([ne.vtanh(v) for v in x]), np.tanh(x)) <= 4
    b, e = rng.uniform(0.01, 100, 500), rng.uniform(-3, 3, 500)
    e[:5] = (-1.0, 0.0, 0.5, 1.0, 2.0)
    assert ulps(np.array([ne.vpow(u, v) for u, v in zip(b, e, strict=True)]), b**e) <= 64
    assert ne.vexp(-np.inf) == 0.0 and ne.vpow(1.0, -2.3) == 1.0


def test_numba_backend_without_numba_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba now raises ImportError
    monkeypatch.delitem(sys.modules, "sim.numba_engine")
    world = World.from_spec(load_scenario(SCENARIOS / "baseline.toml"))
    with pytest.raises(BackendError, match=r"pip install sim\[fast\]"):
        simulate(world, 0, 2, backend="numba")
    assert simulate(world, 0, 2).x.shape[0] == 2  # numpy needs no numba


def test_unknown_backend_is_an_error():
    world = World.from_spec(load_scenario(SCENARIOS / "baseline.toml"))
    with pytest.raises(ValueError, match="backend must be one of"):
        simulate(world, 0, 1, backend="fortran")


def test_numba_engine_through_ensembles_streams_and_workers():
    """``engine="numba"`` reaches the backend from run_ensemble (in place and in workers) and
    from the streamed statistics: the same numbers as the numpy engine within 1e-12."""
    from sim.ensemble import run_ensemble, run_stats

    world = World.from_spec(load_scenario(SCENARIOS / "baseline.toml"))
    ref = run_ensemble(world, 4, 300, engine="batched", progress=False)
    for workers in (1, 2):
        fast = run_ensemble(world, 4, 300, engine="numba", chunk=100, workers=workers,
                            progress=False)
        assert_same(fast, ref, f"run_ensemble workers={workers}")
    s_ref = run_stats(world, 4, 500, engine="batched")
    s_fast = run_stats(world, 4, 500, engine="numba", workers=2, chunk=250)
    for f in ("relation_mean", "relation_sd", "prob_mean"):
        assert np.abs(getattr(s_fast, f) - getattr(s_ref, f)).max() <= 1e-11, f
    assert np.array_equal(s_fast.fired_share, s_ref.fired_share)


def test_numba_engine_in_the_explorations():
    from sim.explore.runner import outcome_values

    world = World.from_spec(load_scenario(SCENARIOS / "baseline.toml"))
    args = (world, 2, np.arange(40), None, ["relation:USA-CHN", "relation:CHN-RUS"], [12, 72])
    ref = outcome_values(*args)
    fast = outcome_values(*args, engine="numba")
    assert np.abs(fast - ref).max() <= TOL and np.ptp(ref[:, 0, 1]) > 0
    with pytest.raises(ValueError, match="one of batched, numba"):
        outcome_values(*args, engine="mesa")


def test_cli_engine_numba_without_numba_is_bad_input(monkeypatch, tmp_path, capsys):
    from sim.cli import main

    monkeypatch.setitem(sys.modules, "numba", None)
    monkeypatch.delitem(sys.modules, "sim.numba_engine")
    out = tmp_path / "out"
    code = main(["run", "baseline", "--engine", "numba", "--runs", "4", "--out", str(out)])
    assert code == 2 and not out.exists()
    assert "pip install sim[fast]" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["baseline", "tariff_escalation"])
def test_numba_runs_do_not_depend_on_their_batch(name):
    """Within the numba engine a run is the same bits whatever batch it runs in (lanes are
    independent), so chunks and workers cannot change its results."""
    world = World.from_spec(load_scenario(SCENARIOS / f"{name}.toml"))
    whole = simulate(world, 7, 37, batch=37, backend="numba")
    small = simulate(world, 7, 37, batch=5, backend="numba")
    tail = simulate(world, 7, np.arange(20, 37), backend="numba")
    for f in ("x", "imports", "prob", "fired"):
        assert np.array_equal(getattr(whole, f), getattr(small, f)), f
        assert np.array_equal(getattr(whole, f)[20:], getattr(tail, f)), f


def test_numba_with_blas_products_equals_numpy_on_a_large_world(tmp_path, monkeypatch):
    """From ne.BLAS_N states on the two matrix products go to BLAS run by run: still numpy's
    numbers to 1e-12 with the same decisions, the same as the compiled loops, and a run's bits
    do not depend on its batch."""
    from test_large_worlds import synthetic

    n = ne.BLAS_N + 4
    path = tmp_path / "large.toml"
    path.write_text(synthetic(n, months=12))
    world = World.from_spec(load_scenario(path))
    par = design(load_scenario(path), 3, seed=4)
    ref, fast = both(world, 9, 3, params=par, batch=2)
    assert_same(fast, ref, "large")
    alone = simulate(world, 9, np.arange(2, 3), params={k: v[2:] for k, v in par.items()},
                     backend="numba")
    for f in ("x", "imports", "prob", "fired"):
        assert np.array_equal(getattr(fast, f)[2:], getattr(alone, f)), f
    monkeypatch.setattr(ne, "BLAS_N", n + 1)  # the same runs with the compiled loops
    loops = simulate(world, 9, 3, params=par, batch=2, backend="numba")
    assert_same(loops, fast, "loops")


# ----------------------------------------------------------------------------- random numbers
# The kernel computes sim.seeds' numbers itself: raw Philox words, uniforms and normals must be
# the same bits, whatever the key, run id (up to 2**64 - 1), month, stream tag or width.

RUN_IDS = np.array([0, 1, 7, 999_999, 2**40 + 3, 2**62, 2**63 - 2, 2**63 - 1, 2**63,
                    2**63 + 12_345, 2**64 - 1], dtype=np.uint64)


def test_kernel_philox_words_equal_seeds_over_keys_runs_months_tags_and_widths():
    rng = np.random.default_rng(12)
    keys = np.vstack([rng.integers(0, 2**64, size=(4, 2), dtype=np.uint64),
                      np.array([[0, 0], [2**64 - 1, 2**64 - 1]], dtype=np.uint64)])
    runs = np.concatenate([RUN_IDS, rng.integers(0, 2**64, size=9, dtype=np.uint64)])
    for k in keys:
        for month in (0, 1, 71, 179, 2**31 + 5):
            for tag, width in ((0, 36), (1, 16), (0, 37), (1, 6), (2**40 + 1, 3), (5, 1)):
                got = ne.bits(k, runs, month, tag, np.empty((width, runs.size), np.uint64))
                want = seeds.bits(k, runs, np.full(runs.size, month, np.uint64), tag, width)
                assert np.array_equal(got, want.T), (k, month, tag, width)


def test_kernel_uniforms_and_normals_equal_seeds_bit_for_bit():
    """Random words, the extremes, and words whose uniform sits at either side of each branch
    of scipy's ndtri (|u - ½| = ½ - e⁻², u = e⁻³² on both tails)."""
    rng = np.random.default_rng(13)
    edges = np.array([np.exp(-2), 1 - np.exp(-2), np.exp(-32), 1 - np.exp(-32), 0.5])
    near = (np.floor(edges * 2.0**52).astype(np.uint64)[:, None]
            + np.arange(-3, 4).astype(np.int64).astype(np.uint64)[None, :]) << np.uint64(12)
    x = np.concatenate([rng.integers(0, 2**64, size=200_000, dtype=np.uint64), near.ravel(),
                        np.array([0, 1, 4095, 4096, 2**63, 2**64 - 4096, 2**64 - 1],
                                 dtype=np.uint64)])
    x = x[: x.size // 4 * 4].reshape(-1, 4)  # (W, R) with W·R words
    u = ne.uniforms(x, np.empty(x.shape))
    assert np.array_equal(u, seeds.uniform(x))
    n = 2
    for lo in range(0, x.shape[0] - n * n + 1, n * n):
        block = x[lo:lo + n * n]
        z = ne.normals(block, np.empty((n, n, block.shape[1])))
        assert np.array_equal(z.reshape(n * n, -1), seeds.normal(block)), lo
    assert (u > 0).all() and (u < 1).all()


def test_kernel_month_draw_equals_draws_off_the_diagonal():
    """:func:`sim.numba_engine.draw_month` gives :class:`sim.seeds.Draws`' numbers in the
    run-innermost layout (noise off the diagonal, the first P uniforms), and skips the noise
    when no run has it switched on."""
    n, p, runs = 6, 6, np.array([3, 0, 2**63 - 1, 41], dtype=np.int64)
    ids = runs.astype(np.uint64)
    draws = seeds.Draws(9, runs, n, 13)
    par = np.ones((len(ne.PAR), runs.size))
    raw = np.empty((n * n, runs.size), np.uint64)
    off = ~np.eye(n, dtype=bool)
    for t in (0, 12, 5):
        noise, u = np.full((n, n, runs.size), np.nan), np.empty((p, runs.size))
        ne.draw_month(seeds.key(9), ids, t, par, raw, noise, u)
        want_noise, want_u = draws.month(t)
        assert np.array_equal(np.moveaxis(noise, -1, 0)[:, off], want_noise[:, off])
        assert np.array_equal(u.T, want_u[:, :p])
        assert (np.diagonal(noise, axis1=0, axis2=1) == 0).all()
    par[ne.NOISE_ON] = 0.0
    noise = np.full((n, n, runs.size), np.nan)
    ne.draw_month(seeds.key(9), ids, 3, par, raw, noise, u)
    assert np.isnan(noise).all() and np.array_equal(u.T, draws.month(3)[1][:, :p])


def test_numba_backend_draws_no_numbers_in_numpy(monkeypatch):
    """The numba path computes its numbers in the kernel: with sim.seeds' numpy generator
    broken it still runs and still equals the numpy backend run beforehand, for run ids up
    to 2**63 - 1."""
    import sim.engine
    import sim.seeds

    world = World.from_spec(load_scenario(SCENARIOS / "baseline.toml"))
    runs = np.array([0, 5, 2**62 + 1, 2**63 - 2, 2**63 - 1])
    ref = simulate(world, 17, runs, batch=3)

    def broken(*args, **kwargs):
        raise AssertionError("numpy random numbers drawn on the numba path")

    for name in ("philox", "bits", "draw", "normal", "uniform"):
        monkeypatch.setattr(sim.seeds, name, broken)
    monkeypatch.setattr(sim.engine, "Draws", broken)
    fast = simulate(world, 17, runs, batch=3, backend="numba")
    assert_same(fast, ref, "large run ids")
    assert ref.fired.any()
