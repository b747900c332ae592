"""Writes the notebooks from their cell sources (outputs stripped). Run from the repo root:
``python notebooks/make_notebooks.py``. Edit here, not in the .ipynb, to keep them in sync."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
# Figures render as PNG whatever MPLBACKEND says (CI sets Agg, which would show them as text).
INLINE = "%matplotlib inline\n"


def figure_cell(source: str) -> nbformat.NotebookNode:
    """A code cell that shows one figure per cell, tagged ``figure`` (tests/test_notebooks.py
    checks that each tagged cell has an image/png output). sim's figures are plain
    ``matplotlib.figure.Figure`` objects outside pyplot, so the cell's last expression shows
    each figure once and nothing is left open."""
    return new_code_cell(source, metadata={"tags": ["figure"]})


BASELINE = [
    new_markdown_cell("""# The baseline scenario, one run, agent by agent

Putin's May 2024 state visit to Beijing (see `scenarios/baseline.toml`, every value cited).
This notebook builds the Mesa model for one run, steps it month by month and looks at what
each state (agent) did, then runs an ensemble to see how much one run can be trusted."""),
    new_code_cell(INLINE + """import numpy as np
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
    figure_cell("plots.fig_relations(res)"),
    figure_cell("plots.fig_triangle(res)"),
    figure_cell("plots.fig_deals(res)"),
]


BACKTEST = [
    new_markdown_cell("""# Backtest: calibrate on 2014-2019, forecast 2020-2024 from the events

`scenarios/history_2014_2024.toml` is the world of January 2014 (2013 data), driven by every
row of the 2014-2024 event timeline. `sim calibrate` fitted four parameters to the 2014-2019
outcome series only (UNGA ideal-point distances; CHN-RUS and USA-CHN goods trade) and wrote
`calibration/`. Here we look at that fit, its identifiability, and the ensemble forecast for
2020-2024, which comes from the model and the recorded events alone (no later outcome is read).
The measured series come from the project's `data/` folder, read by `sim.observe`.
See `docs/VALIDATION.md`."""),
    new_code_cell(INLINE + """import json
import pandas as pd

from sim import observe as ob
from sim import backtest as bt
from sim.calibrate import load_calibrated

rep = json.loads(open("../calibration/report.json").read())
pd.DataFrame(rep["free_parameters"])[["name", "estimate", "sd", "ci95", "at_bound", "why"]]"""),
    new_markdown_cell("""## Fit on 2014-2019 and identifiability
RMSE of the calibrated fit per series, against the series' own 2014-19 mean (an in-sample
baseline fitted to the very values it is scored on). Then the parameter correlations and the
profiles (weighted SSR over s², re-fitting the other parameters; below 3.84 = not rejected)."""),
    new_code_cell("""pd.DataFrame(rep["fit"]).T[["rmse", "rmse_constant_mean", "residual_sd"]]"""),
    new_code_cell("""names = [p["name"] for p in rep["free_parameters"]]
pd.DataFrame(rep["identifiability"]["correlation"], index=names, columns=names).round(2)"""),
    new_code_cell("""pd.DataFrame({k: {"not rejected (95%)": v["not_rejected_range"],
               "flat": v["flat"], "fixed in fit": v["fixed_in_fit"]}
              for k, v in rep["profiles"].items()}).T"""),
    new_markdown_cell("""## The ensemble: fit to 2019, forecast 2020-2024
Each run draws its parameters from the fitted covariance, has the model's relation noise and
measurement noise of each series' residual size. Median and 90% band."""),
    figure_cell("""spec = load_calibrated("../scenarios/history_2014_2024.toml",
                       "../calibration/mechanisms_2019.toml")
years, draws = bt.ensemble(spec, rep, runs=100, seed=2014)
pred = bt.predictions_table(years, draws)
observed = ob.load_observed()
bt.fig_backtest(pred, observed)"""),
    new_code_cell("""pred[pred.year > 2019].pivot_table(index=["series", "pair"], columns="year",
                                  values="predicted").round(2)"""),
    new_markdown_cell("""## Against naive baselines (data through 2019 only)
In sample, and rolling origin: re-calibrate on 2014..c for c = 2016, 2017, 2018, forecast to
2019, compared with persistence, a linear trend and the mean fitted on the same years."""),
    new_code_cell("""ro = bt.rolling_origin(load_calibrated("../scenarios/history_2014_2024.toml",
                                     "../calibration/mechanisms_2019.toml"), observed)
scores = pd.concat([bt.in_sample(rep, observed), bt.rolling_scores(ro)], ignore_index=True)
bt.summary_table(scores).round(3)"""),
    figure_cell("bt.fig_evaluation(scores)"),
]


