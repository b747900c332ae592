"""The scenario explorer in the browser (Solara): ask "what if" of a shipped scenario and see the
answer of a whole ensemble, with its uncertainty, seconds later.

Two tabs. **Explorer**: pick a scenario (and optionally a reference scenario), change its levers
and uncertainties (controls built by :func:`sim.dashboard.controls.controls`); every change
reruns :func:`sim.dashboard.answer.answer` in a background task (a newer change cancels the
older one) and redraws the fan charts, the paired differences, the triangle and heatmap at a
date, the decisions and the landscape blocs; the sensitivity ranking is computed on request.
Export the what-if as a scenario TOML, each figure as PNG, each table as CSV. **One run**: step
one Mesa run (:mod:`sim.dashboard.onerun`).

Every browser session has its own state (component state, no module-level mutable state but
the render lock). Offline: figures are PNGs made by matplotlib; Solara's front end comes from
``solara-assets``.
"""

from __future__ import annotations

import re
import time
import zlib
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import pandas as pd
import solara
import solara.lab

from sim.dashboard.answer import Answer, answer, resolve_engine, sensitivity
from sim.dashboard.controls import Control, controls
from sim.dashboard.figures import render
from sim.dashboard.onerun import OneRun
from sim.dashboard.scenarios import scenario_files
from sim.dashboard.whatif import WhatIf, to_toml
from sim.effects import UNITS, digits_for, signed
from sim.spec import load_scenario

NAME = "sim: great-power alignment"
SHOWN = ("relations", "trade", "differences", "decisions", "landscape")
"""Figures redrawn at every change."""
FIRST = ("relations",)
"""Figures drawn with the answer and its tables (the paired differences among them); the others
follow, each in a task of its own."""
DEFER = 0.2
"""Seconds the other figures wait before drawing, so that the first ones (:data:`FIRST`) are
sent to the browser without competing for the interpreter."""
AT_DATE = ("triangle", "heatmap")
"""Figures drawn at the date of the slider."""
TABLES = ("differences", "decisions", "outcomes")
TITLES = {"relations": "Relations of the triangle", "trade": "Trade of the triangle",
          "differences": "Paired differences", "decisions": "Decisions over time",
          "landscape": "Blocs the landscape theory favours", "triangle": "Strategic triangle",
          "heatmap": "Alignment heatmap", "outcomes": "Outcomes"}
GROUPS = {"events": "Events", "policies": "Policies", "uncertainties": "Uncertainties"}
RUNS = (100, 200, 500, 1000, 2000)
DEFAULT_RUNS = 500
DEFAULT_SEED = 1
NO_REFERENCE = "(none: the scenario as shipped)"
TABLE_ROWS = 40  # rows shown of a table; its CSV has them all
CARD = {"flex": "1 1 620px", "min-width": "0", "max-width": "100%"}
WIDE = {**CARD, "flex": "1 1 100%"}  # a card of two figures side by side: a row of its own
CSS = """
.sim-wrap { display: flex; flex-wrap: wrap; gap: 8px; align-items: flex-start; }
.sim-table { border-collapse: collapse; font-size: 0.85rem; width: 100%; }
.sim-table th, .sim-table td { border-bottom: 1px solid #ddd; padding: 2px 6px; text-align: right; }
.sim-table th:first-child, .sim-table td:first-child { text-align: left; }
.sim-scroll { overflow-x: auto; max-width: 100%; }
.sim-stale { opacity: 0.55; }
.sim-explorer img { max-width: 100%; height: auto; }
.sim-explorer, .sim-onerun { padding: 0 12px; }
"""


class Shown(NamedTuple):
    """What one change of the controls answers: the request's key, the answer, its tables
    (the figures are drawn one by one afterwards, :func:`draw`)."""

    key: tuple
    answer: Answer
    tables: dict[str, pd.DataFrame]
    figures: dict[str, bytes]  # those of FIRST, as PNG
    answer_seconds: float  # from the request to the answer and its tables
    seconds: float  # from the request to the first figures drawn


