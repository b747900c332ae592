"""Observation model: what the model state predicts for the measured outcome series.

The model's state is monthly relations ``x`` in [-1, 1] and monthly import flows (USD bn/yr).
What is measured is annual: UNGA ideal-point distances and annual bilateral goods trade on one
reporting basis per pair. This module maps one to the other, as pure functions over a leading
run axis, and loads the measured series (never past :data:`CALIBRATION_END`).

**Annual values.** Step ``s`` of a trajectory is the state at the start of month ``s``, so step
``t + 1`` is the state at the end of month ``t`` (after its events). The annual value of year
``Y`` is the mean of the twelve end-of-month states of ``Y``: steps ``12k + 1 .. 12k + 12`` with
``k = Y - start_year`` (for a scenario that starts in January). Step 0 is the state carried in
from the year before the start; scenarios initialise it from that year's annual data.

**Ideal-point distance** (final-passage basis, ``dist_<A>_<B>_fp``). The scenario builds the
initial relations from ideal points with ``x0 = 1 - d / d_half`` (``sim.world.
initial_relations``). Inverting that rule gives the distance the dyad-mean relation implies,

    d̂_ij = d_half · (1 - x̄_ij),          x̄_ij = (x_ij + x_ji) / 2,

so a state initialised from year-``Y0`` distances reproduces them exactly. An affine measurement
map ``d_obs = offset + scale · d̂`` is available (defaults 0 and 1, the pure inverse);
:mod:`sim.calibrate` keeps the defaults (see docs/VALIDATION.md for why).

**Goods trade.** The pair total of both directions, ``M_ij + M_ji``, on the reporting basis the
scenario's initial flows were taken from (``scenarios/history_2014_2024.toml``: CHN-RUS on
China customs, USA-CHN on US Census). The model holds trade at its base level unless tariffs,
sanctions, alignment or events move it; it has no growth of nominal trade. The observation
adds it as a common trend, ``T_obs(Y) = T̂(Y) · exp(g · (Y - Y0))`` with ``Y0`` the year of the
initial data (the year before the start) and ``g`` the ``trade_growth`` fitted by
:mod:`sim.calibrate` (0 = none).

**UNGA vote agreement** is not mapped: it moves with the agenda (README of the data), and the
ideal points are the agenda-controlled measure of the same votes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from sim import resources

CALIBRATION_END = 2019
"""Last year of outcome data any calibration may use (the shipped data stop there on purpose)."""

DISTANCE = "idealpoint_distance_fp"
TRADE = "trade_goods_usd_bn"
DISTANCE_PAIRS = ("USA-CHN", "USA-RUS", "CHN-RUS")
TRADE_PAIRS = ("CHN-RUS", "USA-CHN")
SERIES: tuple[tuple[str, str], ...] = (*((DISTANCE, p) for p in DISTANCE_PAIRS),
                                       *((TRADE, p) for p in TRADE_PAIRS))
"""Every (series, pair) the observation model predicts and the calibration fits."""

TRADE_BASIS = {"CHN-RUS": "China customs (GAC), both directions",
               "USA-CHN": "US Census, US exports + US imports"}
_TRADE_SOURCE = {"CHN-RUS": "CHN-RUS goods trade (China GAC customs",
                 "USA-CHN": "USA-CHN goods trade (US Census basis"}
IDEALPOINT_FILE = "derived_idealpoint_distances_USA_CHN_RUS.csv"
TRADE_FILE = "derived_trade_series_long.csv"


@dataclass(frozen=True)
class ObservationParams:
    """Parameters of the measurement maps (see the module docstring)."""

    d_half: float = 1.75
    dist_offset: float = 0.0
    dist_scale: float = 1.0
    trade_growth: float = 0.0
    base_year: int = 2013

    def with_(self, **kw: float) -> ObservationParams:
        return replace(self, **kw)


# ----------------------------------------------------------------------------- maps


def distance_from_relation(xbar: np.ndarray, p: ObservationParams) -> np.ndarray:
    """``d̂ = offset + scale · d_half · (1 - x̄)``: the distance a dyad-mean relation implies."""
    return p.dist_offset + p.dist_scale * p.d_half * (1.0 - np.asarray(xbar, dtype=float))


def relation_from_distance(d: np.ndarray, p: ObservationParams) -> np.ndarray:
    """The inverse of :func:`distance_from_relation` (the initial-relations rule, unclipped)."""
    return 1.0 - (np.asarray(d, dtype=float) - p.dist_offset) / (p.dist_scale * p.d_half)


def trade_trend(years: np.ndarray, p: ObservationParams) -> np.ndarray:
    """Nominal growth factor ``exp(g · (Y - Y0))`` of trade the model leaves out."""
    return np.exp(p.trade_growth * (np.asarray(years, dtype=float) - p.base_year))


def annual_steps(start: str, months: int) -> dict[int, np.ndarray]:
    """Steps whose end-of-month state falls in each complete calendar year of the horizon."""
    y0, m0 = int(start[:4]), int(start[5:7])
    out: dict[int, list[int]] = {}
    for t in range(months):  # month t ends at step t + 1
        k = y0 * 12 + (m0 - 1) + t
        out.setdefault(k // 12, []).append(t + 1)
    return {y: np.array(s) for y, s in out.items() if len(s) == 12}


def annual_mean(values: np.ndarray, start: str) -> tuple[np.ndarray, np.ndarray]:
    """``values`` ``(R, T+1)`` -> (years, ``(R, Y)`` annual means of end-of-month states)."""
    steps = annual_steps(start, values.shape[-1] - 1)
    years = np.array(sorted(steps))
    return years, np.stack([values[..., steps[y]].mean(axis=-1) for y in years], axis=-1)


def _pair(ids: list[str], pair: str) -> tuple[int, int]:
    a, b = pair.split("-")
    return ids.index(a), ids.index(b)


def dyad_mean(x: np.ndarray, ids: list[str], pair: str) -> np.ndarray:
    """``x̄`` of a pair over ``(R, T+1, N, N)`` relations: ``(R, T+1)``."""
    i, j = _pair(ids, pair)
    return 0.5 * (x[..., i, j] + x[..., j, i])


def pair_trade(imports: np.ndarray, ids: list[str], pair: str) -> np.ndarray:
    """Goods trade of a pair, both directions, ``(R, T+1)`` (``imports[i, j]``: i from j)."""
    i, j = _pair(ids, pair)
    return imports[..., i, j] + imports[..., j, i]


def observe(x: np.ndarray, imports: np.ndarray, ids: list[str], start: str,
            p: ObservationParams) -> tuple[np.ndarray, dict[tuple[str, str], np.ndarray]]:
    """Annual predicted observations of every (series, pair) in :data:`SERIES`.

    ``x`` and ``imports`` are ``(R, T+1, N, N)`` (``Trajectory.x``/``.imports``). Returns
    (years, ``{(series, pair): (R, Y)}``).
    """
    years = None
    out: dict[tuple[str, str], np.ndarray] = {}
    for series, pair in SERIES:
        if series == DISTANCE:
            years, xbar = annual_mean(dyad_mean(x, ids, pair), start)
            out[(series, pair)] = distance_from_relation(xbar, p)
        else:
            years, trade = annual_mean(pair_trade(imports, ids, pair), start)
            out[(series, pair)] = trade * trade_trend(years, p)
    assert years is not None
    return years, out


# ----------------------------------------------------------------------------- measured data


def data_dir() -> Path:
    """The data folder: ``$SIM_DATA_DIR`` if set, else the shipped ``data/``
    (:func:`sim.resources.data_dir`)."""
    return resources.data_dir()


def load_observed(folder: Path | str | None = None, last_year: int = CALIBRATION_END,
                  first_year: int | None = None) -> pd.DataFrame:
    """Measured outcome series, tidy: ``series, pair, year, value`` (years <= ``last_year``).

    ``last_year`` may not exceed :data:`CALIBRATION_END`: whatever the files hold, no later
    row is ever returned.
    """
    if last_year > CALIBRATION_END:
        raise ValueError(f"last_year {last_year} is after {CALIBRATION_END}: outcome data after "
                         f"{CALIBRATION_END} are held out and may not be loaded")
    folder = Path(folder) if folder is not None else data_dir()
    ideal = pd.read_csv(folder / IDEALPOINT_FILE)
    rows = []
    for pair in DISTANCE_PAIRS:
        col = f"dist_{pair.replace('-', '_')}_fp"
        rows.append(pd.DataFrame({"series": DISTANCE, "pair": pair, "year": ideal["year"],
                                  "value": ideal[col]}))
    trade = pd.read_csv(folder / TRADE_FILE)
    for pair in TRADE_PAIRS:
        sel = trade[trade["series"].str.startswith(_TRADE_SOURCE[pair])
                    & (trade["flow"] == "total")]
        rows.append(pd.DataFrame({"series": TRADE, "pair": pair, "year": sel["year"],
                                  "value": sel["value"]}))
    out = pd.concat(rows, ignore_index=True).dropna(subset=["value"])
    out["year"] = out["year"].astype(int)
    keep = out["year"] <= last_year
    if first_year is not None:
        keep &= out["year"] >= first_year
    return out[keep].sort_values(["series", "pair", "year"]).reset_index(drop=True)


def observed_matrix(obs: pd.DataFrame, years: np.ndarray) -> dict[tuple[str, str], np.ndarray]:
    """``{(series, pair): values over years}`` (NaN where a year is missing)."""
    out = {}
    for key in SERIES:
        s = obs[(obs["series"] == key[0]) & (obs["pair"] == key[1])].set_index("year")["value"]
        out[key] = s.reindex(years).to_numpy(dtype=float)
    return out


__all__ = ["CALIBRATION_END", "DISTANCE", "SERIES", "TRADE", "ObservationParams",
           "annual_mean", "annual_steps", "data_dir", "distance_from_relation", "dyad_mean",
           "load_observed", "observe", "observed_matrix", "pair_trade", "relation_from_distance",
           "trade_trend"]
