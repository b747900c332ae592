"""The dashboard renders headless: the one-run tab's Step, Play and Reset step and rebuild each
session's model from the chosen scenario and seed; the explorer answers a what-if in the
background and updates its differences when a lever changes."""

from __future__ import annotations

import time

import pytest

solara = pytest.importorskip("solara")  # the dashboard is an optional extra ([viz])

WAIT_SECONDS = 300  # a background answer or Play step on 2 busy cores (not a speed goal)
_RENDERED: list = []  # this test's render contexts, closed after it (stops their tasks)


@pytest.fixture(autouse=True)
def _close_rendered():
    yield
    while _RENDERED:
        _RENDERED.pop().close()


def _render(component=None):
    """``component`` (default the one-run tab) as ``solara run`` shows it (inside Solara's
    default AppLayout)."""
    import sim.app as app

    element = app.OneRun() if component is None else component
    _, rc = solara.render(solara.AppLayout(children=[element]), handle_error=False)
    _RENDERED.append(rc)
    return rc


def _until(condition, what: str):
    """Poll ``condition()`` until it is truthy (background threads update the page); its
    value. Fails after WAIT_SECONDS saying ``what`` was awaited."""
    end = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"waited {WAIT_SECONDS} s for {what}")


def _widgets(rc):
    """Every widget on the page, including those reacton's finder does not descend into (the
    items of Mesa's grid layout)."""
    import ipywidgets

    stack, seen = list(rc.find().widgets), set()
    while stack:
        widget = stack.pop()
        if id(widget) in seen:
            continue
        seen.add(id(widget))
        yield widget
        for name in widget.keys:
            value = getattr(widget, name, None)
            values = value if isinstance(value, list | tuple) else [value]
            stack.extend(v for v in values if isinstance(v, ipywidgets.Widget))


def _flat(widget) -> str:
    """The text of ``widget`` and its descendants (images and other leaves give none)."""
    return "".join(c if isinstance(c, str) else _flat(c) for c in getattr(widget, "children", []))


def _text(rc) -> str:
    """The decisions panel as rendered, as plain text (a line per paragraph or list item)."""
    import ipyvuetify as v

    (shown,) = [w for w in _widgets(rc) if isinstance(w, v.Html) and w.class_ == "sim-panel"]
    return "\n".join(line for part in shown.children
                     for line in ([_flat(li) for li in part.children] if part.tag == "ul"
                                  else [_flat(part)]))


def _alerts(rc) -> str:
    """The text of every alert (error, warning) on the page, a line each."""
    import ipyvuetify as v

    return "\n".join(_flat(w) for w in _widgets(rc) if isinstance(w, v.Alert))


def _click(rc, label: str) -> None:
    import ipyvuetify as v

    rc.find(v.Btn, children=[label]).widget.click()


def _type(rc, label: str, text: str) -> None:
    """Type ``text`` into the field ``label`` and press Enter (the field applies it then)."""
    import ipyvuetify as v

    field = rc.find(v.TextField, label=label).widget
    field.v_model = text
    field.fire_event("keyup.enter", None)


def test_page_has_the_explorer_and_the_one_run_tab():
    import ipyvuetify as v

    import sim.app as app

    rc = _render(app.Page())
    tabs = [w.children[0] for w in rc.find(v.Tab).widgets]
    assert tabs == ["Explorer", "One run"]
    assert "seed 7, month 0" in _text(rc)  # the one-run tab is built with the page


def test_dashboard_renders_plots_and_decisions():
    import ipywidgets

    rc = _render()
    assert sum(isinstance(w, ipywidgets.Image) for w in _widgets(rc)) == 2  # both plots
    text = _text(rc)
    assert "Putin" in text and "seed 7, month 0" in text and "CHN: 0 decisions" in text
    assert "nothing yet" in text  # the log, before the first step


def test_step_advances_the_month_shown():
    rc = _render()
    _click(rc, "Step")
    _click(rc, "Step")
    assert "month 2 (2024-07)" in _text(rc)


