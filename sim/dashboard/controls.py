"""What-if controls of a scenario, built from its registries: a switch, a month or a number per
lever (each scheduled event: on/off, date, magnitude; each policy: on/off, threshold) and per
declared uncertainty (narrow or widen its range, or fix the parameter at a value).

Keys (:attr:`Control.key`):

- ``event:<id>.on`` / ``.date`` (``YYYY-MM`` within the horizon) / ``.scale`` (multiplies the
  event's ``intensity``; 0 keeps the event but gives it no effect);
- ``policy:<label>.on`` / ``.threshold`` (``policies.<label>.threshold`` of :mod:`sim.params`;
  a declared distribution of the threshold moves with it);
- ``uncertainty:<param>.width`` (multiplies the half-widths of the declared distribution about
  its mode, mean or median, kept within the allowed range; not for ``from = "calibration"``)
  / ``.fixed`` (None: drawn; a number: the parameter fixed there, its declaration dropped).

Events without an ``id`` cannot be changed by a child scenario (:mod:`sim.spec`), so they get no
control.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from sim.params import Param, registry
from sim.spec import ScenarioSpec, month_label
from sim.uncertainty import declared, draw_range
from sim.world import policy_labels

Kind = Literal["switch", "month", "number"]
Group = Literal["events", "policies", "uncertainties"]
SCALE_MAX = 3.0
"""Largest event scale offered (and below the schema's intensity cap of 10)."""
INTENSITY_MAX = 10.0
WIDTH_RANGE = (0.1, 3.0)
"""Narrowest and widest multiple of a declared range."""


@dataclass(frozen=True)
class Control:
    """One what-if control: ``key`` (see the module docstring), a short ``label``, its ``kind``,
    the scenario's own value as ``default`` (``.width``: 1.0; ``.fixed``: None = drawn), the
    bounds ``low``..``high`` and ``step`` of a number, the ``choices`` (``YYYY-MM``) of a month,
    its ``group`` and ``help`` (the scenario's or registry's citation)."""

    key: str
    label: str
    kind: Kind
    default: Any
    low: Any = None
    high: Any = None
    step: float | None = None
    choices: tuple[str, ...] = ()
    group: Group = "events"
    help: str = ""

    def __post_init__(self) -> None:
        if self.kind == "number" and self.step:  # a slider must not move a value by itself
            object.__setattr__(self, "step", grid_step(self.default, self.low, self.step))

    def snap(self, value: float) -> float:
        """``value`` on this number's grid ``low + k·step`` (where a slider can stop)."""
        return round(self.low + round((value - self.low) / self.step) * self.step, 12)


def grid_step(value: float | None, low: float, step: float, tries: int = 6) -> float:
    """``step``, divided by 10 until ``value`` lies on the grid ``low + k·step``: a slider
    snaps the value it is given to its grid, and a shipped value off the grid (a threshold of
    0.013 on steps of 0.01) would otherwise become a change nobody made."""
    if value is None:
        return step
    for _ in range(tries):
        k = (value - low) / step
        if abs(k - round(k)) < 1e-6:
            return step
        step /= 10
    return step


def horizon_months(spec: ScenarioSpec) -> tuple[str, ...]:
    """``YYYY-MM`` of every month at which a scheduled event can fall (step 0 to months − 1)."""
    return tuple(month_label(spec.scenario.start, t) for t in range(spec.scenario.months))


def _finite(v: float | None, fallback: float) -> float:
    return fallback if v is None or not math.isfinite(v) else float(v)


def event_controls(spec: ScenarioSpec) -> list[Control]:
    """On/off, date and scale of each scheduled event with an ``id``."""
    months, out = horizon_months(spec), []
    for i, ev in enumerate(spec.events):
        if ev.id is None:
            continue
        who = f"{'+'.join(ev.actors)} → {'+'.join(ev.targets)}"
        name = f"{ev.type.replace('_', ' ')} {who} ({ev.id})"
        cite = spec.cites.get(f"events[{i}]", ev.note)
        high = min(SCALE_MAX, INTENSITY_MAX / ev.intensity) if ev.intensity > 0 else SCALE_MAX
        out += [
            Control(f"event:{ev.id}.on", name, "switch", ev.enabled, help=cite),
            Control(f"event:{ev.id}.date", f"{name}: month", "month", ev.date[:7],
                    choices=months, help=cite),
            Control(f"event:{ev.id}.scale", f"{name}: magnitude ×", "number", 1.0, 0.0, high,
                    0.1, help=f"multiplies the intensity ({ev.intensity:g}). {cite}"),
        ]
    return out


def policy_controls(spec: ScenarioSpec) -> list[Control]:
    """On/off and threshold of each policy, by its decision label."""
    reg, out = registry(spec), []
    for k, (label, pol) in enumerate(zip(policy_labels(spec.policies), spec.policies,
                                         strict=True)):
        on, thr = reg[f"policies.{label}.enabled"], reg[f"policies.{label}.threshold"]
        cite = spec.cites.get(f"policies[{k}].threshold", thr.source)
        out += [
            Control(f"policy:{label}.on", f"{label} ({pol.rule.replace('_', ' ')})", "switch",
                    pol.enabled, group="policies",
                    help=spec.cites.get(f"policies[{k}]", on.source)),
            Control(f"policy:{label}.threshold", f"{label}: threshold", "number",
                    pol.threshold, _finite(thr.lo, -5.0), _finite(thr.hi, 5.0), 0.01,
                    group="policies", help=cite),
        ]
    return out


def fixed_range(u: Any, p: Param) -> tuple[float, float]:
    """Where a declared parameter may be fixed: its distribution's bounds, finite (else the
    allowed range; else ±10 around the centre)."""
    lo, hi = draw_range(u, p) if u.kind != "calibration" else (p.lo, p.hi)
    centre = p.default if isinstance(p.default, int | float) else 0.0
    return _finite(lo, centre - 10.0), _finite(hi, centre + 10.0)


def uncertainty_controls(spec: ScenarioSpec) -> list[Control]:
    """Width (not for calibration draws) and fixed value of each declared uncertainty."""
    reg, out = registry(spec), []
    for name, u in declared(spec).items():
        p = reg[name]
        lo, hi = fixed_range(u, p)
        help_ = f"{u.text}. {u.cite or ''}".strip()
        if u.kind != "calibration":
            out.append(Control(f"uncertainty:{name}.width", f"{name}: range ×", "number", 1.0,
                               *WIDTH_RANGE, 0.1, group="uncertainties", help=help_))
        out.append(Control(f"uncertainty:{name}.fixed", f"{name}: fixed at", "number", None,
                           lo, hi, _step(lo, hi), group="uncertainties", help=help_))
    return out


def _step(lo: float, hi: float) -> float:
    """A round step of about a hundredth of ``hi − lo``."""
    span = hi - lo
    return 10.0 ** math.floor(math.log10(span / 100)) if span > 0 else 0.01


def controls(spec: ScenarioSpec) -> list[Control]:
    """Every what-if control of ``spec``: events, policies, then declared uncertainties."""
    return event_controls(spec) + policy_controls(spec) + uncertainty_controls(spec)


def by_key(spec: ScenarioSpec) -> dict[str, Control]:
    """:func:`controls` by key."""
    return {c.key: c for c in controls(spec)}


__all__ = ["Control", "by_key", "controls", "horizon_months"]
