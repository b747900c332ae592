"""The CLI end to end in a temporary folder: outputs, determinism, rerun, overwrite rules."""

from __future__ import annotations

import argparse
import json
import re
import sys

import pandas as pd
import pytest
from conftest import BASELINE, SCENARIOS

from sim.cli import build_parser, main
from sim.output import compare_folders

EXPECTED = {"timeseries.csv", "states.csv", "outcomes.csv", "summary.csv", "manifest.json",
            "draws.csv"}  # the baseline declares [uncertainties]: one row per parameter draw
FIGURES = {"relations.png", "heatmap.png", "triangle.png", "trade.png", "deals.png",
           "patterns.png"}


def test_run_writes_tables_figures_manifest(tmp_path, capsys):
    out = tmp_path / "b"
    assert main(["run", str(BASELINE), "--runs", "6", "--seed", "7", "--out", str(out),
                 "--quiet"]) == 0
    assert "CHN-RUS at horizon" in capsys.readouterr().out
    assert {p.name for p in out.iterdir() if p.is_file()} == EXPECTED
    assert {p.name for p in (out / "figures").iterdir()} == FIGURES
    ts = pd.read_csv(out / "timeseries.csv")
    assert list(ts.columns) == ["run", "step", "date", "source", "target", "relation", "trade"]
    assert ts["run"].nunique() == 6 and ts["step"].max() == 72
    assert ts["relation"].between(-1, 1).all() and (ts["trade"] >= 0).all()
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 6
    man = json.loads((out / "manifest.json").read_text())
    assert man["settings"]["seed"] == 7 and man["settings"]["runs"] == 6
    assert man["scenario_files"][0]["hash"].startswith("sha256:")
    assert man["resolved_scenarios"][0]["scenario"]["name"] == "baseline"
    assert set(man["files"]) == EXPECTED | {f"figures/{f}" for f in FIGURES}
    # the trade column is goods shipped source -> target, as the scenario's "A->B" keys
    first = ts[(ts.step == 0) & (ts.run == 0)].set_index(["source", "target"])["trade"]
    assert first[("CHN", "USA")] == 449.1 and first[("USA", "CHN")] == 106.5


def test_same_seed_same_files_and_rerun_identical(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        assert main(["run", str(BASELINE), "--runs", "4", "--seed", "11", "--out", str(out),
                     "--quiet"]) == 0
    assert compare_folders(a, b) == []
    assert main(["rerun", str(a), "--quiet"]) == 0
    assert compare_folders(a, tmp_path / "a-rerun") == []
    c = tmp_path / "c"
    assert main(["run", str(BASELINE), "--runs", "4", "--seed", "12", "--out", str(c),
                 "--quiet", "--no-figures"]) == 0
    assert "timeseries.csv" in compare_folders(a, c)


def test_engines_write_identical_tables(tmp_path):
    outs = []
    for engine in ("mesa", "batched"):
        out = tmp_path / engine
        main(["run", str(BASELINE), "--runs", "2", "--engine", engine, "--out", str(out),
              "--quiet", "--no-figures"])
        outs.append(out)
    assert compare_folders(*outs) == []


def test_refuses_non_empty_folder_unless_forced(tmp_path, capsys):
    out = tmp_path / "o"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["run", str(BASELINE), "--runs", "2", "--out", str(out), "--quiet"]) == 2
    assert "--force" in capsys.readouterr().err
    assert (out / "keep.txt").read_text() == "mine"
    # --force replaces only a folder sim wrote (tests/test_output.py has the other cases)
    assert main(["run", str(BASELINE), "--runs", "2", "--out", str(out), "--quiet",
                 "--no-figures", "--force"]) == 2
    assert "sim did not write it" in capsys.readouterr().err
    (out / "keep.txt").unlink()
    assert main(["run", str(BASELINE), "--runs", "2", "--out", str(out), "--quiet",
                 "--no-figures"]) == 0
    assert main(["run", str(BASELINE), "--runs", "3", "--out", str(out), "--quiet",
                 "--no-figures", "--force"]) == 0
    assert len(pd.read_csv(out / "summary.csv")) == 3
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".o.")]  # no leftovers


