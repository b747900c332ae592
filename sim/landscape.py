"""Landscape theory of aggregation (Axelrod & Bennett 1993, BJPS 23:211): pure numpy functions.

``N`` actors with sizes ``s_i`` and symmetric propensities ``p_ij`` (zero diagonal) split into two
sides. ``d_ij = 1`` if i and j are on different sides, else 0.

- Frustration ``F_i = Σ_j s_j p_ij d_ij``.
- Energy ``E = Σ_i s_i F_i = Σ_i Σ_{j≠i} s_i s_j p_ij d_ij`` (ordered pairs, as in SCIENCE.md §2).

An actor moves to the other side only if that lowers its own frustration; with symmetric ``p``
each such move lowers ``E`` by ``2 s_i (F_i - F_i')``, so ``E`` is a Lyapunov function and play
settles in a local minimum.

Sides are arrays of ±1 or of 0/1 (any value ``> 0`` is side +1, anything else side -1); the
functions return ±1 arrays. In the ±1 encoding ``d_ij = (1 - σ_i σ_j) / 2``, so with
``W_ij = s_j p_ij``: ``F_i = (T_i - σ_i (Wσ)_i) / 2`` with ``T_i = Σ_j W_ij``, and switching i
gives ``F_i' = T_i - F_i``; a configuration is a local minimum iff ``σ_i (Wσ)_i ≥ 0`` for all i.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

EXHAUSTIVE_MAX = 16
"""``blocs_from_relations`` enumerates all splits up to this many actors, else uses heuristics."""
RESTARTS_MAX = 200
"""Starts of the heuristic for small landscapes."""
HEURISTIC_WORK = 4_000_000
"""Work bound of the heuristic per landscape, in actor-pair evaluations per sweep summed over
starts: ``restarts = HEURISTIC_WORK // N²`` (at most ``RESTARTS_MAX``, at least
``RESTARTS_MIN``; 110 starts at N = 190). A bound on work, not on wall-clock time, so that the
split never depends on the machine's load."""
RESTARTS_MIN = 8
MAX_SWEEPS = 100
"""Sweeps of frustration-reducing play per start at most (each is N moves)."""


def _pm(sides: np.ndarray) -> np.ndarray:
    """±1 encoding of sides given as ±1 or 0/1."""
    return np.where(np.asarray(sides) > 0, 1.0, -1.0)


def _weights(sizes: np.ndarray, propensity: np.ndarray) -> np.ndarray:
    """``W_ij = s_j p_ij`` with the diagonal set to zero."""
    w = np.asarray(propensity, dtype=float) * np.asarray(sizes, dtype=float)[None, :]
    n = w.shape[-1]
    w[np.arange(n), np.arange(n)] = 0.0
    return w


def frustration(sizes: np.ndarray, propensity: np.ndarray, sides: np.ndarray) -> np.ndarray:
    """Frustration ``F_i = Σ_j s_j p_ij d_ij`` (Axelrod & Bennett 1993, eq. 1).

    ``sides`` is ``(..., N)``; returns ``(..., N)``.
    """
    sigma = _pm(sides)
    w = _weights(sizes, propensity)
    total = w.sum(axis=-1)
    return 0.5 * (total - sigma * (sigma @ w.T))


def energy(sizes: np.ndarray, propensity: np.ndarray, sides: np.ndarray) -> np.ndarray:
    """Energy ``E = Σ_i Σ_{j≠i} s_i s_j p_ij d_ij = Σ_i s_i F_i`` (Axelrod & Bennett 1993, eq. 2,
    summed over ordered pairs). ``sides`` is ``(..., N)``; returns ``(...)``."""
    return frustration(sizes, propensity, sides) @ np.asarray(sizes, dtype=float)


