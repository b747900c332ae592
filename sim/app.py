"""Dashboard: step the Mesa model of one run in the browser (Solara, Mesa's SolaraViz).

Run with ``solara run sim/app.py`` (needs the ``viz`` extra). Pick a scenario and a seed, then
Step or Play; the plots show the USA-CHN-RUS relations and the share of balanced triads month
by month, and the table each state's decisions.
"""

from __future__ import annotations

from pathlib import Path

import solara
from mesa.visualization import SolaraViz, make_plot_component

from sim.model import DEFAULT_SCENARIO, AlignmentModel

SCENARIOS = sorted(str(p) for p in Path(DEFAULT_SCENARIO).parent.glob("*.toml")
                   if p.stem != "history_2014_2024")


@solara.component
def Decisions(model: AlignmentModel) -> None:
    """Decisions taken so far, per state."""
    rows = [f"{a.sid}: {a.deals} decision(s)" + (f", this month {', '.join(a.acted)}"
                                                 if a.acted else "") for a in model.agents]
    solara.Markdown(f"**{model.world.spec.scenario.title}**, month {int(model.time)} "
                    f"({model.datacollector.model_vars['date'][-1]})\n\n- " + "\n- ".join(rows))


model_params = {
    "scenario": {"type": "Select", "value": str(DEFAULT_SCENARIO), "values": SCENARIOS,
                 "label": "Scenario"},
    # a SliderInt, not an InputText: Mesa 3.5 passes InputText values as strings (mesa#3516)
    "rng": {"type": "SliderInt", "value": 7, "label": "Seed", "min": 0, "max": 1000, "step": 1},
}

model = AlignmentModel(DEFAULT_SCENARIO, rng=7)
relations = make_plot_component({f"{a}-{b}": c for (a, b), c in
                                 zip(model.world.key_pairs(), ("tab:blue", "tab:red", "tab:green"),
                                     strict=True)})
balance = make_plot_component("balanced_share")
page = SolaraViz(model, components=[relations, balance, Decisions], model_params=model_params,
                 name="sim: great-power alignment")
