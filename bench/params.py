"""Benchmark of per-run parameters in the batched engine (issue 9).

    python bench/params.py            # full run (about a minute)
    python bench/params.py --quick    # a few seconds; smaller sizes, said in the JSON

Measures, on the baseline, in this process on one core (imports done before timing):

1. the same ensemble with the scenario's parameters (``params=None``) and with every
   registered parameter given per run (every number drawn, every switch an array of ``True``:
   the engine's slowest path); medians of ``repeats`` calls, CPU seconds. Target: per-run
   parameters cost at most 20% more.
2. a design of 1,000 parameter draws × 4 runs as one batched call (``run_ensemble(...,
   params=...)``, 4,000 runs) against the same draws as one call per draw
   (``with_values`` + ``World.from_spec`` + ``simulate`` of 4 runs), which is what the
   calibration's backtest did before (``--quick``: 100 of the draws timed, scaled to 1,000).

Writes ``bench/params_results.json`` and prints a table; ``make bench`` (bench/targets.py) keeps
the same figures in ``bench/results.json`` instead.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import SEED, baseline, machine, script  # bench/common.py

from sim.engine import simulate
from sim.ensemble import run_ensemble
from sim.params import Params, registry, with_values
from sim.world import World

OUT = Path(__file__).resolve().parent / "params_results.json"
FULL = {"runs": 2000, "repeats": 5, "draws": 1000, "runs_per_draw": 4, "loop_draws": 1000}
QUICK = {"runs": 500, "repeats": 3, "draws": 1000, "runs_per_draw": 4, "loop_draws": 100}


def draws(spec: Any, n: int, seed: int = 1) -> dict[str, np.ndarray]:
    """``n`` draws of every number of the registry, uniform within ±50% of the scenario's
    value (inside the allowed range); switches on; one-year ≤ long-run trade elasticity."""
    rng = np.random.default_rng(seed)
    base = Params.from_spec(spec).values
    out: dict[str, np.ndarray] = {}
    for name, p in registry(spec).items():
        v = base[name]
        if p.kind == "switch":
            out[name] = np.full(n, bool(v))
            continue
        half = 0.5 * (abs(v) + 0.1)
        lo, hi = max(p.lo + (1e-3 if p.lo_open else 0.0), v - half), min(p.hi, v + half)
        out[name] = (rng.integers(int(np.ceil(lo)), int(np.floor(hi)) + 1, n)
                     if p.kind == "int" else rng.uniform(lo, hi, n))
    out["trade.elasticity_one_year"] = np.minimum(out["trade.elasticity_one_year"],
                                                  out["trade.elasticity_long_run"])
    return out


def cpu(fn: Any, *args: Any, **kw: Any) -> tuple[float, float, Any]:
    """(CPU seconds of this process, wall seconds, result)."""
    c, t = time.process_time(), time.perf_counter()
    out = fn(*args, **kw)
    return time.process_time() - c, time.perf_counter() - t, out


def bench_overhead(world: World, cfg: dict) -> dict:
    runs, repeats = cfg["runs"], cfg["repeats"]
    per_run = draws(world.spec, runs)
    simulate(world, SEED, 100)  # warm up both paths
    simulate(world, SEED, 100, params={k: v[:100] for k, v in per_run.items()})
    scalar, design = [], []
    for _ in range(repeats):  # interleaved, so that load changes hit both alike
        scalar.append(cpu(simulate, world, SEED, runs)[0])
        design.append(cpu(simulate, world, SEED, runs, params=per_run)[0])
    s, d = statistics.median(scalar), statistics.median(design)
    steps = runs * world.months
    return {"runs": runs, "repeats": repeats, "parameters_per_run": len(per_run),
            "scalar_cpu_seconds": scalar, "per_run_cpu_seconds": design,
            "scalar_median_s": s, "per_run_median_s": d,
            "scalar_runsteps_per_s": steps / s, "per_run_runsteps_per_s": steps / d,
            "extra_cost": d / s - 1.0, "target_extra_cost": 0.20}


def bench_design(world: World, cfg: dict) -> dict:
    n, k = cfg["draws"], cfg["runs_per_draw"]
    table = draws(world.spec, n, seed=2)
    design = {name: np.repeat(v, k) for name, v in table.items()}  # draw d: runs 4d .. 4d+3
    one_cpu, one_wall, traj = cpu(run_ensemble, world, SEED, n * k, progress=False,
                                  params=design)
    loop = cfg["loop_draws"]

    def per_draw() -> None:
        for d in range(loop):
            spec = with_values(world.spec, {name: v[d] for name, v in table.items()})
            part = simulate(World.from_spec(spec), SEED, np.arange(d * k, d * k + k))
            if d < 3:  # the same runs as in the batched design
                assert np.abs(part.x - traj.x[d * k:d * k + k]).max() <= 1e-12

    loop_cpu, loop_wall, _ = cpu(per_draw)
    scale = n / loop
    return {"draws": n, "runs_per_draw": k, "runs": n * k, "months": world.months,
            "batched_cpu_seconds": one_cpu, "batched_wall_seconds": one_wall,
            "batched_runsteps_per_s": n * k * world.months / one_cpu,
            "loop_draws_timed": loop, "loop_cpu_seconds": loop_cpu * scale,
            "loop_wall_seconds": loop_wall * scale, "speedup": loop_cpu * scale / one_cpu}


def measure(quick: bool) -> dict[str, Any]:
    """Both figures of the module docstring (``quick``: smaller sizes)."""
    cfg = QUICK if quick else FULL
    world = baseline()
    res: dict[str, Any] = {"mode": "quick" if quick else "full", "machine": machine(),
                           "config": cfg}
    t0 = time.perf_counter()
    res["overhead"] = bench_overhead(world, cfg)
    res["design"] = bench_design(world, cfg)
    res["total_seconds"] = time.perf_counter() - t0
    return res


def report(res: dict[str, Any]) -> None:
    """Print the figures of ``res``."""
    o, d = res["overhead"], res["design"]
    print(f"{res['mode']} run; load {res['machine']['load_average_1min_at_start']:.2f} at start")
    print(f"  baseline, {o['runs']} runs, median of {o['repeats']} (CPU s): "
          f"scalar {o['scalar_median_s']:.3f} s ({o['scalar_runsteps_per_s']:,.0f} run-steps/s), "
          f"{o['parameters_per_run']} parameters per run {o['per_run_median_s']:.3f} s "
          f"({o['per_run_runsteps_per_s']:,.0f}/s): {100 * o['extra_cost']:+.1f}% (target ≤ +20%)")
    scaled = ("" if d["loop_draws_timed"] == d["draws"]
              else f" (scaled from {d['loop_draws_timed']})")
    print(f"  {d['draws']} draws x {d['runs_per_draw']} runs: one batched call "
          f"{d['batched_cpu_seconds']:.2f} CPU-s ({d['batched_runsteps_per_s']:,.0f} run-steps/s)"
          f"; one call per draw {d['loop_cpu_seconds']:.2f} CPU-s{scaled}: {d['speedup']:.1f}x")
    print(f"({res['total_seconds']:.0f} s)")


def main(argv: list[str] | None = None) -> dict:
    return script(__doc__, measure, OUT, report, "small sizes (a few seconds)", argv)


if __name__ == "__main__":
    main()
