"""Exploratory analysis of a scenario: which assumptions drive an outcome, under which
conditions it happens, which scheduled event or decision matters.

- :mod:`sim.explore.space`: the input space, one :class:`~sim.explore.space.Factor` per
  parameter (its declared distribution, or a stated fallback range);
- :mod:`sim.explore.runner`: outcome values of many runs with per-run parameters and chosen
  random streams (the batched engine, in chunks, optionally in worker processes);
- :mod:`sim.explore.sensitivity`: SALib Morris screening and Sobol indices with bootstrap
  intervals, convergence and the share of variance due to the model's own noise
  (``sim sensitivity``);
- :mod:`sim.explore.discovery`: PRIM and CART (EMA Workbench) over parameter draws (and, with
  ``--events``, scheduled events switched and scaled) for a condition on outcomes
  (``sim discover``);
- :mod:`sim.explore.attribution`: each scheduled event removed or scaled, each policy switched
  off, paired with the full scenario (``sim attribute``);
- :mod:`sim.explore.figures`: the figures of the three.

The EMA Workbench adapter is :mod:`sim.ema`.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {"sensitivity": "sim.explore.sensitivity", "morris": "sim.explore.sensitivity",
            "sobol": "sim.explore.sensitivity", "discover": "sim.explore.discovery",
            "attribute": "sim.explore.attribution", "factors": "sim.explore.space"}


def __getattr__(name: str) -> Any:  # lazy: importing sim.explore does not import SALib or EMA
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'sim.explore' has no attribute {name!r}")


__all__ = sorted(_EXPORTS)
