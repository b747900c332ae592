"""The batched engine: all runs of an ensemble advance together through the kernels.

It is the same month as :meth:`sim.model.AlignmentModel.step` (scheduled events, decisions,
dynamics), with every agent's decision computed for all runs at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.kernels import State, begin_month, evolve
from sim.policies import act, probability
from sim.seeds import Draws
from sim.world import World


@dataclass
class Trajectory:
    """Per-run monthly record. ``x``/``imports``: ``(R, T+1, N, N)``; ``prob``/``fired``:
    ``(R, T, P)`` for the month's decision probabilities and firings."""

    world: World
    seed: int
    runs: np.ndarray
    x: np.ndarray
    imports: np.ndarray
    prob: np.ndarray
    fired: np.ndarray

    @classmethod
    def empty(cls, world: World, seed: int, runs: np.ndarray) -> Trajectory:
        r, t, n, p = len(runs), world.months, world.n, len(world.decisions)
        return cls(world, seed, np.asarray(runs), np.zeros((r, t + 1, n, n)),
                   np.zeros((r, t + 1, n, n)), np.zeros((r, t, p)), np.zeros((r, t, p), bool))

    def put(self, step: int, state: State) -> None:
        self.x[:, step] = state.x
        self.imports[:, step] = state.imports

    @classmethod
    def concat(cls, parts: list[Trajectory]) -> Trajectory:
        first = parts[0]
        return cls(first.world, first.seed, np.concatenate([p.runs for p in parts]),
                   *(np.concatenate([getattr(p, f) for p in parts])
                     for f in ("x", "imports", "prob", "fired")))


def month(state: State, world: World, t: int, noise: np.ndarray, u: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray]:
    """Advance all runs by month ``t``; returns the decisions' ``(R, P)`` probabilities and
    firings."""
    begin_month(state, world, t)
    prob = np.stack([probability(state, world, d, t) for d in world.decisions], axis=-1) \
        if world.decisions else np.zeros((state.x.shape[0], 0))
    fired = u < prob
    act(state, world, t, fired)
    evolve(state, world, noise)
    return prob, fired


def simulate(world: World, seed: int, runs: np.ndarray | range | int) -> Trajectory:
    """Run the runs ``runs`` (indices, or a count from 0) of master ``seed`` together."""
    runs = np.arange(runs) if isinstance(runs, int) else np.asarray(runs)
    state = State.initial(world, len(runs))
    draws = Draws(seed, runs, world.n, len(world.decisions), world.months)
    traj = Trajectory.empty(world, seed, runs)
    traj.put(0, state)
    for t in range(world.months):
        noise, u = draws.month(t)
        traj.prob[:, t], traj.fired[:, t] = month(state, world, t, noise, u)
        traj.put(t + 1, state)
    return traj
