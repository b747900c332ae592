"""Compare scenarios run by run under common random numbers (and common parameter draws).

:func:`compare` runs every scenario with the same master seed, so run ``i`` of each scenario
draws the same random streams: the difference ``scenario − reference`` of run ``i`` is the
effect of the scenario's changes with the noise held fixed (a paired comparison). The first
scenario is the reference. :class:`Comparison` holds the ensembles and offers

- ``outcomes``: tidy, one row per scenario, run, step and key outcome;
- ``table``: per scenario and outcome at the horizon: distribution over runs and the run-by-run
  difference from the reference;
- ``effects``: per scenario, outcome, scale and date (12 months, 36 months, horizon): the mean
  paired difference, its Monte-Carlo 95% CI, the 90% interval across parameter draws and the
  share of draws with the mean's sign (:mod:`sim.effects`);
- ``patterns``: per scenario and step, the share of runs in each Dittmer pattern;
- ``figures()``: :mod:`sim.compare_figures`.

Which runs pair with which, and why some do not, is :mod:`sim.pairing`; ``notes`` says it in
words. A scenario that adds states (not in the reference) also reports their relations with the
reference's triangle (``relation_USA-KAZ``), with ``pairs = 0`` and no paired difference.

Read in this order: :mod:`sim.pairing` → :mod:`sim.effects` → :mod:`sim.compare_figures` → this
module (running and writing).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim import compare_figures as cf
from sim import effects, pairing
from sim import outcomes as oc
from sim.effects import TABLE_COLUMNS, table_markdown
from sim.ensemble import Engine
from sim.output import UserError, atomic_folder, manifest, resolved, write_manifest
from sim.output import scenario_files as output_files
from sim.plots import PALETTE
from sim.results import Results
from sim.spec import ScenarioSpec, load_scenario
from sim.uncertainty import Design, compare_notes, make_design, simulate_design
from sim.world import World


class CompareError(UserError, ValueError):
    """Scenarios that cannot be compared (shown to the user, exit code 2)."""


# ------------------------------------------------------------------------------- loading


def load_scenarios(scenarios: Sequence[str | Path | ScenarioSpec]) -> list[ScenarioSpec]:
    """Validate every scenario first (nothing runs if one is bad); at least two, distinct
    names. Raises :class:`CompareError` otherwise."""
    if isinstance(scenarios, (str, Path, ScenarioSpec)):
        scenarios = [scenarios]
    specs = [s if isinstance(s, ScenarioSpec) else load_scenario(s) for s in scenarios]
    if len(specs) < 2:
        got = ", ".join(str(s.source or s.scenario.name) for s in specs) or "none"
        raise CompareError(f"got {len(specs)} scenario ({got}); expected at least 2 scenario "
                           "files to compare (the first is the reference)")
    names = [s.scenario.name for s in specs]
    dupes = sorted(n for n, c in Counter(names).items() if c > 1)
    if dupes:
        files = [str(s.source) for s in specs if s.scenario.name in dupes]
        raise CompareError(f"scenario names must be distinct; got {', '.join(dupes)} more than "
                           f"once ({', '.join(files)}); give each file its own [scenario] name")
    return specs


def default_out(names: Sequence[str]) -> Path:
    """``outputs/compare-<first>-vs-<second>`` for two scenarios, else
    ``outputs/compare-<first>-vs-<number of others>``."""
    rest = names[1] if len(names) == 2 else str(len(names) - 1)
    return Path("outputs") / f"compare-{names[0]}-vs-{rest}"


def added_state_outcomes(res: Results, ref: World) -> dict[str, np.ndarray]:
    """Relations of the states ``res`` has and the reference world ``ref`` has not, with each
    state of the reference's triangle present in ``res``: ``{"relation_USA-KAZ": (R, T+1)}``.
    The reference has no such outcome, so they are never paired."""
    added = [s for s in res.world.ids if s not in ref.ids]
    anchors = [s for s in oc.triangle(ref) if s in res.world.ids]
    outcomes = [oc.parse(f"relation:{a}-{s}") for s in added for a in anchors]
    return {o.column: res.value(o) for o in outcomes}


# ------------------------------------------------------------------------------- comparison


class Comparison:
    """Ensembles of several scenarios under the same master seed; the first is the reference.

    Build it with :func:`compare`, or from ensembles already run (same seed for paired runs).
    Raises :class:`CompareError` for fewer than two ensembles or no shared month.
    """

    def __init__(self, results: dict[str, Results], engine: str = "auto",
                 design: Design | None = None) -> None:
        if len(results) < 2:
            raise CompareError(f"got {len(results)} scenario; expected at least 2 to compare")
        self.results = dict(results)
        self.names = list(self.results)
        self.reference = self.names[0]
        self.engine = engine
        seeds = {int(r.traj.seed) for r in self.results.values()}
        self.seed = next(iter(seeds)) if len(seeds) == 1 else None
        ref_world = self.results[self.reference].world
        self.values = {n: {**r.key_outcomes(), **added_state_outcomes(r, ref_world)}
                       for n, r in self.results.items()}
        self.outcome_names: list[str] = list(dict.fromkeys(
            o for n in self.names for o in self.values[n]))
        horizon = pairing.shared_horizon(self.results)
        if horizon is None:
            raise CompareError("the scenarios share no month (check [scenario] start and "
                               "months); expected overlapping horizons to compare")
        self.horizon = horizon
        self.colors = {n: PALETTE[k % len(PALETTE)] for k, n in enumerate(self.names)}
        self.pairings = pairing.pairings(self.results, self.reference)
        self.notes = pairing.notes(self.results, self.reference, self.pairings)
        self.design = design or getattr(self.results[self.reference].traj, "design", None)
        if self.design is not None:
            ref_spec = self.results[self.reference].world.spec
            self.notes += [n for name in self.names[1:] for n in compare_notes(
                ref_spec, self.results[name].world.spec, self.design, name, self.reference)]

    @property
    def runs(self) -> int:
        return max(int(r.traj.x.shape[0]) for r in self.results.values())

    def paired_difference(self, name: str, outcome: str) -> tuple[list[str], np.ndarray]:
        """``scenario − reference`` run by run: (dates shared, ``(pairs, T)`` differences).
        Empty if the outcome is missing in either."""
        p = self.pairings[name]
        if outcome not in self.values[name] or outcome not in self.values[self.reference]:
            return p.dates, np.empty((0, len(p.dates)))
        return p.dates, p.difference(self.values[name][outcome],
                                     self.values[self.reference][outcome])

    # ---------------------------------------------------------------- tables
    @cached_property
    def outcomes(self) -> pd.DataFrame:
        """Tidy: scenario, run, step, date, outcome, value (one row per run, step, outcome)."""
        return effects.outcomes_table(self.results, self.values, self.outcome_names)

    @cached_property
    def table(self) -> pd.DataFrame:
        """Per scenario and outcome at the horizon (the last month all scenarios share):
        distribution over runs and paired difference from the reference."""
        return effects.horizon_table(self.results, self.values, self.pairings, self.reference,
                                     self.horizon, self.outcome_names)

    @cached_property
    def effects(self) -> pd.DataFrame:
        """Per scenario, outcome, scale (relations: ``relation`` and ``latent``) and date (12
        and 36 months after the start, and the horizon): the mean paired difference, its
        Monte-Carlo 95% CI, the 90% interval across parameter draws and the share of draws
        whose effect has the sign of the mean (:func:`sim.effects.effects_table`)."""
        return effects.effects_table(self.values, self.pairings, self.reference, self.horizon)

    @property
    def draws(self) -> int:
        """Parameter draws per scenario (1: fixed parameters)."""
        return max(len(np.unique(pairing.draw_index(r.traj))) for r in self.results.values())

    def effects_markdown(self) -> str:
        """The effects table as GitHub Markdown, with what its columns mean."""
        note = "\n\n".join([effects.draws_note(self.effects), self._note()])
        return table_markdown(effects.effects_view(self.effects),
                              cf.title(self).replace("Scenario comparison", "Scenario effects"),
                              note, right=effects.VIEW_NUMBERS)

    def summary_lines(self) -> list[str]:
        """What ``sim compare`` prints: the notes, then the effects of relations (relation and
        latent scales) and trade at every report date (mean, MC 95% CI, 90% of draws, same
        sign), then the unpaired outcomes of added states (their own distribution)."""
        lines = [f"  note: {n}" for n in self.notes]
        eff = self.effects
        kinds = {o: oc.parse(o).kind for o in self.outcome_names}
        shown = eff[eff["outcome"].map(kinds).isin(("relation", "trade"))]
        view = effects.effects_view(shown)
        if not view.empty:
            lines.append(f"effects, scenario − {self.reference} ({effects.draws_note(eff)})")
            cols = ["scenario", "outcome", "scale", "date", "Δ mean", "MC 95% CI",
                    "90% of draws", "same sign"]
            if not view["paired"].eq("yes").all():
                cols.insert(4, "paired")
            width = {c: max(len(c), *(len(str(v)) for v in view[c])) for c in cols}
            align = {c: ">" if c in ("Δ mean", "same sign") else "<" for c in cols}

            def line(cells: Sequence[Any]) -> str:
                return "  " + "  ".join(f"{v!s:{align[c]}{width[c]}}"
                                        for c, v in zip(cols, cells, strict=True)).rstrip()

            lines.append(line(cols))
            lines += [line(row) for row in view[cols].itertuples(index=False)]
        table = self.table
        alone = table[table["outcome"].map(kinds).eq("relation") & (table["pairs"] == 0)
                      & (table["runs"] > 0) & (table["scenario"] != self.reference)]
        for row in alone.itertuples(index=False):
            pair = "-".join(oc.parse(row.outcome).states)
            lines.append(f"  {row.scenario} {pair} at "
                         f"{row.date}: mean {row.mean:+.3f} (90% of runs: {row.q05:+.3f} .. "
                         f"{row.q95:+.3f}; not in {self.reference}, not paired)")
        return lines

    @cached_property
    def patterns(self) -> pd.DataFrame:
        """Share of runs in each Dittmer pattern of the USA–CHN–RUS triangle, per step."""
        return effects.patterns_table(self.results)

    def markdown(self) -> str:
        """The table as GitHub Markdown (no ``tabulate`` needed)."""
        return table_markdown(self.table, cf.title(self), self._note())

    def unpaired(self) -> list[str]:
        """Scenarios whose runs do not share random streams with the reference's."""
        return [n for n in self.names[1:] if not self.pairings[n].streams]

    def _note(self) -> str:
        seed = "mixed seeds" if self.seed is None else f"master seed {self.seed}"
        apart = self.unpaired()
        if not apart:
            how = ("run i of every scenario uses the same random streams (and parameter draw), "
                   "so differences are paired run by run")
        elif len(apart) == len(self.names) - 1:
            how = "the runs are NOT paired: differences are run i minus run i of independent runs"
        else:
            how = (f"run i of every scenario uses the same random streams, so differences are "
                   f"paired run by run, except for {', '.join(apart)} (NOT paired)")
        text = f"{self.runs} runs per scenario, {seed}: {how}. Horizon {self.horizon}."
        return "\n\n".join([text, *(f"Note: {n}." for n in self.notes)])

    # ---------------------------------------------------------------- figures
    def key_outcomes(self) -> list[str]:
        """The outcomes drawn in the figures (:func:`sim.compare_figures.key_outcomes`)."""
        return cf.key_outcomes(self)

    def fig_outcomes(self) -> Figure:
        return cf.fig_outcomes(self)

    def fig_differences(self) -> Figure:
        return cf.fig_differences(self)

    def fig_horizon(self) -> Figure:
        return cf.fig_horizon(self)

    def fig_patterns(self) -> Figure:
        return cf.fig_patterns(self)

    def fig_deals(self) -> Figure:
        return cf.fig_deals(self)

    def figures(self) -> dict[str, Figure]:
        """The five comparison figures by file stem."""
        return cf.figures(self)

    # ---------------------------------------------------------------- writing
    def write(self, out: str | Path, force: bool = False, figures: bool = True,
              settings: dict[str, Any] | None = None) -> Path:
        """Write tables, figures and manifest into ``out`` atomically (refuses a non-empty
        folder unless ``force``)."""
        out = Path(out)
        specs = [r.world.spec for r in self.results.values()]
        with atomic_folder(out, force) as tmp:
            self.table.to_csv(tmp / "table.csv", index=False)
            (tmp / "table.md").write_text(self.markdown(), encoding="utf-8")
            self.outcomes.to_csv(tmp / "outcomes.csv", index=False)
            self.patterns.to_csv(tmp / "patterns.csv", index=False)
            self.effects.to_csv(tmp / "effects.csv", index=False)
            (tmp / "effects.md").write_text(self.effects_markdown(), encoding="utf-8")
            files = ["table.csv", "table.md", "outcomes.csv", "patterns.csv", "effects.csv",
                     "effects.md"]
            if self.design is not None and self.design.names:  # parameters were drawn
                self.design.table().to_csv(tmp / "draws.csv", index=False)
                files.append("draws.csv")
            if figures:
                (tmp / "figures").mkdir()
                for stem, fig in self.figures().items():
                    fig.savefig(tmp / "figures" / f"{stem}.png", dpi=110,
                                metadata={"Software": None})
                    files.append(f"figures/{stem}.png")
            sources = scenario_files(specs)
            info = {"kind": "compare", "scenarios": [s.source for s in specs],
                    "names": self.names, "reference": self.reference, "runs": self.runs,
                    "seed": self.seed, "engine": self.engine, "horizon": self.horizon,
                    "draws": self.draws, "figures": figures,
                    "uncertainty": None if self.design is None else self.design.record(),
                    **(settings or {})}
            write_manifest(tmp, manifest(sources, [resolved(s) for s in specs], info,
                                         [*files, "manifest.json"]))
        return out


