"""Figures, tables and hypothesis results behind docs/SCENARIOS.md.

Run from the repository root (about a minute on 2 cores):

    .venv/bin/python docs/make_scenario_figures.py

Every scenario of the library runs under the same design: the parameter draws of the
baseline's ``[uncertainties]`` (``sim.uncertainty.make_design``: 200 draws x 5 runs, master seed
1), shared by every scenario, and the same random streams (run i of every scenario pairs with
run i of the baseline). Each scenario also runs at its file's own parameter values (500 runs,
noise only) for the "at the file's values" column. Every effect is reported as its mean over
draws, its Monte-Carlo 95% interval, the 90% interval across parameter draws and the share of
draws with the mean's sign (``sim.effects``).

Writes into docs/figures/scenarios/:

- ``<group>_<figure>.png``: comparison figures (``Comparison.figures()``) of each group;
- ``<group>_table.md``: the full effects table of the group (``Comparison.effects_markdown()``,
  relation and latent scales, 12 and 36 months and the horizon), other dyads, decisions;
- ``library_overview.md``: every scenario against the baseline;
- ``hypotheses.md``: the article's claims H1-H4 (``sim.hypotheses``, the design of
  tests/test_hypotheses.py), decided on the draws.

and fills the generated blocks of docs/SCENARIOS.md (between ``<!-- BEGIN generated: NAME -->``
and ``<!-- END generated: NAME -->``); the text around them is written by hand. Output files
contain no timestamps: a rerun gives the same numbers.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from sim import hypotheses as h
from sim.comparison import Comparison
from sim.effects import effect_stats, effects_view, sign_text, table_markdown
from sim.results import Results
from sim.spec import load_scenario
from sim.uncertainty import Design, make_design, simulate_design

ROOT = Path(__file__).resolve().parents[1]
OUT = Path("docs/figures/scenarios")
DOC = Path("docs/SCENARIOS.md")
SCEN = Path("scenarios")
SEED, FIXED_RUNS = 1, 500
DPI = 90

# the scenario library (the backtest scenario history_2014_2024 is not part of it)
LIBRARY = ["baseline", "no_may2024_tariffs", "tariff_escalation", "detente", "allied_pressure",
           "secondary_sanctions_enforced", "chinese_military_aid", "pos2_signed",
           "yuan_finance_access", "peace_talks", "baseline_calibrated"]

# group -> (scenarios, reference first; figures to keep)
FIGS = ["paired_differences", "outcomes_over_time", "deal_probabilities"]
GROUPS: dict[str, tuple[list[str], list[str]]] = {
    "trade_war": (["baseline", "no_may2024_tariffs", "tariff_escalation", "detente"], FIGS),
    "western_pressure": (["baseline", "allied_pressure", "secondary_sanctions_enforced",
                          "chinese_military_aid"], FIGS),
    "asks_diplomacy": (["baseline", "pos2_signed", "yuan_finance_access", "peace_talks"], FIGS),
    "parameters": (["baseline", "baseline_calibrated"], ["triangle_patterns", *FIGS]),
}

MONTHS = (12, 36, 72)
OTHER_DYADS = [("EU", "CHN"), ("JPN", "CHN"), ("EU", "RUS"), ("JPN", "RUS"), ("CHN", "IND"),
               ("USA", "EU"), ("USA", "IND")]


# ------------------------------------------------------------------------------ formatting


def num(v: float, digits: int = 3, signed: bool = True) -> str:
    """A number with a real minus sign; blank for NaN."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    text = f"{v:+.{digits}f}" if signed else f"{v:.{digits}f}"
    return text.replace("-", "−")


def cell(s: dict, digits: int) -> str:
    """An effect as ``mean ±MC [90% of draws] same-sign%`` (the legend is in SCENARIOS.md)."""
    if np.isnan(s["mean"]):
        return ""
    half = (s["mc_hi"] - s["mc_lo"]) / 2
    text = f"{num(s['mean'], digits)} ±{num(half, digits, signed=False)}"
    if np.isnan(s["param_lo"]):
        return text
    return (f"{text} [{num(s['param_lo'], digits)}, {num(s['param_hi'], digits)}] "
            f"{sign_text(s['sign_share'], s['zero_share'])}")


