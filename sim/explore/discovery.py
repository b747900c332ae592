"""Scenario discovery: under which parameter values does a condition on outcomes hold?

``where`` is a condition over registered outcomes (:mod:`sim.outcomes`), clauses joined by
``and`` / ``or`` (``and`` binds first; no parentheses)::

    relation:CHN-RUS at 2027-05 > 0.8 and decision:CHN:finance_access by 2027-05

A clause is ``NAME [at|by DATE] [OP NUMBER]``: ``OP`` one of ``> >= < <= == !=``; without
``OP NUMBER`` the clause holds where the value is non-zero (a decision taken by then); ``DATE``
defaults to the horizon. Each run of the scenario's design (:func:`sim.uncertainty.make_design`:
the same draws as ``sim run``) either meets the condition or not.

**PRIM** (Friedman & Fisher 1999, EMA Workbench's ``analysis.prim``) peels the box of parameter
space where the condition holds most often: the peeling trajectory (coverage: share of the runs
meeting the condition that fall in the box; density: share of the runs in the box that meet it),
the chosen box (the largest coverage with density at least ``density``, else the densest) with
its limits and quasi-p values (one-sided binomial test of each restriction, EMA's ``qp``), and a
pairs plot of the restricted parameters. **CART** (EMA's ``analysis.cart``, a scikit-learn
decision tree) gives a second view: its leaves as boxes, with coverage and density.

**Events** (``events=True``, ``--events``). Each parameter draw also gets, for every enabled
scheduled event, a switch (on with probability :data:`P_ON`) and a magnitude scale (uniform over
0.5..1.5, the range :mod:`sim.explore.attribution` uses; applied as there, by
:func:`~sim.explore.attribution.with_events`, to the event's intensity, rate, gas volume and
trade amount). They are drawn by a Latin hypercube (a column per switch and per scale; a switch
is on where its coordinate is below :data:`P_ON`, so each event is on in half the draws, give or
take one) from their own stream ``SeedSequence(seed, spawn_key=(EVENT_TAG, 0))``: the parameter
draws and the runs' random streams are those without ``--events`` (run ``i`` keeps its numbers,
the design stays paired), and the same seed gives the same switches and scales. They enter PRIM
and CART as columns ``event:<label>.on`` (1 on, 0 off) and ``event:<label>.scale`` beside the
parameters (``<label>``: the event's id, as in ``sim attribute``); a scale matters only where its
event is on.

A World holds the scheduled events (:mod:`sim.world`), so the runs are grouped by event
configuration, one World per group, each group batched (:func:`sim.explore.runner.outcome_values`
with ``group``). Scales are continuous: every draw is its own configuration (events switched off
share one whatever their scale), so a run of ``D`` draws simulates about ``D`` small batches
(about 30 ms each for the baseline's 72 months on this machine, against about 0.6 ms per run in
one batch: some 15 s for 500 draws). Discretising the scales would not buy much: with the
baseline's six events even three levels give ``(1 + 3)^6 = 4096`` configurations, more than the
draws, so nearly every draw would still need its own World, and PRIM would peel a coarse grid.
"""

from __future__ import annotations

import logging
import operator
import re
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.explore import common
from sim.explore.attribution import SCALES, enabled_events, with_events
from sim.explore.runner import numeric_outcomes, outcome_values
from sim.output import UserError
from sim.spec import ScenarioSpec
from sim.uncertainty import Design, counted, declared, make_design
from sim.world import World

OPS: dict[str, Callable[[Any, Any], Any]] = {">=": operator.ge, "<=": operator.le,
                                             "==": operator.eq, "!=": operator.ne,
                                             ">": operator.gt, "<": operator.lt}
CLAUSE = re.compile(r"^\s*(?P<name>\S+)(?:\s+(?:at|by)\s+(?P<date>\S+))?"
                    r"(?:\s*(?P<op>>=|<=|==|!=|>|<)\s*(?P<num>[-+]?(?:\d+\.?\d*|\.\d+)"
                    r"(?:[eE][-+]?\d+)?))?\s*$")
