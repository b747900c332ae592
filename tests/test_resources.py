"""Shipped resources are found whatever the working directory, in a checkout and installed;
scenario arguments may be shipped names, with a did-you-mean for a near miss."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT

from sim import resources
from sim.cli import main
from sim.resources import ResourceError, scenario_path


@pytest.fixture
def elsewhere(tmp_path, monkeypatch) -> Path:
    """Work in an empty folder unrelated to the checkout."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SIM_DATA_DIR", raising=False)
    return tmp_path


def test_checkout_folders_are_the_top_level_ones(elsewhere):
    assert resources.is_checkout()
    assert resources.scenarios_dir() == ROOT / "scenarios"
    assert resources.data_dir() == ROOT / "data"
    assert resources.calibration_dir() == ROOT / "calibration"
    assert resources.default_calibration_out() == ROOT / "calibration"
    assert "baseline" in resources.shipped_scenarios()


def test_data_dir_override(elsewhere, monkeypatch):
    monkeypatch.setenv("SIM_DATA_DIR", str(elsewhere))
    assert resources.data_dir() == elsewhere
    monkeypatch.setenv("SIM_DATA_DIR", "")
    assert resources.data_dir() == ROOT / "data"


def test_installed_layout_uses_package_data_and_never_writes_there(tmp_path, monkeypatch):
    """Installed: no pyproject.toml beside the package; the folders are inside it."""
    site = tmp_path / "site-packages"
    package = site / "sim"
    for name in ("scenarios", "data", "calibration"):
        (package / name).mkdir(parents=True)
    (site / "scenarios").mkdir()  # a stray top-level folder must not win
    monkeypatch.setattr(resources, "PACKAGE", package)
    monkeypatch.setattr(resources, "CHECKOUT", site)
    assert not resources.is_checkout()
    assert resources.scenarios_dir() == package / "scenarios"
    assert resources.calibration_dir() == package / "calibration"
    assert resources.default_calibration_out() == Path("outputs") / "calibration"
    (package / "data").rmdir()
    with pytest.raises(ResourceError, match="no shipped data/"):
        resources.shipped("data")


def test_scenario_names_resolve_to_shipped_files(elsewhere):
    shipped = ROOT / "scenarios" / "baseline.toml"
    assert scenario_path("baseline") == shipped
    assert scenario_path("baseline.toml") == shipped
    assert scenario_path(Path("tariff_escalation")) == ROOT / "scenarios" / "tariff_escalation.toml"
    (elsewhere / "baseline").mkdir()  # e.g. an output folder named after the scenario
    assert scenario_path("baseline") == shipped


def test_an_existing_file_wins_over_a_shipped_name(elsewhere):
    (elsewhere / "baseline.toml").write_text("[scenario]\n")
    assert scenario_path("baseline.toml") == Path("baseline.toml")
    assert scenario_path(str(elsewhere / "baseline.toml")) == elsewhere / "baseline.toml"


@pytest.mark.parametrize(("arg", "hint"), [
    ("baselin", "did you mean 'baseline'?"),
    ("tarif_escalation.toml", "did you mean 'tariff_escalation'?"),
    ("scenarios/baselin.toml", "did you mean 'baseline'?"),   # no such folder here
])
def test_near_miss_gets_a_did_you_mean(elsewhere, arg, hint):
    with pytest.raises(ResourceError) as err:
        scenario_path(arg)
    assert str(err.value).startswith(f"{arg}: no such file") and hint in str(err.value)


def test_near_miss_in_a_folder_suggests_its_files(elsewhere):
    (elsewhere / "mine").mkdir()
    (elsewhere / "mine" / "hostile.toml").write_text("")
    with pytest.raises(ResourceError, match=r"did you mean 'mine/hostile\.toml'\?"):
        scenario_path("mine/hostle.toml")
    with pytest.raises(ResourceError) as err:
        scenario_path("zzzz")
    assert "did you mean" not in str(err.value)


def test_cli_takes_shipped_names_from_anywhere(elsewhere, capsys):
    assert main(["validate", "baseline", "history_2014_2024.toml"]) == 0
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert any(line.split()[0] == "baseline" for line in out.splitlines() if line.strip())


def test_cli_misspelt_scenario_is_one_line_exit_2_nothing_written(elsewhere, capsys):
    for argv in (["run", "baselin", "--runs", "2", "--out", "o"],
                 ["compare", "baseline", "detent", "--runs", "2", "--out", "o"],
                 ["validate", "baseline", "tarif_escalation"],
                 ["calibrate", "--history", "histroy_2014_2024", "--out", "o"],
                 ["backtest", "--history", "histroy_2014_2024", "--out", "o"]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: ") and "did you mean '" in err[0], err
    assert not list(elsewhere.iterdir())
