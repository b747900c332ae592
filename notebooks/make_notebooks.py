"""Writes the notebooks from their cell sources (outputs stripped). Run from the repo root:
``python notebooks/make_notebooks.py``. Edit here, not in the .ipynb, to keep them in sync."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

BASELINE = [
    new_markdown_cell("""# The baseline scenario, one run, agent by agent

Putin's May 2024 state visit to Beijing (see `scenarios/baseline.toml`, every value cited).
This notebook builds the Mesa model for one run, steps it month by month and looks at what
each state (agent) did, then runs an ensemble to see how much one run can be trusted."""),
    new_code_cell("""import numpy as np
import pandas as pd

import sim
from sim.model import AlignmentModel
from sim import plots

model = AlignmentModel.from_scenario("../scenarios/baseline.toml", rng=7)
print(model.world.spec.scenario.title)
print("states:", ", ".join(f"{a.sid} ({a.name})" for a in model.agents))
print("policies:", ", ".join(d.label for d in model.world.decisions))"""),
    new_markdown_cell("""## Step through the first year
Each `step()` is one month: scheduled events land, each agent weighs its own policies, the
decisions that fire become events, then relations and trade move."""),
    new_code_cell("""model.run_for(12)
x = pd.DataFrame(model.state.x[0], index=model.world.ids, columns=model.world.ids)
x.round(2)"""),
    new_code_cell("""model.run_to_end()
agents = model.datacollector.get_agent_vars_dataframe().reset_index()
agents.pivot(index="Step", columns="state", values="mean_relation_out").iloc[::12].round(2)"""),
    new_markdown_cell("## What each agent decided, and when"),
    new_code_cell("""acted = agents[agents["acted"] != ""][["Step", "state", "acted"]]
acted.assign(date=[sim.spec.month_label(model.world.start, int(s)) for s in acted["Step"]])"""),
    new_code_cell("""mv = model.datacollector.get_model_vars_dataframe()
mv[["date", "dittmer", "balanced_share"]].iloc[::12]"""),
    new_markdown_cell("""## One run is one draw: the ensemble
The same scenario, 200 runs (batched engine; run *i* is identical to the Mesa model's run *i*)."""),
    new_code_cell("""res = sim.run("../scenarios/baseline.toml", runs=200, seed=7)
res.summary.filter(like="relation").describe(percentiles=[.05, .5, .95]).round(2)"""),
    new_code_cell("plots.fig_relations(res)"),
    new_code_cell("plots.fig_triangle(res)"),
    new_code_cell("plots.fig_deals(res)"),
]


def write(name: str, cells: list) -> None:
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    nbformat.write(nb, HERE / name)


if __name__ == "__main__":
    write("01_baseline.ipynb", BASELINE)