def descend(sizes: np.ndarray, propensity: np.ndarray, sides: np.ndarray,
            rng: np.random.Generator | None = None,
            max_sweeps: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Frustration-reducing play to a local minimum (Axelrod & Bennett 1993, §"Dynamics").

    Sweeps over the actors in random order; an actor switches side only if that strictly lowers
    its own frustration (``F_i' = T_i - F_i < F_i``). Stops after a sweep with no switch (a local
    minimum) or after ``max_sweeps`` sweeps. ``sides`` is one configuration ``(N,)``.

    Returns the final ±1 sides and the energy path: ``E`` of the start and after each switch.
    With symmetric propensities the path never rises.
    """
    rng = np.random.default_rng() if rng is None else rng
    sigma = _pm(sides).astype(float).copy()
    if sigma.ndim != 1:
        raise ValueError("descend takes one configuration of shape (N,)")
    s = np.asarray(sizes, dtype=float)
    w = _weights(s, propensity)
    field = w @ sigma  # (Wσ)_i
    path = [float(energy(s, propensity, sigma))]
    n = sigma.size
    scale = np.abs(w).sum() + 1.0
    for _ in range(max_sweeps):
        moved = False
        for i in rng.permutation(n):
            # F_i - F_i' = -σ_i (Wσ)_i: switching helps iff σ_i (Wσ)_i < 0.
            gain = -sigma[i] * field[i]
            if gain > 1e-12 * scale:
                field -= 2.0 * sigma[i] * w[:, i]
                sigma[i] = -sigma[i]
                path.append(float(energy(s, propensity, sigma)))
                moved = True
        if not moved:
            break
    return sigma, np.array(path)


def _all_splits(n: int, start: int, stop: int) -> np.ndarray:
    """Splits ``start..stop-1`` of ``2^(n-1)`` as ±1 rows; actor 0 always on side +1."""
    codes = np.arange(start, stop, dtype=np.int64)
    bits = (codes[:, None] >> np.arange(n - 1, dtype=np.int64)[None, :]) & 1
    sigma = np.ones((codes.size, n))
    sigma[:, 1:] = 1.0 - 2.0 * bits
    return sigma


def local_minima_exhaustive(sizes: np.ndarray, propensity: np.ndarray,
                            chunk: int = 1 << 16) -> tuple[np.ndarray, np.ndarray]:
    """All local minima of the landscape by enumeration of the ``2^(N-1)`` splits (N ≤ 20).

    Actor 0 is fixed on side +1 (a split and its mirror image are the same configuration).
    A split is a local minimum iff no single actor can lower its own frustration by switching:
    ``σ_i (Wσ)_i ≥ 0`` for all i (see the module docstring). Axelrod & Bennett (1993) find the
    minima of Europe 1936 this way.

    Returns ``(sides, energies)``: ``(K, N)`` ±1 configurations and ``(K,)`` energies, sorted
    by energy, the global minimum first.
    """
    s = np.asarray(sizes, dtype=float)
    n = s.size
    if n > 20:
        raise ValueError(f"exhaustive enumeration is for N <= 20, not {n}")
    w = _weights(s, propensity)
    total = w.sum(axis=-1)
    tol = 1e-12 * (np.abs(w).sum() + 1.0)
    keep_sides, keep_e = [], []
    count = 1 << (n - 1)
    for start in range(0, count, chunk):
        sigma = _all_splits(n, start, min(start + chunk, count))
        field = sigma @ w.T
        stable = np.all(sigma * field >= -tol, axis=1)
        sig = sigma[stable]
        keep_sides.append(sig)
        keep_e.append(0.5 * (total[None, :] - sig * field[stable]) @ s)
    sides = np.concatenate(keep_sides)
    energies = np.concatenate(keep_e)
    order = np.argsort(energies, kind="stable")
    return sides[order], energies[order]


def descend_many(sizes: np.ndarray, propensity: np.ndarray, starts: np.ndarray,
                 rng: np.random.Generator, max_sweeps: int = MAX_SWEEPS
                 ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`descend` from many starts ``(K, N)`` at once: each sweep visits the actors in
    one random order, and every start whose actor can lower its frustration switches it.
    Stops after a sweep with no switch or ``max_sweeps`` sweeps. Returns the ±1 sides
    ``(K, N)`` and their energies ``(K,)``."""
    s = np.asarray(sizes, dtype=float)
    sigma = _pm(starts).astype(float).copy()
    w = _weights(s, propensity)
    field = sigma @ w.T  # (K, N): (Wσ)_i per start
    tol = 1e-12 * (np.abs(w).sum() + 1.0)
    for _ in range(max_sweeps):
        moved = False
        for i in rng.permutation(s.size):
            flip = -sigma[:, i] * field[:, i] > tol
            if flip.any():
                field[flip] -= 2.0 * sigma[flip, i][:, None] * w[:, i][None, :]
                sigma[flip, i] = -sigma[flip, i]
                moved = True
        if not moved:
            break
    energies = 0.5 * (w.sum(axis=-1)[None, :] - sigma * field) @ s
    return sigma, energies


def heuristic_minimum(sizes: np.ndarray, propensity: np.ndarray, restarts: int,
                      rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Best local minimum over ``restarts`` starts, each played down by frustration-reducing
    moves (:func:`descend_many`). The first start is the split along the leading eigenvector
    of ``s_i s_j p_ij`` (the spectral relaxation of the energy), the others are random.

    A heuristic for large N (no guarantee of the global minimum). Returns ±1 sides oriented so
    that actor 0 is on side +1, and their energy (the first of equal energies).
    """
    s = np.asarray(sizes, dtype=float)
    n = s.size
    p = np.asarray(propensity, dtype=float)
    sym = 0.5 * (p + p.T) * s[:, None] * s[None, :]
    spectral = np.where(np.linalg.eigh(sym)[1][:, -1] >= 0, 1.0, -1.0)
    starts = np.vstack([spectral[None, :],
                        rng.choice(np.array([-1.0, 1.0]), size=(max(1, restarts) - 1, n))])
    sides, energies = descend_many(s, p, starts, rng)
    k = int(np.argmin(energies))
    return sides[k] * sides[k, 0], float(energies[k])


def heuristic_restarts(n: int) -> int:
    """Starts of the heuristic for ``n`` actors under the work bound ``HEURISTIC_WORK``."""
    return int(min(RESTARTS_MAX, max(RESTARTS_MIN, HEURISTIC_WORK // (n * n))))


def load_fixture(folder: str | Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Read a landscape fixture: ``actors.csv`` (id, actor, strength) and
    ``propensity_1to5.csv`` (square table on a 1-5 scale, blank diagonal).

    Returns names, sizes ``(N,)`` and propensities ``p - 3`` ``(N, N)``, symmetric with a zero
    diagonal (the convention of A. Furnas' Syria-2016 landscape, SCIENCE.md §2).
    """
    folder = Path(folder)
    with open(folder / "actors.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    names = [r["actor"].strip() for r in rows]
    sizes = np.array([float(r["strength"]) for r in rows])
    with open(folder / "propensity_1to5.csv", newline="") as fh:
        table = [r for r in csv.reader(fh) if r]
    n = len(names)
    body = [r[1:] for r in table[1:]]
    if len(body) != n or any(len(r) != n for r in body):
        raise ValueError(f"propensity table is not {n}x{n}")
    p = np.array([[float(v) - 3.0 if v.strip() else 0.0 for v in r] for r in body])
    p[np.arange(n), np.arange(n)] = 0.0
    if not np.allclose(p, p.T):
        raise ValueError("propensities are not symmetric")
    return names, sizes, p


def blocs_from_relations(x: np.ndarray, sizes: np.ndarray,
                         rng: np.random.Generator | None = None,
                         restarts: int | None = None) -> np.ndarray:
    """The two blocs a model state favours: the global-minimum landscape split with the dyads'
    mean relations ``x̄_ij = (x_ij + x_ji)/2`` as propensities and capabilities as sizes.

    For ``N ≤ EXHAUSTIVE_MAX`` every split's energy is computed for all states at once,
    ``E = ½ Σ_ij W_ij (1 - σ_i σ_j)`` with ``W_ij = s_i s_j p_ij`` (2^(N-1) splits: exponential
    in N); above, per state with :func:`heuristic_minimum` under a work bound
    (``restarts`` defaults to :func:`heuristic_restarts`). Every state starts from the same
    random stream (drawn once from ``rng``, default seed 0), so a state's split does not
    depend on the other states in ``x``. ``x`` is ``(..., N, N)``; returns ``(..., N)`` ±1
    sides with actor 0 on side +1.
    """
    x = np.asarray(x, dtype=float)
    n = x.shape[-1]
    flat = x.reshape(-1, n, n)
    p = 0.5 * (flat + np.swapaxes(flat, -1, -2))
    p[:, np.arange(n), np.arange(n)] = 0.0
    sizes = np.asarray(sizes, dtype=float)
    if n <= EXHAUSTIVE_MAX:
        sigma = _all_splits(n, 0, 2 ** (n - 1))
        out = np.empty((len(flat), n))
        for lo in range(0, len(flat), 256):  # bounded memory: 256 states x 2^(N-1) splits
            w = sizes[:, None] * sizes[None, :] * p[lo:lo + 256]
            e = 0.5 * (w.sum(axis=(-1, -2))[:, None]
                       - np.einsum("ci,rij,cj->rc", sigma, w, sigma, optimize=True))
            out[lo:lo + 256] = sigma[e.argmin(axis=1)]
    else:
        seed = 0 if rng is None else int(rng.integers(2**63))
        k = heuristic_restarts(n) if restarts is None else restarts
        with threadpool_limits(1, user_api="blas"):  # small products: threads only contend
            out = np.stack([heuristic_minimum(sizes, pr, k, np.random.default_rng(seed))[0]
                            for pr in p])
    return out.reshape(*x.shape[:-2], n)
