"""The wheel, installed for real: build it from a copy of the project, install it (not editable)
into a fresh virtual environment and use the `sim` command from a folder unrelated to the
project. Checks that scenarios, data and calibration ship inside the package and are found
wherever `sim` runs, and that an installed package is never written into.

Dependencies come from the package index pip is configured with (PyPI in CI; pip's cache
makes repeats fast). About 30 s on the project's 2-core machine: build 2 s, install 8-10 s
(no byte compilation), the commands the rest.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow

SOURCES = ("pyproject.toml", "README.md", "sim", "scenarios", "data", "calibration")
"""What the build needs; nothing else of the checkout is copied."""


def _check(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert res.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{res.stdout}\n{res.stderr}"
    return res


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built (isolated build, as pip would) from a copy of the project's sources."""
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, src / name)
    dist = tmp_path_factory.mktemp("dist")
    _check([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(src)])
    (whl,) = dist.glob("sim-*.whl")
    return whl


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment with the wheel installed (not editable); its bin folder."""
    env = tmp_path_factory.mktemp("venv")
    _check([sys.executable, "-m", "venv", "--without-pip", str(env)])
    bin_dir = env / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    # pip of the test environment installs into the new one (no pip bootstrap); no byte
    # compilation of the dependencies (most of the time otherwise)
    _check([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
            "--no-compile", str(wheel)])
    return bin_dir


@pytest.fixture
def elsewhere(tmp_path) -> dict:
    """Run in an empty folder unrelated to the project, with nothing pointing back at it."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "SIM_DATA_DIR", "VIRTUAL_ENV", "PYTHONHOME",
                        "PYTHONDONTWRITEBYTECODE")}  # bytecode caches: the first run writes them
    env["MPLBACKEND"] = "Agg"
    return {"cwd": tmp_path, "env": env}


def sim(venv: Path, where: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(venv / "sim"), *args], capture_output=True, text=True,
                          timeout=300, **where)


def tree_hash(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts:
            h.update(str(p.relative_to(folder)).encode() + p.read_bytes())
    return h.hexdigest()


def test_wheel_ships_scenarios_data_and_calibration(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("scenarios", "data", "calibration"):
        shipped = {str(p.relative_to(ROOT)).replace(os.sep, "/")
                   for p in (ROOT / folder).rglob("*") if p.is_file()
                   and "__pycache__" not in p.parts}
        assert shipped, folder
        missing = {f for f in shipped if f"sim/{f}" not in names}
        assert not missing, f"not in the wheel: {sorted(missing)}"
    assert not [n for n in names if n.split("/")[0] in ("scenarios", "data", "calibration",
                                                         "tests")]


def test_installed_package_is_the_wheel_not_the_checkout(venv, elsewhere):
    code = ("import sim, sim.resources as r; "
            "print(sim.__file__); print(r.is_checkout()); print(r.scenarios_dir())")
    res = _check([str(venv / "python"), "-c", code], **elsewhere)
    file, checkout, scenarios = res.stdout.split("\n")[:3]
    assert "site-packages" in file and str(ROOT) not in file
    assert checkout == "False"
    assert Path(scenarios) == Path(file).parent / "scenarios"


def test_installed_list_and_run_by_name(venv, elsewhere):
    res = sim(venv, elsewhere, "list")
    assert res.returncode == 0, res.stderr
    assert any(line.split()[0] == "baseline" for line in res.stdout.splitlines())
    res = sim(venv, elsewhere, "run", "baseline", "--runs", "20", "--out", "b", "--quiet")
    assert res.returncode == 0, res.stderr
    out = elsewhere["cwd"] / "b"
    assert {"summary.csv", "timeseries.csv", "manifest.json", "figures"} <= {
        p.name for p in out.iterdir()}
    assert list((out / "figures").glob("*.png"))


def test_installed_misspelt_scenario_gets_a_did_you_mean(venv, elsewhere):
    res = sim(venv, elsewhere, "run", "baselin", "--runs", "20", "--out", "b")
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    assert "baselin" in lines[0] and "did you mean 'baseline'" in lines[0]
    assert not (elsewhere["cwd"] / "b").exists()


def test_installed_calibrate_and_backtest_never_write_into_the_package(venv, elsewhere):
    package = Path(_check([str(venv / "python"), "-c", "import sim; print(sim.__file__)"],
                          **elsewhere).stdout.strip()).parent
    before = tree_hash(package)
    res = sim(venv, elsewhere, "calibrate", "--quick")
    assert res.returncode == 0, res.stderr
    default_out = elsewhere["cwd"] / "outputs" / "calibration"
    assert (default_out / "mechanisms_2019.toml").is_file(), res.stdout
    res = sim(venv, elsewhere, "calibrate", "--out", "cal", "--quick")
    assert res.returncode == 0, res.stderr
    assert (elsewhere["cwd"] / "cal" / "report.json").is_file()
    # the backtest reads the shipped calibration by default, or the one just written
    for extra in ([], ["--calibration", "cal"]):
        out = f"bt{len(extra)}"
        res = sim(venv, elsewhere, "backtest", "--out", out, "--runs", "20", "--no-evaluation",
                  *extra)
        assert res.returncode == 0, res.stderr
        assert (elsewhere["cwd"] / out / "predictions.csv").is_file()
    assert tree_hash(package) == before, "the installed package was written into"
