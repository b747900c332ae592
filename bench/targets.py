"""The targets of issue 12 ("Fast engine") measured side by side in one run: ``make bench``.

    python bench/targets.py            # full sizes (about 10 minutes on 2 free cores)
    python bench/targets.py --quick    # about 2 minutes; smaller sizes, scaled up and labelled

Every figure is timed after its imports and a warm-up call (Mesa imported, numba's kernel
compiled or loaded from its cache, the workers' forkserver started), as the median of its
repeats. One-core rates are run-steps (one run advanced one month) per CPU second of this
process (the cost on one core, little distorted by other load; BLAS on one thread), wall-clock
alongside; figures with workers are wall-clock, and each call pays its own pool start-up, as a
user's call does. The 1-, 5- and 15-minute load averages are recorded before and after each
figure (two shared cores: a 1-minute load above about 1 means the 2-worker figures did not
have two free cores).

Rows (measured value, target, met, and for each a "limit" computed from measured parts):

- ``numba_rate``, ``numpy_rate``: the baseline through :func:`sim.engine.simulate` on one core;
  the parts are the random numbers (time inside ``Draws.month`` during the call, wherever the
  backend asks for them), recording the ``(R, T+1, N, N)`` trajectory (``simulate`` minus
  :func:`sim.engine.advance` into a recorder that keeps nothing) and the month (the rest).
- ``mesa_ratio``: numba's run-steps/s over the Mesa model's (:func:`sim.ensemble.simulate_mesa`)
  on the baseline; on exactly Mesa's runs alongside (they agree within 1e-12, checked).
- ``n193_numba``, ``n193_numpy``: a synthetic world of 193 states (:func:`common.synthetic_world`:
  trade between ~30% of pairs, events, policies), 100 runs x 120 months through
  :func:`sim.ensemble.run_stats` with ``workers=2``, as ``sim run`` streams a world this large.
- ``stream_seconds``, ``stream_memory``: 1,000,000 runs of the baseline through
  :func:`sim.api.stream` (``sim run baseline --stream --runs 1000000 --runs-per-draw 100
  --workers 2``: 10,000 draws of the declared uncertainty, 100 runs each) in a fresh process;
  memory: the peak over the run of the summed
  proportional set size (PSS: shared pages split between the processes sharing them) of that
  process and all its descendants (forkserver, workers), sampled from ``/proc`` every 50 ms.
- ``speedup_2_workers``: the same streamed ensemble (:func:`sim.ensemble.run_stats`) on 1 and 2
  workers.
- ``sobol_seconds``: the Sobol design of bench/explore.py (12 factors, N = 1024, 4 replicates:
  57,344 runs) on 2 workers, its Morris screen timed apart.

Also folded in: bench/engine.py (the numba month's parts) and bench/params.py (per-run
parameters, issue 9). ``--quick`` measures fewer runs and scales the seconds up linearly to the
target's size (labelled "scaled"; memory is not scaled); the full run does the same for a figure
that would take longer than its time budget (:data:`FULL`), so it stays within about 15 minutes
while the engine is far from its targets. Writes ``bench/results.json`` (every
figure, date, commit, load, CPUs, versions) and, in full mode, ``bench/explore_results.json``
(read by docs/make_explore.py).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from common import BASELINE, SEED, baseline, load, machine, medians, synthetic_world, timed
from threadpoolctl import threadpool_limits

import sim.engine as engine_module
from sim.engine import BackendError, advance, numba_backend, simulate
from sim.ensemble import run_ensemble, run_stats, simulate_mesa, stats_block
from sim.world import World

OUT = Path(__file__).resolve().parent / "results.json"
FULL = {"runs": 5000, "repeats": 5, "mesa_runs": 100, "mesa_repeats": 3, "n193_runs": 100,
        "stream_runs": 1_000_000, "speedup_runs": 100_000, "speedup_repeats": 3,
        "sobol_quick": False, "budget_n193": 60, "budget_stream": 150, "budget_speedup": 25}
"""Full sizes; ``budget_*``: wall seconds a figure may take (N = 193: per backend; speedup: per
1-worker call) before fewer runs are timed and scaled (labelled), so that ``make bench`` stays
within about 15 minutes while the engine is far from its targets."""
QUICK = {"runs": 1000, "repeats": 3, "mesa_runs": 5, "mesa_repeats": 3, "n193_runs": 2,
         "stream_runs": 10_000, "speedup_runs": 6_000, "speedup_repeats": 3,
         "sobol_quick": True, "budget_n193": None, "budget_stream": None, "budget_speedup": None}
N_LARGE, MONTHS_LARGE, RUNS_LARGE = 193, 120, 100
STREAM_RUNS, SOBOL_RUNS = 1_000_000, 57_344
SAMPLE_SECONDS = 0.05
PROBE_RUNS = 10_000
RUNS_PER_DRAW = 100
"""The streamed ensemble's design: runs / 100 parameter draws of 100 runs each (``sim run
--stream --runs-per-draw 100``). With one run per draw (the default for ``--runs`` alone) a
million runs would draw a million rows of the baseline's 78 declared parameters: 624 MB of
draws before any run, and a draws.csv of about 1.5 GB."""


def within(runs: int, seconds_per_run: float, budget: float | None, unit: int) -> int:
    """The runs to time: ``runs``, or, if they would take longer than ``budget`` seconds at
    ``seconds_per_run``, as many whole ``unit``s as fit (at least one unit)."""
    if budget is None or runs * seconds_per_run <= budget:
        return runs
    return max(unit, int(budget / seconds_per_run) // unit * unit)


@dataclass
class Row:
    """One target: measured ``value`` in ``unit`` against ``target`` (``higher`` better or
    lower), ``detail`` (sizes, repeats, scaling), ``limit`` (what bounds it, from measured
    parts), the load averages before and after and the wall seconds its figure took (warm-up
    included)."""

    key: str
    measure: str
    value: float | None
    unit: str
    target: float
    higher: bool
    detail: str = ""
    limit: str = ""
    scaled: bool = False
    load_before: list[float] = field(default_factory=list)
    load_after: list[float] = field(default_factory=list)
    figure_seconds: float | None = None

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        return self.value >= self.target if self.higher else self.value <= self.target

    def record(self) -> dict[str, Any]:
        return {**asdict(self), "met": self.met}


def has_numba() -> bool:
    try:
        numba_backend()
    except BackendError:
        return False
    return True


class Discard:
    """A recorder (:class:`sim.engine.Recorder`) that keeps nothing."""

    def record(self, *args: Any) -> None:
        pass


def random_number_seconds(fn: Callable[[], Any]) -> tuple[float, float | None]:
    """(CPU seconds of ``fn()``, CPU seconds spent inside ``Draws.month`` during it, or None
    if the engine never asked :class:`sim.seeds.Draws` for a month, i.e. draws them itself)."""
    base = getattr(engine_module, "Draws", None)
    spent, calls = [0.0], [0]
    if base is None:
        return timed(fn)[1], None

    class Timed(base):  # type: ignore[misc, valid-type]
        def month(self, t: int) -> Any:
            c = time.process_time()
            out = super().month(t)
            spent[0] += time.process_time() - c
            calls[0] += 1
            return out

    engine_module.Draws = Timed
    try:
        total = timed(fn)[1]
    finally:
        engine_module.Draws = base
    return total, (spent[0] if calls[0] else None)


# ----------------------------------------------------------------------------- one core
def one_core(world: World, backend: str, runs: int, repeats: int) -> dict[str, Any]:
    """Run-steps/s of ``simulate`` on ``backend`` and µs per run-step of its parts (medians of
    ``repeats``, CPU seconds; ``simulate`` and the parts' run interleaved)."""
    ids = np.arange(runs)
    simulate(world, SEED, 8, backend=backend)  # compile / warm up
    sim_wall, sim_cpu, bare, draws = [], [], [], []
    for _ in range(repeats):
        w, c, _ = timed(lambda: simulate(world, SEED, runs, backend=backend))
        sim_wall.append(w)
        sim_cpu.append(c)
        total, rand = random_number_seconds(
            lambda: advance(world, SEED, ids, None, Discard(), 0, runs, None, backend))
        bare.append(total)
        if rand is not None:
            draws.append(rand)
    steps = runs * world.months
    us = 1e6 / steps
    cpu, no_record = statistics.median(sim_cpu), statistics.median(bare)
    rand = statistics.median(draws) * us if draws else None
    return {"backend": backend, "runs": runs, "months": world.months, "repeats": repeats,
            "runsteps_per_s": steps / cpu,
            "runsteps_per_s_wall": steps / statistics.median(sim_wall),
            "runsteps_per_s_no_record": steps / no_record,
            "us_per_runstep": cpu * us, "us_random_numbers": rand,
            "us_recording": (cpu - no_record) * us, "us_month": no_record * us - (rand or 0.0),
            "cpu_seconds": sim_cpu, "wall_seconds": sim_wall,
            "cpu_seconds_no_record": bare, "cpu_seconds_random_numbers": draws}


def rate_limit(r: dict[str, Any], target: float) -> str:
    rand = ("inside the kernel" if r["us_random_numbers"] is None
            else f"{r['us_random_numbers']:.2f}")
    return (f"{r['us_per_runstep']:.2f} µs/run-step = random numbers {rand} + month "
            f"{r['us_month']:.2f} + recording the trajectory {r['us_recording']:.2f}; "
            f"the target needs ≤ {1e6 / target:.2f}")


# ----------------------------------------------------------------------------- Mesa
def mesa(world: World, runs: int, repeats: int, fast: str) -> dict[str, Any]:
    """Run-steps/s of the Mesa model on runs 0..runs-1, and of ``fast`` on the same runs."""
    simulate_mesa(world, SEED, 1)  # imports Mesa
    ref = simulate_mesa(world, SEED, runs)
    same = simulate(world, SEED, runs, backend=fast)
    diff = max(float(np.abs(getattr(ref, f).astype(float) - getattr(same, f)).max(initial=0))
               for f in ("x", "imports", "prob", "fired"))
    m = medians({"mesa": lambda: simulate_mesa(world, SEED, runs),
                 "same": lambda: simulate(world, SEED, runs, backend=fast)}, repeats)
    steps = runs * world.months
    return {"runs": runs, "repeats": repeats, "max_abs_difference": diff,
            "mesa_runsteps_per_s": steps / m["mesa"]["cpu"],
            "mesa_us_per_runstep": m["mesa"]["cpu"] / steps * 1e6,
            "same_runs_runsteps_per_s": steps / m["same"]["cpu"],
            "ratio_same_runs": m["mesa"]["cpu"] / m["same"]["cpu"], "timings": m}


# ----------------------------------------------------------------------------- N = 193
def product_seconds(n: int, repeats: int = 200) -> float:
    """Median seconds of one ``X Xᵀ`` of an ``n × n`` float64 matrix on one BLAS thread (syrk)."""
    x = np.random.default_rng(0).uniform(-1, 1, (n, n))
    out = []
    with threadpool_limits(1, user_api="blas"):
        x @ x.T
        for _ in range(repeats):
            t = time.perf_counter()
            x @ x.T
            out.append(time.perf_counter() - t)
    return statistics.median(out)


def large_world(world: World, kind: str, runs: int, budget: float | None) -> dict[str, Any]:
    """Wall seconds of ``run_stats`` (2 workers) on ``runs`` runs of ``world`` (a
    :func:`common.synthetic_world`), and CPU seconds per run-month of the engine alone on one
    core (2 runs of the same world over 12 months, nothing recorded), from which fewer runs
    are chosen if ``runs`` would not fit in ``budget`` seconds (:func:`within`)."""
    backend = "numba" if kind == "numba" else "numpy"
    short = synthetic_world(world.n, 12)
    advance(short, SEED, np.arange(1), None, Discard(), 0, 1, None, backend)  # warm up
    one = timed(lambda: advance(short, SEED, np.arange(2), None, Discard(), 0, 2, None,
                                backend))[1]
    asked, runs = runs, within(runs, one / (2 * short.months) * world.months, budget, 1)
    wall, _, _ = timed(lambda: run_stats(world, SEED, runs, engine=kind, workers=2))
    return {"engine": kind, "runs": runs, "runs_asked": asked, "months": world.months,
            "states": world.n,
            "seconds": wall, "seconds_per_100_runs": wall * (RUNS_LARGE + 1) / (runs + 1),
            "engine_ms_per_run_month_one_core": one / (2 * short.months) * 1e3}


def large_limit(r: dict[str, Any], product_s: float, workers_used: int) -> str:
    months = RUNS_LARGE * MONTHS_LARGE
    prod = 2 * product_s * months / workers_used
    return (f"{r['engine_ms_per_run_month_one_core']:.2f} ms per run-month on one core "
            f"(engine alone); the two {N_LARGE}x{N_LARGE} products per run-month take "
            f"{product_s * 1e3:.3f} ms each ({N_LARGE ** 3 / product_s / 1e9:.0f} GFLOP/s), "
            f"{prod:.1f} s of the total; run_stats splits runs in blocks of "
            f"{stats_block(RUNS_LARGE)}, so "
            f"{RUNS_LARGE} runs use {workers_used} worker(s)")


# ----------------------------------------------------------------------------- streaming
def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (from /proc/PID/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            continue
    return out


def memory_kb(pids: list[int]) -> tuple[int, int]:
    """Summed (PSS, RSS) in kB of ``pids`` (from /proc/PID/smaps_rollup; gone ones skipped)."""
    pss = rss = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                    elif line.startswith("Rss:"):
                        rss += int(line.split()[1])
        except OSError:
            continue
    return pss, rss


def stream_child(runs: int, kind: str, workers: int, budget: float | None) -> None:
    """In a fresh process: warm up, then time ``sim.api.stream`` of the baseline over ``runs``
    runs (fewer if a probe of :data:`PROBE_RUNS` says they would not fit in ``budget``
    seconds); print the runs and seconds as JSON."""
    from sim.api import stream

    pss, rss = memory_kb([os.getpid()])
    # warm-up: forkserver, numba, imports
    stream(BASELINE, runs=500, runs_per_draw=RUNS_PER_DRAW, engine=kind, workers=workers)
    probe = None
    if budget is not None and runs > PROBE_RUNS:
        probe = timed(lambda: stream(BASELINE, runs=PROBE_RUNS, runs_per_draw=RUNS_PER_DRAW,
                                     engine=kind, workers=workers))[0]
    asked = runs
    if probe is not None:
        runs = within(runs, probe / PROBE_RUNS, budget, PROBE_RUNS)
    wall, cpu, _ = timed(lambda: stream(BASELINE, runs=runs, runs_per_draw=RUNS_PER_DRAW,
                                         engine=kind, workers=workers))
    print(json.dumps({"runs": runs, "runs_asked": asked, "probe_seconds": probe,
                      "seconds": wall, "parent_cpu_seconds": cpu,
                      "pss_after_imports_mb": pss / 1024, "rss_after_imports_mb": rss / 1024}))


def streamed(runs: int, kind: str, budget: float | None, workers: int = 2) -> dict[str, Any]:
    """:func:`stream_child` in a subprocess, the memory of its process tree sampled meanwhile."""
    proc = subprocess.Popen([sys.executable, __file__, "--stream-child", str(runs), kind,
                             str(workers), str(budget)], stdout=subprocess.PIPE, text=True)
    peak = {"pss": 0, "rss": 0, "samples": 0, "processes": 0}

    def sample() -> None:
        while proc.poll() is None:
            pids = tree(proc.pid)
            pss, rss = memory_kb(pids)
            peak["pss"], peak["rss"] = max(peak["pss"], pss), max(peak["rss"], rss)
            peak["processes"] = max(peak["processes"], len(pids))
            peak["samples"] += 1
            time.sleep(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample)
    sampler.start()
    out, _ = proc.communicate()
    sampler.join()
    if proc.returncode:
        raise RuntimeError(f"stream child failed ({proc.returncode})")
    res = json.loads(out.strip().splitlines()[-1])
    return {"engine": kind, "workers": workers, **res,
            "peak_pss_mb": peak["pss"] / 1024, "peak_rss_sum_mb": peak["rss"] / 1024,
            "max_processes": peak["processes"], "samples": peak["samples"],
            "memory_note": "peak over the child's life (imports and warm-up included) of the "
                           "summed PSS (and, alongside, summed RSS, which counts pages shared "
                           "by forked workers once per process) of the child and all its "
                           f"descendants, sampled every {SAMPLE_SECONDS} s from /proc"}


def speedup(world: World, runs: int, kind: str, repeats: int, budget: float | None
            ) -> dict[str, Any]:
    """Wall seconds of ``run_stats`` on 1 and 2 workers (interleaved repeats), and the pool
    start-up (a 4-run job on 2 workers); fewer runs if a 1-worker call of ``runs`` would take
    longer than ``budget`` seconds (a probe of 2,000 runs)."""
    run_stats(world, SEED, 500, engine=kind, workers=2)  # forkserver up, numba compiled
    asked = runs
    if budget is not None:
        probe = timed(lambda: run_stats(world, SEED, 2000, engine=kind, workers=1))[0]
        runs = within(runs, probe / 2000, budget, 1000)
    start = statistics.median(timed(lambda: run_ensemble(
        world, SEED, 4, engine=kind, chunk=2, progress=False, workers=2))[0] for _ in range(3))
    m = medians({"1": lambda: run_stats(world, SEED, runs, engine=kind, workers=1),
                 "2": lambda: run_stats(world, SEED, runs, engine=kind, workers=2)}, repeats)
    one, two = m["1"]["wall"], m["2"]["wall"]
    return {"runs": runs, "runs_asked": asked, "engine": kind, "repeats": repeats,
            "seconds_1_worker": one,
            "seconds_2_workers": two, "speedup": one / two, "pool_startup_seconds": start,
            "speedup_excluding_startup": one / max(two - start, 1e-9), "timings": m}


# ----------------------------------------------------------------------------- main
def figure(rows: list[Row], name: str, fn: Callable[[], Any]) -> Any:
    """``fn()`` with a progress line; the load before and after and the figure's wall seconds
    stored on the rows it adds."""
    print(f"{name} ...", flush=True)
    before, n = load(), len(rows)
    t = time.perf_counter()
    out = fn()
    after, spent = load(), time.perf_counter() - t
    for r in rows[n:]:
        r.load_before, r.load_after, r.figure_seconds = before, after, round(spent, 1)
    print(f"  {spent:.1f} s", flush=True)
    return out


def folded(name: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``fn()``, or its error (printed, kept) if it fails: the folded-in benchmarks use engine
    internals that may change."""
    print(f"{name} ...", flush=True)
    try:
        t = time.perf_counter()
        out = fn()
        print(f"  {time.perf_counter() - t:.1f} s", flush=True)
        return out
    except Exception as err:  # a diagnostic part: the targets stand without it
        traceback.print_exc()
        return {"error": f"{type(err).__name__}: {err}"}


def measure(quick: bool) -> dict[str, Any]:
    cfg = QUICK if quick else FULL
    fast = "numba" if has_numba() else "batched"
    fast_backend = "numba" if fast == "numba" else "numpy"
    res: dict[str, Any] = {"mode": "quick" if quick else "full", "machine": machine(),
                           "config": cfg, "fast_engine": fast}
    t0 = time.perf_counter()
    world = baseline()
    rows: list[Row] = []
    figs: dict[str, Any] = {}

    def rates() -> None:
        for backend, target in (("numba", 2_000_000), ("numpy", 400_000)):
            key = f"{backend}_rate"
            if backend == "numba" and fast != "numba":
                rows.append(Row(key, "baseline, one core, run-steps/s (numba)", None,
                                "run-steps/s", target, True, "numba not installed"))
                continue
            r = figs[key] = one_core(world, backend, cfg["runs"], cfg["repeats"])
            rows.append(Row(key, f"baseline, one core, run-steps/s ({backend})",
                            r["runsteps_per_s"], "run-steps/s", target, True,
                            f"simulate, {r['runs']} runs x {r['months']} months, median of "
                            f"{r['repeats']}, CPU s; wall {r['runsteps_per_s_wall']:,.0f}/s",
                            rate_limit(r, target)))

    figure(rows, "one core: simulate on each backend", rates)

    def ratio() -> None:
        m = figs["mesa"] = mesa(world, cfg["mesa_runs"], cfg["mesa_repeats"], fast_backend)
        r = figs[f"{fast_backend}_rate"]
        value = r["runsteps_per_s"] / m["mesa_runsteps_per_s"]
        rows.append(Row("mesa_ratio", f"{fast_backend} / the project's Mesa model, baseline",
                        value, "x", 500, True,
                        f"Mesa {m['mesa_runsteps_per_s']:,.0f} run-steps/s on {m['runs']} runs "
                        f"(median of {m['repeats']}); on exactly those runs "
                        f"{m['ratio_same_runs']:,.0f}x; max difference "
                        f"{m['max_abs_difference']:.1e}",
                        f"Mesa {m['mesa_us_per_runstep']:.0f} µs/run-step vs "
                        f"{r['us_per_runstep']:.2f}: 500x needs ≤ "
                        f"{m['mesa_us_per_runstep'] / 500:.2f} µs/run-step"))

    figure(rows, f"Mesa model ({cfg['mesa_runs']} runs)", ratio)

    def large() -> None:
        big = synthetic_world(N_LARGE, MONTHS_LARGE)
        prod = figs["product_seconds_193"] = product_seconds(N_LARGE)
        for kind in ([fast] if fast == "numba" else []) + ["batched"]:
            r = figs[f"n193_{kind}"] = large_world(big, kind, cfg["n193_runs"],
                                                   cfg["budget_n193"])
            name = "numba" if kind == "numba" else "numpy"
            scaled = r["runs"] != RUNS_LARGE
            used = min(2, -(-RUNS_LARGE // stats_block(RUNS_LARGE)))
            rows.append(Row(f"n193_{name}", f"N = 193, 100 runs x 120 months, 2 workers, s "
                            f"({name})", r["seconds_per_100_runs"], "s", 10, False,
                            "run_stats(workers=2)" + (f"; {r['runs']} runs timed "
                                                       f"({r['seconds']:.1f} s), scaled by "
                                                       f"101/{r['runs'] + 1} (run_stats "
                                                       "runs run 0 once more as its "
                                                       "reference)"
                                                       if scaled else ""),
                            large_limit(r, prod, used), scaled))

    figure(rows, f"N = {N_LARGE} ({cfg['n193_runs']} runs x {MONTHS_LARGE} months, 2 workers)",
           large)

    def workers() -> None:
        r = figs["speedup"] = speedup(world, cfg["speedup_runs"], fast, cfg["speedup_repeats"],
                                      cfg["budget_speedup"])
        la = load()[0]
        rows.append(Row("speedup_2_workers", "2 workers vs 1, streamed ensemble", r["speedup"],
                        "x", 1.8, True,
                        f"run_stats ({fast}), {r['runs']:,} runs, median of {r['repeats']}: "
                        f"{r['seconds_1_worker']:.2f} s -> {r['seconds_2_workers']:.2f} s",
                        f"pool start-up {r['pool_startup_seconds']:.2f} s of each 2-worker call "
                        f"({r['speedup_excluding_startup']:.2f}x without it); 1-minute load "
                        f"{la:.1f} on {os.cpu_count()} cores"))

    figure(rows, f"1 vs 2 workers ({cfg['speedup_runs']:,} runs)", workers)

    def stream_rows() -> None:
        r = figs["stream"] = streamed(cfg["stream_runs"], fast, cfg["budget_stream"])
        scale = STREAM_RUNS / r["runs"]
        scaled = scale != 1
        per = r["seconds"] * 2 / (r["runs"] * world.months) * 1e6
        eng = figs[f"{fast_backend}_rate"]["us_per_runstep"]
        sp = figs["speedup"]
        one = sp["seconds_1_worker"] / (sp["runs"] * world.months) * 1e6
        rows.append(Row("stream_seconds", "1,000,000 streamed runs of the baseline, 2 workers, s",
                        r["seconds"] * scale, "s", 60, False,
                        f"sim.api.stream ({fast}, declared uncertainty drawn per run), fresh "
                        "process, warmed up" + (f"; {r['runs']:,} runs timed "
                                                f"({r['seconds']:.1f} s), scaled x{scale:.0f}"
                                                if scaled else ""),
                        f"{per:.2f} worker-µs (wall) per run-step on 2 workers; run_stats on 1 "
                        f"worker {one:.2f} µs (speedup figure), the engine's simulate alone "
                        f"{eng:.2f} CPU-µs; 60 s needs ≤ "
                        f"{60 * 2 / (STREAM_RUNS * world.months) * 1e6:.2f}", scaled))
        rows.append(Row("stream_memory", "peak memory of that process tree, MB", r["peak_pss_mb"],
                        "MB", 1024, False,
                        f"summed PSS of the process and its descendants, sampled every "
                        f"{SAMPLE_SECONDS} s ({r['max_processes']} processes; summed RSS "
                        f"{r['peak_rss_sum_mb']:.0f} MB)" + (f"; over {r['runs']:,} runs, not "
                                                             "scaled" if scaled else ""),
                        f"one process after importing sim: {r['pss_after_imports_mb']:.0f} MB "
                        f"PSS, {r['rss_after_imports_mb']:.0f} MB RSS; {r['max_processes']} "
                        "processes at most"))

    figure(rows, f"streamed ensemble ({cfg['stream_runs']:,} runs, subprocess, 2 workers)",
           stream_rows)

    def sensitivity() -> None:
        import explore

        r = figs["sobol"] = explore.measure(cfg["sobol_quick"], 2, fast)
        if not quick:
            explore.write(r)
        s = r["sobol"]
        scale = SOBOL_RUNS / s["runs"]
        scaled = s["runs"] != SOBOL_RUNS
        one = figs[f"{fast_backend}_rate"]
        engine_s = SOBOL_RUNS * s["months"] / (2 * one["runsteps_per_s"])
        engine_wall = SOBOL_RUNS * s["months"] / (2 * one["runsteps_per_s_wall"])
        value = s["wall_seconds"] * scale
        rows.append(Row("sobol_seconds", "Sobol design of Explore (57,344 runs), 2 workers, s",
                        value, "s", 15, False,
                        f"sim.explore.sobol ({fast}), 12 factors, 4 replicates"
                        + (f"; N = {r['config']['n']}: {s['runs']:,} runs in "
                           f"{s['wall_seconds']:.1f} s, scaled x{scale:.0f}" if scaled else "")
                        + f"; Morris screen {r['screen']['seconds']:.1f} s apart",
                        f"the engine alone on 2 cores: {engine_s:.1f} s at the one-core CPU "
                        f"rate ({engine_wall:.1f} s at its wall rate under load); the rest: "
                        "design, per-run parameters, outcomes, SALib analysis, pool start-up",
                        scaled))

    figure(rows, "Sobol design (bench/explore.py)", sensitivity)
    res["engine_profile"] = folded("numba month's parts (bench/engine.py)",
                                   lambda: __import__("engine").measure(quick))
    res["params"] = folded("per-run parameters (bench/params.py)",
                           lambda: __import__("params").measure(quick))
    res["rows"] = [r.record() for r in rows]
    res["figures"] = figs
    res["load_at_end"] = load()
    res["total_seconds"] = time.perf_counter() - t0
    return res


def table(res: dict[str, Any]) -> str:
    """The rows as a readable table, with the limit under each unmet one."""
    m = res["machine"]
    lines = [f"{res['mode']} run, {m['date']}, commit {str(m['commit'])[:10]}"
             f"{' (dirty)' if m['dirty'] else ''}; {m['cpu_count']} CPUs; python {m['python']},"
             f" numpy {m['numpy']}, numba {m['numba']}; load {m['load_at_start']} at start, "
             f"{res['load_at_end']} at end; {res['total_seconds']:.0f} s"]
    width = max(len(r["measure"]) for r in res["rows"])
    for r in res["rows"]:
        v = "—" if r["value"] is None else (f"{r['value']:,.0f}" if r["value"] >= 100
                                            else f"{r['value']:.2f}")
        op = "≥" if r["higher"] else "≤"
        met = {True: "met", False: "NOT met", None: "—"}[r["met"]]
        star = " *" if r["scaled"] else ""
        la = (f"   load {r['load_before'][0]:.1f}->{r['load_after'][0]:.1f}"
              if r["load_before"] else "")
        tgt = f"{r['target']:,.0f}" if r["target"] >= 100 else f"{r['target']:g}"
        lines.append(f"  {r['measure']:<{width}}  {v:>10} {r['unit']:<11} target {op} {tgt}  "
                     f"{met}{star}{la}")
        lines.append(f"  {'':<{width}}  {r['detail']}")
        if r["met"] is False:
            lines.append(f"  {'':<{width}}  limit: {r['limit']}")
    if any(r["scaled"] for r in res["rows"]):
        lines.append("  * measured on fewer runs (--quick, or over the full run's time budget)"
                     " and scaled to the target's size")
    e = res.get("engine_profile", {})
    if "numba" in e:
        lines.append("  numba month, µs per run-step (bench/engine.py): " + ", ".join(
            f"{k} {v:.3f}" for k, v in e["numba"]["profile_us_per_runstep"].items()))
    elif "error" in e:
        lines.append(f"  bench/engine.py failed: {e['error']}")
    p = res.get("params", {})
    if "overhead" in p:
        o = p["overhead"]
        lines.append(f"  per-run parameters (issue 9): {100 * o['extra_cost']:+.1f}% "
                     f"(target ≤ +20%) over {o['runs']} runs")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (about 2 minutes)")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--stream-child", nargs=4, metavar=("RUNS", "ENGINE", "WORKERS", "BUDGET"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.stream_child:
        runs, kind, workers, budget = args.stream_child
        stream_child(int(runs), kind, int(workers), None if budget == "None" else float(budget))
        return {}
    res = measure(args.quick)
    args.out.write_text(json.dumps(res, indent=2, default=float) + "\n")
    print()
    print(table(res))
    print(f"wrote {args.out}")
    return res


if __name__ == "__main__":
    main()
