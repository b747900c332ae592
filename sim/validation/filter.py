"""Bootstrap particle filter over the engine's month loop (Gordon, Salmond & Smith 1993,
"Novel approach to nonlinear/non-Gaussian Bayesian state estimation", IEE Proc. F 140:107).

``R`` particles are ``R`` runs of the model advanced together by :func:`sim.engine.month`.
At the end of every assimilated year ``Y`` each particle's log-weight grows by the
log-likelihood of that year's observations given its path (``assimilate(traj, Y, theta)``,
e.g. the observation channels' ``loglik`` for ``first = last = Y``),

    log w_k ← log w_k + log p(y_Y | path_k),     ESS = 1 / Σ_k w̃_k²   (w̃ normalised),

and when ``ESS < threshold · R`` the particles are resampled systematically (Kitagawa 1996,
J. Comp. Graph. Stat. 5:1): the state rows, the recorded paths, the per-run parameters and the
per-run observation parameters all follow their ancestor, and weights reset to ``1/R``. After
the origin year the particles are resampled once more (so the forecast ensemble is equally
weighted) and continue without assimilation: the forecast starts from the filtered state.

**Random numbers.** Until the first resampling particle ``k`` draws the engine's own numbers of
run ``k`` (:class:`sim.seeds.Draws` of ``seed``), so with nothing to assimilate the filter is
exactly :func:`sim.engine.simulate`. After the ``g``-th resampling particle ``k`` in month ``t``
draws the numbers of run ``k``, month ``t`` under the derived master seed taken from
``SeedSequence(seed, spawn_key=(FILTER_KEY, g))`` (:func:`_generation_seed`);
the systematic offset of resampling ``g`` comes from ``spawn_key=(FILTER_KEY, g, 1)``. Nothing
depends on how particles are batched: same inputs and seed, same result bit for bit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from sim.engine import Trajectory, month
from sim.kernels import State
from sim.params import Params, resolve
from sim.seeds import Draws
from sim.spec import month_index
from sim.world import World

FILTER_KEY = 104_729
"""Spawn-key tag of the filter's streams (disjoint from :mod:`sim.seeds` and the backtest)."""

Assimilate = Callable[[Trajectory, int, dict[str, Any]], np.ndarray]
"""``(traj, year, theta) -> (R,)`` log-likelihood of year ``year``'s observations for each
particle, given its path in ``traj`` (steps up to the end of ``year`` are filled) and its
observation parameters ``theta`` (scalars or ``(R,)`` arrays, resampled with the particles)."""


@dataclass
class FilterResult:
    """``traj``: the particles' ancestral paths to the origin and their forecasts after it
    (equally weighted), with ``traj.params`` the particles' parameters; ``years``: the
    assimilated years; ``ess``: effective sample size after assimilating each year, before any
    resampling, ``(len(years),)``; ``resampled``: whether the particles were resampled after
    each year; ``theta``: the per-particle observation parameters after resampling;
    ``loglik``: log of the mean incremental likelihood summed over years (the filter's
    estimate of ``log p(y_{first..origin})``)."""

    traj: Trajectory
    years: np.ndarray
    ess: np.ndarray
    resampled: np.ndarray
    theta: dict[str, Any]
    loglik: float


def year_end_step(start: str, year: int) -> int:
    """Trajectory step of the end of December of ``year`` (step ``t + 1`` = end of month
    ``t``) for a scenario starting ``start`` (YYYY-MM)."""
    return month_index(start, f"{year}-12") + 1


def ess(logw: np.ndarray) -> float:
    """Effective sample size ``1 / Σ w̃²`` of log-weights ``(R,)`` (Kong, Liu & Wong 1994)."""
    w = np.exp(logw - logw.max())
    w /= w.sum()
    return float(1.0 / np.sum(w * w))


def systematic(logw: np.ndarray, u: float) -> np.ndarray:
    """Ancestor indices ``(R,)`` by systematic resampling: particle ``k`` is drawn
    ``#{j : (j + u)/R ∈ [C_{k-1}, C_k)}`` times, ``C`` the cumulative normalised weights,
    ``u ∈ [0, 1)`` one uniform. Indices are sorted (ancestors in particle order)."""
    w = np.exp(logw - logw.max())
    c = np.cumsum(w / w.sum())
    c[-1] = 1.0
    r = len(logw)
    return np.minimum(np.searchsorted(c, (np.arange(r) + u) / r, side="right"), r - 1)


