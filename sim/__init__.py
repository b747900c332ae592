"""sim: an agent-based scenario simulator of great-power alignment on Mesa.

Data flows one way: scenario file (:mod:`sim.spec`) → state arrays (:mod:`sim.world`) →
dynamics kernels (:mod:`sim.kernels`, :mod:`sim.policies`) → Mesa model and agents
(:mod:`sim.model`, :mod:`sim.agents`) or the batched engine (:mod:`sim.engine`) → results
tables (:mod:`sim.results`) → figures (:mod:`sim.plots`) → CLI (:mod:`sim.cli`), notebooks,
dashboard (:mod:`sim.app`).

The names below are imported on first use, so ``import sim.engine`` (a worker process) does
not pay for pandas, matplotlib and Mesa.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "AlignmentModel": "sim.model", "Comparison": "sim.comparison", "Results": "sim.results",
    "ScenarioError": "sim.spec", "World": "sim.world", "compare": "sim.comparison",
    "load_scenario": "sim.spec", "run": "sim.api", "write_run": "sim.api",
    "Params": "sim.params", "with_values": "sim.params",
}
__all__ = sorted(_EXPORTS)
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
