"""The shipped scenarios a page offers (the backtest worlds left out), by title and by stem."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from sim.model import DEFAULT_SCENARIO
from sim.resources import scenarios_dir
from sim.spec import ScenarioSpec, load_scenario

HIDDEN = frozenset({"history_2010_2024", "history_2014_2024"})
"""The backtest worlds (2010 and 2014 starts, no policies), not among the article's scenarios."""


@cache
def scenario_files() -> dict[str, Path]:
    """Title → file of each shipped scenario a page offers, the baseline first.

    Raises ValueError if two scenarios share a title (a picker could not tell them apart).
    """
    files = sorted((p for p in scenarios_dir().glob("*.toml") if p.stem not in HIDDEN),
                   key=lambda p: (p.resolve() != DEFAULT_SCENARIO.resolve(), p.stem))
    titles: dict[str, Path] = {}
    for path in files:
        title = load_scenario(path).scenario.title
        if title in titles:
            raise ValueError(f"{path}: title {title!r} is also the title of {titles[title]}; "
                             "expected each shipped scenario to have its own title")
        titles[title] = path
    return titles


def shipped() -> dict[str, Path]:
    """Stem → file of each scenario of :func:`scenario_files`, in the same order."""
    return {p.stem: p for p in scenario_files().values()}


@cache
def load_shipped(stem: str) -> ScenarioSpec:
    """The shipped scenario ``stem`` (cached: specs are frozen). Raises ValueError for a stem
    that is not offered (:func:`shipped`)."""
    files = shipped()
    if stem not in files:
        raise ValueError(f"scenario: got {stem!r}; expected one of {', '.join(files)}")
    return load_scenario(files[stem])
