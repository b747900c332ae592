"""Probabilistic naive forecasts, fitted only on the history they are given.

Each function takes the history up to and including the forecast origin (1-D, oldest first,
already on the scale it is modelled on: logs for trade) and returns ``(S, H)`` samples of the
next ``H`` values. Parameter uncertainty is included by drawing the fitted coefficients from
their estimated sampling distribution (normal approximation); innovations are Gaussian with
the estimated variance. Same history, ``S``, ``H`` and seed: same samples.

- :func:`rw_drift`: random walk with drift (seasonal with ``period`` 12 for monthly data),
  ``y_t = y_{t-m} + μ + ε_t``; Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*,
  3rd ed., §5.2 (naive, seasonal naive and drift methods).
- :func:`ar1`: AR(1) with intercept (and month-of-year dummies for monthly data),
  ``statsmodels.tsa.ar_model.AutoReg``.
- :func:`var`: VAR(p) on several monthly series jointly (month-of-year dummies as exogenous
  regressors), ``statsmodels.tsa.api.VAR``; Lütkepohl (2005) *New Introduction to Multiple
  Time Series Analysis*, ch. 2-3.
"""

from __future__ import annotations

import numpy as np
from statsmodels.tsa.api import VAR
from statsmodels.tsa.ar_model import AutoReg

Seed = int | np.random.SeedSequence
"""A seed for ``numpy.random.default_rng``."""

METHODS = ("rw_drift", "ar1", "var")
"""Baseline names as they appear in the score tables."""


def _history(y: np.ndarray, need: int) -> np.ndarray:
    """``y`` as a finite 1-D float array of at least ``need`` values; raises ValueError."""
    h = np.asarray(y, dtype=float)
    if h.ndim != 1 or len(h) < need or not np.all(np.isfinite(h)):
        raise ValueError(f"history of shape {h.shape}: expected at least {need} finite values")
    return h


def rw_drift(y: np.ndarray, horizon: int, samples: int, seed: Seed, period: int = 1
             ) -> np.ndarray:
    """Random walk with drift, ``(S, H)``: ``y_{T+h} = y_{T+h-m} + μ_s + σ ε``.

    ``μ̂`` and ``σ̂`` are the mean and sd of the lag-``m`` differences (``m = period``); each
    sample path draws its own ``μ_s ~ N(μ̂, σ̂² / n)`` (uncertainty of the mean of ``n``
    differences). ``period = 12`` on monthly data is the seasonal naive method with drift."""
    h = _history(y, period + 2)
    d = h[period:] - h[:-period]
    mu, sd = d.mean(), d.std(ddof=1)
    rng = np.random.default_rng(seed)
    drift = mu + sd / np.sqrt(len(d)) * rng.standard_normal((samples, 1))
    eps = sd * rng.standard_normal((samples, horizon))
    path = np.concatenate([np.broadcast_to(h[-period:], (samples, period)),
                           np.empty((samples, horizon))], axis=1)
    for t in range(horizon):
        path[:, period + t] = path[:, t] + drift[:, 0] + eps[:, t]
    return path[:, period:]


def _month_dummies(start_month: int, n: int) -> np.ndarray:
    """``(n, 11)`` dummies of months 2..12 for ``n`` consecutive months from ``start_month``
    (1-12); January is the reference."""
    m = (start_month - 1 + np.arange(n)) % 12
    return (m[:, None] == np.arange(1, 12)[None]).astype(float)


def _draw_coefficients(params: np.ndarray, cov: np.ndarray, samples: int,
                       rng: np.random.Generator) -> np.ndarray:
    """``(S, P)`` draws from ``N(params, cov)`` (the covariance's negative eigenvalues set
    to 0)."""
    w, v = np.linalg.eigh(0.5 * (cov + cov.T))
    root = v * np.sqrt(np.clip(w, 0.0, None))
    return params + rng.standard_normal((samples, len(params))) @ root.T


def ar1(y: np.ndarray, horizon: int, samples: int, seed: Seed, season_start: int | None = None
        ) -> np.ndarray:
    """AR(1) with intercept, ``(S, H)``: ``y_t = c + φ y_{t-1} [+ γ_month] + σ ε``.

    Fitted by OLS (``AutoReg(y, lags=1, trend="c")``); with ``season_start`` (the calendar
    month 1-12 of ``y[0]``) month-of-year dummies are added. Each path draws its coefficients
    from their OLS sampling distribution."""
    h = _history(y, 14 if season_start else 4)
    exog = None if season_start is None else _month_dummies(season_start, len(h))
    res = AutoReg(h, lags=1, trend="c", exog=exog).fit()
    rng = np.random.default_rng(seed)
    coef = _draw_coefficients(np.asarray(res.params), np.asarray(res.cov_params()), samples,
                              rng)
    sd = float(np.sqrt(res.sigma2))
    fut = (np.zeros((horizon, 0)) if season_start is None
           else _month_dummies((season_start - 1 + len(h)) % 12 + 1, horizon))
    out = np.empty((samples, horizon))
    prev = np.full(samples, h[-1])
    eps = sd * rng.standard_normal((samples, horizon))
    for t in range(horizon):
        prev = coef[:, 0] + coef[:, 1] * prev + coef[:, 2:] @ fut[t] + eps[:, t]
        out[:, t] = prev
    return out


def var(y: np.ndarray, horizon: int, samples: int, seed: Seed, lags: int = 2,
        season_start: int | None = None) -> np.ndarray:
    """VAR(``lags``) of ``k`` series, ``(S, H, k)``: ``y_t = c + Σ_i A_i y_{t-i} [+ B d_t]
    + u_t``, ``u_t ~ N(0, Σ_u)``.

    ``y``: ``(T, k)`` history. Fitted by OLS (``statsmodels.tsa.api.VAR``, ``trend="c"``; with
    ``season_start`` month-of-year dummies ``d_t`` as exogenous regressors). Innovations are
    drawn from the estimated residual covariance; coefficients are the point estimates."""
    h = np.asarray(y, dtype=float)
    if h.ndim != 2 or len(h) < 3 * lags + 14 or not np.all(np.isfinite(h)):
        raise ValueError(f"history of shape {h.shape}: expected (T, k) with enough finite rows")
    exog = None if season_start is None else _month_dummies(season_start, len(h))
    res = VAR(h, exog=exog).fit(lags, trend="c")
    k = h.shape[1]
    coefs = np.asarray(res.coefs)  # (p, k, k)
    const = np.asarray(res.params)[0]  # (k,) intercept row
    # rows of res.params: const, the exogenous columns, then lag 1 .. p of every series
    beta = (np.zeros((0, k)) if exog is None
            else np.asarray(res.params)[1:1 + exog.shape[1]])
    fut = (np.zeros((horizon, 0)) if season_start is None
           else _month_dummies((season_start - 1 + len(h)) % 12 + 1, horizon))
    rng = np.random.default_rng(seed)
    chol = np.linalg.cholesky(np.asarray(res.sigma_u) + 1e-12 * np.eye(k))
    u = rng.standard_normal((samples, horizon, k)) @ chol.T
    lagged = np.broadcast_to(h[-lags:][::-1], (samples, lags, k)).copy()  # lag 1 first
    out = np.empty((samples, horizon, k))
    for t in range(horizon):
        step = const + fut[t] @ beta + np.einsum("pij,spj->si", coefs, lagged) + u[:, t]
        out[:, t] = step
        lagged = np.concatenate([step[:, None], lagged[:, :-1]], axis=1)
    return out


__all__ = ["METHODS", "ar1", "rw_drift", "var"]
