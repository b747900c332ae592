"""Backtest: probabilistic forecasts that start from the present, scored as forecasts.

``backtest(out, runs, seed)`` runs the history scenario (``scenarios/history_2010_2024.toml``,
else ``history_2014_2024.toml``) as a bootstrap particle filter
(:mod:`sim.validation.filter`) on every observation channel (:mod:`sim.observation`):

- **rolling origins** (unless ``evaluate=False``): for each origin ``c`` in 2014..2018 the
  particles are filtered on the data up to the end of ``c`` and run on; every series is
  forecast for ``c+1 .. 2019`` by the model and by naive probabilistic baselines fitted on the
  same data (random walk with drift, AR(1), a VAR on the monthly channel), and scored by CRPS,
  50%/90% coverage, PIT and the Brier score of the direction (:mod:`sim.validation.rolling`);
- **forecasts 2020-2024** from the state filtered on all data through 2019: written, never
  scored (no outcome after 2019 is read anywhere).

**What a forecast from origin ``c`` may use** (the same rule for the 2020-2024 forecasts,
origin 2019; :mod:`sim.validation.rolling` has the details):

- data up to the end of ``c`` only: the filter assimilates nothing later, and the observation
  parameters are re-estimated on data up to ``c`` (``refit``; with a calibration the 2020-2024
  forecasts use its observation parameters, fitted on data to 2019);
- covariates (CNY/USD, Brent) after ``c``: simulated paths, one per particle, never the
  observed values; vote and event counts of a target year: the last count known at ``c``;
  autocorrelated residuals start from their value at ``c``;
- scenario events dated after ``c`` are removed (``future_events=True`` keeps them: a forecast
  conditional on the recorded events, e.g. the 2018 tariff rounds).

**Not out of sample: the model's own parameters.** They are the scenario's or a calibration's
(``sim calibrate`` fits them on data through 2019), not re-estimated per origin, so they have
seen the rolling origins' targets; the scores are optimistic by that much. The manifest says
so (``information``).

Parameters: the scenario's (``params=None``) or per-particle draws (``params``: a mapping of
registered parameter names to ``(R,)`` arrays, or a :class:`sim.params.Params`), e.g. posterior
samples; observation parameters ``theta`` likewise (defaults: the channels'). A calibration
folder with ``posterior.csv.gz`` (one column per parameter, one row per draw) supplies both
(:func:`read_posterior`).

Writes ``predictions.csv`` (``series, pair, year, predicted, lower, upper`` as before, plus
``time`` and the quantiles ``q05 … q95``), ``observed.csv``, ``scores.csv``, ``skill.csv``,
``filter.csv`` (the effective sample size per assimilated year), ``figures/forecast_<channel>
.png``, ``figures/pit.png``, ``figures/skill.png`` and ``manifest.json`` (atomically).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from tqdm.auto import tqdm

from sim import resources
from sim.observation.reference import theta_at_origin
from sim.output import atomic_folder, check_target, manifest, write_manifest
from sim.plots import PALETTE
from sim.spec import ScenarioSpec, load_scenario
from sim.validation import rolling as ro
from sim.validation import scores as sc
from sim.validation.filter import FilterResult
from sim.world import World

HISTORY = resources.history_scenario()
POSTERIOR = resources.POSTERIOR
COLUMNS = ["series", "pair", "year", "predicted", "lower", "upper"]
QUANTILES = (0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95)
QCOLS = [f"q{round(q * 100):02d}" for q in QUANTILES]
PRED_COLUMNS = [*COLUMNS, "time", *QCOLS]
FORECAST_FIRST, FORECAST_LAST = 2020, 2024
PRED_KEY = 999_983  # spawn-key tag of the predictions' observation draws


# ----------------------------------------------------------------------------- inputs


def channels() -> dict[str, Any]:
    """The observation channels (:data:`sim.observation.CHANNELS`)."""
    from sim.observation import CHANNELS

    return dict(CHANNELS)


META_COLUMNS = ("draw", "chain", "logpost", "loglik", "logprior", "walker", "step")
"""Columns of ``posterior.csv.gz`` that describe a draw rather than set a parameter."""


def read_posterior(folder: Path | str, spec: ScenarioSpec, runs: int, chans: Mapping[str, Any],
                   spread: bool = True) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Model parameters and observation parameters ``(R,)`` from ``folder/posterior.csv.gz``
    (one column per dotted name, one row per draw; particle ``k`` of ``R`` takes row
    ``⌊k · draws / R⌋``, evenly spread over the file's walkers and steps;
    ``spread=False``: every particle takes the column means). Raises ValueError naming the
    file and a column that is neither a registered parameter nor a channel's."""
    from sim.params import registry

    path = Path(folder) / POSTERIOR
    if not path.is_file():
        raise ValueError(f"{path}: no such file; expected posterior draws written by "
                         "`sim calibrate` (one column per parameter)")
    df = pd.read_csv(path)
    names = set(registry(spec))
    obs = {p.name for ch in chans.values() for p in ch.params}
    for col in df.columns:
        if col not in names | obs and col not in META_COLUMNS:
            raise ValueError(f"{path}: column {col!r} is neither a registered parameter nor an "
                             "observation parameter")
    rows = (np.arange(runs) * len(df)) // runs if runs <= len(df) else np.arange(runs) % len(df)
    pick = {c: (df[c].to_numpy(float)[rows] if spread
                else np.full(runs, df[c].to_numpy(float).mean())) for c in df.columns}
    return ({c: v for c, v in pick.items() if c in names},
            {c: v for c, v in pick.items() if c in obs})


