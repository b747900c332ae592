"""The Python API behind the CLI and the notebooks: run a scenario, write its folder."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import outcomes as oc
from sim.engine import Trajectory
from sim.ensemble import (
    REL_ERROR,
    TRADE_REL_ERROR,
    Engine,
    EnsembleStats,
    pick_engine,
)
from sim.output import (
    UserError,
    atomic_folder,
    manifest,
    resolved,
    scenario_files,
    write_manifest,
)
from sim.plots import save_figures
from sim.results import Results, pair_name
from sim.spec import ScenarioSpec, load_scenario, spec_from_dict
from sim.uncertainty import Design, make_design, simulate_design, stream_design

TABLES = ("timeseries", "states", "outcomes", "summary")
MEMORY_BUDGET = 2 * 1024**3
"""Bytes ``sim run`` may spend on per-run tables before it streams (``$SIM_MEMORY_BUDGET``)."""
TABLE_COPIES = 25
"""Peak memory of per-run tables per ``(run, month, i, j)`` cell, in float64 copies: the two
trajectory arrays, the timeseries table built from them and pandas' copies while writing it
(measured with ``/usr/bin/time``: 21 copies for the baseline, 25 for 48 states)."""
STREAM_FIGURES = ("relations", "trade", "deals")
QUANTILE_NOTE = (f"quantiles are approximate (from histograms): relations within "
                 f"±{REL_ERROR:g}, trade within ±{TRADE_REL_ERROR:.2%} of the value")
"""How far a streamed ensemble's quantiles may be from the exact ones."""


def table_memory(runs: int, months: int, states: int) -> int:
    """Estimated peak bytes of keeping every run's tables:
    ``runs × (months + 1) × states² × 8 bytes × TABLE_COPIES``."""
    return runs * (months + 1) * states * states * 8 * TABLE_COPIES


def memory_budget() -> int:
    """The memory budget for per-run tables: ``$SIM_MEMORY_BUDGET`` in bytes or with a unit
    (``500MB``, ``2GB``, ``1.5G``), else ``MEMORY_BUDGET``. Raises ``UserError`` for a value
    that is not a size."""
    text = os.environ.get("SIM_MEMORY_BUDGET", "").strip()
    if not text:
        return MEMORY_BUDGET
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?", text, flags=re.IGNORECASE)
    if not m or float(m.group(1)) <= 0:
        raise UserError(f"SIM_MEMORY_BUDGET: got {text!r}; expected a size such as 2GB, "
                        "500MB or a number of bytes")
    return int(float(m.group(1)) * 1024 ** "_KMGT".index(m.group(2).upper() or "_"))


def stream_reason(spec: ScenarioSpec, runs: int) -> str | None:
    """One line saying why ``sim run`` streams (per-run tables would not fit the memory
    budget, :func:`table_memory` vs :func:`memory_budget`), or ``None`` if they fit."""
    need, budget = table_memory(runs, spec.scenario.months, len(spec.states)), memory_budget()
    if need <= budget:
        return None
    return (f"streaming: per-run tables of {runs} runs x {spec.scenario.months} months x "
            f"{len(spec.states)} states would need about {_size(need)}, over the memory "
            f"budget of {_size(budget)} (SIM_MEMORY_BUDGET); keeping per-month statistics "
            "only (--keep-runs writes every run to runs.parquet)")


def _size(n: int) -> str:
    return f"{n / 1024**3:.1f} GB" if n >= 1024**3 else f"{n / 1024**2:.0f} MB"


def run(scenario: str | Path | ScenarioSpec, runs: int | None = None, seed: int | None = None,
        engine: Engine = "auto", progress: bool = False, *, draws: int | None = None,
        runs_per_draw: int | None = None, fixed_params: bool = False,
        design: Design | None = None, **ensemble_kw: Any) -> Results:
    """Run a scenario as an ensemble and return its :class:`~sim.results.Results`.

    The scenario's declared uncertainty (``[uncertainties]``) is propagated: ``draws``
    parameter draws × ``runs_per_draw`` runs each (default 200 × 5; ``runs`` alone: ``runs``
    draws × 1 run; :func:`sim.uncertainty.split_runs`); ``fixed_params``: the noise-only
    ensemble at the scenario's values (``runs`` runs, default 100), as is any scenario that
    declares nothing. ``design``: a :class:`~sim.uncertainty.Design` to run instead (e.g. a
    comparison's reference's). ``seed`` defaults to the scenario's own; run ``i`` always gets
    the same random streams, and run ``i = d·K + k`` draw ``d``'s parameters
    (``res.traj.draw``). Raises ``UserError`` for counts that do not fit together.
    """
    spec = scenario if isinstance(scenario, ScenarioSpec) else load_scenario(scenario)
    design = _design(spec, design, runs, seed, draws, runs_per_draw, fixed_params)
    traj: Trajectory = simulate_design(spec, design, engine=engine, progress=progress,
                                       **ensemble_kw)
    return Results(traj)


