"""Backtest: the calibrated history scenario as an ensemble, fitted to 2019, forecast to 2024.

``backtest(out, runs, seed)`` loads ``scenarios/history_2014_2024.toml`` with the calibrated
mechanisms (``calibration/mechanisms_2019.toml``, from ``sim calibrate``) merged on top and runs
it as an ensemble, each run with

- the model's own relation noise (on, ``mechanisms.noise``),
- its own draw of the free parameters from the fitted covariance (multivariate normal around
  the estimate, reflected back into the bounds, so a parameter estimated at a bound gets a
  half-normal), and
- measurement noise on what is observed: the residual sd of each series in the calibration
  (ideal-point units for distances, folded at 0 since a distance is non-negative; logs for
  trade).

Every draw of run ``i`` comes from ``SeedSequence(seed, spawn_key=(i, ...))``, so run ``i`` is the
same whatever the ensemble size. ``predictions.csv`` gives, for every (series, pair, year) of
2014-2024, the median (``predicted``) and the 5% and 95% quantiles (``lower``, ``upper``) of the
observed value. Years up to 2019 are the calibrated fit; years after 2019 are forecasts from the
model and the recorded events alone: no outcome after 2019 is read anywhere.

**Evaluation against naive baselines** (``evaluation.csv``), all on data through 2019:

- *in-sample*: the calibrated model's deterministic fit on 2014-2019 against the series' own
  constant mean and linear trend fitted on the same years (both fitted to the very values they
  are scored on, so they are hard to beat) and one-step persistence (last year's value);
- *rolling origin* (pseudo out-of-sample): for each origin ``c`` in 2016, 2017, 2018 the model is
  re-calibrated on 2014..c and forecasts c+1..2019 from the events; persistence carries the value
  of year ``c``; the linear trend and the mean are fitted on 2014..c. RMSE over all (origin,
  year) pairs (horizons 1-3) and over the one-step-ahead ones (horizon 1).

Writes ``predictions.csv``, ``observed.csv``, ``evaluation.csv``, ``rolling_origin.csv``,
``figures/backtest.png``, ``figures/evaluation.png`` and ``manifest.json`` (atomically).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim import observe as ob
from sim.calibrate import (
    CALIBRATION,
    FRAGMENT,
    FREE,
    HISTORY,
    REPORT,
    FreeParam,
    fit,
    load_calibrated,
    with_params,
)
from sim.calibrate import predict as predict_obs
from sim.engine import simulate
from sim.output import atomic_folder, check_target, manifest, write_manifest
from sim.plots import PALETTE
from sim.spec import ScenarioSpec, load_scenario
from sim.world import World

COLUMNS = ["series", "pair", "year", "predicted", "lower", "upper"]
FIRST_YEAR, LAST_YEAR = 2014, 2024
ORIGINS = (2016, 2017, 2018)
QUANTILES = (0.05, 0.5, 0.95)
DRAW_KEY = 7_919  # spawn-key tag of the parameter and measurement draws (disjoint from sim.seeds)
LABELS = {ob.DISTANCE: "ideal-point distance (final passage)",
          ob.TRADE: "goods trade, USD bn"}


# ----------------------------------------------------------------------------- calibration


def read_calibration(folder: Path | str = CALIBRATION) -> dict[str, Any]:
    """``report.json`` of a ``sim calibrate`` folder (estimate, covariance, residual sd)."""
    path = Path(folder) / REPORT
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no calibration report; run `sim calibrate` first")
    rep = json.loads(path.read_text())
    names = [p["name"] for p in rep["free_parameters"]]
    if names != [p.name for p in FREE]:
        raise ValueError(f"{path}: free parameters {names} differ from sim.calibrate.FREE; "
                         "re-run `sim calibrate`")
    return rep


def draw_params(rep: dict[str, Any], runs: np.ndarray, seed: int,
                params: tuple[FreeParam, ...] = FREE, spread: bool = True) -> np.ndarray:
    """``(R, P)`` parameter draws ``N(θ̂, Σ)``, reflected into the bounds (run ``i`` draws
    from ``SeedSequence(seed, spawn_key=(i, DRAW_KEY, 0))``)."""
    theta = np.array([p["estimate"] for p in rep["free_parameters"]])
    if not spread:
        return np.repeat(theta[None], len(runs), axis=0)
    cov = np.asarray(rep["covariance"], dtype=float)
    w, v = np.linalg.eigh(0.5 * (cov + cov.T))
    root = v * np.sqrt(np.maximum(w, 0.0))
    lo = np.array([p.lo for p in params])
    hi = np.array([p.hi for p in params])
    out = np.empty((len(runs), len(theta)))
    for k, run in enumerate(runs):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(int(run), DRAW_KEY, 0)))
        out[k] = reflect(theta + root @ rng.standard_normal(len(theta)), lo, hi)
    return out


def reflect(v: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Mirror values beyond a bound back inside (then clip, for draws beyond twice the range)."""
    v = np.where(v < lo, 2 * lo - v, v)
    v = np.where(v > hi, 2 * hi - v, v)
    return np.clip(v, lo, hi)


