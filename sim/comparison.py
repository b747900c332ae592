"""Compare scenarios run by run under common random numbers.

Every scenario is run with the same master seed, so run ``i`` of each scenario draws the same
random streams (:mod:`sim.seeds`): the difference ``scenario − reference`` of run ``i`` is the
effect of the scenario's changes with the noise held fixed (a paired comparison). The first
scenario is the reference.

- ``outcomes``: tidy, one row per scenario, run, step and key outcome.
- ``table``: per scenario and outcome at the horizon: mean, median, 5% and 95% quantiles, and
  the paired difference from the reference (mean, 5% and 95% quantiles over runs).
- ``patterns``: per scenario and step, the share of runs in each Dittmer pattern.

A scenario that adds states (not in the reference) also reports their relations with the
reference's triangle (``relation_USA-KAZ``), with ``pairs = 0`` and no paired difference.

Random streams stay aligned as long as the scenarios have the same states and start: policy
``k`` always reads random slot ``k``, and a child scenario keeps its parent's policies in order
(disabled ones keep their slot), so its decisions stay paired with the reference's. A note is
added where that fails (other states, another start, policies in another order).
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
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.api import resolved, run
from sim.ensemble import Engine
from sim.metrics import DITTMER
from sim.output import UserError, atomic_folder, manifest, write_manifest
from sim.output import scenario_files as output_files
from sim.plots import PALETTE, PATTERN_COLORS, as_dates, band, date_axis, quantile_bands
from sim.results import Results, pair_name
from sim.spec import ScenarioSpec, load_scenario
from sim.world import World

TABLE_COLUMNS = ["scenario", "outcome", "date", "runs", "mean", "median", "q05", "q95",
                 "pairs", "mean_diff", "diff_q05", "diff_q95"]


class CompareError(UserError, ValueError):
    """Scenarios that cannot be compared (shown to the user, exit code 2)."""


# ------------------------------------------------------------------------------- loading


def load_scenarios(scenarios: Sequence[str | Path | ScenarioSpec]) -> list[ScenarioSpec]:
    """Validate every scenario first (nothing runs if one is bad); at least two, distinct
    names."""
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


# ------------------------------------------------------------------------------- outcomes


def outcome_label(outcome: str) -> tuple[str, str]:
    """(title, unit) of an outcome for axes."""
    kind, _, what = outcome.partition("_")
    if kind == "relation":
        return f"{what.replace('-', '–')} relation", "x̄  (−1 hostile … +1 friendly)"
    if kind == "trade":
        return f"{what.replace('-', '–')} trade", "goods, both ways (USD bn/yr)"
    if outcome == "balanced_share":
        return "Balanced triads", "share of triads balanced"
    if kind == "made":
        return f"{what.replace(':', ': ').replace('_', ' ')}", "share of runs taken"
    return outcome, ""


def _quantiles(v: np.ndarray) -> tuple[float, float, float, float]:
    """mean, median, q05, q95 of a 1-d array (NaN if empty)."""
    if v.size == 0:
        return (np.nan,) * 4
    q05, med, q95 = np.quantile(v, [0.05, 0.5, 0.95])
    return float(v.mean()), float(med), float(q05), float(q95)


# ------------------------------------------------------------------------------- comparison


class Comparison:
    """Ensembles of several scenarios under the same master seed; the first is the reference.

    Build it with :func:`compare`, or from ensembles already run (same seed for paired runs).
    """

    def __init__(self, results: dict[str, Results], engine: str = "auto") -> None:
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
        common = set.intersection(*(set(r.dates) for r in self.results.values()))
        if not common:
            raise CompareError("the scenarios share no month (check [scenario] start and "
                               "months); expected overlapping horizons to compare")
        self.horizon = max(common)
        self.colors = {n: PALETTE[k % len(PALETTE)] for k, n in enumerate(self.names)}
        self.notes = self._pairing_notes()

    def _pairing_notes(self) -> list[str]:
        """Where the runs are not paired on the same random shocks (shown with the table)."""
        notes = []
        if self.seed is None:
            notes.append("the ensembles have different master seeds: run i of one scenario "
                         "does not share random streams with run i of another")
        ref = self.results[self.reference].world
        for name, res in list(self.results.items())[1:]:
            w = res.world
            if w.start != ref.start:
                notes.append(f"{name} starts in {w.start}, not {ref.start}: month t differs, "
                             "so its random draws are not paired with the reference's by date")
            elif w.ids != ref.ids:
                notes.append(f"{name} has other states than {self.reference}: its random "
                             "draws are not paired with the reference's")
            added = [s for s in w.ids if s not in ref.ids]
            if added:
                notes.append(f"{name} adds {', '.join(added)} (not in {self.reference}): "
                             f"their relations with {self.reference}'s triangle are in the "
                             "table with no paired difference (pairs 0)")
            elif [d.label for d in w.decisions][:len(ref.decisions)] != [
                    d.label for d in ref.decisions][:len(w.decisions)]:
                notes.append(f"{name} orders its policies differently from {self.reference}: "
                             "relation noise is paired, decision draws are not")
        if len({tuple(r.dates) for r in self.results.values()}) > 1:
            notes.append(f"the scenarios cover different months: the horizon is "
                         f"{self.horizon}, the last month they all share")
        return notes

    # ---------------------------------------------------------------- helpers
    @property
    def runs(self) -> int:
        return max(int(r.traj.x.shape[0]) for r in self.results.values())

    def _step(self, name: str, date: str) -> int:
        return self.results[name].dates.index(date)

    @cached_property
    def _pairings(self) -> dict[str, tuple]:
        """Per scenario, runs and dates shared with the reference: (run rows in the scenario,
        in the reference, shared dates, their steps in the scenario, in the reference)."""
        ref = self.results[self.reference]
        out = {}
        for name, res in self.results.items():
            _, rows_s, rows_r = np.intersect1d(res.traj.runs, ref.traj.runs,
                                               return_indices=True)
            ref_steps = {d: i for i, d in enumerate(ref.dates)}
            dates = [d for d in res.dates if d in ref_steps]
            steps_s = np.array([res.dates.index(d) for d in dates], dtype=int)
            steps_r = np.array([ref_steps[d] for d in dates], dtype=int)
            out[name] = (rows_s, rows_r, dates, steps_s, steps_r)
        return out

    def paired_difference(self, name: str, outcome: str) -> tuple[list[str], np.ndarray]:
        """``scenario − reference`` run by run: (dates shared, ``(pairs, T)`` differences).
        Empty if the outcome is missing in either."""
        rows_s, rows_r, dates, steps_s, steps_r = self._pairings[name]
        if outcome not in self.values[name] or outcome not in self.values[self.reference]:
            return dates, np.empty((0, len(dates)))
        a = self.values[name][outcome][np.ix_(rows_s, steps_s)]
        b = self.values[self.reference][outcome][np.ix_(rows_r, steps_r)]
        return dates, a - b

    # ---------------------------------------------------------------- tables
    @cached_property
    def outcomes(self) -> pd.DataFrame:
        """Tidy: scenario, run, step, date, outcome, value (one row per run, step, outcome)."""
        dates = sorted({d for r in self.results.values() for d in r.dates})
        date_code = {d: i for i, d in enumerate(dates)}
        out_code = {o: i for i, o in enumerate(self.outcome_names)}
        cols: dict[str, list[np.ndarray]] = {k: [] for k in
                                             ("scenario", "run", "step", "date", "outcome",
                                              "value")}
        for k, name in enumerate(self.names):
            res, vals = self.results[name], self.values[name]
            keys = list(vals)
            cube = np.stack([vals[o] for o in keys], axis=-1)  # (R, T+1, O)
            r, t1, o = cube.shape
            step = np.tile(np.repeat(np.arange(t1), o), r)
            dcodes = np.array([date_code[d] for d in res.dates], dtype=np.int32)
            cols["scenario"].append(np.full(r * t1 * o, k, dtype=np.int32))
            cols["run"].append(np.repeat(res.traj.runs, t1 * o))
            cols["step"].append(step)
            cols["date"].append(dcodes[step])
            cols["outcome"].append(np.tile(np.array([out_code[x] for x in keys], np.int32),
                                           r * t1))
            cols["value"].append(cube.reshape(-1))
        flat = {k: np.concatenate(v) for k, v in cols.items()}
        return pd.DataFrame({
            "scenario": pd.Categorical.from_codes(flat["scenario"], categories=self.names),
            "run": flat["run"], "step": flat["step"],
            "date": pd.Categorical.from_codes(flat["date"], categories=dates, ordered=True),
            "outcome": pd.Categorical.from_codes(flat["outcome"],
                                                 categories=self.outcome_names),
            "value": flat["value"],
        })

    @cached_property
    def table(self) -> pd.DataFrame:
        """Per scenario and outcome at the horizon (the last month all scenarios share):
        distribution over runs and paired difference from the reference."""
        rows: list[dict[str, Any]] = []
        ref = self.reference
        for name in self.names:
            rows_s, rows_r, _, _, _ = self._pairings[name]
            hs, hr = self._step(name, self.horizon), self._step(ref, self.horizon)
            for outcome in self.outcome_names:
                row: dict[str, Any] = {"scenario": name, "outcome": outcome,
                                       "date": self.horizon}
                mine = self.values[name].get(outcome)
                theirs = self.values[ref].get(outcome)
                v = mine[:, hs] if mine is not None else np.empty(0)
                row["runs"] = int(v.size)
                row["mean"], row["median"], row["q05"], row["q95"] = _quantiles(v)
                if mine is not None and theirs is not None:
                    d = mine[rows_s, hs] - theirs[rows_r, hr]
                    mean_d, _, q05_d, q95_d = _quantiles(d)
                    row.update(pairs=int(d.size), mean_diff=mean_d, diff_q05=q05_d,
                               diff_q95=q95_d)
                else:
                    row.update(pairs=0, mean_diff=np.nan, diff_q05=np.nan, diff_q95=np.nan)
                rows.append(row)
        return pd.DataFrame(rows, columns=TABLE_COLUMNS)

    @cached_property
    def patterns(self) -> pd.DataFrame:
        """Share of runs in each Dittmer pattern of the USA–CHN–RUS triangle, per step."""
        parts = []
        for name, res in self.results.items():
            codes = res.dittmer_codes  # (R, T+1)
            k = len(DITTMER)
            share = np.stack([(codes == c).mean(axis=0) for c in range(k)], axis=-1)
            t1 = share.shape[0]
            parts.append(pd.DataFrame({
                "scenario": name,
                "step": np.repeat(np.arange(t1), k),
                "date": np.repeat(np.asarray(res.dates, dtype=object), k),
                "pattern": np.tile(np.asarray(DITTMER, dtype=object), t1),
                "share": share.reshape(-1),
            }))
        return pd.concat(parts, ignore_index=True)

    def markdown(self) -> str:
        """The table as GitHub Markdown (no ``tabulate`` needed)."""
        return table_markdown(self.table, self._title(), self._note())

    # ---------------------------------------------------------------- figures
    def _title(self) -> str:
        others = self.names[1:]
        vs = ", ".join(others) if len(others) <= 3 else f"{len(others)} other scenarios"
        return f"Scenario comparison: {self.reference} (reference) vs {vs}"

    def _note(self) -> str:
        seed = "mixed seeds (runs not paired)" if self.seed is None else f"master seed {self.seed}"
        text = (f"{self.runs} runs per scenario, {seed}: run i of every scenario uses the same "
                f"random streams, so differences are paired run by run. Horizon "
                f"{self.horizon}.")
        return "\n\n".join([text, *(f"Note: {n}." for n in self.notes)])

    def key_outcomes(self) -> list[str]:
        """The outcomes drawn in the figures: the triangle's three relations, CHN–RUS and
        USA–CHN trade (the reference's triangle), and the share of balanced triads."""
        (a, b), (_, c), _ = self.results[self.reference].key_pairs()
        keys = [f"relation_{pair_name(a, b)}", f"relation_{pair_name(a, c)}",
                f"relation_{pair_name(b, c)}", f"trade_{pair_name(b, c)}",
                f"trade_{pair_name(a, b)}", "balanced_share"]
        return [k for k in keys if k in self.outcome_names]

    def _scenario_legend(self, fig: Figure, names: Sequence[str], bands: bool = True) -> None:
        handles = [Patch(facecolor=self.colors[n], alpha=0.5, edgecolor=self.colors[n], lw=2)
                   if bands else Line2D([], [], color=self.colors[n], lw=2) for n in names]
        labels = [f"{n} (reference)" if n == self.reference else n for n in names]
        fig.legend(handles, labels, loc="outside lower center", ncol=min(len(names), 5),
                   frameon=False)

    def _new_events(self, name: str) -> list[tuple[int, Any]]:
        """Scheduled events of a scenario that the reference does not have."""
        ref = [ev.model_dump() for _, ev in self.results[self.reference].world.scheduled_events]
        return [(t, ev) for t, ev in self.results[name].world.scheduled_events
                if ev.model_dump() not in ref]

    def fig_outcomes(self) -> Figure:
        keys = self.key_outcomes()
        fig, axes = _grid(len(keys))
        for ax, key in zip(axes, keys, strict=False):
            for name in self.names:
                res, vals = self.results[name], self.values[name]
                if key not in vals:
                    continue
                dates = as_dates(res.dates)
                band(ax, dates, quantile_bands(vals[key]), self.colors[name], name,
                     len(vals[key]))
                for t, _ in self._new_events(name):
                    ax.axvline(dates[min(t + 1, len(dates) - 1)], color=self.colors[name],
                               lw=0.8, ls=":", zorder=0)
            _style(ax, key)
        fig.suptitle(f"{self._title()}\nmedian, 50% and 90% bands of {self.runs} runs "
                     "(dotted: events only in that scenario)")
        self._scenario_legend(fig, self.names)
        return fig

    def fig_differences(self) -> Figure:
        keys = self.key_outcomes()
        fig, axes = _grid(len(keys))
        for ax, key in zip(axes, keys, strict=False):
            for name in self.names[1:]:
                dates, d = self.paired_difference(name, key)
                if d.size == 0:
                    continue
                x = as_dates(dates)
                col = self.colors[name]
                lo, med, hi = np.quantile(d, [0.05, 0.5, 0.95], axis=0)
                ax.fill_between(x, lo, hi, color=col, alpha=0.18, lw=0)
                ax.plot(x, med, color=col, lw=2, label=name)
            ax.axhline(0, color="k", lw=0.9)
            title, unit = outcome_label(key)
            ax.set(title=title, ylabel=f"Δ {unit}")
            date_axis(ax)
            ax.grid(alpha=0.3)
        fig.suptitle(f"Paired difference from {self.reference}: scenario − reference, run by "
                     f"run (same random streams)\nmedian and 90% interval over "
                     f"{self.runs} runs")
        self._scenario_legend(fig, self.names[1:])
        return fig

    def fig_horizon(self) -> Figure:
        keys = self.key_outcomes()
        many = len(self.names) > 4
        fig, axes = _grid(len(keys), height=3.6 + 0.6 * many,
                          width=max(5.0, 0.75 * len(self.names)))
        table = self.table.set_index(["scenario", "outcome"])
        rng = np.random.default_rng(0)  # jitter only
        for ax, key in zip(axes, keys, strict=False):
            ticks = []
            for pos, name in enumerate(self.names):
                vals = self.values[name].get(key)
                if vals is None:
                    ticks.append(f"{name}\n(absent)")
                    continue
                v = vals[:, self._step(name, self.horizon)]
                col = self.colors[name]
                if np.ptp(v) > 0:
                    parts = ax.violinplot(v, [pos], widths=0.8, showextrema=False)
                    for body in parts["bodies"]:
                        body.set(facecolor=col, edgecolor=col, alpha=0.35)
                ax.boxplot(v, positions=[pos], widths=0.18, showfliers=False,
                           patch_artist=True, medianprops={"color": "k"},
                           boxprops={"facecolor": "white", "edgecolor": col},
                           whiskerprops={"color": col}, capprops={"color": col})
                pts = v if v.size <= 300 else rng.choice(v, 300, replace=False)
                ax.scatter(pos + rng.uniform(-0.3, 0.3, pts.size), pts, s=4, color=col,
                           alpha=0.35, lw=0, zorder=3)
                ax.plot(pos, v.mean(), marker="D", ms=5, mfc="white", mec="k", zorder=4)
                diff = table.loc[(name, key), "mean_diff"]
                ticks.append(name if name == self.reference or np.isnan(diff) or many
                             else f"{name}\nΔ mean {_fmt(diff, signed=True)}")
            if many:
                ax.set_xticks(range(len(self.names)), ticks, fontsize=8, rotation=35,
                              ha="right", rotation_mode="anchor")
            else:
                ax.set_xticks(range(len(self.names)), ticks, fontsize=8)
            title, unit = outcome_label(key)
            ax.set(title=title, ylabel=unit)
            ax.grid(alpha=0.3, axis="y")
        delta = ("" if many else
                 f"; Δ mean = paired difference from {self.reference}, run by run")
        fig.suptitle(f"End of horizon ({self.horizon}): distribution over {self.runs} runs "
                     f"(violin, box = quartiles, ◇ = mean{delta})")
        return fig

    def fig_patterns(self) -> Figure:
        n = len(self.names)
        cols = min(n, 4)
        rows = -(-n // cols)
        fig = Figure(figsize=(3.6 * cols + 1.8, 3.0 * rows + 0.8), layout="constrained")
        axes = np.atleast_1d(fig.subplots(rows, cols, sharey=True, squeeze=False)).ravel()
        for ax, name in zip(axes, self.names, strict=False):
            res = self.results[name]
            shares = np.stack([(res.dittmer_codes == k).mean(axis=0) for k in range(4)])
            ax.stackplot(as_dates(res.dates), shares,
                         labels=[p.replace("_", " ") for p in DITTMER],
                         colors=[PATTERN_COLORS[p] for p in DITTMER], alpha=0.85)
            ax.set(ylim=(0, 1), title=name + (" (reference)" if name == self.reference else ""))
            ax.set_xlim(as_dates(res.dates)[[0, -1]])
            date_axis(ax)
        for ax in axes[n:]:
            ax.set_visible(False)
        for ax in axes[::cols]:
            ax.set_ylabel("share of runs")
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside right upper", frameon=False,
                   title="Dittmer pattern")
        w = self.results[self.reference].world
        a, b, c = (w.ids[i] for i in w.triad())
        fig.suptitle(f"{a}–{b}–{c} strategic triangle: share of {self.runs} runs in each "
                     "pattern")
        return fig

    def fig_deals(self) -> Figure:
        labels = [o.removeprefix("made_") for o in self.outcome_names if o.startswith("made_")]
        fig, axes = _grid(max(1, len(labels)), height=3.2)
        if not labels:
            axes[0].text(0.5, 0.5, "no decisions (policies) in these scenarios",
                         ha="center", va="center", transform=axes[0].transAxes)
            axes[0].axis("off")
        for ax, label in zip(axes, labels, strict=False):
            key = f"made_{label}"
            for name in self.names:
                vals = self.values[name].get(key)
                if vals is None:
                    continue
                ax.plot(as_dates(self.results[name].dates), vals.mean(axis=0),
                        color=self.colors[name], lw=2, label=name)
            title, _ = outcome_label(key)
            ax.set(ylim=(-0.02, 1.02), title=title, ylabel="share of runs, taken by then")
            date_axis(ax)
            ax.grid(alpha=0.3)
        fig.suptitle(f"Deals and escalations: share of {self.runs} runs in which each "
                     "decision has been taken (at least once) by each date")
        self._scenario_legend(fig, self.names, bands=False)
        return fig

    def figures(self) -> dict[str, Figure]:
        """The five comparison figures by file stem."""
        return {"outcomes_over_time": self.fig_outcomes(),
                "paired_differences": self.fig_differences(),
                "horizon_distributions": self.fig_horizon(),
                "triangle_patterns": self.fig_patterns(),
                "deal_probabilities": self.fig_deals()}

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
            files = ["table.csv", "table.md", "outcomes.csv", "patterns.csv"]
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
                    "figures": figures, **(settings or {})}
            write_manifest(tmp, manifest(sources, [resolved(s) for s in specs], info,
                                         [*files, "manifest.json"]))
        return out


