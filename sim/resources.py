"""Where the shipped scenarios, data and calibration are, whatever the working directory.

In a checkout they are the top-level folders beside the ``sim`` package (``scenarios/``,
``data/``, ``calibration/``); in an installed wheel they are package data inside it
(``site-packages/sim/scenarios`` ...). ``$SIM_DATA_DIR`` overrides the data folder.

:func:`scenario_path` turns a command-line argument into a scenario file: an existing path is
used as is; a bare name (``baseline`` or ``baseline.toml``) is looked up among the shipped
scenarios, with a did-you-mean for a near miss.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
"""The ``sim`` package folder."""

CHECKOUT = PACKAGE.parent
"""The folder holding ``sim/``: the repository root in a checkout, site-packages when installed."""

DATA_ENV = "SIM_DATA_DIR"


class ResourceError(ValueError):
    """A shipped resource or a named scenario that does not exist (a user error)."""


def is_checkout() -> bool:
    """True when ``sim`` runs from a source checkout (``pyproject.toml`` and ``scenarios/``
    beside the package), False when installed (e.g. from a wheel into site-packages)."""
    return (CHECKOUT / "pyproject.toml").is_file() and (CHECKOUT / "scenarios").is_dir()


def shipped(name: str) -> Path:
    """The shipped folder ``name`` (``scenarios``, ``data`` or ``calibration``): the top-level
    folder of a checkout, else the package data ``sim/<name>``.

    Raises :class:`ResourceError` if neither exists (a broken installation).
    """
    for folder in ((CHECKOUT / name, PACKAGE / name) if is_checkout()
                   else (PACKAGE / name, CHECKOUT / name)):
        if folder.is_dir():
            return folder
    raise ResourceError(f"no shipped {name}/ folder beside or inside {PACKAGE}; "
                        "expected a checkout of sim or an installed wheel")


def scenarios_dir() -> Path:
    """The shipped scenario library."""
    return shipped("scenarios")


def data_dir() -> Path:
    """The data folder: ``$SIM_DATA_DIR`` if set (and not empty), else the shipped ``data/``."""
    env = os.environ.get(DATA_ENV)
    return Path(env) if env else shipped("data")


def calibration_dir() -> Path:
    """The shipped calibration (``sim calibrate``'s output for the history scenario); read-only
    when installed."""
    return shipped("calibration")


POSTERIOR = "posterior.csv.gz"
"""The posterior samples' file in a calibration folder (written by ``sim calibrate``)."""


def history_scenario() -> Path:
    """The shipped history scenario (January 2010, driven by the recorded events) that ``sim
    calibrate`` fits and ``sim backtest`` filters."""
    return scenarios_dir() / "history_2010_2024.toml"


def default_calibration_out() -> Path:
    """Where ``sim calibrate`` writes by default: the checkout's ``calibration/`` when running
    from a checkout, else ``outputs/calibration`` in the working directory (an installed
    package's own folder is never written to)."""
    return CHECKOUT / "calibration" if is_checkout() else Path("outputs") / "calibration"


def shipped_scenarios() -> list[str]:
    """Names (file stems) of the shipped scenarios, sorted."""
    return sorted(p.stem for p in scenarios_dir().glob("*.toml"))


def scenario_path(arg: str | Path) -> Path:
    """A scenario argument as a file: an existing path as is, else a shipped scenario named
    ``arg`` (``baseline`` or ``baseline.toml``).

    Raises :class:`ResourceError` naming ``arg`` and what was expected, with a did-you-mean
    among the shipped scenarios for a near miss.
    """
    path = Path(arg)
    if path.is_file():
        return path
    text = str(arg)
    bare = path.name == text and text not in ("", ".", "..")
    if bare:
        candidate = scenarios_dir() / (text if text.endswith(".toml") else f"{text}.toml")
        if candidate.is_file():
            return candidate
    if path.exists():  # a folder or a special file: the loader says what is wrong with it
        return path
    folder = path.parent if not bare and path.parent.is_dir() else None
    names = sorted(p.stem for p in folder.glob("*.toml")) if folder else shipped_scenarios()
    close = difflib.get_close_matches(path.stem, names, n=1, cutoff=0.6)
    hint = ""
    if close:
        hint = f" (did you mean '{folder / (close[0] + path.suffix) if folder else close[0]}'?)"
    if bare:
        raise ResourceError(f"{text}: no such file or shipped scenario; expected a scenario "
                            f"file or the name of a shipped scenario (see `sim list`){hint}")
    raise ResourceError(f"{text}: no such file; expected an existing scenario file{hint}")

__all__ = ["ResourceError", "calibration_dir", "data_dir", "default_calibration_out",
           "is_checkout", "scenario_path", "scenarios_dir", "shipped", "shipped_scenarios"]