def ensemble(spec: ScenarioSpec, rep: dict[str, Any], runs: int, seed: int,
             param_uncertainty: bool = True, measurement: bool = True
             ) -> tuple[np.ndarray, dict[tuple[str, str], np.ndarray]]:
    """Predicted observations of every series, ``(R, Y)`` per (series, pair), years 2014-2024:
    each run with its own parameter draw, the model's noise and measurement noise."""
    ids = np.arange(runs)
    thetas = draw_params(rep, ids, seed, spread=param_uncertainty)
    sd = rep["observation"]["residual_sd"]
    years: np.ndarray | None = None
    out: dict[tuple[str, str], np.ndarray] = {}
    for k, run in enumerate(ids):
        spec_r, obs = with_params(spec, FREE, thetas[k], noise=True)
        world = World.from_spec(spec_r)
        traj = simulate(world, seed, [int(run)])
        years, pred = ob.observe(traj.x, traj.imports, world.ids, world.start, obs)
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(int(run), DRAW_KEY, 1)))
        for key in ob.SERIES:
            e = rng.standard_normal(len(years)) * sd[f"{key[0]}:{key[1]}"] * measurement
            # a distance is |ip_i - ip_j|: the noisy measurement is folded at 0
            val = (np.abs(pred[key][0] + e) if key[0] == ob.DISTANCE
                   else pred[key][0] * np.exp(e))
            out.setdefault(key, np.empty((runs, len(years))))[k] = val
    assert years is not None
    return years, out


def predictions_table(years: np.ndarray, draws: dict[tuple[str, str], np.ndarray]
                      ) -> pd.DataFrame:
    """``series, pair, year, predicted, lower, upper`` (median and 90% band), 2014-2024."""
    rows = []
    sel = (years >= FIRST_YEAR) & (years <= LAST_YEAR)
    for (series, pair), vals in draws.items():
        lo, med, hi = np.quantile(vals[:, sel], QUANTILES, axis=0)
        for y, a, b, c in zip(years[sel], med, lo, hi, strict=True):
            rows.append((series, pair, int(y), float(a), float(b), float(c)))
    return pd.DataFrame(rows, columns=COLUMNS)


# ----------------------------------------------------------------------------- evaluation


def naive_forecasts(history: np.ndarray, hist_years: np.ndarray, target_years: np.ndarray
                    ) -> dict[str, np.ndarray]:
    """Persistence (last value), linear trend (OLS on ``hist_years``) and the mean."""
    slope, intercept = np.polyfit(hist_years, history, 1)
    return {"persistence": np.full(len(target_years), history[-1]),
            "linear_trend": intercept + slope * target_years,
            "mean": np.full(len(target_years), history.mean())}


def rmse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


SCORE_COLUMNS = ["evaluation", "series", "pair", "method", "rmse", "n"]
ROLLING_COLUMNS = ["origin", "year", "horizon", "series", "pair", "observed", "model",
                   "persistence", "linear_trend", "mean"]
"""Columns of ``evaluation.csv`` and ``rolling_origin.csv`` (written even without rows)."""


def in_sample(rep: dict[str, Any], observed: pd.DataFrame) -> pd.DataFrame:
    """RMSE of the calibrated fit 2014-2019 against the constant mean and the linear trend
    fitted to the same years, and persistence one step ahead (last year's value; 2013 for
    2014)."""
    rows = []
    for key in ob.SERIES:
        row = rep["fit"][f"{key[0]}:{key[1]}"]
        yrs = np.array(row["years"], dtype=float)
        o, f = np.array(row["observed"]), np.array(row["fitted"])
        naive = naive_forecasts(o, yrs, yrs)
        prev = ob.observed_matrix(observed, yrs.astype(int) - 1)[key]
        for method, pred in (("model", f), ("persistence", prev), ("mean", naive["mean"]),
                             ("linear_trend", naive["linear_trend"])):
            rows.append({"evaluation": "in_sample_2014_2019", "series": key[0], "pair": key[1],
                         "method": method, "rmse": rmse(pred, o), "n": len(o)})
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


