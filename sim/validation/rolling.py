"""Rolling-origin evaluation of probabilistic forecasts (Tashman 2000, "Out-of-sample tests of
forecasting accuracy", Int. J. Forecasting 16:437).

For each origin ``c`` (the end of year ``c``, 2014..2018) every observed series is forecast for
the years ``c+1 .. 2019`` (annual series: horizons 1..5 years; monthly series: the months of
those years, horizons 1..60 months) by

- the model: particles filtered on every channel's observations up to the end of ``c``
  (:func:`sim.validation.filter.particle_filter`), then run on; the channel's own observation
  model draws the forecast at the target rows (``Channel.forecast`` of the channel as known at
  the origin, ``Channel.at_origin(c)``);
- the baselines of :mod:`sim.validation.baselines`, fitted on the series' data up to ``c``
  only (``Channel.observed(last=c)``): random walk with drift and AR(1) for every series, a VAR
  for the pairs of a monthly channel jointly.

**Nothing after the origin enters a forecast** (what the model is given at origin ``c``):

- observation parameters are re-estimated on data up to ``c`` only
  (:func:`sim.observation.reference.theta_at_origin`; the trade channels' against the mean
  flows of an unfiltered ensemble of the same world, :func:`reference_flows`; ``refit=False``
  keeps the given ones);
- covariates (CNY/USD, Brent) after ``c`` are simulated paths, one per particle, from their
  volatility to ``c`` (:func:`sim.observation.trade.covariate_paths`);
- counts (votes, events) of a target year are the pair's last count known at ``c``
  (``Channel.forecast_rows``; the forecast and the observed share are compared on that
  basis);
- autocorrelated residuals start from their value at ``c`` per particle;
- scenario events dated after ``c`` are removed from the world (``future_events=True`` keeps
  them: a forecast conditional on the recorded events, e.g. the 2018 tariff rounds);
- the model's own parameters are NOT re-estimated per origin: the scenario's or a
  calibration's (fitted on data to 2019) are in-sample for the origins' targets.

Every forecast is scored against the observation (never after 2019, the channels refuse later
data) by CRPS, 50%/90% central-interval coverage, PIT and the Brier score of the direction of
change from the last value at the origin (:mod:`sim.validation.scores`).

Channels are duck-typed (:class:`sim.observation.channel.Channel`): ``name``, ``observed(first,
last)``, ``loglik(view, theta, first, last)``, ``draw(view, theta, rows, rng)``, and optionally
``display(rows, values)`` (counts as shares: the scale series are scored on) and ``family``
(``"trade"`` series are modelled in logs by the baselines).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from sim.engine import Trajectory
from sim.observation.reference import theta_at_origin
from sim.observation.view import SimView
from sim.validation import baselines as bl
from sim.validation import scores as sc
from sim.validation.filter import FilterResult, particle_filter
from sim.world import World

ORIGINS = (2014, 2015, 2016, 2017, 2018)
LAST_SCORED = 2019
HISTORY_FIRST = 1992
"""First year of an annual series' history the baselines may use (UN distances from 1992)."""
ROLL_KEY = 15_485_863
"""Spawn-key tag of the rolling origins' draws (disjoint from sim.seeds and the filter)."""
SCORE_COLUMNS = ["series", "pair", "origin", "horizon", "time", "method", "observed", "crps",
                 "covered50", "covered90", "pit", "brier"]
MODEL = "model"


# ----------------------------------------------------------------------------- data


def is_monthly(rows: pd.DataFrame) -> bool:
    """Whether the rows are monthly (``time`` as ``YYYY-MM``)."""
    return bool(len(rows)) and len(str(rows["time"].iloc[0])) == 7


def shown(channel: Any, rows: pd.DataFrame, values: np.ndarray) -> np.ndarray:
    """Values on the scored scale: ``channel.display`` (e.g. counts as shares) if it has one."""
    f = getattr(channel, "display", None)
    return np.asarray(values if f is None else f(rows, values), dtype=float)


def horizon(origin: int, time: str) -> int:
    """Steps from the end of ``origin`` to ``time``: years for ``YYYY``, months for ``YYYY-MM``."""
    t = str(time)
    if len(t) == 7:
        return (int(t[:4]) - origin - 1) * 12 + int(t[5:7])
    return int(t[:4]) - origin


def history(channel: Any, origin: int, first: int = HISTORY_FIRST) -> pd.DataFrame:
    """The channel's rows up to the end of ``origin`` only, from ``first`` (the baselines see
    nothing else), with ``y``: the value on the scored scale."""
    rows = channel.observed(first, origin)
    return rows.assign(y=shown(channel, rows, rows["value"].to_numpy(float)))