def md(df: pd.DataFrame) -> str:
    """A DataFrame of strings as a Markdown table: the first column and columns of words
    left-aligned, numbers right-aligned."""
    cols = list(df.columns)

    def words(c: str) -> bool:
        return df[c].astype(str).str.match(r"^[A-Za-z]").any()

    lines = ["| " + " | ".join(cols) + " |",
             "|" + "|".join(":---" if k == 0 or words(c) else "---:"
                            for k, c in enumerate(cols)) + "|"]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines) + "\n"


LEGEND = ("Cells: Δ mean ±half-width of its Monte-Carlo 95% CI [5%–95% of the per-draw "
          "effects, i.e. 90% of parameter draws] and the share of draws whose effect has the sign "
          "of the mean (with the share of draws whose effect is exactly zero when it is 5% or "
          "more).")


# ------------------------------------------------------------------------------ outcomes


def escalated(res: Results) -> np.ndarray:
    """1 where either US escalate rule has fired by each step, ``(R, T+1)``."""
    made = [res.made[:, :, d.index] > 0 for d in res.world.decisions if d.rule == "escalate"]
    return np.any(made, axis=0).astype(float)


def support(res: Results) -> np.ndarray:
    """1 where China has given Russia finance access or military hardware by each step (a
    decision, or a scheduled finance/military event once it has happened), ``(R, T+1)``."""
    made = [res.made[:, :, d.index] > 0 for d in res.world.decisions if d.rule == "grant_ask"
            and d.params.ask in ("finance_access", "military_hardware")]
    out = np.any(made, axis=0) if made else np.zeros((res.runs, len(res.dates)), bool)
    for t, ev in res.world.scheduled_events:
        if ev.type in ("finance_access", "military_aid"):
            out[:, t + 1:] = True
    return out.astype(float)


ROWS: list[tuple[str, Callable[[Results], np.ndarray], int]] = [
    ("USA–CHN x̄", lambda r: r.relation("USA", "CHN"), 3),
    ("USA–CHN artanh x̄", lambda r: r.value("relation_latent:USA-CHN"), 2),
    ("CHN–RUS x̄", lambda r: r.relation("CHN", "RUS"), 3),
    ("CHN–RUS artanh x̄", lambda r: r.value("relation_latent:CHN-RUS"), 2),
    ("USA–RUS x̄", lambda r: r.relation("USA", "RUS"), 3),
    ("USA–CHN trade", lambda r: r.trade("USA", "CHN"), 1),
    ("CHN–RUS trade", lambda r: r.trade("CHN", "RUS"), 1),
    ("P(material support)", support, 3),
    ("P(US escalation)", escalated, 3),
]
"""The outcomes of each scenario's table: label, values ``(R, T+1)``, decimals."""


def stats(res: Results, ref: Results, values: Callable[[Results], np.ndarray],
          month: int) -> dict:
    """Effect statistics of ``res − ref`` at ``month`` (same runs, same draws)."""
    d = values(res)[:, month] - values(ref)[:, month]
    return effect_stats(d, np.asarray(res.traj.draw))


def level(res: Results, values: Callable[[Results], np.ndarray], month: int) -> dict:
    """Mean over draws of an outcome at ``month``, with 90% of draws and of runs."""
    v = values(res)[:, month]
    s = effect_stats(v, np.asarray(res.traj.draw))
    return {**s, "run_lo": float(np.quantile(v, 0.05)), "run_hi": float(np.quantile(v, 0.95))}


# ------------------------------------------------------------------------------ tables


def scenario_table(name: str, drawn: dict[str, Results], fixed: dict[str, Results]) -> str:
    """A scenario against the baseline: each outcome's effect at 12, 36 and 72 months under
    the draws, and at the horizon at the file's own values (noise only)."""
    res, ref = drawn[name], drawn["baseline"]
    rows = []
    for label, values, digits in ROWS:
        row = {"outcome": label,
               "baseline at m72": num(level(ref, values, 72)["mean"], digits, signed=False)}
        for m in MONTHS:
            row[f"Δ m{m}"] = cell(stats(res, ref, values, m), digits)
        s = stats(fixed[name], fixed["baseline"], values, 72)
        row["Δ m72 at the file's values"] = cell(s, digits)
        rows.append(row)
    return md(pd.DataFrame(rows))


