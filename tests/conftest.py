"""Shared fixtures: paths and a small scenario writer."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from sim import params as pm

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


def design(spec, runs: int, seed: int = 0) -> dict[str, np.ndarray]:
    """One value per run of every parameter of ``spec``: numbers drawn around the scenario's
    value (inside the allowed range), switches mostly on; run 0 gets the exponents numpy
    treats specially (threat exponent 2, trade elasticity 1 so that ``(1+τ)^-1``)."""
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    for name, p in pm.registry(spec).items():
        v = pm.get(spec, name)
        if p.kind == "switch":
            out[name] = rng.random(runs) < 0.8
            continue
        half = 0.5 * (abs(v) + 0.1)
        lo = max(p.lo + (1e-3 if p.lo_open else 0.0), v - half)
        hi = min(p.hi, v + half)
        if p.kind == "int":
            out[name] = rng.integers(int(np.ceil(lo)), int(np.floor(hi)) + 1, runs)
        else:
            out[name] = rng.uniform(lo, hi, runs)
    out["threat.power_exponent"][0] = 2.0
    out["trade.elasticity_long_run"][0] = 1.0
    out["trade.elasticity_one_year"] = np.minimum(out["trade.elasticity_one_year"],
                                                  out["trade.elasticity_long_run"])
    return out
