"""Imported once by the ensembles' forkserver (:data:`sim.ensemble.PRELOAD`), so that every
worker forked from it starts with ``sim`` loaded and, when numba is installed, numba imported
and the numba backend's kernel loaded from its cache (or compiled): ~0.65 s a worker otherwise.
Without numba it loads ``sim.ensemble`` only, and says nothing. A failed warm-up is ignored
(the workers then load the kernel themselves): an error here would stop the forkserver."""

from __future__ import annotations

import contextlib

import sim.ensemble  # noqa: F401

try:
    from sim import numba_engine
except ImportError:  # numba is optional: the numpy backend needs nothing more
    numba_engine = None  # type: ignore[assignment]

if numba_engine is not None:
    with contextlib.suppress(Exception):
        numba_engine.warm()