COMPARE = [
    new_markdown_cell("""# Compare scenarios

Pick scenarios from `scenarios/`, run them under common random numbers and common parameter
draws, then read the figures and the tables. The first scenario is the reference.

- **Common random numbers:** run *i* of every scenario draws the same random streams, so the
  difference *scenario − reference* of run *i* is the effect of the scenario's changes with the
  noise held fixed (a paired difference).
- **Common parameter draws:** every parameter a scenario declares uncertain (`[uncertainties]`)
  is drawn once, from the reference's declarations; run *i* = *d*·K + *k* belongs to draw *d* in
  every scenario. Each effect is reported with its Monte-Carlo 95% interval (how far more runs
  could move the mean), the 90% interval across parameter draws (how much it depends on what we
  do not know about the parameters) and the share of draws whose effect has the mean's sign."""),
    new_code_cell(INLINE + """import pandas as pd

import sim
from sim import effects, hypotheses

pd.set_option("display.max_colwidth", None)  # the claims below are read in full

SCENARIOS = ["baseline", "no_may2024_tariffs", "tariff_escalation", "allied_pressure",
             "secondary_sanctions_enforced"]
DRAWS, RUNS_PER_DRAW = 50, 4  # more draws, narrower Monte-Carlo intervals; 200 x 5 for reporting
cmp = sim.compare([f"../scenarios/{s}.toml" for s in SCENARIOS], draws=DRAWS,
                  runs_per_draw=RUNS_PER_DRAW, seed=1)
print(effects.draws_note(cmp.effects))
cmp.notes"""),
    new_markdown_cell("## Key outcomes over time (median, 50% and 90% bands over all runs)"),
    figure_cell("""figs = cmp.figures()
figs["outcomes_over_time"]"""),
    new_markdown_cell("""## Paired differences from the baseline
Mean paired difference and its 90% band across parameter draws. Panels of one kind share a
y-scale, so a small effect looks small."""),
    figure_cell('figs["paired_differences"]'),
    new_markdown_cell("## Outcomes at the horizon, run by run"),
    figure_cell('figs["horizon_distributions"]'),
    new_markdown_cell("""## The USA–CHN–RUS triangle: Dittmer patterns
When one pattern holds in every run of every scenario at every month, the figure says so in a
sentence instead of drawing a flat band."""),
    figure_cell('figs["triangle_patterns"]'),
    new_markdown_cell("## Deals and escalations: share of runs in which each decision has "
                      "been taken by each date"),
    figure_cell('figs["deal_probabilities"]'),
    new_markdown_cell("""## The effects table
Per scenario and outcome, at 12 months, 36 months and the horizon: the mean paired difference
(Δ mean), its Monte-Carlo 95% CI, the 90% interval across parameter draws and the share of
draws with the sign of Δ mean. Relations are also given on the latent scale artanh(x̄), where a
step near the bounds ±1 is not compressed. `cmp.effects` holds the numbers, `effects.csv` of
`sim compare` the same."""),
    new_code_cell("""e = cmp.effects
shown = e[e.outcome.isin(["relation_USA-CHN", "relation_CHN-RUS"]) & (e.scale == "relation")]
effects.effects_view(shown).drop(columns=["scale", "paired"])"""),
    new_markdown_cell("The same on the latent scale (USA–CHN only):"),
    new_code_cell("""shown = e[(e.outcome == "relation_USA-CHN") & (e.scale == "latent")]
effects.effects_view(shown).drop(columns="paired")"""),
    new_markdown_cell("""## The article's claims as hypotheses, decided on the draws
Each claim is a statement about the per-draw effect (the mean over a draw's runs of a paired
difference, or of a share). A claim **holds** when at least 90% of the parameter draws agree,
**fails** when at least 90% disagree, and is **undetermined** otherwise: then the parameters we
are unsure of decide it. "within MC error" is the share of draws whose effect lies within its
own Monte-Carlo error of the threshold (more runs per draw could still move them). The last
column says what each verdict owes to the model's own construction. The design is the one
`tests/test_hypotheses.py` and `docs/SCENARIOS.md` use: 100 draws x 40 runs per arm, seed 1
(with fewer runs per draw, each draw's effect is noisier and more claims come out
undetermined).

**H1** (Bremmer): continued pressure from the US and its allies drives China closer to Russia.
Every hostile act of the US, the EU and Japan is scaled by 0, 1 and 2 (same random numbers and
draws in every arm) and China–Russia alignment x̄ is read at the horizon. The weak form
(non-inferiority, margin 0.01 fixed in advance) asks that no step up in pressure *lowers*
alignment; the strong form asks that 2× pressure *raises* it above no pressure."""),
    new_code_cell("""kw = {"draws": hypotheses.DRAWS, "runs_per_draw": hypotheses.RUNS_PER_DRAW,
      "seed": 1}
dose = hypotheses.pressure_dose("../scenarios/baseline.toml", doses=(0.0, 1.0, 2.0), **kw)
hypotheses.pressure_dose_claims(dose)"""),
    new_markdown_cell("China–Russia x̄ at the horizon by dose (mean over draws, 90% of draws):"),
    new_code_cell("""dose[["dose", "level", "level_lo", "level_hi"]].round(4)"""),
    new_markdown_cell("""**H2** (Hess): progress on each of Russia's asks is limited: China
grants it within 12 months in fewer than one run in four (threshold fixed in advance).
**H3**: the May 2024 tariffs lower US–China alignment. **H4**: enforcing US secondary sanctions
cuts China's material support (finance or hardware) for Russia."""),
    new_code_cell("""asks = hypotheses.asks_within("../scenarios/baseline.toml", months=12, **kw)
tariff = hypotheses.tariff_effect("../scenarios/baseline.toml",
                                  "../scenarios/no_may2024_tariffs.toml", **kw)
sanctions = hypotheses.secondary_sanctions_effect(
    "../scenarios/baseline.toml", "../scenarios/secondary_sanctions_enforced.toml", **kw)
hypotheses.claims_table(hypotheses.asks_claims(asks, months=12),
                        hypotheses.tariff_claims(tariff),
                        hypotheses.sanctions_claims(sanctions))"""),
]


def write(name: str, cells: list) -> None:
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    for k, cell in enumerate(nb.cells):  # stable ids: regenerating changes nothing
        cell.id = f"{Path(name).stem}-{k:02d}"
    nbformat.write(nb, HERE / name)


if __name__ == "__main__":
    write("01_baseline.ipynb", BASELINE)
    write("02_compare_scenarios.ipynb", COMPARE)
    write("03_backtest.ipynb", BACKTEST)
