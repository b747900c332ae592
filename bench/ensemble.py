"""Benchmark of ensembles: Mesa model vs batched engine, scaling in the number of states,
memory of streaming statistics, and two local workers.

    python bench/ensemble.py            # full run (several minutes)
    python bench/ensemble.py --quick    # < 1 minute on 2 cores; smaller sizes, said in the JSON

Prints a table and writes ``bench/results.json``. Targets (not tests): ratio ≥ 100,
≥ 2 million run-steps/s on one core for the baseline, N = 193 in ≤ 10 s, 100k runs ≤ 1 GB
peak RSS, 2 workers ≥ 1.8×. Single-process rates are per CPU-second (the cost on one core,
not distorted by other load; wall-clock rates are kept alongside); scaling, memory and worker
timings are wall-clock. The 1-minute load average at the start is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.engine import simulate  # noqa: E402
from sim.ensemble import run_ensemble, run_stats, simulate_mesa  # noqa: E402
from sim.spec import load_scenario, spec_from_dict  # noqa: E402
from sim.world import World  # noqa: E402

BASELINE = ROOT / "scenarios" / "baseline.toml"
OUT = Path(__file__).resolve().parent / "results.json"
SEED = 20240516

FULL = {"mesa_runs": 100, "batched_runs": 20_000, "scaling_runs": 100, "rss_runs": 100_000,
        "speedup_runs": 40_000}
QUICK = {"mesa_runs": 10, "batched_runs": 4_000, "scaling_runs": 10, "rss_runs": 10_000,
         "speedup_runs": 8_000}
STATES = (3, 12, 48, 193)
SCALING_MONTHS = 120


def baseline() -> World:
    return World.from_spec(load_scenario(BASELINE))


def synthetic_world(n: int, months: int = SCALING_MONTHS, seed: int = 0) -> World:
    """A random world of ``n`` states: capabilities, GDP and ideal points drawn at random,
    trade between ~30% of the pairs, a few events and three policies among the first states."""
    rng = np.random.default_rng(seed + n)
    ids = [f"S{i:03d}" for i in range(n)]
    states = [{"id": s, "name": f"State {s}", "capability": float(rng.uniform(0.001, 0.2)),
               "gdp": float(rng.uniform(0.05, 20.0)), "ideal_point": float(rng.uniform(-3, 3)),
               "reciprocity": float(rng.uniform(0.2, 0.8))} for s in ids]
    trade = {}
    for i in range(n):
        for j in range(n):
            if i != j and rng.random() < 0.3:
                trade[f"{ids[i]}->{ids[j]}"] = float(rng.uniform(0.5, 200.0))
    year = 2024
    events = [
        {"type": "tariff", "date": f"{year}-03", "actor": ids[0], "target": ids[1],
         "rate": 0.25, "coverage": 50.0},
        {"type": "visit", "date": f"{year}-05", "actor": ids[2], "target": ids[1]},
        {"type": "sanctions", "date": f"{year + 1}-01", "actor": ids[0], "target": ids[2]},
        {"type": "agreement", "date": f"{year + 2}-06", "actor": ids[1], "target": ids[2],
         "trade_bn": 20.0},
    ]
    policies = [
        {"rule": "grant_ask", "actor": ids[1], "partner": ids[2], "ask": "pipeline",
         "threshold": 0.2, "hazard": 0.02},
        {"rule": "escalate", "actor": ids[0], "target": ids[1], "watch": ids[2],
         "instrument": "tariff", "threshold": 0.8, "hazard": 0.1, "cooldown_months": 6},
        {"rule": "concede", "actor": ids[2], "partner": ids[1], "threshold": 0.3,
         "hazard": 0.03},
    ]
    spec = spec_from_dict({
        "scenario": {"name": f"synthetic_{n}", "title": f"{n} random states",
                     "start": f"{year}-01", "months": months, "seed": 1},
        "states": states, "trade": trade, "events": events, "policies": policies,
    }, source=f"<synthetic {n}>")
    return World.from_spec(spec)


def timed(fn, *args, **kw) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn(*args, **kw)
    return time.perf_counter() - t, out


def timed_cpu(fn, *args, **kw) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds of this process, result)."""
    t, c = time.perf_counter(), time.process_time()
    out = fn(*args, **kw)
    return time.perf_counter() - t, time.process_time() - c, out