def compute(whatif: WhatIf, runs: int, seed: int,
            reference_cache: dict | None = None) -> Shown:
    """Answer ``whatif`` with ``runs`` runs from ``seed``, make its tables (:data:`TABLES`)
    and draw the figures a reader looks at first (:data:`FIRST`). Errors of
    :func:`sim.dashboard.answer.answer` pass through."""
    start = time.perf_counter()
    result = answer(whatif, runs=runs, seed=seed, reference_cache=reference_cache)
    tables = {name: result.table(name) for name in TABLES}
    answered = time.perf_counter() - start
    figures = {name: render(lambda name=name: result.figure(name)) for name in FIRST}
    return Shown(key(whatif, runs, seed), result, tables, figures, answered,
                 time.perf_counter() - start)


def draw(result: Answer, name: str, date: str | None = None,
         wanted: Callable[[], bool] = lambda: True) -> bytes | None:
    """Figure ``name`` of ``result`` (at ``date`` for :data:`AT_DATE`) as PNG; None if
    ``wanted()`` turns False while it waits for the render lock (a newer answer came)."""
    return render(lambda: result.figure(name, date=date), wanted)


def key(whatif: WhatIf, runs: int, seed: int) -> tuple:
    """A hashable identity of a request (what the background task depends on)."""
    return (whatif.scenario, tuple(sorted(whatif.changes.items())), whatif.reference, runs, seed)


def changed(changes: Mapping[str, Any], control: Control, value: Any) -> dict[str, Any]:
    """``changes`` with ``control`` set to ``value``; a value equal to the default (for a
    number: within half a step of it) drops the key, so the what-if holds only real changes."""
    new = dict(changes)
    near = (control.kind == "number" and value is not None and control.default is not None
            and abs(value - control.default) < control.step / 2)
    if value == control.default or near:
        new.pop(control.key, None)
    else:
        new[control.key] = value
    return new


def readable(differences: pd.DataFrame) -> pd.DataFrame:
    """The differences table as the page shows it: per outcome the median paired effect and
    its 90% interval across parameter draws, signed, at the precision the reports use
    (:func:`sim.effects.digits_for`), and the share of draws with the mean's sign, or "no
    change" when every run's difference is exactly 0 (the CSV keeps every column at full
    precision)."""
    digits = [digits_for(scale) for scale in differences["scale"]]
    return pd.DataFrame({
        "outcome": [f"{label} at {date} ({UNITS.get(scale, scale)})" for label, scale, date in
                    zip(differences["label"], differences["scale"], differences["date"],
                        strict=True)],
        "median effect": [signed(m, k) for m, k in
                          zip(differences["median"], digits, strict=True)],
        "90% of parameter draws": [f"{signed(lo, k)} to {signed(hi, k)}" for lo, hi, k in
                                   zip(differences["param_lo"], differences["param_hi"], digits,
                                       strict=True)],
        "draws with that sign": ["no change (every run 0)" if zero >= 1 else same for zero, same
                                 in zip(differences["zero_share"], differences["same_sign"],
                                        strict=True)]})


def css_class(control_key: str) -> str:
    """The CSS class of a control's input, from its key: ``event:may2024_tariffs.on`` →
    ``sim-control-event-may2024_tariffs-on`` (what the browser tests look for)."""
    return "sim-control-" + re.sub(r"[^A-Za-z0-9_-]", "-", control_key)


def shown_value(value: Any) -> str:
    """A table cell as text: floats to 3 significant digits."""
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


