"""Scenario files: bad input gets one clear message (exit 2, nothing written); extends works."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SMALL

from sim.cli import main
from sim.spec import ScenarioError, load_scenario, month_index, month_label
from sim.world import World

PYTHON_REPR = re.compile(r"datetime\.|None\b|True\b|False\b|\^|\\d|\{\.\.\.\}|got '")
"""What must never appear in a message: Python reprs, regular expressions, elided tables."""


def mutate(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


# (case id, old, new, expected key path, expected fragments of the message)
BAD = [
    ("misspelt-top-key", "[trade]", "[trades]", "trades", ['did you mean "trade"']),
    ("misspelt-state-key", "capability = 0.12", "capabilty = 0.12", "states[0].capabilty",
     ["got capabilty;", 'did you mean "capability"']),
    ("misspelt-meta-key", 'title = "Three states"', 'titel = "Three states"', "scenario.titel",
     ['did you mean "title"']),
    ("missing-title", 'title = "Three states"\n', "", "scenario.title",
     ["got nothing;", "required"]),
    ("capability-range", "capability = 0.12", "capability = 1.5", "states[0].capability",
     ["got 1.5;", "a number greater than 0 and at most 1"]),
    ("gdp-type", "gdp = 21.0", 'gdp = "big"', "states[0].gdp", ['got "big";', "a number"]),
    ("negative-months", "months = 24", "months = -3", "scenario.months",
     ["got -3;", "a whole number from 1 to 600"]),
    ("fractional-months", "months = 24", "months = 2.5", "scenario.months",
     ["got 2.5;", "a whole number"]),
    ("bad-start", 'start = "2024-01"', 'start = "2024-13"', "scenario.start",
     ['got "2024-13";', 'a date in quotes, as "YYYY-MM" or "YYYY-MM-DD"']),
    ("bare-month", 'start = "2024-01"', "start = 2024-01", "",
     ["line 5: start = 2024-01", 'write dates in quotes', '"2024-01"']),
    ("time-as-date", 'date = "2024-03"', "date = 10:30:00", "events[0].date",
     ["got 10:30:00;", "a date in quotes"]),
    ("bad-name", 'name = "small"', 'name = "Small Run"', "scenario.name",
     ['got "Small Run";', "lowercase letters, digits and _"]),
    ("bad-state-id", 'id = "RUS"', 'id = "rus"', "states[2].id",
     ['got "rus";', "capital letters"]),
    ("title-not-text", 'title = "Three states"', "title = 3", "scenario.title",
     ["got 3;", "text in quotes"]),
    ("actor-not-text", 'actor = "USA"', "actor = 5", "events[0].actor",
     ["got 5;", "text in quotes or a list [...]"]),
    ("flag-not-bool", "[trade]", "[mechanisms.noise]\nenabled = 3\n\n[trade]",
     "mechanisms.noise.enabled", ["got 3;", "true or false"]),
    ("unknown-state-in-trade", '"CHN-RUS" = 110.0', '"CHN-RUZ" = 110.0', "trade.CHN-RUZ",
     ['got "RUZ";', 'did you mean "RUS"']),
    ("bad-pair", '"CHN-RUS" = 110.0', '"CHN+RUS" = 110.0', 'trade."CHN+RUS"', ['"A->B"']),
    ("event-unknown-type", 'type = "tariff"', 'type = "tarif"', "events[0].type",
     ['did you mean "tariff"']),
    ("event-missing-rate", "rate = 0.25\n", "", "events[0].rate",
     ["got nothing;", 'this key for an event of type "tariff"']),
    ("event-outside-horizon", 'date = "2024-03"', 'date = "2027-03"', "events[0].date",
     ["2024-01 .. 2025-12"]),
    ("event-unknown-actor", 'actor = "USA"', 'actor = "US"', "events[0].actor",
     ['got "US";', 'did you mean "USA"']),
    ("event-misspelt-key", "coverage = 50.0", "coverag = 50.0", "events[0].coverag",
     ['did you mean "coverage"']),
    ("duplicate-state", 'id = "RUS"', 'id = "CHN"', "states[2].id", ["declared twice"]),
    ("relation-out-of-range", "[trade]", '[relations]\n"USA-CHN" = -2.0\n\n[trade]',
     "relations.USA-CHN", ["got -2.0;", "a number from -0.99 to 0.99"]),
    ("mechanism-misspelt", "[trade]", "[mechanisms.balance]\nrat = 0.1\n\n[trade]",
     "mechanisms.balance.rat", ['did you mean "rate"']),
    ("elasticities", "[trade]", "[mechanisms.trade]\nelasticity_one_year = 3.0\n\n[trade]",
     "mechanisms.trade", ["elasticity_one_year at most elasticity_long_run (2.0)"]),
    ("policy-bad-rule", "[trade]",
     '[[policies]]\nrule = "grant"\nactor = "CHN"\npartner = "RUS"\nask = "pipeline"\n\n[trade]',
     "policies[0].rule", ['did you mean "grant_ask"']),
    ("policy-no-rule", "[trade]", '[[policies]]\nactor = "CHN"\n\n[trade]',
     "policies[0].rule", ["got nothing;", '"grant_ask", "escalate", "concede"']),
    ("policy-bad-ask", "[trade]",
     '[[policies]]\nrule = "grant_ask"\nactor = "CHN"\npartner = "RUS"\nask = "gas"\n\n[trade]',
     "policies[0].ask",
     ['got "gas";', 'one of "pipeline", "military_hardware", "finance_access"']),
    ("policy-out-of-range", "[trade]",
     '[[policies]]\nrule = "escalate"\nactor = "USA"\ntarget = "CHN"\nwatch = "RUS"\n'
     'instrument = "tariff"\nhazard = 2.0\n\n[trade]',
     "policies[0].hazard", ["got 2.0;", "a number from 0 to 1"]),
    ("cite-empty", "gdp = 21.0", 'gdp = { value = 21.0, cite = "" }', "states[0].gdp.cite",
     ["non-empty citation"]),
    # choice-valued keys: a misspelt value gets a did-you-mean
    ("misspelt-start-relations", 'title = "Three states"',
     'title = "Three states"\nstart_relations = "calibrate"', "scenario.start_relations",
     ['got "calibrate";', '"rule", "calibrated"', 'did you mean "calibrated"']),
    ("misspelt-anchor-offset", 'title = "Three states"',
     'title = "Three states"\nanchor_offset = "steady-start"', "scenario.anchor_offset",
     ['did you mean "steady_start"']),
    ("misspelt-ask", "[trade]",
     '[[policies]]\nrule = "grant_ask"\nactor = "CHN"\npartner = "RUS"\nask = "pipline"\n\n'
     "[trade]", "policies[0].ask", ['got "pipline";', 'did you mean "pipeline"']),
    ("misspelt-instrument", "[trade]",
     '[[policies]]\nrule = "escalate"\nactor = "USA"\ntarget = "CHN"\nwatch = "RUS"\n'
     'instrument = "tarif"\n\n[trade]', "policies[0].instrument", ['did you mean "tariff"']),
    ("misspelt-dist", "[trade]",
     '[uncertainties]\n"anchor.rate" = { dist = "unifrom", lo = 0, hi = 0.1, cite = "x" }\n\n'
     "[trade]", 'uncertainties."anchor.rate".dist', ['did you mean "uniform"']),
    ("misspelt-from", "[trade]",
     '[uncertainties]\n"anchor.rate" = { from = "calibrated", cite = "x" }\n\n[trade]',
     'uncertainties."anchor.rate".from', ['did you mean "calibration"']),
    ("lowercase-country", 'actor = "USA"', 'actor = "usa"', "events[0].actor",
     ['got "usa";', 'did you mean "USA"']),
    ("lowercase-pressure-actor", "[trade]",
     "[mechanisms.events.pressure_scale]\nUsa = 1.5\n\n[trade]",
     "mechanisms.events.pressure_scale.Usa", ['did you mean "USA"']),
    # numbers are numbers: true is not 1, "0.5" is not 0.5, 24.0 is not a whole number
    ("bool-as-number", "capability = 0.12", "capability = true", "states[0].capability",
     ["got true;", "a number"]),
    ("text-as-number", "gdp = 21.0", 'gdp = "21.0"', "states[0].gdp",
     ['got "21.0";', "a number"]),
    ("bool-as-whole-number", "months = 24", "months = true", "scenario.months",
     ["got true;", "a whole number"]),
    ("float-as-whole-number", "seed = 3", "seed = 3.0", "scenario.seed",
     ["got 3.0;", "a whole number"]),
    ("bool-in-pair-table", '"CHN-RUS" = 110.0', '"CHN-RUS" = true', "trade.CHN-RUS",
     ["got true;", "a number"]),
    ("bool-as-event-rate", "rate = 0.25", "rate = true", "events[0].rate",
     ["got true;", "a number"]),
    ("cited-bool-as-number", "capability = 0.12", 'capability = { value = true, cite = "x" }',
     "states[0].capability", ["got true;", "a number"]),
    ("number-as-switch", "[trade]", "[mechanisms.noise]\nenabled = 1\n\n[trade]",
     "mechanisms.noise.enabled", ["got 1;", "true or false"]),
    ("bool-in-uncertainty", "[trade]",
     '[uncertainties]\n"anchor.rate" = { dist = "uniform", lo = true, hi = 0.1, cite = "x" }'
     "\n\n[trade]", 'uncertainties."anchor.rate".lo', ["got true;", "a number"]),
    ("negative-tariff-rate", "rate = 0.25", "rate = -0.25", "events[0].rate",
     ["got -0.25;", "a number from 0 to 5"]),
    ("too-few-states", SMALL[SMALL.index("[[states]]\nid = \"RUS\""):SMALL.index("[trade]")], "",
     "states", ["got 2 entries;", "at least 3 entries"]),
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
    where = f" at {path}:" if path else ":"
    assert err.startswith(f"error: {scen}{where}"), err
    for frag in fragments:
        assert frag in err, (frag, err)
    assert "Traceback" not in err
    assert not PYTHON_REPR.search(err), err  # values as in TOML, never a Python repr or regex
    assert not out.exists()  # nothing written


def test_cli_process_exit_code_and_no_traceback(write_scenario, tmp_path):
    scen = write_scenario(mutate(SMALL, "gdp = 21.0", "gdpp = 21.0"))
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "validate", str(scen)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert 'did you mean "gdp"' in proc.stderr and "Traceback" not in proc.stderr


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


# ----------------------------------------------------------------------------- inputs users write
CASES = Path(__file__).resolve().parent / "cases"


def x0(path: Path) -> dict[str, float]:
    """Starting relations of the USA-CHN-RUS triangle, ``{"A->B": x}``."""
    w = World.from_spec(load_scenario(path))
    return {f"{a}->{b}": round(float(w.x0[w.idx(a), w.idx(b)]), 6)
            for a in w.ids for b in w.ids if a != b}


def test_file_with_byte_order_mark_is_read(tmp_path):
    """Notepad and PowerShell save UTF-8 with a byte order mark; TOML allows it."""
    bom = CASES / "toml_bom" / "tiny_bom.toml"
    data = bom.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    plain = tmp_path / "plain.toml"
    plain.write_bytes(data[3:])
    assert main(["validate", str(bom)]) == 0
    assert load_scenario(bom).model_dump(exclude={"source"}) == load_scenario(
        plain).model_dump(exclude={"source"})


@pytest.mark.parametrize(("data", "fragment"), [
    (b'[scenario]\nname = "caf\xe9"\n', "byte 0xe9 at line 2, which is not UTF-8"),
    ("[scenario]\n".encode("utf-16"), "a file saved as UTF-16"),
])
def test_file_not_utf8_one_line(tmp_path, capsys, data, fragment):
    scen = tmp_path / "latin.toml"
    scen.write_bytes(data)
    assert main(["validate", str(scen)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {scen}: got {fragment}; expected a UTF-8 text file (save it as UTF-8)"


def test_toml_dates_are_dates():
    """``date = 2024-02-12`` (a TOML date) means the same as ``date = "2024-02-12"``."""
    folder = CASES / "toml_date_literal"
    literal, quoted = (load_scenario(folder / f) for f in ("date_literal.toml",
                                                              "date_quoted.toml"))
    assert literal.events == quoted.events and literal.events[0].date == "2024-02-12"
    assert main(["validate", str(folder / "date_literal.toml")]) == 0


def test_toml_date_and_datetime_in_start_and_events(write_scenario):
    text = mutate(mutate(SMALL, 'start = "2024-01"', "start = 2024-01-15"),
                  'date = "2024-03"', "date = { value = 2024-03-02T09:30:00, cite = \"x\" }")
    spec = load_scenario(write_scenario(text))
    assert spec.scenario.start == "2024-01-15" and spec.events[0].date == "2024-03-02"
    assert month_index(spec.scenario.start, spec.events[0].date) == 2
    assert spec.cites["events[0].date"] == "x"


def test_one_pair_twice_in_one_table_is_an_error(capsys):
    """``"USA-CHN"`` and ``"CHN - USA"`` in one table name one pair, like a key written twice."""
    scen = CASES / "duplicate_pair_spellings" / "one_file_two_spellings.toml"
    assert main(["validate", str(scen)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f'error: {scen} at relations."CHN - USA": got "USA-CHN" and "CHN - USA"; '
                   "expected one entry for the pair USA-CHN (both keys name it; keep one)")


@pytest.mark.parametrize("table", ["relations", "trade", "alliances", "initial.ties",
                                   "initial.exposure"])
@pytest.mark.parametrize(("first", "second"), [("USA-CHN", "CHN<->USA"),
                                               ("USA->CHN", "USA -> CHN")])
def test_every_pair_table_refuses_two_spellings(write_scenario, table, first, second):
    no_trade = SMALL[:SMALL.index("[trade]")] + SMALL[SMALL.index("[[events]]"):]
    scen = write_scenario(f'{no_trade}\n[{table}]\n"{first}" = 0.5\n"{second}" = 0.5\n')
    with pytest.raises(ScenarioError, match=f"at {table}.+both keys name it"):
        load_scenario(scen)


def test_child_pair_means_the_same_whatever_the_order_of_ids():
    """The parent says ``"CHN-RUS" = 0.7`` and refines ``"RUS->CHN" = 0.9``; a child's
    ``"CHN-RUS" = 0.1`` or ``"RUS-CHN" = 0.1`` replaces all of it, both ways."""
    folder = CASES / "duplicate_pair_spellings"
    parent = x0(folder / "parent.toml")
    assert parent["CHN->RUS"] == 0.7 and parent["RUS->CHN"] == 0.9
    same, reversed_ = x0(folder / "child_same_spelling.toml"), x0(
        folder / "child_reversed_spelling.toml")
    assert same == reversed_
    assert same["CHN->RUS"] == same["RUS->CHN"] == 0.1
    assert same["USA->CHN"] == parent["USA->CHN"]


def test_pair_precedence_directed_refines_in_one_file_child_replaces(write_scenario):
    """In one file a directed key refines the undirected one whatever their order; a child's
    directed key replaces only that direction of the parent's pair."""
    head = mutate(SMALL, "[trade]", '[relations]\n"CHN->RUS" = 0.2\n"RUS-CHN" = 0.6\n\n[trade]')
    parent = write_scenario(head, "parent.toml")
    got = x0(parent)
    assert (got["CHN->RUS"], got["RUS->CHN"]) == (0.2, 0.6)
    child = write_scenario('[scenario]\nextends = "parent.toml"\nname = "c"\ntitle = "c"\n'
                           '[relations]\n"RUS -> CHN" = -0.3\n', "child.toml")
    got = x0(child)
    assert (got["CHN->RUS"], got["RUS->CHN"]) == (0.2, -0.3)
    spec = load_scenario(child)
    assert list(spec.relations) == ["RUS-CHN", "CHN->RUS", "RUS -> CHN"]  # undirected first