def rolling_origin(spec: ScenarioSpec, observed: pd.DataFrame,
                   origins: tuple[int, ...] = ORIGINS) -> pd.DataFrame:
    """Re-calibrate on 2014..c, forecast c+1..2019; the naive forecasts from the same years."""
    rows = []
    for c in origins:
        f = fit(spec, observed, last_year=c)
        spec_c, obs_c = with_params(spec, FREE, f.theta, noise=False)
        years, pred = predict_obs(spec_c, obs_c)
        targets = np.arange(c + 1, ob.CALIBRATION_END + 1)
        hist_years = np.arange(FIRST_YEAR, c + 1)
        obs_all = ob.observed_matrix(observed, np.arange(FIRST_YEAR, ob.CALIBRATION_END + 1))
        for key in ob.SERIES:
            series = obs_all[key]
            hist = series[: len(hist_years)]
            truth = series[len(hist_years):]
            naive = naive_forecasts(hist, hist_years.astype(float), targets.astype(float))
            model = pred[key][0, np.isin(years, targets)]
            for h, (y, o) in enumerate(zip(targets, truth, strict=True), start=1):
                rows.append({"origin": c, "year": int(y), "horizon": h, "series": key[0],
                             "pair": key[1], "observed": float(o), "model": float(model[h - 1]),
                             **{m: float(v[h - 1]) for m, v in naive.items()}})
    return pd.DataFrame(rows, columns=ROLLING_COLUMNS)