@solara.component
def Table(table: pd.DataFrame, name: str) -> None:
    """``table`` as a plain HTML table (first :data:`TABLE_ROWS` rows) with class
    ``sim-table-<name>``."""
    html = solara.v.Html
    shown = table.head(TABLE_ROWS)
    head = html(tag="tr", children=[html(tag="th", children=[str(c)]) for c in shown.columns])
    rows = [html(tag="tr", children=[html(tag="td", children=[shown_value(v)]) for v in row])
            for row in shown.itertuples(index=False)]
    with html(tag="div", class_="sim-scroll"):
        html(tag="table", class_=f"sim-table sim-table-{name}",
             children=[html(tag="thead", children=[head]), html(tag="tbody", children=rows)])
        if len(table) > TABLE_ROWS:
            html(tag="p", class_="caption",
                 children=[f"first {TABLE_ROWS} of {len(table)} rows; the CSV has them all"])


@solara.component
def Drawn(shown: Shown, name: str, stem: str, date: str | None = None) -> None:
    """Figure ``name`` of ``shown``'s answer with its PNG download: drawn with the answer
    (:data:`FIRST`, shown at once) or in a background task of its own (so the first figures
    show while the others are drawn; the previous figure stays, dimmed, until then)."""
    request = f"sim-for-{zlib.crc32(repr(shown.key).encode()):08x}"
    ready = shown.figures.get(name) if date is None else None
    if ready is not None:
        Picture(ready, name, stem, request)
    else:
        DrawnLater(shown, name, stem, request, date)


@solara.component
def DrawnLater(shown: Shown, name: str, stem: str, request: str, date: str | None) -> None:
    """Figure ``name`` of ``shown``'s answer (at ``date``), drawn in a background task; the
    previous figure stays, dimmed, until the new one is drawn."""

    answered = solara.use_ref(None)  # the request this figure was last drawn for
    new_answer = answered.current != shown.key
    answered.current = shown.key

    def make() -> tuple[str, str | None, bytes | None]:
        if new_answer:  # not for a new date: let the answer's first figures reach the browser
            time.sleep(DEFER)
        return request, date, draw(shown.answer, name, date, wanted=lambda: task.is_current())

    task = solara.lab.use_task(make, dependencies=[shown.key, name, date])
    answer_class, when, image = task.latest or ("", None, None)
    solara.ProgressLinear(task.pending)
    if task.error:
        solara.Error(f"{name}: {task.exception}")
    if image is None:
        solara.Text(f"drawing {name}…", classes=["caption"])
        return
    Picture(image, name, stem, answer_class, when, stale=task.pending)


@solara.component
def Picture(image: bytes, name: str, stem: str, request: str, when: str | None = None,
            stale: bool = False) -> None:
    """A drawn figure and its PNG download; the request and the month it shows are classes of
    the image (what the browser tests wait for)."""
    drawn_for = [request, *([f"sim-date-{when}"] if when else [])]
    solara.Image(image, width="100%", classes=[f"sim-fig-{name}", *drawn_for]
                 + (["sim-stale"] if stale else []))
    suffix = f"_{when}" if when else ""
    solara.FileDownload(image, filename=f"{stem}_{name}{suffix}.png", label=f"{name}.png",
                        mime_type="image/png")


@solara.component
def FigureCard(name: str, shown: Shown, stem: str, table: pd.DataFrame | None = None,
               show_table: pd.DataFrame | None = None) -> None:
    """One view: its figure and PNG download, optionally its table as CSV download and a
    table shown (``show_table``)."""
    with solara.Card(TITLES[name], style=CARD, classes=[f"sim-card-{name}"]):
        Drawn(shown, name, stem)
        if table is not None:
            solara.FileDownload(table.to_csv(index=False), filename=f"{stem}_{name}.csv",
                                label=f"{name}.csv", mime_type="text/csv")
        if show_table is not None:
            Table(show_table, name)


@solara.component
def Slider(label: str, value: float, control: Control, on_value: Callable[[Any], None]) -> None:
    """A number's slider, its label and value on a line above it (a long label beside the
    slider would squeeze it to nothing on a laptop screen)."""
    solara.Text(f"{label}: {value:g}", classes=["body-2"])
    solara.SliderFloat("", value=float(value), min=control.low, max=control.high,
                       step=control.step, on_value=on_value, thumb_label=True)