def test_triangle_at_chosen_dates(tmp_path):
    out = tmp_path / "t"
    assert main(["run", str(BASELINE), "--runs", "3", "--out", str(out), "--quiet",
                 "--triangle-dates", "2025-05,2029-11"]) == 0
    man = json.loads((out / "manifest.json").read_text())
    assert man["settings"]["triangle_dates"] == ["2025-05", "2029-11"]
    assert main(["rerun", str(out), "--quiet"]) == 0  # the rerun draws the same dates
    assert compare_folders(out, tmp_path / "t-rerun") == []


def test_bad_arguments_exit_2(tmp_path, capsys):
    for argv in (["run", str(BASELINE), "--runs", "0"], ["run", str(BASELINE), "--seed", "x"],
                 ["run", str(BASELINE), "--triangle-dates", "2025-13"],
                 ["run", str(BASELINE), "--triangle-dates", "2040-01", "--out",
                  str(tmp_path / "never")],
                 ["rerun", str(tmp_path)]):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse
            code = exc.code
        assert code == 2
    err = capsys.readouterr().err
    assert "manifest.json" in err and "--triangle-dates: got '2040-01'" in err
    assert not (tmp_path / "never").exists()


def test_validate_and_list(capsys):
    assert main(["validate", *map(str, sorted(SCENARIOS.glob("*.toml")))]) == 0
    assert "ok" in capsys.readouterr().out
    assert main(["list", str(SCENARIOS)]) == 0
    assert "baseline" in capsys.readouterr().out


def test_streamed_run_with_parquet_rows_and_rerun(tmp_path, capsys):
    """Large ensembles keep per-month statistics; --keep-runs adds every run's rows."""
    out = tmp_path / "s"
    assert main(["run", str(BASELINE), "--runs", "30", "--stream", "--keep-runs", "--seed", "4",
                 "--out", str(out), "--quiet", "--workers", "1"]) == 0
    files = {p.name for p in out.iterdir() if p.is_file()}
    assert files == {"stats.csv", "summary_stats.csv", "decisions.csv", "runs.parquet",
                     "manifest.json", "draws.csv"}
    assert {p.name for p in (out / "figures").iterdir()} == {"relations.png", "trade.png",
                                                            "deals.png"}
    assert "figures: relations, trade, deals only (heatmap, triangle and patterns" in (
        capsys.readouterr().out)
    rows = pd.read_parquet(out / "runs.parquet")
    full = tmp_path / "f"
    main(["run", str(BASELINE), "--runs", "30", "--seed", "4", "--out", str(full), "--quiet",
          "--no-figures"])
    ts = pd.read_csv(full / "timeseries.csv")
    cols = ["run", "step", "source", "target", "relation", "trade"]
    rows = rows[cols].astype({"source": str, "target": str}).reset_index(drop=True)
    pd.testing.assert_frame_equal(rows, ts[cols].astype({"source": str, "target": str}),
                                  check_dtype=False)
    stats = pd.read_csv(out / "stats.csv")
    assert len(stats) > 0 and not [p for p in tmp_path.iterdir() if p.name.startswith(".s.")]
    assert main(["rerun", str(out), "--quiet"]) == 0
    assert compare_folders(out, tmp_path / "s-rerun") == []


def test_minimal_scenario_without_triangle_trade_or_policies(write_scenario, tmp_path, capsys):
    """Good input never crashes: three states of any ids, one month, nothing else."""
    states = "".join(f'''
[[states]]
id = "{sid}"
name = "{sid}"
capability = {cap}
gdp = 1.0
ideal_point = {ip}
''' for sid, cap, ip in (("AAA", 0.1, 0.0), ("BBB", 0.2, 1.0), ("CCC", 0.3, -1.0)))
    scen = write_scenario('[scenario]\nname = "tiny"\ntitle = "Tiny"\nstart = "2024-01"\n'
                          'months = 1\n' + states, "tiny.toml")
    for extra in ([], ["--stream"], ["--engine", "mesa"]):
        out = tmp_path / f"t{len(extra)}{extra[-1] if extra else ''}"
        assert main(["run", str(scen), "--runs", "3", "--out", str(out), "--quiet", *extra]) == 0
        assert (out / "manifest.json").is_file() and (out / "figures").is_dir()
    summary = pd.read_csv(tmp_path / "t0" / "summary.csv")
    assert list(summary.filter(like="relation_").columns) == [
        "relation_AAA-BBB", "relation_AAA-CCC", "relation_BBB-CCC"]
    assert "Traceback" not in capsys.readouterr().err