def test_reset_builds_the_chosen_scenario_and_seed():
    """Pick another scenario and seed in the controls, press Reset: the page's model is the one
    the user chose (this is where Mesa 3.5 used to pass its own Scenario object)."""
    import ipyvuetify as v

    import sim.app as app
    from sim.model import AlignmentModel

    rc = _render()
    _click(rc, "Step")
    title = "Detente: a Phase-One-like US-China deal"
    rc.find(v.Select, label="Scenario").widget.v_model = title
    _type(rc, "Seed", "11")
    _click(rc, "Reset")
    assert f"{title}, seed 11, month 0" in _text(rc)

    _click(rc, "Step")
    chosen, other_seed = (AlignmentModel(app.scenario_files()[title], rng=s) for s in (11, 12))
    chosen.run_for(1)
    other_seed.run_for(1)
    assert _text(rc) == app.panel(chosen).text() != app.panel(other_seed).text()


def test_a_seed_that_cannot_start_a_run_is_refused_in_words():
    """The seed is typed (any whole number ≥ 0, not a pick from a list); a negative one gives one
    line saying what was expected, and Reset leaves the run as it was."""
    rc = _render()
    _click(rc, "Step")
    before = _text(rc)
    _type(rc, "Seed", "-3")
    _click(rc, "Reset")
    assert "Seed: got -3; expected a whole number 0 or more" in _alerts(rc)
    assert _text(rc) == before  # still month 1 of seed 7
    _type(rc, "Seed", "123456")
    _click(rc, "Reset")
    assert "seed 123456, month 0" in _text(rc)
    assert "expected a whole number" not in _alerts(rc)


def test_play_steps_until_paused():
    rc = _render()
    _click(rc, "Play")
    _until(lambda: "month 2 (" in _text(rc), "Play to reach month 2")
    _click(rc, "Pause")
    month = _text(rc).split("month ")[1].split(" ")[0]
    time.sleep(1.5)  # several Play intervals: a paused run stays where it was
    assert f"month {month} (" in _text(rc)


def test_two_sessions_have_their_own_model():
    one, two = _render(), _render()
    _click(one, "Step")
    assert "month 1" in _text(one)
    assert "month 0" in _text(two)


def test_scenario_picker_lists_titles_of_shipped_scenarios():
    import sim.app as app
    from sim.model import DEFAULT_SCENARIO

    files = app.scenario_files()
    assert next(iter(files.values())).resolve() == DEFAULT_SCENARIO.resolve()  # default first
    assert len(files) >= 10 and all(p.is_file() for p in files.values())
    assert "history_2014_2024" not in {p.stem for p in files.values()}
    import ipyvuetify as v

    assert _render().find(v.Select, label="Scenario").widget.items == list(files)


def test_every_offered_scenario_builds_and_steps():
    import sim.app as app

    for title in app.scenario_files():
        model = app.DashboardModel(scenario_title=title, rng=3)
        model.run_for(2)
        assert model.world.spec.scenario.title == title and model.seed == 3
        assert set(model.datacollector.model_vars) >= {"USA-CHN", "balanced_share"}


def test_unknown_title_is_one_clear_error():
    import sim.app as app

    with pytest.raises(ValueError, match=r"Scenario: got 'Nope'; expected one of"):
        app.DashboardModel(scenario_title="Nope")


def test_model_refuses_a_mesa_scenario_object():
    from mesa.experimental.scenarios import Scenario

    from sim.model import AlignmentModel

    with pytest.raises(TypeError, match="scenario_file: got Scenario"):
        AlignmentModel(Scenario())


