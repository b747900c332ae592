"""sim: an agent-based scenario simulator of great-power alignment on Mesa.

Data flows one way: scenario file (:mod:`sim.spec`) → state arrays (:mod:`sim.world`) →
dynamics kernels (:mod:`sim.kernels`, :mod:`sim.policies`) → Mesa model and agents
(:mod:`sim.model`, :mod:`sim.agents`) or the batched engine (:mod:`sim.engine`) → results
tables (:mod:`sim.results`) → figures (:mod:`sim.plots`) → CLI (:mod:`sim.cli`).
"""

from sim.api import run, write_run
from sim.compare import Comparison, compare
from sim.model import AlignmentModel
from sim.results import Results
from sim.spec import ScenarioError, load_scenario
from sim.world import World

__all__ = ["AlignmentModel", "Comparison", "Results", "ScenarioError", "World", "compare",
           "load_scenario", "run", "write_run"]
__version__ = "0.1.0"
