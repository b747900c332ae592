"""Global sensitivity analysis with SALib: which assumptions drive an outcome, or an effect.

**Morris screening** (:func:`morris`) over every factor of the scenario (:mod:`sim.explore.space`:
declared distributions and, by default, every other registered number, policies included):
``r`` trajectories of ``D+1`` points on a 4-level grid of each factor's probabilities; ``μ*``
(mean absolute elementary effect, with a bootstrap 95% interval) ranks the factors, ``σ`` says
whether the effect depends on the others (interactions, non-linearity). An elementary effect is
the change in the outcome when a factor moves by 2/3 of its distribution's probability.

**Sobol indices** (:func:`sobol`) over the top factors (by a Morris screen, or named):
Saltelli's sampling of a scrambled Sobol' sequence (``N·(D+2)`` points, no second-order
terms) and SALib's estimators; first-order ``S1`` (share of variance a factor explains alone)
and total ``ST`` (alone and with others), with bootstrap 95% intervals. Convergence is shown,
not assumed: the indices and interval widths at ``N/8, N/4, N/2, N`` (the first base samples of
the same design). Every index whose interval is wider than :data:`WIDE` or includes 0 is
flagged; a negative estimate is sampling error (a true index is ≥ 0).

**Noise.** Each design point runs ``reps`` times with different random streams; the points that
the estimator compares (one Morris trajectory, one Sobol base sample's ``D+2`` points) share
them (:func:`sim.explore.runner.grouped_streams`), so their differences are paired. The indices
are those of the mean over replicates; ``noise_share`` is the share of a single run's variance
due to the model's own randomness, ``E[Var(Y|θ)] / Var(Y)`` (within-point variance over total).

**Effects.** With ``vs``, the outcome is the paired effect ``vs − scenario`` run by run (same
parameter values, same streams), as in ``sim compare``.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.explore import common
from sim.explore.runner import grouped_streams, numeric_outcomes, outcome_values
from sim.explore.space import Space, Which, space
from sim.output import UserError
from sim.spec import ScenarioSpec
from sim.world import World

WIDE = 0.1
"""An index whose 95% interval is wider than this is flagged."""
LEVELS = 4
RESAMPLES = 1000
INDEX_COLUMNS = ["method", "outcome", "quantity", "date", "parameter", "index", "value", "conf",
                 "lo", "hi", "n", "flag"]
NEGATIVE = ("negative indices are sampling error: true Sobol indices lie in [0, 1] and a "
            "finite design scatters estimates of small ones around 0; read them as 0 (a "
            "negative estimate whose interval excludes 0 says the design is too small)")


@dataclass
class Sensitivity:
    """A sensitivity analysis: tidy tables and figures (see the module docstring).

    ``indices``: one row per outcome, date, factor and index (:data:`INDEX_COLUMNS`);
    ``convergence``: Sobol indices at ``N/8 .. N``; ``noise``: variance shares per outcome and
    date; ``screening``: the Morris screen that chose the Sobol factors (if any)."""

    method: Literal["morris", "sobol"]
    specs: list[ScenarioSpec]
    space: Space
    outcomes: list[str]
    dates: list[str]
    n: int
    reps: int
    seed: int
    runs: int
    seconds: float
    indices: pd.DataFrame
    noise: pd.DataFrame
    convergence: pd.DataFrame | None = None
    screening: Sensitivity | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def all_runs(self) -> int:
        """Every run the analysis made: its own and those of the screen that chose its
        factors."""
        return self.runs + (0 if self.screening is None else self.screening.all_runs)

    def runs_text(self) -> str:
        """``"1,200 runs (880 in the Morris screen that chose the factors, 320 for the Sobol
        indices)"``, or ``"320 runs"`` with no screen."""
        if self.screening is None:
            return f"{self.runs:,} runs"
        return (f"{self.all_runs:,} runs ({self.screening.runs:,} in the Morris screen that "
                f"chose the factors, {self.runs:,} for the {self.method.title()} indices)")

    @property
    def scenario(self) -> str:
        return self.specs[0].scenario.name

    @property
    def vs(self) -> str | None:
        return self.specs[1].scenario.name if len(self.specs) > 1 else None

    @property
    def quantity(self) -> str:
        return "level" if self.vs is None else f"effect of {self.vs}"

    def top(self, outcome: str, date: str | None = None, k: int = 5) -> pd.DataFrame:
        """The ``k`` leading factors for an outcome at a date (default the last): Sobol ``ST``
        or Morris ``μ*``, one row per factor with its indices side by side."""
        date = date or self.dates[-1]
        d = self.indices[(self.indices.outcome == outcome) & (self.indices.date == date)]
        wide = d.pivot_table(index="parameter", columns="index", values="value", sort=False,
                             dropna=False)
        for k2 in ("S1", "ST", "mu_star"):
            if k2 in wide:
                c = d[d["index"] == k2].set_index("parameter")
                wide[f"{k2}_lo"], wide[f"{k2}_hi"] = c["lo"], c["hi"]
                wide[f"{k2}_flag"] = c["flag"]
        key = "ST" if self.method == "sobol" else "mu_star"
        if key not in wide:  # no variance: every index NaN
            wide[key] = np.nan
        return wide.sort_values(key, ascending=False).head(k).reset_index()

    def figures(self) -> dict[str, Figure]:
        """Figures by file stem: per outcome and date, Sobol bars and convergence, or Morris
        ``μ*``-``σ`` plots."""
        from sim.explore import figures as fg

        out: dict[str, Figure] = {}
        for o in self.outcomes:
            for d in self.dates:
                s = common.stem(f"{o}_{d}")
                if self.method == "sobol":
                    out[f"sobol_{s}"] = fg.fig_sobol(self, o, d)
                    out[f"convergence_{s}"] = fg.fig_convergence(self, o, d)
                else:
                    out[f"morris_{s}"] = fg.fig_morris(self, o, d)
        return out

    def markdown(self) -> str:
        """The summary a reader starts with (``summary.md``)."""
        return summary_markdown(self)

    def write(self, out: str | Path, force: bool = False, figures: bool = True,
              settings: dict[str, Any] | None = None) -> Path:
        """``indices.csv``, ``noise.csv``, ``factors.csv``, ``convergence.csv`` (Sobol),
        ``screening.csv`` (if a screen chose the factors), ``summary.md``, figures and the
        manifest, into ``out`` atomically (refuses a non-empty folder unless ``force``)."""
        tables = {"indices": self.indices, "noise": self.noise,
                  "factors": pd.DataFrame(self.space.table())}
        if self.convergence is not None:
            tables["convergence"] = self.convergence
        if self.screening is not None:
            tables["screening"] = self.screening.indices
        info = {"kind": "sensitivity", "method": self.method, "scenario": self.specs[0].source,
                "vs": None if self.vs is None else self.specs[1].source,
                "outcomes": self.outcomes, "dates": self.dates, "n": self.n,
                "reps": self.reps, "seed": self.seed, "runs": self.runs,
                "all_runs": self.all_runs,
                "parameters": self.space.names,
                "design": _design_text(self.method, self.n, len(self.space), self.reps),
                "seconds": round(self.seconds, 2), **(settings or {})}
        return common.write_folder(out, force, self.specs, tables,
                                   {"summary.md": self.markdown()},
                                   self.figures if figures else None, info)


