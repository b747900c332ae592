"""The input space of an exploration: one :class:`Factor` per varied parameter.

A factor is a registered parameter (:mod:`sim.params`) with a marginal distribution:

- the distribution the scenario declares in ``[uncertainties]`` (exact inverse CDF,
  :func:`sim.uncertainty.quantile`);
- for ``from = "calibration"`` entries, the marginal of the scenario's own draws
  (:func:`sim.uncertainty.draw_table`, :data:`EMPIRICAL` draws): global sensitivity methods
  need independent inputs, so parameters drawn jointly are varied independently, each over its
  own marginal (said in every output);
- with ``which="all"``, every other registered number the scenario uses (no switches: switching
  a policy off is :mod:`sim.explore.attribution`'s question): its documented plausible range if
  it has one, else 0.5 to 1.5 times the scenario's value within the allowed range (the rule the
  shipped scenarios state for their undeclared entries). A parameter at 0 with no plausible range
  has no such range and is left out (listed in :attr:`Space.left_out`).

Points of the unit cube map to values through :meth:`Factor.values`; everything else keeps the
scenario's value. Errors: :class:`sim.output.UserError` for an empty space or a parameter name
that is not a factor (did-you-mean).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from sim.output import UserError
from sim.params import Param, Params, registry, within_rules
from sim.spec import ScenarioError, ScenarioSpec, Uncertainty
from sim.uncertainty import U_EDGE, declared, draw_table, quantile

EMPIRICAL = 4096
"""Draws behind the marginal of a parameter drawn from the calibration."""
FALLBACK = (0.5, 1.5)
"""Multiples of the scenario's value spanned by an undeclared parameter (``which="all"``)."""
Which = Literal["declared", "all"]


@dataclass(frozen=True, eq=False)
class Factor:
    """One varied parameter: ``name`` (registered), ``kind`` (float or int), support
    ``lo``..``hi``, ``source`` (where the distribution comes from, in words) and either the
    declared ``dist`` (with its :class:`~sim.params.Param`) or an empirical ``grid`` of
    quantiles (or, for a fallback range, a uniform one)."""

    name: str
    kind: str
    lo: float
    hi: float
    source: str
    param: Param
    dist: Uncertainty | None = None
    grid: np.ndarray | None = None

    def values(self, q: np.ndarray) -> np.ndarray:
        """The parameter's values at probabilities ``q`` (kept in ``[U_EDGE, 1-U_EDGE]``);
        whole numbers for an ``int`` parameter."""
        q = np.clip(np.asarray(q, dtype=float), U_EDGE, 1 - U_EDGE)
        if self.dist is not None:
            v = quantile(self.dist, self.param, q)
        elif self.grid is not None:
            v = np.interp(q, np.linspace(0.0, 1.0, len(self.grid)), self.grid)
        else:
            v = self.lo + q * (self.hi - self.lo)
        return np.round(v).astype(np.int64) if self.kind == "int" else v

    def quantiles(self, points: int = 1025) -> np.ndarray:
        """``points`` quantiles from ``U_EDGE`` to ``1-U_EDGE`` (increasing)."""
        return self.values(np.linspace(0.0, 1.0, points))