def deals_table(names: list[str], drawn: dict[str, Results]) -> str:
    """Share of runs in which each decision has been taken by the horizon, with 90% of the
    per-draw shares."""
    labels = list(dict.fromkeys(d.label for n in names for d in drawn[n].world.decisions))
    rows = []
    for lab in labels:
        row = {"decision by 2030-05": lab}
        for n in names:
            res = drawn[n]
            dec = [d for d in res.world.decisions if d.label == lab]
            if not dec or not getattr(dec[0].params, "enabled", True):
                row[n] = "—"
                continue
            taken = (res.made[:, -1, dec[0].index] > 0).astype(float)
            s = effect_stats(taken, np.asarray(res.traj.draw))
            row[n] = f"{s['mean']:.3f} [{s['param_lo']:.3f}, {s['param_hi']:.3f}]"
        rows.append(row)
    return md(pd.DataFrame(rows))


def glance(drawn: dict[str, Results]) -> str:
    """Every scenario's effect at the horizon (and USA–CHN at 12 months)."""
    ref = drawn["baseline"]
    pick = [ROWS[0], ROWS[2], ROWS[5], ROWS[7], ROWS[8]]
    rows = []
    for name in LIBRARY[1:]:
        row = {"scenario": name,
               "Δ USA–CHN x̄ m12": cell(stats(drawn[name], ref, ROWS[0][1], 12), 3)}
        for label, values, digits in pick:
            row[f"Δ {label.replace('P(', '').rstrip(')')} m72"] = cell(
                stats(drawn[name], ref, values, 72), digits)
        rows.append(row)
    return md(pd.DataFrame(rows))


def baseline_levels(drawn: dict[str, Results], fixed: dict[str, Results]) -> str:
    res, plain = drawn["baseline"], fixed["baseline"]
    rows = []
    for label, values, digits in [r for k, r in enumerate(ROWS) if k in (0, 2, 4, 5, 6)]:
        s, p = level(res, values, 72), level(plain, values, 72)
        rows.append({
            "outcome": label,
            "start (2024-05)": num(float(values(res)[:, 0].mean()), digits, signed=False),
            "mean at 2030-05": num(s["mean"], digits, signed=False),
            "90% of draws (per-draw means)": f"{num(s['param_lo'], digits, False)} … "
                                             f"{num(s['param_hi'], digits, False)}",
            "90% of runs": f"{num(s['run_lo'], digits, False)} … "
                           f"{num(s['run_hi'], digits, False)}",
            "at the file's values: mean (90% of runs)":
                f"{num(p['mean'], digits, signed=False)} ({num(p['run_lo'], digits, False)} … "
                f"{num(p['run_hi'], digits, False)})"})
    return md(pd.DataFrame(rows))


def baseline_decisions(drawn: dict[str, Results]) -> str:
    res = drawn["baseline"]
    draw = np.asarray(res.traj.draw)
    rows = []
    for d in res.world.decisions:
        made = res.made[:, :, d.index] > 0
        s12 = effect_stats(made[:, 12].astype(float), draw)
        s72 = effect_stats(made[:, -1].astype(float), draw)
        first = made.argmax(axis=1)[made[:, -1]]
        rows.append({"decision": d.label,
                     "within 12 months [90% of draws]":
                         f"{s12['mean']:.3f} [{s12['param_lo']:.3f}, {s12['param_hi']:.3f}]",
                     "by 2030-05 [90% of draws]":
                         f"{s72['mean']:.3f} [{s72['param_lo']:.3f}, {s72['param_hi']:.3f}]",
                     "median first month": f"m{np.median(first):.0f}" if first.size else "—"})
    return md(pd.DataFrame(rows))