def bench_engines(cfg: dict) -> dict:
    world = baseline()
    m = cfg["mesa_runs"]
    mesa_wall, mesa_s, mesa = timed_cpu(simulate_mesa, world, SEED, m)
    _, same_s, _ = timed_cpu(simulate, world, SEED, m)
    simulate(world, SEED, 200)  # warm up
    big = cfg["batched_runs"]
    batched_wall, batched_s, traj = timed_cpu(simulate, world, SEED, big)
    c = time.process_time()
    engine_seconds(world, big, max_bytes=1000 * 2 * 8 * (world.months + 1) * world.n ** 2)
    chunked_s = time.process_time() - c
    assert all(np.abs(getattr(mesa, f).astype(float) - getattr(traj, f)[:m]).max(initial=0) <= 1e-12
               for f in ("x", "imports", "prob", "fired")), "engines disagree"
    steps = world.months
    mesa_rate = m * steps / mesa_s
    batched_rate = big * steps / batched_s
    return {
        "scenario": "baseline", "months": steps,
        "mesa_runs": m, "mesa_cpu_seconds": mesa_s, "mesa_runsteps_per_s": mesa_rate,
        "mesa_runsteps_per_s_wall": m * steps / mesa_wall,
        "batched_runs": big, "batched_cpu_seconds": batched_s,
        "batched_runsteps_per_s": batched_rate,
        "batched_runsteps_per_s_wall": big * steps / batched_wall,
        "batched_runsteps_per_s_chunks_1000": big * steps / chunked_s,
        "ratio": batched_rate / mesa_rate,
        "batched_same_runs_runsteps_per_s": m * steps / same_s,
        "ratio_same_runs": mesa_s / same_s,
        "note_rates": "run-steps per CPU-second of this (single-threaded) process: the cost "
                      "on one core, unaffected by other load on the machine; *_wall: per "
                      "wall-clock second. batched_runsteps_per_s: one simulate() call "
                      "returning all batched_runs runs (an 840 MB trajectory for 20k runs); "
                      "_chunks_1000: the same runs as 1000-run simulate() calls, output "
                      "dropped (as run_stats and the workers do).",
        "note_ratio": "ratio: batched throughput on batched_runs runs (runs 0.. of the same "
                      "seed, whose first mesa_runs equal Mesa's to 1e-12) over Mesa's; "
                      "ratio_same_runs: the batched engine on exactly Mesa's runs.",
    }


