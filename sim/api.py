"""The Python API behind the CLI and the notebooks: run a scenario, write its folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.engine import Trajectory
from sim.ensemble import Engine, pick_engine, run_ensemble
from sim.output import atomic_folder, manifest, write_manifest
from sim.plots import save_figures
from sim.results import Results
from sim.spec import ScenarioSpec, load_scenario, spec_from_dict
from sim.world import World

TABLES = ("timeseries", "states", "outcomes", "summary")


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
              settings: dict[str, Any] | None = None) -> Path:
    """Write tables, figures and manifest into ``out`` (atomically)."""
    spec = res.world.spec
    with atomic_folder(out, force) as tmp:
        files = []
        for name in TABLES:
            getattr(res, name).to_csv(tmp / f"{name}.csv", index=False)
            files.append(f"{name}.csv")
        if figures:
            files += [f"figures/{p.name}" for p in save_figures(res, tmp / "figures")]
        sources = [Path(spec.source)] if spec.source and Path(spec.source).is_file() else []
        info = {"kind": "run", "scenario": spec.source, "runs": int(res.traj.x.shape[0]),
                "seed": int(res.traj.seed), "figures": figures, **(settings or {})}
        write_manifest(tmp, manifest(sources, [resolved(spec)], info, [*files, "manifest.json"]))
    return out


def rerun_spec(data: dict[str, Any], index: int = 0) -> ScenarioSpec:
    """The scenario a manifest recorded, rebuilt from its resolved form."""
    return spec_from_dict(data["resolved_scenarios"][index], source=data["settings"]["scenario"])


__all__ = ["TABLES", "pick_engine", "rerun_spec", "resolved", "run", "write_run"]
