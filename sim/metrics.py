"""Outcomes computed every month, as pure functions over the run axis.

- Dittmer's strategic triangle (1981, World Politics 33:485) for three states.
- Share of balanced triads (Heider; Cartwright & Harary 1956).
- Two blocs: the sign pattern of the leading eigenvector (Marvel et al. 2011, PNAS 108:1771).
"""

from __future__ import annotations

import numpy as np

from sim.kernels import symmetric

BAND_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
"""Quantiles over runs that figures draw: 90% band, 50% band and the median."""

DITTMER = ("menage_a_trois", "stable_marriage", "romantic_triangle", "unit_veto")
"""Pattern names by code: 3, 1, 2 and 0 friendly dyads of the three."""


def dittmer(x: np.ndarray, i: int, j: int, k: int) -> np.ndarray:
    """Dittmer pattern code of triad (i, j, k) from the signs of the mean dyad relations.

    0 ménage à trois (+,+,+), 1 stable marriage (one +), 2 romantic triangle (two +),
    3 unit veto (-,-,-). ``x`` is ``(..., N, N)``; returns ``(...)`` ints.
    """
    s = symmetric(x)
    pos = (s[..., i, j] > 0).astype(int) + (s[..., j, k] > 0) + (s[..., k, i] > 0)
    return np.choose(pos, [3, 1, 2, 0])


def balanced_share(x: np.ndarray) -> np.ndarray:
    """Share of triads with ``x̄_ij x̄_jk x̄_ki > 0``, from ``trace(S³) = 6 Σ_triads s_ij s_jk s_ki``
    with ``S = sign(x̄)`` (zero diagonal). Ties at exactly 0 count as unbalanced."""
    n = x.shape[-1]
    triads = n * (n - 1) * (n - 2) / 6
    s = np.sign(symmetric(x))
    s[..., np.arange(n), np.arange(n)] = 0.0
    s2 = s @ s
    trace = np.einsum("...ij,...ji->...", s2, s)
    zero = (s == 0).sum(axis=(-1, -2)) - n
    if np.any(zero):  # slow exact path when some dyad is exactly neutral
        return _balanced_exact(s)
    return (triads + trace / 6.0) / (2.0 * triads)


def _balanced_exact(s: np.ndarray) -> np.ndarray:
    n = s.shape[-1]
    i, j, k = np.array([(a, b, c) for a in range(n) for b in range(a + 1, n)
                        for c in range(b + 1, n)]).T
    prod = s[..., i, j] * s[..., j, k] * s[..., k, i]
    return (prod > 0).mean(axis=-1)


def blocs(x: np.ndarray, anchor: int = 0) -> np.ndarray:
    """Two blocs: ``sign(u1)`` of the leading eigenvector of ``x̄``, oriented so that state
    ``anchor`` is in bloc +1. Returns ``(..., N)`` of ±1."""
    _, vecs = np.linalg.eigh(symmetric(x))
    u1 = vecs[..., :, -1]
    side = np.where(u1 >= 0, 1, -1)
    flip = np.where(side[..., anchor:anchor + 1] < 0, -1, 1)
    return side * flip
