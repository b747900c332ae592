"""What the three explorations share: scenarios from names, outcomes and dates, file names,
and writing a result folder the way ``sim run`` does (atomic folder, manifest)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from sim import outcomes as oc
from sim.output import atomic_folder, manifest, resolved, scenario_files, write_manifest
from sim.spec import ScenarioSpec, load_scenario
from sim.world import World


def load(scenario: str | Path | ScenarioSpec) -> ScenarioSpec:
    """A scenario from a spec, a file or a shipped name (``baseline``). Raises
    :class:`sim.spec.ScenarioError` or :class:`sim.resources.ResourceError`."""
    if isinstance(scenario, ScenarioSpec):
        return scenario
    from sim.resources import scenario_path

    return load_scenario(scenario_path(scenario))


def default_outcomes(world: World) -> list[str]:
    """The strategic triangle's three relations."""
    return [f"relation:{a}-{b}" for a, b in world.key_pairs()]


def dates_of(world: World, dates: Sequence[str | int] | str | None) -> tuple[list[str], list[int]]:
    """Date labels and step indices (default: the horizon). Raises
    :class:`sim.outcomes.OutcomeError` for a date outside the run."""
    steps = oc.steps_of(world, "horizon" if dates is None or dates == [] else dates)
    labels = world.dates()
    steps = list(dict.fromkeys(int(s) for s in steps))
    return [labels[s] for s in steps], steps


def stem(text: str) -> str:
    """A file-name stem for an outcome name and date (``relation_USA-CHN_2030-05``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text.replace("->", "-to-")).strip("_")


def write_folder(out: str | Path, force: bool, specs: Sequence[ScenarioSpec],
                 tables: dict[str, pd.DataFrame], texts: dict[str, str],
                 figures: Callable[[], dict[str, Figure]] | None,
                 settings: dict[str, Any]) -> Path:
    """Write ``tables`` (CSV), ``texts`` and ``figures()`` (PNG under ``figures/``) and a
    manifest into ``out`` atomically; refuses a non-empty folder unless ``force``, and a
    folder sim did not write (:func:`sim.output.check_target`)."""
    import matplotlib.pyplot as plt

    out = Path(out)
    with atomic_folder(out, force) as tmp:
        files = []
        for name, df in tables.items():
            df.to_csv(tmp / f"{name}.csv", index=False)
            files.append(f"{name}.csv")
        for name, text in texts.items():
            (tmp / name).write_text(text, encoding="utf-8")
            files.append(name)
        if figures is not None:
            (tmp / "figures").mkdir()
            for name, fig in figures().items():
                fig.savefig(tmp / "figures" / f"{name}.png", dpi=110,
                            metadata={"Software": None})
                plt.close(fig)
                files.append(f"figures/{name}.png")
        sources = scenario_files([s.source for s in specs])
        info = {**settings, "figures": figures is not None}
        write_manifest(tmp, manifest(sources, [resolved(s) for s in specs], info,
                                     [*files, "manifest.json"]))
    return out


__all__ = ["dates_of", "default_outcomes", "load", "stem", "write_folder"]