def _design_text(method: str, n: int, d: int, reps: int) -> str:
    if method == "sobol":
        return (f"SALib sobol.sample (scrambled Sobol' sequence, Saltelli scheme, no second "
                f"order): {n} base samples x {d + 2} points x {reps} replicates; the {d + 2} "
                "points of base sample j use runs j*reps .. j*reps+reps-1")
    return (f"SALib morris.sample: {n} trajectories x {d + 1} points ({LEVELS} levels) x "
            f"{reps} replicates; the points of trajectory j use runs j*reps .. j*reps+reps-1")


# ------------------------------------------------------------------------------ running


def _prepare(scenario: str | Path | ScenarioSpec, vs: str | Path | ScenarioSpec | None,
             outcomes: Sequence[str] | None, dates: Sequence[str] | str | None
             ) -> tuple[list[ScenarioSpec], list[World], list[str], list[str], list[int]]:
    specs = [common.load(scenario)] + ([] if vs is None else [common.load(vs)])
    worlds = [World.from_spec(s) for s in specs]
    names = [o.name for o in numeric_outcomes(worlds[0], outcomes or
                                              common.default_outcomes(worlds[0]))]
    labels, steps = common.dates_of(worlds[0], dates)
    for w in worlds[1:]:
        numeric_outcomes(w, names)
        common.dates_of(w, labels)
    return specs, worlds, names, labels, steps


