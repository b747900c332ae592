"""Theory reproductions of SCIENCE.md §7 with the project's own kernels in pure modes.

Relation dynamics go through ``sim.kernels.balance_drift`` (``form="x2"`` or ``"xxt"``,
``r=None`` or ``r=1``, ``normalize=False``); discrete triad dynamics through ``sim.triads``;
coalitions through ``sim.landscape``. Every test checks a published number or property.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from sim.kernels import balance_drift, saturation
from sim.landscape import (
    blocs_from_relations,
    descend,
    energy,
    frustration,
    heuristic_minimum,
    load_fixture,
    local_minima_exhaustive,
)
from sim.metrics import balanced_share, blocs
from sim.resources import data_dir
from sim.triads import akr_run

SYRIA = data_dir() / "landscape_syria_2016"


# ----------------------------------------------------------------------------- helpers


@pytest.fixture(autouse=True)
def one_blas_thread():
    """One BLAS thread: these are many small products, and threads fight over 2 busy cores."""
    with threadpool_limits(1, user_api="blas"):
        yield


def rk4_step(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
             h: float | np.ndarray) -> np.ndarray:
    """One classical Runge–Kutta step of ``dx/dt = f(x)`` (``h`` scalar or broadcastable)."""
    k1 = f(x)
    k2 = f(x + 0.5 * h * k1)
    k3 = f(x + 0.5 * h * k2)
    k4 = f(x + h * k3)
    return x + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def integrate_blowup(f: Callable[[np.ndarray], np.ndarray], x0: np.ndarray, dt: float,
                     limit: float, t_max: float = np.inf,
                     max_steps: int = 200_000) -> tuple[np.ndarray, np.ndarray]:
    """RK4 for ``dx/dt = f(x)`` over a batch ``(R, N, N)`` with a step per run of
    ``h = dt / max(1, ‖x‖_∞)`` (``‖·‖_∞`` = max row sum of ``|x|``, which bounds the spectral
    radius), so steps shrink like ``t* - t`` near a blow-up and ``h λ ≤ dt`` throughout.

    A run stops when ``max |x_ij| > limit`` or at ``t_max``. Returns the stopping times
    ``(R,)`` and the states there ``(R, N, N)``.
    """
    x = np.array(x0, dtype=float)
    t = np.zeros(x.shape[0])
    done = np.zeros(x.shape[0], dtype=bool)
    for _ in range(max_steps):
        done |= (np.abs(x).max(axis=(-1, -2)) > limit) | (t >= t_max)
        if done.all():
            return t, x
        norm = np.abs(x).sum(axis=-1).max(axis=-1)
        h = np.where(done, 0.0, np.minimum(dt / np.maximum(norm, 1.0), t_max - t))
        x = rk4_step(f, x, h[:, None, None])
        t = t + h
    raise RuntimeError("integrate_blowup: max_steps reached")


def x2_pure(x: np.ndarray) -> np.ndarray:
    """Marvel et al. (2011): ``dX/dt = X²`` (kernel in pure mode)."""
    return balance_drift(x, 1.0, r=None, form="x2", normalize=False)


def xxt_pure(x: np.ndarray) -> np.ndarray:
    """Traag et al. (2013): ``dX/dt = X Xᵀ`` (kernel in pure mode)."""
    return balance_drift(x, 1.0, r=None, form="xxt", normalize=False)


def sym_normal(rng: np.random.Generator, runs: int, n: int, mu: float = 0.0) -> np.ndarray:
    """Symmetric ``(runs, n, n)`` with entries (diagonal included) ``N(μ, 1)``."""
    a = rng.normal(size=(runs, n, n))
    upper = np.triu(a, 1)
    return mu + upper + np.swapaxes(upper, -1, -2) + a * np.eye(n)


def balanced_signs(x: np.ndarray) -> np.ndarray:
    """Complete-graph balance test in O(N²): off-diagonal signs equal ``σ_i σ_j`` with
    ``σ = sign`` of row 0 (``σ_0 = +1``). Equivalent to all triads balanced (Cartwright &
    Harary 1956) when no link is exactly 0. ``x`` is ``(R, N, N)``; returns ``(R,)`` bools."""
    s = np.sign(x)
    n = x.shape[-1]
    sigma = s[:, 0, :].copy()
    sigma[:, 0] = 1.0
    ok = s == sigma[:, :, None] * sigma[:, None, :]
    ok[:, np.arange(n), np.arange(n)] = True
    return ok.all(axis=(-1, -2))


# ----------------------------------------------------------------------------- §7.1


def test_x2_blowup_time_and_factions() -> None:
    """§7.1 Marvel et al. (2011): ``X(t) = X0 (I - t X0)^-1``, blow-up at ``1/λ1``,
    factions = ``sign(u1)``."""
    rng = np.random.default_rng(11)
    runs, n = 6, 10
    x0 = sym_normal(rng, runs, n)
    lam, vec = np.linalg.eigh(x0)
    lam1, u1 = lam[:, -1], vec[:, :, -1]
    assert np.all(lam1 > 0)
    t_star = 1.0 / lam1

    # closed form at 0.9 t*
    t_check, x_check = integrate_blowup(x2_pure, x0, 0.02, np.inf, t_max=0.9 * t_star)
    closed = x0 @ np.linalg.inv(np.eye(n) - t_check[:, None, None] * x0)
    err = np.linalg.norm(x_check - closed, axis=(-1, -2)) / np.linalg.norm(closed, axis=(-1, -2))
    assert np.all(err < 1e-6), err

    # blow-up time: integrate until max |x| > 1e8 (then t* - t < 1e-8)
    t_end, x_end = integrate_blowup(x2_pure, x0, 0.02, 1e8)
    rel = np.abs(t_end - t_star) / t_star
    assert np.all(rel < 1e-3), rel

    # factions: sign pattern near blow-up is sign(u1 u1ᵀ); metrics.blocs reads it back
    side = np.where(u1 >= 0, 1, -1) * np.where(u1[:, :1] >= 0, 1, -1)
    assert np.array_equal(np.sign(x_end), side[:, :, None] * side[:, None, :])
    assert np.array_equal(blocs(x_end), side)
    assert np.all(balanced_share(x_end) == 1.0)


# ----------------------------------------------------------------------------- §7.2


def _harmony_closed_form(rng: np.random.Generator, runs: int, n: int, mu: float) -> np.ndarray:
    """Harmony near blow-up iff ``u1`` has one sign (sign pattern ``sign(u1 u1ᵀ)``)."""
    u1 = np.linalg.eigh(sym_normal(rng, runs, n, mu))[1][:, :, -1]
    return np.all(u1 > 0, axis=1) | np.all(u1 < 0, axis=1)


@pytest.mark.slow
def test_x2_harmony_threshold() -> None:
    """§7.2 Marvel et al. (2011), X0 ~ N(μ, 1), n = 200: P(harmony) ≈ 0 for μ√n ≤ 1,
    ≈ 1 for μ√n ≥ 4."""
    rng = np.random.default_rng(22)
    n, runs = 200, 40
    p = {m: _harmony_closed_form(rng, runs, n, m / np.sqrt(n)).mean() for m in (0.5, 1.0, 4.0, 6.0)}
    assert p[0.5] <= 0.05 and p[1.0] <= 0.05, p
    assert p[4.0] >= 0.9 and p[6.0] >= 0.95, p

    # the kernel's integration reproduces the closed-form sign pattern (one run each side)
    x0 = np.stack([sym_normal(rng, 1, n, m / np.sqrt(n))[0] for m in (1.0, 6.0)])
    u1 = np.linalg.eigh(x0)[1][:, :, -1]
    _, x_end = integrate_blowup(x2_pure, x0, 0.1, 1e8)
    predicted = np.sign(u1[:, :, None] * u1[:, None, :])
    assert np.array_equal(np.sign(x_end), predicted)
    harmony = np.all(x_end > 0, axis=(-1, -2))
    assert not harmony[0] and harmony[1]


# ----------------------------------------------------------------------------- §7.3


@pytest.mark.slow
def test_xxt_balances_asymmetric_starts() -> None:
    """§7.3 Traag, Van Dooren & De Leenheer (2013): from asymmetric X0, ``X Xᵀ`` reaches
    balance in ≥ 99% of runs, ``X²`` in far fewer."""
    rng = np.random.default_rng(33)
    runs, n = 200, 10
    x0 = rng.normal(size=(runs, n, n))
    _, x_xxt = integrate_blowup(xxt_pure, x0, 0.05, 1e8, t_max=50.0)
    _, x_x2 = integrate_blowup(x2_pure, x0, 0.05, 1e8, t_max=50.0)
    share_xxt = (balanced_share(x_xxt) == 1.0).mean()
    share_x2 = (balanced_share(x_x2) == 1.0).mean()
    assert share_xxt >= 0.99, share_xxt
    assert share_x2 <= 0.5 * share_xxt, (share_x2, share_xxt)
    # with X Xᵀ the directed relations are balanced too (the antisymmetric part stays fixed)
    assert balanced_signs(x_xxt).mean() >= 0.99


# ----------------------------------------------------------------------------- §7.4


def _kulakowski_drift(z: np.ndarray) -> np.ndarray:
    """Kułakowski et al. (2005) in ``z = artanh x``: ``dz/dt = Σ_k x_ik x_kj`` (zero diagonal).

    With ``x = tanh z``, ``dx/dt = (1 - x²) dz/dt = G(x) Σ_k x_ik x_kj`` (R = 1): the same model
    as ``balance_drift(x, 1, r=1, form="x2", normalize=False)`` without the floating-point
    freeze of links that reach exactly ±1.
    """
    d = balance_drift(np.tanh(z), 1.0, r=None, form="x2", normalize=False)
    n = z.shape[-1]
    d[..., np.arange(n), np.arange(n)] = 0.0
    return d


def _balance_times(n: int, runs: int, rng: np.random.Generator, t_max: float = 6.0,
                   enough: float = 0.55) -> np.ndarray:
    """First time each run is balanced (inf if not yet); stops once ``enough`` of the runs are."""
    a = np.triu(rng.uniform(-0.5, 0.5, size=(runs, n, n)), 1)
    z = np.arctanh(a + np.swapaxes(a, -1, -2))
    h = min(0.02, 0.5 / n)  # RK4 step: the drive is at most N
    times = np.full(runs, np.inf)
    t = 0.0
    while np.isfinite(times).mean() < enough and t < t_max:
        z = rk4_step(_kulakowski_drift, z, h)
        t += h
        times[np.isinf(times) & balanced_signs(z)] = t
    return times


def test_kulakowski_tanh_form_matches_kernel() -> None:
    """The ``z = artanh x`` integration is the saturated kernel (``r=1``) integrated in ``x``."""
    rng = np.random.default_rng(44)
    n, runs, h = 12, 4, 1e-3
    a = np.triu(rng.uniform(-0.5, 0.5, size=(runs, n, n)), 1)
    x = a + np.swapaxes(a, -1, -2)
    z = np.arctanh(x)

    def kernel(x: np.ndarray) -> np.ndarray:
        d = balance_drift(x, 1.0, r=1.0, form="x2", normalize=False)
        d[..., np.arange(n), np.arange(n)] = 0.0
        return d

    for _ in range(1500):
        x = rk4_step(kernel, x, h)
        z = rk4_step(_kulakowski_drift, z, h)
    assert np.abs(x).max() > 0.99  # well into saturation
    np.testing.assert_allclose(np.tanh(z), x, atol=1e-8)
    np.testing.assert_allclose(saturation(x, 1.0), 1.0 - np.tanh(z) ** 2, atol=1e-7)


@pytest.mark.slow
def test_kulakowski_balance_time_scaling() -> None:
    """§7.4 Kułakowski, Gawroński & Gronek (2005): time to balance ∝ N^(-1/2)
    (accept a log–log slope in -0.7..-0.4). Median over runs (the tail is long)."""
    rng = np.random.default_rng(45)
    sizes = np.array([8, 16, 32, 64])
    med = np.array([np.median(_balance_times(int(n), 300, rng)) for n in sizes])
    assert np.all(np.isfinite(med))
    slope = np.polyfit(np.log(sizes), np.log(med), 1)[0]
    assert -0.7 <= slope <= -0.4, (slope, med)


# ----------------------------------------------------------------------------- §7.5


@pytest.mark.slow
@pytest.mark.parametrize("p", [0.0, 0.2, 0.3, 0.4])
def test_akr_stationary_density(p: float) -> None:
    """§7.5 Antal, Krapivsky & Redner (2005), local triad dynamics: stationary friendly density
    ``ρ∞ = 1 / (√(3(1 - 2p)) + 1)`` within ±0.01 (N = 40, time and run average)."""
    rng = np.random.default_rng(int(55 + 100 * p))
    rho = akr_run(n=40, p=p, runs=40, steps=30_000, burn=8_000, rng=rng)
    theory = 1.0 / (np.sqrt(3.0 * (1.0 - 2.0 * p)) + 1.0)
    assert abs(rho.mean() - theory) < 0.01, (rho.mean(), theory)


# ----------------------------------------------------------------------------- §7.6


def test_landscape_energy_never_rises() -> None:
    """§7.6 Axelrod & Bennett (1993): with symmetric p, frustration-reducing switches never
    raise E, and play ends in a local minimum (no actor can lower its frustration)."""
    rng = np.random.default_rng(66)
    for _ in range(30):
        n = int(rng.integers(4, 15))
        p = rng.normal(size=(n, n))
        p = p + p.T
        np.fill_diagonal(p, 0.0)
        sizes = rng.uniform(0.5, 10.0, size=n)
        minima, energies = local_minima_exhaustive(sizes, p)
        assert np.all(np.diff(energies) >= 0)
        for _ in range(5):
            start = rng.integers(0, 2, size=n)
            sides, path = descend(sizes, p, start, rng)
            assert np.all(np.diff(path) < 0)
            assert np.isclose(path[0], energy(sizes, p, start))
            assert np.isclose(path[-1], energy(sizes, p, sides))
            f_now = frustration(sizes, p, sides)
            f_switched = (sizes[None, :] * p).sum(axis=1) - f_now
            assert np.all(f_now <= f_switched + 1e-9)
            assert np.any(np.all(minima == sides * sides[0], axis=1))


def test_landscape_syria_2016_global_minimum() -> None:
    """§7.6 Furnas' Syria-2016 landscape: global minimum E = -83,200, the US-Russia-Syria side
    against Turkey, ISIS and Nusra (all 1,024 splits enumerated)."""
    names, sizes, p = load_fixture(SYRIA)
    assert len(names) == 11 and np.allclose(p, p.T)
    minima, energies = local_minima_exhaustive(sizes, p)
    assert energies[0] == pytest.approx(-83_200.0)
    side = minima[0] * minima[0][names.index("US")]
    together = {a for a, s in zip(names, side, strict=True) if s > 0}
    assert together == {"US", "Russia", "Syria", "Saudi_Arabia", "Iran", "Hezbollah",
                        "Iraqi_Kurds", "Baghdad"}
    assert {a for a, s in zip(names, side, strict=True) if s < 0} == {"Turkey", "ISIS", "Nursa"}
    # brute force over every split agrees with the local-minimum enumeration
    codes = np.arange(1 << len(names))
    every = np.where((codes[:, None] >> np.arange(len(names))) & 1, 1, -1)
    assert energy(sizes, p, every).min() == pytest.approx(-83_200.0)


def test_landscape_heuristic_finds_syria_minimum() -> None:
    """``heuristic_minimum`` (random restarts + descent) finds the same global minimum."""
    _, sizes, p = load_fixture(SYRIA)
    exact_sides, exact_e = (a[0] for a in local_minima_exhaustive(sizes, p))
    sides, e = heuristic_minimum(sizes, p, restarts=50, rng=np.random.default_rng(7))
    assert e == pytest.approx(exact_e)
    assert np.array_equal(sides, exact_sides)


@pytest.mark.parametrize("n", [7, 20])
def test_blocs_from_relations_recovers_balanced_split(n: int) -> None:
    """A noisy balanced state ``x ≈ σσᵀ`` names the blocs σ (exhaustive for N ≤ 16, heuristic
    above), with actor 0 on side +1."""
    rng = np.random.default_rng(n)
    sigma = rng.choice(np.array([-1.0, 1.0]), size=n)
    sigma[0] = 1.0
    x = 0.6 * np.outer(sigma, sigma) + 0.2 * rng.normal(size=(n, n))
    np.fill_diagonal(x, 0.0)
    sides = blocs_from_relations(x, rng.uniform(0.5, 2.0, size=n), rng=rng)
    np.testing.assert_array_equal(sides, sigma)
    batch = blocs_from_relations(np.stack([x, -x]), np.ones(n), rng=rng)
    assert batch.shape == (2, n)
    np.testing.assert_array_equal(batch[0], sigma)