def _consecutive(rows: pd.DataFrame, monthly: bool) -> np.ndarray:
    """The longest run of consecutive periods ending at the last row (gaps cut the history)."""
    t = rows["time"].astype(str).to_numpy()
    idx = np.array([int(s[:4]) * 12 + int(s[5:7]) for s in t] if monthly
                   else [int(s[:4]) for s in t])
    order = np.argsort(idx)
    idx, y = idx[order], rows["y"].to_numpy(float)[order]
    gaps = np.flatnonzero(np.diff(idx) != 1)
    return y[gaps[-1] + 1:] if len(gaps) else y


# ----------------------------------------------------------------------------- baselines


def baseline_samples(channel: Any, origin: int, targets: pd.DataFrame, samples: int,
                     seed: int) -> dict[str, np.ndarray]:
    """``{method: (S, K)}`` baseline forecasts of the channel's ``targets`` rows (all pairs),
    fitted on :func:`history` up to ``origin``. Trade is modelled in logs. A method is left out
    for a pair whose history is too short for it."""
    hist = history(channel, origin)
    monthly = is_monthly(targets)
    logs = getattr(channel, "family", "") == "trade"
    out: dict[str, np.ndarray] = {}
    per_pair: dict[str, np.ndarray] = {}
    for p, (pair, idx) in enumerate(targets.groupby("pair", sort=False).indices.items()):
        y = _consecutive(hist[hist["pair"] == pair], monthly)
        per_pair[str(pair)] = y
        h = int(max(horizon(origin, t) for t in targets["time"].iloc[idx]))
        steps = np.array([horizon(origin, t) - 1 for t in targets["time"].iloc[idx]])
        z = np.log(y) if logs else y
        start = _season_start(origin, len(z)) if monthly else None
        for method, draw in _univariate(z, h, samples, start, (seed, origin, p)).items():
            s = np.exp(draw) if logs else draw
            out.setdefault(method, np.full((samples, len(targets)), np.nan))[:, idx] = s[:, steps]
    if monthly and len(per_pair) > 1:
        out["var"] = _var_samples(per_pair, targets, origin, samples, seed, logs)
    return {k: v for k, v in out.items() if not np.isnan(v).all()}


def _univariate(z: np.ndarray, h: int, samples: int, season_start: int | None,
                key: tuple[int, int, int]) -> dict[str, np.ndarray]:
    """``{method: (S, h)}`` of the random walk with drift (seasonal for monthly data) and the
    AR(1); a method whose history is too short is left out."""
    seed, origin, pair = key
    out = {}
    try:
        out["rw_drift"] = bl.rw_drift(z, h, samples, _seed(seed, origin, pair, 0),
                                      period=12 if season_start else 1)
    except ValueError:
        pass
    try:
        out["ar1"] = bl.ar1(z, h, samples, _seed(seed, origin, pair, 1), season_start)
    except ValueError:
        pass
    return out


def _season_start(origin: int, n: int) -> int:
    """Calendar month (1-12) of the first of ``n`` months ending December ``origin``."""
    return (12 - n % 12) % 12 + 1


def _seed(seed: int, origin: int, pair: int, method: int) -> np.random.SeedSequence:
    """Stream of one (origin, pair, method) baseline."""
    return np.random.SeedSequence(seed, spawn_key=(ROLL_KEY, origin, pair, method))


def _var_samples(per_pair: dict[str, np.ndarray], targets: pd.DataFrame, origin: int,
                 samples: int, seed: int, logs: bool) -> np.ndarray:
    """VAR forecasts ``(S, K)`` of the channel's pairs jointly (common history length)."""
    n = min(len(v) for v in per_pair.values())
    pairs = list(per_pair)
    z = np.column_stack([per_pair[p][-n:] for p in pairs])
    z = np.log(z) if logs else z
    h = int(max(horizon(origin, t) for t in targets["time"]))
    s = bl.var(z, h, samples, _seed(seed, origin, 0, 2), season_start=_season_start(origin, n))
    s = np.exp(s) if logs else s
    out = np.full((samples, len(targets)), np.nan)
    for k, row in enumerate(targets.itertuples()):
        out[:, k] = s[:, horizon(origin, row.time) - 1, pairs.index(row.pair)]
    return out


# ----------------------------------------------------------------------------- model


def assimilator(channels: Mapping[str, Any], ids: tuple[str, ...], start: str
                ) -> Callable[[Trajectory, int, dict[str, Any]], np.ndarray]:
    """``(traj, year, theta) -> (R,)``: the sum over channels of the log-likelihood of year
    ``year``'s observations given the path and the earlier years,
    ``log p(y_Y | y_{first..Y-1}, path) = L(first..Y) - L(first..Y-1)`` (exact for channels
    whose residuals are correlated over time), ``first`` the first complete year of the run."""
    first = int(start[:4]) + (start[5:7] != "01")
    years = {name: set(ch.observed(first)["year"].astype(int)) for name, ch in channels.items()}

    def loglik(traj: Trajectory, year: int, theta: dict[str, Any]) -> np.ndarray:
        view = SimView(traj.x, traj.imports, ids, start)
        total = np.zeros(traj.x.shape[0])
        for name, ch in channels.items():
            if year not in years[name]:
                continue
            total += ch.loglik(view, theta, first, year)
            if year > first:
                total -= ch.loglik(view, theta, first, year - 1)
        return total

    return loglik


