"""Effect statistics and the comparison tables built from them.

An ensemble is ``D`` parameter draws × ``K`` runs per draw (``Trajectory.draw``; one draw when
parameters are fixed). From the paired per-run differences ``diff_i`` of an outcome at a date
(:mod:`sim.pairing`):

- per-draw effect ``e_d`` = mean of ``diff`` over the runs of draw ``d``;
- **mean effect** = mean of ``e_d``;
- **Monte-Carlo 95% CI** of that mean = mean ± 1.96·sd(e_d)/√D (with one draw: from the runs,
  mean ± 1.96·sd(diff)/√n): how far more runs could move the mean;
- **90% parameter interval** = the 5%..95% quantiles of ``e_d``: how much the effect depends on
  the parameters (blank with one draw);
- **sign share** = share of draws whose ``e_d`` has the sign of the mean (blank with one draw);
  **zero share** beside it = share of draws whose effect is exactly 0 (a decision no run of
  the draw changes), so that a low sign share is not misread as an opposite effect.

Relations are reported on the relation scale ``x̄`` and on the latent scale ``artanh(x̄)``, where
a step near the bounds ±1 is not compressed.

Tables (pandas DataFrames): :func:`effects_table` (the statistics above at 12 months, 36 months
and the horizon), :func:`horizon_table` (distribution over runs at the horizon),
:func:`outcomes_table` (tidy, every run and month) and :func:`patterns_table` (Dittmer
patterns); :func:`table_markdown` renders any of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim import outcomes as oc
from sim.metrics import DITTMER
from sim.pairing import Pairing
from sim.results import Results

Z95 = 1.959963984540054
REPORT_MONTHS = (12, 36)
"""Months after the start at which effects are reported, besides the horizon."""

TABLE_COLUMNS = ["scenario", "outcome", "date", "runs", "mean", "median", "q05", "q95",
                 "pairs", "mean_diff", "diff_q05", "diff_q95"]
EFFECT_COLUMNS = ["scenario", "outcome", "scale", "date", "month", "horizon", "paired",
                  "runs", "draws", "mean", "mc_lo", "mc_hi", "param_lo", "param_hi",
                  "sign_share", "zero_share"]


# ------------------------------------------------------------------------------ statistics


def per_draw(diff: np.ndarray, draw: np.ndarray) -> np.ndarray:
    """Per-draw effects ``e_d``: the mean of ``diff`` (``(n,)``) over the runs of each draw
    (``draw``: ``(n,)`` ints), in order of draw index. Raises ``ValueError`` on a shape
    mismatch."""
    diff, draw = np.asarray(diff, dtype=float), np.asarray(draw)
    if diff.shape != draw.shape or diff.ndim != 1:
        raise ValueError(f"per_draw: diff {diff.shape} and draw {draw.shape} must be the same "
                         "1-d shape")
    ids, inverse = np.unique(draw, return_inverse=True)
    sums = np.bincount(inverse, weights=diff, minlength=len(ids))
    return sums / np.bincount(inverse, minlength=len(ids))


def effect_stats(diff: np.ndarray, draw: np.ndarray | None = None) -> dict[str, float]:
    """The effect statistics of one outcome at one date from paired differences ``diff``
    (``(n,)``) and the draw of each (default: one draw): ``runs``, ``draws``, ``mean``,
    ``mc_lo``/``mc_hi`` (Monte-Carlo 95% CI), ``param_lo``/``param_hi`` (90% interval across
    draws), ``sign_share`` and ``zero_share`` (see the module docstring; NaN where
    undefined)."""
    diff = np.asarray(diff, dtype=float)
    draw = np.zeros(diff.shape, dtype=int) if draw is None else np.asarray(draw)
    nan = float("nan")
    out = {"runs": int(diff.size), "draws": 0, "mean": nan, "mc_lo": nan, "mc_hi": nan,
           "param_lo": nan, "param_hi": nan, "sign_share": nan, "zero_share": nan}
    if diff.size == 0:
        return out
    e = per_draw(diff, draw)
    mean = float(e.mean())
    spread = diff if len(e) == 1 else e
    half = Z95 * spread.std(ddof=1) / np.sqrt(spread.size) if spread.size > 1 else nan
    out.update(draws=len(e), mean=mean, mc_lo=mean - half, mc_hi=mean + half)
    if len(e) > 1:
        lo, hi = np.quantile(e, [0.05, 0.95])
        out.update(param_lo=float(lo), param_hi=float(hi),
                   sign_share=float(np.mean(np.sign(e) == np.sign(mean))),
                   zero_share=float(np.mean(e == 0)))
    return out


def latent(x: np.ndarray) -> np.ndarray:
    """The latent scale of relations: ``artanh(x̄)`` (:func:`sim.outcomes.latent`)."""
    return oc.latent(x)


def scales(outcome: str) -> list[str]:
    """The scales an outcome's effect is reported on: ``relation`` and ``latent`` for dyad
    relations, ``trade`` (USD bn/yr), ``share`` (balanced triads, decisions taken), else the
    outcome's kind."""
    kind = oc.parse(outcome).kind
    if kind == "relation":
        return ["relation", "latent"]
    if kind in ("balanced_share", "decision"):
        return ["share"]
    return [kind]