def test_trade_pair_precedence(write_scenario):
    """Trade: ``"A-B"`` is a pair total split evenly; a directed key sets one direction."""
    text = mutate(SMALL, '"CHN-RUS" = 110.0', '"CHN->RUS" = 80.0\n"RUS - CHN" = 110.0')
    w = World.from_spec(load_scenario(write_scenario(text)))
    c, r = w.idx("CHN"), w.idx("RUS")
    assert (w.imports0[r, c], w.imports0[c, r]) == (80.0, 55.0)  # imports[i, j]: i buys from j


@pytest.mark.parametrize("day", ["2025-02-30", "2025-04-31", "2023-02-29"])
def test_dates_that_do_not_exist_are_one_clear_line(small, day, capsys):
    from sim.cli import main

    text = small.read_text().replace('date = "2024-03"', f'date = "{day}"')
    small.write_text(text)
    assert main(["validate", str(small)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "events[0].date" in err and day in err
    assert "exists in the calendar" in err


def test_a_user_file_extends_a_shipped_scenario_by_name(write_scenario):
    for ref in ("baseline", "baseline.toml"):
        child = write_scenario(f'[scenario]\nextends = "{ref}"\nname = "mine"\ntitle = "Mine"\n',
                               "mine.toml")
        spec = load_scenario(child)
        assert spec.scenario.name == "mine" and len(spec.states) >= 6


@pytest.mark.parametrize(("text", "path", "line", "first", "first_line"), [
    ('[scenario]\nname = "d"\n\n[run]\nruns = 1\nruns = 2\n', "run.runs", 6, "run.runs", 5),
    ('[scenario]\nname = "d"\n[run]\nruns = 1\nruns = 2', "run.runs", 5, "run.runs", 4),
    ('[events.x]\ntype = "tariff"\n\n[events.x]\n', "events.x", 4, "events.x", 1),
    ('[[events]]\nid = "a"\n[[events]]\nid = "b"\nid = "c"\n', "events[1].id", 5,
     "events[1].id", 4),
    ('[initial.trade]\n"CHN->RUS" = 1\n"CHN->RUS" = 2\n', 'initial.trade."CHN->RUS"', 3,
     'initial.trade."CHN->RUS"', 2),
    ("[mechanisms]\nanchor.rate = 1\n[mechanisms.anchor]\n", "mechanisms.anchor", 3,
     "mechanisms.anchor", 2),
    ("a = {b = 1}\na.c = 2", "a.c", 2, "a", 1),
])
def test_duplicate_key_names_file_key_path_and_lines(write_scenario, capsys, text, path, line,
                                                      first, first_line):
    """A key or table given twice: one exit-2 line with the file, the duplicated key path, its
    line and the line that first defined it (tomllib names neither the key nor, at the end of
    a file, the line)."""
    scen = write_scenario(text, "dup.toml")
    assert main(["validate", str(scen)]) == 2
    err = capsys.readouterr().err
    shown = text.splitlines()[line - 1]
    assert err.startswith(f"error: {scen} at {path}: got line {line}: {shown};")
    assert f"({first} is already defined on line {first_line})" in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_duplicate_key_in_a_parent_names_the_parent(write_scenario, tmp_path, capsys):
    write_scenario('[scenario]\nname = "p"\nname = "q"\n', "parent.toml")
    child = write_scenario('[scenario]\nextends = "parent.toml"\n', "child.toml")
    assert main(["run", str(child), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "parent.toml at scenario.name: got line 3: " in err
    assert not (tmp_path / "o").exists()
