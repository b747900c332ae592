"""Writes docs/EXPLORE.md and its figures (docs/figures/explore_*.png) from fresh analyses of
the shipped scenarios. Run from the repository root after the model changes:

    python docs/make_explore.py                 # full sizes (several minutes on 2 cores)
    python docs/make_explore.py --quick         # small sizes, to check the script

It runs: Sobol indices of the triangle's relations in the baseline (N = --n, 4 replicates, the
top 12 of a Morris screen), Sobol indices of the tariff_escalation effect, attribution of the
baseline's events and policies, and PRIM for the article's condition; the benchmark line comes
from bench/explore_results.json (python bench/explore.py). Numbers in the text are read from
these results, never typed in.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.explore.attribution import attribute  # noqa: E402
from sim.explore.discovery import discover  # noqa: E402
from sim.explore.sensitivity import Sensitivity, sobol  # noqa: E402

FIGS = ROOT / "docs" / "figures"
OUT = ROOT / "docs" / "EXPLORE.md"
BENCH = ROOT / "bench" / "explore_results.json"
CONDITION = "relation:CHN-RUS at 2027-05 > 0.8 and decision:CHN:finance_access by 2027-05"
TRIANGLE = ["relation:USA-CHN", "relation:USA-RUS", "relation:CHN-RUS"]
EFFECT = ["trade:USA-CHN", "relation:USA-CHN"]


def save(fig, name: str) -> str:
    fig.savefig(FIGS / f"{name}.png", dpi=100, metadata={"Software": None})
    return f"figures/{name}.png"


def version(note: str | None) -> str:
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return note or f"git commit {commit}"


def drivers(res: Sensitivity, k: int = 4) -> list[str]:
    """Table rows: outcome, the k leading factors by ST with S1, intervals, convergence."""
    rows = []
    for o in res.outcomes:
        d = res.dates[-1]
        top = res.top(o, d, k)
        noise = res.noise[(res.noise.outcome == o) & (res.noise.date == d)].noise_share.iloc[0]
        for i, t in enumerate(top.itertuples()):
            c = res.convergence
            path = c[(c.outcome == o) & (c.date == d) & (c.parameter == t.parameter)
                     & (c["index"] == "ST")].sort_values("n")
            conv = " → ".join(f"{v:.2f}" for v in path.value)
            flags = "; ".join(f"{k} {x}" for k, x in (("S1", t.S1_flag), ("ST", t.ST_flag))
                              if x) or "settled"
            rows.append(f"| {o if i == 0 else ''} | {t.parameter} | {t.S1:.2f} "
                        f"[{t.S1_lo:.2f}, {t.S1_hi:.2f}] | {t.ST:.2f} [{t.ST_lo:.2f}, "
                        f"{t.ST_hi:.2f}] | {conv} | {flags} | "
                        f"{f'{noise:.2f}' if i == 0 else ''} |")
    return rows


HEAD = ["| outcome | parameter | S1 [95% CI] | ST [95% CI] | ST at N/8 → N | flags | noise "
        "share |", "|---|---|---|---|---|---|---|"]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--model", default=None, help="what model version this is (text)")
    args = ap.parse_args(argv)
    n, ne, draws, disc = (64, 32, 10, 200) if args.quick else (1024, 512, 50, 1000)
    workers = os.cpu_count() or 1
    FIGS.mkdir(parents=True, exist_ok=True)

    lev = sobol(ROOT / "scenarios/baseline.toml", TRIANGLE, n=n, reps=4, top=12,
                workers=workers)
    eff = sobol(ROOT / "scenarios/baseline.toml", EFFECT,
                vs=ROOT / "scenarios/tariff_escalation.toml", n=ne, reps=4, top=12,
                workers=workers)
    att = attribute(ROOT / "scenarios/baseline.toml", [*TRIANGLE, "trade:USA-CHN"],
                    draws=draws, runs_per_draw=4, workers=workers)
    dis = discover(ROOT / "scenarios/baseline.toml", CONDITION, draws=disc, workers=workers)
    figs = {"lev": save(lev.figures()[f"sobol_relation_CHN-RUS_{lev.dates[-1]}"],
                        "explore_sobol_chn_rus"),
            "conv": save(lev.figures()[f"convergence_relation_CHN-RUS_{lev.dates[-1]}"],
                         "explore_convergence_chn_rus"),
            "eff": save(eff.figures()[f"sobol_trade_USA-CHN_{eff.dates[-1]}"],
                        "explore_sobol_tariff_effect"),
            "tor": save(att.figures()[f"tornado_relation_CHN-RUS_{att.dates[-1]}"],
                        "explore_tornado_chn_rus"),
            "tor2": save(att.figures()[f"tornado_trade_USA-CHN_{att.dates[-1]}"],
                         "explore_tornado_trade"),
            "prim": save(dis.figures()["prim_trajectory"], "explore_prim_trajectory")}
    bench = json.loads(BENCH.read_text()) if BENCH.is_file() else None
    OUT.write_text(text(args, version(args.model), lev, eff, att, dis, figs, bench),
                   encoding="utf-8")
    print(f"wrote {OUT}")


def text(args, model, lev, eff, att, dis, figs, bench) -> str:
    t = att.table
    big = t[t.date == att.dates[-1]].copy()
    big["size"] = big["mean"].abs()
    events = []
    for o in att.outcomes:
        r = big[big.outcome == o].sort_values("size", ascending=False).head(3)
        events.append(f"| {o} | " + "; ".join(
            f"{x['item']} {x.change}: {x['mean']:+.3f} (90% {x.param_lo:+.3f} .. "
            f"{x.param_hi:+.3f})" for _, x in r.iterrows()) + " |")
    st = dis.trajectory.iloc[dis.chosen]
    bench_line = ("not measured yet: run `python bench/explore.py`" if bench is None else
                  f"{bench['sobol']['runs']:,} runs of {bench['sobol']['months']} months in "
                  f"{bench['sobol']['wall_seconds']} s on {bench['workers']} workers "
                  f"({bench['sobol']['runs_per_second']:,} runs/s; 1-minute load "
                  f"{bench['machine']['load_average_1min_at_start']:.1f} at the start; "
                  f"{bench['mode']} mode); the Morris screen that picked the 12 parameters took "
                  f"{bench['screen']['seconds']} s more")
    return "\n".join([
        "# Exploring the model: sensitivity, scenario discovery, attribution",
        "",
        "<!-- written by docs/make_explore.py: edit that script, not this file -->",
        "",
        f"Numbers below were measured on **{model}**{' (quick sizes)' if args.quick else ''}; "
        "re-run `python docs/make_explore.py` after the model changes.",
        "",
        "Three commands ask what users of exploratory modelling tools ask of a model, built on "
        "the parameter registry (`sim params`), the outcome registry (`relation:USA-CHN`, "
        "`trade:USA-CHN`, `decision:CHN:pipeline`, ...) and the batched engine with per-run "
        "parameters (`--engine numba` runs the compiled backend, `pip install -e .[fast]`, "
        "equal within 1e-12). Each writes a folder as `sim run` does (atomic, manifest, refuses a "
        "non-empty folder without `--force`, progress bar) with tidy CSV, `summary.md` and "
        "figures; the Python API (`sim.explore`) returns the same tables as DataFrames and the "
        "figures as matplotlib Figures.",
        "",
        "## Which assumptions drive an outcome? `sim sensitivity`",
        "",
        "```",
        "sim sensitivity baseline --method morris                       # screen every parameter",
        "sim sensitivity baseline --method sobol --n 1024 --reps 4      # top 12 of a screen",
        "sim sensitivity baseline --vs tariff_escalation --outcome trade:USA-CHN",
        "sim sensitivity baseline --params anchor.rate,trade.diversion --date 2027-05",
        "```",
        "",
        "The factors are the scenario's declared distributions (`[uncertainties]`) and, unless "
        "`--declared-only`, every other registered number (policies included) over its "
        "plausible range or 0.5–1.5 times its value (`factors.csv` says which). Parameters "
        "drawn jointly from the calibration are varied independently over their marginals "
        "(Sobol indices need independent inputs). **Morris** (SALib) gives μ* with a "
        "bootstrap interval and σ per factor; **Sobol** gives first-order `S1` and total `ST` "
        "indices with 95% bootstrap intervals over the top factors. Convergence is shown: the "
        "indices and interval widths at N/8, N/4, N/2 and N (`convergence.csv`, a figure), and "
        "every index whose interval is wider than 0.1 or includes 0 is flagged. A negative "
        "index is sampling error (true indices are ≥ 0). Each design point runs `--reps` times; "
        "the points the estimator compares share their random streams (as `sim compare` pairs "
        "runs), and `noise.csv` gives the share of a single run's variance due to the model's "
        "own randomness. With `--vs OTHER` the outcome is the paired effect OTHER − SCENARIO "
        "(same draws, same streams).",
        "",
        f"**Benchmark** (`bench/explore.py`): Sobol over 12 parameters, N = 1024, 4 noise "
        f"replicates of the baseline: {bench_line}.",
        "",
        f"### The triangle's relations in the baseline at {lev.dates[-1]}",
        "",
        f"Sobol, N = {lev.n}, {lev.reps} replicates, {len(lev.space)} factors (the top of a "
        f"Morris screen of {len(lev.screening.space)} factors: every number the baseline uses, "
        "switches and numbers no policy reads left out), {lev.runs:,} runs.",
        "", *HEAD, *drivers(lev), "",
        f"![Sobol indices, CHN–RUS]({figs['lev']})", "",
        f"![Convergence, CHN–RUS]({figs['conv']})", "",
        f"### The effect of tariff_escalation at {eff.dates[-1]}",
        "",
        f"Paired effect tariff_escalation − baseline, Sobol N = {eff.n}, {eff.reps} replicates, "
        f"{eff.runs:,} runs.",
        "", *HEAD, *drivers(eff), "",
        f"![Sobol indices of the tariff effect]({figs['eff']})", "",
        "## Which event or decision matters? `sim attribute`",
        "",
        "```",
        "sim attribute baseline --outcome relation:CHN-RUS --outcome trade:USA-CHN",
        "```",
        "",
        "Each enabled scheduled event removed, and its magnitude (intensity, tariff rate, gas, "
        "trade amount; not the coverage a rate applies to) ×0.5 and ×1.5; each policy "
        "switched off; every variant runs the full scenario's parameter draws and random "
        "streams, so `variant − full` run by run is that one edit's effect. The table "
        "(`attribution.csv`) has the mean, its Monte-Carlo interval and the 90% interval "
        "across parameter draws.",
        "",
        f"Baseline, {att.draws} draws × {att.reps} runs, at {att.dates[-1]}: the three largest "
        "changes per outcome (variant − full).",
        "", "| outcome | largest changes |", "|---|---|", *events, "",
        f"![Tornado, CHN–RUS]({figs['tor']})", "",
        f"![Tornado, USA–CHN trade]({figs['tor2']})", "",
        "## Under which conditions? `sim discover`",
        "",
        "```",
        f'sim discover baseline --where "{CONDITION}"',
        "```",
        "",
        "A condition is clauses `NAME [at|by YYYY-MM] [OP NUMBER]` joined by `and`/`or`. "
        "PRIM (EMA Workbench) peels the parameter box where it holds most often: peeling "
        "trajectory, the chosen box (largest coverage with density ≥ 0.8, then restrictions "
        "with quasi-p > 0.05 dropped) with limits and quasi-p values, and a pairs plot; CART "
        "(EMA Workbench, scikit-learn) as a second view.",
        "",
        f"Baseline, {len(dis.y)} draws: the article's condition holds in {dis.share:.1%} of "
        f"runs. The chosen box (box {dis.chosen}) has coverage {st.coverage:.2f} and density "
        f"{st.density:.2f} (lift {st.density / dis.share:.2f} over the base rate) with "
        f"{len(dis.box)} restriction(s): "
        + (", ".join(f"{r.parameter} in [{r['min']:.3g}, {r['max']:.3g}]"
                     for _, r in dis.box.iterrows()) or "none")
        + ". " + " ".join(n[:1].upper() + n[1:].rstrip(".") + "." for n in dis.notes) + " "
        + ("No box whose restrictions are all significant is much denser than the base rate: "
           "in this model the condition depends on the runs' own randomness (the decision "
           "draws) far more than on any parameter." if st.density < 1.5 * dis.share else
           "The box says under which parameter values the condition becomes likely."),
        "",
        f"![PRIM trajectory]({figs['prim']})", "",
        "```", 'sim discover baseline --where "trade:USA-CHN at 2024-07 < 554" --events',
        "```", "",
        "With `--events`, every draw also switches each enabled scheduled event on or off "
        "(probability 1/2) and scales its magnitude by 0.5 to 1.5 (the changes `sim attribute` "
        "makes), drawn by a Latin hypercube from a stream of its own, so the parameter draws "
        "and each run's random numbers stay those of the run without `--events` and the same "
        "seed gives the same result. The switches and scales are factors `event:<id>.on` (1 on, "
        "0 off) and `event:<id>.scale` beside the parameters: in the box, the peeling "
        "trajectory, CART, the pairs plot, `runs.csv` and `events.csv` (a scale matters only "
        "where its event is on). A World holds the scheduled events, so each draw runs as its "
        "own small batch: slower than without `--events`. A scenario with no enabled scheduled "
        "event is refused (exit 2).",
        "",
        "## EMA Workbench adapter",
        "",
        "```python",
        "import sim.ema",
        "from ema_workbench import MultiprocessingEvaluator, perform_experiments",
        "",
        "model = sim.ema.model(\"baseline\", outcomes=[\"relation:CHN-RUS\", \"trade:USA-CHN\"])",
        "with MultiprocessingEvaluator(model, n_processes=2) as ev:",
        "    experiments, outcomes = ev.perform_experiments(scenarios=200, policies=4)",
        "```",
        "",
        "`sim.ema.model(scenario)` builds the uncertainties from the registered parameters "
        "with their declared distributions, the levers from the event switches and scales and "
        "the policy thresholds, and the outcomes from the outcome registry (each a scalar at "
        "the horizon and a time series). Names are Python identifiers (`policies.USA:tariff"
        ".threshold` → `policies_USA_tariff_threshold`); `variable_name` keeps the registered "
        "name. Every experiment uses the random streams of run 0 of the master seed (common "
        "random numbers across experiments); `replications=K` gives a `ReplicatorModel` with "
        "runs 0..K−1. `tests/test_ema.py` checks that 50 scenarios × 2 policies through the "
        "sequential and the multiprocessing evaluator equal `sim`'s own batched runs of the "
        "same parameters and seeds, bit for bit.",
        "",
        "On a cluster, the model function is picklable (it carries the scenario, not the "
        "World), so EMA's other evaluators run it unchanged: `MPIEvaluator(model)` under "
        "`mpiexec -n 64 python -m mpi4py.futures script.py` (needs `mpi4py`), or a Dask "
        "cluster through `concurrent.futures`-style evaluators; every worker needs `sim` "
        "installed. Within `sim` itself, `sim run --dask tcp://host:8786` spreads ensembles "
        "over a Dask cluster.",
        "",
    ])


if __name__ == "__main__":
    main()
