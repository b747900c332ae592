"""Cost of the random numbers alone (issue 12): ``seeds.Draws`` for 1,000 runs × 72 months at
N = 6, every month asked for in order as the batched engine does; median of 5 repeats after one
warm-up, wall seconds, imports excluded. Runs on any checkout that has ``sim.seeds.Draws``, so
the same script measures before and after a change:

    PYTHONPATH=. python bench/draws.py
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from sim.seeds import Draws

RUNS, MONTHS, N, REPEATS = 1000, 72, 6, 5


def once() -> float:
    """Seconds to draw every month of ``RUNS`` runs."""
    t0 = time.perf_counter()
    draws = Draws(20240516, np.arange(RUNS), N, MONTHS)
    for t in range(MONTHS):
        draws.month(t)
    return time.perf_counter() - t0


if __name__ == "__main__":
    once()
    times = [once() for _ in range(REPEATS)]
    med = statistics.median(times)
    print(f"{RUNS} runs x {MONTHS} months, N={N}: median {med:.3f} s = "
          f"{med / (RUNS * MONTHS) * 1e6:.2f} us per run-month "
          f"(repeats {[round(x, 3) for x in times]})")