def _design(spec: ScenarioSpec, design: Design | None, runs: int | None, seed: int | None,
            draws: int | None, runs_per_draw: int | None, fixed: bool) -> Design:
    """The design given (checked against the counts and seed given with it) or a new one."""
    if design is None:
        return make_design(spec, runs, draws, runs_per_draw, seed, fixed)
    for label, v, want in (("runs", runs, design.runs), ("seed", seed, design.seed),
                           ("draws", draws, design.draws),
                           ("runs_per_draw", runs_per_draw, design.runs_per_draw)):
        if v is not None and v != want:
            raise UserError(f"{label}: got {v} with a design of {want}; expected the design's "
                            "own (or nothing)")
    return design


def write_run(res: Results, out: Path, force: bool = False, figures: bool = True,
              settings: dict[str, Any] | None = None,
              triangle_dates: list[str] | None = None) -> Path:
    """Write tables, figures and manifest into ``out`` (atomically)."""
    spec = res.world.spec
    with atomic_folder(out, force) as tmp:
        files = []
        for name in TABLES:
            getattr(res, name).to_csv(tmp / f"{name}.csv", index=False)
            files.append(f"{name}.csv")
        if figures:
            files += [f"figures/{p.name}"
                      for p in save_figures(res, tmp / "figures", triangle_dates=triangle_dates)]
        files += _write_draws(res.traj, tmp)
        sources = scenario_files([spec.source])
        info = {"kind": "run", "scenario": spec.source, "runs": int(res.traj.x.shape[0]),
                "seed": int(res.traj.seed), "figures": figures,
                "triangle_dates": triangle_dates, **(settings or {}),
                **_uncertainty_record(res.traj)}
        write_manifest(tmp, manifest(sources, [resolved(spec)], info, [*files, "manifest.json"]))
    return out


def _write_draws(ensemble: Trajectory | EnsembleStats, folder: Path) -> list[str]:
    """``draws.csv`` (one row per parameter draw) if the ensemble drew parameters."""
    design = getattr(ensemble, "design", None)
    if design is None or not design.names:
        return []
    design.table().to_csv(folder / "draws.csv", index=False)
    return ["draws.csv"]


def _uncertainty_record(ensemble: Trajectory | EnsembleStats) -> dict[str, Any]:
    """``{"uncertainty": ...}`` for the manifest's settings (the design's record), if any."""
    design = getattr(ensemble, "design", None)
    return {} if design is None else {"uncertainty": design.record()}


def write_stats(stats: EnsembleStats, out: Path, force: bool = False, figures: bool = True,
                settings: dict[str, Any] | None = None) -> Path:
    """Write a streamed ensemble: per-month statistics (``stats.csv``), statistics at the
    horizon (``summary_stats.csv``), decisions, figures and manifest; per-run rows, written to
    Parquet during the run if asked for (``settings["keep_runs"]``: its path), are moved in."""
    spec = stats.world.spec
    with atomic_folder(out, force) as tmp:
        stats.to_frame().to_csv(tmp / "stats.csv", index=False)
        stats_summary(stats).to_csv(tmp / "summary_stats.csv", index=False)
        decisions_table(stats).to_csv(tmp / "decisions.csv", index=False)
        files = ["stats.csv", "summary_stats.csv", "decisions.csv"]
        if settings and settings.get("keep_runs"):
            shutil.move(settings["keep_runs"], tmp / "runs.parquet")
            settings = {**settings, "keep_runs": True}
            files.append("runs.parquet")
        if figures:
            files += [f"figures/{p.name}"
                      for p in save_figures(stats, tmp / "figures", STREAM_FIGURES)]
        files += _write_draws(stats, tmp)
        sources = scenario_files([spec.source])
        info = {"kind": "run", "scenario": spec.source, "runs": int(stats.runs),
                "seed": int(stats.seed), "figures": figures, "stream": True,
                "quantiles": QUANTILE_NOTE, **(settings or {}), **_uncertainty_record(stats)}
        write_manifest(tmp, manifest(sources, [resolved(spec)], info, [*files, "manifest.json"]))
    return out


