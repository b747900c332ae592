"""Benchmark of the explorer's core: the time :func:`sim.dashboard.answer` takes to answer a
what-if on the baseline (500 runs by default), per engine.

    python bench/whatif.py            # 500 runs, 5 repeats per change, numpy and numba
    python bench/whatif.py --quick    # 100 runs, 3 repeats

Per engine (``batched`` = numpy, ``numba`` if installed), in this process (imports done, numba
compiled by a warm-up answer): ``reference``, the first answer (the unmodified baseline, run and
cached); then for each change of :data:`CHANGES` (a lever, a threshold, a width, a fixed
value) the answer to it (the modified scenario only: the reference and the random numbers are
kept), and ``figures``, every figure of :data:`sim.dashboard.FIGURES` drawn for it (the page
draws only those shown). CPU seconds (the cost on one core, not distorted by other load) with
wall-clock alongside; medians of the repeats.

Target (issue 13; benchmark, not a test): a lever change answered in well under 1 s of CPU on
one core for 500 runs. Writes ``bench/whatif_results.json`` with the machine record of
bench/ensemble.py.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ensemble import machine  # noqa: E402  (bench/ensemble.py)

from sim.dashboard import FIGURES, WhatIf, answer  # noqa: E402

OUT = Path(__file__).resolve().parent / "whatif_results.json"
CHANGES: dict[str, dict[str, Any]] = {
    "lever": {"event:may2024_tariffs.on": False},
    "threshold": {"policy:USA:tariff.threshold": 0.6},
    "width": {"uncertainty:trade.diversion.width": 2.0},
    "fixed": {"uncertainty:trade.diversion.fixed": 0.3},
}


def timed(fn: Callable[[], Any], repeats: int) -> dict[str, Any]:
    """Median CPU and wall seconds of ``repeats`` calls, and every call's."""
    cpu, wall = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return {"cpu_s": statistics.median(cpu), "wall_s": statistics.median(wall),
            "cpu_seconds": cpu, "wall_seconds": wall}


def bench_engine(engine: str, runs: int, repeats: int) -> dict[str, Any]:
    """The timings of one engine (see the module docstring)."""
    answer(WhatIf("baseline", CHANGES["lever"]), runs=8, seed=2, engine=engine)  # compile
    out: dict[str, Any] = {}
    cache: dict = {}
    out["reference"] = timed(lambda: answer(WhatIf("baseline"), runs=runs, seed=1,
                                            engine=engine, reference_cache=cache), 1)
    for name, changes in CHANGES.items():
        w = WhatIf("baseline", changes)
        out[name] = timed(lambda w=w: answer(w, runs=runs, seed=1, engine=engine,
                                             reference_cache=cache), repeats)
    a = answer(WhatIf("baseline", CHANGES["lever"]), runs=runs, seed=1, engine=engine,
               reference_cache=cache)

    def draw() -> None:
        a._figures.clear()  # drawn afresh, the comparison (paired differences) too
        a.__dict__.pop("comparison", None)
        for f in FIGURES:
            a.figure(f, "2026-05")

    out["figures"] = timed(draw, max(1, repeats // 2))
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="100 runs, 3 repeats")
    ap.add_argument("--runs", type=int, default=None)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    runs = args.runs or (100 if args.quick else 500)
    repeats = 3 if args.quick else 5
    engines = ["batched"] + (["numba"] if importlib.util.find_spec("numba") else [])
    res: dict[str, Any] = {"runs": runs, "repeats": repeats, "machine": machine()}
    for engine in engines:
        res[engine] = bench_engine(engine, runs, repeats)
        row = ", ".join(f"{k} {v['cpu_s']:.3f} s CPU ({v['wall_s']:.3f} wall)"
                        for k, v in res[engine].items())
        print(f"{engine:>8}, {runs} runs: {row}")
    args.out.write_text(json.dumps(res, indent=2) + "\n")
    return res


if __name__ == "__main__":
    main()
