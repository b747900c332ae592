"""Figures of a scenario comparison (:class:`sim.comparison.Comparison`).

Each function takes a comparison and returns a matplotlib ``Figure`` (no pyplot state):

- :func:`fig_outcomes`: key outcomes over time, every scenario (median, 50% and 90% bands);
- :func:`fig_differences`: paired differences from the reference over time;
- :func:`fig_horizon`: distributions over runs at the horizon;
- :func:`fig_patterns`: Dittmer patterns of the USA–CHN–RUS triangle;
- :func:`fig_deals`: share of runs in which each decision has been taken.

They read the comparison's ``results``, ``values``, ``names``, ``reference``, ``colors``,
``pairings``, ``table`` and ``horizon``; nothing here runs a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim import outcomes as oc
from sim.effects import fmt, pattern_shares
from sim.metrics import DITTMER, PATTERN_NAMES, constant_pattern
from sim.plots import PATTERN_COLORS, as_dates, band, date_axis, decision_key, quantile_bands

if TYPE_CHECKING:  # type hints only: the comparison imports this module, not the reverse
    from sim.comparison import Comparison


def outcome_label(outcome: str) -> tuple[str, str]:
    """(title, unit) of an outcome (a table column or name, :func:`sim.outcomes.parse`) for
    axes; a decision's unit is the share of runs that took it."""
    o = oc.parse(outcome)
    return o.label, "share of runs taken" if o.kind == "decision" else o.unit


def key_outcomes(comp: Comparison) -> list[str]:
    """The outcomes drawn in the figures: the key outcomes of the reference's world
    (:func:`sim.outcomes.key_names`) that the comparison has."""
    keys = [oc.parse(n).column for n in oc.key_names(comp.results[comp.reference].world)]
    return [k for k in keys if k in comp.outcome_names]


def title(comp: Comparison) -> str:
    others = comp.names[1:]
    vs = ", ".join(others) if len(others) <= 3 else f"{len(others)} other scenarios"
    return f"Scenario comparison: {comp.reference} (reference) vs {vs}"


