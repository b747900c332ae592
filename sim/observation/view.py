"""What a simulated trajectory offers to the observation channels (:class:`SimView`).

Time convention (as :mod:`sim.engine`): step ``s`` of a trajectory is the state at the start of
month ``s``; step ``t + 1`` is the state at the end of month ``t`` (after its events). A month's
value is its end-of-month state; a year's value is the mean of its twelve end-of-month states
(steps ``12k + 1 .. 12k + 12`` with ``k = Y - start_year`` for a January start), as
:mod:`sim.observe` does. Only complete calendar years inside the horizon have an annual value.

Relations: ``x[i, j]`` in (-1, 1) is i's disposition toward j; the latent value is
``z = artanh(x)`` (clipped to ``|x| <= 1 - 1e-9``, so ``|z| <= 10.7``). Imports ``imports[i, j]``:
i's goods imports from j, USD bn/yr (annual rate).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

X_CLIP = 1.0 - 1e-9
"""``|x|`` is clipped to this before ``artanh`` (the latent value of ``x = ±1`` is finite)."""


def latent(x: np.ndarray) -> np.ndarray:
    """``z = artanh(clip(x, -X_CLIP, X_CLIP))``, elementwise."""
    return np.arctanh(np.clip(np.asarray(x, dtype=float), -X_CLIP, X_CLIP))


def month_of(start: str, t: int) -> str:
    """The ``YYYY-MM`` label of month ``t`` after ``start`` (``YYYY-MM``)."""
    y0, m0 = int(start[:4]), int(start[5:7])
    k = y0 * 12 + (m0 - 1) + t
    return f"{k // 12:04d}-{k % 12 + 1:02d}"


def split_pair(pair: str) -> tuple[str, str]:
    """``"USA-CHN"`` or ``"USA->CHN"`` -> ``("USA", "CHN")``."""
    a, _, b = pair.replace("->", "-").partition("-")
    return a, b


@dataclass(frozen=True)
class SimView:
    """A trajectory's relations and imports as the channels see them.

    ``x`` and ``imports``: ``(R, T+1, N, N)``; ``ids``: the N state ids; ``start``: ``YYYY-MM``
    of month 0. Raises ValueError if the shapes disagree or the start is malformed.
    """

    x: np.ndarray
    imports: np.ndarray
    ids: tuple[str, ...]
    start: str

    def __post_init__(self) -> None:
        x, m = np.asarray(self.x, dtype=float), np.asarray(self.imports, dtype=float)
        if x.ndim != 4 or x.shape != m.shape or x.shape[-1] != len(self.ids):
            raise ValueError(f"SimView: x {x.shape} and imports {m.shape} must both be "
                             f"(R, T+1, N, N) with N = {len(self.ids)} ids")
        if len(self.start) != 7 or self.start[4] != "-":
            raise ValueError(f"SimView: start {self.start!r}; expected YYYY-MM")
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "imports", m)
        object.__setattr__(self, "ids", tuple(self.ids))

    @classmethod
    def from_trajectory(cls, traj: Any) -> SimView:
        """A view of a :class:`sim.engine.Trajectory` (its ``x``, ``imports`` and world)."""
        return cls(traj.x, traj.imports, tuple(traj.world.ids), traj.world.start)

    # ------------------------------------------------------------------ shape and time
    @property
    def runs(self) -> int:
        return self.x.shape[0]

    @property
    def months(self) -> int:
        return self.x.shape[1] - 1

    def month_labels(self) -> list[str]:
        """``YYYY-MM`` of months 0..T-1 (month t's end-of-month state is step t+1)."""
        return [month_of(self.start, t) for t in range(self.months)]

    def annual_steps(self) -> dict[int, np.ndarray]:
        """Steps of the twelve end-of-month states of every complete calendar year."""
        out: dict[int, list[int]] = {}
        for t, label in enumerate(self.month_labels()):
            out.setdefault(int(label[:4]), []).append(t + 1)
        return {y: np.array(s) for y, s in out.items() if len(s) == 12}

    def years(self) -> np.ndarray:
        """The complete calendar years of the horizon, sorted."""
        return np.array(sorted(self.annual_steps()), dtype=int)

    # ------------------------------------------------------------------ series (R, T+1)
    def _index(self, sid: str) -> int:
        try:
            return self.ids.index(sid)
        except ValueError:
            raise ValueError(f"SimView: no state {sid!r}; the view has {list(self.ids)}") from None

    def directed(self, i: str, j: str) -> np.ndarray:
        """``x[i, j]`` (i's relation toward j): ``(R, T+1)``."""
        return self.x[:, :, self._index(i), self._index(j)]

    def directed_latent(self, i: str, j: str) -> np.ndarray:
        """``z[i, j] = artanh(x[i, j])``: ``(R, T+1)``."""
        return latent(self.directed(i, j))

    def dyad_mean(self, pair: str) -> np.ndarray:
        """``x̄ = (x_ij + x_ji) / 2`` of ``"A-B"``: ``(R, T+1)``."""
        a, b = split_pair(pair)
        return 0.5 * (self.directed(a, b) + self.directed(b, a))

    def dyad_latent(self, pair: str) -> np.ndarray:
        """``z̄ = (z_ij + z_ji) / 2`` of ``"A-B"`` (the latent scale): ``(R, T+1)``."""
        a, b = split_pair(pair)
        return 0.5 * (self.directed_latent(a, b) + self.directed_latent(b, a))

    def flow(self, exporter: str, importer: str) -> np.ndarray:
        """Goods shipped from ``exporter`` to ``importer`` (``imports[importer, exporter]``),
        USD bn/yr: ``(R, T+1)``."""
        return self.imports[:, :, self._index(importer), self._index(exporter)]

    def pair_trade(self, pair: str) -> np.ndarray:
        """Goods trade of ``"A-B"``, both directions, USD bn/yr: ``(R, T+1)``."""
        a, b = split_pair(pair)
        return self.flow(a, b) + self.flow(b, a)

    # ------------------------------------------------------------------ aggregation
    def annual(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``values (R, T+1)`` -> (years, ``(R, Y)`` means of each year's 12 end-of-month
        states)."""
        steps = self.annual_steps()
        years = np.array(sorted(steps), dtype=int)
        if not len(years):
            return years, np.zeros((values.shape[0], 0))
        return years, np.stack([values[:, steps[y]].mean(axis=1) for y in years], axis=1)

    def at_years(self, values: np.ndarray, years: Sequence[int]) -> np.ndarray:
        """Annual means of ``values (R, T+1)`` at ``years``: ``(R, len(years))``.

        Raises ValueError naming the years the horizon does not cover completely."""
        have, ann = self.annual(values)
        pos = {int(y): k for k, y in enumerate(have)}
        missing = sorted({int(y) for y in years} - set(pos))
        if missing:
            raise ValueError(f"SimView: years {missing} are not complete calendar years of the "
                             f"run ({self.start}, {self.months} months)")
        return ann[:, [pos[int(y)] for y in years]]

    def monthly(self, values: np.ndarray) -> tuple[list[str], np.ndarray]:
        """``values (R, T+1)`` -> (``YYYY-MM`` of months 0..T-1, ``(R, T)`` end-of-month
        states)."""
        return self.month_labels(), values[:, 1:]

    def at_months(self, values: np.ndarray, months: Sequence[str]) -> np.ndarray:
        """End-of-month values of ``values (R, T+1)`` at ``YYYY-MM`` labels: ``(R, K)``.

        Raises ValueError naming the months outside the run."""
        labels, vals = self.monthly(values)
        pos = {m: k for k, m in enumerate(labels)}
        missing = [m for m in months if m not in pos]
        if missing:
            raise ValueError(f"SimView: months {missing[:3]}{'...' if len(missing) > 3 else ''} "
                             f"are outside the run ({self.start}, {self.months} months)")
        return vals[:, [pos[m] for m in months]]


__all__ = ["X_CLIP", "SimView", "latent", "month_of", "split_pair"]
