"""The batched engine: all runs of an ensemble advance together through the kernels.

It is the same month as :meth:`sim.model.AlignmentModel.step` (scheduled events, decisions,
dynamics), with every agent's decision computed for all runs at once. Each run may have its own
parameters (``params``: one value per run for any registered parameter, :mod:`sim.params`), so a
whole design of parameter draws runs as one call; run ``k`` always gets row ``k``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
from threadpoolctl import threadpool_limits

from sim.kernels import State, begin_month, evolve
from sim.params import Params, resolve
from sim.policies import act, probability
from sim.seeds import Draws, key
from sim.world import World


class Recorder(Protocol):
    """What :func:`advance` hands each batch's months to: a :class:`Trajectory` keeps them all,
    a statistics recorder (:mod:`sim.ensemble`) folds them into sums and counts as they come.
    ``rows``: the batch's rows ``lo .. hi-1`` of the ensemble; ``x``, ``imports``: ``(B, N, N)``
    after month ``t`` (``t = -1``: the start); ``prob``, ``fired``: ``(B, P)`` (None at the
    start). The arrays are the engine's own buffers: copy what must outlive the call."""

    def record(self, rows: slice, t: int, x: np.ndarray, imports: np.ndarray,
               prob: np.ndarray | None, fired: np.ndarray | None) -> None: ...


@dataclass
class Trajectory:
    """Per-run monthly record. ``x``/``imports``: ``(R, T+1, N, N)``; ``prob``/``fired``:
    ``(R, T, P)`` for the month's decision probabilities and firings; ``params``: the runs'
    parameters (row ``k`` of a per-run value is run ``runs[k]``'s), None for the scenario's;
    ``draw``: the parameter draw of each run, ``(R,)`` ints (all 0 for one draw: fixed
    parameters); ``design``: the :class:`sim.uncertainty.Design` the runs come from, if any."""

    world: World
    seed: int
    runs: np.ndarray
    x: np.ndarray
    imports: np.ndarray
    prob: np.ndarray
    fired: np.ndarray
    params: Params | None = None
    draw: np.ndarray | None = None
    design: Any = None

    def __post_init__(self) -> None:
        if self.draw is None:
            self.draw = np.zeros(len(self.runs), dtype=np.int64)

    @classmethod
    def empty(cls, world: World, seed: int, runs: np.ndarray, params: Params | None = None,
              draw: np.ndarray | None = None) -> Trajectory:
        r, t, n, p = len(runs), world.months, world.n, len(world.decisions)
        return cls(world, seed, np.asarray(runs), np.zeros((r, t + 1, n, n)),
                   np.zeros((r, t + 1, n, n)), np.zeros((r, t, p)), np.zeros((r, t, p), bool),
                   params, None if draw is None else np.asarray(draw, dtype=np.int64))

    def record(self, rows: slice, t: int, x: np.ndarray, imports: np.ndarray,
               prob: np.ndarray | None, fired: np.ndarray | None) -> None:
        """Keep month ``t`` of rows ``rows`` (the :class:`Recorder` protocol)."""
        self.x[rows, t + 1], self.imports[rows, t + 1] = x, imports
        if prob is not None:
            self.prob[rows, t], self.fired[rows, t] = prob, fired

    def replay(self, recorder: Recorder, rows: slice | None = None) -> None:
        """Hand the stored months of ``rows`` (default all) to ``recorder``, as the engine
        would have while running them."""
        rows = slice(0, len(self.runs)) if rows is None else rows
        recorder.record(rows, -1, self.x[rows, 0], self.imports[rows, 0], None, None)
        for t in range(self.world.months):
            recorder.record(rows, t, self.x[rows, t + 1], self.imports[rows, t + 1],
                            self.prob[rows, t], self.fired[rows, t])

    @classmethod
    def concat(cls, parts: list[Trajectory]) -> Trajectory:
        """Parts of one ensemble, in order (parameters are not carried over; draws are)."""
        first = parts[0]
        return cls(first.world, first.seed, np.concatenate([p.runs for p in parts]),
                   *(np.concatenate([getattr(p, f) for p in parts])
                     for f in ("x", "imports", "prob", "fired")),
                   draw=np.concatenate([p.draw for p in parts]))


def month(state: State, world: World, t: int, noise: np.ndarray, u: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray]:
    """Advance all runs by month ``t``; returns the decisions' ``(R, P)`` probabilities and
    firings (policy ``k`` fires where its uniform draw ``u[:, k]`` is below its probability)."""
    begin_month(state, world, t)
    prob = np.zeros((state.x.shape[0], len(world.decisions)))
    for d in world.decisions:
        prob[:, d.index] = probability(state, world, d, t)
    fired = u[:, :prob.shape[1]] < prob
    act(state, world, t, fired)
    evolve(state, world, noise)
    return prob, fired


Backend = Literal["numpy", "numba"]
BACKENDS: tuple[str, ...] = ("numpy", "numba")
"""``numpy``: the reference (:func:`month`); ``numba``: the same month compiled and fused
(:mod:`sim.numba_engine`; ``pip install sim[fast]``)."""