def rolling_scores(ro: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (series, pair), g in ro.groupby(["series", "pair"], sort=False):
        for label, sub in (("rolling_origin_h1_3", g), ("one_step_ahead", g[g.horizon == 1])):
            for method in ("model", "persistence", "linear_trend", "mean"):
                rows.append({"evaluation": label, "series": series, "pair": pair,
                             "method": method, "rmse": rmse(sub[method], sub["observed"]),
                             "n": len(sub)})
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


# ----------------------------------------------------------------------------- figures


def fig_backtest(pred: pd.DataFrame, observed: pd.DataFrame, title: str = "") -> Figure:
    """Observed (to 2019) against the fit and the 2020-2024 forecast with 90% bands."""
    fig = Figure(figsize=(13, 7.5), layout="constrained")
    axes = fig.subplots(2, 3).ravel()
    for k, (series, pair) in enumerate(ob.SERIES):
        ax = axes[k]
        p = pred[(pred.series == series) & (pred.pair == pair)].sort_values("year")
        o = observed[(observed.series == series) & (observed.pair == pair)
                     & (observed.year >= 2008)]
        color = PALETTE[k % len(PALETTE)]
        fit_part, fc = p[p.year <= ob.CALIBRATION_END], p[p.year >= ob.CALIBRATION_END]
        ax.fill_between(p.year, p.lower, p.upper, color=color, alpha=0.18, lw=0,
                        label="90% band (noise, parameters, measurement)")
        ax.plot(fit_part.year, fit_part.predicted, color=color, lw=2,
                label="model to 2019: ensemble median")
        ax.plot(fc.year, fc.predicted, color=color, lw=2, ls="--",
                label="model: forecast from events (median)")
        ax.plot(o.year, o.value, "o", color="k", ms=4, label="observed (to 2019)")
        ax.axvline(ob.CALIBRATION_END + 0.5, color="0.3", lw=1, ls=":")
        ax.text(ob.CALIBRATION_END + 0.6, 0.97, "forecast", transform=ax.get_xaxis_transform(),
                va="top", fontsize=8, color="0.3")
        ax.set(title=f"{pair}", ylabel=LABELS[series], xlim=(2007.5, LAST_YEAR + 0.5))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if series == ob.TRADE:
            ax.set_title(f"{pair} ({ob.TRADE_BASIS[pair]})", fontsize=10)
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    axes[-1].axis("off")
    axes[-1].legend(handles, labels, loc="center", frameon=False)
    fig.suptitle(title or "Backtest: calibrated on 2014-2019 (line), forecast 2020-2024 from the "
                 "recorded events (dashed); dotted line: the 2019/2020 cut")
    return fig


def fig_evaluation(scores: pd.DataFrame) -> Figure:
    """RMSE of the model and the naive baselines, per series and evaluation."""
    evals = list(dict.fromkeys(scores["evaluation"]))
    fig = Figure(figsize=(13, 7.5), layout="constrained")
    axes = fig.subplots(2, 3).ravel()
    methods = ["model", "persistence", "linear_trend", "mean"]
    for k, (series, pair) in enumerate(ob.SERIES):
        ax = axes[k]
        sub = scores[(scores.series == series) & (scores.pair == pair)]
        width = 0.8 / len(methods)
        for m, method in enumerate(methods):
            vals = [sub[(sub.evaluation == e) & (sub.method == method)]["rmse"].mean()
                    for e in evals]
            ax.bar(np.arange(len(evals)) + (m - 1.5) * width, vals, width,
                   color=PALETTE[m], label=method)
        ax.set_xticks(np.arange(len(evals)), [e.replace("_", " ") for e in evals], fontsize=8)
        unit = "distance" if series == ob.DISTANCE else "USD bn"
        ax.set(title=f"{pair}: {'ideal-point distance' if series == ob.DISTANCE else 'trade'}",
               ylabel=f"RMSE ({unit})")
        ax.grid(alpha=0.3, axis="y")
    handles, labels = axes[0].get_legend_handles_labels()
    axes[-1].axis("off")
    axes[-1].legend(handles, labels, loc="center", frameon=False)
    fig.suptitle("RMSE on 2014-2019 data: model against naive baselines "
                 "(no data after 2019 are used)")
    return fig


# ----------------------------------------------------------------------------- driver


def backtest(out: Path | str, runs: int = 200, seed: int | None = None, force: bool = False,
             history: Path | str = HISTORY, calibration: Path | str = CALIBRATION,
             data: Path | str | None = None, evaluate: bool = True,
             param_uncertainty: bool = True) -> dict[str, Any]:
    """Run the backtest and write its folder; returns a summary (RMSE table, forecasts)."""
    t0 = time.perf_counter()
    out, history, calibration = Path(out), Path(history), Path(calibration)
    check_target(out, force)
    rep = read_calibration(calibration)
    spec = load_calibrated(history, calibration / FRAGMENT)
    seed = spec.scenario.seed if seed is None else seed
    folder = Path(data) if data is not None else ob.data_dir()
    observed = ob.load_observed(folder)
    years, draws = ensemble(spec, rep, runs, seed, param_uncertainty=param_uncertainty)
    pred = predictions_table(years, draws)
    scores = in_sample(rep, observed)
    ro = pd.DataFrame()
    if evaluate:
        ro = rolling_origin(load_scenario(history), observed)
        scores = pd.concat([scores, rolling_scores(ro)], ignore_index=True)
    files = ["predictions.csv", "observed.csv", "evaluation.csv", "figures/backtest.png",
             "figures/evaluation.png", "manifest.json"]
    with atomic_folder(out, force) as tmp:
        pred.to_csv(tmp / "predictions.csv", index=False, float_format="%.6g")
        observed.to_csv(tmp / "observed.csv", index=False)
        scores.to_csv(tmp / "evaluation.csv", index=False, float_format="%.6g")
        if evaluate:
            ro.to_csv(tmp / "rolling_origin.csv", index=False, float_format="%.6g")
            files.append("rolling_origin.csv")
        (tmp / "figures").mkdir()
        fig_backtest(pred, observed).savefig(tmp / "figures" / "backtest.png", dpi=120)
        fig_evaluation(scores).savefig(tmp / "figures" / "evaluation.png", dpi=120)
        from sim.api import resolved

        info = {"kind": "backtest", "scenario": str(history), "calibration": str(calibration),
                "runs": runs, "seed": seed, "param_uncertainty": param_uncertainty,
                "measurement_noise": True, "data_dir": str(folder),
                "data_through": ob.CALIBRATION_END}
        write_manifest(tmp, manifest([history, calibration / FRAGMENT], [resolved(spec)], info,
                                     files))
    return {"out": str(out), "runs": runs, "seed": seed, "predictions": pred,
            "scores": scores, "time_s": round(time.perf_counter() - t0, 2)}


def summary_table(scores: pd.DataFrame) -> pd.DataFrame:
    """RMSE by (evaluation, series, pair) with one column per method."""
    return scores.pivot_table(index=["evaluation", "series", "pair"], columns="method",
                              values="rmse", sort=False)


def print_summary(res: dict[str, Any]) -> None:
    print(f"wrote {res['out']}/ ({res['runs']} runs, seed {res['seed']}, {res['time_s']} s)")
    with pd.option_context("display.width", 160, "display.max_columns", 10,
                           "display.float_format", "{:.4g}".format):
        print(summary_table(res["scores"]))
    p = res["predictions"]
    fc = p[p.year > ob.CALIBRATION_END]
    for (series, pair), g in fc.groupby(["series", "pair"], sort=False):
        vals = ", ".join(f"{r.year}: {r.predicted:.3g} [{r.lower:.3g}, {r.upper:.3g}]"
                         for r in g.itertuples())
        print(f"  forecast {series} {pair}: {vals}")


__all__ = ["COLUMNS", "backtest", "draw_params", "ensemble",
           "fig_backtest", "fig_evaluation", "in_sample", "naive_forecasts",
           "predictions_table", "read_calibration", "rolling_origin"]
