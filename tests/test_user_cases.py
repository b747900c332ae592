"""Outputs scripts read: every CSV has a header (also without rows), and ``sim compare`` reports
the states a scenario adds."""

from __future__ import annotations

import pandas as pd
from conftest import SMALL

from sim.api import DECISION_COLUMNS
from sim.cli import main
from sim.comparison import compare


def read_every_csv(folder) -> dict[str, pd.DataFrame]:
    """Every CSV under ``folder`` read by pandas (an empty file would raise EmptyDataError)."""
    return {str(p.relative_to(folder)): pd.read_csv(p) for p in sorted(folder.rglob("*.csv"))}


def test_streamed_run_without_policies_writes_decisions_header(small, tmp_path):
    """A scenario without policies has no decisions: the table has its header and no rows."""
    out = tmp_path / "out"
    assert main(["run", str(small), "--runs", "5", "--stream", "--out", str(out), "--quiet",
                 "--no-figures", "--workers", "1"]) == 0
    tables = read_every_csv(out)
    assert "decisions.csv" in tables and "stats.csv" in tables
    assert list(tables["decisions.csv"].columns) == [
        "step", "date", "decision", "mean_probability", "share_taken"] == DECISION_COLUMNS
    assert tables["decisions.csv"].empty
    assert all(len(t.columns) for t in tables.values())


def test_every_csv_of_run_and_compare_has_a_header(small, tmp_path):
    """Per-run tables, figures' side tables and comparison tables of a world without
    policies or events all read back with their columns."""
    out = tmp_path / "run"
    assert main(["run", str(small), "--runs", "3", "--out", str(out), "--quiet"]) == 0
    assert {"timeseries.csv", "states.csv", "outcomes.csv", "summary.csv"} <= set(
        read_every_csv(out))
    plain = small.with_name("plain.toml")
    plain.write_text(SMALL[:SMALL.index("[[events]]")].replace('name = "small"',
                                                               'name = "plain"'))
    cmp_out = tmp_path / "cmp"
    assert main(["compare", str(small), str(plain), "--runs", "3", "--out", str(cmp_out),
                 "--quiet"]) == 0
    tables = read_every_csv(cmp_out)
    assert {"table.csv", "outcomes.csv", "patterns.csv"} <= set(tables)
    assert all(len(t.columns) for t in tables.values())


def test_compare_reports_the_states_a_scenario_adds(small, write_scenario, capsys):
    """A child that adds a state: its relations with the reference's triangle are in the
    table, marked as not paired (pairs 0, no difference), and named in a note."""
    child = write_scenario("""
        [scenario]
        extends = "small.toml"
        name = "with_kaz"
        title = "Plus Kazakhstan"

        [[states]]
        id = "KAZ"
        name = "Kazakhstan"
        capability = 0.003
        gdp = 0.26
        ideal_point = 0.2
        """, "with_kaz.toml")
    comp = compare([small, child], runs=4, seed=1)
    table = comp.table.set_index(["scenario", "outcome"])
    for a in ("USA", "CHN", "RUS"):
        row = table.loc[("with_kaz", f"relation_{a}-KAZ")]
        assert row["runs"] == 4 and -1 <= row["mean"] <= 1
        assert row["pairs"] == 0 and pd.isna(row["mean_diff"])
        assert table.loc[("small", f"relation_{a}-KAZ"), "runs"] == 0
    assert table.loc[("with_kaz", "relation_USA-CHN"), "pairs"] == 4
    assert any("with_kaz adds KAZ (not in small)" in n for n in comp.notes)
    assert main(["compare", str(small), str(child), "--runs", "4", "--seed", "1", "--quiet",
                 "--out", str(small.parent / "cmp")]) == 0
    printed = capsys.readouterr().out
    assert "USA-KAZ" in printed and "not in small, not paired" in printed
    assert "nan" not in printed
