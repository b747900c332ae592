"""Dashboard: the scenario explorer and the one-run view in the browser (Solara).

Run with ``sim explore`` or ``solara run sim/app.py`` (needs the ``viz`` extra). The page
(:mod:`sim.dashboard.page`) has two tabs: **Explorer**, which answers what-if questions with a
whole ensemble, and **One run**, which steps the Mesa model of one run (Step, Play, Reset).

Every browser session renders its own :func:`Page`. The page needs no internet access: the
``viz`` extra installs Solara's front-end files (``solara-assets``).
"""

from __future__ import annotations

from sim.dashboard.onerun import (
    DEFAULT_SEED,
    RESET_HINT,
    DashboardModel,
    Decisions,
    OneRun,
    Panel,
    panel,
)
from sim.dashboard.page import NAME, Explorer, Page
from sim.dashboard.scenarios import HIDDEN, scenario_files

__all__ = ["DEFAULT_SEED", "HIDDEN", "NAME", "RESET_HINT", "DashboardModel", "Decisions",
           "Explorer", "OneRun", "Page", "Panel", "panel", "scenario_files"]