def _pairing_notes(specs: list[ScenarioSpec], worlds: list[World]) -> list[str]:
    if len(worlds) < 2:
        return []
    a, b = worlds
    if a.ids != b.ids or a.start != b.start:
        return [f"{specs[1].scenario.name} has other states or another start than "
                f"{specs[0].scenario.name}: run i of one does not share random streams with run "
                "i of the other, so effects are not paired"]
    return []


def _values(specs: list[ScenarioSpec], worlds: list[World], sp: Space, unit: np.ndarray,
            group: int, reps: int, seed: int, names: list[str], labels: list[str],
            workers: int | None, progress: bool, engine: str = "batched") -> np.ndarray:
    """``(points, reps, O, S)`` values (or paired effects with a second scenario)."""
    rows = len(unit)
    streams = grouped_streams(rows, group, reps)
    take = np.repeat(np.arange(rows), reps)
    got = []
    for spec, world in zip(specs, worlds, strict=True):
        par = sp.params(unit, spec).take(take)
        steps = common.dates_of(world, labels)[1]
        got.append(outcome_values(world, seed, streams, par, names, steps, workers, progress,
                                  engine=engine))
    y = got[0] if len(got) == 1 else got[1] - got[0]
    return y.reshape(rows, reps, len(names), len(labels))


def noise_table(y: np.ndarray, names: list[str], labels: list[str], quantity: str
                ) -> pd.DataFrame:
    """Per outcome and date: variance of single runs, mean within-point variance over the
    replicates, and their ratio ``noise_share`` (NaN with one replicate or no variance)."""
    rows = []
    for i, o in enumerate(names):
        for j, d in enumerate(labels):
            v = y[:, :, i, j]
            total = float(np.nanvar(v.reshape(-1), ddof=1)) if v.size > 1 else np.nan
            within = float(np.nanmean(np.nanvar(v, axis=1, ddof=1))) if v.shape[1] > 1 \
                else np.nan
            share = within / total if total > 0 and np.isfinite(within) else np.nan
            rows.append({"outcome": o, "quantity": quantity, "date": d, "reps": v.shape[1],
                         "variance": total, "within_variance": within,
                         "noise_share": min(share, 1.0) if np.isfinite(share) else share,
                         "parameter_share": 1 - min(share, 1.0) if np.isfinite(share)
                         else np.nan})
    return pd.DataFrame(rows)


def _problem(sp: Space) -> dict[str, Any]:
    return {"num_vars": len(sp), "names": sp.names, "bounds": [[0.0, 1.0]] * len(sp)}


def _quiet(fn: Any, *args: Any, **kw: Any) -> Any:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