def test_version_names_the_installed_distribution(capsys):
    from importlib import metadata

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"sim {metadata.version('sim')}"


def test_run_counts_are_grammatical(tmp_path, capsys):
    """Counts in run output agree in number: "1 run each", "1 run", never "1 runs"."""
    assert main(["run", str(BASELINE), "--runs", "2", "--out", str(tmp_path / "a"),
                 "--no-figures"]) == 0
    out = capsys.readouterr().out
    assert "2 parameter draws × 1 run each = 2 runs;" in out
    assert "(2 runs, 72 months)" in out
    assert main(["run", str(BASELINE), "--fixed-params", "--runs", "1", "--out",
                 str(tmp_path / "b"), "--no-figures"]) == 0
    out = capsys.readouterr().out
    assert "1 run at the scenario's parameter values" in out and "(1 run, 72 months)" in out
    assert not re.search(r"\b1 runs\b|\bx 1 runs\b", out)


def _parsers(parser: argparse.ArgumentParser, name: str = "sim"):
    """``(command, parser)`` for ``parser`` and every subcommand below it."""
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helped = {a.dest for a in action._choices_actions if a.help}
            for sub, p in action.choices.items():
                assert sub in helped, f"{name} {sub}: no help line in {name} --help"
                yield from _parsers(p, f"{name} {sub}")


def test_every_option_of_every_command_has_help():
    """Every argument of every subcommand (rerun --force, sensitivity --method, ...) is
    explained in its --help."""
    commands = dict(_parsers(build_parser()))
    assert {"sim run", "sim rerun", "sim sensitivity", "sim attribute"} <= set(commands)
    missing = [f"{name} {'/'.join(a.option_strings) or a.dest}"
               for name, p in commands.items() for a in p._actions
               if not isinstance(a, argparse._SubParsersAction) and not (a.help or "").strip()]
    assert missing == []


