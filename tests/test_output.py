"""Outputs never lose a user's data: where sim may write, one writer at a time, OS errors,
folder modes, manifests of extends chains, resuming interrupted runs, streamed summaries."""

from __future__ import annotations

import errno
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, SMALL

from sim import chunks, ensemble
from sim.cli import main
from sim.ensemble import REL_ERROR
from sim.output import OutputError, atomic_folder, claim, compare_folders, file_hash

SIM = [sys.executable, "-m", "sim.cli"]


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """``main(argv)`` with its exit code, stdout and stderr."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def leftovers(folder: Path) -> list[str]:
    """Hidden files sim might leave beside an output folder (partial, old, lock, chunks)."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 10 runs (statistics blocks of 10) so that 50 runs make 5 chunks; streamed
    statistics saved after every chunk."""
    monkeypatch.setattr(ensemble, "CHUNK", 10)
    monkeypatch.setattr(ensemble, "STATS_BLOCK", 10)
    monkeypatch.setattr(ensemble, "SAVE_SECONDS", 0.0)


def interrupt_after(monkeypatch, saves: int) -> None:
    """Make the chunk store raise KeyboardInterrupt (as Ctrl-C would) after ``saves`` saves."""
    real = chunks.ChunkStore.save
    count = {"n": 0}

    def save(self, name, arrays):
        if count["n"] == saves:
            raise KeyboardInterrupt
        count["n"] += 1
        real(self, name, arrays)

    monkeypatch.setattr(chunks.ChunkStore, "save", save)


# ----------------------------------------------------------------------------- --force


def test_force_replaces_only_folders_sim_wrote(small, tmp_path, capsys):
    base = ["run", str(small), "--runs", "2", "--quiet", "--no-figures", "--force", "--out"]
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.txt").write_text("years of work")
    code, _, err = run_cli([*base, str(mine)], capsys)
    assert code == 2 and "no manifest.json, so sim did not write it" in err
    assert err.count("\n") == 1 and (mine / "thesis.txt").read_text() == "years of work"

    # a manifest that is not sim's
    (mine / "manifest.json").write_text('{"name": "my project"}')
    code, _, err = run_cli([*base, str(mine)], capsys)
    assert code == 2 and "not a sim manifest" in err and (mine / "thesis.txt").exists()

    # a folder sim wrote, to which the user added a file
    ours = tmp_path / "ours"
    assert run_cli([*base, str(ours)], capsys)[0] == 0
    (ours / "notes.md").write_text("my notes")
    code, _, err = run_cli([*base, str(ours)], capsys)
    assert code == 2 and "holds files sim did not write (notes.md)" in err
    assert (ours / "notes.md").read_text() == "my notes"

    # only what sim wrote (and a file browser's .DS_Store): replaced
    (ours / "notes.md").unlink()
    (ours / ".DS_Store").write_bytes(b"\0")
    before = json.loads((ours / "manifest.json").read_text())["time_utc"]
    assert run_cli([*base, str(ours), "--seed", "9"], capsys)[0] == 0
    assert json.loads((ours / "manifest.json").read_text())["settings"]["seed"] == 9
    assert before and not (ours / ".DS_Store").exists()
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("where", [".", "..", "work", "tmp", "home", "/"])
def test_working_directory_parents_home_and_root_refused(where, small, tmp_path, monkeypatch,
                                                         capsys):
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    (work / "data.csv").write_text("mine")
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(home))
    out = {"work": str(work), "tmp": str(tmp_path), "home": str(home)}.get(where, where)
    code, _, err = run_cli(["run", str(small), "--runs", "2", "--quiet", "--force", "--out", out],
                           capsys)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    expected = {"home": "the home folder", "/": "the filesystem root"}.get(
        where, "the working directory or a folder containing it")
    assert expected in err
    assert (work / "data.csv").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "small.toml", "work"]


def test_every_writing_command_uses_the_same_refusals(small, tmp_path, monkeypatch, capsys):
    """run, rerun, compare, calibrate and backtest all refuse the working directory."""
    monkeypatch.chdir(tmp_path)
    assert run_cli(["run", str(small), "--runs", "2", "--quiet", "--no-figures", "--out", "r"],
                   capsys)[0] == 0
    other = tmp_path / "other.toml"
    other.write_text(SMALL.replace('name = "small"', 'name = "other"'))
    for argv in (["run", str(small), "--runs", "2", "--quiet"],
                 ["rerun", "r", "--quiet"],
                 ["compare", str(small), str(other), "--runs", "2", "--quiet"],
                 ["calibrate", "--quick"],
                 ["backtest", "--runs", "2"]):
        code, _, err = run_cli([*argv, "--out", ".", "--force"], capsys)
        assert code == 2, argv
        assert "working directory" in err, (argv, err)
    code, _, err = run_cli(["rerun", "r", "--out", "r", "--force", "--quiet"], capsys)
    assert code == 2 and "is the folder being rerun" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.toml", "r", "small.toml"]


# ----------------------------------------------------------------------------- one writer


def test_lock_held_elsewhere_refuses_a_second_writer(small, tmp_path):
    """A real second process gets exit 2 and a clear line while the lock is held."""
    out = tmp_path / "o"
    with claim(out, force=False):
        assert (tmp_path / ".o.lock").is_file()
        proc = subprocess.run([*SIM, "run", str(small), "--runs", "2", "--quiet", "--out",
                               str(out)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "another sim command is writing this folder" in proc.stderr
    assert proc.stderr.count("\n") == 1 and not out.exists()
    assert leftovers(tmp_path) == []  # the lock file went with the lock


def test_two_runs_at_once_exactly_one_writes(tmp_path):
    """Two real `sim run`s on the same --out: one writes, the other exits 2 (never a silent
    replacement), whichever wins."""
    out = tmp_path / "o"
    scenario = tmp_path / "small.toml"
    scenario.write_text(SMALL)
    argv = [*SIM, "run", str(scenario), "--runs", "1000", "--quiet", "--no-figures", "--out",
            str(out)]
    procs = [subprocess.Popen([*argv, "--seed", str(s)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=ROOT) for s in (1, 2)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert sorted(code for code, _ in results) == [0, 2], results
    winner = next(i for i, (code, _) in enumerate(results) if code == 0)
    loser_err = results[1 - winner][1]
    assert loser_err.count("\n") == 1 and (
        "another sim command is writing" in loser_err or "folder is not empty" in loser_err)
    seed = json.loads((out / "manifest.json").read_text())["settings"]["seed"]
    assert seed == winner + 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o", "small.toml"]


def test_a_stale_lock_file_does_not_block(small, tmp_path, capsys):
    (tmp_path / ".o.lock").write_text("12345\n")  # left by a killed process: not locked
    code, _, _ = run_cli(["run", str(small), "--runs", "2", "--quiet", "--no-figures", "--out",
                          str(tmp_path / "o")], capsys)
    assert code == 0 and leftovers(tmp_path) == []


def test_folder_that_appears_meanwhile_is_left_alone(tmp_path):
    out = tmp_path / "o"
    for force in (False, True):
        with pytest.raises(OutputError, match=r"not empty|sim did not write"):
            with atomic_folder(out, force=force) as tmp:
                (tmp / "result.csv").write_text("sim's")
                out.mkdir(exist_ok=True)  # another program writes there meanwhile
                (out / "theirs.txt").write_text("theirs")
        assert sorted(p.name for p in out.iterdir()) == ["theirs.txt"]
        assert leftovers(tmp_path) == []


# ----------------------------------------------------------------------------- OS errors


def test_out_below_a_file_is_one_line(small, tmp_path, capsys):
    (tmp_path / "report.txt").write_text("mine")
    out = tmp_path / "report.txt" / "sub"
    code, _, err = run_cli(["run", str(small), "--runs", "2", "--quiet", "--out", str(out)],
                           capsys)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert str(out) in err and "report.txt is a file" in err
    assert (tmp_path / "report.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.txt", "small.toml"]


def test_full_disk_while_writing_leaves_nothing(small, tmp_path, monkeypatch, capsys):
    real = pd.DataFrame.to_csv

    def to_csv(self, path, *args, **kw):
        if str(path).endswith("states.csv"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(self, path, *args, **kw)

    monkeypatch.setattr(pd.DataFrame, "to_csv", to_csv)
    out = tmp_path / "deep" / "o"
    code, _, err = run_cli(["run", str(small), "--runs", "2", "--quiet", "--out", str(out)],
                           capsys)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "No space left on device" in err and f"{out}/states.csv" in err
    assert err.startswith(f"error: {out}: cannot write")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.toml"]  # not even deep/


def test_unwritable_folder_is_one_line(small, tmp_path, monkeypatch, capsys):
    """As root chmod does not stop writes; the OS error is simulated where the folder is made."""
    import tempfile

    def mkdtemp(*args, **kw):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), kw.get("dir"))

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    code, _, err = run_cli(["run", str(small), "--runs", "2", "--quiet", "--out",
                            str(tmp_path / "o")], capsys)
    assert code == 2 and "Permission denied" in err and err.count("\n") == 1
    assert leftovers(tmp_path) == [] and not (tmp_path / "o").exists()


def test_full_disk_while_keeping_chunks_leaves_nothing(small, tmp_path, monkeypatch, capsys,
                                                       small_chunks):
    monkeypatch.setattr(chunks.ChunkStore, "_write", _failing_write(chunks.ChunkStore._write))
    code, _, err = run_cli(["run", str(small), "--runs", "50", "--quiet", "--no-figures",
                            "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "No space left on device" in err and err.count("\n") == 1
    assert leftovers(tmp_path) == [] and not (tmp_path / "o").exists()


def _failing_write(real):
    """``ChunkStore._write`` that runs out of disk half-way through the third chunk."""
    def write(self, name, fn):
        if name != "chunk-000002.npz":
            return real(self, name, fn)

        def fail(f):
            f.write(b"partial")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), f.name)

        return real(self, name, fail)

    return write


# ----------------------------------------------------------------------------- folder modes


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_output_folder_gets_a_normal_mode(umask, small, tmp_path, capsys):
    old = os.umask(umask)
    try:
        out = tmp_path / "o"
        figures = [] if umask == 0o027 else ["--no-figures"]
        assert run_cli(["run", str(small), "--runs", "2", "--quiet", "--out", str(out),
                        *figures], capsys)[0] == 0
        (tmp_path / "plain").mkdir()
    finally:
        os.umask(old)
    mode = stat.S_IMODE(out.stat().st_mode)
    assert mode == 0o777 & ~umask == stat.S_IMODE((tmp_path / "plain").stat().st_mode)
    if umask == 0o027:
        assert stat.S_IMODE((out / "figures").stat().st_mode) == mode
    assert stat.S_IMODE((out / "summary.csv").stat().st_mode) == 0o666 & ~umask


# ----------------------------------------------------------------------------- manifests


def test_manifest_hashes_the_whole_extends_chain(write_scenario, tmp_path, capsys):
    """Parents at any depth, list-form extends too, in sim run, sim compare and sim rerun."""
    write_scenario(SMALL, "grand.toml")
    write_scenario('[scenario]\nextends = "grand.toml"\nname = "mid"\n', "mid.toml")
    (tmp_path / "parts").mkdir()
    write_scenario('[trade]\n"USA-RUS" = 20.0\n', "parts/trade.toml")
    child = write_scenario('[scenario]\nextends = ["mid.toml", "parts/trade.toml"]\n'
                           'name = "child"\n', "child.toml")
    out = tmp_path / "r"
    assert run_cli(["run", str(child), "--runs", "3", "--quiet", "--no-figures", "--out",
                    str(out)], capsys)[0] == 0
    files = {"child.toml": child, "mid.toml": tmp_path / "mid.toml",
             "grand.toml": tmp_path / "grand.toml", "trade.toml": tmp_path / "parts/trade.toml"}
    listed = json.loads((out / "manifest.json").read_text())["scenario_files"]
    assert [Path(f["path"]).name for f in listed] == list(files)
    for f in listed:
        assert f["hash"] == file_hash(files[Path(f["path"]).name])
        assert Path(f["path"]).resolve() == files[Path(f["path"]).name].resolve()
    code, out_text, _ = run_cli(["rerun", str(out), "--quiet"], capsys)
    assert code == 0 and "every file identical" in out_text
    assert compare_folders(out, tmp_path / "r-rerun") == []

    comp = tmp_path / "c"
    assert run_cli(["compare", str(tmp_path / "grand.toml"), str(child), "--runs", "2",
                    "--quiet", "--out", str(comp)], capsys)[0] == 0
    listed = json.loads((comp / "manifest.json").read_text())["scenario_files"]
    assert [Path(f["path"]).name for f in listed] == ["grand.toml", "child.toml", "mid.toml",
                                                      "trade.toml"]
    hashes = {Path(f["path"]).name: f["hash"] for f in listed}
    assert hashes["trade.toml"] == file_hash(tmp_path / "parts" / "trade.toml")


# ----------------------------------------------------------------------------- resuming


def test_streamed_statistics_are_saved_at_most_every_save_seconds(small, tmp_path, monkeypatch,
                                                                  capsys, small_chunks):
    """A save writes the whole state: with SAVE_SECONDS longer than the run only the last
    chunk's statistics are saved, and the result is the same bytes."""
    argv = ["run", str(small), "--runs", "50", "--seed", "5", "--quiet", "--no-figures",
            "--stream", "--workers", "1", "--out"]
    saves = []
    real = chunks.ChunkStore.save
    monkeypatch.setattr(chunks.ChunkStore, "save",
                        lambda self, name, arrays: (saves.append(name), real(self, name, arrays)))
    assert run_cli([*argv, str(tmp_path / "every")], capsys)[0] == 0
    assert saves == [f"state-{i:06d}" for i in range(5)]
    saves.clear()
    monkeypatch.setattr(ensemble, "SAVE_SECONDS", 1e9)
    assert run_cli([*argv, str(tmp_path / "last")], capsys)[0] == 0
    assert saves == ["state-000004"]
    assert compare_folders(tmp_path / "every", tmp_path / "last") == []


