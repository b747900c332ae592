"""Discrete triad dynamics of Antal, Krapivsky & Redner (2005, Phys. Rev. E 72:036121).

Links of a complete graph are friendly (+1) or unfriendly (-1); ``s`` is ``(R, N, N)``
symmetric with a zero diagonal, one graph per run. A triad is imbalanced if the product of its
three links is negative: type Δ1 (one unfriendly link) or Δ3 (three unfriendly links).

Local triad dynamics (LTD), one update: pick an imbalanced triad uniformly at random;

- Δ1: with probability ``p`` its unfriendly link becomes friendly (→ Δ0), otherwise one of its
  two friendly links, chosen at random, becomes unfriendly (→ Δ2);
- Δ3: one of its links, chosen at random, becomes friendly (→ Δ2).

For ``p < 1/2`` an infinite network reaches a stationary friendly-link density
``ρ∞ = 1 / (√(3(1 - 2p)) + 1)`` (AKR 2005, eq. 8); a finite one stays there for a time that
grows exponentially with N before it falls into a balanced state.
"""

from __future__ import annotations

import numpy as np


def random_links(n: int, runs: int, rho0: float, rng: np.random.Generator) -> np.ndarray:
    """``runs`` complete graphs on ``n`` nodes, each link friendly with probability ``rho0``.

    Returns ``(runs, n, n)`` int8, symmetric, zero diagonal.
    """
    up = np.where(rng.random((runs, n, n)) < rho0, 1, -1).astype(np.int8)
    s = np.triu(up, 1)
    return s + np.swapaxes(s, -1, -2)


def friendly_density(s: np.ndarray) -> np.ndarray:
    """Share of friendly links ``ρ`` of each graph: ``(R, N, N) -> (R,)``."""
    n = s.shape[-1]
    pos = (s > 0).sum(axis=(-1, -2)) / 2.0
    return pos / (n * (n - 1) / 2.0)


def _random_triads(runs: int, n: int,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One uniformly random triad of distinct nodes ``(i, j, k)`` per run."""
    i = rng.integers(n, size=runs)
    j = rng.integers(n - 1, size=runs)
    j += j >= i
    k = rng.integers(n - 2, size=runs)
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    k += k >= lo
    k += k >= hi
    return i, j, k


def akr_step(s: np.ndarray, p: float, rng: np.random.Generator,
             inplace: bool = False) -> np.ndarray:
    """One attempt of local triad dynamics (AKR 2005) in every run.

    Each run draws a triad uniformly; if it is balanced nothing happens (rejection sampling, so
    the successful updates pick imbalanced triads uniformly, as LTD requires). An imbalanced one
    is updated by the LTD rule in the module docstring. ``s`` is ``(R, N, N)`` ±1 symmetric;
    returns the new state (a copy unless ``inplace``).
    """
    out = s if inplace else s.copy()
    runs, n = out.shape[0], out.shape[-1]
    r = np.arange(runs)
    i, j, k = _random_triads(runs, n, rng)
    ends = np.stack([np.stack([i, j, k], axis=1), np.stack([j, k, i], axis=1)])  # (2, R, 3)
    links = out[r[:, None], ends[0], ends[1]]  # (R, 3): links ij, jk, ki
    neg = (links < 0).sum(axis=1)
    u = rng.random(runs)
    pick = rng.integers(3, size=runs)  # Δ3: any link
    other = rng.integers(2, size=runs)
    negidx = np.argmin(links, axis=1)  # Δ1: the unfriendly link
    idx = np.where(neg == 3, pick, np.where(u < p, negidx, (negidx + 1 + other) % 3))
    active = (neg == 1) | (neg == 3)
    ra = r[active]
    a = ends[0][active, idx[active]]
    b = ends[1][active, idx[active]]
    out[ra, a, b] = -out[ra, a, b]
    out[ra, b, a] = out[ra, a, b]
    return out


def akr_run(n: int, p: float, runs: int, steps: int, burn: int, rng: np.random.Generator,
            rho0: float = 0.5, every: int = 50) -> np.ndarray:
    """Local triad dynamics for ``steps`` attempts per run from random graphs with density
    ``rho0``; returns the friendly density sampled every ``every`` attempts after ``burn``
    attempts, ``(samples, runs)``."""
    s = random_links(n, runs, rho0, rng)
    samples = []
    for t in range(steps):
        akr_step(s, p, rng, inplace=True)
        if t >= burn and (t - burn) % every == 0:
            samples.append(friendly_density(s))
    return np.array(samples)