def engine_seconds(world: World, runs: int, max_bytes: float = 4e8) -> float:
    """Seconds of the batched engine for runs 0..runs-1, simulated in chunks whose
    trajectories stay under ``max_bytes`` (100 runs of 193 states would need 7 GB), output
    discarded."""
    per_run = 2 * 8 * (world.months + 1) * world.n ** 2
    step = max(1, int(max_bytes // per_run))
    t = time.perf_counter()
    for lo in range(0, runs, step):
        simulate(world, 1, np.arange(lo, min(runs, lo + step)))
    return time.perf_counter() - t


def bench_scaling(cfg: dict) -> dict:
    runs, out = cfg["scaling_runs"], {}
    for n in STATES:
        world = synthetic_world(n)
        simulate(world, 1, 2)  # warm up
        secs = engine_seconds(world, runs)
        out[str(n)] = secs * 100 / runs
        print(f"  N={n:4d}: {secs:.2f} s for {runs} runs x {SCALING_MONTHS} months", flush=True)
    ns = np.array(STATES, float)
    ts = np.array([out[str(n)] for n in STATES])
    slope = float(np.polyfit(np.log(ns), np.log(ts), 1)[0])
    tail = float(np.polyfit(np.log(ns[-2:]), np.log(ts[-2:]), 1)[0])
    return {"runs": 100, "months": SCALING_MONTHS, "measured_runs": runs,
            "extrapolated": runs != 100, "seconds": out, "loglog_exponent": slope,
            "loglog_exponent_48_193": tail}


def bench_rss(cfg: dict) -> dict:
    runs = cfg["rss_runs"]
    code = ("import time\n"
            "from sim.ensemble import run_stats\n"
            "from sim.spec import load_scenario\n"
            "from sim.world import World\n"
            f"w = World.from_spec(load_scenario({str(BASELINE)!r}))\n"
            "st = lambda key: int([ln for ln in open('/proc/self/status')\n"
            "                      if ln.startswith(key)][0].split()[1])\n"
            "base = st('VmRSS')\n"
            "t = time.perf_counter()\n"
            f"s = run_stats(w, 1, {runs}, chunk=1000)\n"
            # VmHWM: this process's own peak (ru_maxrss can carry the parent's over exec)
            "print(time.perf_counter() - t, base, st('VmHWM'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    secs, base, kb = out.stdout.split()[-3:]
    return {"runs": runs, "seconds": float(secs), "peak_rss_mb": int(kb) / 1024,
            "rss_after_imports_mb": int(base) / 1024, "runsteps_per_s": runs * 72 / float(secs),
            "note": "VmHWM of a fresh process running run_stats(chunk=1000, workers=1); "
                    "rss_after_imports_mb is what importing sim (mesa, pandas, matplotlib) "
                    "costs before any run"}


def bench_workers(cfg: dict) -> dict:
    world, runs = baseline(), cfg["speedup_runs"]
    startup, x2 = timed(run_ensemble, world, 2, 4, chunk=2, progress=False, workers=2)
    assert x2.x.tobytes() == simulate(world, 2, 4).x.tobytes()
    one, one_cpu, a = timed_cpu(run_stats, world, 2, runs, chunk=1000, workers=1)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    two, parent_cpu, b = timed_cpu(run_stats, world, 2, runs, chunk=1000, workers=2)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    kids_cpu = (after.ru_utime + after.ru_stime) - (kids.ru_utime + kids.ru_stime)
    assert a.relation_mean.tobytes() == b.relation_mean.tobytes()
    return {"runs": runs, "seconds_1_worker": one, "seconds_2_workers": two,
            "speedup_2_workers": one / two,
            "pool_startup_seconds": startup,
            "speedup_2_workers_excluding_startup": one / max(two - startup, 1e-9),
            "cpu_seconds_1_worker": one_cpu,
            "cpu_seconds_2_workers": parent_cpu + kids_cpu,
            "cpu_efficiency_2_workers": one_cpu / (parent_cpu + kids_cpu),
            "ideal_speedup_2_free_cores": 2 * one_cpu / (parent_cpu + kids_cpu),
            "note": "run_stats, chunk 1000, wall time including starting the 'spawn' worker "
                    "processes (each imports sim); pool_startup_seconds: a 4-run job on 2 "
                    "workers, i.e. that fixed cost"}


def machine() -> dict:
    return {"cpu_count": os.cpu_count(), "numpy": np.__version__,
            "python": platform.python_version(), "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "load_average_1min_at_start": os.getloadavg()[0],
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE")}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (< 1 minute)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    t0 = time.perf_counter()
    res: dict[str, Any] = {"mode": "quick" if args.quick else "full", "machine": machine(),
                           "config": cfg}
    print(f"engines (Mesa {cfg['mesa_runs']} runs, batched {cfg['batched_runs']} runs) ...",
          flush=True)
    res["engines"] = bench_engines(cfg)
    print(f"scaling in N ({cfg['scaling_runs']} runs x {SCALING_MONTHS} months) ...", flush=True)
    res["n_states_scaling"] = bench_scaling(cfg)
    print(f"peak RSS of run_stats ({cfg['rss_runs']} runs, subprocess) ...", flush=True)
    res["rss"] = bench_rss(cfg)
    print(f"2 workers ({cfg['speedup_runs']} runs) ...", flush=True)
    res["workers"] = bench_workers(cfg)
    e, s, r, w = res["engines"], res["n_states_scaling"], res["rss"], res["workers"]
    res.update({
        "mesa_runsteps_per_s": e["mesa_runsteps_per_s"],
        "batched_runsteps_per_s": e["batched_runsteps_per_s"],
        "ratio": e["ratio"],
        "peak_rss_mb_100k_runs": r["peak_rss_mb"],
        "peak_rss_runs": r["runs"],
        "speedup_2_workers": w["speedup_2_workers"],
        "total_seconds": time.perf_counter() - t0,
    })
    if args.quick:
        res["quick_note"] = (f"--quick: peak_rss_mb_100k_runs measured over {r['runs']} runs, "
                             f"not 100k; n_states_scaling from {s['measured_runs']} runs "
                             "scaled to 100; fewer Mesa/batched/worker runs.")
    args.out.write_text(json.dumps(res, indent=2) + "\n")
    print_table(res)
    print(f"wrote {args.out} ({res['total_seconds']:.0f} s)")
    return res


def print_table(res: dict) -> None:
    e, s, r, w = res["engines"], res["n_states_scaling"], res["rss"], res["workers"]
    rows = [
        ("Mesa model, baseline", f"{e['mesa_runsteps_per_s']:,.0f} run-steps/s",
         f"{e['mesa_runs']} runs; wall {e['mesa_runsteps_per_s_wall']:,.0f}/s"),
        ("batched engine, baseline, 1 core", f"{e['batched_runsteps_per_s']:,.0f} run-steps/s",
         f"{e['batched_runs']} runs; wall {e['batched_runsteps_per_s_wall']:,.0f}/s "
         "(target 2,000,000)"),
        ("  in 1000-run chunks", f"{e['batched_runsteps_per_s_chunks_1000']:,.0f} run-steps/s",
         "output dropped"),
        ("ratio batched/Mesa", f"{e['ratio']:,.0f}x",
         f"same runs only: {e['ratio_same_runs']:,.0f}x (target 100)"),
    ]
    for n, secs in s["seconds"].items():
        rows.append((f"N = {n} states, 100 runs x {s['months']} months", f"{secs:.2f} s",
                     f"extrapolated from {s['measured_runs']} runs" if s["extrapolated"]
                     else ("target 10 s" if n == "193" else "")))
    rows += [
        ("log-log exponent in N", f"{s['loglog_exponent']:.2f}",
         f"{s['loglog_exponent_48_193']:.2f} between 48 and 193"),
        (f"run_stats peak RSS, {r['runs']:,} runs", f"{r['peak_rss_mb']:.0f} MB",
         f"{r['seconds']:.1f} s (target 1 GB at 100k)"),
        (f"2 workers, run_stats {w['runs']:,} runs", f"{w['speedup_2_workers']:.2f}x",
         f"{w['seconds_1_worker']:.1f} s -> {w['seconds_2_workers']:.1f} s (target 1.8x)"),
        ("  excluding pool start-up", f"{w['speedup_2_workers_excluding_startup']:.2f}x",
         f"start-up {w['pool_startup_seconds']:.1f} s"),
        ("  CPU-time bound on 2 free cores", f"{w['ideal_speedup_2_free_cores']:.2f}x",
         f"{w['cpu_seconds_1_worker']:.1f} CPU-s serial, {w['cpu_seconds_2_workers']:.1f} "
         "CPU-s on 2 workers (incl. start-up)"),
    ]
    width = max(len(a) for a, _, _ in rows)
    m = res["machine"]
    print(f"\n{res['mode']} run; {m['cpu_count']} CPUs, numpy {m['numpy']}, "
          f"load {m['load_average_1min_at_start']:.2f} at start")
    for a, b, c in rows:
        print(f"  {a:<{width}}  {b:>26}  {c}")


if __name__ == "__main__":
    main()
