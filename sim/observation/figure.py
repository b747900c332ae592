"""Figures of the observation channels: each channel's data, one panel per pair (or flow), and
optionally an ensemble's replicated observations (median, 50% and 90% bands)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.observation.channel import Channel, Theta
from sim.observation.view import SimView

PLOT_FROM = 2000
"""First year drawn (the ideal points go back to 1946; the model's runs start in 2010)."""
COLORS = ("#1f4e79", "#b8412c")


def _xpos(rows: pd.DataFrame) -> np.ndarray:
    """Decimal year of each row (a month's centre, or mid-year)."""
    time = rows["time"].astype(str)
    if time.str.len().max() > 4:
        return rows["year"].to_numpy() + (time.str[5:7].astype(int).to_numpy() - 0.5) / 12
    return rows["year"].to_numpy() + 0.5


def draw_channel(ch: Channel, ax: Any, view: SimView | None = None, theta: Theta | None = None,
                 panel: str | None = None, rng: np.random.Generator | None = None) -> None:
    """Data of ``ch`` in ``panel`` (None: all) as points, with bands of replicated
    observations from ``view`` if given."""
    from matplotlib.ticker import MaxNLocator

    data = ch.observed(PLOT_FROM)
    pairs = [p for p in dict.fromkeys(data["pair"]) if panel is None or ch.in_panel(p, panel)]
    sims = rows = None
    if view is not None:
        rows = ch.rows(view)
        sims = ch.display(rows, ch.simulate(view, theta, rng or np.random.default_rng(1)))
    for k, pair in enumerate(pairs):
        color = COLORS[k % len(COLORS)]
        d = data[data["pair"] == pair]
        y = ch.display(d, d["value"].to_numpy(float))
        monthly = d["time"].astype(str).str.len().max() > 4
        ax.plot(_xpos(d), y, "o" if not monthly else ".-", color=color, ms=3.5 if monthly else 4,
                lw=0.6, label=f"{pair} observed")
        if sims is not None and rows is not None:
            m = (rows["pair"] == pair).to_numpy()
            if m.any():
                q = np.quantile(sims[:, m], [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
                x = _xpos(rows[m])
                ax.fill_between(x, q[0], q[4], color=color, alpha=0.12, lw=0)
                ax.fill_between(x, q[1], q[3], color=color, alpha=0.25, lw=0)
                ax.plot(x, q[2], "-", color=color, lw=1.2, label=f"{pair} model median")
    ch.decorate(ax, panel or "")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
    ax.set_title(f"{ch.title}\n{panel or ''}", fontsize=9)
    ax.set_ylabel(ch.unit, fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6.5, loc="best", frameon=False)


def figure(channels: Sequence[Channel] | None = None, view: SimView | None = None,
           theta: Theta | None = None, seed: int = 1, ncols: int = 4) -> Any:
    """One panel per channel and pair (all registered channels by default), data to 2019,
    with an ensemble's 50%/90% bands of replicated observations if ``view`` is given."""
    import matplotlib.pyplot as plt

    from sim.observation import CHANNELS

    chans = list(CHANNELS.values()) if channels is None else list(channels)
    panels = [(ch, p) for ch in chans for p in ch.panels]
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.2 * nrows), squeeze=False)
    rng = np.random.default_rng(seed)
    for ax, (ch, p) in zip(axes.flat, panels, strict=False):
        ch.plot(ax, view, theta, p, rng)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    fig.suptitle("Observation channels: data to 2019"
                 + (" and model replicates (median, 50%, 90%)" if view is not None else ""),
                 fontsize=11)
    fig.tight_layout()
    return fig


__all__ = ["draw_channel", "figure"]