@dataclass(frozen=True, eq=False)
class Space:
    """The factors of a scenario, and the registered numbers left at their value."""

    spec: ScenarioSpec
    factors: list[Factor]
    left_out: list[str] = field(default_factory=list)
    joint: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.factors]

    def __len__(self) -> int:
        return len(self.factors)

    def subset(self, names: Sequence[str]) -> Space:
        """The factors ``names`` (in that order). Raises :class:`UserError` for a name that
        is not a factor (did-you-mean)."""
        by = {f.name: f for f in self.factors}
        for n in names:
            if n not in by:
                close = difflib.get_close_matches(n, list(by), 1, 0.6)
                hint = f' (did you mean "{close[0]}"?)' if close else ""
                raise UserError(f"--params: got {n!r}; expected a varied parameter of "
                                f"{self.spec.scenario.name} (see factors.csv or sim params)"
                                f"{hint}")
        return Space(self.spec, [by[n] for n in dict.fromkeys(names)], self.left_out,
                     [n for n in self.joint if n in names])

    def values(self, unit: np.ndarray) -> dict[str, np.ndarray]:
        """Per-run values ``{name: (n,)}`` of points ``unit`` ``(n, len(self))`` of the unit
        cube."""
        unit = np.atleast_2d(unit)
        return {f.name: f.values(unit[:, j]) for j, f in enumerate(self.factors)}

    def params(self, unit: np.ndarray, spec: ScenarioSpec | None = None) -> Params:
        """:class:`~sim.params.Params` of ``spec`` (default the space's scenario) at points
        ``unit``; parameters ``spec`` does not have are left out; a long-run trade elasticity
        below the one-year one is raised to it (:func:`sim.params.within_rules`). Raises
        :class:`UserError` if a point still breaks a rule between parameters."""
        spec = spec or self.spec
        reg = registry(spec)
        vals = within_rules({n: v for n, v in self.values(unit).items() if n in reg})
        try:
            return Params.from_spec(spec, vals, runs=len(np.atleast_2d(unit)))
        except ScenarioError as err:
            raise UserError(f"{err}: a point of the design breaks a rule between parameters; "
                            "narrow their ranges in [uncertainties] or leave one out "
                            "(--params)") from None

    def table(self) -> list[dict[str, object]]:
        """One row per factor: ``parameter``, ``kind``, ``lo``, ``median``, ``hi``,
        ``source``."""
        return [{"parameter": f.name, "kind": f.kind, "lo": f.lo,
                 "median": float(f.values(np.array([0.5]))[0]), "hi": f.hi,
                 "source": f.source} for f in self.factors]


def _fallback(p: Param, value: float) -> tuple[float, float, str] | None:
    """The range of an undeclared parameter, or None if it has none."""
    if p.plausible is not None:
        lo, hi = p.plausible
        return lo, hi, f"not declared: documented plausible range ({p.plausible_source})"
    lo, hi = sorted((FALLBACK[0] * value, FALLBACK[1] * value))
    lo = lo if p.lo is None else max(lo, p.lo)
    hi = hi if p.hi is None else min(hi, p.hi)
    if p.kind == "int":
        lo, hi = float(np.ceil(lo)), float(np.floor(hi))
    if not lo < hi:
        return None
    return lo, hi, (f"not declared: {FALLBACK[0]:g} to {FALLBACK[1]:g} times the scenario's "
                    "value (our choice, as for the shipped scenarios' undeclared entries)")


def space(spec: ScenarioSpec, which: Which = "declared") -> Space:
    """The factors of ``spec`` (see the module docstring), in registry order. Raises
    :class:`UserError` if there are none."""
    reg, decl = registry(spec), declared(spec)
    joint = [n for n in decl if decl[n].kind == "calibration"]
    grid_of: dict[str, np.ndarray] = {}
    if joint:
        names, table = draw_table(spec, EMPIRICAL, spec.scenario.seed)
        q = np.linspace(0.0, 1.0, 1025)
        grid_of = {n: np.quantile(table[:, names.index(n)], q) for n in joint}
    values = Params.from_spec(spec).values
    out, left_out = [], []
    for name, p in reg.items():
        if name in decl:
            u = decl[name]
            if name in grid_of:
                g = grid_of[name]
                out.append(Factor(name, p.kind, float(g[0]), float(g[-1]),
                                  "marginal of the joint draws from the calibration "
                                  "(varied independently)", p, grid=g))
            else:
                f = Factor(name, p.kind, 0.0, 0.0, u.text, p, dist=u)
                ends = f.values(np.array([0.0, 1.0]))
                out.append(Factor(name, p.kind, float(ends[0]), float(ends[1]),
                                  f"declared: {u.text}", p, dist=u))
        elif which == "all" and p.kind != "switch" and p.used:
            rng = _fallback(p, float(values[name]))
            if rng is None:
                left_out.append(name)
                continue
            out.append(Factor(name, p.kind, rng[0], rng[1], rng[2], p))
    if not out:
        raise UserError(f"{spec.source or spec.scenario.name}: no parameter to vary; expected "
                        "[uncertainties] in the scenario (or --all-params for every registered "
                        "number)")
    return Space(spec, out, left_out, joint)


def factors(spec: ScenarioSpec, which: Which = "declared") -> list[Factor]:
    """The factors of ``spec`` (:func:`space`)."""
    return space(spec, which).factors


__all__ = ["EMPIRICAL", "FALLBACK", "Factor", "Space", "factors", "space"]