# ----------------------------------------------------------------------------- predictions


def future_rows(channel: Any, last: pd.DataFrame) -> pd.DataFrame:
    """Rows for 2020-2024 (monthly if the channel is), every pair, ``trials`` as the pair's
    last observed (the number of votes or events is not forecast)."""
    out = []
    monthly = ro.is_monthly(last)
    times = ([f"{y}-{m:02d}" for y in range(FORECAST_FIRST, FORECAST_LAST + 1)
              for m in range(1, 13)] if monthly
             else list(range(FORECAST_FIRST, FORECAST_LAST + 1)))
    for pair, g in last.groupby("pair", sort=False):
        row = g.iloc[-1]
        for t in times:
            r = {"time": t, "year": int(str(t)[:4]), "pair": pair, "value": np.nan}
            if "trials" in g:
                r["trials"] = row["trials"]
            out.append(r)
    return pd.DataFrame(out)


def quantile_rows(name: str, rows: pd.DataFrame, samples: np.ndarray) -> pd.DataFrame:
    """:data:`PRED_COLUMNS` rows of ``samples (S, K)`` at ``rows``."""
    q = np.quantile(samples, QUANTILES, axis=0)
    df = pd.DataFrame({"series": name, "pair": rows["pair"].to_numpy(),
                       "year": rows["year"].astype(int).to_numpy(),
                       "predicted": q[3], "lower": q[0], "upper": q[-1],
                       "time": rows["time"].astype(str).to_numpy()})
    for k, c in enumerate(QCOLS):
        df[c] = q[k]
    return df


def predictions(res: FilterResult, chans: Mapping[str, Any], seed: int
                ) -> tuple[pd.DataFrame, list[str]]:
    """Model predictions of every channel: fitted to 2019 (the filter's ancestral paths) and
    forecast 2020-2024 from the end-2019 filtered state (``Channel.forecast`` with origin
    2019: simulated covariates, last known counts, residuals from their 2019 value); and notes
    on channels that cannot be forecast."""
    first = int(res.traj.world.start[:4]) + (res.traj.world.start[5:7] != "01")
    parts, notes = [], []
    for c, (name, ch) in enumerate(chans.items()):
        past = ch.observed(first, ro.LAST_SCORED)
        if not past.empty:
            parts.append(quantile_rows(name, past, ro.replicated_samples(
                res, ch, past, seed, PRED_KEY + c)))
        try:
            ch = ch.at_origin(ro.LAST_SCORED)
            fut = future_rows(ch, ch.observed(None, ro.LAST_SCORED))
            parts.append(quantile_rows(name, fut, ro.model_samples(
                res, ch, fut, seed, PRED_KEY + 100 + c)))
        except (ValueError, KeyError, IndexError) as err:
            notes.append(f"{name}: no 2020-2024 forecast ({err})")
    return pd.concat(parts, ignore_index=True)[PRED_COLUMNS], notes