def filtered(world: World, channels: Mapping[str, Any], origin: int, particles: int,
             seed: int, params: Any = None, theta: Mapping[str, Any] | None = None
             ) -> FilterResult:
    """Particles filtered on every channel through the end of ``origin``, then run on."""
    first = int(world.start[:4]) + (world.start[5:7] != "01")
    return particle_filter(world, seed, particles,
                           assimilator(channels, tuple(world.ids), world.start),
                           range(first, origin + 1), params=params, theta=theta)


def _view(res: FilterResult) -> SimView:
    w = res.traj.world
    return SimView(res.traj.x, res.traj.imports, tuple(w.ids), w.start)


def model_samples(res: FilterResult, channel: Any, rows: pd.DataFrame, seed: int,
                  key: int) -> np.ndarray:
    """Forecast draws ``(R, K)`` of ``rows`` (after the channel's origin,
    ``channel.known_through``) from the filtered particles, on the scored scale: counts as
    shares of the trials the forecast assumed (``channel.forecast_rows``)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(ROLL_KEY, key)))
    draws = channel.forecast(_view(res), res.theta, rows, rng)
    return shown(channel, channel.forecast_rows(rows), draws)


def replicated_samples(res: FilterResult, channel: Any, rows: pd.DataFrame, seed: int,
                       key: int) -> np.ndarray:
    """Replicated observations ``(R, K)`` of rows up to the origin (the filter's ancestral
    paths; an in-sample fit, not a forecast), on the scored scale."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(ROLL_KEY, key)))
    return shown(channel, rows, channel.draw(_view(res), res.theta, rows, rng))


def reference_flows(world: World, particles: int, seed: int, params: Any = None) -> SimView:
    """One-run view of the mean relations and flows of ``particles`` unfiltered runs of
    ``world`` (the engine with nothing assimilated): the model's own flows, against which the
    trade channels' observation parameters are re-estimated (no outcome data enter)."""
    res = particle_filter(world, seed, particles, lambda tr, y, th: np.zeros(particles), [],
                          params=params)
    tr = res.traj
    return SimView(tr.x.mean(axis=0, keepdims=True), tr.imports.mean(axis=0, keepdims=True),
                   tuple(world.ids), world.start)


def world_at_origin(world: World, origin: int) -> World:
    """``world`` without the scenario events dated after December ``origin`` (what a
    forecaster at the origin cannot know)."""
    spec = world.spec
    keep = [e for e in spec.events if int(str(e.date)[:4]) <= origin]
    if len(keep) == len(spec.events):
        return world
    return World.from_spec(spec.model_copy(update={"events": keep}))


# ----------------------------------------------------------------------------- scoring


def score_rows(channel: Any, origin: int, targets: pd.DataFrame, method: str,
               samples: np.ndarray, last: pd.Series, seed: int) -> list[dict[str, Any]]:
    """Score rows (:data:`SCORE_COLUMNS`) of one method's samples ``(S, K)`` at ``targets``;
    ``last``: each pair's value at the origin (the direction's reference)."""
    y = shown(channel, targets, targets["value"].to_numpy(float))
    ok = ~np.isnan(samples).any(axis=0)
    ref = targets["pair"].map(last).to_numpy(float)
    crps = np.full(len(y), np.nan)
    crps[ok] = sc.crps(samples[:, ok], y[ok])
    c50 = sc.coverage(samples, y, 0.5)
    c90 = sc.coverage(samples, y, 0.9)
    pit = sc.pit(samples, y, seed)
    brier = sc.brier_direction(samples, y, ref)
    return [{"series": channel.name, "pair": r.pair, "origin": origin,
             "horizon": horizon(origin, r.time), "time": str(r.time), "method": method,
             "observed": float(y[k]), "crps": float(crps[k]), "covered50": bool(c50[k]),
             "covered90": bool(c90[k]), "pit": float(pit[k]), "brier": float(brier[k])}
            for k, r in enumerate(targets.itertuples()) if ok[k]]