SIGNIFICANT = 0.05
"""A restriction whose quasi-p values are all above this is dropped from the chosen box."""
EVENT_TAG = 0x5EED_E7E4
"""Spawn key ``(EVENT_TAG, 0)`` of the event switches and scales (runs use ``(i,)``, the
parameter draws ``(DRAW_TAG, 0)``: the streams never coincide)."""
P_ON = 0.5
"""Probability that a scheduled event is on in a draw (``--events``)."""
FORM = ("NAME [at|by YYYY-MM] [OP NUMBER] joined by 'and'/'or', e.g. "
        "\"relation:CHN-RUS at 2027-05 > 0.8 and decision:CHN:finance_access by 2027-05\"")


@dataclass(frozen=True)
class Clause:
    """One clause: outcome ``name`` at step ``step`` (date ``date``), ``op`` and ``value``
    (``op`` '' : the value is non-zero)."""

    name: str
    date: str
    step: int
    op: str = ""
    value: float = 0.0

    def holds(self, v: np.ndarray) -> np.ndarray:
        if not self.op:
            return np.nan_to_num(v) != 0
        return OPS[self.op](v, self.value)

    def __str__(self) -> str:
        return f"{self.name} at {self.date}" + (f" {self.op} {self.value:g}" if self.op else "")


def parse_condition(text: str, world: World) -> list[list[Clause]]:
    """The condition as ``or`` of ``and``-groups of :class:`Clause`. Raises
    :class:`UserError` (``--where``: the bad clause and the expected form) or
    :class:`sim.outcomes.OutcomeError` (bad outcome name or date, with a did-you-mean)."""
    if not text or not text.strip():
        raise UserError(f"--where: got an empty condition; expected {FORM}")
    groups = []
    for part in re.split(r"\s+or\s+", text.strip()):
        group = []
        for raw in re.split(r"\s+and\s+", part):
            m = CLAUSE.match(raw)
            if not m:
                raise UserError(f"--where: got {raw.strip()!r}; expected {FORM}")
            o = numeric_outcomes(world, [m["name"]])[0]
            labels, steps = common.dates_of(world, m["date"])
            group.append(Clause(o.name, labels[0], steps[0], m["op"] or "",
                                float(m["num"]) if m["num"] else 0.0))
        groups.append(group)
    return groups


def condition_text(groups: list[list[Clause]]) -> str:
    return " or ".join(" and ".join(str(c) for c in g) for g in groups)


def switchable_events(spec: ScenarioSpec) -> list[tuple[int, str]]:
    """``(index, label)`` of the enabled scheduled events ``--events`` varies. Raises
    :class:`UserError` if there is none."""
    events = enabled_events(spec)
    if not events:
        disabled = f" ({len(spec.events)} disabled)" if spec.events else ""
        raise UserError(f"{spec.source or spec.scenario.name}: events: no enabled scheduled "
                        f"event{disabled}; expected [[events]] to switch and scale with "
                        "--events (or leave out --events)")
    return events


def event_draws(spec: ScenarioSpec, draws: int, seed: int) -> pd.DataFrame:
    """Per draw ``(D rows)``, each enabled scheduled event's switch ``event:<label>.on`` (1.0
    on, 0.0 off: floats, as EMA's CART needs) and scale ``event:<label>.scale`` (module
    docstring, **Events**). Raises
    :class:`UserError` if ``spec`` has no enabled scheduled event."""
    from scipy.stats import qmc

    events = switchable_events(spec)
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(EVENT_TAG, 0)))
    u = qmc.LatinHypercube(d=2 * len(events), rng=rng).random(draws)
    lo, hi = min(SCALES), max(SCALES)
    cols: dict[str, np.ndarray] = {}
    for j, (_, label) in enumerate(events):
        cols[f"event:{label}.on"] = (u[:, j] < P_ON).astype(float)
        cols[f"event:{label}.scale"] = lo + u[:, len(events) + j] * (hi - lo)
    return pd.DataFrame(cols)


