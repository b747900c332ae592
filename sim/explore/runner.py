"""Outcome values of many runs: per-run parameters, chosen random streams, chosen dates.

An exploration runs far more runs than it keeps: :func:`outcome_values` simulates them in chunks
with the batched engine (:func:`sim.engine.simulate`) and keeps only the asked outcomes at the
asked dates, ``(R, O, S)``, so 57,000 runs of 72 months need a few megabytes, not gigabytes.

**Streams.** Position ``p`` of an exploration (row ``p`` of its parameters) uses the random
streams of run ``streams[p]`` of the master seed (:mod:`sim.seeds`). Designs give the rows that
must be compared with each other the same streams (the points of one Morris trajectory, the
``D+2`` rows of one Sobol base sample, a scenario and its variants), as ``sim compare`` gives
run ``i`` of two scenarios: their differences are then paired (common random numbers), and the
model's own noise enters through the replicates. :func:`grouped_streams` is the rule.

With ``workers > 1`` the chunks run in worker processes (:func:`sim.ensemble.pool_context`;
one World is sent once per worker; with several Worlds, one per scheduled-event configuration,
each chunk carries its own); results are the same floats in any case.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from tqdm.auto import tqdm

from sim import outcomes as oc
from sim.engine import Backend, simulate
from sim.ensemble import BATCHED_ENGINES, backend_of, pool_context
from sim.params import Params
from sim.world import World

CHUNK = 1000
"""Runs per chunk."""

_WORLD: World | None = None


def grouped_streams(rows: int, group: int, reps: int) -> np.ndarray:
    """Stream ids of ``rows × reps`` positions (position ``p = row·reps + k``): the rows of one
    group of ``group`` consecutive rows share the ``reps`` streams ``g·reps + k`` of their group
    ``g = row // group``."""
    p = np.arange(rows * reps)
    return (p // reps // group) * reps + p % reps


def numeric_outcomes(world: World, names: Sequence[str | oc.Outcome]) -> list[oc.Outcome]:
    """Parsed outcomes, checked against ``world``; raises :class:`sim.outcomes.OutcomeError`
    for a bad name or a text outcome (Dittmer pattern, blocs), which has no variance."""
    out = oc.parse_all(list(names), world)
    for o in out:
        if not o.numeric:
            raise oc.OutcomeError(f"outcome {o.name}: is text ({o.unit}); expected a numeric "
                                  "outcome (relation, trade, decision, balanced_share, ...)")
    return out


def _install(blob: bytes) -> None:
    global _WORLD
    _WORLD = pickle.loads(blob)


def _task(world: World | None, seed: int, streams: np.ndarray, names: list[str],
          steps: np.ndarray, params: Params | None, backend: Backend = "numpy") -> np.ndarray:
    """One chunk: ``(n, O, S)`` outcome values of runs ``streams`` with ``params``' rows."""
    world = world or _WORLD
    traj = simulate(world, seed, streams, params=params, backend=backend)
    return np.stack([oc.parse(n).values(traj, steps) for n in names], axis=1).astype(float)


def outcome_values(world: World | Sequence[World], seed: int, streams: np.ndarray,
                   params: Params | None, names: Sequence[str], steps: Sequence[int],
                   workers: int | None = 1, progress: bool = False, desc: str = "",
                   group: np.ndarray | None = None, engine: str = "batched") -> np.ndarray:
    """``(R, O, S)`` values of outcomes ``names`` at step indices ``steps`` for ``R =
    len(streams)`` runs: position ``p`` uses run ``streams[p]``'s random streams and row ``p``
    of ``params`` (None: the scenario's values). ``world``: one World, or several with
    ``group`` ``(R,)`` giving the World of each position (a World depends on the scheduled
    events; runs of one World are batched). ``workers``: processes (None: every core).
    ``engine``: ``batched`` (numpy, the reference) or ``numba`` (:data:`sim.ensemble.ENGINES`;
    equal within 1e-12). Raises ValueError for another engine and
    :class:`~sim.engine.BackendError` for ``numba`` without numba."""
    if engine not in BATCHED_ENGINES:
        raise ValueError(f"engine must be one of {', '.join(BATCHED_ENGINES)}, not {engine!r}")
    backend: Backend = backend_of(engine)
    streams = np.asarray(streams, dtype=np.int64)
    steps = np.asarray(steps, dtype=int)
    names = [str(n) for n in names]
    worlds = [world] if isinstance(world, World) else list(world)
    group = np.zeros(len(streams), dtype=int) if group is None else np.asarray(group, dtype=int)
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(len(worlds) + 1))
    cuts = []  # (World, positions) chunks
    for g in range(len(worlds)):
        pos = order[bounds[g]:bounds[g + 1]]
        cuts += [(g, pos[lo:lo + CHUNK]) for lo in range(0, len(pos), CHUNK)]
    out = np.empty((len(streams), len(names), len(steps)))
    nworkers = min(os.cpu_count() or 1 if workers is None else max(1, workers), len(cuts))

    def rows(pos: np.ndarray) -> Params | None:
        return None if params is None else params.take(pos)

    bar = tqdm(total=len(streams), unit="run", unit_scale=True, disable=not progress,
               desc=desc or worlds[0].spec.scenario.name, smoothing=0.1)
    with bar:
        if nworkers <= 1:
            for g, pos in cuts:
                out[pos] = _task(worlds[g], seed, streams[pos], names, steps, rows(pos),
                                 backend)
                bar.update(len(pos))
            return out
        ctx = pool_context()
        one = len(worlds) == 1  # sent once per worker; else each chunk carries its World
        with ProcessPoolExecutor(nworkers, mp_context=ctx, initializer=_install,
                                 initargs=(pickle.dumps(worlds[0] if one else None),)) as pool:
            futures = [pool.submit(_task, None if one else worlds[g], seed, streams[pos],
                                   names, steps, rows(pos), backend) for g, pos in cuts]
            for (_, pos), fut in zip(cuts, futures, strict=True):
                out[pos] = fut.result()
                bar.update(len(pos))
    return out

__all__ = ["CHUNK", "grouped_streams", "numeric_outcomes", "outcome_values"]