def stats_summary(stats: EnsembleStats) -> pd.DataFrame:
    """The streamed counterpart of ``Results.summary``: per outcome at the horizon (the
    triangle's relations and trade, each decision taken), mean, sd and quantiles over runs,
    with the largest error of the quantiles (absolute for relations, relative for trade; they
    come from histograms, see :func:`sim.ensemble.run_stats`)."""
    date, qs = stats.dates[-1], stats.quantiles
    rows = []
    for what, err in (("relation", (REL_ERROR, np.nan)), ("trade", (np.nan, TRADE_REL_ERROR))):
        mean, sd = getattr(stats, f"{what}_mean")[-1], getattr(stats, f"{what}_sd")[-1]
        quantiles = getattr(stats, f"{what}_quantiles")[:, -1]
        for a, b in stats.key_pairs():
            pair = (a, b) if (a, b) in stats.quantile_dyads else (b, a)
            q = (quantiles[:, stats.quantile_dyads.index(pair)]
                 if pair in stats.quantile_dyads else np.full(len(qs), np.nan))
            d = stats.dyad(a, b)
            column = oc.parse(f"{what}:{pair_name(a, b)}").column
            rows.append({"outcome": column, "mean": mean[d], "sd": sd[d],
                         **{f"q{p:g}": v for p, v in zip(qs, q, strict=True)},
                         "quantile_max_abs_error": err[0], "quantile_max_rel_error": err[1]})
    for d in stats.world.decisions:
        share = stats.dealt[-1, d.index] / stats.runs if len(stats.dealt) else 0.0
        rows.append({"outcome": oc.Outcome("decision", decision=d.label).column, "mean": share,
                     "sd": np.sqrt(share * (1 - share))})
    table = pd.DataFrame(rows)
    table.insert(1, "date", date)
    table.insert(2, "runs", int(stats.runs))
    return table


DECISION_COLUMNS = ["step", "date", "decision", "mean_probability", "share_taken"]


def decisions_table(res: Results | EnsembleStats) -> pd.DataFrame:
    """Per step and decision: mean monthly probability and share of runs that took it
    (``DECISION_COLUMNS``; no rows, but the columns, for a scenario without policies)."""
    share, prob = res.deal_share(), res.mean_prob()
    rows = []
    for d in res.world.decisions:
        for t, date in enumerate(res.dates):
            rows.append({"step": t, "date": date, "decision": d.label,
                         "mean_probability": prob[t - 1, d.index] if t else np.nan,
                         "share_taken": share[t, d.index]})
    return pd.DataFrame(rows, columns=DECISION_COLUMNS)


def rerun_spec(data: dict[str, Any], index: int = 0) -> ScenarioSpec:
    """The scenario a manifest recorded, rebuilt from its resolved form."""
    return spec_from_dict(data["resolved_scenarios"][index], source=data["settings"]["scenario"])


def stream(scenario: str | Path | ScenarioSpec, runs: int | None = None,
           seed: int | None = None, progress: bool = False, keep_runs: Path | None = None, *,
           draws: int | None = None, runs_per_draw: int | None = None,
           fixed_params: bool = False, design: Design | None = None, **ensemble_kw: Any
           ) -> EnsembleStats:
    """Run a large ensemble keeping only per-month statistics (bounded memory); uncertainty
    propagated as in :func:`run` (per-run parameters take ``runs × parameters × 8`` bytes)."""
    spec = scenario if isinstance(scenario, ScenarioSpec) else load_scenario(scenario)
    design = _design(spec, design, runs, seed, draws, runs_per_draw, fixed_params)
    return stream_design(spec, design, progress=progress, keep_runs=keep_runs, **ensemble_kw)


__all__ = [
    "MEMORY_BUDGET",
    "TABLES",
    "decisions_table",
    "pick_engine",
    "rerun_spec",
    "resolved",
    "run",
    "stats_summary",
    "stream",
    "stream_reason",
    "table_memory",
    "write_run",
    "write_stats",
]
