"""Figures of one ensemble. Every function returns a matplotlib ``Figure`` (no pyplot state),
so they work the same in scripts, notebooks and the CLI."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

from sim import outcomes as oc
from sim.metrics import BAND_QUANTILES, DITTMER
from sim.results import Results

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
           "#17becf", "#7f7f7f", "#bcbd22"]
PATTERN_COLORS = {"menage_a_trois": "#2ca02c", "stable_marriage": "#1f77b4",
                  "romantic_triangle": "#ff7f0e", "unit_veto": "#d62728"}
RELATION_LABEL = f"relation {oc.KINDS['relation'].unit}"


def as_dates(labels: list[str]) -> np.ndarray:
    """``YYYY-MM`` labels as ``datetime64[D]`` (first of the month)."""
    return np.array([f"{d}-01" for d in labels], dtype="datetime64[D]")


def date_axis(ax) -> None:
    loc = mdates.AutoDateLocator(minticks=4, maxticks=8)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))


def band(ax, dates: np.ndarray, bands: np.ndarray, color: str, label: str,
         runs: int = 2) -> None:
    """Median line with 50% and 90% bands; ``bands`` holds the 5, 25, 50, 75 and 95%
    quantiles over runs, ``(5, T)`` (see ``Results.relation_bands``)."""
    lo90, lo50, med, hi50, hi90 = bands
    ax.plot(dates, med, color=color, lw=2, label=label)
    if runs > 1:
        ax.fill_between(dates, lo90, hi90, color=color, alpha=0.12, lw=0)
        ax.fill_between(dates, lo50, hi50, color=color, alpha=0.25, lw=0)


def quantile_bands(values: np.ndarray) -> np.ndarray:
    """The quantiles :func:`band` draws, over runs of ``values`` ``(R, T)``."""
    return np.quantile(values, BAND_QUANTILES, axis=0)


def _runs_note(res: Results) -> str:
    r = res.runs
    return "one run" if r == 1 else f"median, 50% and 90% bands of {r} runs"


def _mark_events(ax, res: Results) -> None:
    dates = as_dates(res.dates)
    for t, _ in res.world.scheduled_events:
        ax.axvline(dates[min(t + 1, len(dates) - 1)], color="0.6", lw=0.6, ls=":", zorder=0)


def _triangle_over_time(res: Results, bands, ylabel: str, title: str) -> Figure:
    """One line with bands per dyad of the USA-CHN-RUS triangle; ``bands(a, b)`` gives the
    ``(5, T+1)`` quantiles (``res.relation_bands`` or ``res.trade_bands``)."""
    fig = Figure(figsize=(9, 4.8), layout="constrained")
    ax = fig.subplots()
    dates = as_dates(res.dates)
    for k, (a, b) in enumerate(res.key_pairs()):
        band(ax, dates, bands(a, b), PALETTE[k], f"{a}–{b}", res.runs)
    _mark_events(ax, res)
    ax.set(ylabel=ylabel, title=f"{res.world.spec.scenario.title}\n{title} ({_runs_note(res)}; "
           "dotted lines: scheduled events)")
    date_axis(ax)
    ax.legend(loc="best", frameon=True, framealpha=0.9)
    ax.grid(alpha=0.3)
    return fig


def fig_relations(res: Results) -> Figure:
    """Dyad relations of the USA-CHN-RUS triangle over time."""
    fig = _triangle_over_time(res, res.relation_bands, RELATION_LABEL, "Dyad relations")
    ax = fig.axes[0]
    ax.axhline(0, color="k", lw=0.8)
    ax.set_ylim(-1.05, 1.05)
    return fig


def fig_trade(res: Results) -> Figure:
    """Goods trade of the triangle's pairs, USD bn/yr."""
    fig = _triangle_over_time(res, res.trade_bands, oc.KINDS["trade"].unit,
                              "Bilateral trade")
    fig.axes[0].set_ylim(0, None)
    return fig


VALUES_MAX = 15
"""Heatmaps of up to this many states print every cell's value and label every state."""
LABELS_MAX = 60
"""At most this many state labels per heatmap axis; above, every k-th state is labelled and
the full order is written beside the figure (``heatmap_order.csv``)."""
TICK_PT = 7.0
"""Font size of the state labels of a large heatmap (points)."""


def heatmap_layout(n: int) -> tuple[float, int]:
    """Side of one heatmap panel (inches) and the label step ``k`` (every k-th state labelled)
    for ``n`` states: the panel grows with ``n`` (0.12 in per state, from 4.5 to 10 in), and
    ``k`` keeps labels at most ``LABELS_MAX`` per axis and at least 1.2 font sizes apart."""
    if n <= VALUES_MAX:
        return 4.5, 1
    side = min(10.0, max(4.5, 0.12 * n))
    cell_pt = side * 72.0 / n
    return side, max(math.ceil(n / LABELS_MAX), math.ceil(1.2 * TICK_PT / cell_pt))


