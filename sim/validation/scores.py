"""Scores of probabilistic forecasts given as samples.

Every function takes forecast samples ``(S, K)`` (``S`` draws of ``K`` forecast targets) and
the observations ``(K,)``, and returns one value per target ``(K,)``; average over targets
yourself. References: Gneiting & Raftery (2007) "Strictly proper scoring rules, prediction and
estimation", JASA 102:359 (CRPS, skill scores); Czado, Gneiting & Held (2009) "Predictive model
assessment for count data", Biometrics 65:1254 (randomised PIT); Brier (1950) Monthly Weather
Review 78:1 (Brier score).
"""

from __future__ import annotations

import numpy as np
import scoringrules as sr

LEVELS = (0.5, 0.9)
"""Central interval levels reported by the backtest."""


def _check(samples: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``samples`` as ``(S, K)`` floats and ``y`` as ``(K,)``; raises ValueError otherwise."""
    s = np.asarray(samples, dtype=float)
    o = np.asarray(y, dtype=float)
    if s.ndim == 1:
        s = s[:, None]
    o = np.atleast_1d(o)
    if s.ndim != 2 or o.shape != (s.shape[1],) or s.shape[0] < 1:
        raise ValueError(f"samples {np.shape(samples)} and observations {np.shape(y)}: "
                         "expected (S, K) and (K,)")
    return s, o


def crps(samples: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Continuous ranked probability score of the ensemble, ``(K,)``, in the unit of ``y``:

        CRPS(F, y) = E|X - y| - ½ E|X - X'|,     X, X' ~ F independent,

    with ``F`` the empirical distribution of the samples (``scoringrules.crps_ensemble``,
    the fair-free "qd" estimator). Lower is better; 0 for a point mass on ``y``."""
    s, o = _check(samples, y)
    return np.asarray(sr.crps_ensemble(o, s, m_axis=0), dtype=float)


def interval(samples: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper ends ``(K,)`` of the central ``level`` interval (quantiles
    ``(1 - level)/2`` and ``(1 + level)/2`` of the samples)."""
    if not 0 < level < 1:
        raise ValueError(f"level {level}: expected 0 < level < 1")
    s = np.asarray(samples, dtype=float)
    lo, hi = np.quantile(s, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return lo, hi


def coverage(samples: np.ndarray, y: np.ndarray, level: float) -> np.ndarray:
    """Whether each observation lies in the central ``level`` interval, ``(K,)`` bools.
    Calibrated forecasts cover a share ``level`` of observations."""
    s, o = _check(samples, y)
    lo, hi = interval(s, level)
    return (o >= lo) & (o <= hi)


def pit(samples: np.ndarray, y: np.ndarray, seed: int = 0) -> np.ndarray:
    """Randomised probability integral transform ``(K,)`` in (0, 1):

        PIT = (#{X_s < y} + U · (#{X_s = y} + 1)) / (S + 1),     U ~ Uniform(0, 1),

    the rank of ``y`` among the samples with ties broken at random, so that it is exactly
    uniform when ``y`` is exchangeable with the ``S`` samples (Czado et al. 2009). ``U`` comes
    from ``numpy.random.default_rng(seed)``: same inputs and seed, same values."""
    s, o = _check(samples, y)
    below = (s < o).sum(axis=0)
    ties = (s == o).sum(axis=0)
    u = np.random.default_rng(seed).random(o.shape)
    return (below + u * (ties + 1)) / (s.shape[0] + 1)


def pit_histogram(values: np.ndarray, bins: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Relative frequencies ``(bins,)`` of PIT values over equal bins of [0, 1] and the
    ``(bins + 1,)`` edges; a calibrated forecast gives about ``1 / bins`` in each."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    counts, edges = np.histogram(v, bins=bins, range=(0.0, 1.0))
    return counts / max(1, len(v)), edges


def brier_direction(samples: np.ndarray, y: np.ndarray, y_origin: np.ndarray | float
                    ) -> np.ndarray:
    """Brier score ``(K,)`` of the forecast probability that the value rises above its value
    at the origin: ``(p - o)²`` with ``p = P(X > y_origin)`` (share of samples) and
    ``o = 1[y > y_origin]``. 0 is perfect; 0.25 is a coin flip."""
    s, o = _check(samples, y)
    ref = np.broadcast_to(np.asarray(y_origin, dtype=float), o.shape)
    p = (s > ref).mean(axis=0)
    return (p - (o > ref)) ** 2


def skill(score: np.ndarray | float, baseline: np.ndarray | float) -> float:
    """Skill score ``1 - mean(score) / mean(baseline)``: 1 perfect, 0 as good as the baseline,
    negative worse (Gneiting & Raftery 2007, Eq. 34). NaN if the baseline's mean is 0."""
    b = float(np.mean(baseline))
    return float("nan") if b == 0 else 1.0 - float(np.mean(score)) / b


__all__ = ["LEVELS", "brier_direction", "coverage", "crps", "interval", "pit",
           "pit_histogram", "skill"]
