"""sim compare: paired differences under common random numbers, tables, figures and the CLI."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE
from matplotlib.figure import Figure

import sim
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
}
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
    return paths


@pytest.fixture(scope="module")
def hostile(scen) -> Comparison:
    return compare([scen["baseline"], scen["hostile"]], runs=RUNS, seed=5)


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
    assert c.notes == []  # disabling or adding a policy keeps every draw paired
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


# ------------------------------------------------------------------------------ CLI


def test_cli_writes_folder_and_refuses_non_empty(scen, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ["compare", str(scen["baseline"]), str(scen["hostile"]), "--runs", "6", "--seed",
            "3", "--quiet"]
    assert main(argv) == 0
    out = tmp_path / "outputs" / "compare-baseline-vs-hostile"
    assert "USA-CHN" in capsys.readouterr().out
    files = {p.name for p in out.iterdir() if p.is_file()}
    assert files == {"table.csv", "table.md", "outcomes.csv", "patterns.csv", "manifest.json"}
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
    assert "table.md" in man["files"]

    before = (out / "table.csv").read_bytes()
    assert main(argv) == 2
    assert "--force" in capsys.readouterr().err
    assert (out / "table.csv").read_bytes() == before
    assert main([*argv, "--force", "--seed", "4"]) == 0
    assert json.loads((out / "manifest.json").read_text())["settings"]["seed"] == 4
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no leftovers


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
