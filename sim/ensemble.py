"""Ensembles: many runs of one scenario, with either engine, in chunks, with a progress bar.

Run ``i`` of master seed ``s`` is the same whatever the engine, the ensemble size or the
chunking (see :mod:`sim.seeds`).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from tqdm.auto import tqdm

from sim.engine import Trajectory, simulate
from sim.world import World

Engine = Literal["auto", "mesa", "batched"]


def pick_engine(engine: Engine, runs: int) -> Literal["mesa", "batched"]:
    """``auto``: the Mesa model for a single run, the batched engine for more."""
    if engine == "auto":
        return "mesa" if runs == 1 else "batched"
    if engine not in ("mesa", "batched"):
        raise ValueError(f"engine must be auto, mesa or batched, not {engine!r}")
    return engine


def simulate_mesa(world: World, seed: int, runs: np.ndarray | range | int) -> Trajectory:
    """Run each run through the Mesa model and read the DataCollector into a Trajectory."""
    from sim.model import AlignmentModel

    runs = np.arange(runs) if isinstance(runs, int) else np.asarray(runs)
    traj = Trajectory.empty(world, seed, runs)
    for k, run in enumerate(runs):
        model = AlignmentModel(world, rng=seed, run=int(run)).run_to_end()
        df = model.datacollector.get_model_vars_dataframe()
        traj.x[k] = np.stack(df["x"].to_list())
        traj.imports[k] = np.stack(df["imports"].to_list())
        traj.prob[k] = np.stack(df["prob"].to_list()[1:])
        traj.fired[k] = np.stack(df["fired"].to_list()[1:])
    return traj


def run_ensemble(world: World, seed: int, runs: int, engine: Engine = "auto",
                 chunk: int = 1000, progress: bool = True) -> Trajectory:
    """Runs ``0 .. runs-1`` of master ``seed``, in chunks, returned as one Trajectory."""
    kind = pick_engine(engine, runs)
    step = 1 if kind == "mesa" else max(1, chunk)
    sim = simulate_mesa if kind == "mesa" else simulate
    parts = []
    with tqdm(total=runs, unit="run", disable=not progress or runs < 2,
              desc=f"{world.spec.scenario.name} ({kind})") as bar:
        for lo in range(0, runs, step):
            ids = np.arange(lo, min(runs, lo + step))
            parts.append(sim(world, seed, ids))
            bar.update(len(ids))
    return Trajectory.concat(parts)
