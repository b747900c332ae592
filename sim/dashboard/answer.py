"""The answer to a what-if: the modified scenario's ensemble and its reference's, under the same
design, with the figures and tables a page shows.

**Numbers.** The modified scenario runs exactly as ``sim run <exported file> --runs R --seed S
--engine E`` does (:func:`sim.api.run`: :func:`sim.uncertainty.make_design` of the modified
scenario, ``R`` draws of one run each, master seed ``S``). The reference (another shipped
scenario, or the unmodified one) runs as ``sim run <stem> --runs R --seed S``. Run ``i`` of both
uses the same random streams and the same Latin-hypercube coordinates, so the differences are
paired: a change of a lever leaves the parameter draws as they are; a changed width maps the same
coordinates through the new distribution; fixing a parameter drops its column from the
hypercube, so the other parameters' draws change too (the pairing of draws is then lost, the
streams are still shared).

**Speed.** Reference ensembles are cached by (reference, runs, seed, engine), so a lever change
reruns the modified scenario only; with no change the reference is the answer.
"""

from __future__ import annotations

import importlib.util
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim import compare_figures as cf
from sim import outcomes as oc
from sim import plots
from sim.api import decisions_table, run
from sim.comparison import Comparison
from sim.dashboard.scenarios import load_shipped
from sim.dashboard.whatif import WhatIf, apply, from_scenario_error, to_toml
from sim.effects import effect_stats, per_draw, scales, sign_text
from sim.results import Results
from sim.seeds import kept_draws
from sim.spec import ScenarioError, ScenarioSpec
from sim.world import policy_labels

FIGURES = ("relations", "trade", "differences", "triangle", "heatmap", "decisions", "landscape")
TABLES = ("differences", "decisions", "outcomes")
DIFFERENCE_COLUMNS = ["outcome", "label", "scale", "date", "runs", "draws", "median", "mean",
                      "param_lo", "param_hi", "sign_share", "zero_share", "same_sign",
                      "mc_lo", "mc_hi", "paired"]
CACHE_SIZE = 8
"""Reference ensembles the module keeps when :func:`answer` is given no cache of its own."""
_CACHE: OrderedDict[tuple[Any, ...], Results] = OrderedDict()
_LOCK = threading.Lock()


def resolve_engine(engine: str) -> str:
    """``auto``: ``numba`` when numba is installed, else ``batched`` (numpy); else ``engine``
    (checked by :func:`sim.ensemble.pick_engine` when the runs start)."""
    if engine != "auto":
        return engine
    return "numba" if importlib.util.find_spec("numba") is not None else "batched"