def baseline_facts(drawn: dict[str, Results]) -> str:
    """Saturation and triangle facts of the baseline, as a list."""
    res = drawn["baseline"]
    draw = np.asarray(res.traj.draw)
    cr, uc = res.relation("CHN", "RUS")[:, -1], res.relation("USA", "CHN")[:, -1]
    marriage = effect_stats((res.dittmer_codes[:, -1] == 1).astype(float), draw)
    near_cr = effect_stats((cr > 0.95).astype(float), draw)
    near_uc = effect_stats((uc < -0.95).astype(float), draw)
    bal = res.value("balanced_share")
    return "\n".join([
        f"- Share of runs in a Dittmer stable marriage at 2030-05: {marriage['mean']:.3f} "
        f"(90% of draws {marriage['param_lo']:.3f} … {marriage['param_hi']:.3f}).",
        f"- Share of runs with CHN–RUS x̄ above +0.95 at 2030-05: {near_cr['mean']:.3f} "
        f"(90% of draws {near_cr['param_lo']:.3f} … {near_cr['param_hi']:.3f}); with USA–CHN "
        f"below −0.95: {near_uc['mean']:.3f} ({near_uc['param_lo']:.3f} … "
        f"{near_uc['param_hi']:.3f}).",
        f"- Share of balanced (closed) triads, mean over runs: m0 {np.nanmean(bal[:, 0]):.3f}, "
        f"m24 {np.nanmean(bal[:, 24]):.3f}, m48 {np.nanmean(bal[:, 48]):.3f}, m72 "
        f"{np.nanmean(bal[:, -1]):.3f}.",
    ]) + "\n"


def other_dyads(comp: Comparison) -> pd.DataFrame:
    """Effects at the horizon on dyads outside the USA-CHN-RUS triangle."""
    ref = comp.results[comp.reference]
    rows = []
    for a, b in OTHER_DYADS:
        row = {"dyad": f"{a}–{b}",
               "baseline mean": num(float(ref.relation(a, b)[:, -1].mean()), signed=False)}
        for name in comp.names[1:]:
            row[name] = cell(stats(comp.results[name], ref, lambda r, a=a, b=b: r.relation(a, b),
                                   72), 3)
        rows.append(row)
    return pd.DataFrame(rows)


def group_table(group: str, comp: Comparison, drawn: dict[str, Results]) -> str:
    return "\n".join([
        f"# {group}: {comp.reference} (reference) vs {', '.join(comp.names[1:])}",
        "",
        "Generated by docs/make_scenario_figures.py.",
        "",
        "## Other dyads at 2030-05 (Δ x̄, scenario − baseline)",
        "",
        LEGEND,
        "",
        md(other_dyads(comp)),
        "## Decisions taken by 2030-05 (share of runs, [90% of draws])",
        "",
        deals_table(comp.names, drawn),
        comp.effects_markdown().replace("# Scenario effects", "## Every effect (sim.compare): "
                                        "scenario effects"),
    ])


def overview(drawn: dict[str, Results], fixed: dict[str, Results]) -> str:
    comp = Comparison({n: drawn[n] for n in LIBRARY}, design=drawn["baseline"].traj.design)
    e = comp.effects
    e = e[e.outcome.isin(["relation_USA-CHN", "relation_CHN-RUS", "relation_USA-RUS",
                          "trade_USA-CHN", "trade_USA-RUS", "trade_CHN-RUS"])]
    return "\n".join([
        "# The scenario library against the baseline", "",
        "Generated by docs/make_scenario_figures.py.", "",
        *(f"Note: {n}.\n" for n in comp.notes),
        "## At a glance", "", LEGEND, "", glance(drawn),
        "## Relations and trade (sim.compare effects)", "",
        table_markdown(effects_view(e)), "",
        "## Decisions by 2030-05", "", deals_table(LIBRARY, drawn),
        "## Baseline levels", "", baseline_levels(drawn, fixed), baseline_facts(drawn),
    ])


# ------------------------------------------------------------------------------ hypotheses


def result_table(df: pd.DataFrame, first: str, digits: int) -> pd.DataFrame:
    """A decided table of :mod:`sim.hypotheses` for reading."""
    return pd.DataFrame({
        first: df[first],
        "mean [MC 95% CI]": [f"{num(m, digits)} [{num(lo, digits)}, {num(hi, digits)}]"
                             for m, lo, hi in zip(df["mean"], df["mc_lo"], df["mc_hi"],
                                                  strict=True)],
        "90% of draws": [f"{num(lo, digits)} … {num(hi, digits)}"
                         for lo, hi in zip(df["param_lo"], df["param_hi"], strict=True)],
        "draws agreeing": ["" if np.isnan(a) else f"{a:.0%}" for a in df["agree"]],
        "within MC error": ["" if np.isnan(a) else f"{a:.0%}" for a in df["near"]],
        "verdict": df["verdict"]})