def _ordinal(k: int) -> str:
    """``2nd``, ``3rd``, ``4th``, ``11th``, ``21st``."""
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def heatmap_order(res: Results) -> tuple[np.ndarray, np.ndarray]:
    """The order of the states in the heatmap and their bloc (±1): by the leading eigenvector
    of the horizon's median relations (the first state's bloc first, so blocs show as blocks);
    with up to ``VALUES_MAX`` states, the scenario's order."""
    end = res.median_relations(-1).to_numpy()
    n = end.shape[0]
    _, vecs = np.linalg.eigh(0.5 * (end + end.T))
    u1 = vecs[:, -1] * (1.0 if vecs[0, -1] >= 0 else -1.0)
    sides = np.where(u1 >= 0, 1, -1)
    if n <= VALUES_MAX:
        return np.arange(n), sides
    order = np.argsort(-u1, kind="stable")
    return order, sides[order]


def heatmap_order_table(res: Results) -> pd.DataFrame:
    """``position, id, name, bloc, labelled``: the heatmap's order of states (``bloc`` 1 is
    the first state's) and whether the state's label is drawn."""
    order, sides = heatmap_order(res)
    _, step = heatmap_layout(len(order))
    ids, names = np.asarray(res.world.ids), np.asarray(res.world.names)
    return pd.DataFrame({"position": np.arange(len(order)), "id": ids[order],
                         "name": names[order], "bloc": np.where(sides > 0, 1, 2),
                         "labelled": np.arange(len(order)) % step == 0})


def fig_heatmap(res: Results) -> Figure:
    """Median directed relations ``x_ij`` at the start and at the horizon.

    Up to ``VALUES_MAX`` states every cell shows its value. Above, states are ordered by bloc
    (:func:`heatmap_order`; a line marks the bloc boundary), the figure grows with the number
    of states up to a cap, and every k-th state is labelled (:func:`heatmap_layout`; the full
    order is in :func:`heatmap_order_table`, written as ``figures/heatmap_order.csv``).
    """
    ids = np.asarray(res.world.ids)
    n = len(ids)
    big = n > VALUES_MAX
    side, step = heatmap_layout(n)
    order, sides = heatmap_order(res)
    fig = Figure(figsize=(11, 4.8) if not big else (2 * side + 2.2, side + 1.4),
                 layout="constrained")
    axes = fig.subplots(1, 2)
    norm = TwoSlopeNorm(vmin=-1, vcenter=0, vmax=1)
    shown = np.arange(0, n, step)
    bounds = np.flatnonzero(np.diff(sides)) + 0.5
    for ax, t in zip(axes, (0, -1), strict=True):
        m = res.median_relations(t).to_numpy()[np.ix_(order, order)]
        im = ax.imshow(m, cmap="RdBu", norm=norm, interpolation="nearest")
        for i in range(n if not big else 0):
            for j in range(n):
                if i != j:
                    ax.text(j, i, f"{m[i, j]:+.2f}", ha="center", va="center", fontsize=8,
                            color="white" if abs(m[i, j]) > 0.6 else "black")
        size = 10 if not big else TICK_PT
        ax.set_xticks(shown, ids[order][shown], rotation=90 if big else 0, fontsize=size)
        ax.set_yticks(shown, ids[order][shown], fontsize=size)
        for b in bounds if big else ():
            ax.axhline(b, color="k", lw=1.0)
            ax.axvline(b, color="k", lw=1.0)
        note = ""
        if big:
            note = " (ordered by bloc; line: bloc boundary" + (
                f"; every {_ordinal(step)} state labelled)" if step > 1 else ")")
        ax.set(xlabel="toward (j)", ylabel="from (i)",
               title=f"{res.dates[t]}: median x_ij{note}")
        ax.title.set_fontsize(10 if big else 12)
    fig.colorbar(im, ax=axes, shrink=0.85 if not big else 0.6, label=RELATION_LABEL)
    suffix = f" ({n} states; order in heatmap_order.csv)" if step > 1 else ""
    fig.suptitle(f"{res.world.spec.scenario.title}: alignment matrix{suffix}")
    return fig