@dataclass
class Answer:
    """The modified scenario's ensemble (``results``) and the reference's (``reference``),
    ``runs`` runs each under master ``seed`` with ``engine``; figures by name (:data:`FIGURES`)
    and tables by name (:data:`TABLES`)."""

    whatif: WhatIf
    runs: int
    seed: int
    results: Results
    reference: Results
    engine: str = "batched"
    names: tuple[str, str] = ("what-if", "reference")
    _figures: dict[tuple[str, str | None], Figure] = field(default_factory=dict, repr=False)

    @cached_property
    def comparison(self) -> Comparison:
        """The two ensembles as a :class:`sim.comparison.Comparison` (reference first)."""
        mine, theirs = self.names
        return Comparison({theirs: self.reference, mine: self.results}, engine=self.engine)

    @property
    def dates(self) -> list[str]:
        """``YYYY-MM`` of every step of the modified scenario (start to horizon)."""
        return list(self.results.dates)

    def step(self, date: str | None) -> int:
        """The step of ``date`` (``YYYY-MM``; None: the horizon). Raises ValueError for a month
        outside the horizon."""
        if date is None:
            return len(self.dates) - 1
        if date not in self.dates:
            raise ValueError(f"date: got {date!r}; expected a month YYYY-MM from "
                             f"{self.dates[0]} to {self.dates[-1]}")
        return self.dates.index(date)

    def toml(self) -> str:
        """The what-if as a child scenario file (:func:`sim.dashboard.whatif.to_toml`), with
        the ``sim run`` command that gives these numbers (runs, seed, engine)."""
        return to_toml(self.whatif, runs=self.runs, seed=self.seed, engine=self.engine)

    # ------------------------------------------------------------------------ figures
    def figure(self, name: str, date: str | None = None) -> Figure:
        """Figure ``name`` of :data:`FIGURES` (``triangle`` and ``heatmap`` at ``date``, a
        month ``YYYY-MM`` within the horizon, default the horizon; the others ignore it),
        drawn once per answer and date. Raises ValueError for an unknown name or date."""
        if name not in FIGURES:
            raise ValueError(f"figure: got {name!r}; expected one of {', '.join(FIGURES)}")
        when = date if name in ("triangle", "heatmap") else None
        t = self.step(when)
        key = (name, None if when is None else self.dates[t])
        if key not in self._figures:
            self._figures[key] = self._draw(name, t)
        return self._figures[key]

    def _draw(self, name: str, t: int) -> Figure:
        res, ref, names = self.results, self.reference, self.names
        same_states = res.world.ids == ref.world.ids
        if name == "differences":
            return cf.fig_differences(self.comparison)
        draw: dict[str, Callable[[], Figure]] = {
            "relations": lambda: plots.fig_relations(res, ref, names),
            "trade": lambda: plots.fig_trade(res, ref, names),
            "triangle": lambda: plots.fig_triangle(
                res, [t], ref if t < len(ref.dates) else None, names),
            "heatmap": lambda: plots.fig_heatmap(
                res, t, ref if same_states and t < len(ref.dates) else None, names),
            "decisions": lambda: plots.fig_deals(res, ref, names),
            "landscape": lambda: plots.fig_landscape(res, ref, names),
        }
        return draw[name]()

    # ------------------------------------------------------------------------ tables
    def table(self, name: str) -> pd.DataFrame:
        """Table ``name`` of :data:`TABLES`: ``differences`` (:meth:`differences`),
        ``decisions`` (:meth:`decisions`) or ``outcomes`` (per scenario and key outcome at the
        horizon: distribution over runs and paired difference, as ``sim compare``'s
        ``table.csv``). Raises ValueError for an unknown name."""
        if name == "differences":
            return self.differences()
        if name == "decisions":
            return self.decisions()
        if name == "outcomes":
            return self.comparison.table
        raise ValueError(f"table: got {name!r}; expected one of {', '.join(TABLES)}")

    def differences(self) -> pd.DataFrame:
        """Per key outcome (the triangle's relations and trade, the balanced share, each
        decision taken) at the last month both share: the paired effect ``what-if −
        reference`` (:data:`DIFFERENCE_COLUMNS`): median and mean of the per-draw effects, their
        90% interval across parameter draws, the share of draws with the mean's sign (and in
        words), the Monte-Carlo 95% interval of the mean (:func:`sim.effects.effect_stats`)."""
        comp = self.comparison
        mine = self.names[0]
        rows = []
        for outcome in comp.outcome_names:
            dates, d = comp.paired_difference(mine, outcome)
            if d.size == 0 or comp.horizon not in dates:
                continue
            diff = d[:, dates.index(comp.horizon)]
            draw = comp.pairings[mine].draw
            st = effect_stats(diff, draw)
            rows.append({"outcome": outcome, "label": oc.parse(outcome).label,
                         "scale": scales(outcome)[0], "date": comp.horizon,
                         "median": float(np.median(per_draw(diff, draw))), **st,
                         "same_sign": sign_text(st["sign_share"], st["zero_share"]),
                         "paired": bool(comp.pairings[mine].streams)})
        return pd.DataFrame(rows, columns=DIFFERENCE_COLUMNS)

    def decisions(self) -> pd.DataFrame:
        """Per scenario (what-if, reference), month and decision: the share of runs that have
        taken it by then and its mean monthly probability (:func:`sim.api.decisions_table`)."""
        parts = [decisions_table(r).assign(scenario=n)
                 for n, r in zip(self.names, (self.results, self.reference), strict=True)]
        out = pd.concat(parts, ignore_index=True)
        return out[["scenario", *[c for c in out.columns if c != "scenario"]]]


# ---------------------------------------------------------------------------- running


def _reference(stem: str, runs: int, seed: int, engine: str,
               cache: dict | OrderedDict) -> Results:
    """The shipped scenario ``stem``'s ensemble, from ``cache`` or run (as ``sim run``) and
    kept there."""
    key = (stem, runs, seed, engine)
    with _LOCK:
        if key in cache:
            if isinstance(cache, OrderedDict):
                cache.move_to_end(key)
            return cache[key]
    res = run(load_shipped(stem), runs=runs, seed=seed, engine=engine)
    with _LOCK:
        cache[key] = res
        if cache is _CACHE and len(cache) > CACHE_SIZE:
            cache.popitem(last=False)
    return res