def observed_table(chans: Mapping[str, Any]) -> pd.DataFrame:
    """Every channel's observations through 2019 on the scored scale."""
    parts = []
    for name, ch in chans.items():
        h = ro.history(ch, ro.LAST_SCORED, first=None)
        parts.append(pd.DataFrame({"series": name, "pair": h["pair"], "time": h["time"].astype(str),
                                   "year": h["year"].astype(int), "value": h["y"]}))
    return pd.concat(parts, ignore_index=True)


# ----------------------------------------------------------------------------- figures


def _x(times: pd.Series) -> np.ndarray:
    """Decimal years: ``YYYY`` at mid-year, ``YYYY-MM`` at mid-month."""
    t = times.astype(str)
    return np.array([int(s[:4]) + (int(s[5:7]) - 0.5) / 12 if len(s) == 7 else int(s) + 0.5
                     for s in t])


def fig_forecast(name: str, title: str, pred: pd.DataFrame, obs: pd.DataFrame) -> Figure:
    """Fan chart of one channel, one panel per pair: median, 50% and 90% bands of the model
    (fitted to 2019, forecast 2020-2024) and the observations through 2019."""
    p_all, o_all = pred[pred.series == name], obs[obs.series == name]
    pairs = list(dict.fromkeys(p_all.pair))
    cols = min(3, max(1, len(pairs)))
    rows = -(-len(pairs) // cols)
    fig = Figure(figsize=(max(4.6 * cols, 7.5), 3.3 * rows + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for k, pair in enumerate(pairs):
        ax, color = axes[k], PALETTE[k % len(PALETTE)]
        p = p_all[p_all.pair == pair].sort_values("time")
        o = o_all[(o_all.pair == pair) & (o_all.year >= p.year.min() - 8)]
        x = _x(p.time)
        ax.fill_between(x, p.q05, p.q95, color=color, alpha=0.15, lw=0, label="90% band")
        ax.fill_between(x, p.q25, p.q75, color=color, alpha=0.3, lw=0, label="50% band")
        ax.plot(x, p.q50, color=color, lw=1.5, label="model median")
        ax.plot(_x(o.time), o.value, ".", color="k", ms=4, label="observed (to 2019)")
        ax.axvline(FORECAST_FIRST, color="0.3", lw=1, ls=":")
        ax.set_title(pair, fontsize=10)
        ax.grid(alpha=0.3)
    for ax in axes[len(pairs):]:
        ax.axis("off")
    axes[0].legend(fontsize=7, loc="best")
    fig.suptitle(f"{title}\nfiltered on the data through 2019; forecast 2020-2024 after the "
                 "dotted line (not scored)", fontsize=10)
    return fig


def fig_pit(scores: pd.DataFrame, bins: int = 10) -> Figure:
    """PIT histograms per method, pooled over series, origins and horizons (flat = calibrated;
    U-shaped = too narrow; hump = too wide)."""
    methods = list(dict.fromkeys(scores.method))
    fig = Figure(figsize=(3.3 * max(1, len(methods)), 3.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, max(1, len(methods)), squeeze=False)).ravel()
    for k, m in enumerate(methods):
        sub = scores[scores.method == m]
        freq, edges = sc.pit_histogram(sub.pit.to_numpy(), bins)
        axes[k].bar(edges[:-1], freq * bins, width=1 / bins, align="edge",
                    color=PALETTE[k % len(PALETTE)], edgecolor="white")
        axes[k].axhline(1.0, color="k", lw=1, ls="--")
        axes[k].set(title=f"{m} (n = {len(sub)})", xlabel="PIT", xlim=(0, 1))
    axes[0].set_ylabel("density")
    fig.suptitle("PIT of the rolling-origin forecasts, origins 2014-2018, targets to 2019",
                 fontsize=10)
    return fig


FLOOR = -2.0
"""Skill values below this are drawn at it (the bar's length is then a lower bound)."""


def fig_skill(skill: pd.DataFrame) -> Figure:
    """CRPS skill of the model against each baseline per series and pair (> 0: the model is
    better; < 0: the baseline is)."""
    labels = list(dict.fromkeys(skill.series + " " + skill.pair))
    bases = list(dict.fromkeys(skill.baseline))
    fig = Figure(figsize=(8, 0.32 * len(labels) * max(1, len(bases)) / 2 + 1.8),
                 layout="constrained")
    ax = fig.subplots()
    width = 0.8 / max(1, len(bases))
    for b, base in enumerate(bases):
        sub = skill[skill.baseline == base]
        pos = [labels.index(f"{s} {p}") for s, p in zip(sub.series, sub.pair, strict=True)]
        vals = np.clip(sub.skill.to_numpy(float), FLOOR, 1)
        ax.barh(np.array(pos) + (b - (len(bases) - 1) / 2) * width, vals, width,
                color=PALETTE[b % len(PALETTE)], label=f"vs {base}")
    ax.axvline(0, color="k", lw=1)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    low = float(np.nanmin(np.clip(skill.skill.to_numpy(float), FLOOR, 1), initial=0.0))
    ax.set(xlabel=f"CRPS skill 1 - CRPS(model)/CRPS(baseline) (clipped at {FLOOR:g})",
           xlim=(min(-0.5, np.floor(low * 4) / 4 - 0.05), 1))
    ax.grid(alpha=0.3, axis="x")
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title("Rolling-origin CRPS skill of the filtered model, origins 2014-2018",
                 fontsize=10)
    return fig


# ----------------------------------------------------------------------------- driver


def information(refit: bool, future_events: bool, calibrated: bool) -> dict[str, str]:
    """What the rolling-origin forecasts from origin ``c`` were given, in words (for the
    manifest): which inputs are out of sample and which are not."""
    model = ("calibration posterior fitted on data through 2019" if calibrated
             else "the history scenario's values")
    return {
        "observations": "filtered on data up to the end of the origin only",
        "observation_parameters": ("re-estimated on data up to the origin (MAP, "
                                   "sim.observation.reference.theta_at_origin; trade against "
                                   "the model's unfiltered mean flows)" if refit else
                                   "as given (fitted on data through 2019): IN SAMPLE for "
                                   "the origins' targets"),
        "model_parameters": f"{model}: IN SAMPLE for the origins' targets (not re-fitted per "
                            "origin)",
        "covariates": "CNY/USD and Brent after the origin simulated (random walk in logs, "
                      "volatility from data to the origin, one path per particle)",
        "counts": "votes/events of a target year: the last count known at the origin",
        "residuals": "AR(1) residuals start from their value at the origin, per particle",
        "events": ("scenario events after the origin KEPT (forecast conditional on the "
                   "recorded events)" if future_events
                   else "scenario events after the origin removed"),
    }


def backtest(out: Path | str, runs: int = 200, seed: int | None = None, force: bool = False,
             history: Path | str = HISTORY, calibration: Path | str | None = None,
             evaluate: bool = True, param_uncertainty: bool = True, samples: int = 1000,
             params: Any = None, theta: Mapping[str, Any] | None = None,
             progress: bool = False, origins: tuple[int, ...] = ro.ORIGINS,
             refit: bool = True, future_events: bool = False) -> dict[str, Any]:
    """Run the backtest (module docstring) with ``runs`` particles and write ``out``; returns a
    summary (``predictions``, ``scores``, ``skill``). ``calibration``: a folder with
    ``posterior.csv.gz`` (overrides ``params``/``theta``); ``samples``: draws per baseline
    forecast; ``refit``: re-estimate the observation parameters on data to each origin (False:
    use ``theta`` or the defaults, fitted on data to 2019, in sample); ``future_events``: keep
    scenario events after each origin. Raises OutputError for a refused ``out`` and ValueError
    for a bad posterior."""
    t0 = time.perf_counter()
    out, history = Path(out), Path(history)
    check_target(out, force)
    spec = load_scenario(history)
    seed = spec.scenario.seed if seed is None else seed
    world = World.from_spec(spec)
    chans = channels()
    if calibration is not None:
        params, theta = read_posterior(calibration, spec, runs, chans, spread=param_uncertainty)
    steps = (len(origins) if evaluate else 0) + 1
    with tqdm(total=steps, unit="origin", disable=not progress,
              desc=f"{spec.scenario.name} (backtest, {runs} particles)") as bar:
        scores = (ro.rolling(world, chans, origins, runs, samples, seed, params, theta,
                             progress=bar.update, refit=refit, future_events=future_events)
                  if evaluate else pd.DataFrame(columns=ro.SCORE_COLUMNS))
        if refit and theta is None:
            theta = theta_at_origin(chans, ro.LAST_SCORED,
                                    ro.reference_flows(world, runs, seed, params))
        final = ro.filtered(world, chans, ro.LAST_SCORED, runs, seed, params, theta)
        bar.update(1)
    skill = ro.skill_table(scores) if evaluate else pd.DataFrame()
    pred, notes = predictions(final, chans, seed)
    obs = observed_table(chans)
    ess = pd.DataFrame({"year": final.years, "ess": final.ess, "resampled": final.resampled})
    files = ["predictions.csv", "observed.csv", "filter.csv", "manifest.json"]
    with atomic_folder(out, force) as tmp:
        pred.to_csv(tmp / "predictions.csv", index=False, float_format="%.6g")
        obs.to_csv(tmp / "observed.csv", index=False, float_format="%.6g")
        ess.to_csv(tmp / "filter.csv", index=False, float_format="%.6g")
        (tmp / "figures").mkdir()
        for name, ch in chans.items():
            if (pred.series == name).any():
                fig_forecast(name, getattr(ch, "title", name), pred, obs).savefig(
                    tmp / "figures" / f"forecast_{name}.png", dpi=110)
                files.append(f"figures/forecast_{name}.png")
        if evaluate:
            scores.to_csv(tmp / "scores.csv", index=False, float_format="%.6g")
            skill.to_csv(tmp / "skill.csv", index=False, float_format="%.6g")
            fig_pit(scores).savefig(tmp / "figures" / "pit.png", dpi=110)
            fig_skill(skill).savefig(tmp / "figures" / "skill.png", dpi=110)
            files += ["scores.csv", "skill.csv", "figures/pit.png", "figures/skill.png"]
        from sim.api import resolved

        info = {"kind": "backtest", "scenario": str(history),
                "calibration": None if calibration is None else str(calibration),
                "runs": runs, "seed": seed, "samples": samples, "origins": list(origins),
                "evaluate": evaluate, "param_uncertainty": param_uncertainty,
                "channels": list(chans), "data_dir": str(resources.data_dir()),
                "data_through": ro.LAST_SCORED, "filter_loglik": final.loglik, "notes": notes,
                "refit": refit, "future_events": future_events,
                "information": information(refit, future_events, calibration is not None)}
        write_manifest(tmp, manifest([history], [resolved(spec)], info, files))
    return {"out": str(out), "runs": runs, "seed": seed, "predictions": pred,
            "scores": scores, "skill": skill, "notes": notes, "filter": ess,
            "time_s": round(time.perf_counter() - t0, 2)}


def print_summary(res: dict[str, Any]) -> None:
    """The CRPS skill table (per series, all pairs) and the annual 2020-2024 forecasts."""
    print(f"wrote {res['out']}/ ({res['runs']} particles, seed {res['seed']}, "
          f"{res['time_s']} s)")
    sk = res["skill"]
    if len(sk):
        tab = sk[sk.pair == "all"].pivot_table(index="series", columns="baseline",
                                               values="skill", sort=False)
        with pd.option_context("display.width", 160, "display.float_format", "{:.3f}".format):
            print("CRPS skill of the model vs each baseline (> 0: model better), origins "
                  "2014-2018:")
            print(tab)
    p = res["predictions"]
    fc = p[(p.year >= FORECAST_FIRST) & (p.time.str.len() == 4)]
    for (series, pair), g in fc.groupby(["series", "pair"], sort=False):
        vals = ", ".join(f"{r.year}: {r.predicted:.3g} [{r.lower:.3g}, {r.upper:.3g}]"
                         for r in g.itertuples())
        print(f"  forecast {series} {pair}: {vals}")
    for note in res["notes"]:
        print(f"  note: {note}")


__all__ = ["COLUMNS", "PRED_COLUMNS", "QCOLS", "backtest", "fig_forecast", "fig_pit",
           "fig_skill", "future_rows", "information", "observed_table", "predictions",
           "print_summary", "read_posterior"]