def report_steps(dates: Sequence[str], horizon: str,
                 months: Sequence[int] = REPORT_MONTHS) -> list[tuple[int, str]]:
    """``(month, date)`` to report: ``months`` after the first date, then the horizon (each
    date once, in order; months past the horizon are left out)."""
    end = list(dates).index(horizon)
    steps = sorted({m for m in months if m < end} | {end})
    return [(m, dates[m]) for m in steps]


# ------------------------------------------------------------------------------ tables


def effects_table(values: Mapping[str, Mapping[str, np.ndarray]],
                  pairs: Mapping[str, Pairing], reference: str, horizon: str,
                  months: Sequence[int] = REPORT_MONTHS) -> pd.DataFrame:
    """Per scenario (not the reference), outcome both have, scale and report date
    (:func:`report_steps`): the effect statistics of ``scenario − reference``
    (:func:`effect_stats`; ``EFFECT_COLUMNS``). ``values[name][outcome]``: ``(R, T+1)``;
    ``paired``: the runs share their random streams (:class:`~sim.pairing.Pairing`)."""
    rows: list[dict[str, Any]] = []
    ref_when = report_steps(pairs[reference].dates, horizon, months)  # months of the reference
    for name, p in pairs.items():
        if name == reference:
            continue
        when = [(m, d) for m, d in ref_when if d in p.dates]
        cols = [p.dates.index(d) for _, d in when]
        for outcome, mine in values[name].items():
            theirs = values[reference].get(outcome)
            if theirs is None:
                continue
            for scale in scales(outcome):
                f = latent if scale == "latent" else np.asarray
                d = p.difference(f(mine), f(theirs))[:, cols]
                for k, (month, date) in enumerate(when):
                    rows.append({"scenario": name, "outcome": outcome, "scale": scale,
                                 "date": date, "month": month, "horizon": date == horizon,
                                 "paired": p.streams, **effect_stats(d[:, k], p.draw)})
    return pd.DataFrame(rows, columns=EFFECT_COLUMNS)


def _quantiles(v: np.ndarray) -> tuple[float, float, float, float]:
    """mean, median, q05, q95 of a 1-d array (NaN if empty)."""
    if v.size == 0:
        return (np.nan,) * 4
    q05, med, q95 = np.quantile(v, [0.05, 0.5, 0.95])
    return float(v.mean()), float(med), float(q05), float(q95)


def horizon_table(results: Mapping[str, Results],
                  values: Mapping[str, Mapping[str, np.ndarray]],
                  pairs: Mapping[str, Pairing], reference: str, horizon: str,
                  outcome_names: Sequence[str]) -> pd.DataFrame:
    """Per scenario and outcome at the horizon: distribution over runs (mean, median, 5% and
    95% quantiles) and the run-by-run difference from the reference (mean and its 5% and 95%
    quantiles over runs; ``pairs`` 0 and NaN where the reference lacks the outcome)."""
    rows: list[dict[str, Any]] = []
    hr = results[reference].dates.index(horizon)
    for name, res in results.items():
        p, hs = pairs[name], res.dates.index(horizon)
        for outcome in outcome_names:
            row: dict[str, Any] = {"scenario": name, "outcome": outcome, "date": horizon}
            mine, theirs = values[name].get(outcome), values[reference].get(outcome)
            v = mine[:, hs] if mine is not None else np.empty(0)
            row["runs"] = int(v.size)
            row["mean"], row["median"], row["q05"], row["q95"] = _quantiles(v)
            if mine is not None and theirs is not None:
                d = mine[p.rows, hs] - theirs[p.ref_rows, hr]
                mean_d, _, q05_d, q95_d = _quantiles(d)
                row.update(pairs=int(d.size), mean_diff=mean_d, diff_q05=q05_d,
                           diff_q95=q95_d)
            else:
                row.update(pairs=0, mean_diff=np.nan, diff_q05=np.nan, diff_q95=np.nan)
            rows.append(row)
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def outcomes_table(results: Mapping[str, Results],
                   values: Mapping[str, Mapping[str, np.ndarray]],
                   outcome_names: Sequence[str]) -> pd.DataFrame:
    """Tidy: scenario, run, step, date, outcome, value (one row per run, step, outcome)."""
    names = list(results)
    dates = sorted({d for r in results.values() for d in r.dates})
    date_code = {d: i for i, d in enumerate(dates)}
    out_code = {o: i for i, o in enumerate(outcome_names)}
    cols: dict[str, list[np.ndarray]] = {k: [] for k in
                                         ("scenario", "run", "step", "date", "outcome", "value")}
    for k, name in enumerate(names):
        res, vals = results[name], values[name]
        keys = list(vals)
        cube = np.stack([vals[o] for o in keys], axis=-1)  # (R, T+1, O)
        r, t1, o = cube.shape
        step = np.tile(np.repeat(np.arange(t1), o), r)
        dcodes = np.array([date_code[d] for d in res.dates], dtype=np.int32)
        cols["scenario"].append(np.full(r * t1 * o, k, dtype=np.int32))
        cols["run"].append(np.repeat(res.traj.runs, t1 * o))
        cols["step"].append(step)
        cols["date"].append(dcodes[step])
        cols["outcome"].append(np.tile(np.array([out_code[x] for x in keys], np.int32), r * t1))
        cols["value"].append(cube.reshape(-1))
    flat = {k: np.concatenate(v) for k, v in cols.items()}
    return pd.DataFrame({
        "scenario": pd.Categorical.from_codes(flat["scenario"], categories=names),
        "run": flat["run"], "step": flat["step"],
        "date": pd.Categorical.from_codes(flat["date"], categories=dates, ordered=True),
        "outcome": pd.Categorical.from_codes(flat["outcome"], categories=list(outcome_names)),
        "value": flat["value"],
    })