def answer(whatif: WhatIf, runs: int = 500, seed: int = 1, engine: str = "auto",
           reference_cache: dict | None = None) -> Answer:
    """Run the what-if: the modified scenario (:func:`sim.dashboard.whatif.apply`) and its
    reference, ``runs`` runs each under master ``seed`` (see the module docstring for the
    design and the pairing). ``engine``: ``auto`` (numba if installed, else numpy),
    ``batched``, ``numba`` (:func:`resolve_engine`). ``reference_cache``: where reference
    ensembles are kept, by ``(stem, runs, seed, engine)`` (default: a module-level cache of
    :data:`CACHE_SIZE`). Raises :class:`sim.dashboard.whatif.ChangeError` for a bad change,
    ValueError for an unknown scenario, :class:`sim.output.UserError` for bad counts."""
    engine = resolve_engine(engine)
    cache = _CACHE if reference_cache is None else reference_cache
    base = load_shipped(whatif.scenario)
    spec = apply(base, whatif.changes)
    with kept_draws():
        ref = _reference(whatif.reference_stem, runs, seed, engine, cache)
        if spec is base:
            res = ref if whatif.reference is None else _reference(whatif.scenario, runs, seed,
                                                                  engine, cache)
        else:
            design = None
            if same_design(spec, base):  # the unmodified scenario's draws, once
                design = _reference(whatif.scenario, runs, seed, engine, cache).traj.design
            try:
                res = run(spec, runs=None if design else runs, seed=None if design else seed,
                          engine=engine, design=design)
            except ScenarioError as err:  # a drawn row the changed scenario rejects
                raise from_scenario_error(err, whatif.changes) from None
    names = (f"{whatif.scenario} (what-if)" if spec is not base else whatif.scenario,
             whatif.reference or f"{whatif.scenario} (unchanged)")
    if names[0] == names[1]:
        names = (names[0], f"{names[1]} (reference)")
    return Answer(whatif, runs, seed, res, ref, engine, names)


def same_design(spec: ScenarioSpec, base: ScenarioSpec) -> bool:
    """Whether :func:`sim.uncertainty.make_design` gives ``spec`` the design of ``base`` (same
    runs and seed): the same declarations, mechanisms and states (the draws and the rules their
    rows are checked against), policies of the same rules and labels."""
    return (spec.uncertainties == base.uncertainties and spec.mechanisms == base.mechanisms
            and spec.states == base.states
            and [p.rule for p in spec.policies] == [p.rule for p in base.policies]
            and policy_labels(spec.policies) == policy_labels(base.policies))


# ---------------------------------------------------------------------------- sensitivity


def sensitivity(whatif: WhatIf, outcome: str, date: str | None = None, r: int = 8,
                seed: int = 1, engine: str = "auto", top: int = 10) -> pd.DataFrame:
    """A small Morris screen (:func:`sim.explore.sensitivity.morris`: ``r`` trajectories, one
    replicate) of ``outcome`` (a registered outcome, e.g. ``relation:USA-CHN``) at ``date``
    (default the horizon) over the modified scenario's declared uncertainties: the ``top``
    parameters by ``μ*``, with ``mu_star``, its 95% half-interval ``conf`` and ``sigma``.
    Takes ``r·(P+1)`` runs (``P`` declared parameters; about 0.6 k for the baseline). Raises
    :class:`sim.outcomes.OutcomeError` for a bad outcome, ChangeError for a bad change."""
    from sim.explore.sensitivity import morris

    spec: ScenarioSpec = whatif.spec()
    res = morris(spec, [outcome], date, r=r, reps=1, seed=seed, which="declared",
                 engine=resolve_engine(engine))
    wide = res.indices.pivot_table(index="parameter", columns="index", values="value",
                                   sort=False)
    conf = res.indices[res.indices["index"] == "mu_star"].set_index("parameter")["conf"]
    out = pd.DataFrame({"parameter": wide.index, "mu_star": wide["mu_star"].to_numpy(),
                        "conf": conf.reindex(wide.index).to_numpy(),
                        "sigma": wide["sigma"].to_numpy()})
    out = out.sort_values("mu_star", ascending=False, kind="stable").head(top)
    out.insert(0, "outcome", outcome)
    out.insert(1, "date", res.dates[0])
    return out.reset_index(drop=True)


__all__ = ["CACHE_SIZE", "FIGURES", "TABLES", "Answer", "answer", "resolve_engine",
           "sensitivity"]
