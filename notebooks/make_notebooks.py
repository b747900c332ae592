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
    new_markdown_cell("""# Backtest: channels, Bayesian calibration, filtered and scored forecasts

The model is fitted and tested against six **observation channels** (`sim.observation`), each
one object with its data (to 2019 only: later outcomes are held out and no channel returns
them), an observation model with its own loading and noise, a likelihood and a plot. UN votes
(three channels of one family) and ICEWS events are the two independent observables of
relations; monthly US–China and annual China–Russia trade are the trade channels.

`sim calibrate` ran `scenarios/history_2010_2024.toml` (the world of January 2010, driven by
the recorded events) and sampled the posterior of the model and observation parameters with
`emcee` on the channels' simulated likelihood, writing `calibration/` (`posterior.csv.gz`,
`report.json`, predictive checks). `sim backtest` filters the latent state to each forecast
origin with a particle filter on the channels and scores probabilistic forecasts against naive
baselines. See `docs/VALIDATION.md`."""),
    new_code_cell(INLINE + """import json
import tempfile
from pathlib import Path

import pandas as pd
from IPython.display import Image

from sim import backtest as bt
from sim.observation import CHANNELS
from sim import observation

pd.DataFrame([{"channel": name, "family": ch.family, "rows to 2019": len(ch.observed()),
               "first": ch.observed()["time"].astype(str).min(), "unit": ch.unit,
               "source": ch.source} for name, ch in CHANNELS.items()])"""),
    new_markdown_cell("## The channels: data to 2019, one panel per pair or flow"),
    figure_cell("""fig = observation.figure()  # data only; pass view= for model replicates"""),
    new_markdown_cell("""## The posterior
Every parameter the calibration samples: prior, posterior mean and 90% interval, and the
posterior contraction 1 − var(posterior)/var(prior) (near 1: the data pin it down; near 0: the
data say little and the prior decides). `rhat` above about 1.1 means the sampler's chains have
not mixed for that parameter; the diagnostics below say how long the run was."""),
    new_code_cell("""rep = json.loads(Path("../calibration/report.json").read_text())
post = pd.DataFrame(rep["parameters"])
post[["name", "kind", "prior", "mean", "q05", "q95", "contraction", "rhat"]].round(3)"""),
    new_code_cell("""pd.Series(rep["diagnostics"]).drop("loglik_mc_note", errors="ignore")"""),
    new_markdown_cell("""## A posterior predictive check
Replicated data under posterior draws against the observed series, for the UN ideal-point
distance: levels, year-on-year changes and lag-1 autocorrelation. `ppp` is the share of
replicates whose statistic is at least the observed one (near 0 or 1: the model misses that
feature). The same check for every channel is in `report.json` and `calibration/ppc_*.png`."""),
    new_code_cell("""pd.DataFrame([{"pair": pair, "statistic": stat, "observed": v["observed"],
               "replicated median": v["replicated_median"],
               "replicated 90%": [round(b, 3) for b in v["replicated_90"]], "ppp": v["ppp"]}
              for pair, per in rep["ppc"]["un_distance"].items()
              for stat, v in per.items() if isinstance(v, dict)]).round(3)"""),
    figure_cell("""Image("../calibration/ppc_un_distance.png")"""),
    new_markdown_cell("""## A small backtest
60 particles, one rolling origin (2016: filtered on the data to the end of 2016, forecast
2017–2019) and the 2020–2024 forecasts from the state filtered on all data to 2019 (never
scored: no outcome after 2019 is read). `sim backtest` reports the full version (200 particles,
origins 2014–2018); the numbers here are noisier.

**Read the scores with two caveats.** The model's own parameters come from the calibration,
which saw every year to 2019, so they are **in sample** for the rolling origins' targets (only
the observation parameters are re-estimated at each origin); the scores are optimistic by that
much. And even so, the model **loses to the naive baselines on several series**: a negative
skill below means the random walk with drift, the AR(1) or the VAR forecast that series better.
The ICEWS channel ends in 2014, so it has no target after a 2016 origin and is not scored here."""),
    new_code_cell("""out = Path(tempfile.mkdtemp()) / "backtest"
res = bt.backtest(out=out, runs=60, seed=1, calibration="../calibration", origins=(2016,),
                  samples=300)
print(f"{res['time_s']} s")
res["skill"][res["skill"].pair == "all"].pivot_table(
    index="series", columns="baseline", values="skill", sort=False).round(3)"""),
    new_markdown_cell("""CRPS skill 1 − CRPS(model)/CRPS(baseline) per series (all pairs), > 0: the
model is better. Per pair, with the model's interval coverage (50% and 90% intervals should
contain about 50% and 90% of the outcomes):"""),
    new_code_cell("""res["skill"][res["skill"].pair != "all"][
    ["series", "pair", "baseline", "n", "skill", "coverage50_model", "coverage90_model"]
].round(3)"""),
    new_markdown_cell("The same as a figure (its title names the full design; this run used "
                      "origin 2016 only):"),
    figure_cell("bt.fig_skill(res['skill'])"),
    new_markdown_cell("""## Fan chart: monthly US–China trade
Filtered on the data to 2019 (the band before 2020 is the filter's fit), forecast 2020–2024
after the dotted line."""),
    figure_cell("""obs = bt.observed_table(CHANNELS)
name = "trade_usa_chn_monthly"
bt.fig_forecast(name, CHANNELS[name].title, res["predictions"], obs)"""),
    new_code_cell("""p = res["predictions"]
p[(p.year > 2019) & (p.series == "un_distance")].pivot_table(
    index="pair", columns="year", values=["q05", "q50", "q95"]).round(2)"""),
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
