"""Standardisation constants of the relation anchor's inputs, computed from the shipped data.

The anchor (:func:`sim.kernels.anchor`) adds its inputs on the latent scale ``z = artanh(x)``;
each input is a z-score over the historical sample of the USA–CHN–RUS triangle, so a weight is
"change in z* per sample standard deviation" and no unit-weight stack can push ``z*`` far out:

- ideology: UN final-passage ideal-point distance of the three dyads, 1992–2019
  (``data/derived_idealpoint_distances_USA_CHN_RUS.csv``, ``dist_*_fp``; Bailey, Strezhnev &
  Voeten 2017); ``Ã = (μ_d − d) / s_d`` (closer = higher);
- trade: ``ln(1 + bilateral goods trade, USD bn/yr)`` of the three dyads, 1992–2014
  (``data/derived_cow_trade_triad_1990_2014.csv``, ``total_flow`` in USD million; COW trade
  v4); trade relative to GDP would need GDP series, which ``data/`` does not hold;
- threat ``T_ij = (P_j / max P)^a · max(0, −x_ji)`` and shared threat ``S_ij = Σ_k T_ik T_jk`` of
  the triangle's directed dyads, 1992–2019, with ``P`` the COW CINC share
  (``data/derived_cow_nmc_triad_1990_2022.csv``) and ``x`` the project's initial-relation rule
  ``x = 1 − d / d_half`` (clipped to [−0.99, 0.99]) at the default ``d_half = 1.75`` and
  ``a = 1``.

:data:`CONSTANTS` are the shipped values (used by the kernels); :func:`standardisation`
recomputes them from the data files (a test checks they agree). :func:`ideology_defaults`
gives the default ``anchor.bias`` and ``anchor.w_ideology``: the least-squares line of the
latent relation the initial-relation rule implies, ``artanh(1 − d/d_half)``, on ``Ã`` over the
same sample (so the ideology term alone reproduces the observed levels at the start; the other
terms' defaults are small).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

FIRST, LAST, TRADE_LAST = 1992, 2019, 2014
"""Sample years (the triangle's post-Soviet years; COW trade ends in 2014)."""
D_HALF, POWER_EXPONENT, X_LIMIT = 1.75, 1.0, 0.99
"""Defaults of ``anchor.d_half`` and ``threat.power_exponent``; the clip of the inverse rule."""
DIGITS = 4
"""Decimals of the shipped constants."""

CONSTANTS: dict[str, float] = {
    "distance_mean": 2.2724,
    "distance_sd": 1.1117,
    "log_trade_mean": 3.6919,
    "log_trade_sd": 1.481,
    "threat_mean": 0.3284,
    "threat_sd": 0.3493,
    "shared_threat_mean": 0.0816,
    "shared_threat_sd": 0.1398,
}
"""Shipped standardisation constants (:func:`standardisation` at the defaults, rounded to
``DIGITS`` decimals). Distances in ideal-point units, trade in ln(USD bn/yr), threats in the
units of ``T`` and ``S`` (dimensionless)."""

IDEOLOGY_DEFAULTS: dict[str, float] = {"bias": -0.4855, "w_ideology": 0.9503}
"""Shipped :func:`ideology_defaults` (rounded to ``DIGITS``): defaults of ``anchor.bias`` and
``anchor.w_ideology`` in :mod:`sim.spec`."""

PAIRS = (("USA", "CHN"), ("USA", "RUS"), ("CHN", "RUS"))


def _data(data_dir: Path | None) -> Path:
    if data_dir is not None:
        return Path(data_dir)
    from sim.resources import data_dir as shipped

    return shipped()


def distances(data_dir: Path | None = None) -> pd.DataFrame:
    """Ideal-point distances of the triangle's dyads, ``FIRST..LAST``: columns year, pair
    (``"USA-CHN"``), d. Raises FileNotFoundError if the file is missing."""
    raw = pd.read_csv(_data(data_dir) / "derived_idealpoint_distances_USA_CHN_RUS.csv")
    raw = raw[raw.year.between(FIRST, LAST)]
    return pd.concat([pd.DataFrame({"year": raw.year, "pair": f"{a}-{b}",
                                    "d": raw[f"dist_{a}_{b}_fp"]}) for a, b in PAIRS],
                     ignore_index=True).dropna()


def _moments(v: np.ndarray) -> tuple[float, float]:
    return float(np.mean(v)), float(np.std(v, ddof=1))


def inverse_rule(d: np.ndarray, d_half: float = D_HALF) -> np.ndarray:
    """The project's initial-relation rule ``x = 1 − d / d_half``, clipped to
    ``[−X_LIMIT, X_LIMIT]`` (:func:`sim.world.initial_relations`)."""
    return np.clip(1.0 - np.asarray(d, float) / d_half, -X_LIMIT, X_LIMIT)


def threat_sample(data_dir: Path | None = None, d_half: float = D_HALF,
                  exponent: float = POWER_EXPONENT) -> tuple[np.ndarray, np.ndarray]:
    """``T_ij`` and ``S_ij`` of the triangle's six directed dyads in each year ``FIRST..LAST``
    (flattened), with relations from the inverse rule and COW CINC power."""
    dist = distances(data_dir).pivot(index="year", columns="pair", values="d")
    nmc = pd.read_csv(_data(data_dir) / "derived_cow_nmc_triad_1990_2022.csv")
    cinc = nmc.pivot(index="year", columns="iso3c", values="cinc")
    ids = ["USA", "CHN", "RUS"]
    ts, ss = [], []
    for year in dist.index:
        x = np.zeros((3, 3))
        for a, b in PAIRS:
            x[ids.index(a), ids.index(b)] = x[ids.index(b), ids.index(a)] = inverse_rule(
                dist.loc[year, f"{a}-{b}"], d_half)
        p = cinc.loc[year, ids].to_numpy(float)
        t = (p / p.max())[None, :] ** exponent * np.maximum(0.0, -x.T)
        np.fill_diagonal(t, 0.0)
        s = t @ t.T
        np.fill_diagonal(s, 0.0)
        off = ~np.eye(3, dtype=bool)
        ts.append(t[off])
        ss.append(s[off])
    return np.concatenate(ts), np.concatenate(ss)


def standardisation(data_dir: Path | None = None) -> dict[str, float]:
    """The constants of :data:`CONSTANTS`, computed from the data files (unrounded).
    Raises FileNotFoundError if a file is missing."""
    d = distances(data_dir).d.to_numpy()
    trade = pd.read_csv(_data(data_dir) / "derived_cow_trade_triad_1990_2014.csv")
    trade = trade[trade.year.between(FIRST, TRADE_LAST)]
    log_trade = np.log1p(trade.total_flow.to_numpy(float) / 1000.0)
    t, s = threat_sample(data_dir)
    out: dict[str, float] = {}
    for name, v in (("distance", d), ("log_trade", log_trade), ("threat", t),
                    ("shared_threat", s)):
        out[f"{name}_mean"], out[f"{name}_sd"] = _moments(v)
    return out


def ideology_defaults(data_dir: Path | None = None, d_half: float = D_HALF) -> dict[str, float]:
    """``bias`` and ``w_ideology``: least squares of ``artanh(1 − d/d_half)`` (the inverse
    rule, clipped) on ``Ã = (μ_d − d)/s_d`` over the triangle's dyads ``FIRST..LAST``."""
    d = distances(data_dir).d.to_numpy()
    mu, sd = _moments(d)
    a = (mu - d) / sd
    z = np.arctanh(inverse_rule(d, d_half))
    slope, intercept = np.polyfit(a, z, 1)
    return {"bias": float(intercept), "w_ideology": float(slope)}


def rounded(values: dict[str, float]) -> dict[str, float]:
    """``values`` rounded to ``DIGITS`` decimals (how the constants are shipped)."""
    return {k: round(v, DIGITS) for k, v in values.items()}