def morris(scenario: str | Path | ScenarioSpec, outcomes: Sequence[str] | None = None,
           dates: Sequence[str] | str | None = None, vs: str | Path | ScenarioSpec | None = None,
           r: int = 20, reps: int = 2, seed: int | None = None, which: Which = "all",
           params: Sequence[str] | None = None, workers: int | None = 1,
           progress: bool = False, engine: str = "batched") -> Sensitivity:
    """Morris screening of ``outcomes`` (default: the triangle's relations) at ``dates``
    (default: the horizon) over the scenario's factors (``which``; ``params``: only these),
    ``r`` trajectories × ``reps`` replicates; with ``vs`` the paired effect ``vs − scenario``.
    Raises :class:`UserError` / :class:`sim.outcomes.OutcomeError` for bad input."""
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    start = time.perf_counter()
    specs, worlds, names, labels, _ = _prepare(scenario, vs, outcomes, dates)
    seed = specs[0].scenario.seed if seed is None else int(seed)
    _check_counts(**{"--n": r, "--reps": reps})
    sp = space(specs[0], which)
    sp = sp.subset(params) if params else sp
    problem = _problem(sp)
    unit = morris_sample.sample(problem, r, num_levels=LEVELS, seed=seed)
    y = _values(specs, worlds, sp, unit, len(sp) + 1, reps, seed, names, labels, workers,
                progress, engine)
    mean = y.mean(axis=1)
    quantity = "level" if len(specs) == 1 else f"effect of {specs[1].scenario.name}"
    rows = []
    for i, o in enumerate(names):
        for j, d in enumerate(labels):
            res = _quiet(morris_analyze.analyze, problem, unit, mean[:, i, j],
                         num_resamples=RESAMPLES, conf_level=0.95, num_levels=LEVELS, seed=seed)
            for k, p in enumerate(sp.names):
                for idx in ("mu_star", "mu", "sigma"):
                    v = float(res[idx][k])
                    conf = float(res["mu_star_conf"][k]) if idx == "mu_star" else np.nan
                    rows.append({"method": "morris", "outcome": o, "quantity": quantity,
                                 "date": d, "parameter": p, "index": idx, "value": v,
                                 "conf": conf, "lo": v - conf, "hi": v + conf, "n": r,
                                 "flag": ""})
    notes = _space_notes(sp, which) + _pairing_notes(specs, worlds)
    return Sensitivity("morris", specs, sp, names, labels, r, reps, seed,
                       len(unit) * reps * len(specs), time.perf_counter() - start,
                       pd.DataFrame(rows, columns=INDEX_COLUMNS),
                       noise_table(y, names, labels, quantity), notes=notes)


def screen(result: Sensitivity, top: int) -> list[str]:
    """The ``top`` factors of a Morris screen: ranked by ``μ*`` relative to the largest ``μ*``
    of the same outcome and date, taking each factor's best rank over outcomes and dates."""
    d = result.indices[result.indices["index"] == "mu_star"].copy()
    peak = d.groupby(["outcome", "date"])["value"].transform("max")
    d["rel"] = np.where(peak > 0, d["value"] / peak, 0.0)
    best = d.groupby("parameter", sort=False)["rel"].max()
    return list(best.sort_values(ascending=False, kind="stable").index[:top])


def _check_counts(**counts: int) -> None:
    for label, v in counts.items():
        if v < 1:
            raise UserError(f"{label}: got {v}; expected a number of at least 1")