def test_interrupted_run_resumes_byte_identical(small, tmp_path, monkeypatch, capsys,
                                                small_chunks):
    argv = ["run", str(small), "--runs", "50", "--seed", "5", "--quiet", "--no-figures",
            "--workers", "1", "--out"]
    assert run_cli([*argv, str(tmp_path / "whole")], capsys)[0] == 0
    out = tmp_path / "resumed"
    with monkeypatch.context() as mp:
        interrupt_after(mp, 2)
        code, _, err = run_cli([*argv, str(out)], capsys)
    assert code == 130 and not out.exists()
    store = tmp_path / ".resumed.chunks"
    assert sorted(p.name for p in store.iterdir()) == [
        "chunk-000000.npz", "chunk-000001.npz", "key.json"]
    assert f"20 of 50 runs are kept in {store}" in err
    assert f"run `sim {' '.join(argv)} {out}` again to resume" in err
    key = json.loads((store / "key.json").read_text())
    assert (key["seed"], key["runs"], key["chunk"], key["mode"]) == (5, 50, 10, "runs")
    assert key["scenario"].startswith("sha256:")

    code, _, err = run_cli([*argv, str(out)], capsys)
    assert code == 0 and "resuming: 20 of 50 runs already done" in err
    assert compare_folders(tmp_path / "whole", out) == []
    assert (tmp_path / "whole" / "timeseries.csv").read_bytes() == \
        (out / "timeseries.csv").read_bytes()
    assert leftovers(tmp_path) == []  # chunks removed after success