class BackendError(ImportError):
    """The numba backend was asked for and numba is not installed; ``cause`` is the import
    error's text (the command line words its own message from it)."""

    def __init__(self, cause: str) -> None:
        self.cause = cause
        super().__init__(f"backend='numba' needs numba, which is not installed ({cause}); "
                         "install it with `pip install sim[fast]` or use backend='numpy'")


def numba_backend() -> Any:
    """:mod:`sim.numba_engine`. Raises :class:`BackendError` (an ImportError) naming
    ``pip install sim[fast]`` if numba is not installed."""
    try:
        return importlib.import_module("sim.numba_engine")
    except ImportError as err:
        raise BackendError(str(err)) from None


def batch_size(world: World) -> int:
    """Runs advanced together: enough to amortise numpy's per-call cost, few enough that a
    batch's ``(R, N, N)`` arrays stay in the CPU cache (~300 kB each; 1041 runs of 6 states)."""
    return int(min(2048, max(1, 300_000 // (8 * world.n * world.n))))


def simulate(world: World, seed: int, runs: np.ndarray | range | int,
             batch: int | None = None, params: Params | Mapping[str, Any] | None = None,
             backend: Backend = "numpy") -> Trajectory:
    """Run the runs ``runs`` (indices, or a count from 0) of master ``seed``.

    ``params``: parameter values (dotted names, :mod:`sim.params`) replacing the scenario's,
    each a scalar for every run or an array with one value per run (row ``k`` for ``runs[k]``),
    or a :class:`~sim.params.Params`; None: the scenario's own. ``backend``: ``"numpy"`` (the
    reference) or ``"numba"`` (the same numbers to rounding, faster). Raises
    :class:`~sim.spec.ScenarioError` for unknown names or values out of range, ValueError for an
    unknown backend and :class:`BackendError` for ``"numba"`` without numba installed."""
    runs = np.arange(runs) if isinstance(runs, int) else np.asarray(runs)
    par = None if params is None else resolve(world.spec, params, len(runs))
    traj = Trajectory.empty(world, seed, runs, par)
    simulate_into(traj, 0, len(runs), batch, backend)
    return traj


def simulate_into(traj: Trajectory, lo: int, hi: int, batch: int | None = None,
                  backend: Backend = "numpy") -> None:
    """Fill rows ``lo .. hi-1`` of ``traj`` (runs ``traj.runs[lo:hi]`` of ``traj.seed``, with rows
    ``lo .. hi-1`` of ``traj.params``), ``batch`` runs at a time (default :func:`batch_size`),
    with ``backend`` (errors as :func:`simulate`)."""
    advance(traj.world, traj.seed, traj.runs, traj.params, traj, lo, hi, batch, backend)


def advance(world: World, seed: int, runs: np.ndarray, params: Params | None,
            recorder: Recorder, lo: int, hi: int, batch: int | None = None,
            backend: Backend = "numpy") -> None:
    """Run rows ``lo .. hi-1`` (runs ``runs[lo:hi]`` of master ``seed``, with those rows of
    ``params``; None: the scenario's) ``batch`` runs at a time (default :func:`batch_size`) on
    ``backend``, handing the start and every month to ``recorder`` (:class:`Recorder`); nothing
    else is kept. Raises ValueError for an unknown backend and :class:`BackendError` for
    ``"numba"`` without numba. The many small matrix products run on one BLAS thread: more
    threads only spin on them (results are the same)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, not {backend!r}")
    fast = numba_backend() if backend == "numba" else None
    default = Params.from_spec(world.spec) if params is None else None
    step = max(1, batch or batch_size(world))
    philox_key = key(seed)
    with threadpool_limits(1, user_api="blas"):
        for start in range(lo, hi, step):
            rows = slice(start, min(hi, start + step))
            par = default if params is None else params.take(rows)
            state = State.initial(world, rows.stop - rows.start, par)
            recorder.record(rows, -1, state.x, state.imports, None, None)
            if fast is not None:  # random numbers drawn in the kernel
                fast.Batch(world, state).run(philox_key, runs[rows],
                                             _block_sink(recorder, rows, fast))
                continue
            draws = Draws(seed, runs[rows], world.n, world.months)
            for t in range(world.months):
                noise, u = draws.month(t)
                prob, fired = month(state, world, t, noise, u)
                recorder.record(rows, t, state.x, state.imports, prob, fired)


def _block_sink(recorder: Recorder, rows: slice, fast: Any) -> Any:
    """How the numba backend hands a block of months (run-innermost ``(M, N, N, R)`` and
    ``(M, P, R)`` buffers, :meth:`sim.numba_engine.Batch.run`) to ``recorder``: a
    :class:`Trajectory`'s arrays are filled run by run by compiled code; any other recorder
    gets each month as ``(R, N, N)`` and ``(R, P)`` views, as from the numpy backend."""
    if isinstance(recorder, Trajectory):
        out = (recorder.x[rows], recorder.imports[rows], recorder.prob[rows],
               recorder.fired[rows])
        return lambda t0, count, *block: fast.copy_block(*block, count, t0, *out)

    def sink(t0: int, count: int, xb: np.ndarray, ib: np.ndarray, pb: np.ndarray,
             fb: np.ndarray) -> None:
        for m in range(count):
            recorder.record(rows, t0 + m, xb[m].transpose(2, 0, 1), ib[m].transpose(2, 0, 1),
                            pb[m].T, fb[m].T)
    return sink
