"""sim compare: paired differences under common random numbers, tables, figures and the CLI."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE
from matplotlib.figure import Figure

import sim
from sim import effects, pairing
from sim.cli import main
from sim.comparison import CompareError, Comparison, compare, table_markdown
from sim.engine import Trajectory
from sim.results import Results

RUNS = 40
COLUMNS = ["scenario", "outcome", "date", "runs", "mean", "median", "q05", "q95", "pairs",
           "mean_diff", "diff_q05", "diff_q95"]
FIGURES = {"outcomes_over_time", "paired_differences", "horizon_distributions",
           "triangle_patterns", "deal_probabilities"}

CHILDREN = {
    # the baseline under another name: same dynamics
    "same": "",
    # strongly hostile US acts against China early on
    "hostile": """
        [[events]]
        type = "sanctions"
        date = "2024-07"
        actor = "USA"
        target = "CHN"
        intensity = 5.0

        [[events]]
        type = "threat"
        date = "2024-08"
        actor = "USA"
        target = "CHN"
        intensity = 5.0
    """,
    # the same as the baseline until 2025-05 (month 12), then a US tariff on China
    "late": """
        [[events]]
        type = "tariff"
        date = "2025-05"
        actor = "USA"
        target = "CHN"
        rate = 0.5
        coverage = 200.0
        intensity = 3.0
    """,
    # China never grants the pipeline (same number of policies: the draws stay aligned)
    "nopipe": """
        [[policies]]
        rule = "grant_ask"
        actor = "CHN"
        partner = "RUS"
        ask = "pipeline"
        hazard = 0.0
    """,
    # one decision more (Russia also concedes to the EU): missing in the reference
    "extra": """
        [[policies]]
        rule = "concede"
        actor = "RUS"
        partner = "EU"
    """,
    # China's pipeline decision disabled: it keeps its place and never fires
    "nomil": """
        [[policies]]
        rule = "grant_ask"
        actor = "CHN"
        partner = "RUS"
        ask = "military_hardware"
        enabled = false
    """,
    # the baseline with three uncertain parameters (the reference of the draws tests)
    "ubase": """
        [uncertainties]
        "anchor.w_ideology" = { dist = "uniform", lo = 0.2, hi = 1.5, cite = "test" }
        "noise.sigma" = { dist = "uniform", lo = 0.005, hi = 0.03, cite = "test" }
        "events.shock_scale" = { dist = "uniform", lo = 0.0, hi = 0.2, cite = "test" }
    """,
}
# children of "ubase" (same uncertainties, inherited)
UCHILDREN = {"uhostile": CHILDREN["hostile"], "ulate": CHILDREN["late"]}
LATE_STEP = 12  # 2025-05 is month 12 after 2024-05


@pytest.fixture(scope="module")
def scen(tmp_path_factory) -> dict[str, Path]:
    """A copy of the baseline and small children extending it."""
    folder = tmp_path_factory.mktemp("scenarios")
    shutil.copy(BASELINE, folder / "baseline.toml")
    paths = {"baseline": folder / "baseline.toml"}
    for name, body in CHILDREN.items():
        text = (f'[scenario]\nextends = "baseline.toml"\nname = "{name}"\n'
                f'title = "Test child {name}"\n' + textwrap.dedent(body))
        paths[name] = folder / f"{name}.toml"
        paths[name].write_text(text)
    for name, body in UCHILDREN.items():
        text = (f'[scenario]\nextends = "ubase.toml"\nname = "{name}"\n'
                f'title = "Test child {name}"\n' + textwrap.dedent(body))
        paths[name] = folder / f"{name}.toml"
        paths[name].write_text(text)
    return paths


@pytest.fixture(scope="module")
def hostile(scen) -> Comparison:
    return compare([scen["baseline"], scen["hostile"]], runs=RUNS, seed=5)


DRAWS, PER_DRAW = 8, 3


@pytest.fixture(scope="module")
def drawn(scen) -> Comparison:
    """Three scenarios under DRAWS parameter draws of PER_DRAW runs each."""
    return compare([scen["ubase"], scen["uhostile"], scen["ulate"]], draws=DRAWS,
                   runs_per_draw=PER_DRAW, seed=5)


def rows(table: pd.DataFrame, scenario: str) -> pd.DataFrame:
    return table[table["scenario"] == scenario].set_index("outcome")


# ------------------------------------------------------------------------------ pairing


def test_scenario_against_itself_gives_exactly_zero_differences(scen):
    c = compare([scen["baseline"], scen["same"]], runs=RUNS, seed=5)
    base, same = rows(c.table, "baseline"), rows(c.table, "same")
    assert len(same) == len(c.outcome_names) > 7
    for col in ("mean_diff", "diff_q05", "diff_q95"):
        assert (same[col] == 0).all(), col
    stats = ["runs", "mean", "median", "q05", "q95"]
    pd.testing.assert_frame_equal(base[stats], same[stats])
    for outcome in c.outcome_names:
        dates, d = c.paired_difference("same", outcome)
        assert d.shape == (RUNS, len(dates)) and not d.any()
    o = c.outcomes
    a = o[o.scenario == "baseline"]["value"].to_numpy()
    b = o[o.scenario == "same"]["value"].to_numpy()
    assert np.array_equal(a, b)


def test_hostile_child_lowers_usa_chn_and_differences_are_run_by_run(hostile):
    t = rows(hostile.table, "hostile")
    assert t.loc["relation_USA-CHN", "mean_diff"] < 0
    assert t.loc["trade_USA-CHN", "mean_diff"] < 0
    assert t.loc["relation_USA-CHN", "pairs"] == RUNS
    # the table's differences are those of run i minus run i, at the horizon
    ref, alt = hostile.results["baseline"], hostile.results["hostile"]
    d = alt.relation("USA", "CHN")[:, -1] - ref.relation("USA", "CHN")[:, -1]
    assert t.loc["relation_USA-CHN", "mean_diff"] == pytest.approx(d.mean())
    assert t.loc["relation_USA-CHN", "diff_q05"] == pytest.approx(np.quantile(d, 0.05))
    assert t.loc["relation_USA-CHN", "diff_q95"] == pytest.approx(np.quantile(d, 0.95))
    assert hostile.horizon == ref.dates[-1] and hostile.notes == []


def test_pairs_follow_run_ids_not_row_order(hostile):
    """Shuffled and partial ensembles pair run i with run i, only for runs in both."""
    ref, alt = hostile.results["baseline"], hostile.results["hostile"]
    tr = alt.traj
    order = np.random.default_rng(1).permutation(RUNS)[: RUNS - 10]
    part = Trajectory(tr.world, tr.seed, tr.runs[order], tr.x[order], tr.imports[order],
                      tr.prob[order], tr.fired[order])
    c = Comparison({"baseline": ref, "hostile": Results(part)})
    t = rows(c.table, "hostile")
    assert (t["pairs"] == RUNS - 10).all() and (t["runs"] == RUNS - 10).all()
    d = (alt.relation("USA", "CHN")[:, -1] - ref.relation("USA", "CHN")[:, -1])[np.sort(order)]
    assert t.loc["relation_USA-CHN", "mean_diff"] == pytest.approx(d.mean())
    dates, diffs = c.paired_difference("hostile", "trade_USA-CHN")
    assert diffs.shape == (RUNS - 10, len(dates))


def test_common_random_numbers_identical_until_the_scenarios_differ(scen):
    c = compare([scen["baseline"], scen["late"]], runs=RUNS, seed=9)
    o = c.outcomes
    wide = o.pivot_table(index=["run", "step", "outcome"], columns="scenario", values="value",
                         observed=True)
    step = wide.index.get_level_values("step")
    before = wide[step <= LATE_STEP]
    assert np.array_equal(before["baseline"], before["late"])
    after = wide[step == LATE_STEP + 1]
    assert not np.array_equal(after["baseline"], after["late"])
    # the runs themselves differ from each other (the noise is not switched off)
    rel = c.results["late"].relation("USA", "CHN")[:, LATE_STEP]
    assert np.unique(rel).size == RUNS


def test_policy_override_and_missing_decision(scen):
    c = compare([scen["baseline"], scen["nopipe"], scen["nomil"], scen["extra"]], runs=RUNS,
                seed=5)
    base, nopipe, nomil, extra = (rows(c.table, n)
                                  for n in ("baseline", "nopipe", "nomil", "extra"))
    key = "made_CHN:pipeline"
    assert nopipe.loc[key, "mean"] == 0 and base.loc[key, "mean"] > 0
    # paired: every run of the child lacks the deal, so the difference is minus the baseline's
    assert nopipe.loc[key, "mean_diff"] == pytest.approx(-base.loc[key, "mean"])
    # disabling or adding a policy keeps every random draw paired
    assert all(p.streams and not p.reasons for p in c.pairings.values())
    # a value the child sets itself is not drawn (said so), whatever the baseline declares
    assert all("pipeline.hazard" in n for n in c.notes if n.startswith("nopipe"))
    # a disabled decision never fires, and stays paired with the reference's runs
    mil = nomil.loc["made_CHN:military_hardware"]
    assert mil["mean"] == 0 and mil["pairs"] == RUNS
    # the added decision is missing in the reference: own statistics, no difference
    added = "made_RUS:price_concession@EU"
    assert base.loc[added, "runs"] == 0 and extra.loc[added, "runs"] == RUNS
    assert np.isfinite(extra.loc[added, "mean"]) and np.isnan(extra.loc[added, "mean_diff"])


def test_extra_ensemble_arguments_are_passed_through(scen, hostile):
    c = compare([scen["baseline"], scen["hostile"]], runs=RUNS, seed=5, chunk=7)
    pd.testing.assert_frame_equal(c.table, hostile.table)


# ------------------------------------------------------------------------------ tables, figures


def test_api_returns_tables_and_figures(hostile):
    assert isinstance(sim.compare, type(compare)) and sim.Comparison is Comparison
    assert list(hostile.results) == ["baseline", "hostile"]
    o, t, p = hostile.outcomes, hostile.table, hostile.patterns
    assert all(isinstance(df, pd.DataFrame) for df in (o, t, p))
    assert list(o.columns) == ["scenario", "run", "step", "date", "outcome", "value"]
    t1 = len(hostile.results["baseline"].dates)
    assert len(o) == 2 * RUNS * t1 * len(hostile.outcome_names)
    assert {"relation_USA-CHN", "relation_USA-RUS", "relation_CHN-RUS", "trade_CHN-RUS",
            "trade_USA-CHN", "balanced_share", "made_CHN:pipeline"} <= set(o["outcome"])
    made = o[o["outcome"].astype(str).str.startswith("made_")]["value"]
    assert made.isin([0.0, 1.0]).all()
    assert list(t.columns) == COLUMNS
    assert list(p.columns) == ["scenario", "step", "date", "pattern", "share"]
    sums = p.groupby(["scenario", "step"])["share"].sum()
    assert np.allclose(sums, 1.0) and len(sums) == 2 * t1
    figs = hostile.figures()
    assert set(figs) == FIGURES
    assert all(isinstance(f, Figure) for f in figs.values())
    assert all(f._suptitle is not None and f._suptitle.get_text() for f in figs.values())


def test_markdown_table(hostile):
    md = hostile.markdown()
    lines = md.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| scenario"))
    assert lines[header] == "| " + " | ".join(COLUMNS) + " |"
    body = [line for line in lines[header + 2:] if line.startswith("|")]
    assert len(body) == len(hostile.table)
    assert all(line.count("|") == len(COLUMNS) + 1 for line in body)
    cells = {c.strip() for line in body for c in line.strip("|").split("|")}
    assert "nan" not in {c.lower() for c in cells}
    assert md.startswith("# Scenario comparison: baseline (reference) vs hostile")
    # missing values are left blank
    md2 = table_markdown(pd.DataFrame({"outcome": ["a|b"], "mean": [np.nan], "runs": [3]}))
    assert md2.splitlines()[2] == "| a\\|b |  | 3 |"


def test_needs_two_distinct_scenarios(scen):
    with pytest.raises(CompareError, match="at least 2"):
        compare([scen["baseline"]], runs=2)
    with pytest.raises(CompareError, match="baseline"):
        compare([scen["baseline"], scen["baseline"]], runs=2)


# ------------------------------------------------------------------------------ effects


def test_effect_stats_on_known_numbers():
    """Two draws of two runs: e = (1, 3); the formulas of docs (ISSUE9 plan) by hand."""
    s = effects.effect_stats(np.array([0.0, 2.0, 3.0, 3.0]), np.array([0, 0, 1, 1]))
    assert (s["runs"], s["draws"], s["mean"]) == (4, 2, 2.0)
    half = effects.Z95 * np.std([1.0, 3.0], ddof=1) / np.sqrt(2)
    assert (s["mc_lo"], s["mc_hi"]) == pytest.approx((2.0 - half, 2.0 + half))
    assert (s["param_lo"], s["param_hi"]) == pytest.approx((1.1, 2.9))
    assert s["sign_share"] == 1.0
    # one draw of three against the mean's sign; draws of unequal size are averaged per draw
    s = effects.effect_stats(np.array([-1.0, 2.0, 4.0, 3.0]), np.array([5, 7, 7, 9]))
    assert s["draws"] == 3 and s["mean"] == pytest.approx((-1 + 3 + 3) / 3)
    assert s["sign_share"] == pytest.approx(2 / 3)
    assert list(effects.per_draw(np.array([1.0, 2.0, 4.0]), np.array([2, 0, 2]))) == [2.0, 2.5]
    with pytest.raises(ValueError, match="same"):
        effects.per_draw(np.ones(3), np.zeros(2))


def test_effect_stats_with_fixed_parameters_use_the_runs_and_leave_draws_blank():
    d = np.array([1.0, 2.0, 3.0, 6.0])
    s = effects.effect_stats(d)
    half = effects.Z95 * d.std(ddof=1) / 2
    assert s["draws"] == 1 and (s["mc_lo"], s["mc_hi"]) == pytest.approx((3 - half, 3 + half))
    assert np.isnan(s["param_lo"]) and np.isnan(s["param_hi"]) and np.isnan(s["sign_share"])
    assert np.isnan(effects.effect_stats(np.empty(0))["mean"])


def test_effects_table_reports_12_36_months_and_horizon_on_both_scales(hostile):
    e = hostile.effects
    assert list(e.columns) == effects.EFFECT_COLUMNS
    usa_chn = e[(e.scenario == "hostile") & (e.outcome == "relation_USA-CHN")]
    assert list(usa_chn["month"]) == [12, 36, 72] * 2
    assert list(usa_chn["scale"]) == ["relation"] * 3 + ["latent"] * 3
    assert list(usa_chn["horizon"]) == [False, False, True] * 2
    assert set(e[e.outcome == "trade_USA-CHN"]["scale"]) == {"trade"}
    assert "baseline" not in set(e["scenario"])
    ref, alt = hostile.results["baseline"], hostile.results["hostile"]
    for row in usa_chn.itertuples():
        x, y = alt.relation("USA", "CHN")[:, row.month], ref.relation("USA", "CHN")[:, row.month]
        if row.scale == "latent":  # artanh, the bounds ±1 clipped to 1 - 1e-12
            x, y = (np.arctanh(np.clip(v, -1 + 1e-12, 1 - 1e-12)) for v in (x, y))
        want = effects.effect_stats(x - y, pairing.draw_index(alt.traj))
        assert row.mean == pytest.approx(want["mean"]) and row.mc_lo == pytest.approx(
            want["mc_lo"])
    # the horizon row on the relation scale is the table's mean paired difference
    horizon = usa_chn[usa_chn.horizon & (usa_chn.scale == "relation")].iloc[0]
    table = rows(hostile.table, "hostile")
    assert horizon["mean"] == pytest.approx(table.loc["relation_USA-CHN", "mean_diff"])
    assert horizon["mean"] < 0 and horizon["paired"]


def test_scenarios_share_the_parameter_draws_and_effects_are_per_draw(drawn):
    ref, alt = drawn.results["ubase"], drawn.results["uhostile"]
    assert drawn.draws == DRAWS and drawn.runs == DRAWS * PER_DRAW and drawn.notes == []
    assert np.array_equal(ref.traj.draw, np.repeat(np.arange(DRAWS), PER_DRAW))
    for name in ("anchor.w_ideology", "noise.sigma", "events.shock_scale"):
        values = ref.traj.params[name]
        assert np.array_equal(values, alt.traj.params[name]), name
        assert np.unique(values).size == DRAWS  # one value per draw, shared by its runs
    e = drawn.effects.set_index(["scenario", "outcome", "scale", "month"])
    row = e.loc[("uhostile", "relation_USA-CHN", "relation", 72)]
    diff = alt.relation("USA", "CHN")[:, -1] - ref.relation("USA", "CHN")[:, -1]
    per_draw = diff.reshape(DRAWS, PER_DRAW).mean(axis=1)
    assert row["draws"] == DRAWS and row["mean"] == pytest.approx(per_draw.mean())
    half = effects.Z95 * per_draw.std(ddof=1) / np.sqrt(DRAWS)
    assert row["mc_hi"] - row["mean"] == pytest.approx(half)
    assert (row["param_lo"], row["param_hi"]) == pytest.approx(
        tuple(np.quantile(per_draw, [0.05, 0.95])))
    assert row["sign_share"] == pytest.approx(np.mean(np.sign(per_draw) == np.sign(
        per_draw.mean())))
    # the same scenario until month 12: every draw's effect is exactly zero there
    late = e.loc[("ulate", "relation_USA-CHN", "relation", 12)]
    assert late["mean"] == 0 and late["param_lo"] == late["param_hi"] == 0
    md = drawn.effects_markdown()
    assert f"{DRAWS} parameter draws × {PER_DRAW} runs per draw" in md
    assert not re.search(r"\bnan\b", md, flags=re.IGNORECASE)


def test_runs_that_are_not_paired_are_reported_and_drawn_as_such(hostile):
    """Another master seed: run i no longer shares random streams; every output says so."""
    ref, alt = hostile.results["baseline"], hostile.results["hostile"]
    other = Results(Trajectory(alt.traj.world, 99, alt.traj.runs, alt.traj.x, alt.traj.imports,
                               alt.traj.prob, alt.traj.fired))
    c = Comparison({"baseline": ref, "hostile": other})
    assert not c.pairings["hostile"].streams and hostile.pairings["hostile"].streams
    assert c.unpaired() == ["hostile"] and hostile.unpaired() == []
    assert any("master seed 99" in n for n in c.notes)
    assert not c.effects["paired"].any() and hostile.effects["paired"].all()
    title = c.fig_differences()._suptitle.get_text()
    assert "NOT paired" in title and not title.startswith("Paired")
    assert hostile.fig_differences()._suptitle.get_text().startswith("Paired difference")
    legend = [t.get_text() for t in c.fig_differences().legends[0].get_texts()]
    assert legend == ["hostile (NOT paired)"]
    assert "NOT paired" in c.markdown() and "NOT PAIRED" in c.effects_markdown()


def test_difference_panels_of_one_kind_share_the_y_scale(hostile):
    fig = hostile.fig_differences()
    limits = {ax.get_title(): ax.get_ylim() for ax in fig.axes}
    rel = [v for k, v in limits.items() if k.endswith("relation")]
    trade = [v for k, v in limits.items() if k.endswith("trade")]
    assert len(rel) == 3 and len(set(rel)) == 1
    assert len(trade) == 3 and len(set(trade)) == 1
    # the hostile child moves USA-CHN far more than CHN-RUS: the shared scale shows it
    e = hostile.effects.set_index(["scenario", "outcome", "scale", "month"])
    big = abs(e.loc[("hostile", "relation_USA-CHN", "relation", 12), "mean"])
    small = abs(e.loc[("hostile", "relation_CHN-RUS", "relation", 12), "mean"])
    assert big > 10 * small and rel[0][1] - rel[0][0] >= big


def test_every_key_outcome_figure_shows_all_three_triad_trade_flows(hostile):
    """USA–CHN, USA–RUS and CHN–RUS trade: in the paired differences, the outcomes over time
    and the distributions at the horizon (one declaration: sim.outcomes.key_names)."""
    trade = {"USA–CHN trade", "USA–RUS trade", "CHN–RUS trade"}
    assert {"trade_USA-CHN", "trade_USA-RUS", "trade_CHN-RUS"} <= set(hostile.key_outcomes())
    for fig in (hostile.fig_differences(), hostile.fig_outcomes(), hostile.fig_horizon()):
        titles = {ax.get_title() for ax in fig.axes if ax.get_visible()}
        assert trade <= titles


def test_pattern_figure_is_a_sentence_when_one_pattern_holds_throughout(hostile):
    fig = hostile.fig_patterns()
    codes = {n: np.unique(r.dittmer_codes) for n, r in hostile.results.items()}
    assert all(len(c) == 1 and c[0] == codes["baseline"][0] for c in codes.values())
    (ax,) = fig.axes
    assert not ax.collections and "in every run of every scenario" in ax.texts[0].get_text()
    # one scenario leaves the pattern for a while: panels, that scenario's a stack plot
    ref, alt = hostile.results["baseline"], hostile.results["hostile"]
    moved = Results(alt.traj)
    changed = alt.dittmer_codes.copy()
    changed[: RUNS // 2, 10:20] = 0
    moved.__dict__["dittmer_codes"] = changed
    fig = Comparison({"baseline": ref, "hostile": moved}).fig_patterns()
    panels = {ax.get_title(): ax for ax in fig.axes if ax.get_visible()}
    assert panels["hostile"].collections and not panels["baseline (reference)"].collections
    assert "in every run" in panels["baseline (reference)"].texts[0].get_text()


def test_scenario_doc_effects_carry_their_intervals_and_sign_shares():
    """docs/SCENARIOS.md: every generated block is filled, and every effect under the draws in
    the at-a-glance and per-scenario tables reads mean ±MC [90% of draws] sign share."""
    text = (BASELINE.parents[1] / "docs" / "SCENARIOS.md").read_text(encoding="utf-8")
    blocks = dict(re.findall(r"<!-- BEGIN generated: ([\w-]+) -->\n(.*?)<!-- END generated: "
                             r"\1 -->", text, flags=re.DOTALL))
    assert len(blocks) >= 20 and all(body.strip() for body in blocks.values())
    effect = re.compile(r"^[+−]\d+\.\d+ ±\d+\.\d+ \[[+−]\d+\.\d+, [+−]\d+\.\d+\] "
                        r"([<>]?\d+%( \([<>]?\d+% zero\))?|no change)$")
    checked = 0
    for name, body in blocks.items():
        if not (name.startswith("scenario-") or name == "glance"):
            continue
        for line in body.splitlines()[2:]:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            for c in cells[2:5] if name.startswith("scenario-") else cells[1:]:
                assert effect.match(c), (name, c)
                checked += 1
    assert checked >= 9 * 3 * 10


def test_reporting_modules_do_not_import_the_api():
    """Data flows one way: pairing, effects, figures, comparison and hypotheses sit below
    sim.api (which the CLI and notebooks use)."""
    code = ("import sys, sim.pairing, sim.effects, sim.compare_figures, sim.comparison, "
            "sim.hypotheses; print('sim.api' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------------------ CLI


def test_cli_writes_folder_and_refuses_non_empty(scen, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ["compare", str(scen["baseline"]), str(scen["hostile"]), "--runs", "6", "--seed",
            "3", "--quiet"]
    assert main(argv) == 0
    out = tmp_path / "outputs" / "compare-baseline-vs-hostile"
    printed = capsys.readouterr().out
    assert "USA–CHN relation" in printed and "MC 95% CI" in printed and "latent" in printed
    files = {p.name for p in out.iterdir() if p.is_file()}
    assert files == {"table.csv", "table.md", "outcomes.csv", "patterns.csv", "manifest.json",
                     "effects.csv", "effects.md", "draws.csv"}
    eff = pd.read_csv(out / "effects.csv")
    assert list(eff.columns) == effects.EFFECT_COLUMNS and set(eff["scenario"]) == {"hostile"}
    assert {p.stem for p in (out / "figures").glob("*.png")} == FIGURES
    table = pd.read_csv(out / "table.csv")
    assert list(table.columns) == COLUMNS and set(table["scenario"]) == {"baseline", "hostile"}
    assert pd.read_csv(out / "outcomes.csv")["run"].nunique() == 6
    man = json.loads((out / "manifest.json").read_text())
    assert man["settings"]["kind"] == "compare"
    assert man["settings"]["runs"] == 6 and man["settings"]["seed"] == 3
    assert man["settings"]["engine"] == "auto"
    assert [s["scenario"]["name"] for s in man["resolved_scenarios"]] == ["baseline", "hostile"]
    assert {Path(f["path"]).name for f in man["scenario_files"]} == {"baseline.toml",
                                                                      "hostile.toml"}
    assert "table.md" in man["files"] and "draws.csv" in man["files"]
    # the draws every scenario shared are recorded: the file and its hash in the manifest
    unc = man["settings"]["uncertainty"]
    draws = pd.read_csv(out / "draws.csv")
    assert len(draws) == unc["draws"] == man["settings"]["draws"] == 6  # --runs 6: 6 draws
    assert list(draws.columns[1:]) == unc["parameters"] and len(unc["parameters"]) > 10
    digest = hashlib.sha256(json.dumps(unc["parameters"]).encode())
    digest.update(np.ascontiguousarray(draws.iloc[:, 1:].to_numpy(), dtype="<f8").tobytes())
    assert unc["draws_sha256"] == digest.hexdigest()

    before = (out / "table.csv").read_bytes()
    assert main(argv) == 2
    assert "--force" in capsys.readouterr().err
    assert (out / "table.csv").read_bytes() == before
    assert main([*argv, "--force", "--seed", "4"]) == 0
    assert json.loads((out / "manifest.json").read_text())["settings"]["seed"] == 4
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no leftovers


def test_cli_fixed_params_runs_noise_only_and_says_so(scen, tmp_path, capsys):
    out = tmp_path / "fixed"
    assert main(["compare", str(scen["baseline"]), str(scen["hostile"]), "--fixed-params",
                 "--runs", "5", "--seed", "3", "--quiet", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "parameters fixed (one draw)" in printed and "× 5 runs each" in printed
    assert not (out / "draws.csv").exists()
    eff = pd.read_csv(out / "effects.csv")
    assert (eff["draws"] == 1).all() and eff["param_lo"].isna().all()
    unc = json.loads((out / "manifest.json").read_text())["settings"]["uncertainty"]
    assert unc["fixed_params"] is True and unc["parameters"] == []


def test_cli_bad_input_exit_2_and_nothing_written(scen, tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[scenario]\nextends = "missing.toml"\nname = "bad"\n')
    typo = tmp_path / "typo.toml"
    typo.write_text(f'[scenario]\nextends = "{scen["baseline"]}"\nnmae = "typo"\n')
    out = tmp_path / "o"
    cases = [
        [str(scen["baseline"]), str(bad)],
        [str(scen["baseline"]), str(tmp_path / "nope.toml")],
        [str(scen["baseline"])],
        [str(scen["baseline"]), str(scen["baseline"])],
    ]
    for args in cases:
        assert main(["compare", *args, "--runs", "2", "--out", str(out), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1, err
        assert not out.exists()
    assert main(["compare", str(scen["baseline"]), str(typo), "--out", str(out)]) == 2
    assert "nmae" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["compare", str(scen["baseline"]), str(scen["same"]), "--runs", "0"])
    assert exc.value.code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml", "typo.toml"]


def test_sign_share_never_rounds_to_a_bound_it_has_not_reached():
    """A share of 0.998 is not shown as 100%, nor 0.002 as 0%: "0% (100% zero)" would read as
    every draw being zero when two in a thousand are not."""
    from sim.effects import sign_text

    assert sign_text(0.002, 0.998) == "<1% (>99% zero)"
    assert sign_text(1.0, 0.0) == "100%"
    assert sign_text(0.995, 0.0) == ">99%"
    assert sign_text(0.16, 0.84) == "16% (84% zero)"
    assert sign_text(1.0, 1.0) == "no change"  # not "100%" of a sign it does not have


def test_a_value_that_rounds_to_zero_is_shown_without_a_sign():
    """'-0.0' and '+0.000' say a direction the shown number does not have."""
    from sim.effects import effect_cells, interval, signed

    assert [signed(v, 3) for v in (0.0004, -0.0004, 0.0, -0.0, 0.0006, -0.02)] == \
        ["0.000", "0.000", "0.000", "0.000", "+0.001", "-0.020"]
    assert signed(-0.04, 1) == "0.0" and signed(-0.06, 1) == "-0.1"
    assert interval(-0.0002, 0.0031, 3) == "[0.000, +0.003]"

    class Row:  # a trade effect that rounds to zero at its 1 decimal
        scale, mean, mc_lo, mc_hi, param_lo, param_hi = "trade", -0.03, -0.04, -0.01, -0.2, 0.01
        sign_share, zero_share = 0.8, 0.0

    cells = effect_cells(Row)
    assert cells["Δ mean"] == "0.0" and cells["MC 95% CI"] == "[0.0, 0.0]"
    assert "-0.0" not in " ".join(cells.values())


def test_the_effects_view_names_each_scale_unit(tmp_path):
    """A reader of `sim compare` sees what a trade number is measured in."""
    import pandas as pd

    from sim.effects import UNITS, effects_view

    row = {"scenario": "s", "outcome": "trade_USA-CHN", "scale": "trade", "date": "2030-05",
           "month": 72, "horizon": True, "paired": True, "mean": 1.0, "mc_lo": 0.5, "mc_hi": 1.5,
           "param_lo": 0.1, "param_hi": 2.0, "sign_share": 1.0, "zero_share": 0.0}
    view = effects_view(pd.DataFrame([row]))
    assert view["scale"][0] == f"trade ({UNITS['trade']})" and "USD" in view["scale"][0]


def test_decision_figures_name_each_decision_in_words(hostile):
    """Comparison panels and the one-ensemble legend say what each decision is, not a code."""
    from sim.plots import fig_deals

    titles = [ax.get_title() for ax in hostile.fig_deals().axes if ax.get_visible()]
    assert any("CHN grants RUS a gas pipeline deal" in t for t in titles)
    assert any("USA raises tariffs on CHN for backing RUS" in t for t in titles)
    legend = [t.get_text() for t in fig_deals(hostile.results["baseline"]).legends[0].get_texts()]
    assert "CHN: pipeline = CHN grants RUS a gas pipeline deal" in legend


def test_event_lines_are_numbered_with_a_key_of_titles_and_dates(hostile):
    from sim.plots import event_numbers, fig_relations, fig_trade

    res = hostile.results["hostile"]
    months = event_numbers(res.world)
    for fig in (fig_relations(res), fig_trade(res)):
        (ax,) = fig.axes
        marks = [t.get_text() for t in ax.texts]
        assert marks == [str(k) for k in range(1, len(months) + 1)]
        key = fig._supxlabel.get_text()
        assert "1  2024-05: USA→CHN tariff (may2024_tariffs)" in key
        assert "4  2024-08: USA→CHN threat" in key and len(months) == 5


def _texts(fig) -> str:
    """Every piece of text of a matplotlib figure (titles, legends, annotations), a line each."""
    from matplotlib.text import Text

    return "\n".join(t.get_text() for t in fig.findobj(Text))


def test_triangle_and_pattern_figures_name_the_scenario_and_the_pattern(hostile):
    """The triangle figure says whose triangle it is; Dittmer's names are spelt as his
    (ménage à trois); a pattern that never changes is said in words, not drawn as a flat
    band."""
    import copy

    from sim.plots import fig_patterns, fig_triangle

    res = hostile.results[hostile.reference]
    assert res.world.spec.scenario.title in fig_triangle(res)._suptitle.get_text()
    text = _texts(fig_patterns(res))
    if np.unique(res.dittmer_codes).size == 1:
        assert "same pattern in every run" in text and "nothing to plot" in text
    else:
        assert "ménage à trois" in text and "menage" not in text
    mixed = copy.copy(res)  # one run-month in another pattern: the shares are drawn
    codes = res.dittmer_codes.copy()
    codes[0, -1] = (codes[0, -1] + 1) % 4
    mixed.__dict__["dittmer_codes"] = codes  # a cached property: the copy's own value
    text = _texts(fig_patterns(mixed))
    assert "ménage à trois" in text and "menage" not in text and "nothing to plot" not in text


def test_one_month_spikes_do_not_flatten_the_probability_panel(hostile):
    """A first-month spike sets no scale: the panel is clipped and says by how much."""
    from sim.plots import fig_deals, spike_limit

    flat = np.full(100, 0.01)
    assert spike_limit(flat) is None  # nothing to clip
    spiky = flat.copy()
    spiky[0] = 0.30
    assert 0.01 <= spike_limit(spiky) < 0.30
    res = hostile.results[hostile.reference]
    prob = res.mean_prob()
    fig = fig_deals(res)
    top = fig.axes[1].get_ylim()[1]
    limit = spike_limit(prob.ravel())
    if limit is None:
        assert top >= np.nanmax(prob) and "clipped" not in _texts(fig)
    else:
        assert top == pytest.approx(limit)
        assert f"peaks up to {np.nanmax(prob):.1%} clipped" in _texts(fig)


def test_heatmap_says_what_its_colour_means_and_keeps_values_legible(hostile):
    from sim.plots import HEATMAP_READING, fig_heatmap

    res = hostile.results[hostile.reference]
    fig = fig_heatmap(res)
    assert HEATMAP_READING in fig._suptitle.get_text() and "hostile" in HEATMAP_READING
    sizes = {t.get_fontsize() for ax in fig.axes[:2] for t in ax.texts}
    assert sizes and min(sizes) >= 6
