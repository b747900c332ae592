"""The parts every observation channel shares: :class:`ObsParam` (a parameter of an observation
model) and :class:`Channel` (one observed series: its data, observation model, likelihood,
replicated observations and plot).

A channel's data are a tidy table, ``observed(first, last)``: ``time`` (a year, or ``YYYY-MM``
for monthly data), ``year``, ``pair`` (``"A-B"`` for a dyad, ``"A->B"`` for a direction),
``value`` and, for counts, ``trials``. No row after :data:`CALIBRATION_END` is ever returned:
outcome data stop in 2019 on purpose (data/README.md), and asking for a later year raises
:class:`HeldOutError`.

Observation parameters ``theta`` map dotted names (``"un_distance.loading"``) to scalars or
``(R,)`` arrays (one value per run); a name left out takes its default.
"""

from __future__ import annotations

import copy
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from sim import resources
from sim.observation.view import SimView

CALIBRATION_END = 2019
"""Last year of outcome data any channel returns (the shipped data stop there on purpose)."""

Theta = Mapping[str, float | np.ndarray]


class HeldOutError(ValueError):
    """A request for outcome data after :data:`CALIBRATION_END`."""


@dataclass(frozen=True)
class ObsParam:
    """A parameter of an observation model.

    ``prior``: ``("normal", mu, sd)``, ``("halfnormal", 0, sd)`` or ``("uniform", lo, hi)``,
    truncated to ``[lo, hi]``; ``why``: the reason for the default and prior (a source or our
    choice, said so)."""

    name: str
    default: float
    lo: float
    hi: float
    unit: str
    why: str
    prior: tuple[str, float, float]

    def __post_init__(self) -> None:
        kind = self.prior[0]
        known = kind in ("normal", "halfnormal", "uniform")
        if not known or not self.lo <= self.default <= self.hi:
            raise ValueError(f"ObsParam {self.name}: prior {self.prior} or default {self.default} "
                             f"outside [{self.lo}, {self.hi}]")

    def logprior(self, v: np.ndarray | float) -> np.ndarray:
        """Log prior density (unnormalised over the truncation), ``-inf`` outside [lo, hi]."""
        v = np.asarray(v, dtype=float)
        kind, a, b = self.prior
        if kind == "uniform":
            dens = np.full(v.shape, -math.log(b - a))
        else:
            dens = -0.5 * ((v - a) / b) ** 2 - math.log(b * math.sqrt(2 * math.pi))
        return np.where((v >= self.lo) & (v <= self.hi), dens, -np.inf)


def check_last(name: str, last: int) -> None:
    """Raise :class:`HeldOutError` if ``last`` is after :data:`CALIBRATION_END`."""
    if int(last) > CALIBRATION_END:
        raise HeldOutError(f"{name}: last year {last} is after {CALIBRATION_END}; outcome data "
                           f"after {CALIBRATION_END} are held out (data/README.md, the 2019 cut) "
                           f"and no channel returns them")


@lru_cache(maxsize=32)
def _read(path: str, mtime: float) -> pd.DataFrame:
    return pd.read_csv(path)


def read_data(file: str) -> pd.DataFrame:
    """A data file from :func:`sim.resources.data_dir` (``$SIM_DATA_DIR`` if set), cached.
    Raises FileNotFoundError naming the folder and file."""
    path = Path(resources.data_dir()) / file
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such data file; expected the shipped data/ folder "
                                f"or $SIM_DATA_DIR holding {file}")
    return _read(str(path), path.stat().st_mtime).copy()


def column(v: np.ndarray | float) -> np.ndarray:
    """A scalar as a 0-d array, an ``(R,)`` array as an ``(R, 1)`` column (broadcasts over K)."""
    a = np.asarray(v, dtype=float)
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        return a[:, None]
    raise ValueError(f"observation parameter of shape {a.shape}; expected a scalar or (R,)")


