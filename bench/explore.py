"""Benchmark of ``sim sensitivity`` (issue 11): Sobol indices over 12 parameters of the baseline
with N = 1024 base samples and 4 noise replicates, 1024 x 14 x 4 = 57,344 runs of 72 months,
through the batched engine on every core (target: within 60 s on the project's 2-core machine).

    python bench/explore.py            # the benchmark (about a minute)
    python bench/explore.py --quick    # N = 128 (a few seconds), said in the JSON

The 12 parameters are the top of a Morris screen of the triangle's relations (timed apart, not
part of the 60 s); outcomes: the triangle's three relations at the horizon. Writes
``bench/explore_results.json`` (machine, sizes, seconds, runs per second) and prints a line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ensemble import machine  # noqa: E402  (bench/ensemble.py: the machine record)

from sim.explore.sensitivity import morris, screen, sobol  # noqa: E402

OUT = Path(__file__).resolve().parent / "explore_results.json"
SCENARIO = ROOT / "scenarios" / "baseline.toml"
FULL = {"n": 1024, "reps": 4, "params": 12, "screen_r": 10}
QUICK = {"n": 128, "reps": 4, "params": 12, "screen_r": 4}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    workers = os.cpu_count() or 1
    res: dict = {"mode": "quick" if args.quick else "full", "machine": machine(),
                 "config": cfg, "workers": workers}
    t0 = time.perf_counter()
    scr = morris(SCENARIO, r=cfg["screen_r"], reps=1, workers=workers)
    params = screen(scr, cfg["params"])
    res["screen"] = {"runs": scr.runs, "seconds": round(time.perf_counter() - t0, 2),
                     "parameters": params}
    t1 = time.perf_counter()
    s = sobol(SCENARIO, n=cfg["n"], reps=cfg["reps"], params=params, workers=workers)
    wall = time.perf_counter() - t1
    months = s.specs[0].scenario.months
    res["sobol"] = {"runs": s.runs, "months": months, "wall_seconds": round(wall, 2),
                    "runs_per_second": round(s.runs / wall), "target_seconds": 60,
                    "within_target": wall <= 60}
    args.out.write_text(json.dumps(res, indent=2) + "\n")
    print(f"Sobol: {len(params)} parameters, N = {cfg['n']}, {cfg['reps']} replicates: "
          f"{s.runs} runs of {months} months in {wall:.1f} s on {workers} workers "
          f"({s.runs / wall:.0f} runs/s; load {res['machine']['load_average_1min_at_start']:.1f}"
          f" at start); screen {res['screen']['seconds']} s")
    return res


if __name__ == "__main__":
    main()
