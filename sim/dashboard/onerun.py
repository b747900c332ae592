"""The "One run" tab: step the Mesa model of one run (Step, Play, Reset, seed) and watch each
state's decisions and the scheduled events as they happen (a log, newest first).

Built from plain Solara components around :class:`DashboardModel` (Mesa's SolaraViz brings its
own page layout and does not nest in a tab). Every browser session renders its own
:func:`OneRun` and so steps its own model.
"""

from __future__ import annotations

import threading
import time
from typing import NamedTuple

import solara

from sim.dashboard.figures import png
from sim.dashboard.scenarios import scenario_files
from sim.model import AlignmentModel

DEFAULT_SEED = 7
PLAY_SECONDS = 0.4  # pause between two steps while playing
RESET_HINT = "A new scenario or seed takes effect when you press Reset."
COLOURS = ("tab:blue", "tab:red", "tab:green")


class DashboardModel(AlignmentModel):
    """The model as the tab's Reset builds it: a shipped scenario picked by its title, and a
    seed.

    Raises ValueError for an unknown title.
    """

    def __init__(self, scenario_title: str | None = None, rng: int = DEFAULT_SEED) -> None:
        titles = scenario_files()
        title = next(iter(titles)) if scenario_title is None else scenario_title
        if title not in titles:
            raise ValueError(f"Scenario: got {title!r}; expected one of {sorted(titles)}")
        super().__init__(titles[title], rng=rng)


class Panel(NamedTuple):
    """What the decisions panel shows."""

    title: str
    status: str  # ", seed 7, month 3 (2024-08)"
    relations: str  # "Relations: USA-CHN -0.61, USA-RUS -0.84, CHN-RUS +0.87"
    rows: list[str]  # per state: "CHN: 2 decisions, this month CHN:pipeline"
    log: list[str]  # what happened, newest first: "2024-06 USA:secondary_sanctions (decision)"

    def shown_log(self) -> tuple[list[str], str | None]:
        """The log's entries shown (the newest :data:`LOG_ROWS`, or a hint before the first)
        and a note of the earlier ones left out (None if none)."""
        more = len(self.log) - LOG_ROWS
        return (self.log[:LOG_ROWS] or [NOTHING_YET],
                f"and {plural(more, 'earlier entry')}" if more > 0 else None)

    def text(self) -> str:
        """The panel as plain text, one paragraph or list item a line (as it is shown)."""
        log, more = self.shown_log()
        return "\n".join([self.title + self.status, self.relations, *self.rows, LOG_TITLE,
                          *log, *([more] if more else []), RESET_HINT])


LOG_ROWS = 12
"""Entries of the log shown (newest first)."""
LOG_TITLE = "What happened, newest first"
NOTHING_YET = "nothing yet: press Step or Play"


def plural(n: int, word: str) -> str:
    """``"1 decision"``, ``"2 decisions"``, ``"3 earlier entries"``."""
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word[:-1]}ies" if word.endswith("y") else f"{n} {word}s"


def happenings(model: AlignmentModel) -> list[str]:
    """What happened so far in ``model``'s run, newest first: the scheduled events applied
    (``"2024-05 event may2024_tariffs (USA)"``) and every decision a state took, in the month
    it took it (``"2024-06 USA:secondary_sanctions (decision)"``)."""
    now = int(model.time)
    dates = model.world.dates()
    done = [(t, f"{dates[t]} event {e.id} ({e.actor}): {e.type.replace('_', ' ')}")
            for t, e in model.world.scheduled_events if t + 1 <= now]
    for (step, _), acted in model.datacollector.get_agent_vars_dataframe()["acted"].items():
        done += [(int(step), f"{dates[int(step)]} {label} (decision: "
                             f"{label.split(':', 1)[-1].replace('_', ' ')})")
                 for label in str(acted).split(";") if label]
    return [line for _, line in sorted(done, key=lambda d: d[0], reverse=True)]


def panel(model: AlignmentModel) -> Panel:
    """The decisions panel of ``model``: scenario, seed, month, the triangle's relations now
    and the decisions taken so far, per state."""
    now = {k: v[-1] for k, v in model.datacollector.model_vars.items()}
    relations = ", ".join(f"{a}-{b} {now[f'{a}-{b}']:+.2f}" for a, b in model.world.key_pairs())
    rows = [f"{a.sid}: {plural(a.deals, 'decision')}"
            + (f", this month {', '.join(a.acted)}" if a.acted else "") for a in model.agents]
    return Panel(model.world.spec.scenario.title,
                 f", seed {model.seed}, month {int(model.time)} ({now['date']})",
                 f"Relations: {relations}", rows, happenings(model))


def seed_problem(seed: int | None) -> str | None:
    """Why ``seed`` (the Seed field's value; None while the text is not a whole number) cannot
    start a run, or None if it can: a seed is a whole number ≥ 0 (numpy's seed sequence)."""
    if seed is None or seed < 0:
        return f"Seed: got {seed if seed is not None else 'no whole number'}; " \
               "expected a whole number 0 or more. The run was not reset."
    return None


