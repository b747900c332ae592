"""Validation: the history scenarios and the calibrated fragment (docs/VALIDATION.md); the
channels, calibration and backtest have their own test files."""

from __future__ import annotations

import shutil
import tomllib

import pandas as pd
import pytest
from conftest import ROOT, SCENARIOS

from sim.calibrate import load_calibrated
from sim.params import get
from sim.resources import data_dir
from sim.spec import load_scenario, month_index
from sim.world import World

HISTORY = SCENARIOS / "history_2014_2024.toml"
CALIBRATION = ROOT / "calibration"
TIMELINE = "timeline_events_2014_2024.csv"
YEARS_ALL = list(range(2014, 2025))


@pytest.fixture(scope="module")
def spec():
    return load_scenario(HISTORY)




# ----------------------------------------------------------------------------- history scenario


def test_history_scenario_represents_every_timeline_row(spec):
    rows = pd.read_csv(data_dir() / TIMELINE)
    assert spec.scenario.start == "2014-01" and spec.scenario.months == 132
    assert not spec.policies, "history is driven by the recorded events, not decisions"
    cites = {i: spec.cites.get(f"events[{i}]", "") for i in range(len(spec.events))}
    assert all(cites.values()), "every event cites its timeline row"
    for row in rows.itertuples():
        tag = f"{row.date} ({row.category})"
        matching = [i for i, c in cites.items() if tag in c]
        assert matching, f"timeline row {tag} has no event"
        for i in matching:
            ev = spec.events[i]
            assert ev.id, f"event for {tag} needs an id"
            if f"row {tag}" in cites[i] or f"rows {tag}" in cites[i]:
                # the event is dated in the month of its row (same month or, for a reply, the
                # month the row's act took effect)
                assert 0 <= month_index(row.date[:7], ev.date) <= 1, (tag, ev.date)
            if not ev.enabled:
                assert ev.note.startswith("skipped:"), f"disabled event for {tag} needs a reason"
    # the conflict rows reduce relations; the Section 301 rounds are tariffs with rate/coverage
    kinds = {(ev.type, ev.date) for ev in spec.events if ev.enabled}
    assert ("reduce_relations", "2014-03") in kinds and ("reduce_relations", "2022-02") in kinds
    tariffs = [ev for ev in spec.events if ev.type == "tariff" and ev.actors == ["USA"]]
    assert len(tariffs) >= 6 and all(ev.rate and ev.coverage for ev in tariffs)


def test_history_scenario_starts_from_2013_data(spec):
    """The 2013 state reproduces the 2013 final-passage distances (the inverted rule)."""
    world = World.from_spec(spec)
    raw = pd.read_csv(data_dir() / "derived_idealpoint_distances_USA_CHN_RUS.csv")
    raw = raw.set_index("year").loc[2013]
    d_half = spec.mechanisms.anchor.d_half
    for pair in ("USA-CHN", "USA-RUS", "CHN-RUS"):
        i, j = (world.ids.index(s) for s in pair.split("-"))
        xbar = 0.5 * (world.x0[i, j] + world.x0[j, i])
        d = d_half * (1.0 - xbar)  # the inverted initial-relation rule
        assert d == pytest.approx(raw[f"dist_{pair.replace('-', '_')}_fp"], abs=1e-3)

    def pair_trade(a: str, b: str) -> float:
        i, j = world.ids.index(a), world.ids.index(b)
        return float(world.imports0[i, j] + world.imports0[j, i])

    assert pair_trade("CHN", "RUS") == pytest.approx(89.21, abs=0.01)
    assert pair_trade("USA", "CHN") == pytest.approx(562.176, abs=0.01)


# ----------------------------------------------------------------------------- observation model


# ----------------------------------------------------------------------------- loader integration


def test_fragment_merges_into_a_full_scenario(tmp_path):
    """A full scenario can ``extends`` the fragment: validation runs after merging."""
    (tmp_path / "calibration").mkdir()
    shutil.copy(CALIBRATION / "mechanisms_2019.toml", tmp_path / "calibration")
    text = HISTORY.read_text().replace(
        '[scenario]\n', '[scenario]\nextends = "calibration/mechanisms_2019.toml"\n', 1)
    child = tmp_path / "history_calibrated.toml"
    child.write_text(text)
    via_extends = load_scenario(child)
    via_loader = load_calibrated(HISTORY, CALIBRATION / "mechanisms_2019.toml")
    frag = tomllib.loads((CALIBRATION / "mechanisms_2019.toml").read_text())["mechanisms"]
    for group, entries in frag.items():
        for key, entry in entries.items():
            assert get(via_extends, f"{group}.{key}") == entry["value"]
            assert get(via_loader, f"{group}.{key}") == entry["value"]
    assert via_loader.cites["mechanisms.anchor.bias"].startswith("sim calibrate")
    assert len(via_extends.events) == len(via_loader.events)