def test_chunks_of_another_run_are_never_mixed(small, tmp_path, monkeypatch, capsys,
                                               small_chunks):
    base = ["run", str(small), "--runs", "50", "--quiet", "--no-figures", "--workers", "1"]
    out = tmp_path / "o"
    with monkeypatch.context() as mp:
        interrupt_after(mp, 3)
        assert run_cli([*base, "--seed", "1", "--out", str(out)], capsys)[0] == 130
    code, _, err = run_cli([*base, "--seed", "2", "--out", str(out)], capsys)
    assert code == 0 and "holds chunks of another run (seed differs); starting over" in err
    assert "resuming" not in err
    assert run_cli([*base, "--seed", "2", "--out", str(tmp_path / "whole")], capsys)[0] == 0
    assert compare_folders(out, tmp_path / "whole") == []


def test_resumed_with_workers_equals_serial(small, tmp_path, monkeypatch, capsys, small_chunks):
    """Interrupted serially, finished by 2 worker processes: the same bytes as serial."""
    argv = ["run", str(small), "--runs", "40", "--quiet", "--no-figures", "--out"]
    assert run_cli([*argv, str(tmp_path / "whole"), "--workers", "1"], capsys)[0] == 0
    out = tmp_path / "o"
    with monkeypatch.context() as mp:
        interrupt_after(mp, 1)
        assert run_cli([*argv, str(out), "--workers", "1"], capsys)[0] == 130
    code, _, err = run_cli([*argv, str(out), "--workers", "2"], capsys)
    assert code == 0 and "resuming: 10 of 40 runs" in err
    assert compare_folders(tmp_path / "whole", out) == []