@solara.component
def ControlInput(control: Control, value: Any, on_value: Callable[[Any], None],
                 show_help: bool = True) -> None:
    """The input of one control: a switch, a month picker or a slider (whose label shows its
    value). A number whose default is None (a parameter left free) gets a switch to fix it.
    ``show_help``: the control's source below it."""
    c = control
    with solara.Div(classes=[css_class(c.key)]):
        if c.kind == "switch":
            solara.Switch(label=c.label, value=bool(value), on_value=on_value)
        elif c.kind == "month":
            solara.Select(c.label, values=list(c.choices), value=value, on_value=on_value)
        elif c.default is None:  # a parameter drawn from its range unless fixed here
            name = c.label.removesuffix(": fixed at")
            solara.Switch(label=f"fix {name} (off: drawn from its range)", value=value is not None,
                          on_value=lambda on: on_value(c.snap((c.low + c.high) / 2) if on
                                                       else None))
            if value is not None:
                Slider(f"{name} fixed at", value, c, on_value)
        else:
            Slider(c.label, value, c, on_value)
    if c.help and show_help:
        solara.v.Html(tag="div", class_="caption grey--text mb-2", children=[c.help])


@solara.component
def WhatIfControls(items: list[Control], changes: solara.Reactive[dict]) -> None:
    """The what-if controls, a collapsible group each (events, policies, uncertainties), each
    group with a button back to its defaults."""
    for group, title in GROUPS.items():
        group_items = [c for c in items if c.group == group]
        if not group_items:
            continue
        n = sum(c.key in changes.value for c in group_items)

        def reset(group_items: list[Control] = group_items) -> None:
            changes.set({k: v for k, v in changes.value.items()
                         if k not in {c.key for c in group_items}})

        with solara.Details(summary=f"{title} ({n} changed)", expand=False):
            solara.Button(f"Reset {title.lower()}", on_click=reset, text=True,
                          disabled=n == 0, classes=[f"sim-reset-{group}"])
            previous = None
            for c in group_items:
                subject = c.key.rsplit(".", 1)[0]  # an event, a policy, a parameter
                if previous is not None and subject != previous:
                    solara.v.Divider(class_="my-2")
                ControlInput(c, changes.value.get(c.key, c.default),
                             lambda v, c=c: changes.set(changed(changes.value, c, v)),
                             show_help=subject != previous)  # a subject's source once
                previous = subject


def ranking_shown(ranking: pd.DataFrame) -> pd.DataFrame:
    """The Morris ranking as the page shows it: μ* (the mean absolute elementary effect, in
    the outcome's unit), its 95% interval half-width and σ (how much the effect varies with the
    other parameters: interactions, non-linearity), and whether the rank is uncertain (the
    interval as wide as μ* itself)."""
    return pd.DataFrame({
        "parameter": ranking["parameter"],
        "μ* (mean |effect|)": ranking["mu_star"].map(shown_value),
        "± 95%": ranking["conf"].map(shown_value),
        "σ (interactions)": ranking["sigma"].map(shown_value),
        "rank": ["uncertain" if c >= m else "clear" for m, c in
                 zip(ranking["mu_star"], ranking["conf"], strict=True)]})