def test_numba_missing_names_the_cli_options(tmp_path, capsys, monkeypatch):
    """Without numba, --engine numba and a rerun of a numba run are one exit-2 line in the
    command line's terms (--engine batched), not the API's (backend='numpy')."""
    out = tmp_path / "a"
    assert main(["run", str(BASELINE), "--runs", "2", "--out", str(out), "--quiet",
                 "--no-figures"]) == 0
    man = json.loads((out / "manifest.json").read_text())
    man["settings"]["engine"] = "numba"  # as if run with --engine numba
    (out / "manifest.json").write_text(json.dumps(man))
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba now raises ImportError
    monkeypatch.delitem(sys.modules, "sim.numba_engine", raising=False)
    capsys.readouterr()
    for argv in (["run", str(BASELINE), "--engine", "numba", "--out", str(tmp_path / "b")],
                 ["sensitivity", str(BASELINE), "--engine", "numba", "--out",
                  str(tmp_path / "c")]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "--engine numba: needs numba" in err and "--engine batched" in err
        assert "backend=" not in err and err.count("\n") == 1
    assert main(["rerun", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "manifest.json: settings.engine is 'numba'" in err and "pip install sim[fast]" in err
    assert "backend=" not in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]  # nothing written


def test_sensitivity_quick_and_too_small_n(tmp_path, capsys):
    """--quick: Sobol n = 32 over the screen's top 8, one replicate (320 runs); explicit
    options win; an --n below Sobol's minimum is one exit-2 line naming it."""
    out = tmp_path / "q"
    assert main(["sensitivity", str(BASELINE), "--quick", "--out", str(out), "--quiet",
                 "--no-figures"]) == 0
    said = re.search(r"\(sobol, ([\d,]+) runs \(([\d,]+) in the Morris screen that chose the "
                     r"factors, 320 for the Sobol indices\) in", capsys.readouterr().out)
    total, screen = (int(g.replace(",", "")) for g in said.groups())
    assert total == screen + 320  # every run made, the screen's included
    assert json.loads((out / "manifest.json").read_text())["settings"]["all_runs"] == total
    assert pd.read_csv(out / "factors.csv")["parameter"].nunique() == 8
    assert main(["sensitivity", str(BASELINE), "--quick", "--n", "16", "--top", "2", "--out",
                 str(tmp_path / "q2"), "--quiet", "--no-figures"]) == 0
    assert ", 64 for the Sobol indices) in" in capsys.readouterr().out
    assert main(["sensitivity", str(BASELINE), "--n", "4", "--out", str(tmp_path / "n4")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --n: got 4; expected a power of 2 of at least 16")
    assert not (tmp_path / "n4").exists()


def test_streamed_figures_are_documented(capsys):
    """--help, the README and a streamed run's output name the figures a streamed run writes
    (sim.api.STREAM_FIGURES) and the ones it leaves out."""
    from sim.api import STREAM_FIGURES
    from sim.plots import FIGURES as ALL

    left_out = [f for f in ALL if f not in STREAM_FIGURES]
    stream = next(a for a in dict(_parsers(build_parser()))["sim run"]._actions
                  if "--stream" in a.option_strings)
    text = " ".join(stream.help.split())
    assert f"{len(STREAM_FIGURES)} of the {len(ALL)} figures" in text
    assert all(f in text for f in (*STREAM_FIGURES, *left_out))
    readme = " ".join((BASELINE.parent.parent / "README.md").read_text().split())
    assert all(f"`{f}.png`" in readme for f in STREAM_FIGURES)
    assert f"the {', '.join(left_out[:-1])} and {left_out[-1]} figures need every run" in readme


USAGE_ERRORS = [  # (argv, what the one line must say)
    ([], "missing COMMAND"),
    (["rn"], "did you mean 'run'?"),
    (["run"], "missing scenario"),
    (["run", "baseline", "--fore"], "unknown option --fore (did you mean --force?)"),
    (["run", "baseline", "--runs"], "--runs: got nothing"),
    (["run", "baseline", "--runs", "x"], "--runs: got 'x'; expected a whole number"),
    (["run", "baseline", "--engine", "numbaa"], "did you mean 'numba'?"),
    (["run", "baseline", "extra"], "unknown argument extra"),
    (["validate"], "missing scenarios"),
    (["validate", "baseline", "--x"], "unknown option --x"),
    (["schema", "--x"], "unknown option --x"),
    (["params"], "missing scenario"),
    (["params", "baseline", "--csb"], "did you mean --csv?"),
    (["list", "a", "b"], "unknown argument b"),
    (["rerun"], "missing folder"),
    (["rerun", "x", "--quite"], "did you mean --quiet?"),
    (["compare", "baseline", "detente", "--runs", "1.5"], "--runs: got '1.5'"),
    (["compare", "baseline", "detente", "--drawz", "3"], "did you mean --draws?"),
    (["calibrate", "--steps", "-1"], "--steps: got -1"),
    (["calibrate", "--walkerz", "4"], "did you mean --walkers?"),
    (["backtest"], "missing --out"),
    (["backtest", "--out", "x", "--runs", "many"], "--runs: got 'many'"),
    (["explore", "--port", "http"], "--port: got 'http'"),
    (["explore", "--no-opn"], "did you mean --no-open?"),
    (["sensitivity"], "missing scenario"),
    (["sensitivity", "baseline", "--method", "sobl"], "did you mean 'sobol'?"),
    (["discover", "baseline"], "missing --where"),
    (["discover", "baseline", "--where", "x", "--density", "2"], "--density: got 2"),
    (["attribute", "baseline", "--no-polices"], "did you mean --no-policies?"),
    (["attribute", "baseline", "--draws", "0"], "--draws: got 0"),
]


@pytest.mark.parametrize(("argv", "fragment"), USAGE_ERRORS,
                         ids=[" ".join(a) or "nothing" for a, _ in USAGE_ERRORS])
def test_usage_errors_are_one_line_and_a_hint(argv, fragment, capsys):
    """Every subcommand: a usage error is one line naming the problem and a hint, exit 2,
    never argparse's usage text."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    out, err = capsys.readouterr()
    lines = err.splitlines()
    command = f"sim {argv[0]}" if argv and argv[0] != "rn" else "sim"
    assert len(lines) == 2 and lines[0].startswith(f"error: {command}: "), err
    assert lines[1] == f"try: {command} --help", err
    assert fragment in lines[0], err
    assert "usage:" not in err and not out
