"""Shared fixtures: paths and a small scenario writer."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
BASELINE = SCENARIOS / "baseline.toml"

SMALL = """
[scenario]
name = "small"
title = "Three states"
start = "2024-01"
months = 24
seed = 3

[[states]]
id = "USA"
name = "United States"
capability = 0.12
gdp = 21.0
ideal_point = 2.5

[[states]]
id = "CHN"
name = "China"
capability = 0.23
gdp = 14.0
ideal_point = -0.5

[[states]]
id = "RUS"
name = "Russia"
capability = 0.04
gdp = 1.7
ideal_point = 0.0

[trade]
"CHN->USA" = 450.0
"USA->CHN" = 100.0
"CHN-RUS" = 110.0

[[events]]
type = "tariff"
date = "2024-03"
actor = "USA"
target = "CHN"
rate = 0.25
coverage = 50.0
"""


@pytest.fixture
def write_scenario(tmp_path: Path):
    """Write TOML text (dedented) to ``tmp_path/name`` and return the path."""

    def write(text: str, name: str = "s.toml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return write


@pytest.fixture
def baseline_child(write_scenario):
    """A copy of the baseline and a child extending it with ``extra`` TOML; returns both."""

    def write(extra: str) -> tuple[Path, Path]:
        parent = write_scenario(BASELINE.read_text(), "baseline.toml")
        head = '[scenario]\nextends = "baseline.toml"\nname = "c"\ntitle = "c"\n'
        return parent, write_scenario(head + textwrap.dedent(extra), "c.toml")

    return write


@pytest.fixture
def small(write_scenario) -> Path:
    return write_scenario(SMALL, "small.toml")
