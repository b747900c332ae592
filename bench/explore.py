"""Benchmark of ``sim sensitivity`` (issues 11, 12): Sobol indices over 12 parameters of the
baseline with N = 1024 base samples and 4 noise replicates, 1024 x 14 x 4 = 57,344 runs of 72
months, on 2 workers with the numba engine where numba is installed (target of issue 12: 15 s
on the project's 2-core machine).

    python bench/explore.py            # the benchmark (N = 1024)
    python bench/explore.py --quick    # N = 128 (a few seconds), said in the JSON

The 12 parameters are the top of a Morris screen of the triangle's relations (timed apart);
outcomes: the triangle's three relations at the horizon. Writes ``bench/explore_results.json``
(read by docs/make_explore.py: machine, sizes, seconds, runs per second) and prints a line.
``make bench`` (bench/targets.py) measures the same design and, in full mode, rewrites that
file too.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from common import BASELINE, machine  # bench/common.py

from sim.engine import BackendError, numba_backend
from sim.explore.sensitivity import morris, screen, sobol

OUT = Path(__file__).resolve().parent / "explore_results.json"
FULL = {"n": 1024, "reps": 4, "params": 12, "screen_r": 10}
QUICK = {"n": 128, "reps": 4, "params": 12, "screen_r": 4}
TARGET_SECONDS = 15
WORKERS = 2


def fastest_engine() -> str:
    """``numba`` where numba is installed, else ``batched`` (numpy)."""
    try:
        numba_backend()
    except BackendError:
        return "batched"
    return "numba"


def measure(quick: bool, workers: int = WORKERS, engine: str | None = None) -> dict[str, Any]:
    """The Morris screen, then the Sobol design over its top parameters on ``workers``
    processes with ``engine`` (default :func:`fastest_engine`), each timed (wall seconds; the
    worker pool is started and numba compiled by a small warm-up design first)."""
    cfg = QUICK if quick else FULL
    engine = engine or fastest_engine()
    res: dict[str, Any] = {"mode": "quick" if quick else "full", "machine": machine(),
                           "config": cfg, "workers": workers, "engine": engine}
    morris(BASELINE, r=2, reps=1, workers=workers, engine=engine)  # warm up: pool, kernel
    t0 = time.perf_counter()
    scr = morris(BASELINE, r=cfg["screen_r"], reps=1, workers=workers, engine=engine)
    params = screen(scr, cfg["params"])
    res["screen"] = {"runs": scr.runs, "seconds": round(time.perf_counter() - t0, 2),
                     "parameters": params}
    t1 = time.perf_counter()
    s = sobol(BASELINE, n=cfg["n"], reps=cfg["reps"], params=params, workers=workers,
              engine=engine)
    wall = time.perf_counter() - t1
    months = s.specs[0].scenario.months
    res["sobol"] = {"runs": s.runs, "months": months, "wall_seconds": round(wall, 2),
                    "runs_per_second": round(s.runs / wall), "target_seconds": TARGET_SECONDS,
                    "within_target": wall <= TARGET_SECONDS}
    return res


def write(res: dict[str, Any], out: Path = OUT) -> None:
    """Write ``res`` (from :func:`measure`) as JSON to ``out``."""
    out.write_text(json.dumps(res, indent=2) + "\n")


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    res = measure(args.quick)
    write(res, args.out)
    s = res["sobol"]
    print(f"Sobol: {len(res['screen']['parameters'])} parameters, N = {res['config']['n']}, "
          f"{res['config']['reps']} replicates: {s['runs']} runs of {s['months']} months in "
          f"{s['wall_seconds']:.1f} s on {res['workers']} workers, {res['engine']} engine "
          f"({s['runs_per_second']} runs/s; load "
          f"{res['machine']['load_average_1min_at_start']:.1f} at start); screen "
          f"{res['screen']['seconds']} s")
    return res


if __name__ == "__main__":
    main()