def event_worlds(spec: ScenarioSpec, table: pd.DataFrame) -> tuple[list[World], np.ndarray]:
    """The Worlds of the event configurations of ``table`` (:func:`event_draws`) and the World
    of each row ``(D,)``: one per distinct configuration (an event off is the same whatever its
    scale)."""
    events = enabled_events(spec)
    keys: dict[tuple[tuple[bool, float], ...], int] = {}
    worlds, which = [], np.empty(len(table), dtype=int)
    for d, row in enumerate(table.itertuples(index=False)):
        key = tuple((bool(on), float(sc) if on else 1.0)
                    for on, sc in zip(row[0::2], row[1::2], strict=True))
        if key not in keys:
            keys[key] = len(worlds)
            worlds.append(World.from_spec(with_events(
                spec, {i: sw for (i, _), sw in zip(events, key, strict=True)})))
        which[d] = keys[key]
    return worlds, which


@dataclass
class Discovery:
    """PRIM and CART results for a condition (module docstring). ``x``: parameter values per
    run; ``y``: whether each run meets the condition; ``trajectory``: PRIM's peeling trajectory;
    ``box``: the chosen box's limits and quasi-p values; ``chosen``: its index; ``cart``: CART's
    leaves with their statistics."""

    spec: ScenarioSpec
    design: Design
    condition: str
    x: pd.DataFrame
    y: np.ndarray
    trajectory: pd.DataFrame
    chosen: int
    box: pd.DataFrame
    cart: pd.DataFrame
    density: float
    seconds: float
    notes: list[str] = field(default_factory=list)
    events: pd.DataFrame | None = None
    """Per draw, the event switches and scales (``events=True``), else None."""

    @property
    def scenario(self) -> str:
        return self.spec.scenario.name

    @property
    def share(self) -> float:
        """Share of runs meeting the condition."""
        return float(self.y.mean())

    def figures(self) -> dict[str, Figure]:
        """Peeling trajectory and pairs plot of the chosen box."""
        return {"prim_trajectory": fig_trajectory(self), "prim_pairs": fig_pairs(self)}

    def markdown(self) -> str:
        """What ``summary.md`` says."""
        st = self.trajectory.iloc[self.chosen]
        lines = [f"# Scenario discovery: {self.scenario}", "",
                 f"Condition: `{self.condition}`", "",
                 f"{counted(len(self.y), 'run')} ({counted(self.design.draws, 'parameter draw')}"
                 f" × {counted(self.design.runs_per_draw, 'run')} each); the condition holds in "
                 f"{self.y.sum()} "
                 f"({self.share:.1%}).", "", *self._events_text(),
                 f"## PRIM: box {self.chosen} of {len(self.trajectory)}", "",
                 f"coverage {st.coverage:.2f}, density {st.density:.2f} (base rate "
                 f"{self.share:.2f}, lift {st.density / self.share:.2f}), mass {st.mass:.2f}, "
                 f"{int(st.res_dim)} restricted "
                 "parameters. Chosen: the largest coverage with density at least "
                 f"{self.density:g} (else the densest box), then restrictions with quasi-p "
                 f"values above {SIGNIFICANT:g} dropped.", "",
                 "| parameter | min | max | qp (lower) | qp (upper) |", "|---|---|---|---|---|"]
        for _, r in self.box.iterrows():
            lines.append(f"| {r.parameter} | {r['min']:.4g} | {r['max']:.4g}{_switch(r)} | "
                         f"{_p(r.qp_lower)} | {_p(r.qp_upper)} |")
        lines += ["", "qp: quasi-p value of each restriction (one-sided binomial test, EMA "
                  "Workbench); above 0.05 the restriction may be chance.", "",
                  "## CART: leaves where the condition holds most", "",
                  "| leaf | coverage | density | mass | limits |", "|---|---|---|---|---|"]
        for _, r in self.cart.sort_values("density", ascending=False).head(5).iterrows():
            lines.append(f"| {r.leaf} | {r.coverage:.2f} | {r.density:.2f} | {r.mass:.2f} | "
                         f"{r.limits} |")
        if self.notes:
            lines += ["", "## Notes", ""] + [f"- {n}" for n in self.notes]
        return "\n".join(lines) + "\n"

    def _events_text(self) -> list[str]:
        if self.events is None:
            return []
        n = self.events.shape[1] // 2
        return [f"Each draw also switches each of the {n} scheduled events on (probability "
                f"{P_ON:g}) or off and scales its magnitude by {min(SCALES):g}..{max(SCALES):g} "
                "(factors `event:<id>.on`, 1 = on, and `event:<id>.scale`; a scale matters "
                "only where its event is on).", ""]

    def write(self, out: str | Path, force: bool = False, figures: bool = True,
              settings: dict[str, Any] | None = None) -> Path:
        """``trajectory.csv``, ``box.csv``, ``cart.csv``, ``runs.csv`` (factors and whether
        each run meets the condition), ``draws.csv`` (with ``events=True`` also
        ``events.csv``: the event switches and scales per draw), ``summary.md``, figures and
        the manifest into ``out`` atomically."""
        runs = self.x.assign(run=np.arange(len(self.y)), draw=self.design.draw, meets=self.y)
        tables = {"trajectory": self.trajectory, "box": self.box, "cart": self.cart,
                  "runs": runs[["run", "draw", "meets", *self.x.columns]],
                  "draws": self.design.table()}
        info = {"kind": "discover", "scenario": self.spec.source, "where": self.condition,
                "runs": len(self.y), "seed": int(self.design.seed),
                "uncertainty": self.design.record(), "chosen_box": self.chosen,
                "density": self.density, "seconds": round(self.seconds, 2), **(settings or {})}
        if self.events is not None:
            tables["events"] = self.events.assign(draw=np.arange(len(self.events)))[
                ["draw", *self.events.columns]]
            info["events"] = {"factors": list(self.events.columns), "p_on": P_ON,
                              "scale": [min(SCALES), max(SCALES)],
                              "draw_seed": f"scipy.stats.qmc.LatinHypercube(d=2E, rng=numpy "
                                           f"SeedSequence({int(self.design.seed)}, spawn_key="
                                           f"({EVENT_TAG}, 0)))"}
        return common.write_folder(out, force, [self.spec], tables,
                                   {"summary.md": self.markdown()},
                                   self.figures if figures else None, info)