def h1_mechanism(design: Design) -> str:
    """Why H1's strong form is not decided: per dose (same arms, seeds and draws as
    pressure_dose), the share of runs in which China grants each ask by the horizon."""
    base = h.arm(SCEN / "baseline.toml")
    rows, res = [], {}
    for dose in h.DOSES:
        spec = h.arm(base, values={f"events.pressure_scale.{a}": dose for a in h.ALLIES})
        r = res[dose] = h.run_arm(spec, design)
        row = {"dose": f"{dose:.1f}"}
        for d in r.world.decisions:
            if d.rule == "grant_ask":
                row[f"P({d.params.ask})"] = f"{(r.made[:, -1, d.index] > 0).mean():.3f}"
        row["P(any US escalation)"] = f"{escalated(r)[:, -1].mean():.3f}"
        rows.append(row)
    top, none = res[h.DOSES[-1]], res[h.DOSES[0]]
    grants = [d for d in none.world.decisions if d.rule == "grant_ask"]
    n = sum((top.made[:, -1, d.index] > 0).astype(float) - (none.made[:, -1, d.index] > 0)
            for d in grants)
    s = effect_stats(n, np.asarray(top.traj.draw))
    return "\n".join([
        "Deals China grants by 2030-05, per dose (same arms, seeds and draws):", "",
        md(pd.DataFrame(rows)),
        f"Asks granted per run, 2× − 0×: {cell(s, 3)} (mean ±MC [90% of draws] same sign).",
        ""])


def hypotheses(design: Design) -> tuple[str, dict[str, str]]:
    """hypotheses.md and the blocks of SCENARIOS.md's claims section."""
    base = SCEN / "baseline.toml"
    dose = h.pressure_dose(base, seed=SEED)
    asks = h.asks_within(base, months=12, seed=SEED)
    tariff = h.tariff_effect(base, SCEN / "no_may2024_tariffs.toml", seed=SEED)
    sanctions = h.secondary_sanctions_effect(base, SCEN / "secondary_sanctions_enforced.toml",
                                             seed=SEED)
    claims = h.claims_table(h.pressure_dose_claims(dose), h.asks_claims(asks),
                            h.tariff_claims(tariff), h.sanctions_claims(sanctions))
    short = claims.drop(columns=["owes to the model's construction"])
    levels = pd.DataFrame({
        "dose (× US/EU/JPN hostile acts)": [f"{v:.1f}" for v in dose["dose"]],
        "CHN–RUS x̄ at 2030-05 (mean over draws)": [num(v, 4, signed=False)
                                                    for v in dose["level"]],
        "90% of draws": [f"{num(a, 4, False)} … {num(b, 4, False)}" for a, b in
                         zip(dose["level_lo"], dose["level_hi"], strict=True)]})
    steps = result_table(dose.dropna(subset=["agree"]).assign(
        step=[f"{a:g}× → {b:g}×" for a, b in zip(dose["dose"][:-1], dose["dose"][1:],
                                                 strict=True)]), "step", 5)
    strong = dose.iloc[[-1]][[c for c in dose.columns if c.startswith("strong_")]]
    strong = strong.rename(columns=lambda c: c.removeprefix("strong_")).assign(
        test=f"{h.DOSES[-1]:g}× − {h.DOSES[0]:g}×")
    blocks = {
        "claims": md(short),
        "h1": "\n".join([md(levels), "Weak form, per step up in pressure:", "",
                         md(steps), "Strong form:", "", md(result_table(strong, "test", 5)),
                         h1_mechanism(h.design_for(h.arm(base), seed=SEED))]),
        "h2": md(result_table(asks, "ask", 3)),
        "h3": md(result_table(tariff, "when", 5)),
        "h4": md(result_table(sanctions, "outcome", 4)),
    }
    text = "\n".join([
        "# The article's claims H1–H4 (sim.hypotheses)", "",
        f"Design of tests/test_hypotheses.py: {h.DRAWS} parameter draws × {h.RUNS_PER_DRAW} runs "
        f"per arm, master seed {SEED}, the shipped scenarios with their declared uncertainties; "
        "every arm of a claim shares the draws and the random streams. A claim holds when at "
        f"least {h.AGREE:.0%} of the draws agree, fails when at least {h.AGREE:.0%} disagree, "
        "and is undetermined otherwise. \"within MC error\": share of draws whose effect lies "
        "within its Monte-Carlo 95% error of the threshold. Generated by "
        "docs/make_scenario_figures.py.", "",
        "## Verdicts", "", md(claims),
        "## H1 — pressure dose and China–Russia alignment", "", blocks["h1"],
        "## H2 — limited progress on Russia's asks within 12 months", "", blocks["h2"],
        "## H3 — the May 2024 tariffs lower US–China alignment", "", blocks["h3"],
        "## H4 — enforced secondary sanctions and China's material support", "", blocks["h4"]])
    return text, blocks


