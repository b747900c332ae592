"""UN General Assembly vote channels: ideal-point distances, roll-call agreement and the State
Department's voting coincidence. All three measure the same roll calls (family ``unga_votes``),
so they are not independent evidence about relations: a calibration should weigh them as one
source (the ICEWS event channel, :mod:`sim.observation.icews`, is the independent one).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from sim.observation.channel import Channel, ObsParam, Theta, read_data
from sim.observation.counts import CountChannel, per_row_annual
from sim.observation.stats import (
    ar1_draw,
    ar1_loglik,
    betabinom_draw,
    betabinom_logpmf,
    hermite_nodes,
    logistic,
)
from sim.observation.view import SimView

TRIAD_PAIRS = ("USA-CHN", "USA-RUS", "CHN-RUS")
IDEALPOINT_FILE = "derived_idealpoint_distances_USA_CHN_RUS.csv"
AGREEMENT_FILE = "derived_unga_agreement_by_year_long.csv"
COINCIDENCE_FILE = "derived_statedept_coincidence_with_USA_CHN_RUS_2013_2019.csv"
FIT_NOTE = ("rounded maximum-likelihood fit on 1992-2019 with the relations the ideal-point rule "
            "implies (x̄ = 1 - d/1.75; our calculation, tests/test_observation.py)")


def intercept_name(pair: str) -> str:
    """The ``un_distance`` intercept of dyad ``pair`` (``"USA-CHN"`` →
    ``"un_distance.usa_chn.intercept"``)."""
    return f"un_distance.{pair.lower().replace('-', '_')}.intercept"


def _tidy(df: pd.DataFrame, pair: str, value: pd.Series, trials: pd.Series | None = None
          ) -> pd.DataFrame:
    out = pd.DataFrame({"time": df["year"].astype(int), "year": df["year"].astype(int),
                        "pair": pair, "value": value.astype(float)})
    if trials is not None:
        out["trials"] = trials.astype(float)
    return out.dropna(subset=["value"])


class UnDistance(Channel):
    """Annual UNGA ideal-point distance (final-passage votes) of USA-CHN, USA-RUS, CHN-RUS.

        d_py = a_p - λ · x̄_py + e_py,   e_p ~ AR(1) with marginal sd σ and correlation φ,

    ``x̄`` the annual mean of the dyad-mean relation, ``a_p`` the dyad's own intercept
    (``un_distance.<a_b>.intercept``, :func:`intercept_name`). Linear in ``x̄`` (not in ``z̄``):
    the distance is bounded as ``x̄`` is, and the defaults ``a_p = λ = 1.75`` are the inverse of
    the project's initial-relations rule ``x0 = 1 - d / d_half``
    (:func:`sim.world.initial_relations`), so a state set from year-Y distances reproduces them.
    On ``z̄`` a saturated relation would imply an unbounded distance. One intercept per dyad:
    the dyads' distances lie on different levels (1992-2019: USA-CHN 2.69-4.71, USA-RUS
    1.65-2.76, CHN-RUS 0.41-2.95), and with one common intercept the channel ties every dyad's
    level to the relation the other channels (the ICEWS events) want, so the implied distance
    of USA-RUS drifted out of its own range (docs/VALIDATION.md, P3). The residuals of one pair
    are autocorrelated: the ideal points come from a dynamic model that smooths over years.
    """

    name = "un_distance"
    title = "UN ideal-point distance (final passage)"
    unit = "ideal-point units"
    family = "unga_votes"
    source = (f"data/{IDEALPOINT_FILE}: Voeten UNGA ideal points (Bailey, Strezhnev & Voeten "
              "2017, July 2025 release), dist_<A>_<B>_fp")
    panels = TRIAD_PAIRS
    params = (
        *(ObsParam(intercept_name(p), 1.75, 0.0, 6.0, "ideal-point units",
                   f"{p}'s distance at x̄ = 0; default d_half of sim.world.initial_relations. "
                   "Weakly informative prior, the same for every dyad: normal(1.75, 1), centred "
                   "on d_half, sd 1 the spread of the three dyads' 1992-2009 mean distances "
                   "(3.60, 2.32, 1.29; sd 1.16), so each dyad may take its own level without a "
                   "prior centred on its own data", ("normal", 1.75, 1.0))
          for p in TRIAD_PAIRS),
        ObsParam("un_distance.loading", 1.75, 0.05, 4.0, "ideal-point units per unit x̄",
                 "d_half of sim.world.initial_relations (x̄ = 1 means distance 0)",
                 ("normal", 1.75, 0.5)),
        ObsParam("un_distance.sigma", 0.2, 0.005, 2.0, "ideal-point units",
                 f"{FIT_NOTE} with intercept and loading at 1.75; prior half-normal, sd 0.5",
                 ("halfnormal", 0.0, 0.5)),
        ObsParam("un_distance.ar1", 0.75, 0.0, 0.95, "1",
                 f"{FIT_NOTE} (0.77; the ideal points are smoothed over years); flat prior",
                 ("uniform", 0.0, 0.95)),
    )

    def load(self) -> pd.DataFrame:
        df = read_data(IDEALPOINT_FILE)
        return pd.concat([_tidy(df, p, df[f"dist_{p.replace('-', '_')}_fp"])
                          for p in TRIAD_PAIRS], ignore_index=True)

    def intercepts(self, theta: Theta | None, rows: pd.DataFrame) -> np.ndarray:
        """Each row's dyad intercept ``a_p``: ``(K,)``, or ``(R, K)`` for per-run ``theta``.
        Raises ValueError for a row whose pair is not a triad dyad."""
        return self.pair_intercepts(theta, rows["pair"].to_numpy())

    def pair_intercepts(self, theta: Theta | None, pairs: np.ndarray) -> np.ndarray:
        """The intercept ``a_p`` of each of ``pairs`` (``"USA-CHN"``, ...): ``(K,)``, or
        ``(R, K)`` for per-run ``theta``. Raises ValueError for a pair that is not a triad
        dyad."""
        pairs = self._triad(pairs)
        return sum((self.value(theta, intercept_name(p).split(".", 1)[1]) * (pairs == p)
                    for p in TRIAD_PAIRS), np.zeros(len(pairs)))

    def _triad(self, pairs: np.ndarray) -> np.ndarray:
        """``pairs`` as an array; raises ValueError for a pair that is not a triad dyad."""
        pairs = np.asarray(pairs)
        unknown = sorted(set(pairs) - set(TRIAD_PAIRS))
        if unknown:
            raise ValueError(f"{self.name}: no intercept for pairs {unknown}; expected "
                             f"{list(TRIAD_PAIRS)}")
        return pairs

    def distance(self, xbar: np.ndarray, theta: Theta | None, pairs: np.ndarray) -> np.ndarray:
        """Expected distance ``a_p − λ·x̄`` of dyad mean relations ``xbar`` ``(..., K)`` of
        ``pairs`` ``(K,)`` (ideal-point units). The one definition of the channel's mean:
        :meth:`mean` applies it to the runs' annual means, :func:`sim.world.observed_start`
        inverts it (:meth:`relation`)."""
        return self.pair_intercepts(theta, pairs) - self.value(theta, "loading") * xbar

    def relation(self, d: np.ndarray, theta: Theta | None, pairs: np.ndarray) -> np.ndarray:
        """The dyad mean relation whose expected distance is ``d`` ``(..., K)``: the inverse of
        :meth:`distance`, ``x̄ = (a_p − d) / λ`` (unclipped; may leave (−1, 1))."""
        return (self.pair_intercepts(theta, pairs) - d) / self.value(theta, "loading")

    def mean(self, view: SimView, theta: Theta | None, rows: pd.DataFrame) -> np.ndarray:
        pairs = self._triad(rows["pair"].to_numpy())
        return self.distance(per_row_annual(view, rows, view.dyad_mean), theta, pairs)

    def logpdf(self, view: SimView, theta: Theta | None, rows: pd.DataFrame) -> np.ndarray:
        resid = rows["value"].to_numpy(float) - self.mean(view, theta, rows)
        return ar1_loglik(resid, rows["pair"].to_numpy(), rows["year"].to_numpy(),
                          self.value(theta, "sigma"), self.value(theta, "ar1"))

    def draw(self, view: SimView, theta: Theta | None, rows: pd.DataFrame,
             rng: np.random.Generator) -> np.ndarray:
        mu = self.mean(view, theta, rows)
        return mu + ar1_draw(mu.shape, rows["pair"].to_numpy(), rows["year"].to_numpy(),
                             self.value(theta, "sigma"), self.value(theta, "ar1"), rng)

    def origin_residuals(self, view: SimView, theta: Theta | None
                         ) -> dict[str, tuple[int, np.ndarray]]:
        """``{pair: (year, resid (R,))}``: each pair's residual ``d - E[d | run]`` at its last
        year known at the origin (:attr:`known_through`), per run."""
        known = self.known()
        last = known.sort_values("year", kind="stable").groupby("pair", sort=False).tail(1)
        last = last.reset_index(drop=True)
        resid = last["value"].to_numpy(float) - self.mean(view, theta, last)
        return {str(p): (int(y), resid[:, k])
                for k, (p, y) in enumerate(zip(last["pair"], last["year"], strict=True))}

    def forecast(self, view: SimView, theta: Theta | None, rows: pd.DataFrame,
                 rng: np.random.Generator) -> np.ndarray:
        """Forecast draws ``(R, K)`` of rows after the origin: the AR(1) residual of each pair
        starts from its value at the origin (observed minus expected at the last known year,
        per run), as a filtered forecast does, instead of from its marginal law."""
        rows = self.forecast_rows(rows)
        mu = self.mean(view, theta, rows)
        return mu + ar1_draw(mu.shape, rows["pair"].to_numpy(), rows["year"].to_numpy(),
                             self.value(theta, "sigma"), self.value(theta, "ar1"), rng,
                             prev=self.origin_residuals(view, theta))


def calibrated_theta(path: Path | None = None) -> dict[str, float]:
    """Posterior means of the ``un_distance`` parameters in ``path`` (default the shipped
    ``calibration/posterior.csv.gz``, :func:`sim.uncertainty.calibration_report`): the
    calibrated map between relations and UN distances that the pattern P3 reads
    (:func:`sim.validation.patterns.implied_distances`) and the calibrated start of relations
    inverts (:func:`sim.world.observed_start`). Raises :class:`sim.output.UserError` for a
    missing or unusable posterior file."""
    from sim.uncertainty import read_posterior

    names = tuple(p.name for p in UnDistance.params)
    post = read_posterior(path, names)
    return {n: float(v) for n, v in zip(names, post.mean(axis=0), strict=True)}


class RollcallAgreement(CountChannel):
    """UNGA roll-call agreement per year and pair: ``k`` identical votes (yes/no/abstain) out of
    the ``n`` roll calls both voted in,

        k_py ~ BetaBinomial(n_py, logistic(a + λ z̄_py + τ u_y), ρ),   u_y ~ N(0, 1),

    with ``u_y`` an agenda effect common to the three pairs in year ``y``. Why: agreement moves
    with the agenda (data/README.md: e.g. the number of Middle East votes in a year), and it
    moves all pairs together; a year effect shared by the pairs keeps it out of the relations.
    It is integrated out (24-node Gauss-Hermite quadrature), so it adds one parameter ``τ``
    instead of one per year. Counts: ``k = round(n_votes · agree_exact)`` (exact: the rate has
    four decimals and n < 200).
    """

    name = "rollcall_agreement"
    title = "UNGA roll-call agreement"
    unit = "share of roll calls with the same vote"
    family = "unga_votes"
    source = (f"data/{AGREEMENT_FILE}: UNGA roll calls (Voeten 2013, R package unvotes), "
              "n_votes and agree_exact")
    panels = TRIAD_PAIRS
    params = (
        ObsParam("rollcall_agreement.intercept", -0.1, -5.0, 5.0, "logit",
                 f"{FIT_NOTE}; prior normal(0, 1.5) covers shares 0.05-0.95 at z̄ = 0",
                 ("normal", 0.0, 1.5)),
        ObsParam("rollcall_agreement.loading", 1.15, 0.0, 5.0, "logit per unit z̄",
                 f"{FIT_NOTE}; > 0: friendlier pairs vote alike", ("normal", 1.0, 1.0)),
        ObsParam("rollcall_agreement.rho", 0.05, 0.0, 0.5, "1",
                 f"{FIT_NOTE}; half-normal prior, sd 0.1", ("halfnormal", 0.0, 0.1)),
        ObsParam("rollcall_agreement.agenda_sd", 0.0, 0.0, 3.0, "logit",
                 f"{FIT_NOTE} gives 0: given the relations the ideal points imply, the three "
                 "pairs' residuals of a year are not positively correlated (an agenda shift such "
                 "as more Middle East votes moves CHN-RUS up and USA-X down); kept with a "
                 "half-normal prior, sd 0.5, for the model's relations", ("halfnormal", 0.0, 0.5)),
    )

    def load(self) -> pd.DataFrame:
        df = read_data(AGREEMENT_FILE)
        out = [(_tidy(s, p, (s["n_votes"] * s["agree_exact"]).round(), s["n_votes"]))
               for p, s in df.groupby("pair", sort=False)]
        return pd.concat(out, ignore_index=True).sort_values(["pair", "year"], kind="stable") \
            .reset_index(drop=True)

    def _tau(self, theta: Theta | None) -> np.ndarray:
        tau = self.value(theta, "agenda_sd")
        return tau[..., None] if tau.ndim == 2 else tau

    def mean(self, view: SimView, theta: Theta | None, rows: pd.DataFrame) -> np.ndarray:
        """``n · E_u[logistic(a + λ z̄ + τ u)]``: ``(R, K)``."""
        u, logw = hermite_nodes()
        p = logistic(self.eta(view, theta, rows)[..., None] + self._tau(theta) * u)
        return rows["trials"].to_numpy(float) * (p * np.exp(logw)).sum(axis=-1)

    def logpdf(self, view: SimView, theta: Theta | None, rows: pd.DataFrame) -> np.ndarray:
        u, logw = hermite_nodes()
        p = logistic(self.eta(view, theta, rows)[..., None] + self._tau(theta) * u)  # (R, K, Q)
        rho = self.value(theta, "rho")
        ll = betabinom_logpmf(rows["value"].to_numpy(float)[:, None],
                              rows["trials"].to_numpy(float)[:, None], p,
                              rho[..., None] if rho.ndim == 2 else rho)
        total = np.zeros(ll.shape[0])
        for idx in rows.groupby("year", sort=False).indices.values():
            total += logsumexp(ll[:, idx, :].sum(axis=1) + logw, axis=-1)
        return total

    def draw(self, view: SimView, theta: Theta | None, rows: pd.DataFrame,
             rng: np.random.Generator) -> np.ndarray:
        eta = self.eta(view, theta, rows)
        years, inv = np.unique(rows["year"].to_numpy(), return_inverse=True)
        u = rng.standard_normal((eta.shape[0], len(years)))[:, inv]
        p = logistic(eta + self.value(theta, "agenda_sd") * u)
        return betabinom_draw(rows["trials"].to_numpy(), p, self.value(theta, "rho"),
                              rng).astype(float)


class StatedeptCoincidence(CountChannel):
    """US State Department voting coincidence of CHN and RUS with the USA, 2013-2019:
    ``same`` out of ``same + oppose`` recorded UNGA votes,

        same ~ BetaBinomial(same + oppose, logistic(a + λ z̄), ρ).

    Computed from the printed counts, so the 2017 change of the printed formula (which added
    half-credit for abstentions) does not matter (data/README.md)."""

    name = "statedept_coincidence"
    title = "State Dept. UNGA voting coincidence with the USA"
    unit = "same / (same + oppose)"
    family = "unga_votes"
    source = (f"data/{COINCIDENCE_FILE}: US State Department, Voting Practices in the United "
              "Nations 2013-2019, overall tables")
    panels = ("USA-CHN", "USA-RUS")
    params = (
        ObsParam("statedept_coincidence.intercept", -0.4, -5.0, 5.0, "logit",
                 f"{FIT_NOTE.replace('1992', '2013')}; prior normal(0, 1.5)",
                 ("normal", 0.0, 1.5)),
        ObsParam("statedept_coincidence.loading", 0.65, 0.0, 5.0, "logit per unit z̄",
                 f"{FIT_NOTE.replace('1992', '2013')}; > 0", ("normal", 1.0, 1.0)),
        ObsParam("statedept_coincidence.rho", 0.04, 0.0, 0.5, "1",
                 f"{FIT_NOTE.replace('1992', '2013')}; half-normal prior, sd 0.1",
                 ("halfnormal", 0.0, 0.1)),
    )

    def load(self) -> pd.DataFrame:
        df = read_data(COINCIDENCE_FILE)
        out = [_tidy(s, f"USA-{iso}", s["same"], s["same"] + s["oppose"])
               for iso, s in df.groupby("iso", sort=False)]
        return pd.concat(out, ignore_index=True)


__all__ = ["RollcallAgreement", "StatedeptCoincidence", "UnDistance", "calibrated_theta",
           "intercept_name"]
