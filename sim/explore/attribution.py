"""Which scheduled event, and which decision, matters: per-event and per-policy attribution.

For each scheduled event of a scenario (enabled ones), three variants: the scenario without it
(``removed``), and with its magnitude ×0.5 and ×1.5 (``x0.5``, ``x1.5``: its intensity and, where
it has them, its tariff rate, gas volume and trade amount; kept within their allowed ranges).
For each policy, the scenario with it switched off (``off``). Every variant runs the full
scenario's design: the same parameter draws (:mod:`sim.uncertainty`, ``D`` draws × ``K`` runs)
and the same random streams (run ``i`` of every variant is paired with run ``i`` of the full
scenario), so ``variant − full`` run by run is the change due to that one edit.

The table gives, per item, change, outcome and date, the effect statistics of
:func:`sim.effects.effect_stats`: mean, Monte-Carlo 95% interval of the mean, 90% interval across
parameter draws (``param_lo``..``param_hi``), sign share. The tornado chart shows them per
outcome and date.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.effects import effect_stats
from sim.explore import common
from sim.explore.runner import numeric_outcomes, outcome_values
from sim.params import get, registry, with_values
from sim.spec import Event, ScenarioSpec
from sim.uncertainty import Design, counted, declared, make_design
from sim.world import World, policy_labels

SCALES = (0.5, 1.5)
MAGNITUDES = ("intensity", "rate", "gas_bcm", "trade_bn")
"""Event fields scaled by ×0.5 / ×1.5 (coverage is the base a rate applies to: not scaled)."""
COLUMNS = ["item", "kind", "change", "outcome", "date", "runs", "draws", "full_mean", "mean",
           "mc_lo", "mc_hi", "param_lo", "param_hi", "sign_share", "zero_share"]


def event_label(ev: Event, index: int) -> str:
    """An event's id, or ``type actor->target date`` (with its position) if it has none."""
    if ev.id:
        return ev.id
    actor = "+".join(ev.actors)
    target = "+".join(ev.targets)
    return f"{ev.type} {actor}->{target} {ev.date} (#{index})"


def _bounded(value: float, name: str) -> float:
    """``value`` within the bounds the schema gives event field ``name``."""
    lo = hi = None
    for m in Event.model_fields[name].metadata:
        lo, hi = getattr(m, "ge", lo), getattr(m, "le", hi)
    return float(np.clip(value, -np.inf if lo is None else lo, np.inf if hi is None else hi))


def with_events(spec: ScenarioSpec, changes: Mapping[int, tuple[bool, float]]) -> ScenarioSpec:
    """``spec`` with each scheduled event ``index`` of ``changes`` switched on or off and its
    magnitudes (:data:`MAGNITUDES`, kept within their allowed ranges) scaled: ``{index: (on,
    scale)}``. ``spec`` itself if nothing changes. Shared by the attribution variants, the EMA
    adapter's levers (:class:`sim.ema.Runner`) and ``sim discover --events``."""
    if all(spec.events[i].enabled == bool(on) and scale == 1.0
           for i, (on, scale) in changes.items()):
        return spec
    data = spec.model_dump()
    for index, (on, scale) in changes.items():
        ev = data["events"][index]
        ev["enabled"] = bool(on)
        if scale != 1.0:
            for key in MAGNITUDES:
                if ev.get(key) is not None:
                    ev[key] = _bounded(ev[key] * float(scale), key)
    return ScenarioSpec.model_validate(data)


def event_variant(spec: ScenarioSpec, index: int, change: str) -> ScenarioSpec:
    """``spec`` with event ``index`` removed (``change="removed"``) or its magnitude scaled
    (``"x0.5"``, ``"x1.5"``)."""
    if change == "removed":
        return with_events(spec, {index: (False, 1.0)})
    return with_events(spec, {index: (spec.events[index].enabled,
                                      float(change.removeprefix("x")))})


def enabled_events(spec: ScenarioSpec) -> list[tuple[int, str]]:
    """``(index, label)`` of each enabled scheduled event (:func:`event_label`)."""
    return [(i, event_label(ev, i)) for i, ev in enumerate(spec.events) if ev.enabled]


def policy_switches(spec: ScenarioSpec) -> dict[str, str]:
    """Decision label -> its registered on/off switch (the ``switch`` parameter of that
    policy in :func:`sim.params.registry`)."""
    reg = registry(spec)
    out = {}
    for label in policy_labels(spec.policies):
        prefix = f"policies.{label}."
        switch = [n for n, p in reg.items() if n.startswith(prefix) and p.kind == "switch"
                  and n.count(".") == prefix.count(".")]
        if switch:
            out[label] = switch[0]
    return out


def variants(spec: ScenarioSpec, events: bool = True, policies: bool = True,
             scales: Sequence[float] = SCALES) -> list[tuple[str, str, str, ScenarioSpec]]:
    """``(item, kind, change, spec)`` for every enabled scheduled event (removed, and each
    scale) and every enabled policy (off)."""
    out = []
    if events:
        for i, label in enabled_events(spec):
            out.append((label, "event", "removed", event_variant(spec, i, "removed")))
            out += [(label, "event", f"x{s:g}", event_variant(spec, i, f"x{s:g}"))
                    for s in scales]
    if policies:
        for label, switch in policy_switches(spec).items():
            if get(spec, switch):
                out.append((label, "policy", "off", with_values(spec, {switch: False})))
    return out


