"""Random numbers as a pure function of (master seed, run, month, stream, slot).

Every number comes from the counter-based generator Philox4x64-10 (Salmon, Moraes, Dror &
Shaw 2011, "Parallel random numbers: as easy as 1, 2, 3", SC'11), so run ``i`` draws the same
numbers whatever the ensemble size, batch, chunking, worker count, order of runs or months,
or engine (batched or Mesa), without any per-run seeding:

    key     = SeedSequence(s).generate_state(2, uint64)                  (once per master seed)
    counter = (block, tag, month, run)          (words 0..3; word 0 is the least significant)
    bits    = Philox4x64-10(counter, key)         four uint64 per block, word 0 first
    u       = ((bits >> 12) + ½) · 2⁻⁵²            in [2⁻⁵³, 1 − 2⁻⁵³]: never 0 or 1
    z       = Φ⁻¹(u)                                (scipy.special.ndtri)

Stream ``tag`` 0 is the relation noise: ``N²`` standard normals per run-month (blocks
``0 .. ⌈N²/4⌉−1``), read row-major as an ``(N, N)`` matrix. Stream 1 is the decisions:
``SLOTS`` uniforms per run-month (blocks 0..3); policy ``k`` reads slot ``k``. The decision
draw has a fixed width and its own stream, so scenarios with more or fewer policies or states
still share every policy's draws (common random numbers for ``sim compare``).

The numbers of one ``(run, month, tag)`` are numpy's own Philox stream:
``numpy.random.Philox(key=key, counter=C - 1).random_raw(4·B)`` with
``C = run·2¹⁹² + month·2¹²⁸ + tag·2⁶⁴`` (numpy increments its 256-bit counter, word 0 first,
*before* each block, hence the ``- 1``); ``tests/test_random.py`` checks this bit for bit.
The 52-bit uniform is used because ``((bits >> 11) + ½) · 2⁻⁵³`` rounds to exactly 1.0 in
float64 for the top value.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from scipy.special import ndtri

SLOTS = 16
"""Uniform draws per run-month for decisions: the most policies a scenario may have."""

NOISE, DECIDE = 0, 1
"""Stream tags (counter word 1): relation noise, decision uniforms."""

ROUNDS = 10
_M0, _M1 = np.uint64(0xD2E7470EE14C6C93), np.uint64(0xCA5A826395121157)
_W0, _W1 = 0x9E3779B97F4A7C15, 0xBB67AE8584CAA73B
_LO32, _S32 = np.uint64(0xFFFFFFFF), np.uint64(32)
_MASK64 = (1 << 64) - 1


def key(seed: int) -> np.ndarray:
    """The Philox key ``(2,)`` uint64 of master seed ``seed``:
    ``SeedSequence(seed).generate_state(2, uint64)``. Raises ValueError for a negative seed."""
    if int(seed) < 0:
        raise ValueError(f"seed: got {seed}; expected an integer >= 0")
    return np.random.SeedSequence(int(seed)).generate_state(2, np.uint64)


def _mulhilo(m: np.uint64, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """High and low 64-bit words of the 128-bit product ``m · a`` (``a`` uint64, any shape),
    from 32-bit halves (Warren, "Hacker's Delight", 2nd ed., §8-2, mulhu)."""
    m_lo, m_hi = m & _LO32, m >> _S32
    a_lo, a_hi = a & _LO32, a >> _S32
    t = a_hi * m_lo + ((a_lo * m_lo) >> _S32)
    w = (t & _LO32) + a_lo * m_hi
    return a_hi * m_hi + (t >> _S32) + (w >> _S32), a * m


def philox(counter: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
           k: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Philox4x64-10 of counter words ``(c0, c1, c2, c3)`` (uint64 arrays broadcast together;
    ``c0`` least significant) under key ``k`` ``(2,)`` uint64: the four output words, each of
    the broadcast shape. Round: ``(hi₁⊕c1⊕k0, lo₁, hi₀⊕c3⊕k1, lo₀)`` with ``hi₀,lo₀ = M0·c0``,
    ``hi₁,lo₁ = M1·c2``; the key grows by the Weyl constants between rounds (Salmon et al.
    2011, Random123 ``philox4x64_R``)."""
    c0, c1, c2, c3 = (np.asarray(c, dtype=np.uint64) for c in counter)
    k0, k1 = int(k[0]), int(k[1])
    for r in range(ROUNDS):
        if r:
            k0, k1 = (k0 + _W0) & _MASK64, (k1 + _W1) & _MASK64
        hi0, lo0 = _mulhilo(_M0, c0)
        hi1, lo1 = _mulhilo(_M1, c2)
        c0, c1, c2, c3 = hi1 ^ c1 ^ np.uint64(k0), lo1, hi0 ^ c3 ^ np.uint64(k1), lo0
    shape = np.broadcast_shapes(c0.shape, c1.shape, c2.shape, c3.shape)
    return tuple(np.broadcast_to(c, shape) for c in (c0, c1, c2, c3))  # type: ignore[return-value]