def pattern_shares(res: Results) -> np.ndarray:
    """Share of runs in each Dittmer pattern (``DITTMER`` order) per step, ``(T+1, 4)``."""
    codes = res.dittmer_codes  # (R, T+1)
    return np.stack([(codes == c).mean(axis=0) for c in range(len(DITTMER))], axis=-1)


def patterns_table(results: Mapping[str, Results]) -> pd.DataFrame:
    """Share of runs in each Dittmer pattern of the USA–CHN–RUS triangle, per step."""
    parts = []
    k = len(DITTMER)
    for name, res in results.items():
        share = pattern_shares(res)
        t1 = share.shape[0]
        parts.append(pd.DataFrame({
            "scenario": name,
            "step": np.repeat(np.arange(t1), k),
            "date": np.repeat(np.asarray(res.dates, dtype=object), k),
            "pattern": np.tile(np.asarray(DITTMER, dtype=object), t1),
            "share": share.reshape(-1),
        }))
    return pd.concat(parts, ignore_index=True)


# ------------------------------------------------------------------------------ reading


def signed(v: float, digits: int) -> str:
    """``v`` with its sign at ``digits`` decimals, and a value that rounds to zero there
    without one: ``0.0004`` → ``0.000`` (not ``+0.000``), ``-0.02`` at 1 → ``0.0`` (not
    ``-0.0``)."""
    text = f"{v:+.{digits}f}"
    return text[1:] if float(text) == 0 else text


def interval(lo: float, hi: float, digits: int) -> str:
    """``[lo, hi]`` with signs (:func:`signed`), or ``—`` when undefined."""
    if np.isnan(lo) or np.isnan(hi):
        return "—"
    return f"[{signed(lo, digits)}, {signed(hi, digits)}]"


UNITS = {"relation": "−1 … +1", "latent": "latent units", "trade": "USD bn a year",
         "share": "share of runs"}
"""The unit of each outcome scale, as tables name it."""


def digits_for(scale: str) -> int:
    """Decimals an effect on ``scale`` is shown with (trade in USD bn/yr: 1; else 3)."""
    return 1 if scale == "trade" else 3


def percent(share: float) -> str:
    """A share as a whole percentage that never rounds to a bound it has not reached:
    ``0.998`` → ``>99%``, ``0.002`` → ``<1%``, ``1.0`` → ``100%``, ``0.0`` → ``0%``."""
    if 0.99 < share < 1:
        return ">99%"
    if 0 < share < 0.01:
        return "<1%"
    return f"{share:.0%}"


def sign_text(sign_share: float, zero_share: float) -> str:
    """The sign share in words: ``98%``, ``16% (84% zero)`` when at least 5% of the draws have
    an effect of exactly 0, ``no change`` when every draw's effect is exactly 0, ``—`` when
    undefined (one draw)."""
    if np.isnan(sign_share):
        return "—"
    if zero_share >= 1:
        return "no change"
    zero = f" ({percent(zero_share)} zero)" if zero_share >= 0.05 and sign_share < 1 else ""
    return f"{percent(sign_share)}{zero}"