def grid(n: int, height: float = 3.3, width: float = 5.0) -> tuple[Figure, np.ndarray]:
    """A figure of ``n`` panels, three per row; unused panels hidden."""
    cols = min(n, 3)
    rows = -(-n // cols)
    fig = Figure(figsize=(width * cols, height * rows + 1.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def style(ax: Any, key: str) -> None:
    """Title, unit and the outcome's range (:attr:`sim.outcomes.Outcome.bounds`) of a panel
    over time."""
    name, unit = outcome_label(key)
    ax.set(title=name, ylabel=unit)
    o = oc.parse(key)
    lo, hi = o.bounds
    if o.kind == "relation":
        ax.axhline(0, color="k", lw=0.8)
    if lo is not None and hi is not None:
        pad = 0.025 * (hi - lo)
        ax.set_ylim(lo - pad, hi + pad)
    elif lo is not None:
        ax.set_ylim(bottom=lo)
    date_axis(ax)
    ax.grid(alpha=0.3)


def scenario_legend(comp: Comparison, fig: Figure, names: Sequence[str],
                    bands: bool = True) -> None:
    handles = [Patch(facecolor=comp.colors[n], alpha=0.5, edgecolor=comp.colors[n], lw=2)
               if bands else Line2D([], [], color=comp.colors[n], lw=2) for n in names]
    labels = [f"{n} (reference)" if n == comp.reference else n for n in names]
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(names), 5),
               frameon=False)


def new_events(comp: Comparison, name: str) -> list[tuple[int, Any]]:
    """Scheduled events of a scenario that the reference does not have."""
    ref = [ev.model_dump() for _, ev in comp.results[comp.reference].world.scheduled_events]
    return [(t, ev) for t, ev in comp.results[name].world.scheduled_events
            if ev.model_dump() not in ref]


def fig_outcomes(comp: Comparison) -> Figure:
    keys = key_outcomes(comp)
    fig, axes = grid(len(keys))
    for ax, key in zip(axes, keys, strict=False):
        for name in comp.names:
            res, vals = comp.results[name], comp.values[name]
            if key not in vals:
                continue
            dates = as_dates(res.dates)
            band(ax, dates, quantile_bands(vals[key]), comp.colors[name], name, len(vals[key]))
            for t, _ in new_events(comp, name):
                ax.axvline(dates[min(t + 1, len(dates) - 1)], color=comp.colors[name],
                           lw=0.8, ls=":", zorder=0)
        style(ax, key)
    fig.suptitle(f"{title(comp)}\nmedian, 50% and 90% bands of {comp.runs} runs "
                 "(dotted: events only in that scenario)")
    scenario_legend(comp, fig, comp.names)
    return fig


def kind(outcome: str) -> str:
    """Panels of one kind (:attr:`sim.outcomes.Outcome.kind`) share a y-scale."""
    return oc.parse(outcome).kind


def share_y(axes: Sequence[Any], keys: Sequence[str]) -> None:
    """Give the panels of one kind (:func:`kind`) the same y-limits (the union of theirs), so
    an effect of −0.003 does not look like one of −0.25."""
    for k in {kind(key) for key in keys}:
        group = [ax for ax, key in zip(axes, keys, strict=True) if kind(key) == k]
        lo = min(ax.get_ylim()[0] for ax in group)
        hi = max(ax.get_ylim()[1] for ax in group)
        for ax in group:
            ax.set_ylim(lo, hi)


def unpaired_label(comp: Comparison, name: str) -> str:
    """``name``, or ``name (not paired)`` when its runs do not share the reference's random
    streams."""
    return name if comp.pairings[name].streams else f"{name} (NOT paired)"


def difference_band(d: np.ndarray, draw: np.ndarray) -> tuple[np.ndarray, ...]:
    """Mean difference over time and the band drawn around it, from run-by-run differences
    ``d`` ``(pairs, T)``: with several parameter draws, the 5%..95% of the per-draw effects
    (:func:`sim.effects.per_draw`); with one, the 5%..95% of the runs."""
    ids, inverse = np.unique(draw, return_inverse=True)
    if len(ids) > 1:
        counts = np.bincount(inverse, minlength=len(ids))[:, None]
        e = np.zeros((len(ids), d.shape[1]))
        np.add.at(e, inverse, d)
        e /= counts
        lo, hi = np.quantile(e, [0.05, 0.95], axis=0)
        return e.mean(axis=0), lo, hi
    lo, hi = np.quantile(d, [0.05, 0.95], axis=0)
    return d.mean(axis=0), lo, hi


def fig_differences(comp: Comparison) -> Figure:
    """Scenario − reference over time, run by run: mean and 90% band (across parameter
    draws, or across runs when parameters are fixed); panels of one kind share a y-scale; a
    scenario whose runs are not paired with the reference's is labelled so."""
    keys = key_outcomes(comp)
    fig, axes = grid(len(keys))
    for ax, key in zip(axes, keys, strict=False):
        for name in comp.names[1:]:
            dates, d = comp.paired_difference(name, key)
            if d.size == 0:
                continue
            x = as_dates(dates)
            col = comp.colors[name]
            mean, lo, hi = difference_band(d, comp.pairings[name].draw)
            ax.fill_between(x, lo, hi, color=col, alpha=0.18, lw=0)
            ax.plot(x, mean, color=col, lw=2, ls="-" if comp.pairings[name].streams else "--",
                    label=unpaired_label(comp, name))
        ax.axhline(0, color="k", lw=0.9)
        name, unit = outcome_label(key)
        ax.set(title=name, ylabel=f"Δ {unit}")
        date_axis(ax)
        ax.grid(alpha=0.3)
    share_y(axes, keys)
    apart = comp.unpaired()
    band_of = (f"90% band across {comp.draws} parameter draws (per-draw mean difference)"
               if comp.draws > 1 else f"90% band of {comp.runs} runs (parameters fixed)")
    if not apart:
        head = (f"Paired difference from {comp.reference}: scenario − reference, run by run "
                "(same random streams)")
    elif len(apart) == len(comp.names) - 1:
        head = (f"Difference from {comp.reference}: run i − run i, NOT paired (other states "
                "or seeds: different random streams)")
    else:
        head = (f"Difference from {comp.reference}, run by run: paired (same random streams) "
                f"except {', '.join(apart)} (dashed: NOT paired, different random streams)")
    fig.suptitle(f"{head}\nmean and {band_of}; panels of one kind share a y-scale")
    handles = [Line2D([], [], color=comp.colors[n], lw=2,
                      ls="-" if comp.pairings[n].streams else "--") for n in comp.names[1:]]
    fig.legend(handles, [unpaired_label(comp, n) for n in comp.names[1:]],
               loc="outside lower center", ncol=min(len(comp.names) - 1, 5), frameon=False)
    return fig


def fig_horizon(comp: Comparison) -> Figure:
    keys = key_outcomes(comp)
    many = len(comp.names) > 4
    fig, axes = grid(len(keys), height=3.6 + 0.6 * many, width=max(5.0, 0.75 * len(comp.names)))
    table = comp.table.set_index(["scenario", "outcome"])
    rng = np.random.default_rng(0)  # jitter only
    for ax, key in zip(axes, keys, strict=False):
        ticks = []
        for pos, name in enumerate(comp.names):
            vals = comp.values[name].get(key)
            if vals is None:
                ticks.append(f"{name}\n(absent)")
                continue
            v = vals[:, comp.results[name].dates.index(comp.horizon)]
            col = comp.colors[name]
            if np.ptp(v) > 0:
                parts = ax.violinplot(v, [pos], widths=0.8, showextrema=False)
                for body in parts["bodies"]:
                    body.set(facecolor=col, edgecolor=col, alpha=0.35)
            ax.boxplot(v, positions=[pos], widths=0.18, showfliers=False, patch_artist=True,
                       medianprops={"color": "k"},
                       boxprops={"facecolor": "white", "edgecolor": col},
                       whiskerprops={"color": col}, capprops={"color": col})
            pts = v if v.size <= 300 else rng.choice(v, 300, replace=False)
            ax.scatter(pos + rng.uniform(-0.3, 0.3, pts.size), pts, s=4, color=col, alpha=0.35,
                       lw=0, zorder=3)
            ax.plot(pos, v.mean(), marker="D", ms=5, mfc="white", mec="k", zorder=4)
            diff = table.loc[(name, key), "mean_diff"]
            paired = "" if comp.pairings[name].streams else " (NOT paired)"
            ticks.append(name if name == comp.reference or np.isnan(diff) or many
                         else f"{name}\nΔ mean {fmt(diff, with_sign=True)}{paired}")
        if many:
            ax.set_xticks(range(len(comp.names)), ticks, fontsize=8, rotation=35, ha="right",
                          rotation_mode="anchor")
        else:
            ax.set_xticks(range(len(comp.names)), ticks, fontsize=8)
        name, unit = outcome_label(key)
        ax.set(title=name, ylabel=unit)
        ax.grid(alpha=0.3, axis="y")
    delta = "" if many else f"; Δ mean = mean difference from {comp.reference}, run by run"
    fig.suptitle(f"End of horizon ({comp.horizon}): distribution over {comp.runs} runs "
                 f"(violin, box = quartiles, ◇ = mean{delta})")
    return fig


def fig_patterns(comp: Comparison) -> Figure:
    """Share of runs in each Dittmer pattern of the triangle over time, one panel per
    scenario; a scenario in one pattern throughout gets a sentence instead of a panel, and when
    that holds for every scenario with the same pattern, the figure is that sentence."""
    w = comp.results[comp.reference].world
    a, b, c = (w.ids[i] for i in w.triad())
    head = f"{a}–{b}–{c} strategic triangle"
    fixed = {n: constant_pattern(comp.results[n].dittmer_codes) for n in comp.names}
    if len(set(fixed.values())) == 1 and fixed[comp.reference] is not None:
        pattern = PATTERN_NAMES[fixed[comp.reference]]
        first, last = comp.results[comp.reference].dates[0], comp.horizon
        fig = Figure(figsize=(9, 2.2), layout="constrained")
        ax = fig.subplots()
        ax.axis("off")
        ax.text(0.5, 0.5, f"The {head} is a {pattern} in every run of every scenario at every "
                f"month ({first} … {last}).\nNo pattern changes, so there is nothing to plot.",
                ha="center", va="center", wrap=True, fontsize=11, transform=ax.transAxes)
        fig.suptitle(f"{head}: Dittmer pattern ({comp.runs} runs per scenario)")
        return fig
    n = len(comp.names)
    cols = min(n, 4)
    rows = -(-n // cols)
    fig = Figure(figsize=(3.6 * cols + 1.8, 3.0 * rows + 0.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, sharey=True, squeeze=False)).ravel()
    for ax, name in zip(axes, comp.names, strict=False):
        res = comp.results[name]
        label = name + (" (reference)" if name == comp.reference else "")
        if fixed[name] is not None:
            ax.text(0.5, 0.5, f"{PATTERN_NAMES[fixed[name]]}\nin every run, every month",
                    ha="center", va="center", fontsize=10, transform=ax.transAxes,
                    color=PATTERN_COLORS[fixed[name]])
            ax.set(title=label, xticks=[], yticks=[])
            continue
        ax.stackplot(as_dates(res.dates), pattern_shares(res).T,
                     labels=[PATTERN_NAMES[p] for p in DITTMER],
                     colors=[PATTERN_COLORS[p] for p in DITTMER], alpha=0.85)
        ax.set(ylim=(0, 1), title=label)
        ax.set_xlim(as_dates(res.dates)[[0, -1]])
        date_axis(ax)
    for ax in axes[n:]:
        ax.set_visible(False)
    for ax in axes[::cols]:
        ax.set_ylabel("share of runs")
    handles = [Patch(facecolor=PATTERN_COLORS[p], alpha=0.85) for p in DITTMER]
    fig.legend(handles, [PATTERN_NAMES[p] for p in DITTMER], loc="outside right upper",
               frameon=False, title="Dittmer pattern")
    fig.suptitle(f"{head}: share of {comp.runs} runs in each pattern")
    return fig


def fig_deals(comp: Comparison) -> Figure:
    keys = [k for k in comp.outcome_names if oc.parse(k).kind == "decision"]
    fig, axes = grid(max(1, len(keys)), height=3.2)
    words = {d.label: decision_key(d, r.world) for r in comp.results.values()
             for d in r.world.decisions}
    if not keys:
        axes[0].text(0.5, 0.5, "no decisions (policies) in these scenarios", ha="center",
                     va="center", transform=axes[0].transAxes)
        axes[0].axis("off")
    for ax, key in zip(axes, keys, strict=False):
        for name in comp.names:
            vals = comp.values[name].get(key)
            if vals is None:
                continue
            ax.plot(as_dates(comp.results[name].dates), vals.mean(axis=0),
                    color=comp.colors[name], lw=2, label=name)
        ax.set(ylim=(-0.02, 1.02), ylabel="share of runs, taken by then")
        ax.set_title(words[oc.parse(key).decision], fontsize=10)
        date_axis(ax)
        ax.grid(alpha=0.3)
    fig.suptitle(f"Deals and escalations: share of {comp.runs} runs in which each decision "
                 "has been taken (at least once) by each date")
    scenario_legend(comp, fig, comp.names, bands=False)
    return fig


def figures(comp: Comparison) -> dict[str, Figure]:
    """The five comparison figures by file stem."""
    return {"outcomes_over_time": fig_outcomes(comp),
            "paired_differences": fig_differences(comp),
            "horizon_distributions": fig_horizon(comp),
            "triangle_patterns": fig_patterns(comp),
            "deal_probabilities": fig_deals(comp)}


__all__ = [
    "fig_deals",
    "fig_differences",
    "fig_horizon",
    "fig_outcomes",
    "fig_patterns",
    "figures",
    "key_outcomes",
    "outcome_label",
]
