"""Which runs of two scenario ensembles are paired, and on what.

``sim.compare`` runs every scenario with the same master seed and, under parameter uncertainty,
the same parameter draws. Run ``i`` of a scenario and run ``i`` of the reference then share

- their **random streams** (:mod:`sim.seeds`: run ``i`` of master seed ``s`` draws the same
  relation noise and the same decision uniforms in every scenario with the same states and
  start; policy ``k`` always reads slot ``k``), and
- their **parameter draw** (run ``i = d·K + k`` belongs to draw ``d`` in every scenario, with
  the same values of every parameter the scenarios share; ``Trajectory.draw``).

Their difference ``scenario_i − reference_i`` is then the effect of the scenario's changes with
noise and parameters held fixed: a *paired* difference. Where the streams are not shared (other
states, another start, other seeds), ``run i − run i`` is still a difference of two runs of the
same draw, but not a paired one: :class:`Pairing` says so (``streams``), and so do the tables
and figures.

Nothing here runs a model: it reads :class:`~sim.results.Results`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.results import Results


def draw_index(traj: Any) -> np.ndarray:
    """The parameter draw of each run of a trajectory (``traj.draw``, ``(R,)`` ints); all zeros
    (one draw: fixed parameters) when the trajectory carries none."""
    draw = getattr(traj, "draw", None)
    runs = len(traj.runs)
    if draw is None:
        return np.zeros(runs, dtype=int)
    draw = np.asarray(draw, dtype=int)
    if draw.shape != (runs,):
        raise ValueError(f"draw index of shape {draw.shape}; expected one per run ({runs},)")
    return draw


@dataclass(frozen=True)
class Pairing:
    """Runs and dates a scenario shares with the reference.

    ``rows``/``ref_rows``: rows of the scenario's and the reference's trajectories holding the
    same run id; ``dates``: the months both cover, at steps ``steps`` (scenario) and
    ``ref_steps`` (reference); ``draw``: the parameter draw of each pair (the reference's);
    ``streams``: True when the pairs share their random streams (same seed, states, start);
    ``reasons``: why not, or what else is not shared (one phrase each)."""

    rows: np.ndarray
    ref_rows: np.ndarray
    dates: list[str]
    steps: np.ndarray
    ref_steps: np.ndarray
    draw: np.ndarray
    streams: bool = True
    reasons: list[str] = field(default_factory=list)

    @property
    def pairs(self) -> int:
        return len(self.rows)

    def difference(self, values: np.ndarray, ref_values: np.ndarray) -> np.ndarray:
        """``scenario − reference`` run by run at the shared dates, ``(pairs, len(dates))``,
        from ``(R, T+1)`` arrays of each ensemble."""
        return (values[np.ix_(self.rows, self.steps)]
                - ref_values[np.ix_(self.ref_rows, self.ref_steps)])


def _same_params(res: Results, ref: Results, rows: np.ndarray, ref_rows: np.ndarray
                 ) -> list[str]:
    """Parameters both ensembles vary by run whose values differ in some pair."""
    a, b = res.traj.params, ref.traj.params
    if a is None or b is None:
        return []
    differ = []
    for name in sorted(set(a.per_run) & set(b.per_run)):
        va, vb = np.asarray(a[name]), np.asarray(b[name])
        if not np.array_equal(va[rows], vb[ref_rows]):
            differ.append(name)
    return differ


def pair(res: Results, ref: Results, name: str = "scenario", ref_name: str = "reference"
         ) -> Pairing:
    """How ``res`` pairs with ``ref`` run by run (see the module docstring)."""
    _, rows, ref_rows = np.intersect1d(res.traj.runs, ref.traj.runs, return_indices=True)
    ref_steps_of = {d: i for i, d in enumerate(ref.dates)}
    dates = [d for d in res.dates if d in ref_steps_of]
    steps = np.array([res.dates.index(d) for d in dates], dtype=int)
    ref_steps = np.array([ref_steps_of[d] for d in dates], dtype=int)
    draw, ref_draw = draw_index(res.traj)[rows], draw_index(ref.traj)[ref_rows]
    w, rw = res.world, ref.world
    reasons, streams = [], True
    if int(res.traj.seed) != int(ref.traj.seed):
        streams = False
        reasons.append(f"{name} has master seed {res.traj.seed}, {ref_name} "
                       f"{ref.traj.seed}: run i of one does not share random streams with "
                       "run i of the other")
    if w.start != rw.start:
        streams = False
        reasons.append(f"{name} starts in {w.start}, not {rw.start}: month t differs, so its "
                       f"random draws are not paired with {ref_name}'s by date")
    elif w.ids != rw.ids:
        streams = False
        reasons.append(f"{name} has other states than {ref_name}: its random draws are not "
                       f"paired with {ref_name}'s")
    added = [s for s in w.ids if s not in rw.ids]
    if added:
        reasons.append(f"{name} adds {', '.join(added)} (not in {ref_name}): their relations "
                       f"with {ref_name}'s triangle are in the table with no paired difference "
                       "(pairs 0)")
    elif [d.label for d in w.decisions][:len(rw.decisions)] != [
            d.label for d in rw.decisions][:len(w.decisions)]:
        reasons.append(f"{name} orders its policies differently from {ref_name}: relation "
                       "noise is paired, decision draws are not")
    if not np.array_equal(draw, ref_draw):
        reasons.append(f"{name}'s runs belong to other parameter draws than {ref_name}'s: "
                       "differences mix parameter and scenario effects")
    else:
        differ = _same_params(res, ref, rows, ref_rows)
        if differ:
            shown = ", ".join(differ[:3]) + (" …" if len(differ) > 3 else "")
            reasons.append(f"{name}'s parameter draws differ from {ref_name}'s in {shown}: "
                           "differences mix parameter and scenario effects")
    return Pairing(rows, ref_rows, dates, steps, ref_steps, ref_draw, streams, reasons)


def pairings(results: Mapping[str, Results], reference: str) -> dict[str, Pairing]:
    """Every scenario's :class:`Pairing` with ``reference`` (the reference's with itself)."""
    ref = results[reference]
    return {n: pair(r, ref, n, reference) for n, r in results.items()}


def shared_horizon(results: Mapping[str, Results]) -> str | None:
    """The last month every ensemble covers (None if they share none)."""
    common = set.intersection(*(set(r.dates) for r in results.values()))
    return max(common) if common else None


def notes(results: Mapping[str, Results], reference: str,
          pairs: Mapping[str, Pairing] | None = None) -> list[str]:
    """Everything that is not paired, in words (shown with every table)."""
    pairs = pairs or pairings(results, reference)
    out = [r for n in results if n != reference for r in pairs[n].reasons]
    if len({tuple(r.dates) for r in results.values()}) > 1:
        out.append(f"the scenarios cover different months: the horizon is "
                   f"{shared_horizon(results)}, the last month they all share")
    return out


__all__ = ["Pairing", "draw_index", "notes", "pair", "pairings", "shared_horizon"]