def compare(scenarios: Sequence[str | Path | ScenarioSpec], runs: int | None = None,
            seed: int | None = None, engine: Engine = "auto", progress: bool = False,
            draws: int | None = None, runs_per_draw: int | None = None,
            fixed_params: bool = False, **ensemble_kw: Any) -> Comparison:
    """Run every scenario with the same master seed (common random numbers) and the same
    parameter draws (drawn once from the first scenario's ``[uncertainties]``), and compare them
    with the first.

    ``runs``, ``draws``, ``runs_per_draw``, ``fixed_params``: the design, as for ``sim run``
    (:func:`sim.uncertainty.make_design`: default 200 draws × 5 runs; ``runs`` alone = that many
    draws of one run; ``fixed_params`` or a reference without uncertainties: one draw at each
    scenario's own values). ``seed`` defaults to the first scenario's; ``ensemble_kw`` goes to
    :func:`sim.ensemble.run_ensemble`. Raises :class:`CompareError` (and the scenarios' own
    errors) before anything runs."""
    specs = load_scenarios(scenarios)
    master = specs[0].scenario.seed if seed is None else seed
    design = make_design(specs[0], runs=runs, draws=draws, runs_per_draw=runs_per_draw,
                         seed=master, fixed=fixed_params)
    for s in specs[1:]:
        design.params_for(s)  # every scenario takes the draws before anything runs
    results = {s.scenario.name: Results(simulate_design(s, design, engine, progress,
                                                        **ensemble_kw)) for s in specs}
    return Comparison(results, engine=engine, design=design)


def scenario_files(specs: Sequence[ScenarioSpec]) -> list[Path]:
    """Every file the scenarios were read from, ``extends`` parents included (a list too, at
    any depth; once each)."""
    return output_files([s.source for s in specs])


__all__ = ["TABLE_COLUMNS", "CompareError", "Comparison", "compare", "default_out",
           "load_scenarios", "table_markdown"]
