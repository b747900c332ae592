"""Figures, tables and hypothesis results behind docs/SCENARIOS.md.

Run from the repository root (takes well under a few minutes on 2 cores):

    .venv/bin/python docs/make_scenario_figures.py

Writes into docs/figures/scenarios/:

- ``<group>_<figure>.png``: comparison figures (``sim.compare``) of each group of scenarios;
- ``<group>_table.md``: paired differences at the horizon (mean with its 95% interval, and the
  5%-95% range over runs), decision timing, and the full ``Comparison.markdown()`` table;
- ``library_overview.md``: every scenario against the baseline, under the default and under
  the calibrated parameters (calibration/mechanisms_2019.toml);
- ``hypotheses.md``: the article's claims H1-H4 (``sim.hypotheses``) with the runs and seeds of
  tests/test_hypotheses.py, under both parameter sets, plus a look at why H1's strong form fails.

Every scenario is run once per parameter set (500 runs, master seed 1: common random numbers, so
run i of every scenario shares its random streams with run i of the baseline); the groups are
comparisons built from those ensembles. Output files contain no timestamps: a rerun gives the
same numbers.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sim import hypotheses as h
from sim.api import run
from sim.comparison import Comparison

ROOT = Path(__file__).resolve().parents[1]
OUT = Path("docs/figures/scenarios")
SCEN = Path("scenarios")
CALIBRATED = Path("calibration/mechanisms_2019.toml")
RUNS, SEED = 500, 1
DPI = 90

# the scenario library (the backtest scenario history_2014_2024 is not part of it)
LIBRARY = ["baseline", "no_may2024_tariffs", "tariff_escalation", "detente", "allied_pressure",
           "secondary_sanctions_enforced", "chinese_military_aid", "pos2_signed",
           "yuan_finance_access", "peace_talks", "baseline_calibrated"]

# group -> (scenarios, reference first; figures to keep)
GROUPS: dict[str, tuple[list[str], list[str]]] = {
    "trade_war": (["baseline", "no_may2024_tariffs", "tariff_escalation", "detente"],
                  ["paired_differences", "outcomes_over_time", "deal_probabilities"]),
    "western_pressure": (["baseline", "allied_pressure", "secondary_sanctions_enforced",
                          "chinese_military_aid"],
                         ["paired_differences", "outcomes_over_time", "deal_probabilities"]),
    "asks_diplomacy": (["baseline", "pos2_signed", "yuan_finance_access", "peace_talks"],
                       ["paired_differences", "outcomes_over_time", "deal_probabilities"]),
    "parameters": (["baseline", "baseline_calibrated"],
                   ["outcomes_over_time", "paired_differences", "deal_probabilities"]),
}

RELATIONS = ["relation_USA-CHN", "relation_USA-RUS", "relation_CHN-RUS"]
TRADES = ["trade_USA-CHN", "trade_USA-RUS", "trade_CHN-RUS"]


# ------------------------------------------------------------------------------ formatting


def f(v: float, digits: int = 3, signed: bool = True) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    d = digits if abs(v) < 10 else 1
    return f"{v:+.{d}f}" if signed else f"{v:.{d}f}"


def ci(lo: float, hi: float, digits: int = 3) -> str:
    return f"[{f(lo, digits)}, {f(hi, digits)}]"


def md(df: pd.DataFrame) -> str:
    """A DataFrame of strings as a Markdown table (first column left-aligned)."""
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |",
             "|" + "|".join(":---" if k == 0 else "---:" for k in range(len(cols))) + "|"]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------ tables


def horizon_diffs(comp: Comparison, outcomes: list[str]) -> pd.DataFrame:
    """Per scenario and outcome: reference and scenario means at the horizon, the paired mean
    difference with its normal 95% interval, and the 5%-95% range of run-by-run differences."""
    rows = []
    for name in comp.names[1:]:
        for out in outcomes:
            dates, d = comp.paired_difference(name, out)
            if d.size == 0:
                continue
            v = d[:, dates.index(comp.horizon)]
            m, lo, hi = h.mean_ci(v)
            q05, q95 = np.quantile(v, [0.05, 0.95])
            ref = comp.values[comp.reference][out][:, -1].mean()
            mine = comp.values[name][out][:, comp.results[name].dates.index(comp.horizon)].mean()
            rows.append({"scenario": name, "outcome": out, "reference_mean": ref,
                         "scenario_mean": mine, "mean_diff": m, "ci95_lo": lo, "ci95_hi": hi,
                         "run_q05": q05, "run_q95": q95})
    return pd.DataFrame(rows)


PATH_MONTHS = [6, 12, 24, 36, 48, 60, 72]


def diff_path(comp: Comparison) -> pd.DataFrame:
    """Mean paired difference of the key outcomes at chosen months, and its largest value
    (in absolute terms) with the month it is reached."""
    rows = []
    for out in [*RELATIONS, "trade_USA-CHN", "trade_CHN-RUS"]:
        digits = 3 if out.startswith("relation") else 1
        for name in comp.names[1:]:
            dates, d = comp.paired_difference(name, out)
            m = d.mean(axis=0)
            k = int(np.argmax(np.abs(m)))
            rows.append({"outcome": out, "scenario": name,
                         **{f"m{t}": f(m[t], digits) for t in PATH_MONTHS if t < len(m)},
                         "largest Δ mean (month)": f"{f(m[k], digits)} (m{k}, {dates[k]})"})
    return pd.DataFrame(rows)


OTHER_DYADS = [("EU", "CHN"), ("JPN", "CHN"), ("EU", "RUS"), ("JPN", "RUS"), ("CHN", "IND"),
               ("USA", "EU"), ("USA", "IND")]


def other_dyads(comp: Comparison) -> pd.DataFrame:
    """Paired differences at the horizon of dyads outside the USA-CHN-RUS triangle."""
    ref = comp.results[comp.reference]
    rows = []
    for a, b in OTHER_DYADS:
        base = ref.relation(a, b)[:, -1]
        row = {"dyad": f"{a}–{b}", "baseline mean": f(base.mean(), signed=False)}
        for name in comp.names[1:]:
            res = comp.results[name]
            v = res.relation(a, b)[:, res.dates.index(comp.horizon)] - base
            m, lo, hi = h.mean_ci(v)
            row[name] = f"{f(m)} {ci(lo, hi)}"
        rows.append(row)
    return pd.DataFrame(rows)


def decision_timing(comp: Comparison) -> pd.DataFrame:
    """Per scenario and decision: share of runs taken within 12 months and by the horizon, and
    the median month (after the start) of the first time among runs that take it."""
    rows = []
    for name in comp.names:
        res = comp.results[name]
        for d in res.world.decisions:
            made = res.made[:, :, d.index] > 0
            ever = made[:, -1]
            first = made.argmax(axis=1)[ever]  # step of first firing = months since start
            if not getattr(d.params, "enabled", True):
                rows.append({"scenario": name, "decision": d.label, "share_12m": np.nan,
                             "share_horizon": np.nan, "median_first_month": np.nan})
                continue
            rows.append({"scenario": name, "decision": d.label,
                         "share_12m": made[:, 12].mean(), "share_horizon": ever.mean(),
                         "median_first_month": float(np.median(first)) if ever.any()
                         else np.nan})
    return pd.DataFrame(rows)


def group_table(group: str, comp: Comparison) -> str:
    diffs = horizon_diffs(comp, RELATIONS + TRADES + ["balanced_share"])
    show = pd.DataFrame({
        "outcome": diffs["outcome"], "scenario": diffs["scenario"],
        "baseline mean": [f(v, signed=False) for v in diffs["reference_mean"]],
        "scenario mean": [f(v, signed=False) for v in diffs["scenario_mean"]],
        "Δ mean (paired)": [f(v) for v in diffs["mean_diff"]],
        "95% CI of Δ mean": [ci(a, b) for a, b in zip(diffs["ci95_lo"], diffs["ci95_hi"],
                                                       strict=True)],
        "5%–95% of run Δ": [ci(a, b) for a, b in zip(diffs["run_q05"], diffs["run_q95"],
                                                      strict=True)],
    }).sort_values(["outcome", "scenario"], key=lambda s: s.map(
        {o: k for k, o in enumerate(RELATIONS + TRADES + ["balanced_share"] + comp.names)}))
    timing = decision_timing(comp)
    wide = timing.pivot(index="decision", columns="scenario")
    labels = list(dict.fromkeys(timing["decision"]))
    trows = []
    for lab in labels:
        row = {"decision": lab}
        for name in comp.names:
            if (lab, name) not in [(a, b) for a, b in zip(timing["decision"], timing["scenario"],
                                                           strict=True)]:
                row[name] = "— (not a decision here)"
                continue
            if np.isnan(wide.loc[lab, ("share_12m", name)]):
                row[name] = "disabled (a scheduled event instead)"
                continue
            s12 = wide.loc[lab, ("share_12m", name)]
            sh = wide.loc[lab, ("share_horizon", name)]
            fm = wide.loc[lab, ("median_first_month", name)]
            row[name] = (f"{s12:.3f} / {sh:.3f}" +
                         (f" (m{fm:.0f})" if not np.isnan(fm) else ""))
        trows.append(row)
    parts = [
        f"# {group}: {comp.reference} (reference) vs {', '.join(comp.names[1:])}",
        "",
        f"{comp.runs} runs per scenario, master seed {comp.seed} (common random numbers: run i "
        f"of every scenario uses the same random streams). Horizon {comp.horizon}. "
        "Generated by docs/make_scenario_figures.py.",
        *(f"\nNote: {n}." for n in comp.notes),
        "",
        "## Paired differences at the horizon (scenario − baseline, run by run)",
        "",
        "Relations are dyad means x̄ in [−1, 1]; trade is goods both ways, USD bn/yr. "
        "\"95% CI of Δ mean\" is the normal interval of the mean paired difference; "
        "\"5%–95% of run Δ\" is the range of the run-by-run differences (90% of runs).",
        "",
        md(show),
        "## Mean paired difference over time",
        "",
        "Mean over runs of (scenario − baseline) at month mN after the start (m0 = 2024-05, "
        "m72 = 2030-05 = the horizon), and the largest mean difference with its month.",
        "",
        md(diff_path(comp)),
        "## Other dyads at the horizon (Δ x̄, scenario − baseline, with 95% CI)",
        "",
        md(other_dyads(comp)),
        "## Decisions",
        "",
        "Share of runs in which each decision has been taken within 12 months / by the horizon, "
        "and (mN) the median month, counted from the start (2024-05 = month 0), of the first "
        "time among the runs that take it.",
        "",
        md(pd.DataFrame(trows)),
        comp.markdown().replace("# Scenario comparison", "## Full table (sim.compare): "
                                "scenario comparison"),
    ]
    return "\n".join(parts)


def overview(res: dict[str, object], label: str) -> str:
    """Every scenario against the baseline (paired), relations, trade and decisions."""
    names = [n for n in LIBRARY if n in res]
    comp = Comparison({n: res[n] for n in names})
    diffs = horizon_diffs(comp, RELATIONS + TRADES).set_index(["scenario", "outcome"])
    rows_rel, rows_trade = [], []
    for name in names[1:]:
        cell = {}
        for out in RELATIONS + TRADES:
            r = diffs.loc[(name, out)]
            digits = 3 if out.startswith("relation") else 1
            cell[out] = f"{f(r['mean_diff'], digits)} {ci(r['ci95_lo'], r['ci95_hi'], digits)}"
        rows_rel.append({"scenario": name, **{o.removeprefix("relation_"): cell[o]
                                              for o in RELATIONS}})
        rows_trade.append({"scenario": name, **{o.removeprefix("trade_"): cell[o]
                                                for o in TRADES}})
    # support and escalation: share of runs by the horizon (a scheduled deal counts as taken)
    srows = []
    base = res[names[0]]
    b_esc = escalated(base)
    for name in names:
        r = res[name]
        sup = support_with_events(r)
        esc = escalated(r)
        row = {"scenario": name,
               "P(finance or hardware by horizon)": f"{sup.mean():.3f}",
               "P(any US escalation by horizon)": f"{esc.mean():.3f}",
               "P(stable marriage at horizon)": f"{(r.dittmer_codes[:, -1] == 1).mean():.3f}"}
        if name != names[0]:
            m, lo, hi = h.mean_ci(sup - support_with_events(base))
            row["Δ support"] = f"{f(m)} {ci(lo, hi)}"
            m, lo, hi = h.mean_ci(esc - b_esc)
            row["Δ escalation"] = f"{f(m)} {ci(lo, hi)}"
        else:
            row["Δ support"] = row["Δ escalation"] = "(reference)"
        srows.append(row)
    base_rel = {o: comp.values[names[0]][o][:, -1] for o in RELATIONS}
    sat = pd.DataFrame([{
        "dyad": o.removeprefix("relation_"),
        "baseline x̄ at start": f(comp.values[names[0]][o][:, 0].mean()),
        "baseline mean at horizon": f(base_rel[o].mean()),
        "5%–95% over runs": ci(*np.quantile(base_rel[o], [0.05, 0.95])),
        "share of runs with |x̄| > 0.95": f"{(np.abs(base_rel[o]) > 0.95).mean():.3f}",
    } for o in RELATIONS])
    months = [0, 12, 24, 36, 48, 60, 72]
    b = res[names[0]]
    ids = b.world.ids
    drows = [{"dyad": "share of balanced triads (mean)",
              **{f"m{t}": f"{b.balanced[:, t].mean():.3f}" for t in months}}]
    for i in range(len(ids)):
        for j in range(i + 1, len(ids)):
            x = b.relation(ids[i], ids[j])
            drows.append({"dyad": f"{ids[i]}-{ids[j]}",
                          **{f"m{t}": f(float(np.median(x[:, t]))) for t in months}})
    return "\n".join([
        f"## {label}",
        "",
        f"Reference: baseline under these parameters. {comp.runs} runs per scenario, master seed "
        f"{comp.seed}, horizon {comp.horizon}. Cells: paired mean difference (scenario − "
        "baseline) with its 95% interval.",
        *(f"\nNote: {n}." for n in comp.notes),
        "",
        "### Relations at the horizon (Δ x̄)",
        "",
        md(pd.DataFrame(rows_rel)),
        "### Trade at the horizon (Δ USD bn/yr, goods both ways)",
        "",
        md(pd.DataFrame(rows_trade)),
        "### China's material support for Russia and US escalation",
        "",
        "Material support = China has granted finance access or military hardware by the "
        "horizon (a decision, or a scheduled event in yuan_finance_access and "
        "chinese_military_aid). US escalation = either US escalate rule (tariff or secondary "
        "sanctions) has fired at least once. Stable marriage = the Dittmer pattern of the "
        "USA–CHN–RUS triangle with China and Russia friendly and the US at odds with both.",
        "",
        md(pd.DataFrame(srows)),
        "### How close to the bounds the triangle sits (baseline)",
        "",
        md(sat),
        "### Baseline: median x̄ of every dyad by month (m0 = 2024-05, m72 = 2030-05)",
        "",
        md(pd.DataFrame(drows)),
    ])


def escalated(res) -> np.ndarray:
    made = [res.made[:, -1, d.index] > 0 for d in res.world.decisions if d.rule == "escalate"]
    return np.any(made, axis=0).astype(float)


def support_with_events(res) -> np.ndarray:
    """Material support by the horizon, counting a scheduled finance/military event as given."""
    sched = {ev.type for _, ev in res.world.scheduled_events
             if ev.type in ("finance_access", "military_aid")}
    if sched:
        return np.ones(res.runs)
    return h.material_support(res)


# ------------------------------------------------------------------------------ hypotheses


def hypotheses_md() -> str:
    out = ["# The article's claims H1–H4 (sim.hypotheses)", "",
           "Same runs and seeds as tests/test_hypotheses.py: H1 400 runs per dose, H2–H4 1000 "
           "runs, master seed 1; intervals are 95% (normal for means and paired differences, "
           "Wilson for shares). \"default\" = the parameters of docs/ODD.md; \"calibrated\" = "
           "calibration/mechanisms_2019.toml merged on top. Generated by "
           "docs/make_scenario_figures.py.", ""]
    base = SCEN / "baseline.toml"
    for label, params in (("default", None), ("calibrated", CALIBRATED)):
        out += [f"## Parameters: {label}", ""]
        dose = h.pressure_dose(base, runs=400, seed=1, params=params)
        d = pd.DataFrame({
            "dose (× US/EU/JPN hostile acts)": [f"{v:.1f}" for v in dose["dose"]],
            "CHN–RUS x̄ at horizon": [f(v, 4, signed=False) for v in dose["chn_rus"]],
            "95% CI": [f"[{a:.4f}, {b:.4f}]" for a, b in zip(dose["lo"], dose["hi"],
                                                             strict=True)],
            "Δ from previous dose": [f(v, 5) for v in dose["step_diff"]],
            "95% CI of Δ": ["" if np.isnan(a) else ci(a, b, 5)
                             for a, b in zip(dose["step_lo"], dose["step_hi"], strict=True)],
            "no fall > 0.01 (holds)": ["" if pd.isna(v) else str(bool(v))
                                       for v in dose["holds"]],
        })
        strong = bool(dose.iloc[-1]["lo"] > dose.iloc[0]["hi"])
        out += ["### H1 — pressure dose and China–Russia alignment", "", md(d),
                f"Non-inferiority (every step's lower bound above −0.01): "
                f"**{bool(dose['holds'].dropna().all())}**. Strong form (2× pressure's lower "
                f"bound above no-pressure's upper bound): **{strong}**.", ""]
        out += [h1_mechanism(base, params), ""]
        asks = h.asks_within(base, months=12, runs=1000, seed=1, params=params)
        a = pd.DataFrame({"ask": asks["ask"], "share granted within 12 months":
                          [f"{v:.3f}" for v in asks["share"]],
                          "95% Wilson CI": [f"[{lo:.3f}, {hi:.3f}]" for lo, hi in
                                            zip(asks["lo"], asks["hi"], strict=True)],
                          "upper bound < 0.25 (holds)": [str(bool(v)) for v in asks["holds"]]})
        out += ["### H2 — limited progress on Russia's asks within 12 months", "", md(a)]
        t = h.tariff_effect(base, SCEN / "no_may2024_tariffs.toml", runs=1000, seed=1,
                            params=params)
        tt = pd.DataFrame({"when": t["when"], "Δ USA–CHN x̄ (baseline − no tariffs)":
                           [f(v, 5) for v in t["diff"]],
                           "95% CI": [ci(a, b, 5) for a, b in zip(t["lo"], t["hi"],
                                                                   strict=True)],
                           "upper bound < 0 (holds)": [str(bool(v)) for v in t["holds"]]})
        out += ["### H3 — the May 2024 tariffs lower US–China alignment", "", md(tt)]
        s = h.secondary_sanctions_effect(base, SCEN / "secondary_sanctions_enforced.toml",
                                         runs=1000, seed=1, params=params)
        ss = pd.DataFrame({"outcome": s["outcome"], "Δ (enforced − baseline)":
                           [f(v, 4) for v in s["diff"]],
                           "95% CI": [ci(a, b, 4) for a, b in zip(s["lo"], s["hi"],
                                                                   strict=True)],
                           "upper bound < 0 (holds)": ["" if v is None or pd.isna(v)
                                                       else str(bool(v))
                                                       for v in s["holds"]]})
        out += ["### H4 — enforced secondary sanctions and China's material support", "",
                md(ss)]
    return "\n".join(out)


def h1_mechanism(base: Path, params: Path | None) -> str:
    """Why H1's strong form fails: per dose (same arms and seeds as pressure_dose), the share
    of runs in which China grants each ask by the horizon, and the paired 2× − 0× difference."""
    doses, res = h.DOSES, {}
    for dose in doses:
        spec = h.arm(base, params, {"mechanisms": {"events": {
            "pressure_scale": dict.fromkeys(h.ALLIES, dose)}}})
        res[dose] = run(spec, runs=400, seed=1)
    rows = []
    for dose in doses:
        r = res[dose]
        row = {"dose": f"{dose:.1f}"}
        for d in r.world.decisions:
            if d.rule == "grant_ask":
                row[f"P({d.params.ask})"] = f"{(r.made[:, -1, d.index] > 0).mean():.3f}"
        row["P(any US escalation)"] = f"{escalated(r).mean():.3f}"
        row["mean CHN–RUS x̄"] = f(r.relation("CHN", "RUS")[:, -1].mean(), 4, signed=False)
        rows.append(row)
    top, none = res[doses[-1]], res[doses[0]]
    m, lo, hi = h.mean_ci(top.relation("CHN", "RUS")[:, -1] - none.relation("CHN", "RUS")[:, -1])
    grants = [d for d in none.world.decisions if d.rule == "grant_ask"]
    n_top = sum((top.made[:, -1, d.index] > 0).astype(float) for d in grants)
    n_none = sum((none.made[:, -1, d.index] > 0).astype(float) for d in grants)
    gm, glo, ghi = h.mean_ci(n_top - n_none)
    return "\n".join([
        "Why: the deals China grants by the horizon, per dose (same arms and seeds).", "",
        md(pd.DataFrame(rows)),
        f"Paired 2× − 0× difference: CHN–RUS x̄ at horizon {f(m, 5)} {ci(lo, hi, 5)}; "
        f"number of asks granted per run {f(gm)} {ci(glo, ghi)} (95% CIs).",
    ])


# ------------------------------------------------------------------------------ main


def main() -> None:
    os.chdir(ROOT)
    t0 = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*"):  # the folder holds only this script's output
        if old.suffix in (".png", ".md"):
            old.unlink()

    default = {n: run(SCEN / f"{n}.toml", runs=RUNS, seed=SEED) for n in LIBRARY}
    calibrated = {n: run(h.arm(SCEN / f"{n}.toml", CALIBRATED), runs=RUNS, seed=SEED)
                  for n in LIBRARY if n != "baseline_calibrated"}
    print(f"ensembles: {time.perf_counter() - t0:.1f} s")

    for group, (names, figs) in GROUPS.items():
        comp = Comparison({n: default[n] for n in names})
        figures = comp.figures()
        for stem in figs:
            path = OUT / f"{group}_{stem}.png"
            figures[stem].savefig(path, dpi=DPI, metadata={"Software": None})
            print(f"  {path} {path.stat().st_size / 1024:.0f} KB")
        (OUT / f"{group}_table.md").write_text(group_table(group, comp), encoding="utf-8")
    print(f"groups: {time.perf_counter() - t0:.1f} s")

    text = ["# The scenario library against the baseline", "",
            "Generated by docs/make_scenario_figures.py.", "",
            overview(default, "Default parameters (docs/ODD.md)"), "",
            overview(calibrated, "Calibrated parameters (calibration/mechanisms_2019.toml: "
                                 "anchor fitted, event effects on relations at zero)")]
    (OUT / "library_overview.md").write_text("\n".join(text), encoding="utf-8")
    print(f"overview: {time.perf_counter() - t0:.1f} s")

    (OUT / "hypotheses.md").write_text(hypotheses_md(), encoding="utf-8")
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"hypotheses: {time.perf_counter() - t0:.1f} s; docs/figures/scenarios: "
          f"{len(list(OUT.iterdir()))} files, {total / 1024:.0f} KB")


if __name__ == "__main__":
    main()
