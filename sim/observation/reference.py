"""The relations the UN ideal points imply, as a :class:`SimView`, and the observation
parameters fitted on them: where the defaults of the count channels come from.

``implied_view(first, last)`` holds, for each year, the relations of the project's initial rule
``x = 1 - d / 1.75`` (:func:`sim.world.initial_relations`, ``d`` the year's final-passage
distance) in all twelve months, both directions alike, one run; imports are zero. Fitting a
channel on it (:func:`fit_on_implied`) gives the loading and noise the data show if the model's
relations tracked the ideal points exactly: a reference for defaults, not a calibration.

For the trade channels the reference is the model's own flows where given (``flows``: e.g. the
mean of an unfiltered ensemble of the history scenario, which uses no outcome data after
2010), else :func:`trade_view`: the flows held at their 2010 level (as the shipped trade
defaults were fitted). With the model's flows the trend term carries only the growth the model
leaves out, not the growth it makes itself.

:func:`fit_at_origin` / :func:`theta_at_origin` re-estimate every channel's observation
parameters on data up to a forecast origin only (maximum a posteriori under the channels'
stated priors, within their bounds): what a rolling-origin backtest uses, so no observation of
a target year enters the observation model.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

from sim.observation.channel import CALIBRATION_END, Channel, read_data
from sim.observation.view import SimView
from sim.observation.votes import IDEALPOINT_FILE, TRIAD_PAIRS

D_HALF = 1.75
"""``anchor.d_half`` of the initial-relations rule (sim.world.initial_relations)."""
IDS = ("USA", "CHN", "RUS")


def implied_view(first: int, last: int) -> SimView:
    """One run, January ``first`` to December ``last``: each year's relations from its
    distances, ``x = clip(1 - d / 1.75, -0.999, 0.999)``. Raises ValueError for a year without
    all three distances."""
    df = read_data(IDEALPOINT_FILE).set_index("year")
    years = np.arange(first, last + 1)
    months = 12 * len(years)
    x = np.zeros((1, months + 1, 3, 3))
    for pair in TRIAD_PAIRS:
        d = df[f"dist_{pair.replace('-', '_')}_fp"].reindex(years)
        if d.isna().any():
            raise ValueError(f"implied_view: no {pair} distance for {list(years[d.isna()])}")
        xb = np.clip(1 - d.to_numpy() / D_HALF, -0.999, 0.999)
        series = np.concatenate([[xb[0]], np.repeat(xb, 12)])
        i, j = (IDS.index(s) for s in pair.split("-"))
        x[0, :, i, j] = x[0, :, j, i] = series
    return SimView(x, np.zeros_like(x), IDS, f"{first}-01")


def fit_on_view(ch: Channel, view: SimView, first: int, last: int, prior: bool = False
                ) -> dict[str, float]:
    """Maximum-likelihood (``prior``: maximum a posteriori under the parameters' priors) values
    of ``ch``'s parameters, within their bounds, on ``view``'s one run over ``first .. last``.
    Starts from the defaults."""
    names = [p.name for p in ch.params]
    bounds = [(p.lo, p.hi) for p in ch.params]

    def nll(v: np.ndarray) -> float:
        theta = dict(zip(names, v, strict=True))
        lp = float(ch.logprior(theta)) if prior else 0.0
        return -(float(ch.loglik(view, theta, first, last)[0]) + lp)

    x0 = np.array([p.default for p in ch.params])
    res = optimize.minimize(nll, x0, bounds=bounds, method="L-BFGS-B")
    return dict(zip(names, (float(v) for v in res.x), strict=True))


def fit_on_implied(ch: Channel, first: int, last: int, prior: bool = False) -> dict[str, float]:
    """:func:`fit_on_view` on :func:`implied_view` over ``first .. last``."""
    return fit_on_view(ch, implied_view(first, last), first, last, prior)


TRADE_FIRST = 2010
"""First year of the trade data (and of :func:`trade_view`)."""


def trade_view(last: int) -> SimView:
    """One run, January 2010 to December ``last``, relations zero, each traded flow held at
    its 2010 mean (US Census monthly flows as annual rates; China-Russia total split evenly
    between the two directions): the reference the trade defaults were fitted on."""
    from sim.observation.trade import TradeChnRusAnnual, TradeUsaChnMonthly

    months = 12 * (last - TRADE_FIRST + 1)
    m = np.zeros((1, months + 1, 3, 3))
    mon = TradeUsaChnMonthly().observed(TRADE_FIRST, TRADE_FIRST)
    level = mon.groupby("pair")["value"].mean()
    ann = TradeChnRusAnnual().observed(TRADE_FIRST, TRADE_FIRST)["value"].iloc[0]
    usa, chn, rus = (IDS.index(s) for s in ("USA", "CHN", "RUS"))
    m[0, :, usa, chn] = level["CHN->USA"]  # imports[importer, exporter]
    m[0, :, chn, usa] = level["USA->CHN"]
    m[0, :, chn, rus] = m[0, :, rus, chn] = ann / 2
    return SimView(np.zeros_like(m), m, IDS, f"{TRADE_FIRST}-01")


def fit_at_origin(ch: Channel, origin: int, first: int = 1992,
                  flows: SimView | None = None) -> dict[str, float]:
    """``ch``'s observation parameters re-estimated on its data up to the end of ``origin``
    only (MAP under the priors, :func:`fit_on_view`): trade channels on ``flows`` (a one-run
    view of the model's flows from 2010, e.g. an ensemble mean) or else :func:`trade_view`,
    the others on :func:`implied_view` from ``max(first, the channel's first year)``. The fit
    uses the channel as known at the origin (:meth:`Channel.at_origin`: e.g. seasonal factors
    to the origin). A channel with no data up to ``origin`` keeps its defaults. Raises
    HeldOutError after 2019."""
    ch = ch.at_origin(origin)
    data = ch.observed(None, origin)
    if data.empty:
        return ch.defaults()
    lo = max(first, int(data["year"].min()))
    hi = min(origin, CALIBRATION_END, int(data["year"].max()))
    if getattr(ch, "family", "") == "trade":
        view = trade_view(hi) if flows is None else flows
        return fit_on_view(ch, view, max(lo, TRADE_FIRST), hi, prior=True)
    return fit_on_view(ch, implied_view(lo, hi), lo, hi, prior=True)


def theta_at_origin(channels: dict[str, Channel], origin: int,
                    flows: SimView | None = None) -> dict[str, float]:
    """Every channel's :func:`fit_at_origin` in one mapping of dotted names."""
    out: dict[str, float] = {}
    for ch in channels.values():
        out |= fit_at_origin(ch, origin, flows=flows)
    return out


__all__ = ["D_HALF", "TRADE_FIRST", "fit_at_origin", "fit_on_implied", "fit_on_view",
           "implied_view", "theta_at_origin", "trade_view"]
