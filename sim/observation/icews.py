"""The event channel: ICEWS cooperative vs conflictual events between USA, CHN and RUS,
directed dyads, 2002-2014 (family ``events``, independent of the UN votes)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.observation.channel import ObsParam, read_data
from sim.observation.counts import CountChannel
from sim.observation.view import SimView, split_pair

ICEWS_FILE = "derived_icews_quad_triad_2002_2014.csv"
QUAD = ("verbCoop", "matlCoop", "verbConf", "matlConf")
DIRECTED = ("USA->CHN", "CHN->USA", "USA->RUS", "RUS->USA", "CHN->RUS", "RUS->CHN")


class IcewsCoop(CountChannel):
    """ICEWS events from ``i`` to ``j`` in a year: cooperative ones (verbal + material
    cooperation) out of all four quad classes,

        coop_ijy ~ BetaBinomial(total_ijy, logistic(a + λ z_ij), ρ),

    ``z_ij`` the annual mean of i's latent relation toward j (directed: ``x[i, j]`` is i's
    disposition toward j, and these are the events i initiates toward j). ``ρ`` absorbs the
    news-cycle clustering of event counts (thousands of events a year, so binomial error alone
    would be far too small)."""

    name = "icews_coop"
    title = "ICEWS cooperative share of events (directed)"
    unit = "cooperative / all events"
    family = "events"
    source = (f"data/{ICEWS_FILE}: ICEWS (Boschee et al. 2015) directed dyad-years via the R "
              "package netify; coop = verbCoop + matlCoop, trials = all four quad classes")
    panels = ("USA-CHN", "USA-RUS", "CHN-RUS")
    params = (
        ObsParam("icews_coop.intercept", 2.6, -5.0, 8.0, "logit",
                 "rounded fit on 2002-2014 with the relations the ideal-point rule implies "
                 "(our calculation); prior normal(2, 1.5): most reported events are cooperative",
                 ("normal", 2.0, 1.5)),
        ObsParam("icews_coop.loading", 0.35, 0.0, 5.0, "logit per unit z",
                 "rounded fit as for the intercept; > 0: friendlier means more cooperation",
                 ("normal", 1.0, 1.0)),
        ObsParam("icews_coop.rho", 0.05, 0.0, 0.5, "1",
                 "rounded fit as for the intercept; half-normal prior, sd 0.05",
                 ("halfnormal", 0.0, 0.05)),
    )

    def load(self) -> pd.DataFrame:
        df = read_data(ICEWS_FILE)
        total = df[list(QUAD)].sum(axis=1)
        out = pd.DataFrame({"time": df["year"].astype(int), "year": df["year"].astype(int),
                            "pair": df["i_iso3c"] + "->" + df["j_iso3c"],
                            "value": (df["verbCoop"] + df["matlCoop"]).astype(float),
                            "trials": total.astype(float)})
        return out.sort_values(["pair", "year"], kind="stable").reset_index(drop=True)

    def latent_of(self, view: SimView, pair: str) -> np.ndarray:
        """``z_ij`` of the direction ``"i->j"``."""
        return view.directed_latent(*split_pair(pair))

    def in_panel(self, pair: str, panel: str) -> bool:
        """Both directions of a dyad share its panel ``"A-B"``."""
        return set(split_pair(pair)) == set(split_pair(panel))


def mean_coop_share(df: pd.DataFrame, pair: str) -> pd.Series:
    """Mean of the two directed cooperative shares of an undirected ``pair`` per year (the
    measure behind issue 10's numbers)."""
    a, b = pair.split("-")
    sel = df[df["pair"].isin([f"{a}->{b}", f"{b}->{a}"])]
    return (sel["value"] / sel["trials"]).groupby(sel["year"]).mean()


__all__ = ["DIRECTED", "ICEWS_FILE", "IcewsCoop", "mean_coop_share"]
