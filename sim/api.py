"""The Python API behind the CLI and the notebooks: run a scenario, write its folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.engine import Trajectory
from sim.ensemble import Engine, EnsembleStats, pick_engine, run_ensemble, run_stats
from sim.output import atomic_folder, manifest, write_manifest
from sim.plots import save_figures
from sim.results import Results
from sim.spec import ScenarioSpec, load_scenario, spec_from_dict
from sim.world import World

TABLES = ("timeseries", "states", "outcomes", "summary")
STREAM_ABOVE = 2000
"""``sim run`` streams per-month statistics instead of per-run tables above this many runs."""
STREAM_FIGURES = ("relations", "trade", "deals")


def resolved(spec: ScenarioSpec) -> dict[str, Any]:
    """The scenario after ``extends`` and cite unwrapping, as plain JSON-able data."""
    return spec.model_dump(mode="json", exclude={"cites", "source"}, exclude_none=True)


def run(scenario: str | Path | ScenarioSpec, runs: int = 100, seed: int | None = None,
        engine: Engine = "auto", progress: bool = False, **ensemble_kw: Any) -> Results:
    """Run a scenario as an ensemble and return its :class:`~sim.results.Results`.

    ``seed`` defaults to the scenario's own; run ``i`` always gets the same random streams.
    """
    spec = scenario if isinstance(scenario, ScenarioSpec) else load_scenario(scenario)
    world = World.from_spec(spec)
    master = spec.scenario.seed if seed is None else seed
    traj: Trajectory = run_ensemble(world, master, runs, engine=engine, progress=progress,
                                    **ensemble_kw)
    return Results(traj)


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
        sources = [Path(spec.source)] if spec.source and Path(spec.source).is_file() else []
        info = {"kind": "run", "scenario": spec.source, "runs": int(res.traj.x.shape[0]),
                "seed": int(res.traj.seed), "figures": figures,
                "triangle_dates": triangle_dates, **(settings or {})}
        write_manifest(tmp, manifest(sources, [resolved(spec)], info, [*files, "manifest.json"]))
    return out


def write_stats(stats: EnsembleStats, out: Path, force: bool = False, figures: bool = True,
                settings: dict[str, Any] | None = None) -> Path:
    """Write a streamed ensemble: per-month statistics, decisions, figures and manifest
    (per-run rows were written to Parquet during the run if asked for)."""
    spec = stats.world.spec
    with atomic_folder(out, force) as tmp:
        stats.to_frame().to_csv(tmp / "stats.csv", index=False)
        decisions_table(stats).to_csv(tmp / "decisions.csv", index=False)
        files = ["stats.csv", "decisions.csv"]
        if settings and settings.get("keep_runs"):
            (tmp / "runs.parquet").write_bytes(Path(settings["keep_runs"]).read_bytes())
            Path(settings["keep_runs"]).unlink()
            settings = {**settings, "keep_runs": True}
            files.append("runs.parquet")
        if figures:
            files += [f"figures/{p.name}"
                      for p in save_figures(stats, tmp / "figures", STREAM_FIGURES)]
        sources = [Path(spec.source)] if spec.source and Path(spec.source).is_file() else []
        info = {"kind": "run", "scenario": spec.source, "runs": int(stats.runs),
                "seed": int(stats.seed), "figures": figures, "stream": True, **(settings or {})}
        write_manifest(tmp, manifest(sources, [resolved(spec)], info, [*files, "manifest.json"]))
    return out


def decisions_table(res: Results | EnsembleStats) -> pd.DataFrame:
    """Per step and decision: mean monthly probability and share of runs that took it."""
    share, prob = res.deal_share(), res.mean_prob()
    rows = []
    for d in res.world.decisions:
        for t, date in enumerate(res.dates):
            rows.append({"step": t, "date": date, "decision": d.label,
                         "mean_probability": prob[t - 1, d.index] if t else np.nan,
                         "share_taken": share[t, d.index]})
    return pd.DataFrame(rows)


def rerun_spec(data: dict[str, Any], index: int = 0) -> ScenarioSpec:
    """The scenario a manifest recorded, rebuilt from its resolved form."""
    return spec_from_dict(data["resolved_scenarios"][index], source=data["settings"]["scenario"])


def stream(scenario: str | Path | ScenarioSpec, runs: int, seed: int | None = None,
           progress: bool = False, keep_runs: Path | None = None, **ensemble_kw: Any
           ) -> EnsembleStats:
    """Run a large ensemble keeping only per-month statistics (bounded memory)."""
    spec = scenario if isinstance(scenario, ScenarioSpec) else load_scenario(scenario)
    master = spec.scenario.seed if seed is None else seed
    return run_stats(World.from_spec(spec), master, runs, progress=progress,
                     keep_runs=keep_runs, **ensemble_kw)


__all__ = [
    "STREAM_ABOVE",
    "TABLES",
    "decisions_table",
    "pick_engine",
    "rerun_spec",
    "resolved",
    "run",
    "stream",
    "write_run",
    "write_stats",
]