def fig_triangle(res: Results, steps: list[int] | None = None) -> Figure:
    """Dittmer's strategic triangle at chosen steps: edge colour and width = median x̄."""
    t_end = res.traj.x.shape[1] - 1
    steps = steps or sorted({0, min(12, t_end), min(36, t_end), t_end})
    fig = Figure(figsize=(3.2 * len(steps) + 1, 3.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(steps)))
    a, b, c = (res.world.ids[i] for i in res.world.triad())
    pos = {a: (0.5, 0.9), b: (0.1, 0.2), c: (0.9, 0.2)}
    norm = TwoSlopeNorm(vmin=-1, vcenter=0, vmax=1)
    import matplotlib as mpl

    cmap = mpl.colormaps["RdBu"]
    for ax, step in zip(axes, steps, strict=True):
        for u, v in ((a, b), (a, c), (b, c)):
            val = float(np.median(res.relation(u, v)[:, step]))
            (x1, y1), (x2, y2) = pos[u], pos[v]
            ax.plot([x1, x2], [y1, y2], color=cmap(norm(val)), lw=1 + 7 * abs(val),
                    solid_capstyle="round")
            ax.text((x1 + x2) / 2, (y1 + y2) / 2, f"{val:+.2f}", ha="center", va="center",
                    fontsize=9, bbox={"fc": "white", "ec": "none", "alpha": 0.8})
        for sid, (x, y) in pos.items():
            ax.text(x, y, sid, ha="center", va="center", fontsize=11, weight="bold",
                    bbox={"boxstyle": "circle", "fc": "#f0f0f0", "ec": "0.3"})
        codes = res.dittmer_codes[:, step]
        top = np.bincount(codes, minlength=4)
        k = int(top.argmax())
        ax.set_title(f"{res.dates[step]}\n{DITTMER[k].replace('_', ' ')} "
                     f"({top[k] / len(codes):.0%} of runs)", fontsize=10)
        ax.set(xlim=(-0.05, 1.05), ylim=(0.0, 1.05), aspect="equal")
        ax.axis("off")
    fig.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=axes, shrink=0.8,
                 label="median x̄")
    fig.suptitle("Strategic triangle (Dittmer 1981)")
    return fig


def fig_deals(res: Results) -> Figure:
    """Decisions: share of runs in which each has been taken, and its monthly probability."""
    fig = Figure(figsize=(12, 4.5), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    dates = as_dates(res.dates)
    share, prob = res.deal_share(), res.mean_prob()
    for k, d in enumerate(res.world.decisions):
        col = PALETTE[k % len(PALETTE)]
        ax1.plot(dates, share[:, d.index], color=col, lw=2,
                 label=oc.decision_title(d.label))
        ax2.plot(dates[1:], prob[:, d.index], color=col, lw=2)
    ax1.set(ylim=(0, 1), ylabel="share of runs with the decision taken",
            title="Decisions taken so far")
    ax2.set(ylim=(0, None), ylabel="probability of acting that month",
            title="Monthly probability (mean over runs; 0 after a one-off deal)")
    for ax in (ax1, ax2):
        date_axis(ax)
        ax.grid(alpha=0.3)
    if res.world.decisions:
        ax1.legend(frameon=False, fontsize=8)
    else:
        for ax in (ax1, ax2):
            ax.text(0.5, 0.5, "no policies in this scenario", ha="center", va="center",
                    transform=ax.transAxes, color="0.4")
    fig.suptitle(f"{res.world.spec.scenario.title}: deals and escalations")
    return fig


def fig_patterns(res: Results) -> Figure:
    """Share of runs in each Dittmer pattern over time."""
    fig = Figure(figsize=(9, 4), layout="constrained")
    ax = fig.subplots()
    dates = as_dates(res.dates)
    shares = np.stack([(res.dittmer_codes == k).mean(axis=0) for k in range(4)])
    ax.stackplot(dates, shares, labels=[p.replace("_", " ") for p in DITTMER],
                 colors=[PATTERN_COLORS[p] for p in DITTMER], alpha=0.85)
    ax.set(ylim=(0, 1), ylabel="share of runs",
           title=f"{res.world.spec.scenario.title}\n{oc.triangle_outcome(res.world).label}")
    date_axis(ax)
    ax.legend(loc="upper left", bbox_to_anchor=(1, 1), frameon=False)
    return fig


FIGURES = {
    "relations": fig_relations,
    "heatmap": fig_heatmap,
    "triangle": fig_triangle,
    "trade": fig_trade,
    "deals": fig_deals,
    "patterns": fig_patterns,
}


def save_figures(res: Results, folder: Path, names: tuple[str, ...] | None = None,
                 triangle_dates: list[str] | None = None) -> list[Path]:
    """Write the figures (all, or ``names``) as PNG into ``folder`` (with
    ``heatmap_order.csv`` when the heatmap labels only some states); the triangle is drawn at
    ``triangle_dates`` (YYYY-MM) if given. A streamed ensemble (``sim.ensemble.EnsembleStats``)
    supports relations, trade and deals."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names or tuple(FIGURES):
        if name == "triangle" and triangle_dates:
            fig = fig_triangle(res, [res.dates.index(d) for d in triangle_dates])
        else:
            fig = FIGURES[name](res)
        path = folder / f"{name}.png"
        fig.savefig(path, dpi=110, metadata={"Software": None})
        paths.append(path)
        if name == "heatmap" and heatmap_layout(res.world.n)[1] > 1:
            paths.append(folder / "heatmap_order.csv")
            heatmap_order_table(res).to_csv(paths[-1], index=False)
    return paths
