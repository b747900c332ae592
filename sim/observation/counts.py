"""Count channels: ``k`` successes out of ``n`` trials per row (votes agreeing, events
cooperative), beta-binomial around a logistic of the latent relation,

    k ~ BetaBinomial(n, p, rho),   p = logistic(a + λ · z),

with ``z`` the annual mean of the latent relation (``z = artanh(x)``) the channel reads: the
dyad mean ``z̄`` or a directed ``z_ij``. ``a`` (intercept) and ``λ`` (loading, > 0: friendlier
relations mean more agreement or cooperation) are estimated; ``rho`` (intra-class correlation)
absorbs what varies beyond binomial sampling (the agenda, the news cycle). The latent scale
fits a logistic: ``a + λ z`` is unbounded like the logit of a share.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from sim.observation.channel import Channel, Theta
from sim.observation.stats import betabinom_draw, betabinom_logpmf, logistic
from sim.observation.view import SimView


def per_row_annual(view: SimView, rows: pd.DataFrame,
                   series: Callable[[str], np.ndarray]) -> np.ndarray:
    """``(R, K)``: the annual mean of ``series(pair)`` ``(R, T+1)`` at each row's pair and year."""
    out = np.empty((view.runs, len(rows)))
    years = rows["year"].to_numpy()
    for pair, idx in rows.groupby("pair", sort=False).indices.items():
        out[:, idx] = view.at_years(series(str(pair)), years[idx])
    return out


def per_row_monthly(view: SimView, rows: pd.DataFrame,
                    series: Callable[[str], np.ndarray]) -> np.ndarray:
    """``(R, K)``: the end-of-month value of ``series(pair)`` at each row's pair and month."""
    out = np.empty((view.runs, len(rows)))
    months = rows["time"].astype(str).to_numpy()
    for pair, idx in rows.groupby("pair", sort=False).indices.items():
        out[:, idx] = view.at_months(series(str(pair)), list(months[idx]))
    return out


class CountChannel(Channel):
    """Beta-binomial counts on ``logistic(a + λ z)`` (module docstring). Subclasses give
    :meth:`latent_of` (which relation a row's pair reads) and the data."""

    def latent_of(self, view: SimView, pair: str) -> np.ndarray:
        """The latent relation a row of ``pair`` reads, ``(R, T+1)``: the dyad mean ``z̄``."""
        return view.dyad_latent(pair)

    def eta(self, view: SimView, theta: Theta | None, rows: pd.DataFrame) -> np.ndarray:
        """``a + λ z`` at the rows: ``(R, K)``."""
        z = per_row_annual(view, rows, lambda pair: self.latent_of(view, pair))
        return self.value(theta, "intercept") + self.value(theta, "loading") * z

    def mean(self, view: SimView, theta: Theta | None, rows: pd.DataFrame) -> np.ndarray:
        """Expected count ``n · p``: ``(R, K)``."""
        return rows["trials"].to_numpy(float) * logistic(self.eta(view, theta, rows))

    def logpdf(self, view: SimView, theta: Theta | None, rows: pd.DataFrame) -> np.ndarray:
        p = logistic(self.eta(view, theta, rows))
        ll = betabinom_logpmf(rows["value"].to_numpy(float), rows["trials"].to_numpy(float),
                              p, self.value(theta, "rho"))
        return ll.sum(axis=1)

    def draw(self, view: SimView, theta: Theta | None, rows: pd.DataFrame,
             rng: np.random.Generator) -> np.ndarray:
        p = logistic(self.eta(view, theta, rows))
        return betabinom_draw(rows["trials"].to_numpy(), p, self.value(theta, "rho"),
                              rng).astype(float)

    def display(self, rows: pd.DataFrame, values: np.ndarray) -> np.ndarray:
        """Counts as shares of the trials."""
        return values / rows["trials"].to_numpy(float)


__all__ = ["CountChannel", "per_row_annual", "per_row_monthly"]
