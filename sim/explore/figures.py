"""Figures of the explorations (plain :class:`matplotlib.figure.Figure` objects, no pyplot)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from sim import outcomes as oc

if TYPE_CHECKING:
    from sim.explore.attribution import Attribution
    from sim.explore.sensitivity import Sensitivity

TOP = 12
COLORS = {"S1": "#4c72b0", "ST": "#dd8452", "removed": "#c44e52", "x0.5": "#8172b3",
          "x1.5": "#55a868", "off": "#937860"}


def _title(res: Sensitivity, outcome: str, date: str) -> str:
    what = oc.parse(outcome).label
    return (f"{res.scenario}: {what} at {date}" if res.vs is None
            else f"Effect of {res.vs} vs {res.scenario}: {what} at {date}")


def fig_sobol(res: Sensitivity, outcome: str, date: str, top: int = TOP) -> Figure:
    """First-order and total Sobol indices with 95% bootstrap intervals, largest ``ST`` at the
    top; hatched bars are flagged (interval wider than 0.1 or including 0)."""
    d = res.indices[(res.indices.outcome == outcome) & (res.indices.date == date)]
    st = d[d["index"] == "ST"].sort_values("value", ascending=False).head(top)
    names = list(st.parameter)[::-1]
    fig = Figure(figsize=(9, 0.42 * len(names) + 1.8), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(names))
    for off, idx in ((-0.2, "S1"), (0.2, "ST")):
        rows = d[d["index"] == idx].set_index("parameter").loc[names]
        bars = ax.barh(y + off, rows["value"], height=0.38, color=COLORS[idx],
                       xerr=rows["conf"], capsize=2, label=idx,
                       error_kw={"elinewidth": 0.8, "ecolor": "#333"})
        for bar, f in zip(bars, rows["flag"], strict=True):
            if f:
                bar.set_hatch("///")
                bar.set_alpha(0.6)
    ax.set_yticks(y, names, fontsize=8)
    ax.axvline(0, color="#555", lw=0.6)
    ax.set_xlabel("Sobol index (share of variance; 95% bootstrap interval)")
    noise = res.noise[(res.noise.outcome == outcome) & (res.noise.date == date)]
    share = float(noise["noise_share"].iloc[0]) if len(noise) else np.nan
    noise_text = (f"noise share of a run's variance {share:.2f}" if np.isfinite(share)
                  else "noise share: needs 2 or more replicates")
    ax.set_title(_title(res, outcome, date) + f"\nN = {res.n}, {res.reps} replicates; "
                 f"{noise_text}; hatched: flagged", fontsize=10)
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=COLORS["S1"], label="S1 (alone)"),
                       Patch(color=COLORS["ST"], label="ST (total)"),
                       Patch(facecolor="white", edgecolor="#555", hatch="///",
                             label="flagged")], loc="lower right", fontsize=8)
    return fig


def fig_convergence(res: Sensitivity, outcome: str, date: str, top: int = 5) -> Figure:
    """Left: total indices (solid) and first-order (dashed) of the ``top`` factors at N/8 ..
    N with 95% intervals; right: the interval widths, with the 0.1 flag line."""
    from sim.explore.sensitivity import WIDE

    c = res.convergence
    c = c[(c.outcome == outcome) & (c.date == date)]
    last = c[(c.n == res.n) & (c["index"] == "ST")].sort_values("value", ascending=False)
    names = list(last.parameter.head(top))
    fig = Figure(figsize=(11, 4.4), layout="constrained")
    ax, aw = fig.subplots(1, 2)
    cmap = [f"C{i}" for i in range(10)]
    for i, p in enumerate(names):
        for idx, ls in (("ST", "-"), ("S1", "--")):
            r = c[(c.parameter == p) & (c["index"] == idx)].sort_values("n")
            ax.plot(r.n, r.value, ls, marker="o", ms=3, color=cmap[i],
                    label=p if idx == "ST" else None)
            ax.fill_between(r.n, r.lo, r.hi, color=cmap[i], alpha=0.12)
            aw.plot(r.n, 2 * r.conf, ls, marker="o", ms=3, color=cmap[i])
    for a in (ax, aw):
        a.set_xscale("log", base=2)
        a.set_xticks(sorted(c.n.unique()), [str(v) for v in sorted(c.n.unique())])
        a.set_xlabel("base samples N")
    ax.axhline(0, color="#555", lw=0.6)
    ax.set_ylim(-0.3, 1.3)  # indices live in [0, 1]; early estimates may scatter far beyond
    aw.set_ylim(0, max(0.3, min(1.5, float(np.nanmax(2 * c.conf, initial=0)) * 1.05)))
    aw.axhline(WIDE, color="#c44e52", lw=0.8, ls=":")
    aw.text(c.n.min(), WIDE, f" flag: width > {WIDE:g}", color="#c44e52", va="bottom",
            fontsize=8)
    ax.set_ylabel("index (solid ST, dashed S1; band: 95% CI; clipped)")
    aw.set_ylabel("width of the 95% interval")
    ax.legend(fontsize=7, loc="best")
    fig.suptitle("Convergence: " + _title(res, outcome, date), fontsize=10)
    return fig


def fig_morris(res: Sensitivity, outcome: str, date: str, label: int = 10) -> Figure:
    """Morris ``μ*`` (with 95% interval) against ``σ``; the ``label`` largest ``μ*`` named.
    Points far above the diagonal σ = μ* interact or act non-linearly."""
    d = res.indices[(res.indices.outcome == outcome) & (res.indices.date == date)]
    w = d.pivot_table(index="parameter", columns="index", values="value", sort=False)
    conf = d[d["index"] == "mu_star"].set_index("parameter")["conf"]
    fig = Figure(figsize=(9, 5.5), layout="constrained")
    ax = fig.add_subplot()
    ax.errorbar(w["mu_star"], w["sigma"], xerr=conf.loc[w.index], fmt="o", ms=4,
                color="#4c72b0", ecolor="#999", elinewidth=0.7, capsize=0)
    top = w.sort_values("mu_star", ascending=False).head(label)
    for p, r in top.iterrows():
        ax.annotate(p, (r["mu_star"], r["sigma"]), fontsize=7, xytext=(4, 3),
                    textcoords="offset points")
    hi = float(np.nanmax(np.r_[w["mu_star"], w["sigma"], 1e-12]))
    ax.plot([0, hi], [0, hi], ":", color="#888", lw=0.8)
    ax.set_xlabel("μ* (mean |elementary effect|, per 2/3 of a factor's probability range)")
    ax.set_ylabel("σ (spread of elementary effects)")
    ax.set_title(f"Morris screening, {res.n} trajectories x {len(res.space)} factors: "
                 + _title(res, outcome, date), fontsize=10)
    return fig


def fig_tornado(att: Attribution, outcome: str, date: str) -> Figure:
    """Per event: the change in the outcome when its magnitude is ×0.5 and ×1.5 (bar between
    them) and when it is removed (dot, with its 90% interval across parameter draws); per
    policy: switched off. Sorted by the largest absolute change."""
    t = att.table
    t = t[(t.outcome == outcome) & (t.date == date)]
    items = list(dict.fromkeys(t["item"]))
    size = {i: float(np.nanmax(np.abs(t[t["item"] == i]["mean"]))) if len(t[t["item"] == i])
            else 0.0 for i in items}
    items = sorted(items, key=lambda i: (np.nan_to_num(size[i]), i))
    fig = Figure(figsize=(9.5, 0.45 * len(items) + 1.9), layout="constrained")
    ax = fig.add_subplot()
    for y, item in enumerate(items):
        r = t[t["item"] == item].set_index("change")
        if "x0.5" in r.index and "x1.5" in r.index:
            lo, hi = r.loc["x0.5", "mean"], r.loc["x1.5", "mean"]
            ax.barh(y, hi - lo, left=lo, height=0.5, color="#bbb", edgecolor="#777")
            ax.plot([lo], [y], "<", color=COLORS["x0.5"], ms=6)
            ax.plot([hi], [y], ">", color=COLORS["x1.5"], ms=6)
        for change, marker in (("removed", "o"), ("off", "s")):
            if change in r.index:
                m = r.loc[change]
                if np.isfinite(m["param_lo"]):  # a line, not xerr: a skewed mean (decisions
                    # switching in some draws) may lie outside the 90% interval
                    ax.plot([m["param_lo"], m["param_hi"]], [y, y], "|-",
                            color=COLORS[change], lw=0.8, ms=5)
                ax.plot([m["mean"]], [y], marker, color=COLORS[change], ms=5)
    ax.set_yticks(range(len(items)), items, fontsize=8)
    ax.axvline(0, color="#333", lw=0.7)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker="o", ls="", color=COLORS["removed"], label="event removed"),
               Line2D([], [], marker="<", ls="", color=COLORS["x0.5"], label="magnitude x0.5"),
               Line2D([], [], marker=">", ls="", color=COLORS["x1.5"], label="magnitude x1.5"),
               Line2D([], [], marker="s", ls="", color=COLORS["off"], label="policy off")]
    ax.legend(handles=handles, fontsize=7, loc="best")
    o = oc.parse(outcome)
    ax.set_xlabel(f"change in {o.label} vs the full scenario ({o.unit})\nwhiskers: 90% "
                  "across parameter draws")
    ax.set_title(f"{att.scenario}: what each event and decision contributes, {date}\n"
                 f"{att.draws} parameter draws x {att.reps} runs, paired by streams and draws",
                 fontsize=10)
    return fig


__all__ = ["fig_convergence", "fig_morris", "fig_sobol", "fig_tornado"]
