"""Benchmark of the batched engine's backends side by side: numpy (the reference) and numba.

    python bench/engine.py            # 1,000 runs x 72 months of the baseline, 7 repeats
    python bench/engine.py --quick    # 200 runs, 5 repeats (a few seconds)

Measures run-steps per second (runs × months / seconds) of the baseline on one core, in this
process: imports done and the numba kernel compiled (a warm-up call) before any timing;
medians of the repeats, CPU seconds (the cost on one core, not distorted by other load) with
wall-clock alongside. Three figures per backend:

- ``simulate``: :func:`sim.engine.simulate` as a user calls it (random numbers, the month,
  the ``(R, T+1, N, N)`` record);
- ``month``: the month alone into the trajectory (what the backend itself costs); numpy's
  random numbers drawn beforehand, numba's drawn in its kernel as always (part of its month);
- for numba, ``profile``: µs per run-step of each part of its month (random numbers, decisions
  and events, anchor, relations, trade, the rest: tanh and ties; ``month`` is their sum), of
  the kernel's Philox words alone (``philox``, part of ``random_numbers``; the rest of it is the
  normal transform), of copying one month's record into the trajectory alone (``record``;
  :meth:`sim.numba_engine.Batch.run` copies blocks of months, which costs less) and of the same
  numbers drawn in numpy (``numpy_draws``: :class:`sim.seeds.Draws`, what the numpy backend
  pays).

Targets (issue 12; benchmark, not tests): numba ≥ 2,000,000 run-steps/s, numpy ≥ 400,000.
Writes ``bench/engine_results.json`` with the machine record of bench/common.py; ``make bench``
(bench/targets.py) keeps the same record in ``bench/results.json`` instead.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from common import BASELINE, SEED, machine, repeated, script  # bench/common.py

from sim.engine import Trajectory, month, simulate
from sim.kernels import State
from sim.seeds import DECIDE, NOISE, Draws, key
from sim.spec import load_scenario
from sim.world import World

OUT = Path(__file__).resolve().parent / "engine_results.json"
TARGETS = {"numba": 2_000_000, "numpy": 400_000}


def median_rate(fn: Callable[[], Any], steps: int, repeats: int) -> dict[str, Any]:
    """Run-steps per CPU second and per wall second: medians over ``repeats`` calls."""
    t = repeated(fn, repeats)
    return {"runsteps_per_s": steps / t["cpu_s"], "runsteps_per_s_wall": steps / t["wall_s"], **t}


def drawn(world: World, runs: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every month's random numbers of runs 0..runs-1, drawn beforehand."""
    d = Draws(SEED, np.arange(runs), world.n, world.months)
    return [tuple(a.copy() for a in d.month(t)) for t in range(world.months)]


def month_only(world: World, runs: int, backend: str, draws: list) -> Callable[[], None]:
    """One batch of ``runs`` runs through every month into a trajectory, numpy's random numbers
    given (``draws``), numba's drawn in its kernel."""
    traj = Trajectory.empty(world, SEED, np.arange(runs))

    def go() -> None:
        state = State.initial(world, runs)
        if backend == "numba":
            from sim import numba_engine as ne

            out = (traj.x, traj.imports, traj.prob, traj.fired)
            ne.Batch(world, state).run(
                key(SEED), np.arange(runs),
                lambda t0, count, *block: ne.copy_block(*block, count, t0, *out))
            return
        for t, (noise, u) in enumerate(draws):
            traj.prob[:, t], traj.fired[:, t] = month(state, world, t, noise, u)
            traj.x[:, t + 1], traj.imports[:, t + 1] = state.x, state.imports

    return go


def part(spent: dict[str, float], name: str, fn: Callable[..., Any], *args: Any) -> None:
    """``fn(*args)``, its CPU seconds added to ``spent[name]``."""
    c = time.process_time()
    fn(*args)
    spent[name] += time.process_time() - c


