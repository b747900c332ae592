"""Scenario files: bad input gets one clear message (exit 2, nothing written); extends works."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import SMALL

from sim.cli import main
from sim.spec import ScenarioError, load_scenario, month_index, month_label


def mutate(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


# (case id, old, new, expected key path, expected fragments of the message)
BAD = [
    ("misspelt-top-key", "[trade]", "[trades]", "trades", ["did you mean 'trade'"]),
    ("misspelt-state-key", "capability = 0.12", "capabilty = 0.12", "states[0].capabilty",
     ["did you mean 'capability'"]),
    ("misspelt-meta-key", 'title = "Three states"', 'titel = "Three states"', "scenario.titel",
     ["did you mean 'title'"]),
    ("missing-title", 'title = "Three states"\n', "", "scenario.title", ["required"]),
    ("capability-range", "capability = 0.12", "capability = 1.5", "states[0].capability",
     ["1.5", "less than or equal to 1"]),
    ("gdp-type", "gdp = 21.0", 'gdp = "big"', "states[0].gdp", ["'big'", "number"]),
    ("negative-months", "months = 24", "months = -3", "scenario.months", ["-3"]),
    ("bad-start", 'start = "2024-01"', 'start = "2024-13"', "scenario.start", ["2024-13"]),
    ("unknown-state-in-trade", '"CHN-RUS" = 110.0', '"CHN-RUZ" = 110.0', "trade.CHN-RUZ",
     ["RUZ", "did you mean 'RUS'"]),
    ("bad-pair", '"CHN-RUS" = 110.0', '"CHN+RUS" = 110.0', "trade.CHN+RUS", ['"A->B"']),
    ("event-unknown-type", 'type = "tariff"', 'type = "tarif"', "events[0].type",
     ["did you mean 'tariff'"]),
    ("event-missing-rate", "rate = 0.25\n", "", "events[0]", ["needs 'rate'"]),
    ("event-outside-horizon", 'date = "2024-03"', 'date = "2027-03"', "events[0].date",
     ["2024-01 .. 2025-12"]),
    ("event-unknown-actor", 'actor = "USA"', 'actor = "US"', "events[0].actor",
     ["'US'", "did you mean 'USA'"]),
    ("event-misspelt-key", "coverage = 50.0", "coverag = 50.0", "events[0].coverag",
     ["did you mean 'coverage'"]),
    ("duplicate-state", 'id = "RUS"', 'id = "CHN"', "states[2].id", ["declared twice"]),
    ("relation-out-of-range", "[trade]", '[relations]\n"USA-CHN" = -2.0\n\n[trade]',
     "relations.USA-CHN", ["-2.0"]),
    ("mechanism-misspelt", "[trade]", "[mechanisms.balance]\nrat = 0.1\n\n[trade]",
     "mechanisms.balance.rat", ["did you mean 'rate'"]),
    ("policy-bad-rule", "[trade]",
     '[[policies]]\nrule = "grant"\nactor = "CHN"\npartner = "RUS"\nask = "pipeline"\n\n[trade]',
     "policies[0].rule", ["did you mean 'grant_ask'"]),
    ("policy-bad-ask", "[trade]",
     '[[policies]]\nrule = "grant_ask"\nactor = "CHN"\npartner = "RUS"\nask = "gas"\n\n[trade]',
     "policies[0].ask", ["'gas'", "pipeline"]),
    ("cite-empty", "gdp = 21.0", 'gdp = { value = 21.0, cite = "" }', "states[0].gdp.cite",
     ["non-empty citation"]),
    ("too-few-states", SMALL[SMALL.index("[[states]]\nid = \"RUS\""):SMALL.index("[trade]")], "",
     "states", ["at least 3"]),
]


@pytest.mark.parametrize(("case", "old", "new", "path", "fragments"), BAD, ids=[b[0] for b in BAD])
def test_bad_scenario_one_clear_message(write_scenario, tmp_path, capsys, case, old, new, path,
                                        fragments):
    text = mutate(SMALL, old, new)
    if case == "too-few-states":
        text = text.replace('"CHN-RUS" = 110.0\n', "").replace("\n[[events]]", "\n[[events]]")
    scen = write_scenario(text, f"{case}.toml")
    out = tmp_path / "out"
    code = main(["run", str(scen), "--runs", "2", "--out", str(out), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.count("\n") == 0, err  # one line
    assert err.startswith(f"error: {scen}") and f" at {path}:" in err, err
    for frag in fragments:
        assert frag in err, (frag, err)
    assert "Traceback" not in err
    assert not out.exists()  # nothing written


def test_cli_process_exit_code_and_no_traceback(write_scenario, tmp_path):
    scen = write_scenario(mutate(SMALL, "gdp = 21.0", "gdpp = 21.0"))
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "validate", str(scen)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "did you mean 'gdp'" in proc.stderr and "Traceback" not in proc.stderr


def test_missing_file_and_invalid_toml(write_scenario, capsys):
    assert main(["validate", "nope.toml"]) == 2
    assert "nope.toml" in capsys.readouterr().err
    scen = write_scenario("[scenario\nname=1")
    assert main(["validate", str(scen)]) == 2
    assert "valid TOML" in capsys.readouterr().err


def test_extends_overrides_and_appends_events(write_scenario):
    write_scenario(SMALL, "parent.toml")
    child = write_scenario("""
        [scenario]
        extends = "parent.toml"
        name = "child"
        title = "Child"

        [[states]]
        id = "CHN"
        gdp = { value = 15.0, cite = "test" }

        [[events]]
        type = "visit"
        date = "2024-05"
        actor = "RUS"
        target = "CHN"
        """, "child.toml")
    spec = load_scenario(child)
    assert spec.scenario.name == "child" and spec.scenario.months == 24
    assert [s.gdp for s in spec.states] == [21.0, 15.0, 1.7]
    assert [e.type for e in spec.events] == ["tariff", "visit"]
    assert spec.cites["states[1].gdp"] == "test"


def test_extends_replace_events_and_cycle(write_scenario):
    write_scenario(SMALL, "parent.toml")
    child = write_scenario("""
        [scenario]
        extends = "parent.toml"
        replace_events = true
        name = "child"
        title = "Child"
        """, "child.toml")
    assert load_scenario(child).events == []
    write_scenario('[scenario]\nextends = "b.toml"\n', "a.toml")
    b = write_scenario('[scenario]\nextends = "a.toml"\n', "b.toml")
    with pytest.raises(ScenarioError, match="no cycle"):
        load_scenario(b)
    orphan = write_scenario('[scenario]\nextends = "missing.toml"\n', "orphan.toml")
    with pytest.raises(ScenarioError, match=r"scenario\.extends"):
        load_scenario(orphan)


def test_policies_merge_by_identity(baseline_child):
    parent, child = baseline_child("""
        [[policies]]
        rule = "grant_ask"
        actor = "CHN"
        ask = "pipeline"
        hazard = 0.5
        """)
    p, c = load_scenario(parent), load_scenario(child)
    assert len(c.policies) == len(p.policies)
    pipe = next(x for x in c.policies if x.rule == "grant_ask" and x.ask == "pipeline")
    assert pipe.hazard == 0.5 and pipe.gas_bcm == 50.0


def test_month_arithmetic():
    assert month_index("2024-05", "2025-04-30") == 11
    assert month_label("2024-05", 8) == "2025-01"


def test_schema_is_json_and_names_event_types(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "states" in schema["properties"] and "tariff" in schema["description"]