class Channel(ABC):
    """One observed series. Subclasses set the class attributes and implement :meth:`load`,
    :meth:`mean` (the expected value, ``(R, K)`` at the rows), :meth:`logpdf` and :meth:`draw`."""

    name: ClassVar[str]
    title: ClassVar[str]
    unit: ClassVar[str]
    source: ClassVar[str]
    family: ClassVar[str]
    """What is measured (``unga_votes``, ``events``, ``trade``): channels of one family share
    their raw data and are not independent evidence."""
    params: ClassVar[tuple[ObsParam, ...]]
    panels: ClassVar[tuple[str, ...]]
    """The pairs (or flows) drawn one panel each by :func:`sim.observation.figure`."""

    # ------------------------------------------------------------------ data
    @abstractmethod
    def load(self) -> pd.DataFrame:
        """Every row of the data file as a tidy table (``time, year, pair, value[, trials]``),
        before the 2019 cut is applied."""

    def observed(self, first: int | None = None, last: int = CALIBRATION_END) -> pd.DataFrame:
        """Tidy rows with ``first <= year <= last`` (``first`` None: from the data's start).
        Raises :class:`HeldOutError` if ``last`` > :data:`CALIBRATION_END`."""
        check_last(self.name, last)
        df = self.load()
        keep = (df["year"] <= min(last, CALIBRATION_END))
        if first is not None:
            keep &= df["year"] >= first
        return df[keep].reset_index(drop=True)

    def rows(self, view: SimView, first: int | None = None,
             last: int | None = None) -> pd.DataFrame:
        """The rows the view can predict: those of ``observed`` within ``first .. last``, where
        None means the first/last complete year of the view. Raises ValueError if an explicit
        ``first``/``last`` lies outside the view's complete years."""
        years = view.years()
        if not len(years):
            raise ValueError(f"{self.name}: the run ({view.start}, {view.months} months) holds no "
                             "complete calendar year")
        lo, hi = int(years[0]), int(years[-1])
        for given in (first, last):
            if given is not None and not lo <= given <= hi:
                check_last(self.name, given)
                raise ValueError(f"{self.name}: year {given} is outside the run's complete years "
                                 f"{lo}-{hi}")
        last_ = min(hi, CALIBRATION_END) if last is None else last
        return self.observed(lo if first is None else first, last_)

    # ------------------------------------------------------------------ parameters
    def defaults(self) -> dict[str, float]:
        """``{name: default}`` of the channel's parameters."""
        return {p.name: p.default for p in self.params}

    def value(self, theta: Theta | None, key: str) -> np.ndarray:
        """Parameter ``<channel>.<key>`` from ``theta`` (else its default), as a scalar or an
        ``(R, 1)`` column. Raises KeyError for a key the channel does not have."""
        name = f"{self.name}.{key}"
        par = next((p for p in self.params if p.name == name), None)
        if par is None:
            raise KeyError(f"{self.name} has no parameter {key!r}; it has "
                           f"{[p.name for p in self.params]}")
        return column(par.default if theta is None or name not in theta else theta[name])

    def logprior(self, theta: Theta) -> np.ndarray:
        """Sum of the log priors of the channel's parameters in ``theta`` (defaults elsewhere)."""
        return sum((p.logprior(theta.get(p.name, p.default)) for p in self.params),
                   np.zeros(()))

    # ------------------------------------------------------------------ model
    @abstractmethod
    def mean(self, view: SimView, theta: Theta | None, rows: pd.DataFrame) -> np.ndarray:
        """Expected observation at ``rows`` for each run: ``(R, K)``."""

    @abstractmethod
    def logpdf(self, view: SimView, theta: Theta | None, rows: pd.DataFrame) -> np.ndarray:
        """``log p(rows | run, theta)``: ``(R,)``."""

    @abstractmethod
    def draw(self, view: SimView, theta: Theta | None, rows: pd.DataFrame,
             rng: np.random.Generator) -> np.ndarray:
        """Replicated observations at ``rows``: ``(R, K)``."""

    def expected(self, view: SimView, theta: Theta | None = None, first: int | None = None,
                 last: int | None = None) -> np.ndarray:
        """Mean prediction ``(R, K)`` at the rows of :meth:`rows` (same order)."""
        return self.mean(view, theta, self.rows(view, first, last))

    def loglik(self, view: SimView, theta: Theta | None = None, first: int | None = None,
               last: int | None = None) -> np.ndarray:
        """``log p(y_first..last | run, theta)`` per run: ``(R,)`` (0 if no row)."""
        rows = self.rows(view, first, last)
        if rows.empty:
            return np.zeros(view.runs)
        return self.logpdf(view, theta, rows)

    def simulate(self, view: SimView, theta: Theta | None = None,
                 rng: np.random.Generator | None = None, first: int | None = None,
                 last: int | None = None) -> np.ndarray:
        """Replicated observations ``(R, K)`` at the rows of :meth:`rows` (posterior-predictive
        checks; forecasts use :meth:`draw` on rows of their own)."""
        rng = np.random.default_rng(0) if rng is None else rng
        return self.draw(view, theta, self.rows(view, first, last), rng)

    # ------------------------------------------------------------------ forecasts
    known_through: int = CALIBRATION_END
    """Last year of data the channel's fixed constants (e.g. seasonal factors) and its
    forecasts (:meth:`forecast`) may use; :meth:`at_origin` sets it."""

    def at_origin(self, origin: int) -> Channel:
        """A copy of the channel that knows data through the end of ``origin`` only: its fixed
        constants are estimated on data up to ``origin`` and :meth:`forecast` starts there.
        Raises :class:`HeldOutError` after :data:`CALIBRATION_END`."""
        check_last(self.name, origin)
        out = copy.copy(self)
        out.known_through = int(origin)
        return out

    def known(self) -> pd.DataFrame:
        """The rows known at the origin: ``observed(None, known_through)``."""
        return self.observed(None, self.known_through)

    def forecast_rows(self, rows: pd.DataFrame) -> pd.DataFrame:
        """``rows`` with what a forecaster cannot know at the origin replaced by what it can:
        ``trials`` (votes, events) of every row is the pair's last count known at the origin
        (the number of roll calls or events of a target year is not forecast). Raises
        ValueError for a row at or before the origin or a pair with no known count."""
        if len(rows) and (rows["year"].astype(int) <= self.known_through).any():
            raise ValueError(f"{self.name}: forecast rows must lie after the origin "
                             f"{self.known_through}")
        if "trials" not in rows:
            return rows
        known = self.known()
        last = known.sort_values("time", kind="stable").groupby("pair")["trials"].last()
        missing = sorted(set(rows["pair"]) - set(last.index))
        if missing:
            raise ValueError(f"{self.name}: no count known by {self.known_through} for "
                             f"{missing}")
        return rows.assign(trials=rows["pair"].map(last).to_numpy(float))

    def forecast(self, view: SimView, theta: Theta | None, rows: pd.DataFrame,
                 rng: np.random.Generator) -> np.ndarray:
        """Forecast draws ``(R, K)`` of ``rows`` (all after :attr:`known_through`) using only
        what is known at the origin: counts at :meth:`forecast_rows` (the rows the draws refer
        to; score shares against them), and subclasses add their own rule (covariate paths,
        residuals conditioned on the origin). Default: :meth:`draw` at :meth:`forecast_rows`."""
        return self.draw(view, theta, self.forecast_rows(rows), rng)

    # ------------------------------------------------------------------ plot
    def plot(self, ax: Any, view: SimView | None = None, theta: Theta | None = None,
             panel: str | None = None, rng: np.random.Generator | None = None) -> None:
        """Observations of ``panel`` (a pair; None: all) as points; with a view, the 50% and 90%
        bands of replicated observations and their median."""
        from sim.observation.figure import draw_channel  # matplotlib only when plotting

        draw_channel(self, ax, view, theta, panel, rng)

    def in_panel(self, pair: str, panel: str) -> bool:
        """Whether rows of ``pair`` are drawn in ``panel`` (default: the same pair)."""
        return pair == panel

    def decorate(self, ax: Any, panel: str) -> None:
        """Extra marks on a panel (e.g. dated events): default none."""
        return None

    def display(self, rows: pd.DataFrame, values: np.ndarray) -> np.ndarray:
        """Values as plotted (e.g. counts as shares): default unchanged."""
        return values


__all__ = ["CALIBRATION_END", "Channel", "HeldOutError", "ObsParam", "Theta", "check_last",
           "column", "read_data"]
