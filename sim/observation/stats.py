"""Pure likelihood and sampling functions shared by the channels (all vectorised over a leading
run axis ``R``; parameters broadcast, so scalars or ``(R, 1)`` columns both work).

- Beta-binomial with mean ``p`` and intra-class correlation ``rho`` (``rho = 0``: binomial):
  ``alpha = p (1 - rho) / rho``, ``beta = (1 - p)(1 - rho) / rho``; the variance of the count is
  ``n p (1 - p) (1 + (n - 1) rho)``.
- Gaussian AR(1) residuals with *marginal* sd ``sigma`` and lag-one correlation ``phi`` per
  series, gaps handled exactly: over a gap of ``h`` steps the correlation is ``phi**h`` and the
  conditional variance ``sigma² (1 - phi**(2h))``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import numpy as np
from scipy import special

RHO_MIN = 1e-8
"""Below this intra-class correlation the beta-binomial is computed as the binomial."""


def logistic(u: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-u))``."""
    return special.expit(u)


def betabinom_logpmf(k: np.ndarray, n: np.ndarray, p: np.ndarray,
                     rho: np.ndarray | float) -> np.ndarray:
    """``log P(k | n, p, rho)`` of the beta-binomial (binomial where ``rho < RHO_MIN``),
    broadcast over all arguments. ``p`` is clipped to ``[1e-12, 1 - 1e-12]``."""
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    p = np.clip(np.asarray(p, dtype=float), 1e-12, 1 - 1e-12)
    rho = np.asarray(rho, dtype=float)
    comb = special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)
    binom = comb + k * np.log(p) + (n - k) * np.log1p(-p)
    r = np.clip(rho, RHO_MIN, 1 - 1e-9)
    a, b = p * (1 - r) / r, (1 - p) * (1 - r) / r
    bb = comb + special.betaln(k + a, n - k + b) - special.betaln(a, b)
    return np.where(rho < RHO_MIN, binom, bb)


def betabinom_draw(n: np.ndarray, p: np.ndarray, rho: np.ndarray | float,
                   rng: np.random.Generator) -> np.ndarray:
    """Counts drawn from the beta-binomial (binomial where ``rho < RHO_MIN``), shape of the
    broadcast of ``n`` and ``p``."""
    p = np.clip(np.asarray(p, dtype=float), 1e-12, 1 - 1e-12)
    rho = np.broadcast_to(np.asarray(rho, dtype=float), p.shape)
    r = np.clip(rho, RHO_MIN, 1 - 1e-9)
    q = np.where(rho < RHO_MIN, p, rng.beta(p * (1 - r) / r, (1 - p) * (1 - r) / r))
    return rng.binomial(np.broadcast_to(np.asarray(n, dtype=np.int64), p.shape), q)


def _segments(groups: np.ndarray, times: np.ndarray) -> list[np.ndarray]:
    """Index arrays of each group's rows in time order."""
    return [np.flatnonzero(groups == g)[np.argsort(times[groups == g], kind="stable")]
            for g in dict.fromkeys(groups.tolist())]


def ar1_loglik(resid: np.ndarray, groups: np.ndarray, times: np.ndarray,
               sigma: np.ndarray | float, phi: np.ndarray | float) -> np.ndarray:
    """Exact Gaussian AR(1) log-likelihood of residuals ``resid (R, K)``: one independent series
    per value of ``groups (K,)``, ordered by ``times (K,)`` (integer steps). ``sigma``/``phi``:
    scalars or ``(R, 1)``. Returns ``(R,)``."""
    resid = np.asarray(resid, dtype=float)
    sigma = np.broadcast_to(np.asarray(sigma, dtype=float), (resid.shape[0], 1))
    phi = np.broadcast_to(np.asarray(phi, dtype=float), (resid.shape[0], 1))
    times = np.asarray(times)
    mean, var = np.zeros_like(resid), np.broadcast_to(sigma**2, resid.shape).copy()
    for idx in _segments(np.asarray(groups), times):
        gap = np.diff(times[idx]).astype(float)
        if not len(gap):
            continue
        c = phi ** gap[None, :]
        mean[:, idx[1:]] = c * resid[:, idx[:-1]]
        var[:, idx[1:]] = sigma**2 * (1 - c**2)
    var = np.maximum(var, 1e-300)
    return (-0.5 * (np.log(2 * np.pi * var) + (resid - mean) ** 2 / var)).sum(axis=1)


def ar1_draw(shape: tuple[int, int], groups: np.ndarray, times: np.ndarray,
             sigma: np.ndarray | float, phi: np.ndarray | float,
             rng: np.random.Generator,
             prev: Mapping[object, tuple[int, np.ndarray]] | None = None) -> np.ndarray:
    """AR(1) residuals ``(R, K)`` with the law of :func:`ar1_loglik`.

    ``prev``: for a group, ``(time, resid (R,))`` of its last known residual before its first
    row (e.g. at a forecast origin): that row is then drawn from the conditional law
    ``N(φ^h e, σ² (1 - φ^{2h}))``, ``h`` its distance from ``time``, instead of the marginal
    ``N(0, σ²)``. Raises ValueError if ``time`` is not before the group's first row."""
    r, _ = shape
    sigma = np.broadcast_to(np.asarray(sigma, dtype=float), (r, 1))[:, 0]
    phi = np.broadcast_to(np.asarray(phi, dtype=float), (r, 1))[:, 0]
    eps = rng.standard_normal(shape)
    out = np.zeros(shape)
    times = np.asarray(times)
    groups = np.asarray(groups)
    for idx in _segments(groups, times):
        g = groups[idx[0]]
        known = None if prev is None else prev.get(g.item() if hasattr(g, "item") else g)
        if known is not None:
            t0, e0 = known
            if not times[idx[0]] > t0:
                raise ValueError(f"ar1_draw: known residual at {t0} is not before the first "
                                 f"row at {times[idx[0]]}")
            c = phi ** float(times[idx[0]] - t0)
            out[:, idx[0]] = (c * np.broadcast_to(np.asarray(e0, dtype=float), (r,))
                              + sigma * np.sqrt(1 - c**2) * eps[:, idx[0]])
        else:
            out[:, idx[0]] = sigma * eps[:, idx[0]]
        for before, cur in itertools.pairwise(idx):
            c = phi ** float(times[cur] - times[before])
            out[:, cur] = c * out[:, before] + sigma * np.sqrt(1 - c**2) * eps[:, cur]
    return out


def hermite_nodes(n: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """Nodes ``u`` and log-weights for ``E[f(U)]``, ``U ~ N(0, 1)`` (Gauss-Hermite, probabilists'
    form): ``E f(U) ≈ Σ exp(logw) f(u)``."""
    u, w = np.polynomial.hermite_e.hermegauss(n)
    return u, np.log(w / np.sqrt(2 * np.pi))


__all__ = ["RHO_MIN", "ar1_draw", "ar1_loglik", "betabinom_draw", "betabinom_logpmf",
           "hermite_nodes", "logistic"]
