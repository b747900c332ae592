"""Pinned reference numbers: key outputs of the baseline at a fixed seed and fixed draws.

``tests/reference/baseline.json`` holds a few quantiles of the baseline's default outcomes
(200 runs: 40 parameter draws × 5 runs, the scenario's seed) at three dates. Any change of the
model's results makes this test fail, so that it is a deliberate, reviewed update:

    .venv/bin/python tests/test_reference.py --write     # or: make reference

rewrites the file; commit it with the change that moved the numbers and say so in the message.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

FILE = Path(__file__).parent / "reference" / "baseline.json"
SCENARIO = "baseline"
DRAWS, RUNS_PER_DRAW = 40, 5
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
RTOL, ATOL = 1e-9, 1e-12
"""Tolerance for floating-point differences between machines (BLAS, libm); any change of the
model moves these numbers by far more."""


def compute() -> dict[str, Any]:
    """The reference numbers of the current code: per outcome and date, the quantiles over runs
    (numeric outcomes) or the share of runs per value (text outcomes)."""
    from sim import api
    from sim.outcomes import default_names, evaluate
    from sim.resources import scenario_path

    res = api.run(scenario_path(SCENARIO), draws=DRAWS, runs_per_draw=RUNS_PER_DRAW)
    world = res.world
    dates = world.dates()
    picks = [dates[12], dates[len(dates) // 2], dates[-1]]
    names = [*default_names(world), "dittmer:USA-CHN-RUS"]
    table = evaluate(res, names, picks)
    out: dict[str, Any] = {}
    for (outcome, date), grp in table.groupby(["outcome", "date"], sort=True):
        vals = grp["value"].to_numpy()
        key = f"{outcome} @ {date}"
        if vals.dtype == object and not all(isinstance(v, (int, float)) for v in vals):
            labels, counts = np.unique(vals.astype(str), return_counts=True)
            out[key] = {str(a): float(c) / len(vals) for a, c in zip(labels, counts, strict=True)}
        else:
            vals = vals.astype(float)
            out[key] = {f"q{round(q * 100):02d}": float(np.quantile(vals, q)) for q in QUANTILES}
            out[key]["mean"] = float(vals.mean())
    return {"scenario": SCENARIO, "draws": DRAWS, "runs_per_draw": RUNS_PER_DRAW,
            "seed": int(res.traj.seed), "dates": picks, "values": out}


def test_baseline_matches_the_pinned_reference_numbers() -> None:
    pinned = json.loads(FILE.read_text())
    now = compute()
    assert now["dates"] == pinned["dates"] and now["seed"] == pinned["seed"]
    assert sorted(now["values"]) == sorted(pinned["values"]), "outcomes added or removed"
    moved = []
    for key, want in pinned["values"].items():
        got = now["values"][key]
        for stat, w in want.items():
            g = got.get(stat)
            if g is None or not np.isclose(g, w, rtol=RTOL, atol=ATOL):
                moved.append(f"{key} {stat}: pinned {w!r}, now {g!r}")
    assert not moved, ("results changed; if on purpose, run `make reference` and commit "
                       "tests/reference/baseline.json with the change:\n" + "\n".join(moved[:20]))


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/test_reference.py --write")
    FILE.parent.mkdir(exist_ok=True)
    FILE.write_text(json.dumps(compute(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {FILE}")