def _switch(r: pd.Series) -> str:
    """`` (on only)`` / `` (off only)`` for an event switch's limits, else ''."""
    if not (str(r.parameter).startswith("event:") and str(r.parameter).endswith(".on")):
        return ""
    return " (on only)" if r["min"] > 0 else " (off only)" if r["max"] < 1 else ""


def _p(v: float) -> str:
    return "" if not np.isfinite(v) else f"{v:.2g}"


def _quiet_ema() -> None:
    logging.getLogger("EMA").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message="ipyparallel not installed")


def evaluate_condition(groups: list[list[Clause]], values: dict[tuple[str, int], np.ndarray]
                       ) -> np.ndarray:
    """Whether each run meets the condition, from ``values[(name, step)]`` ``(R,)``."""
    out = None
    for g in groups:
        part = np.logical_and.reduce([c.holds(values[(c.name, c.step)]) for c in g])
        out = part if out is None else out | part
    return np.asarray(out, dtype=bool)


def discover(scenario: str | Path | ScenarioSpec, where: str, draws: int = 500,
             runs_per_draw: int = 1, seed: int | None = None, density: float = 0.8,
             peel_alpha: float = 0.05, mass_min: float = 0.05, workers: int | None = 1,
             progress: bool = False, events: bool = False, engine: str = "batched"
             ) -> Discovery:
    """PRIM and CART over the scenario's parameter draws for condition ``where`` (module
    docstring); ``events``: also over each scheduled event's switch and scale (module
    docstring, **Events**). Raises :class:`UserError` for a scenario with no
    ``[uncertainties]``, ``events`` on a scenario with no enabled scheduled event, a bad
    condition, or one that holds in none or all of the runs."""
    start = time.perf_counter()
    spec = common.load(scenario)
    world = World.from_spec(spec)
    groups = parse_condition(where, world)
    if not declared(spec):
        raise UserError(f"{spec.source or spec.scenario.name}: declares no [uncertainties]; "
                        "expected uncertain parameters to discover conditions over (see sim "
                        "params)")
    if events:
        switchable_events(spec)  # before any run
    design = make_design(spec, draws=draws, runs_per_draw=runs_per_draw, seed=seed)
    table = event_draws(spec, design.draws, design.seed) if events else None
    worlds: World | list[World] = world
    group = None
    if table is not None:
        worlds, which = event_worlds(spec, table)
        group = which[design.draw]
    clauses = {(c.name, c.step) for g in groups for c in g}
    names = sorted({n for n, _ in clauses})
    steps = sorted({s for _, s in clauses})
    vals = outcome_values(worlds, design.seed, np.arange(design.runs), design.params_for(spec),
                          names, steps, workers, progress, group=group, engine=engine)
    y = evaluate_condition(groups, {(n, s): vals[:, names.index(n), steps.index(s)]
                                    for n, s in clauses})
    text = condition_text(groups)
    if y.all() or not y.any():
        raise UserError(f"--where: {text!r} holds in {'all' if y.all() else 'none'} of the "
                        f"{len(y)} runs of {spec.scenario.name}; expected a condition that "
                        "holds in some runs and not in others")
    x = pd.DataFrame(np.repeat(design.values, design.runs_per_draw, axis=0),
                     columns=list(design.names))
    if table is not None:
        x = pd.concat([x, table.iloc[design.draw].reset_index(drop=True)], axis=1)
    _quiet_ema()
    from ema_workbench.analysis import cart, prim

    p = prim.Prim(x, y, peel_alpha=peel_alpha, mass_min=mass_min)
    box = p.find_box()
    traj = box.peeling_trajectory.copy()
    ok = traj.index[traj.density >= density]
    chosen = int(traj.loc[ok, "coverage"].idxmax()) if len(ok) else int(traj.density.idxmax())
    peeled = chosen
    _, lims = box.inspect(chosen, style="data")[0]
    weak = [u for u in lims.index if np.nanmin(lims.loc[u].to_numpy(float)[2:]) > SIGNIFICANT]
    if weak and len(weak) < len(lims):  # drop restrictions that may be chance (qp > 0.05)
        box.select(chosen)
        for u in weak:
            box.drop_restriction(u)
        chosen = len(box.peeling_trajectory) - 1
        _, lims = box.inspect(chosen, style="data")[0]
        traj = box.peeling_trajectory.copy()
    limits = pd.DataFrame({"parameter": lims.index, "min": lims.iloc[:, 0].to_numpy(float),
                           "max": lims.iloc[:, 1].to_numpy(float),
                           "qp_lower": lims.iloc[:, 2].to_numpy(float),
                           "qp_upper": lims.iloc[:, 3].to_numpy(float)})
    c = cart.CART(x, y, mass_min=mass_min)
    c.build_tree()
    leaves = []
    for i, (b, st) in enumerate(zip(c.boxes, c.stats, strict=True)):
        restricted = [f"{n} in [{b.loc[0, n]:.4g}, {b.loc[1, n]:.4g}]" for n in b.columns
                      if b.loc[0, n] > x[n].min() or b.loc[1, n] < x[n].max()]
        leaves.append({"leaf": i, "coverage": st["coverage"], "density": st["density"],
                       "mass": st["mass"], "res_dim": st.get("res dim", st.get("res_dim")),
                       "limits": "; ".join(restricted)})
    notes = [] if len(ok) else [f"no box reaches density {density:g}: the densest is shown"]
    if chosen != peeled:
        shown = ", ".join(weak[:5]) + (f" and {len(weak) - 5} more" if len(weak) > 5 else "")
        notes.append(f"box {chosen} is box {peeled} of the peeling trajectory without its "
                     f"{len(weak)} restrictions whose quasi-p values were all above "
                     f"{SIGNIFICANT:g} ({shown})")
    return Discovery(spec, design, text, x, y, traj.reset_index(drop=True), chosen, limits,
                     pd.DataFrame(leaves), density, time.perf_counter() - start, notes, table)