def profile_numba(world: World, runs: int, repeats: int) -> dict[str, float]:
    """µs per run-step of each part of the numba month (medians of ``repeats`` timings of all
    months), and of drawing the same random numbers in numpy."""
    from sim import numba_engine as ne

    n = world.n
    parts: dict[str, list[float]] = {k: [] for k in (
        "random_numbers", "philox", "decisions_and_events", "anchor", "relations", "trade",
        "rest", "month", "record")}
    p = len(world.decisions)
    traj = Trajectory.empty(world, SEED, np.arange(runs))
    k, ids = key(SEED), np.arange(runs, dtype=np.uint64)
    raw = np.empty((max(n * n, p), runs), dtype=np.uint64)
    noise, u = np.empty((n, n, runs)), np.empty((p, runs))
    for _ in range(repeats):
        batch = ne.Batch(world, State.initial(world, runs))
        ints, dpar = batch.decisions
        s, a = batch.schedule, batch.acts
        prob, fired = np.zeros((1, p, runs)), np.zeros((1, p, runs), bool)
        x, imp = np.zeros((1, n, n, runs)), np.zeros((1, n, n, runs))
        target, znew = np.empty((n, n, runs)), np.empty((n, n, runs))
        thr, gram, acc = np.empty((n, n, runs)), np.empty((n, n, runs)), np.empty(runs)
        blas = n >= ne.BLAS_N
        spent = dict.fromkeys(parts, 0.0)
        for t in range(world.months):
            S0, count0, last0 = batch.S.copy(), batch.count.copy(), batch.last.copy()
            part(spent, "philox", ne.bits, k, ids, t, NOISE, raw[:n * n])
            part(spent, "philox", ne.bits, k, ids, t, DECIDE, raw[:p])
            part(spent, "random_numbers", ne.draw_month, k, ids, t, batch.par, raw, noise, u)
            part(spent, "decisions_and_events", ne._decide, batch.S, batch.count, batch.last, t, u,
                 prob[0], fired[0], batch.par, world.gdp, ints, dpar, s.offset, s.field, s.i,
                 s.j, s.value, a.offset, a.field, a.i, a.j, a.value, batch.lag_k, batch.lag_i,
                 batch.lag_j, batch.lag_v, batch.lag_m)
            part(spent, "anchor", ne._anchor, batch.S, batch.par, batch.fixed, batch.relcap,
                 batch.consts, target, thr, gram, acc, blas)
            part(spent, "relations", ne._relations, batch.S, noise, batch.par, target, znew, gram,
                 acc, blas)
            part(spent, "trade", ne._trade, batch.S, batch.par, batch.x0_mean, target[0], target[1],
                 acc, thr)
            batch.S[:], batch.count[:], batch.last[:] = S0, count0, last0
            c = time.process_time()
            ne._month(batch.S, batch.count, batch.last, t, k, ids, prob[0], fired[0], x[0],
                      imp[0], batch.par, batch.fixed, batch.x0_mean, batch.relcap, world.gdp,
                      batch.consts, ints, dpar, s.offset, s.field, s.i, s.j, s.value,
                      a.offset, a.field, a.i, a.j, a.value, batch.lag_k, batch.lag_i,
                      batch.lag_j, batch.lag_v, batch.lag_m, blas)
            spent["month"] += time.process_time() - c
            c = time.process_time()
            ne.copy_block(x, imp, prob, fired, 1, t, traj.x, traj.imports, traj.prob, traj.fired)
            spent["record"] += time.process_time() - c
        spent["rest"] = spent["month"] - sum(spent[name] for name in (
            "random_numbers", "decisions_and_events", "anchor", "relations", "trade"))
        for name, v in spent.items():
            parts[name].append(v)
    steps = runs * world.months
    out = {name: statistics.median(v) / steps * 1e6 for name, v in parts.items()}
    draw = []
    for _ in range(repeats):
        c = time.process_time()
        d = Draws(SEED, np.arange(runs), world.n, world.months)
        for t in range(world.months):
            d.month(t)
        draw.append(time.process_time() - c)
    out["numpy_draws"] = statistics.median(draw) / steps * 1e6
    return out


def measure(quick: bool) -> dict[str, Any]:
    """Every figure of the module docstring (``quick``: 200 runs, 5 repeats)."""
    runs, repeats = (200, 5) if quick else (1000, 7)
    mach = machine()
    world = World.from_spec(load_scenario(BASELINE))
    steps = runs * world.months
    simulate(world, SEED, 8, backend="numba")  # compile (or load the cache) before timing
    draws = drawn(world, runs)
    res: dict[str, Any] = {"runs": runs, "months": world.months, "states": world.n,
                           "repeats": repeats, "quick": quick, "targets": TARGETS}
    for backend in ("numpy", "numba"):
        res[backend] = {
            "simulate": median_rate(lambda b=backend: simulate(world, SEED, runs, backend=b),
                                    steps, repeats),
            "month": median_rate(month_only(world, runs, backend, draws), steps, repeats)}
    res["numba"]["profile_us_per_runstep"] = profile_numba(world, runs, repeats)
    res["machine"] = mach
    res["note"] = ("run-steps/s per CPU second, one process, one core (BLAS on one thread); "
                   "imports and numba's compilation excluded; medians of the repeats. "
                   "'month': numpy's random numbers drawn beforehand, numba's in its kernel.")
    return res


def main(argv: list[str] | None = None) -> dict:
    return script(__doc__, measure, OUT, print_table, "200 runs, 5 repeats", argv)


def print_table(res: dict) -> None:
    print(f"baseline, {res['runs']} runs x {res['months']} months, one core "
          f"(median of {res['repeats']}; load {res['machine']['load_average_1min_at_start']:.2f})")
    print(f"{'backend':8s} {'simulate':>14s} {'month only':>14s} {'target':>12s}")
    for b in ("numpy", "numba"):
        r = res[b]
        print(f"{b:8s} {r['simulate']['runsteps_per_s']:14,.0f} "
              f"{r['month']['runsteps_per_s']:14,.0f} {TARGETS[b]:12,d}")
    print("numba month, µs per run-step: " + ", ".join(
        f"{k} {v:.3f}" for k, v in res["numba"]["profile_us_per_runstep"].items()))


if __name__ == "__main__":
    main()