@solara.component
def Sensitivity(whatif: WhatIf, outcomes: dict[str, str]) -> None:
    """The sensitivity ranking of one outcome of the what-if shown, computed on request
    (``outcomes``: label → registered outcome name)."""
    labels = list(outcomes)
    outcome = solara.use_reactive(labels[0] if labels else "")
    chosen = outcome.value if outcome.value in labels or not labels else labels[0]
    asked = solara.use_reactive(None)

    def run() -> tuple[Any, str, pd.DataFrame]:
        return asked.value, chosen, sensitivity(whatif, outcomes[chosen])

    task = solara.lab.use_task(run, dependencies=None)
    with solara.Card("Sensitivity", style=CARD, classes=["sim-card-sensitivity"]):
        solara.Select("Outcome", values=labels, value=chosen, on_value=outcome.set, dense=True)

        def ask() -> None:
            asked.set(key(whatif, 0, 0))
            task()

        solara.Button("Sensitivity", on_click=ask, disabled=task.pending or not labels,
                      color="primary", outlined=True)
        solara.ProgressLinear(task.pending)
        if task.error:
            solara.Error(f"sensitivity failed: {task.exception}")
        elif task.finished and task.value is not None:
            for_key, for_outcome, ranking = task.value
            if for_key != key(whatif, 0, 0):
                solara.Text("(for an earlier what-if; press again)", classes=["caption"])
            solara.Text(f"Ranking for {for_outcome} at {ranking['date'].iloc[0]}, of the "
                        "what-if shown: a Morris screen of its uncertain parameters (8 "
                        "trajectories, one run each). Parameters are ranked by μ*; a rank "
                        "is uncertain when the ± 95% interval is as wide as μ* itself.",
                        classes=["body-2"])
            solara.FileDownload(ranking.to_csv(index=False), filename="sensitivity.csv",
                                label="sensitivity.csv", mime_type="text/csv")
            Table(ranking_shown(ranking), "sensitivity")
        else:
            solara.Text("Ranks the uncertain parameters of the what-if shown by how much each "
                        "moves the outcome; takes a while.", classes=["caption"])


def outcome_names(shown: Shown) -> dict[str, str]:
    """The outcomes offered to the sensitivity ranking, those of the differences table: their
    label → registered name."""
    table = shown.tables["differences"]
    return {str(label): str(name) for label, name in
            zip(table["label"], table["outcome"], strict=True)}


@solara.component
def Views(shown: Shown) -> None:
    """Every view of one answer: fan charts, differences, triangle and heatmap at a date,
    decisions, landscape, sensitivity (of the answer's what-if)."""
    months = shown.answer.dates
    whatif = shown.answer.whatif
    date = solara.use_reactive(months[-1])
    current = date.value if date.value in months else months[-1]
    stem = f"{whatif.scenario}_whatif"
    with solara.Div(classes=["sim-wrap"]):
        for name in ("relations", "trade"):
            FigureCard(name, shown, stem)
        FigureCard("differences", shown, stem, shown.tables["differences"],
                   readable(shown.tables["differences"]))
        with solara.Card(f"Triangle and heatmap at {current}", style=WIDE,
                         classes=["sim-card-at-date"]):
            solara.SliderInt(f"Date: {current}", value=months.index(current), min=0,
                             max=len(months) - 1, thumb_label=False,
                             on_value=lambda i: date.set(months[i]))
            with solara.Div(classes=["sim-wrap"]):
                for name in AT_DATE:  # each a row of its own: two panels each, readable
                    with solara.Div(style={"flex": "1 1 100%", "min-width": "0"}):
                        Drawn(shown, name, stem, current)
        FigureCard("decisions", shown, stem, shown.tables["decisions"])
        FigureCard("landscape", shown, stem)
        with solara.Card("Outcomes of every run", style=CARD, classes=["sim-card-outcomes"]):
            solara.FileDownload(shown.tables["outcomes"].to_csv(index=False),
                                filename=f"{stem}_outcomes.csv", label="outcomes.csv",
                                mime_type="text/csv")
        Sensitivity(whatif, outcome_names(shown))


NO_CHANGE = ("No what-if yet: both sides show the scenario as written, so they are the same and "
             "every difference is 0. Change a control under What if, or pick a reference "
             "scenario to compare with.")