def test_interrupted_stream_with_rows_resumes_byte_identical(small, tmp_path, monkeypatch,
                                                             capsys, small_chunks):
    argv = ["run", str(small), "--runs", "50", "--stream", "--keep-runs", "--quiet",
            "--workers", "1", "--out"]
    assert run_cli([*argv, str(tmp_path / "whole")], capsys)[0] == 0
    out = tmp_path / "o"
    with monkeypatch.context() as mp:
        interrupt_after(mp, 3)
        assert run_cli([*argv, str(out)], capsys)[0] == 130
    store = tmp_path / ".o.chunks"
    assert sorted(p.name for p in store.iterdir()) == [  # the statistics of chunks 0-2 only
        "key.json", "runs-000000.arrow", "runs-000001.arrow", "runs-000002.arrow",
        "runs-000003.arrow", "state-000002.npz"]
    code, _, err = run_cli([*argv, str(out)], capsys)
    assert code == 0 and "resuming: 30 of 50 runs already done" in err
    assert compare_folders(tmp_path / "whole", out) == []
    assert {"runs.parquet", "summary_stats.csv", "stats.csv"} <= {p.name for p in out.iterdir()}
    assert leftovers(tmp_path) == []


def test_ctrl_c_in_a_real_process_then_resume(small, tmp_path, capsys, small_chunks):
    """SIGINT to a real `sim run` (slowed down per chunk): it says how to resume, exits 130,
    keeps its chunks; the same command finishes with the same bytes as an uninterrupted run."""
    out = tmp_path / "o"
    argv = ["run", str(small), "--runs", "100", "--seed", "3", "--quiet", "--no-figures",
            "--workers", "1", "--out", str(out)]
    script = textwrap.dedent(f"""
        import sys, time
        from sim import chunks, ensemble
        from sim.cli import main
        ensemble.CHUNK = ensemble.STATS_BLOCK = 10
        ensemble.SAVE_SECONDS = 0.0
        save = chunks.ChunkStore.save
        def slow(self, name, arrays):
            save(self, name, arrays)
            time.sleep(0.5)
        chunks.ChunkStore.save = slow
        sys.exit(main({argv!r}))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    store = tmp_path / ".o.chunks"
    deadline = time.monotonic() + 120
    while len(list(store.glob("chunk-*.npz"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "again to resume" in err and "Traceback" not in err
    done = len(list(store.glob("chunk-*.npz")))
    assert 2 <= done < 10 and not out.exists()

    code, _, err = run_cli(argv, capsys)
    assert code == 0 and f"resuming: {done * 10} of 100 runs already done" in err
    whole = tmp_path / "whole"
    assert run_cli([*argv[:-1], str(whole)], capsys)[0] == 0
    assert compare_folders(whole, out) == []
    assert leftovers(tmp_path) == []


# ----------------------------------------------------------------------------- streamed


def test_streamed_run_summarises_the_horizon_and_says_how_approximate(small, tmp_path, capsys):
    code, text, _ = run_cli(["run", str(small), "--runs", "400", "--seed", "2", "--stream",
                             "--quiet", "--no-figures", "--out", str(tmp_path / "s")], capsys)
    assert code == 0
    assert "USA-CHN at horizon: median" in text
    assert "quantiles are approximate (from histograms): relations within ±0.0005, trade " \
           "within ±0.58%" in text
    table = pd.read_csv(tmp_path / "s" / "summary_stats.csv").set_index("outcome")
    assert list(table.columns[:5]) == ["date", "runs", "mean", "sd", "q0.05"]
    assert table.loc["relation_USA-CHN", "quantile_max_abs_error"] == REL_ERROR
    assert table.loc["trade_USA-CHN", "quantile_max_rel_error"] == pytest.approx(0.0058, abs=1e-4)
    man = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert "approximate" in man["settings"]["quantiles"]
    assert "summary_stats.csv" in man["files"]

    assert run_cli(["run", str(small), "--runs", "400", "--seed", "2", "--quiet",
                    "--no-figures", "--out", str(tmp_path / "p")], capsys)[0] == 0
    exact = pd.read_csv(tmp_path / "p" / "summary.csv")
    for pair in ("USA-CHN", "USA-RUS", "CHN-RUS"):
        col = exact[f"relation_{pair}"]
        row = table.loc[f"relation_{pair}"]
        assert row["mean"] == pytest.approx(col.mean(), abs=1e-12)
        assert row["sd"] == pytest.approx(col.std(ddof=0), abs=1e-9)
        for q in (0.05, 0.25, 0.5, 0.75, 0.95):
            assert abs(row[f"q{q:g}"] - np.quantile(col, q)) <= REL_ERROR + 1e-12
        trade = exact[f"trade_{pair}"]
        got, want = table.loc[f"trade_{pair}", "q0.5"], np.quantile(trade, 0.5)
        assert abs(got - want) <= 0.0058 * want + 1e-12


def test_joined_rows_file_does_not_depend_on_the_chunks(tmp_path, monkeypatch):
    """The same rows saved in other chunks join to the same Parquet bytes (row groups of
    ROW_GROUP rows, not one per chunk)."""
    import pyarrow as pa

    monkeypatch.setattr(chunks, "ROW_GROUP", 7)
    rows = pa.table({"run": np.arange(40), "x": np.linspace(-1, 1, 40)})
    files = []
    for cuts in ([0, 40], [0, 3, 10, 11, 29, 40], [0, 7, 14, 40]):
        store = chunks.ChunkStore(tmp_path / f"s{len(files)}", {"k": 1}, say=lambda _: None)
        store.begin({"chunk": 1})
        names = [f"runs-{i}" for i in range(len(cuts) - 1)]
        for name, lo, hi in zip(names, cuts, cuts[1:], strict=False):
            store.save_table(name, rows.slice(lo, hi - lo))
        out = tmp_path / f"rows{len(files)}.parquet"
        store.join_tables(names, out)
        files.append(out.read_bytes())
    assert files[0] == files[1] == files[2]