def test_explorer_updates_the_differences_when_a_lever_changes():
    """Switch off the May 2024 tariffs: a new answer (in the background) with other paired
    differences; back on (the default): the what-if holds no change again."""
    import ipyvuetify as v

    import sim.app as app

    rc = _render(app.Explorer())

    def table() -> str:
        found = [w for w in _widgets(rc) if isinstance(w, v.Html) and w.tag == "table"
                 and "sim-table-differences" in (w.class_ or "")]
        return _flat_table(found[0]) if found else ""

    def status() -> str:
        found = [w for w in _widgets(rc) if isinstance(w, v.Html)
                 and "sim-status" in (w.class_ or "")]
        return _flat(found[0]) if found else ""

    _until(lambda: "answered and drawn in" in status() and "updating" not in status(), "the answer")
    before = _until(table, "the differences table")
    assert "USA–CHN relation" in before
    assert "No what-if yet" in _alerts(rc)  # identical sides are explained, not just shown
    switch = rc.find(v.Html, class_="sim-control-event-may2024_tariffs-on").find(v.Switch)
    switch.widget.v_model = False
    after = _until(lambda: table() != before and table(), "other differences")
    assert "USA–CHN relation" in after
    assert "No what-if yet" not in _alerts(rc)
    switch.widget.v_model = True  # back to the scenario as shipped: the first answer again
    _until(lambda: table() == before, "the differences of the unchanged scenario")


def _flat_table(widget) -> str:
    return " ".join(_flat(c) if not isinstance(c, str) else c for c in widget.children)


def test_changed_keeps_only_real_changes():
    from sim.dashboard.controls import controls
    from sim.dashboard.page import changed
    from sim.dashboard.scenarios import load_shipped

    (tariffs,) = [c for c in controls(load_shipped("baseline")) if c.key ==
                  "event:may2024_tariffs.on"]
    off = changed({}, tariffs, not tariffs.default)
    assert off == {tariffs.key: not tariffs.default}
    assert changed(off, tariffs, tariffs.default) == {}


def test_sensitivity_ranks_parameters_on_request():
    """Nothing is ranked until the button is pressed; then the ranking of the chosen outcome
    (the first of the differences table) over the declared parameters."""
    import ipyvuetify as v

    import sim.app as app

    rc = _render(app.Explorer())

    def ranking() -> str:
        found = [w for w in _widgets(rc) if isinstance(w, v.Html) and w.tag == "table"
                 and "sim-table-sensitivity" in (w.class_ or "")]
        return _flat_table(found[0]) if found else ""

    _until(lambda: [w for w in _widgets(rc) if isinstance(w, v.Btn)
                    and w.children == ["Sensitivity"] and not w.disabled], "the answer")
    assert ranking() == ""
    _click(rc, "Sensitivity")
    shown = _until(ranking, "the sensitivity ranking")
    assert "μ* (mean |effect|)" in shown and ("clear" in shown or "uncertain" in shown)
    texts = [_flat(w) for w in _widgets(rc) if isinstance(w, v.Html)]
    assert any("Ranking for USA–CHN relation" in t for t in texts)


def test_log_lists_decisions_and_events_as_they_happen():
    """The one-run log holds every decision each agent took (as many as its count) and every
    scheduled event once its month has passed, newest first."""
    from sim.dashboard.onerun import DashboardModel, panel

    model = DashboardModel(rng=7)
    taken = {a.sid: 0 for a in model.agents}
    for _ in range(40):
        model.step()
        for a in model.agents:
            taken[a.sid] += len(a.acted)
    log = panel(model).log
    assert sum(taken.values()) > 0  # a run with decisions, or the test shows nothing
    for a in model.agents:
        own = [line for line in log if "(decision: " in line
               and line.split(" ")[1].startswith(f"{a.sid}:")]
        assert len(own) == taken[a.sid] == a.deals
    events = [line for line in log if " event " in line]
    passed = [e for t, e in model.world.scheduled_events if t < int(model.time)]
    assert sorted(line.split(" ")[2] for line in events) == sorted(e.id for e in passed)
    assert [line[:7] for line in log] == sorted((line[:7] for line in log), reverse=True)