def effect_cells(row: Any) -> dict[str, str]:
    """One row of :func:`effects_table` as the four reported strings: the mean paired
    difference, its Monte-Carlo 95% CI, the 90% interval across parameter draws and the share
    of draws with the mean's sign (``—`` where undefined: one draw)."""
    k = digits_for(row.scale)
    share = sign_text(row.sign_share, row.zero_share)
    return {"Δ mean": signed(row.mean, k), "MC 95% CI": interval(row.mc_lo, row.mc_hi, k),
            "90% of draws": interval(row.param_lo, row.param_hi, k), "same sign": share}


def effects_view(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`effects_table` as strings for reading: scenario, outcome (its label), scale,
    date (``m12``, ``m36``, ``horizon``), whether paired, and the four cells of
    :func:`effect_cells`."""
    rows = []
    for row in table.itertuples(index=False):
        when = f"{row.date} (m{row.month}{', horizon' if row.horizon else ''})"
        rows.append({"scenario": row.scenario, "outcome": oc.parse(row.outcome).label,
                     "scale": f"{row.scale} ({UNITS[row.scale]})" if row.scale in UNITS
                     else row.scale,
                     "date": when, "paired": "yes" if row.paired else "NOT PAIRED",
                     **effect_cells(row)})
    return pd.DataFrame(rows, columns=["scenario", "outcome", "scale", "date", "paired",
                                       "Δ mean", "MC 95% CI", "90% of draws", "same sign"])


def draws_note(table: pd.DataFrame) -> str:
    """How many parameter draws and runs the effects rest on, in words."""
    if table.empty:
        return "No paired outcomes."
    d, n = int(table["draws"].max()), int(table["runs"].max())
    if d <= 1:
        return (f"{n} runs, parameters fixed (one draw): the Monte-Carlo 95% CI is from the runs; "
                "there is no interval across parameter draws (—). The effects hold for these "
                "parameter values only.")
    k = n // d
    per = f"{k} run per draw" if k == 1 else f"{k} runs per draw"
    return (f"{d} parameter draws × {per} ({n} runs). Δ mean = mean over draws "
            "of the per-draw mean paired difference; MC 95% CI = its Monte-Carlo interval "
            "(more draws narrow it); 90% of draws = 5%–95% of the per-draw effects (parameter "
            f"uncertainty, plus the noise left in a mean of {k} run{'s' if k > 1 else ''}); "
            "same sign = share of draws whose effect has the sign of Δ mean (with the share of "
            "draws whose effect is exactly zero, when 5% or more).")


# ------------------------------------------------------------------------------ markdown


SIGNED = {"mean_diff", "diff_q05", "diff_q95", "mean", "mc_lo", "mc_hi", "param_lo",
          "param_hi"}


def fmt(v: Any, with_sign: bool = False) -> str:
    """A cell: 3 decimals below 10 in size, else 1; NaN blank; ``|`` escaped."""
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return str(v)
    if isinstance(v, (float, np.floating)):
        if np.isnan(v):
            return ""
        digits = 3 if abs(v) < 10 else 1
        return signed(v, digits) if with_sign else f"{v:.{digits}f}"
    return str(v).replace("|", "\\|")


def table_markdown(table: pd.DataFrame, title: str = "", note: str = "",
                   signed: set[str] | None = None, right: set[str] | None = None) -> str:
    """A DataFrame as a GitHub Markdown table (numbers and the columns in ``right``
    right-aligned; NaN left blank; the columns in ``signed`` shown with their sign, default the
    differences)."""
    signed = {"mean_diff", "diff_q05", "diff_q95"} if signed is None else signed
    cols = list(table.columns)
    numeric = [(pd.api.types.is_numeric_dtype(table[c]) and not
                pd.api.types.is_bool_dtype(table[c])) or c in (right or ()) for c in cols]
    lines = []
    if title:
        lines += [f"# {title}", ""]
    if note:
        lines += [note, ""]
    lines.append("| " + " | ".join(cols) + " |")
    lines.append("|" + "|".join("---:" if num else ":---" for num in numeric) + "|")
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(fmt(v, with_sign=c in signed)
                                       for c, v in zip(cols, row, strict=True)) + " |")
    return "\n".join(lines) + "\n"


VIEW_NUMBERS = {"Δ mean", "MC 95% CI", "90% of draws", "same sign"}
"""Columns of :func:`effects_view` holding numbers (right-aligned)."""

__all__ = ["EFFECT_COLUMNS", "REPORT_MONTHS", "TABLE_COLUMNS", "draws_note", "effect_cells",
           "effect_stats", "effects_table", "effects_view", "horizon_table", "latent",
           "outcomes_table", "patterns_table", "per_draw", "report_steps", "scales",
           "sign_text", "table_markdown"]