def bits(k: np.ndarray, runs: np.ndarray, months: np.ndarray, tag: int, count: int
         ) -> np.ndarray:
    """``count`` raw uint64 numbers of stream ``tag`` for each (run, month) pair: ``(P, count)``
    for ``runs`` and ``months`` ``(P,)`` (non-negative integers, paired element by element)."""
    blocks = -(-count // 4)
    c3 = np.asarray(runs, dtype=np.uint64)[:, None]
    c2 = np.asarray(months, dtype=np.uint64)[:, None]
    c0 = np.arange(blocks, dtype=np.uint64)[None, :]
    out = np.stack(philox((c0, np.uint64(tag), c2, c3), k), axis=-1)
    return out.reshape(len(c3), 4 * blocks)[:, :count]


def uniform(x: np.ndarray) -> np.ndarray:
    """Uniforms on the open interval from raw uint64 ``x`` (any shape):
    ``((x >> 12) + ½) · 2⁻⁵²``, exact in float64, in ``[2⁻⁵³, 1 − 2⁻⁵³]``."""
    return ((x >> np.uint64(12)).astype(np.float64) + 0.5) * 2.0**-52


def normal(x: np.ndarray) -> np.ndarray:
    """Standard normals ``Φ⁻¹(uniform(x))`` (inverse CDF, ``scipy.special.ndtri``); finite,
    ``|z| ≤ 8.3``."""
    return ndtri(uniform(x))


CHUNK = 8192
"""Philox blocks per vectorised call in :func:`draw`: small enough that the work arrays stay in
cache (measured: ≈ 1.6× faster per block than one call over 650k blocks)."""


KEPT_BYTES = 256 * 1024**2
"""Most bytes of draws :func:`kept_draws` holds (least recently used dropped first)."""
_kept: OrderedDict[tuple[bytes, ...], tuple[np.ndarray, np.ndarray]] = OrderedDict()
_keeping = [0]
_lock = threading.Lock()


@contextmanager
def kept_draws() -> Iterator[None]:
    """While open (in any thread), :func:`draw` keeps its results (up to :data:`KEPT_BYTES`,
    least recently used dropped) and returns them again for the same seed, runs, months and
    size: an explorer rerunning one design with other levers draws its numbers once. The
    engines only read the arrays; callers must not write into them."""
    with _lock:
        _keeping[0] += 1
    try:
        yield
    finally:
        with _lock:
            _keeping[0] -= 1


def draw(seed: int | np.ndarray, runs: np.ndarray, months: np.ndarray, n: int
         ) -> tuple[np.ndarray, np.ndarray]:
    """Relation noise ``(R, M, n, n)`` and decision uniforms ``(R, M, SLOTS)`` of ``runs``
    ``(R,)`` in ``months`` ``(M,)`` under master seed ``seed`` (an int, or a key from
    :func:`key`), computed :data:`CHUNK` Philox blocks at a time (or kept from an earlier call
    inside :func:`kept_draws`). Raises ValueError for a negative seed."""
    k = key(seed) if np.ndim(seed) == 0 else np.asarray(seed, dtype=np.uint64)
    runs, months = np.atleast_1d(runs), np.atleast_1d(months)
    if not _keeping[0]:
        return _draw(k, runs, months, n)
    ident = (k.tobytes(), np.asarray(runs, np.int64).tobytes(),
             np.asarray(months, np.int64).tobytes(), int(n).to_bytes(8, "little"))
    with _lock:
        hit = _kept.get(ident)
        if hit is not None:
            _kept.move_to_end(ident)
            return hit
    out = _draw(k, runs, months, n)
    size = out[0].nbytes + out[1].nbytes
    with _lock:
        if size <= KEPT_BYTES:
            _kept[ident] = out
            while sum(a.nbytes + b.nbytes for a, b in _kept.values()) > KEPT_BYTES:
                _kept.popitem(last=False)
    return out


def _draw(k: np.ndarray, runs: np.ndarray, months: np.ndarray, n: int
          ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`draw` under key ``k``, computed."""
    pr, pm = (a.ravel() for a in np.meshgrid(runs, months, indexing="ij"))
    noise, u = np.empty((pr.size, n * n)), np.empty((pr.size, SLOTS))
    step = max(1, CHUNK // (-(-n * n // 4) + -(-SLOTS // 4)))
    for lo in range(0, pr.size, step):
        pairs = slice(lo, lo + step)
        noise[pairs] = normal(bits(k, pr[pairs], pm[pairs], NOISE, n * n))
        u[pairs] = uniform(bits(k, pr[pairs], pm[pairs], DECIDE, SLOTS))
    return (noise.reshape(len(runs), len(months), n, n),
            u.reshape(len(runs), len(months), SLOTS))


def run_seed(seed: int, run: int) -> int:
    """An integer seed for Mesa's own ``rng=`` of run ``run`` (not used by the dynamics)."""
    return int(np.random.SeedSequence(seed, spawn_key=(run,)).generate_state(1, np.uint64)[0])


class Draws:
    """The numbers of ``runs`` stacked over runs, computed ``block`` months at a time.

    :meth:`month` returns ``(R, N, N)`` noise and ``(R, SLOTS)`` uniforms for month ``t``
    (any order; a month outside the held block triggers a refill starting at ``t``). Memory:
    ``R · block · (N² + SLOTS)`` floats; default block: all months up to 4M numbers.
    """

    def __init__(self, seed: int, runs: np.ndarray, n: int, months: int,
                 block: int | None = None) -> None:
        self.key, self.runs = key(seed), np.atleast_1d(np.asarray(runs, dtype=np.int64))
        self.n, self.months = n, months
        self.block = block or max(1, min(months, 4_000_000 // max(1, len(self.runs) * n * n)))
        self._start, self._noise, self._uniform = 0, None, None

    def _refill(self, t: int) -> None:
        b = max(1, min(self.block, self.months - t))
        self._noise, self._uniform = draw(self.key, self.runs, np.arange(t, t + b), self.n)
        self._start = t

    def month(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """Noise ``(R, N, N)`` and uniforms ``(R, SLOTS)`` of month ``t`` (views into the held
        block). Raises ValueError for ``t < 0``."""
        if t < 0:
            raise ValueError(f"month: got {t}; expected an integer >= 0")
        if self._noise is None or not self._start <= t < self._start + self._noise.shape[1]:
            self._refill(t)
        k = t - self._start
        return self._noise[:, k], self._uniform[:, k]