def plots(model: AlignmentModel) -> tuple[bytes, bytes]:
    """PNGs of the triangle's relations and of the share of balanced triads, month by month,
    of ``model`` so far."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    data = model.datacollector.model_vars
    pairs = [f"{a}-{b}" for a, b in model.world.key_pairs()]
    shown = []
    months = model.world.spec.scenario.months
    for keys, ylabel, title, ylim in (
            (pairs, "relation (−1 … +1)", "Relations of the triangle", (-1.05, 1.05)),
            (["balanced_share"], "share", "Balanced triads among the closed ones", (-0.02, 1.02))):
        fig = Figure(figsize=(5, 2.6), layout="constrained")
        ax = fig.add_subplot()
        for key, colour in zip(keys, COLOURS, strict=False):
            ax.plot(range(len(data[key])), data[key], color=colour, label=key,
                    marker="o" if len(data[key]) == 1 else None)
        ax.set(xlim=(0, max(12, min(months, len(data[keys[0]]) + 5))), ylim=ylim, title=title)
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # whole months
        ax.set_xlabel(f"months since {model.world.dates()[0]}")
        ax.set_ylabel(ylabel)
        if len(keys) > 1:
            ax.legend(loc="best", fontsize="small")
        shown.append(png(fig))
    return shown[0], shown[1]


@solara.component
def Decisions(shown: Panel) -> None:
    """The decisions panel (:func:`panel`), in plain HTML elements: Solara's Markdown would
    fetch a maths renderer (KaTeX) that solara-assets does not ship."""
    html = solara.v.Html
    with html(tag="div", class_="sim-panel"):
        title = html(tag="strong", class_="font-weight-bold", children=[shown.title])
        html(tag="p", children=[title, shown.status])
        html(tag="p", children=[shown.relations])
        html(tag="ul", children=[html(tag="li", children=[row]) for row in shown.rows])
        html(tag="p", class_="font-weight-bold", children=[LOG_TITLE])
        log, more = shown.shown_log()
        html(tag="ul", class_="sim-log",
             children=[html(tag="li", children=[line]) for line in log])
        if more:
            html(tag="p", class_="caption", children=[more])
        html(tag="p", class_="caption", children=[RESET_HINT])


@solara.component
def OneRun() -> None:
    """Step, Play and Reset one run of the chosen scenario and seed; plots and the decisions
    panel follow every step. State lives in this session's component (no shared model)."""
    titles = list(scenario_files())
    title = solara.use_reactive(titles[0])
    seed = solara.use_reactive(DEFAULT_SEED)
    first = solara.use_memo(DashboardModel, dependencies=[])
    model, set_model = solara.use_state(first)
    tick = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    lock = solara.use_memo(threading.Lock, dependencies=[])
    months = model.world.spec.scenario.months

    running = solara.use_memo(lambda: [False], dependencies=[])  # Play's flag (read under the lock)

    def step(playing_only: bool = False) -> None:
        """One month (for Play's thread, ``playing_only``: only while still playing)."""
        with lock:
            if playing_only and not running[0]:
                return
            if int(model.time) < months:
                model.step()
        tick.value += 1

    def set_playing(on: bool) -> None:
        """Play (``on``) or Pause, each idempotent (a second Pause never resumes). After Pause
        Play's thread starts no new step (it checks the flag under the model's lock); one
        already under way completes. The flag is set without the lock: waiting for it here,
        in the page's event handler, stalled the page while Play's thread rendered."""
        running[0] = on
        playing.set(on)
        tick.value += 1  # show the month the run stopped at

    problem = solara.use_reactive(None)

    def reset() -> None:
        problem.value = seed_problem(seed.value)
        if problem.value:
            return
        running[0] = False  # not under the lock: see set_playing
        playing.value = False
        set_model(DashboardModel(title.value, seed.value))  # Play's task stops: a new model
        tick.value = 0

    on = playing.value  # read here: the task's thread gets it as a value

    def play() -> None:
        """Step every PLAY_SECONDS while this is the current task (Pause, Reset or leaving the
        page starts another or none)."""
        while on and task.is_current() and int(model.time) < months:
            step(playing_only=True)
            time.sleep(PLAY_SECONDS)
        if on and task.is_current():
            running[0] = False
            playing.set(False)  # the horizon reached

    task = solara.lab.use_task(play, dependencies=[on, model])

    def snapshot() -> tuple[bytes, bytes, Panel]:
        with lock:  # not while Play's thread steps the model
            return *plots(model), panel(model)

    relations, balanced, shown = solara.use_memo(snapshot, dependencies=[model, tick.value])

    with solara.Column(classes=["sim-onerun"]):
        with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}):
            with solara.Div(style={"min-width": "280px", "flex": "2 1 280px"}):
                solara.Select("Scenario", values=titles, value=title)
            with solara.Div(style={"min-width": "100px", "flex": "0 1 120px"}):
                solara.InputInt("Seed", value=seed, optional=True)  # applied on Enter or leaving
            solara.Button("Reset", on_click=reset, color="primary", outlined=True)
            solara.Button("Step", on_click=step, disabled=playing.value)
            solara.Button("Play", on_click=lambda: set_playing(True), disabled=playing.value)
            solara.Button("Pause", on_click=lambda: set_playing(False),
                          disabled=not playing.value)
        with solara.Row(style={"flex-wrap": "wrap"}):
            for image in (relations, balanced):
                with solara.Div(style={"flex": "1 1 340px", "min-width": "0"}):
                    solara.Image(image, width="100%", classes=["sim-onerun-plot"])
        if problem.value:
            solara.Error(problem.value)
        Decisions(shown)
