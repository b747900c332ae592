"""What the benchmarks share: the baseline, a synthetic world of N states, the machine record
(versions, commit, load) and median timings."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sim.spec import load_scenario, spec_from_dict  # noqa: E402
from sim.world import World  # noqa: E402

BASELINE = ROOT / "scenarios" / "baseline.toml"
SEED = 20240516


def baseline() -> World:
    """The shipped baseline scenario (6 states, 72 months)."""
    return World.from_spec(load_scenario(BASELINE))


def synthetic_world(n: int, months: int = 120, seed: int = 0) -> World:
    """A random world of ``n`` states: capabilities, GDP and ideal points drawn at random,
    trade between ~30% of the pairs, a few events (those within ``months``) and three policies
    among the first states."""
    rng = np.random.default_rng(seed + n)
    ids = [f"S{i:03d}" for i in range(n)]
    states = [{"id": s, "name": f"State {s}", "capability": float(rng.uniform(0.001, 0.2)),
               "gdp": float(rng.uniform(0.05, 20.0)), "ideal_point": float(rng.uniform(-3, 3)),
               "reciprocity": float(rng.uniform(0.2, 0.8))} for s in ids]
    trade = {f"{ids[i]}->{ids[j]}": float(rng.uniform(0.5, 200.0))
             for i in range(n) for j in range(n) if i != j and rng.random() < 0.3}
    year = 2024
    events = [
        {"type": "tariff", "date": f"{year}-03", "actor": ids[0], "target": ids[1],
         "rate": 0.25, "coverage": 50.0},
        {"type": "visit", "date": f"{year}-05", "actor": ids[2], "target": ids[1]},
        {"type": "sanctions", "date": f"{year + 1}-01", "actor": ids[0], "target": ids[2]},
        {"type": "agreement", "date": f"{year + 2}-06", "actor": ids[1], "target": ids[2],
         "trade_bn": 20.0},
    ]
    events = [e for e in events if (int(e["date"][:4]) - year) * 12 + int(e["date"][5:]) <= months]
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


def load() -> list[float]:
    """The 1-, 5- and 15-minute load averages now."""
    return [round(v, 2) for v in os.getloadavg()]


def version(dist: str) -> str | None:
    """The installed version of distribution ``dist`` (None if not installed)."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def commit() -> dict[str, Any]:
    """The checkout's commit and whether it has uncommitted changes (None outside git)."""
    def git(*args: str) -> str | None:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                                  check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return None

    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": git("rev-parse", "HEAD"), "dirty": None if status is None else bool(status)}


def machine() -> dict[str, Any]:
    """Date, commit, CPUs, versions and the load at the time of the call."""
    return {"date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            **commit(), "cpu_count": os.cpu_count(),
            "python": platform.python_version(), "numpy": np.__version__,
            "numba": version("numba"), "mesa": version("mesa"),
            "platform": platform.platform(), "processor": platform.processor()
            or platform.machine(), "load_average_1min_at_start": os.getloadavg()[0],
            "load_at_start": load(), "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE")}


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds of this process, result) of ``fn()``."""
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - t, time.process_time() - c, out


def repeated(fn: Callable[[], Any], repeats: int) -> dict[str, Any]:
    """``fn`` called ``repeats`` times: median CPU and wall seconds (``cpu_s``, ``wall_s``) and
    every call's."""
    return {k if k.endswith("seconds") else f"{k}_s": v
            for k, v in medians({"f": fn}, repeats)["f"].items()}


def script(doc: str, measure: Callable[[bool], dict[str, Any]], out: Path,
           report: Callable[[dict[str, Any]], None], quick_help: str,
           argv: list[str] | None = None) -> dict[str, Any]:
    """The command line of a bench script: ``--quick`` and ``--out``; writes ``measure(quick)``
    as JSON to the output file and prints it with ``report``."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help=quick_help)
    ap.add_argument("--out", type=Path, default=out)
    args = ap.parse_args(argv)
    res = measure(args.quick)
    args.out.write_text(json.dumps(res, indent=2) + "\n")
    report(res)
    print(f"wrote {args.out}")
    return res


def medians(fns: dict[str, Callable[[], Any]], repeats: int) -> dict[str, dict[str, Any]]:
    """Each of ``fns`` called ``repeats`` times, interleaved (so that a change of load hits
    them alike): per name the wall and CPU seconds of every call and their medians."""
    wall: dict[str, list[float]] = {k: [] for k in fns}
    cpu: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            w, c, _ = timed(fn)
            wall[k].append(w)
            cpu[k].append(c)
    return {k: {"wall": statistics.median(wall[k]), "cpu": statistics.median(cpu[k]),
                "wall_seconds": [round(v, 4) for v in wall[k]],
                "cpu_seconds": [round(v, 4) for v in cpu[k]]} for k in fns}
