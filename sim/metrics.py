"""Outcomes computed every month, as pure functions over the run axis.

- Dittmer's strategic triangle (1981, World Politics 33:485) for three states.
- Share of balanced triads (Heider 1946; Cartwright & Harary 1956), over closed triads.
- Frustration index of the signed graph (Harary 1959's line index of balance; Aref & Wilson
  2018, J. Complex Networks 6:566; Facchetti, Iacono & Altafini 2011, PNAS 108:20953).
- Two blocs: the sign pattern of the leading eigenvector (Marvel et al. 2011, PNAS 108:1771).

The signed graph of a state is ``S = sign(x̄)`` with ``x̄ = (x + xᵀ)/2`` and a zero diagonal: a
dyad with ``x̄_ij > 0`` is a positive tie, ``< 0`` a negative one, and ``x̄_ij = 0`` exactly is
no tie at all (not a negative one).
"""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

from sim.kernels import symmetric

BAND_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
"""Quantiles over runs that figures draw: 90% band, 50% band and the median."""

DITTMER = ("menage_a_trois", "stable_marriage", "romantic_triangle", "unit_veto")
"""Pattern names by code: 3, 1, 2 and 0 friendly dyads of the three."""

PATTERN_NAMES = {"menage_a_trois": "ménage à trois", "stable_marriage": "stable marriage",
                 "romantic_triangle": "romantic triangle", "unit_veto": "unit veto"}
"""Dittmer's names of the patterns, as figures and tables write them."""


def constant_pattern(codes: np.ndarray) -> str | None:
    """The Dittmer pattern (a :data:`DITTMER` name) of every entry of ``codes`` (pattern codes,
    any shape, e.g. runs × months), or None if there are several."""
    found = np.unique(codes)
    return DITTMER[int(found[0])] if found.size == 1 else None

FRUSTRATION_EXACT_MAX = 12
""":func:`frustration` enumerates all ``2^(N-1)`` splits up to this many states (exact); above,
it returns the best split two local searches find (an upper bound)."""
FRUSTRATION_WORK = 4_000_000
"""Floats of the largest intermediate array of the exact enumeration (bounded memory)."""


def dittmer(x: np.ndarray, i: int, j: int, k: int) -> np.ndarray:
    """Dittmer pattern code of triad (i, j, k) from the signs of the mean dyad relations.

    0 ménage à trois (+,+,+), 1 stable marriage (one +), 2 romantic triangle (two +),
    3 unit veto (-,-,-). ``x`` is ``(..., N, N)``; returns ``(...)`` ints.
    """
    s = symmetric(x)
    pos = (s[..., i, j] > 0).astype(int) + (s[..., j, k] > 0) + (s[..., k, i] > 0)
    return np.choose(pos, [3, 1, 2, 0])


def signed_graph(x: np.ndarray) -> np.ndarray:
    """``S = sign(x̄)`` with a zero diagonal, ``(..., N, N)`` floats in {-1, 0, 1}."""
    n = x.shape[-1]
    s = np.sign(symmetric(x))
    s[..., np.arange(n), np.arange(n)] = 0.0
    return s


def _trace3(a: np.ndarray) -> np.ndarray:
    return np.einsum("...ij,...ji->...", a @ a, a)


def balanced_share(x: np.ndarray) -> np.ndarray:
    """Share of balanced triads among the closed ones (all three ties non-zero), as the
    literature counts them; NaN where no triad is closed (also for N < 3).

    With ``S = sign(x̄)`` and ``A = |S|``: ``tr(S³) = 6 (B − U)`` and ``tr(A³) = 6 (B + U)`` for
    ``B`` balanced and ``U`` unbalanced closed triads (an open triad contributes 0 to both), so
    the share is ``(tr A³ + tr S³) / (2 tr A³)``. ``x`` is ``(..., N, N)``; returns ``(...)``.
    """
    s = signed_graph(x)
    signed, closed = _trace3(s), _trace3(np.abs(s))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(closed > 0, (closed + signed) / (2.0 * closed), np.nan)


def _balanced_exact(s: np.ndarray) -> np.ndarray:
    """:func:`balanced_share` by enumerating the triads of a signed graph ``s`` (tests)."""
    n = s.shape[-1]
    i, j, k = np.array([(a, b, c) for a in range(n) for b in range(a + 1, n)
                        for c in range(b + 1, n)]).T
    prod = s[..., i, j] * s[..., j, k] * s[..., k, i]
    closed = (prod != 0).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(closed > 0, (prod > 0).sum(axis=-1) / closed, np.nan)


def _splits(n: int) -> np.ndarray:
    """All ``2^(n-1)`` two-sided splits as ±1 rows, state 0 always on side +1."""
    codes = np.arange(1 << (n - 1), dtype=np.int64)
    sigma = np.ones((codes.size, n))
    sigma[:, 1:] = 1.0 - 2.0 * ((codes[:, None] >> np.arange(n - 1)) & 1)
    return sigma


