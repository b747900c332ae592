"""The scenario explorer's core (no Solara): shipped scenarios, what-if controls built from the
registries, their application to a scenario and its export, and the paired answer (ensembles,
figures, tables) a page shows.

- :mod:`sim.dashboard.scenarios`: the shipped scenarios a page offers, by title;
- :mod:`sim.dashboard.controls`: :class:`Control` and :func:`controls` (levers and
  uncertainties of a scenario);
- :mod:`sim.dashboard.whatif`: :class:`WhatIf`, :func:`apply` and :func:`to_toml`;
- :mod:`sim.dashboard.answer`: :class:`Answer` and :func:`answer` (the modified scenario and its
  reference, same design), :func:`sensitivity`.
"""

from sim.dashboard.answer import FIGURES, TABLES, Answer, answer, sensitivity
from sim.dashboard.controls import Control, controls
from sim.dashboard.scenarios import HIDDEN, scenario_files, shipped
from sim.dashboard.whatif import ChangeError, WhatIf, apply, to_toml

__all__ = ["FIGURES", "HIDDEN", "TABLES", "Answer", "ChangeError", "Control", "WhatIf",
           "answer", "apply", "controls", "scenario_files", "sensitivity", "shipped", "to_toml"]