@dataclass
class Attribution:
    """Per-event and per-policy effects (module docstring): ``table`` (:data:`COLUMNS`),
    ``values`` (full scenario's outcomes per run), the design and notes."""

    spec: ScenarioSpec
    design: Design
    outcomes: list[str]
    dates: list[str]
    table: pd.DataFrame
    seconds: float
    runs: int
    notes: list[str] = field(default_factory=list)

    @property
    def scenario(self) -> str:
        return self.spec.scenario.name

    @property
    def draws(self) -> int:
        return self.design.draws

    @property
    def reps(self) -> int:
        return self.design.runs_per_draw

    def figures(self) -> dict[str, Figure]:
        """A tornado chart per outcome and date."""
        from sim.explore.figures import fig_tornado

        return {f"tornado_{common.stem(f'{o}_{d}')}": fig_tornado(self, o, d)
                for o in self.outcomes for d in self.dates}

    def markdown(self, k: int = 8) -> str:
        """The ``k`` largest changes per outcome and date (``summary.md``)."""
        lines = [f"# Attribution: {self.scenario}", "",
                 f"{counted(self.draws, 'parameter draw')} × {counted(self.reps, 'run')} per "
                 "variant, paired with the full scenario by random streams and parameter draws; "
                 f"{self.runs} runs in "
                 f"{self.seconds:.1f} s. Change = variant - full scenario.", ""]
        for o in self.outcomes:
            for d in self.dates:
                t = self.table[(self.table.outcome == o) & (self.table.date == d)]
                t = t.reindex(t["mean"].abs().sort_values(ascending=False).index).head(k)
                full = t["full_mean"].iloc[0] if len(t) else np.nan
                lines += [f"## {o} at {d} (full scenario: mean {full:.3f})", "",
                          "| item | change | mean [MC 95%] | 90% across draws | sign share |",
                          "|---|---|---|---|---|"]
                for _, r in t.iterrows():
                    lines.append(f"| {r['item']} | {r.change} | {r['mean']:+.4f} "
                                 f"[{r.mc_lo:+.4f}, {r.mc_hi:+.4f}] | {r.param_lo:+.4f} .. "
                                 f"{r.param_hi:+.4f} | {r.sign_share:.2f} |")
                lines.append("")
        if self.notes:
            lines += ["## Notes", ""] + [f"- {n}" for n in self.notes] + [""]
        return "\n".join(lines)

    def write(self, out: str | Path, force: bool = False, figures: bool = True,
              settings: dict[str, Any] | None = None) -> Path:
        """``attribution.csv``, ``summary.md``, ``draws.csv`` (if parameters were drawn),
        tornado figures and the manifest into ``out`` atomically."""
        tables = {"attribution": self.table}
        if self.design.names:
            tables["draws"] = self.design.table()
        info = {"kind": "attribute", "scenario": self.spec.source, "outcomes": self.outcomes,
                "dates": self.dates, "runs": self.runs, "seed": int(self.design.seed),
                "uncertainty": self.design.record(), "seconds": round(self.seconds, 2),
                **(settings or {})}
        return common.write_folder(out, force, [self.spec], tables,
                                   {"summary.md": self.markdown()},
                                   self.figures if figures else None, info)


def attribute(scenario: str | Path | ScenarioSpec, outcomes: Sequence[str] | None = None,
              dates: Sequence[str] | str | None = None, draws: int | None = 50,
              runs_per_draw: int | None = 4, seed: int | None = None, events: bool = True,
              policies: bool = True, fixed_params: bool = False, workers: int | None = 1,
              progress: bool = False, engine: str = "batched") -> Attribution:
    """Attribution of ``outcomes`` (default: the triangle's relations) at ``dates`` (default:
    the horizon) to each scheduled event and policy (module docstring). The design is
    :func:`sim.uncertainty.make_design` (``draws`` × ``runs_per_draw``; ``fixed_params``: the
    scenario's values, noise only). Raises :class:`sim.output.UserError`,
    :class:`sim.outcomes.OutcomeError` for bad input."""
    start = time.perf_counter()
    spec = common.load(scenario)
    world = World.from_spec(spec)
    names = [o.name for o in numeric_outcomes(world, outcomes or common.default_outcomes(world))]
    labels, steps = common.dates_of(world, dates)
    fixed = fixed_params or not declared(spec)
    if fixed:  # noise only: as many runs as draws x runs per draw would have been
        design = make_design(spec, runs_per_draw=(draws or 1) * (runs_per_draw or 1),
                             seed=seed, fixed=True)
    else:
        design = make_design(spec, draws=draws, runs_per_draw=runs_per_draw, seed=seed)
    streams = np.arange(design.runs)

    def run(s: ScenarioSpec, desc: str) -> np.ndarray:
        return outcome_values(World.from_spec(s), design.seed, streams, design.params_for(s),
                              names, steps, workers, progress, desc, engine=engine)

    full = run(spec, spec.scenario.name)
    todo = variants(spec, events, policies)
    rows = []
    for item, kind, change, vspec in todo:
        diff = run(vspec, f"{item} {change}") - full
        for i, o in enumerate(names):
            for j, d in enumerate(labels):
                st = effect_stats(diff[:, i, j], design.draw)
                rows.append({"item": item, "kind": kind, "change": change, "outcome": o,
                             "date": d, "full_mean": float(np.mean(full[:, i, j])), **st})
    notes = []
    if not todo:
        notes.append(f"{spec.scenario.name} has no enabled scheduled event and no policy: "
                     "nothing to attribute")
    if not design.names:
        notes.append("no parameter uncertainty (the scenario declares none, or "
                     "--fixed-params): intervals are over runs, not draws")
    return Attribution(spec, design, names, labels, pd.DataFrame(rows, columns=COLUMNS),
                       time.perf_counter() - start, design.runs * (len(todo) + 1), notes)


__all__ = ["COLUMNS", "MAGNITUDES", "SCALES", "Attribution", "attribute", "enabled_events",
           "event_label", "event_variant", "policy_switches", "variants", "with_events"]