def added_state_outcomes(res: Results, ref: World) -> dict[str, np.ndarray]:
    """Relations of the states ``res`` has and the reference world ``ref`` has not, with each
    state of the reference's triangle present in ``res``: ``{"relation_USA-KAZ": (R, T+1)}``.
    The reference has no such outcome, so they are never paired."""
    added = [s for s in res.world.ids if s not in ref.ids]
    anchors = [ref.ids[i] for i in ref.triad() if ref.ids[i] in res.world.ids]
    return {f"relation_{pair_name(a, s)}": res.relation(a, s) for s in added for a in anchors}


def compare(scenarios: Sequence[str | Path | ScenarioSpec], runs: int = 500,
            seed: int | None = None, engine: Engine = "auto", progress: bool = False,
            **ensemble_kw: Any) -> Comparison:
    """Run every scenario with the same master seed (common random numbers) and compare them
    with the first. ``seed`` defaults to the first scenario's; ``ensemble_kw`` goes to
    :func:`sim.ensemble.run_ensemble`."""
    specs = load_scenarios(scenarios)
    master = specs[0].scenario.seed if seed is None else seed
    results = {s.scenario.name: run(s, runs=runs, seed=master, engine=engine,
                                     progress=progress, **ensemble_kw) for s in specs}
    return Comparison(results, engine=engine)


