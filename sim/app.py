"""Dashboard: step the Mesa model of one run in the browser (Solara, Mesa's SolaraViz).

Run with ``solara run sim/app.py`` (needs the ``viz`` extra). Pick a scenario (by its title) and
pick a seed, press Reset, then Step or Play; the plots show the USA-CHN-RUS relations and the
share of balanced triads month by month, and the panel below them each state's decisions.

Every browser session renders its own :func:`Page` and so steps its own model. The page needs
no internet access: the ``viz`` extra installs Solara's front-end files (``solara-assets``).
"""

from __future__ import annotations

from typing import NamedTuple

import solara
from mesa.visualization import SolaraViz, make_plot_component
from mesa.visualization.utils import update_counter

from sim.dashboard.scenarios import HIDDEN, scenario_files
from sim.model import AlignmentModel

NAME = "sim: great-power alignment"
DEFAULT_SEED = 7
SEEDS = range(1000)  # offered in a list that shows the number (type digits to jump to one)
__all__ = ["HIDDEN", "DashboardModel", "Page", "scenario_files"]


class DashboardModel(AlignmentModel):
    """The model as the dashboard's Reset builds it: a shipped scenario picked by its title,
    and a seed.

    Raises ValueError for an unknown title.
    """

    def __init__(self, scenario_title: str | None = None, rng: int = DEFAULT_SEED) -> None:
        titles = scenario_files()
        title = next(iter(titles)) if scenario_title is None else scenario_title
        if title not in titles:
            raise ValueError(f"Scenario: got {title!r}; expected one of {sorted(titles)}")
        super().__init__(titles[title], rng=rng)


RESET_HINT = "A new scenario or seed takes effect when you press Reset."


class Panel(NamedTuple):
    """What the decisions panel shows."""

    title: str
    status: str  # ", seed 7, month 3 (2024-08)"
    relations: str  # "Relations: USA-CHN -0.61, USA-RUS -0.84, CHN-RUS +0.87"
    rows: list[str]  # per state: "CHN: 2 decision(s), this month pos2_sign"

    def text(self) -> str:
        """The panel as plain text, one paragraph or list item a line."""
        return "\n".join([self.title + self.status, self.relations, *self.rows, RESET_HINT])


def panel(model: AlignmentModel) -> Panel:
    """The decisions panel of ``model``: scenario, seed, month, the triangle's relations now
    and the decisions taken so far, per state."""
    now = {k: v[-1] for k, v in model.datacollector.model_vars.items()}
    relations = ", ".join(f"{a}-{b} {now[f'{a}-{b}']:+.2f}" for a, b in model.world.key_pairs())
    rows = [f"{a.sid}: {a.deals} decision(s)" + (f", this month {', '.join(a.acted)}"
                                                 if a.acted else "") for a in model.agents]
    return Panel(model.world.spec.scenario.title,
                 f", seed {model.seed}, month {int(model.time)} ({now['date']})",
                 f"Relations: {relations}", rows)


@solara.component
def Decisions(model: AlignmentModel) -> None:
    """The decisions panel (:func:`panel`), in plain HTML elements: Solara's Markdown would
    fetch a maths renderer (KaTeX) that solara-assets does not ship, so not offline."""
    update_counter.get()  # re-render after every Step, as Mesa's own components do
    shown = panel(model)
    html = solara.v.Html
    with html(tag="div", class_="sim-panel"):
        title = html(tag="strong", class_="font-weight-bold", children=[shown.title])
        html(tag="p", children=[title, shown.status])
        html(tag="p", children=[shown.relations])
        html(tag="ul", children=[html(tag="li", children=[row]) for row in shown.rows])
        html(tag="p", class_="caption",
             children=[RESET_HINT])


def model_params() -> dict[str, dict]:
    """SolaraViz's controls; each key is a keyword of :class:`DashboardModel`."""
    return {
        "scenario_title": {"type": "Select", "value": next(iter(scenario_files())),
                           "values": list(scenario_files()), "label": "Scenario"},
        # a list, not a slider (which hides its number) nor an InputText (which Mesa 3.5 passes
        # as a string, and a typo would replace the page by a traceback)
        "rng": {"type": "Select", "value": DEFAULT_SEED, "values": list(SEEDS), "label": "Seed"},
    }


def components(model: AlignmentModel) -> list:
    """The plot of the relations of ``model``'s triangle, the balanced-triads plot and the
    decisions panel."""
    pairs = model.world.key_pairs()
    colours = ("tab:blue", "tab:red", "tab:green")
    relations = make_plot_component({f"{a}-{b}": c for (a, b), c in zip(pairs, colours,
                                                                          strict=True)})
    return [relations, make_plot_component("balanced_share"), Decisions]


@solara.component
def Page() -> None:
    """The dashboard of one browser session: its own model, which SolaraViz steps and, on
    Reset, rebuilds from the chosen scenario and seed."""
    model = solara.use_memo(DashboardModel, dependencies=[])
    parts = solara.use_memo(lambda: components(model), dependencies=[])
    params = solara.use_memo(model_params, dependencies=[])
    SolaraViz(model, components=parts, model_params=params, name=NAME)