# ------------------------------------------------------------------------------ SCENARIOS.md


BLOCK = re.compile(r"(<!-- BEGIN generated: (?P<name>[\w-]+) -->\n)(.*?)"
                   r"(<!-- END generated: (?P=name) -->)", re.DOTALL)


def fill(text: str, blocks: dict[str, str]) -> str:
    """``text`` with every generated block replaced by ``blocks[name]``. Raises ``KeyError``
    naming a block the text has and ``blocks`` lacks, ``ValueError`` for blocks never used."""
    used = set()

    def put(m: re.Match) -> str:
        used.add(m["name"])
        return m.group(1) + blocks[m["name"]].rstrip("\n") + "\n" + m.group(4)

    out = BLOCK.sub(put, text)
    if set(blocks) - used:
        raise ValueError(f"{DOC} has no block for {sorted(set(blocks) - used)}")
    return out


# ------------------------------------------------------------------------------ main


def run_library() -> tuple[dict[str, Results], dict[str, Results], Design]:
    """Every scenario under the baseline's draws, and at its file's own values."""
    specs = {n: load_scenario(SCEN / f"{n}.toml") for n in LIBRARY}
    design = make_design(specs["baseline"], seed=SEED)
    fixed = make_design(specs["baseline"], runs=FIXED_RUNS, seed=SEED, fixed=True)
    drawn = {n: Results(simulate_design(s, design)) for n, s in specs.items()}
    plain = {n: Results(simulate_design(s, fixed)) for n, s in specs.items()}
    return drawn, plain, design


def main() -> None:
    os.chdir(ROOT)
    t0 = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*"):  # the folder holds only this script's output
        if old.suffix in (".png", ".md"):
            old.unlink()
    drawn, plain, design = run_library()
    print(f"ensembles ({design.draws} draws x {design.runs_per_draw} runs; "
          f"{FIXED_RUNS} at fixed values): {time.perf_counter() - t0:.1f} s")

    blocks: dict[str, str] = {"design": (
        f"{design.draws} parameter draws × {design.runs_per_draw} runs per draw = "
        f"{design.runs} runs per scenario, {len(design.names)} uncertain parameters, master "
        f"seed {SEED}; at the file's values: {FIXED_RUNS} runs, noise only.")}
    for group, (names, figs) in GROUPS.items():
        comp = Comparison({n: drawn[n] for n in names}, design=design)
        figures = comp.figures()
        for stem in figs:
            path = OUT / f"{group}_{stem}.png"
            figures[stem].savefig(path, dpi=DPI, metadata={"Software": None})
            print(f"  {path} {path.stat().st_size / 1024:.0f} KB")
        (OUT / f"{group}_table.md").write_text(group_table(group, comp, drawn),
                                               encoding="utf-8")
        blocks[f"deals-{group}"] = deals_table(names, drawn)
        for name in names[1:]:
            blocks[f"scenario-{name}"] = scenario_table(name, drawn, plain)
    print(f"groups: {time.perf_counter() - t0:.1f} s")

    blocks["glance"] = glance(drawn)
    blocks["baseline-levels"] = baseline_levels(drawn, plain)
    blocks["baseline-decisions"] = baseline_decisions(drawn)
    blocks["baseline-facts"] = baseline_facts(drawn)
    (OUT / "library_overview.md").write_text(overview(drawn, plain), encoding="utf-8")
    print(f"overview: {time.perf_counter() - t0:.1f} s")

    text, hyp = hypotheses(design)
    (OUT / "hypotheses.md").write_text(text, encoding="utf-8")
    blocks.update(hyp)
    DOC.write_text(fill(DOC.read_text(encoding="utf-8"), blocks), encoding="utf-8")
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"hypotheses and {DOC}: {time.perf_counter() - t0:.1f} s; docs/figures/scenarios: "
          f"{len(list(OUT.iterdir()))} files, {total / 1024:.0f} KB")


if __name__ == "__main__":
    main()