# ------------------------------------------------------------------------------ figures


def fig_trajectory(d: Discovery) -> Figure:
    """PRIM's peeling trajectory: density against coverage, coloured by the number of
    restricted parameters; the chosen box circled."""
    t = d.trajectory
    fig = Figure(figsize=(7.5, 5.2), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(t.coverage, t.density, "-", color="#bbb", lw=0.8, zorder=1)
    sc = ax.scatter(t.coverage, t.density, c=t.res_dim, cmap="viridis", s=22, zorder=2)
    ax.scatter([t.coverage[d.chosen]], [t.density[d.chosen]], s=160, facecolors="none",
               edgecolors="#c44e52", lw=1.6, zorder=3, label=f"chosen box {d.chosen}")
    ax.axhline(d.share, color="#888", ls=":", lw=0.8)
    ax.text(0.02, d.share, " base rate", va="bottom", fontsize=8, color="#666")
    fig.colorbar(sc, ax=ax, label="restricted parameters")
    ax.set_xlabel("coverage (share of the runs meeting the condition inside the box)")
    ax.set_ylabel("density (share of the runs in the box meeting it)")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title(f"PRIM peeling trajectory, {d.scenario}\n{_wrap(d.condition)}", fontsize=9)
    return fig


def _wrap(text: str, width: int = 90) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


def fig_pairs(d: Discovery, most: int = 4) -> Figure:
    """Pairs plot of the chosen box's restricted parameters (at most ``most``): runs meeting the
    condition in colour, the others grey, the box's limits as lines."""
    dims = list(d.box.parameter[:most]) or list(d.x.columns[:2])
    if len(dims) == 1:
        dims = dims + [c for c in d.x.columns if c != dims[0]][:1]
    k = len(dims)
    fig = Figure(figsize=(2.6 * k + 0.8, 2.6 * k + 0.6), layout="constrained")
    axes = np.atleast_2d(fig.subplots(k, k, squeeze=False))
    lim = d.box.set_index("parameter")
    for i, a in enumerate(dims):
        for j, b in enumerate(dims):
            ax = axes[i, j]
            if i == j:
                bins = np.linspace(d.x[a].min(), d.x[a].max(), 21)
                ax.hist(d.x[a][~d.y], bins=bins, color="#bbb", label="not met")
                ax.hist(d.x[a][d.y], bins=bins, color="#4c72b0", alpha=0.8, label="met")
            else:
                ax.scatter(d.x[b][~d.y], d.x[a][~d.y], s=4, color="#ccc")
                ax.scatter(d.x[b][d.y], d.x[a][d.y], s=4, color="#4c72b0")
                if a in lim.index:
                    for v in lim.loc[a, ["min", "max"]]:
                        ax.axhline(v, color="#c44e52", lw=0.9)
            if b in lim.index:
                for v in lim.loc[b, ["min", "max"]]:
                    ax.axvline(v, color="#c44e52", lw=0.9)
            ax.tick_params(labelsize=6)
            if i == k - 1:
                ax.set_xlabel(b, fontsize=7)
            if j == 0:
                ax.set_ylabel(a, fontsize=7)
    axes[0, 0].legend(fontsize=6)
    fig.suptitle(f"PRIM box {d.chosen} (red lines), {d.scenario}: blue runs meet "
                 f"{_wrap(d.condition, 70)}", fontsize=9)
    return fig


__all__ = ["EVENT_TAG", "P_ON", "Clause", "Discovery", "condition_text", "discover",
           "evaluate_condition", "event_draws", "event_worlds", "parse_condition",
           "switchable_events"]
