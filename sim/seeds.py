"""Random streams: one ``SeedSequence`` child per run, so run ``i`` is the same whatever the
ensemble size, chunking, worker count or engine.

Run ``i`` of master seed ``s`` owns ``SeedSequence(s, spawn_key=(i,))``, split into two streams:
relation noise (one ``(N, N)`` standard-normal draw per month) and decision draws (``SLOTS``
uniforms per month; policy ``k`` reads slot ``k``). The decision draw has a fixed width so that
scenarios with more or fewer policies still share every policy's draws (common random numbers
for ``sim compare``). Numpy's ``Generator`` gives the same numbers whether a stream is drawn a
month at a time (the Mesa model) or in blocks of months (the batched engine).
"""

from __future__ import annotations

import numpy as np

SLOTS = 16
"""Uniform draws per run-month for decisions: the most policies a scenario may have."""


def run_streams(seed: int, run: int) -> tuple[np.random.Generator, np.random.Generator]:
    """The (noise, decision) generators of run ``run`` under master seed ``seed``."""
    noise, decide = np.random.SeedSequence(seed, spawn_key=(run,)).spawn(2)
    return np.random.default_rng(noise), np.random.default_rng(decide)


def run_seed(seed: int, run: int) -> int:
    """An integer seed for Mesa's own ``rng=`` of run ``run`` (not used by the dynamics)."""
    return int(np.random.SeedSequence(seed, spawn_key=(run,)).generate_state(1, np.uint64)[0])


class Draws:
    """Per-run streams drawn in blocks of months, stacked over runs.

    :meth:`month` returns ``(R, N, N)`` noise and ``(R, SLOTS)`` uniforms for month ``t``;
    months must be asked for in order. ``block`` months are drawn per refill (memory:
    ``R · block · N²`` floats).
    """

    def __init__(self, seed: int, runs: np.ndarray, n: int, months: int,
                 block: int | None = None) -> None:
        self.streams = [run_streams(seed, int(r)) for r in runs]
        self.n, self.months = n, months
        self.block = block or max(1, min(months, 4_000_000 // max(1, len(runs) * n * n)))
        self._start, self._noise, self._uniform = 0, None, None

    def _refill(self, t: int) -> None:
        b = min(self.block, self.months - t)
        self._noise = np.empty((len(self.streams), b, self.n, self.n))
        self._uniform = np.empty((len(self.streams), b, SLOTS))
        for k, (noise, uniform) in enumerate(self.streams):
            noise.standard_normal(out=self._noise[k])
            uniform.random(out=self._uniform[k])
        self._start = t

    def month(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        if self._noise is None or t >= self._start + self._noise.shape[1]:
            self._refill(t)
        k = t - self._start
        return self._noise[:, k], self._uniform[:, k]