@solara.component
def Answered(whatif: WhatIf, runs: int, seed: int, reference_cache: dict) -> None:
    """The answer to ``whatif`` (a background task; a newer request cancels it) and its views;
    the latest answer stays, dimmed, while the next one is computed. Only this part of the
    page re-renders when an answer arrives (the controls do not)."""
    request = key(whatif, runs, seed)
    task = solara.lab.use_task(lambda: compute(whatif, runs, seed, reference_cache),
                               dependencies=[request])
    solara.ProgressLinear(task.pending)
    shown = task.latest
    if task.error:
        solara.Error(f"{task.exception}")
    if shown is None:
        solara.Text("Running the ensemble…", classes=["sim-status"])
        return
    status = (f"{shown.answer.runs} runs, seed {shown.answer.seed}; answered and drawn in "
              f"{shown.seconds:.2f} s")
    if task.pending:
        status += " (updating…)"
    solara.Text(status, classes=["sim-status"])
    if not shown.answer.whatif.changes and shown.answer.whatif.reference is None:
        solara.Info(NO_CHANGE, classes=["sim-no-change"])
    with solara.Div(classes=["sim-stale"] if task.pending else []):
        Views(shown)


@solara.component
def Explorer() -> None:
    """Scenario and reference pickers, runs and seed, the what-if controls, and the views of
    the latest answer (:func:`Answered`)."""
    files = scenario_files()
    titles = list(files)
    title = solara.use_reactive(titles[0])
    reference = solara.use_reactive(NO_REFERENCE)
    changes = solara.use_reactive({})
    runs = solara.use_reactive(DEFAULT_RUNS)
    seed = solara.use_reactive(DEFAULT_SEED)
    reference_cache = solara.use_memo(dict, dependencies=[])  # this session's reference runs
    spec = solara.use_memo(lambda: load_scenario(files[title.value]), dependencies=[title.value])
    items = solara.use_memo(lambda: controls(spec), dependencies=[spec])
    whatif = WhatIf(files[title.value].stem, dict(changes.value),
                    None if reference.value == NO_REFERENCE else files[reference.value].stem)

    def pick(new: str) -> None:
        changes.set({})
        title.set(new)

    with solara.Column(classes=["sim-explorer"]):
        with solara.Div(classes=["sim-wrap"]):
            with solara.Div(style={"flex": "3 1 300px", "min-width": "0"}):
                solara.Select("Scenario", values=titles, value=title.value, on_value=pick)
            with solara.Div(style={"flex": "3 1 300px", "min-width": "0"}):
                solara.Select("Reference scenario", values=[NO_REFERENCE, *titles],
                              value=reference)
            with solara.Div(style={"flex": "0 1 110px"}):
                solara.Select("Runs", values=list(RUNS), value=runs)
            with solara.Div(style={"flex": "0 1 110px"}):
                solara.InputInt("Seed", value=seed)
        with solara.Div(classes=["sim-wrap"]):
            with solara.Div(style={"flex": "1 1 280px", "max-width": "min(100%, 400px)",
                                   "min-width": "0"}, classes=["sim-controls"]):
                with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}):
                    solara.Text("What if", classes=["text-h6"])
                    solara.Button("Reset all", on_click=lambda: changes.set({}), text=True,
                                  disabled=not changes.value)
                    solara.FileDownload(  # with the sim run command of the page's numbers
                        lambda: to_toml(whatif, runs=runs.value, seed=seed.value,
                                        engine=resolve_engine("auto")),
                        filename=f"{whatif.scenario}_whatif.toml", label="Scenario TOML",
                        mime_type="application/toml")
                WhatIfControls(items, changes)
            with solara.Div(style={"flex": "3 1 600px", "min-width": "0"},
                            classes=["sim-views"]):
                Answered(whatif, runs.value, seed.value, reference_cache)


@solara.component
def Page() -> None:
    """The page of one browser session: the explorer and the one-run tab."""
    solara.Title(NAME)
    solara.Style(CSS)
    with solara.lab.Tabs():
        with solara.lab.Tab("Explorer"):
            Explorer()
        with solara.lab.Tab("One run"):
            OneRun()