def sobol(scenario: str | Path | ScenarioSpec, outcomes: Sequence[str] | None = None,
          dates: Sequence[str] | str | None = None, vs: str | Path | ScenarioSpec | None = None,
          n: int = 256, reps: int = 4, params: Sequence[str] | None = None, top: int = 12,
          screen_r: int = 10, seed: int | None = None, which: Which = "all",
          workers: int | None = 1, progress: bool = False, engine: str = "batched"
          ) -> Sensitivity:
    """Sobol indices of ``outcomes`` at ``dates`` (defaults as :func:`morris`) over ``params``
    or, if none are named, the ``top`` factors of a Morris screen (``screen_r`` trajectories,
    one replicate); ``n`` base samples (a power of 2, at least 16) × ``reps`` replicates; with
    ``vs`` the paired effect. Raises :class:`UserError` for bad counts or names."""
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    start = time.perf_counter()
    if n < 16 or n & (n - 1):
        raise UserError(f"--n: got {n}; expected a power of 2 of at least 16 (Sobol' points "
                        "balance at powers of 2; convergence is shown at n/8, n/4, n/2, n)")
    _check_counts(**{"--reps": reps, "--top": top, "--screen": screen_r})
    specs, worlds, names, labels, _ = _prepare(scenario, vs, outcomes, dates)
    seed = specs[0].scenario.seed if seed is None else int(seed)
    full = space(specs[0], which)
    screened = None
    if params:
        sp = full.subset(params)
    else:
        screened = morris(specs[0], names, labels, specs[1] if vs is not None else None,
                          r=screen_r, reps=1, seed=seed, which=which, workers=workers,
                          progress=progress, engine=engine)
        sp = full.subset(screen(screened, top))
    problem = _problem(sp)
    unit = _quiet(sobol_sample.sample, problem, n, calc_second_order=False, scramble=True,
                  seed=seed)
    g = len(sp) + 2
    y = _values(specs, worlds, sp, unit, g, reps, seed, names, labels, workers, progress,
                engine)
    mean = y.mean(axis=1)
    quantity = "level" if len(specs) == 1 else f"effect of {specs[1].scenario.name}"
    rows, conv = [], []
    for i, o in enumerate(names):
        for j, d in enumerate(labels):
            for m in (n // 8, n // 4, n // 2, n):
                res = _analyze(sobol_analyze, problem, mean[: m * g, i, j], seed)
                for k, p in enumerate(sp.names):
                    for idx in ("S1", "ST"):
                        v, c = float(res[idx][k]), float(res[f"{idx}_conf"][k])
                        row = {"method": "sobol", "outcome": o, "quantity": quantity,
                               "date": d, "parameter": p, "index": idx, "value": v, "conf": c,
                               "lo": v - c, "hi": v + c, "n": m, "flag": flag(v, c)}
                        conv.append(row)
                        if m == n:
                            rows.append(row)
    notes = (_space_notes(sp, which) + _pairing_notes(specs, worlds)
             + [f"factors not in the design keep the scenario's value: "
                f"{len(full) - len(sp)} of {len(full)}"] * (len(full) > len(sp)))
    indices = pd.DataFrame(rows, columns=INDEX_COLUMNS)
    if (indices["value"] < 0).any():
        notes.append(NEGATIVE)
    runs = len(unit) * reps * len(specs)
    return Sensitivity("sobol", specs, sp, names, labels, n, reps, seed, runs,
                       time.perf_counter() - start, indices,
                       noise_table(y, names, labels, quantity),
                       pd.DataFrame(conv, columns=INDEX_COLUMNS), screened, notes)


def _analyze(sobol_analyze: Any, problem: dict[str, Any], y: np.ndarray, seed: int
             ) -> dict[str, np.ndarray]:
    """SALib's Sobol analysis, or NaN indices where ``y`` does not vary."""
    if not np.all(np.isfinite(y)) or np.ptp(y) == 0:
        nan = np.full(problem["num_vars"], np.nan)
        return {"S1": nan, "S1_conf": nan, "ST": nan, "ST_conf": nan}
    return _quiet(sobol_analyze.analyze, problem, y, calc_second_order=False,
                  num_resamples=RESAMPLES, conf_level=0.95, seed=seed)


def flag(value: float, conf: float) -> str:
    """Why an index is not settled: ``wide`` (95% interval wider than :data:`WIDE`),
    ``includes 0``, ``negative`` (sampling error), ``no variance``; '' when settled."""
    if not np.isfinite(value):
        return "no variance"
    out = []
    if 2 * conf > WIDE:
        out.append("wide")
    if value - conf <= 0:
        out.append("includes 0")
    if value < 0:
        out.append("negative")
    return "; ".join(out)


def _space_notes(sp: Space, which: Which) -> list[str]:
    notes = []
    if sp.joint:
        notes.append(f"{', '.join(sp.joint)} are drawn jointly from the calibration in sim run; "
                     "here each varies independently over its own marginal (Sobol indices "
                     "need independent inputs)")
    fallback = [f.name for f in sp.factors if f.source.startswith("not declared")]
    if fallback:
        notes.append(f"{len(fallback)} factors are not declared in [uncertainties] and vary "
                     "over a fallback range (factors.csv, source)")
    if which == "all" and sp.left_out:
        notes.append(f"left out (value 0, no range): {', '.join(sp.left_out)}")
    return notes


def sensitivity(scenario: str | Path | ScenarioSpec, method: str = "sobol",
                **kw: Any) -> Sensitivity:
    """:func:`morris` or :func:`sobol`. Raises :class:`UserError` for another method."""
    if method not in ("morris", "sobol"):
        raise UserError(f"--method: got {method!r}; expected morris or sobol")
    return (morris if method == "morris" else sobol)(scenario, **kw)


# ------------------------------------------------------------------------------ summary


def _fmt(v: float) -> str:
    return "n/a" if not np.isfinite(v) else f"{v:.3f}"


def summary_markdown(res: Sensitivity, k: int = 5) -> str:
    """Leading factors per outcome and date, noise shares, convergence, flags and notes."""
    lines = [f"# Sensitivity ({res.method}) of {res.scenario}"
             + (f": effect of {res.vs}" if res.vs else ""), "",
             _design_text(res.method, res.n, len(res.space), res.reps)
             + f"; {res.runs_text()} in {res.seconds:.1f} s.", ""]
    for o in res.outcomes:
        for d in res.dates:
            lines += [f"## {o} at {d} ({res.quantity})", ""]
            top = res.top(o, d, k)
            if res.method == "sobol":
                lines += ["| parameter | S1 [95% CI] | ST [95% CI] | ST at n/8, n/4, n/2, n | "
                          "flags |", "|---|---|---|---|---|"]
                for _, t in top.iterrows():
                    conv = res.convergence
                    path = conv[(conv.outcome == o) & (conv.date == d)
                                & (conv.parameter == t.parameter) & (conv["index"] == "ST")]
                    flags = "; ".join(f"{k2}: {t.get(f'{k2}_flag')}" for k2 in ("S1", "ST")
                                      if t.get(f"{k2}_flag"))
                    lines.append(
                        f"| {t.parameter} | {_fmt(t.S1)} [{_fmt(t.S1_lo)}, {_fmt(t.S1_hi)}] "
                        f"| {_fmt(t.ST)} [{_fmt(t.ST_lo)}, {_fmt(t.ST_hi)}] | "
                        + ", ".join(_fmt(v) for v in path["value"]) + f" | {flags} |")
            else:
                lines += ["| parameter | μ* [95% CI] | σ | μ |", "|---|---|---|---|"]
                for _, t in top.iterrows():
                    lines.append(f"| {t.parameter} | {_fmt(t.mu_star)} "
                                 f"[{_fmt(max(t.mu_star_lo, 0.0))}, "
                                 f"{_fmt(t.mu_star_hi)}] | {_fmt(t.sigma)} | {_fmt(t.mu)} |")
            nz = res.noise[(res.noise.outcome == o) & (res.noise.date == d)].iloc[0]
            noise = (f"Noise: {_fmt(nz.noise_share)} of a single run's variance is the model's "
                     f"own randomness ({res.reps} replicates per point)." if res.reps > 1 else
                     "Noise: not estimated (one replicate per point; --reps 2 or more measures "
                     "the share of a single run's variance that is the model's own randomness).")
            lines += ["", noise, ""]
    if res.method == "sobol":
        flagged = res.indices[res.indices.flag != ""]
        lines += ["## Flags", "", f"{len(flagged)} of {len(res.indices)} indices are flagged "
                  f"(95% interval wider than {WIDE:g}, or including 0): see indices.csv, "
                  "column flag. An index that includes 0 may be 0.", ""]
    if res.notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in res.notes] + [""]
    return "\n".join(lines)


__all__ = ["INDEX_COLUMNS", "WIDE", "Sensitivity", "flag", "morris", "noise_table", "screen",
           "sensitivity", "sobol"]
