"""A synthetic observation channel for the calibration tests: annual means of one dyad's
relation observed with Gaussian noise, data simulated by the model itself at a known θ."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from sim.observation.channel import ObsParam


def annual_means(traj, pair: tuple[int, int], years: np.ndarray) -> np.ndarray:
    """``(R, Y)`` mean over months of year ``y`` of the relation ``x[i, j]`` (steps 1..12 of
    each year: ends of its months)."""
    y0, m0 = (int(v) for v in traj.world.start.split("-"))
    out = []
    for y in years:
        first = 12 * (int(y) - y0) - (m0 - 1) + 1
        out.append(traj.x[:, first:first + 12, pair[0], pair[1]].mean(axis=1))
    return np.stack(out, axis=1)


class SynthChannel:
    """Channel ``synth``: ``y_t = x̄_t + ε``, ``ε ~ N(0, synth.sd²)``."""

    name = "synth"
    title = "synthetic dyad mean"
    unit = "x"
    source = "simulated (tests)"

    def __init__(self, years: np.ndarray, values: np.ndarray, pair: tuple[int, int] = (0, 1),
                 sd: float = 0.05) -> None:
        self.years, self.values, self.pair = np.asarray(years), np.asarray(values), pair
        self.params = (ObsParam("synth.sd", sd, 1e-3, 1.0, "x", "synthetic noise",
                                  ("halfnormal", 0.0, 0.2)),)

    def observed(self, first: int, last: int = 2019) -> pd.DataFrame:
        if last > 2019:
            raise ValueError(f"last {last} is after 2019")
        keep = (self.years >= first) & (self.years <= last)
        return pd.DataFrame({"time": self.years[keep].astype(str), "pair": "A-B",
                             "value": self.values[keep]})

    def _sel(self, first: int, last: int) -> np.ndarray:
        return (self.years >= first) & (self.years <= last)

    def expected(self, view, theta) -> np.ndarray:
        return annual_means(view, self.pair, self.years)

    def loglik(self, view, theta, first: int, last: int) -> np.ndarray:
        keep = self._sel(first, last)
        mu = annual_means(view, self.pair, self.years[keep])
        sd = np.asarray(theta.get("synth.sd", self.params[0].default), dtype=float)
        sd = np.broadcast_to(sd, (mu.shape[0],))[:, None]
        return stats.norm.logpdf(self.values[keep], mu, sd).sum(axis=1)

    def simulate(self, view, theta, rng) -> np.ndarray:
        mu = annual_means(view, self.pair, self.years)
        sd = np.asarray(theta.get("synth.sd", self.params[0].default), dtype=float)
        sd = np.broadcast_to(sd, (mu.shape[0],))[:, None]
        return mu + sd * rng.standard_normal(mu.shape)