def origin_forecasts(world: World, channels: Mapping[str, Any], origin: int, particles: int,
                     samples: int, seed: int, params: Any = None,
                     theta: Mapping[str, Any] | None = None, refit: bool = True,
                     future_events: bool = False
                     ) -> dict[str, tuple[pd.DataFrame, pd.Series, dict[str, np.ndarray]]]:
    """The forecasts of one origin: ``{channel: (targets, last, {method: (S, K)})}`` for every
    channel with observations in ``origin+1 .. 2019`` (``targets``: those rows; ``last``: each
    pair's value at the origin; the model's and every baseline's samples on the scored scale).
    Nothing after the origin enters (module docstring): ``refit`` re-estimates the observation
    parameters on data to the origin (else ``theta`` is used as given); ``future_events``
    keeps scenario events after it."""
    channels = {n: ch.at_origin(origin) for n, ch in channels.items()}
    if not future_events:
        world = world_at_origin(world, origin)
    if refit:
        theta = theta_at_origin(channels, origin,
                                reference_flows(world, particles, seed, params))
    res = filtered(world, channels, origin, particles, seed, params, theta)
    out = {}
    for c, (name, ch) in enumerate(channels.items()):
        targets = ch.observed(origin + 1, LAST_SCORED)
        if targets.empty:
            continue
        hist = history(ch, origin)
        last = hist.sort_values("time").groupby("pair")["y"].last()
        targets = targets[targets["pair"].isin(last.index)].reset_index(drop=True)
        methods = {MODEL: model_samples(res, ch, targets, seed, origin * 100 + c)}
        methods.update(baseline_samples(ch, origin, targets, samples, seed))
        out[name] = (targets, last, methods)
    return out


def origin_scores(world: World, channels: Mapping[str, Any], origin: int, particles: int,
                  samples: int, seed: int, params: Any = None,
                  theta: Mapping[str, Any] | None = None, refit: bool = True,
                  future_events: bool = False) -> pd.DataFrame:
    """The score table of one origin (:func:`origin_forecasts` scored): the model and every
    baseline, every channel and pair with observations in ``origin+1 .. 2019``."""
    fc = origin_forecasts(world, channels, origin, particles, samples, seed, params, theta,
                          refit, future_events)
    rows: list[dict[str, Any]] = []
    for c, (name, ch) in enumerate(channels.items()):
        if name not in fc:
            continue
        targets, last, methods = fc[name]
        for m, s in methods.items():
            rows += score_rows(ch, origin, targets, m, s, last, seed + origin + c)
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


def rolling(world: World, channels: Mapping[str, Any], origins: tuple[int, ...] = ORIGINS,
            particles: int = 200, samples: int = 1000, seed: int = 0, params: Any = None,
            theta: Mapping[str, Any] | None = None,
            progress: Callable[[int], None] | None = None, refit: bool = True,
            future_events: bool = False) -> pd.DataFrame:
    """The tidy score table (:data:`SCORE_COLUMNS`) over all ``origins``
    (:func:`origin_scores`)."""
    parts = []
    for o in origins:
        parts.append(origin_scores(world, channels, o, particles, samples, seed, params, theta,
                                   refit, future_events))
        if progress is not None:
            progress(1)
    return pd.concat(parts, ignore_index=True)


def skill_table(scores: pd.DataFrame) -> pd.DataFrame:
    """CRPS skill of the model against each baseline, ``1 - CRPS_model / CRPS_baseline``
    (means over the origins and horizons both have), per series and pair and per series
    (``pair = "all"``, mean of the pairs' CRPS ratios' parts), with the model's 50%/90%
    coverage and Brier score beside it."""
    out = []
    for (series, pair), g in list(scores.groupby(["series", "pair"], sort=False)) + [
            ((s, "all"), g) for s, g in scores.groupby("series", sort=False)]:
        model = g[g.method == MODEL].set_index(["pair", "origin", "time"])
        for base in [m for m in dict.fromkeys(g.method) if m != MODEL]:
            b = g[g.method == base].set_index(["pair", "origin", "time"])
            common = model.index.intersection(b.index)
            if not len(common):
                continue
            out.append({"series": series, "pair": pair, "baseline": base, "n": len(common),
                        "crps_model": float(model.loc[common, "crps"].mean()),
                        "crps_baseline": float(b.loc[common, "crps"].mean()),
                        "skill": sc.skill(model.loc[common, "crps"], b.loc[common, "crps"]),
                        "brier_model": float(model.loc[common, "brier"].mean()),
                        "brier_baseline": float(b.loc[common, "brier"].mean()),
                        "coverage50_model": float(model.loc[common, "covered50"].mean()),
                        "coverage90_model": float(model.loc[common, "covered90"].mean()),
                        "coverage90_baseline": float(b.loc[common, "covered90"].mean())})
    return pd.DataFrame(out)


__all__ = ["LAST_SCORED", "ORIGINS", "SCORE_COLUMNS", "assimilator", "baseline_samples",
           "filtered", "history", "horizon", "model_samples", "origin_forecasts",
           "origin_scores", "reference_flows", "replicated_samples", "rolling", "score_rows",
           "skill_table", "world_at_origin"]