# ------------------------------------------------------------------------------- helpers


def scenario_files(specs: Sequence[ScenarioSpec]) -> list[Path]:
    """Every file the scenarios were read from, ``extends`` parents included (a list too, at
    any depth; once each)."""
    return output_files([s.source for s in specs])


def _grid(n: int, height: float = 3.3, width: float = 5.0) -> tuple[Figure, np.ndarray]:
    cols = min(n, 3)
    rows = -(-n // cols)
    fig = Figure(figsize=(width * cols, height * rows + 1.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _style(ax, key: str) -> None:
    title, unit = outcome_label(key)
    ax.set(title=title, ylabel=unit)
    if key.startswith("relation_"):
        ax.axhline(0, color="k", lw=0.8)
        ax.set_ylim(-1.05, 1.05)
    elif key.startswith("trade_"):
        ax.set_ylim(bottom=0)
    elif key == "balanced_share" or key.startswith("made_"):
        ax.set_ylim(-0.02, 1.02)
    date_axis(ax)
    ax.grid(alpha=0.3)


def _fmt(v: Any, signed: bool = False) -> str:
    if isinstance(v, (int, np.integer)):
        return str(v)
    if isinstance(v, (float, np.floating)):
        if np.isnan(v):
            return ""
        digits = 3 if abs(v) < 10 else 1
        return f"{v:+.{digits}f}" if signed else f"{v:.{digits}f}"
    return str(v).replace("|", "\\|")


def table_markdown(table: pd.DataFrame, title: str = "", note: str = "") -> str:
    """A DataFrame as a GitHub Markdown table (numbers right-aligned; NaN left blank)."""
    cols = list(table.columns)
    numeric = [pd.api.types.is_numeric_dtype(table[c]) for c in cols]
    signed = {"mean_diff", "diff_q05", "diff_q95"}
    lines = []
    if title:
        lines += [f"# {title}", ""]
    if note:
        lines += [note, ""]
    lines.append("| " + " | ".join(cols) + " |")
    lines.append("|" + "|".join("---:" if num else ":---" for num in numeric) + "|")
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(_fmt(v, signed=c in signed)
                                       for c, v in zip(cols, row, strict=True)) + " |")
    return "\n".join(lines) + "\n"


__all__ = ["CompareError", "Comparison", "compare", "default_out", "load_scenarios",
           "table_markdown"]