def _best_agreement_exact(s: np.ndarray) -> np.ndarray:
    """``max_σ σᵀSσ`` over every split, per graph of ``s`` ``(P, N, N)``."""
    n = s.shape[-1]
    sigma = _splits(n)
    step = max(1, FRUSTRATION_WORK // (sigma.shape[0] * n))
    out = np.empty(len(s))
    for lo in range(0, len(s), step):
        field = np.einsum("ci,pij->pcj", sigma, s[lo:lo + step])
        out[lo:lo + step] = np.einsum("pcj,cj->pc", field, sigma).max(axis=1)
    return out


def _best_agreement_search(s: np.ndarray, max_sweeps: int = 100) -> np.ndarray:
    """A lower bound on ``max_σ σᵀSσ`` per graph of ``s`` ``(P, N, N)``: the better of two
    local searches, from the split along the leading eigenvector of ``S`` and from the split
    by state 0's ties; each flips, state by state in index order, any state whose flip raises
    ``σᵀSσ`` (``σ_i (Sσ)_i < 0``) until no flip helps. Deterministic."""
    n = s.shape[-1]
    best = np.full(len(s), -np.inf)
    starts = [np.where(np.linalg.eigh(s)[1][..., -1] >= 0, 1.0, -1.0),
              np.where(s[:, 0, :] >= 0, 1.0, -1.0)]
    for sigma in starts:
        field = np.einsum("pij,pj->pi", s, sigma)
        for _ in range(max_sweeps):
            moved = False
            for i in range(n):
                flip = sigma[:, i] * field[:, i] < 0
                if flip.any():
                    field[flip] -= 2.0 * sigma[flip, i][:, None] * s[flip, :, i]
                    sigma[flip, i] = -sigma[flip, i]
                    moved = True
            if not moved:
                break
        best = np.maximum(best, np.einsum("pi,pi->p", sigma, field))
    return best


def frustration(x: np.ndarray) -> np.ndarray:
    """Frustration index ``L`` of the signed graph ``S = sign(x̄)``: the fewest ties whose sign
    must flip (equivalently, be removed) for the graph to be balanced (Harary's line index of
    balance; Aref & Wilson 2018). Zero ties are no edge. ``x`` is ``(..., N, N)``; returns
    ``(...)`` floats (whole numbers).

    ``L = min_σ #{frustrated ties}`` over two-sided splits ``σ ∈ {±1}^N`` (a positive tie
    across the sides or a negative tie within one is frustrated), so ``L = (m − max_σ σᵀSσ/2)
    / 2`` with ``m`` the number of ties. For ``N ≤ FRUSTRATION_EXACT_MAX`` every split is
    enumerated (exact); above, the best of two deterministic local searches is used
    (:func:`_best_agreement_search`), an upper bound on ``L`` — Facchetti, Iacono & Altafini
    (2011) likewise minimise this energy heuristically for large networks; an exact value
    needs integer programming (Aref & Wilson). Each distinct sign pattern is solved once.
    """
    s = signed_graph(np.asarray(x, dtype=float))
    n = s.shape[-1]
    flat = s.reshape(-1, n, n)
    if flat.shape[0] == 0 or n < 3:
        return np.zeros(s.shape[:-2])
    iu = np.triu_indices(n, 1)
    patterns, inverse = np.unique(flat[:, iu[0], iu[1]].astype(np.int8), axis=0,
                                  return_inverse=True)
    graphs = np.zeros((len(patterns), n, n))
    graphs[:, iu[0], iu[1]] = patterns
    graphs += np.swapaxes(graphs, -1, -2)
    with threadpool_limits(1, user_api="blas"):  # small products: threads only contend
        best = (_best_agreement_exact(graphs) if n <= FRUSTRATION_EXACT_MAX
                else _best_agreement_search(graphs))
    ties = np.abs(patterns).sum(axis=1)
    index = np.rint((ties - best / 2.0) / 2.0)
    return index[np.ravel(inverse)].reshape(s.shape[:-2])


def frustration_normalized(x: np.ndarray) -> np.ndarray:
    """Normalised frustration ``F = 1 − L / (m/2)`` (Aref & Wilson 2018), in [0, 1] because
    ``L ≤ m/2`` for any signed graph: 1 when the graph is balanced, lower the more ties are
    frustrated. NaN where there is no tie. ``x`` is ``(..., N, N)``; returns ``(...)``."""
    s = signed_graph(np.asarray(x, dtype=float))
    ties = np.abs(s).sum(axis=(-1, -2)) / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ties > 0, 1.0 - 2.0 * frustration(x) / ties, np.nan)


def blocs(x: np.ndarray, anchor: int = 0) -> np.ndarray:
    """Two blocs: ``sign(u1)`` of the leading eigenvector of ``x̄``, oriented so that state
    ``anchor`` is in bloc +1. Returns ``(..., N)`` of ±1."""
    _, vecs = np.linalg.eigh(symmetric(x))
    u1 = vecs[..., :, -1]
    side = np.where(u1 >= 0, 1, -1)
    flip = np.where(side[..., anchor:anchor + 1] < 0, -1, 1)
    return side * flip
