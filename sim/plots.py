"""Figures of one ensemble. Every function returns a matplotlib ``Figure`` (no pyplot state),
so they work the same in scripts, notebooks and the CLI."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

from sim import outcomes as oc
from sim.metrics import BAND_QUANTILES, DITTMER, PATTERN_NAMES, constant_pattern
from sim.results import Results
from sim.spec import Event
from sim.world import Decision, World, decision_words

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
           "#17becf", "#7f7f7f", "#bcbd22"]
PATTERN_COLORS = {"menage_a_trois": "#2ca02c", "stable_marriage": "#1f77b4",
                  "romantic_triangle": "#ff7f0e", "unit_veto": "#d62728"}
RELATION_LABEL = f"relation {oc.KINDS['relation'].unit}"


def as_dates(labels: list[str]) -> np.ndarray:
    """``YYYY-MM`` labels as ``datetime64[D]`` (first of the month)."""
    return np.array([f"{d}-01" for d in labels], dtype="datetime64[D]")


def date_axis(ax) -> None:
    """Date ticks on ``ax`` (call after plotting): every 1, 2, 5, 10 … years so that at most
    eight show, January and July under three years. Fixed locators: matplotlib's
    AutoDateLocator costs about 0.1 s per axis when a figure is saved."""
    lo, hi = ax.get_xlim()
    years = (hi - lo) / 365.25  # matplotlib dates are days
    if years < 3:
        ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 7)))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
        return
    base = next((b for b in (1, 2, 5, 10, 20, 50) if years / b <= 8), 100)
    ax.xaxis.set_major_locator(mdates.YearLocator(base))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))


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


def event_title(ev: Event) -> str:
    """A scheduled event in a few words: ``USA→CHN tariff (may2024_tariffs)``."""
    what = f"{'+'.join(ev.actors)}→{'+'.join(ev.targets)} {ev.type.replace('_', ' ')}"
    return f"{what} ({ev.id})" if ev.id else what


def event_numbers(*worlds: World) -> dict[int, int]:
    """Number (1, 2, …) of each month with a scheduled event in any of ``worlds``, in date
    order: the events of one month share a line and a number."""
    months = sorted({t for w in worlds for t, _ in w.scheduled_events})
    return {t: k + 1 for k, t in enumerate(months)}


def event_key(numbers: dict[int, int], *worlds: World, width: int = 150) -> str:
    """The key to the numbered event lines, a line per number: ``1 2024-05: USA→CHN tariff
    (may2024_tariffs), …``, each wrapped at ``width`` characters, under a heading."""
    titles: dict[int, list[str]] = {t: [] for t in numbers}
    dates: dict[int, str] = {}
    for w in worlds:
        for t, ev in w.scheduled_events:
            dates[t] = ev.date
            if event_title(ev) not in titles[t]:
                titles[t].append(event_title(ev))
    items = [textwrap.fill(f"{numbers[t]}  {dates[t]}: {', '.join(titles[t])}", width,
                           subsequent_indent="      ") for t in sorted(numbers)]
    return "\n".join(["Scheduled events (numbered dotted lines; an event acts from the next "
                      "month):", *items])


def mark_events(ax, dates: np.ndarray, events: list[tuple[int, Event]],
                numbers: dict[int, int], color: str = "0.6") -> None:
    """A dotted line at the step each event first acts on (the month after its date),
    numbered at the top of ``ax`` as in :func:`event_key`."""
    for k, t in enumerate(sorted({t for t, _ in events})):
        x = dates[min(t + 1, len(dates) - 1)]
        ax.axvline(x, color=color, lw=0.6, ls=":", zorder=0)
        ax.text(x, 0.985 - 0.06 * (k % 2), str(numbers[t]), transform=ax.get_xaxis_transform(),
                ha="center", va="top", fontsize=7, color="0.3",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "0.6", "lw": 0.5})


def _panels(res: Results, reference: Results | None, names: tuple[str, str] | None
            ) -> list[tuple[Results, str]]:
    """``[(res, title)]``, or with a reference ``[(res, ...), (reference, ...)]``: the ensembles
    drawn side by side, titled ``names`` (default: their scenarios' titles)."""
    shown = [res] if reference is None else [res, reference]
    titles = names or tuple(r.world.spec.scenario.title for r in shown)
    return list(zip(shown, titles, strict=False))


def _triangle_over_time(res: Results, what: str, ylabel: str, title: str,
                        reference: Results | None = None,
                        names: tuple[str, str] | None = None) -> Figure:
    """One line with bands per dyad of the USA-CHN-RUS triangle, ``what`` = ``relation`` or
    ``trade`` (``res.relation_bands`` or ``res.trade_bands``: the ``(5, T+1)`` quantiles); with
    a ``reference``, its own panel beside, on the same y-scale."""
    panels = _panels(res, reference, names)
    fig = Figure(figsize=(9 if reference is None else 13, 4.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(panels), sharey=True))
    numbers = event_numbers(*(r.world for r, _ in panels))
    for ax, (r, _) in zip(axes, panels, strict=True):
        dates = as_dates(r.dates)
        for k, (a, b) in enumerate(r.key_pairs()):
            band(ax, dates, getattr(r, f"{what}_bands")(a, b), PALETTE[k], f"{a}–{b}", r.runs)
        mark_events(ax, dates, r.world.scheduled_events, numbers)
        date_axis(ax)
        ax.grid(alpha=0.3)
    if numbers:
        fig.supxlabel(event_key(numbers, *(r.world for r, _ in panels),
                                width=140 if reference is None else 200),
                      fontsize=8, ha="left", x=0.01, color="0.25")
    note = f"{title} ({_runs_note(res)}; numbered dotted lines: scheduled events)"
    if reference is None:
        axes[0].set(title=f"{panels[0][1]}\n{note}")
    else:
        for ax, (_, name) in zip(axes, panels, strict=True):
            ax.set(title=name)
        fig.suptitle(note)
    axes[0].set(ylabel=ylabel)
    axes[0].legend(loc="best", frameon=True, framealpha=0.9)
    return fig


def fig_relations(res: Results, reference: Results | None = None,
                  names: tuple[str, str] | None = None) -> Figure:
    """Dyad relations of the USA-CHN-RUS triangle over time (a ``reference`` ensemble beside,
    its panels titled ``names``)."""
    fig = _triangle_over_time(res, "relation", RELATION_LABEL, "Dyad relations", reference,
                              names)
    for ax in fig.axes:
        ax.axhline(0, color="k", lw=0.8)
    fig.axes[0].set_ylim(-1.05, 1.05)
    return fig


def fig_trade(res: Results, reference: Results | None = None,
              names: tuple[str, str] | None = None) -> Figure:
    """Goods trade of the triangle's pairs, USD bn/yr (a ``reference`` ensemble beside)."""
    fig = _triangle_over_time(res, "trade", oc.KINDS["trade"].unit, "Bilateral trade",
                              reference, names)
    fig.axes[0].set_ylim(0, None)
    return fig


VALUES_MAX = 15
HEATMAP_READING = ("each cell: the row state's disposition toward the column state, median over "
                   "runs (+1 allied, blue; 0 neutral; −1 hostile, red)")
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


def fig_heatmap(res: Results, month: int = -1, reference: Results | None = None,
                names: tuple[str, str] | None = None) -> Figure:
    """Median directed relations ``x_ij`` at the start and at step ``month`` (default the
    horizon); with a ``reference``, ``res`` and the reference at ``month`` side by side (titled
    ``names``).

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
    cell_pt = max(6.0, min(9.0, 120 / n))  # the values shrink with the states, not below 6 pt
    bounds = np.flatnonzero(np.diff(sides)) + 0.5
    panels = ([(res, 0, ""), (res, month, "")] if reference is None else
              [(r, month, f"{name}\n") for r, name in _panels(res, reference, names)])
    for ax, (r, t, name) in zip(axes, panels, strict=True):
        m = r.median_relations(t).to_numpy()[np.ix_(order, order)]
        im = ax.imshow(m, cmap="RdBu", norm=norm, interpolation="nearest")
        for i in range(n if not big else 0):
            for j in range(n):
                if i != j:
                    ax.text(j, i, f"{m[i, j]:+.2f}", ha="center", va="center", fontsize=cell_pt,
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
               title=f"{name}{r.dates[t]}: median x_ij{note}")
        ax.title.set_fontsize(10 if big else 12)
    fig.colorbar(im, ax=axes, shrink=0.85 if not big else 0.6, label=RELATION_LABEL)
    suffix = f" ({n} states; order in heatmap_order.csv)" if step > 1 else ""
    head = res.world.spec.scenario.title if reference is None else "Scenario and reference"
    fig.suptitle(f"{head}: alignment matrix{suffix}\n{HEATMAP_READING}", fontsize=11)
    return fig


def fig_triangle(res: Results, steps: list[int] | None = None,
                 reference: Results | None = None,
                 names: tuple[str, str] | None = None) -> Figure:
    """Dittmer's strategic triangle at chosen steps: edge colour and width = median x̄; with a
    ``reference``, each step of ``res`` then of the reference (titled ``names``)."""
    t_end = res.traj.x.shape[1] - 1
    steps = steps or sorted({0, min(12, t_end), min(36, t_end), t_end})
    panels = ([(res, step, "") for step in steps] if reference is None else
              [(r, step, f"{name}\n") for step in steps
               for r, name in _panels(res, reference, names)])
    fig = Figure(figsize=(3.2 * len(panels) + 1, 3.8 + 0.3 * (reference is not None)),
                 layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    a, b, c = (res.world.ids[i] for i in res.world.triad())
    pos = {a: (0.5, 0.9), b: (0.1, 0.2), c: (0.9, 0.2)}
    norm = TwoSlopeNorm(vmin=-1, vcenter=0, vmax=1)
    import matplotlib as mpl

    cmap = mpl.colormaps["RdBu"]
    for ax, (r, step, name) in zip(axes, panels, strict=True):
        for u, v in ((a, b), (a, c), (b, c)):
            val = float(np.median(r.relation(u, v)[:, step]))
            (x1, y1), (x2, y2) = pos[u], pos[v]
            ax.plot([x1, x2], [y1, y2], color=cmap(norm(val)), lw=1 + 7 * abs(val),
                    solid_capstyle="round")
            ax.text((x1 + x2) / 2, (y1 + y2) / 2, f"{val:+.2f}", ha="center", va="center",
                    fontsize=9, bbox={"fc": "white", "ec": "none", "alpha": 0.8})
        for sid, (x, y) in pos.items():
            ax.text(x, y, sid, ha="center", va="center", fontsize=11, weight="bold",
                    bbox={"boxstyle": "circle", "fc": "#f0f0f0", "ec": "0.3"})
        codes = r.dittmer_codes[:, step]
        top = np.bincount(codes, minlength=4)
        k = int(top.argmax())
        ax.set_title(f"{name}{r.dates[step]}\n{PATTERN_NAMES[DITTMER[k]]} "
                     f"({top[k] / len(codes):.0%} of runs)", fontsize=10)
        ax.set(xlim=(-0.05, 1.05), ylim=(0.0, 1.05), aspect="equal")
        ax.axis("off")
    fig.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=axes, shrink=0.8,
                 label="median x̄")
    fig.suptitle(f"{res.world.spec.scenario.title}: strategic triangle (Dittmer 1981)")
    return fig


def decision_key(d: Decision, world: World) -> str:
    """A decision's label and what it is in words: ``CHN: pipeline = CHN grants RUS a gas
    pipeline deal`` (:func:`sim.world.decision_words`)."""
    return f"{oc.decision_title(d.label)} = {decision_words(d, world.ids)}"


def spike_limit(values: np.ndarray) -> float | None:
    """An upper y-limit that keeps a few one-month spikes from flattening the rest of a panel:
    1.2 × the 95th percentile of ``values`` (any shape; NaN ignored) when their maximum is more
    than three times that percentile, else None (draw everything)."""
    v = values[np.isfinite(values)]
    if v.size == 0:
        return None
    p95 = float(np.quantile(v, 0.95))
    return 1.2 * p95 if p95 > 0 and v.max() > 3 * p95 else None


def fig_deals(res: Results, reference: Results | None = None,
              names: tuple[str, str] | None = None) -> Figure:
    """Decisions: share of runs in which each has been taken, and its monthly probability;
    a ``reference``'s decisions dashed in the same colour (matched by label)."""
    fig = Figure(figsize=(12, 4.5), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    dates = as_dates(res.dates)
    share, prob = res.deal_share(), res.mean_prob()
    ref = {} if reference is None else {d.label: d.index for d in reference.world.decisions}
    ref_share, ref_prob = (None, None) if reference is None else (reference.deal_share(),
                                                                   reference.mean_prob())
    ref_dates = None if reference is None else as_dates(reference.dates)
    for k, d in enumerate(res.world.decisions):
        col = PALETTE[k % len(PALETTE)]
        ax1.plot(dates, share[:, d.index], color=col, lw=2, label=decision_key(d, res.world))
        ax2.plot(dates[1:], prob[:, d.index], color=col, lw=2)
        if d.label in ref:
            ax1.plot(ref_dates, ref_share[:, ref[d.label]], color=col, lw=1.2, ls="--")
            ax2.plot(ref_dates[1:], ref_prob[:, ref[d.label]], color=col, lw=1.2, ls="--")
    ax1.set(ylim=(0, 1), ylabel="share of runs with the decision taken",
            title="Decisions taken so far")
    ax2.set(ylim=(0, None), ylabel="probability of acting that month",
            title="Monthly probability (mean over runs; 0 after a one-off deal)")
    plotted = np.concatenate([prob.ravel()] + ([] if ref_prob is None else [ref_prob.ravel()]))
    limit = spike_limit(plotted)
    if limit is not None:
        ax2.set_ylim(0, limit)
        ax2.text(0.99, 0.97, f"peaks up to {np.nanmax(plotted):.1%} clipped", ha="right",
                 va="top", transform=ax2.transAxes, fontsize=8, color="0.3")
    for ax in (ax1, ax2):
        date_axis(ax)
        ax.grid(alpha=0.3)
    if res.world.decisions:
        fig.legend(loc="outside lower center", ncol=2, frameon=False, fontsize=8)
    else:
        for ax in (ax1, ax2):
            ax.text(0.5, 0.5, "no policies in this scenario", ha="center", va="center",
                    transform=ax.transAxes, color="0.4")
    head = res.world.spec.scenario.title
    if reference is not None:
        mine, theirs = names or (head, reference.world.spec.scenario.title)
        head = f"{mine} (solid) vs {theirs} (dashed)"
    fig.suptitle(f"{head}: deals and escalations")
    return fig


def fig_landscape(res: Results, reference: Results | None = None,
                  names: tuple[str, str] | None = None, top: int = 6) -> Figure:
    """The blocs landscape theory favours at the horizon (``res.landscape_sides``): share of
    runs in each split, the ``top`` most frequent (over both ensembles) as horizontal bars,
    a ``reference`` beside each."""
    panels = _panels(res, reference, names)
    labels = [pd.Series(r.split_labels(r.landscape_sides)) for r, _ in panels]
    shares = [lab.value_counts(normalize=True) for lab in labels]
    splits = list(pd.concat(shares, axis=1).fillna(0).max(axis=1)
                  .sort_values(ascending=False, kind="stable").index[:top])
    fig = Figure(figsize=(9, 1.2 + 0.55 * len(splits) * len(panels)), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(splits))
    height = 0.8 / len(panels)
    for k, ((_, name), share) in enumerate(zip(panels, shares, strict=True)):
        vals = [float(share.get(sp, 0.0)) for sp in splits]
        ax.barh(y + k * height, vals, height, color=PALETTE[k], alpha=0.85 if k == 0 else 0.5,
                label=name)
        for yy, v in zip(y + k * height, vals, strict=True):
            ax.text(v + 0.01, yy, f"{v:.0%}", va="center", fontsize=8)
    ax.set_yticks(y + height * (len(panels) - 1) / 2, splits, fontsize=9)
    ax.invert_yaxis()
    ax.set(xlim=(0, 1.1), xlabel="share of runs",
           title=f"Blocs landscape theory favours at {res.dates[-1]} (Axelrod & Bennett 1993; "
                 f"{res.runs} runs)")
    ax.grid(axis="x", alpha=0.3)
    if reference is not None:
        ax.legend(loc="lower right", frameon=False)
    return fig


def fig_patterns(res: Results) -> Figure:
    """Share of runs in each Dittmer pattern over time; a sentence instead of a plot when every
    run is in one pattern at every month (a flat band carries no information)."""
    title = f"{res.world.spec.scenario.title}\n{oc.triangle_outcome(res.world).label}"
    fixed = constant_pattern(res.dittmer_codes)
    if fixed is not None:
        fig = Figure(figsize=(9, 2.2), layout="constrained")
        ax = fig.subplots()
        ax.axis("off")
        ax.text(0.5, 0.5, f"The same pattern in every run at every month "
                f"({res.dates[0]} … {res.dates[-1]}): {PATTERN_NAMES[fixed]}.\n"
                "No pattern changes, so there is nothing to plot.", ha="center", va="center",
                fontsize=11, transform=ax.transAxes)
        ax.set_title(title)
        return fig
    fig = Figure(figsize=(9, 4), layout="constrained")
    ax = fig.subplots()
    dates = as_dates(res.dates)
    shares = np.stack([(res.dittmer_codes == k).mean(axis=0) for k in range(4)])
    ax.stackplot(dates, shares, labels=[PATTERN_NAMES[p] for p in DITTMER],
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
