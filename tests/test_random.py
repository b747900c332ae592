"""Random numbers (sim.seeds): Philox4x64-10 equals numpy's, a run's numbers are a pure
function of (seed, run, month, stream, slot), and the uniforms and normals are what they claim."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim import seeds
from sim.seeds import SLOTS, Draws

P_MIN = 1e-3
"""Fixed threshold of the distribution tests: fail when the p-value is below 0.001 (the sample
is fixed by its seed, so the outcome is deterministic)."""


def _numpy_blocks(key: np.ndarray, counter: int, blocks: int) -> np.ndarray:
    """numpy's Philox output for blocks at 256-bit counters ``counter .. counter + blocks - 1``
    (numpy increments its counter before each block, hence ``counter - 1``)."""
    gen = np.random.Philox(key=key, counter=(counter - 1) % 2**256)
    return gen.random_raw(4 * blocks)


def test_philox_equals_numpy_on_random_counters_and_keys():
    rng = np.random.default_rng(1)
    words = rng.integers(0, 2**64, size=(50, 4), dtype=np.uint64)
    words[:5, 0] = np.uint64(2**64 - 1)  # word 0 at its top: numpy's carry into word 1
    words[5:8] = 0
    for i, k in enumerate(rng.integers(0, 2**64, size=(5, 2), dtype=np.uint64)):
        ours = np.stack(seeds.philox(tuple(words.T), k), axis=-1)
        for w, out in zip(words[i::5], ours[i::5], strict=True):
            c = sum(int(x) << (64 * j) for j, x in enumerate(w))
            assert np.array_equal(out, _numpy_blocks(k, c, 1))


def test_streams_are_numpys_philox_streams_at_the_stated_counters():
    k = seeds.key(20240516)
    assert np.array_equal(k, np.random.SeedSequence(20240516).generate_state(2, np.uint64))
    runs, months = np.array([0, 7, 999_999, 2**40]), np.array([0, 1, 71, 5000])
    for tag, count in ((seeds.NOISE, 37), (seeds.DECIDE, SLOTS)):
        got = seeds.bits(k, runs, months, tag, count)
        assert got.shape == (4, count)
        for r, m, out in zip(runs, months, got, strict=True):
            c = (int(r) << 192) + (int(m) << 128) + (tag << 64)
            assert np.array_equal(out, _numpy_blocks(k, c, -(-count // 4))[:count])


def test_a_runs_numbers_do_not_depend_on_batch_order_or_months_asked():
    n, months = 5, np.arange(12)
    noise, u = seeds.draw(3, np.array([4]), months, n)
    others = np.array([9, 4, 0, 123])
    noise2, u2 = seeds.draw(3, others, months[::-1], n)
    assert np.array_equal(noise2[1, ::-1], noise[0])
    assert np.array_equal(u2[1, ::-1], u[0])
    draws = Draws(3, np.array([123, 4]), n, len(months), block=3)
    for t in (7, 2, 11, 0, 3, 7):
        nz, uu = draws.month(t)
        assert nz.shape == (2, n, n) and uu.shape == (2, SLOTS)
        assert np.array_equal(nz[1], noise[0, t]) and np.array_equal(uu[1], u[0, t])
    # decisions do not depend on the number of states; other seeds and runs differ
    assert np.array_equal(seeds.draw(3, np.array([4]), months, 2)[1], u)
    assert not np.isin(seeds.draw(4, np.array([4]), months, n)[1], u).any()
    assert not np.isin(u2[0], u).any()


def test_uniforms_are_open_and_exact_at_the_extremes():
    x = np.array([0, 1 << 12, 2**64 - 1], dtype=np.uint64)
    u = seeds.uniform(x)
    assert u[0] == 2.0**-53 and u[1] == 1.5 * 2.0**-52 and u[2] == 1 - 2.0**-53
    assert np.isfinite(seeds.normal(x)).all()
    assert seeds.normal(x)[0] == -seeds.normal(x)[2]
    # why 52 bits: the 53-bit midpoint rounds to exactly 1.0 at the top in float64
    assert ((x[2] >> np.uint64(11)).astype(float) + 0.5) * 2.0**-53 == 1.0


def test_uniforms_and_normals_pass_distribution_tests():
    noise, u = seeds.draw(11, np.arange(2000), np.arange(40), 4)  # 1.28M uniforms, 1.28M normals
    assert stats.kstest(u.ravel(), "uniform").pvalue > P_MIN
    assert stats.kstest(noise.ravel(), "norm").pvalue > P_MIN
    counts = np.histogram(u.ravel(), bins=1000, range=(0, 1))[0]
    assert stats.chisquare(counts).pvalue > P_MIN
    # neighbouring runs, months and slots are uncorrelated (|r| below 4 standard errors)
    for a, b in ((u[1:], u[:-1]), (u[:, 1:], u[:, :-1]), (u[..., 1:], u[..., :-1]),
                 (noise[1:], noise[:-1]), (noise[..., 1:], noise[..., :-1])):
        r = np.corrcoef(a.ravel(), b.ravel())[0, 1]
        assert abs(r) < 4 / np.sqrt(a.size)


def test_bad_seed_and_month_are_refused():
    with pytest.raises(ValueError, match="seed"):
        seeds.key(-1)
    with pytest.raises(ValueError, match="month"):
        Draws(1, np.array([0]), 3, 5).month(-1)