def take_state(state: State, idx: np.ndarray, world: World) -> State:
    """The state of particles ``idx``: every per-run array row-indexed, the parameters by
    :meth:`Params.take` and anything built from them (the event plan) rebuilt."""
    if hasattr(state, "take"):
        return state.take(idx, world)
    r = state.x.shape[0]
    par = state.par.take(idx)
    out: dict[str, Any] = {}
    for f in dataclasses.fields(state):
        v = getattr(state, f.name)
        if f.name == "par":
            out[f.name] = par
        elif isinstance(v, np.ndarray):
            per_run = v.ndim >= 2 and v.shape[0] == r and (f.name != "x0" or v.ndim == 3)
            out[f.name] = v[idx].copy() if per_run else v
        elif hasattr(type(v), "build"):
            out[f.name] = type(v).build(world, par)
        else:
            out[f.name] = v
    return type(state)(**out)


def take_theta(theta: Mapping[str, Any], idx: np.ndarray, runs: int) -> dict[str, Any]:
    """Observation parameters of particles ``idx``: ``(R,)`` arrays indexed, scalars kept."""
    return {k: (np.asarray(v)[idx] if np.ndim(v) and np.shape(v)[0] == runs else v)
            for k, v in theta.items()}


def _generation_seed(seed: int, g: int) -> int:
    """Master seed of the streams after the ``g``-th resampling (``g = 0``: ``seed``)."""
    if g == 0:
        return seed
    ss = np.random.SeedSequence(seed, spawn_key=(FILTER_KEY, g))
    return int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))


def _offset(seed: int, g: int) -> float:
    """The systematic-resampling uniform of resampling ``g``."""
    return float(np.random.default_rng(np.random.SeedSequence(
        seed, spawn_key=(FILTER_KEY, g, 1))).random())


def particle_filter(world: World, seed: int, particles: int, assimilate: Assimilate,
                    years: range | list[int], params: Params | Mapping[str, Any] | None = None,
                    theta: Mapping[str, Any] | None = None, threshold: float = 0.5
                    ) -> FilterResult:
    """Filter ``particles`` runs of ``world`` through ``years`` (assimilated at each year's
    end, ascending), then forecast to the end of the world's horizon from the filtered state.

    ``params``: per-particle model parameters (e.g. posterior draws; row ``k`` for particle
    ``k``) or None for the scenario's; ``theta``: observation parameters, scalars or ``(R,)``
    arrays, handed to ``assimilate`` and resampled with the particles (returned in the result).
    Raises ValueError if a year falls outside the scenario or a log-likelihood is not
    ``(R,)`` or all particles have zero likelihood."""
    years = sorted(int(y) for y in years)
    ends = {year_end_step(world.start, y): y for y in years}
    if any(not 1 <= s <= world.months for s in ends):
        raise ValueError(f"years {years}: expected years whose December lies within "
                         f"{world.start} + {world.months} months")
    r = int(particles)
    par = resolve(world.spec, params, r)
    traj = Trajectory.empty(world, seed, np.arange(r), par)
    theta = dict(theta or {})
    state = State.initial(world, r, par)
    traj.x[:, 0], traj.imports[:, 0] = state.x, state.imports
    logw = np.zeros(r)
    gen = 0
    draws = Draws(seed, traj.runs, world.n, world.months)
    ess_out, res_out, total = [], [], 0.0
    origin = max(ends) if ends else 0
    with threadpool_limits(1, user_api="blas"):
        for t in range(world.months):
            noise, u = draws.month(t)
            traj.prob[:, t], traj.fired[:, t] = month(state, world, t, noise, u)
            traj.x[:, t + 1], traj.imports[:, t + 1] = state.x, state.imports
            if t + 1 not in ends:
                continue
            inc = np.asarray(assimilate(traj, ends[t + 1], theta), dtype=float)
            if inc.shape != (r,) or np.isnan(inc).any():
                raise ValueError(f"log-likelihood of {ends[t + 1]}: shape {inc.shape} with "
                                 f"NaN={np.isnan(inc).any()}; expected ({r},) numbers")
            if not np.isfinite(inc).any():
                raise ValueError(f"{ends[t + 1]}: every particle has zero likelihood")
            w_prev = np.exp(logw - logw.max())
            w_prev /= w_prev.sum()
            m = inc.max()
            total += m + float(np.log(np.sum(w_prev * np.exp(inc - m))))
            logw = logw + inc
            ess_out.append(ess(logw))
            last = t + 1 == origin
            resample = last or ess_out[-1] < threshold * r
            res_out.append(resample)
            if resample:
                gen += 1
                idx = systematic(logw, _offset(seed, gen))
                state = take_state(state, idx, world)
                for f in ("x", "imports", "prob", "fired"):
                    setattr(traj, f, getattr(traj, f)[idx])
                traj.params = state.par
                theta = take_theta(theta, idx, r)
                logw = np.zeros(r)
                draws = Draws(_generation_seed(seed, gen), traj.runs, world.n, world.months)
    return FilterResult(traj, np.array(sorted(ends.values())), np.array(ess_out),
                        np.array(res_out, dtype=bool), theta, total)


__all__ = ["FILTER_KEY", "FilterResult", "ess", "particle_filter", "systematic", "take_state",
           "take_theta", "year_end_step"]
