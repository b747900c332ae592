"""Calibration on history: fit a few mechanisms to the 2014-2019 outcome series only.

``calibrate(history_path, out_path)`` runs the history scenario (``scenarios/
history_2014_2024.toml``: January 2014, driven by the recorded events) deterministically, with
noise off, maps it to what is measured (:mod:`sim.observe`) and fits the free parameters below
by weighted nonlinear least squares (``scipy.optimize.least_squares``) to

- the UNGA ideal-point distances (final-passage basis) of USA-CHN, USA-RUS and CHN-RUS, and
- annual goods trade: CHN-RUS (China customs) and USA-CHN (US Census, both directions),

for the years 2014 .. ``last_year`` (at most 2019: :data:`sim.observe.CALIBRATION_END`, enforced
by :func:`sim.observe.load_observed`). Residuals are distances in ideal-point units and trade in
logs. Weights are two-stage (feasible GLS): an unweighted fit gives each series' residual sd,
then the fit is repeated with every series scaled by it, so each series counts by its own noise.

**Free parameters** (:data:`FREE`), chosen for what annual data can identify:

- ``anchor.bias`` and ``anchor.w_ideology``: where the three dyads settle (the anchor's level
  and its spread across pairs by ideal-point distance);
- ``events.gain``: one multiplier on both event scales (``shock_scale = 0.1 g``,
  ``ties_scale = 0.2 g``), so the immediate and the lasting effect keep the model's 1:2 ratio;
  annual ideal points cannot tell a short-lived shock from a lasting one;
- ``observation.trade_growth``: the nominal growth of goods trade the model leaves out.

**Fixed** at their defaults, with profiles in the report (:data:`PROFILED_FIXED`): the anchor
rate (0.03) and balance rate (0.02), confounded with the anchor's level (they share the
stationary point) and with the event gain (speed against size of a response); the one-year
tariff elasticity (0.76, Boehm, Levchenko & Pandalai-Nayar 2023), which two years of Section 301
data leave flat; the alignment semi-elasticity of trade (0.13, Gopinath et al. 2024), which
relations that barely move cannot identify.

**Uncertainty**: ``s² (JᵀJ)⁻¹`` with ``J`` the finite-difference Jacobian of the weighted
residuals at the estimate (one-sided at a bound) and ``s²`` the weighted SSR over its degrees of
freedom. A parameter at a bound gets a one-sided interval. **Identifiability**: the correlation
matrix, singular values of ``J`` with columns scaled by the bound widths, and profiles (the SSR
with the parameter held on a grid and the others re-fitted).

Outputs (``out_path``, written atomically): ``mechanisms_2019.toml``, a ``[mechanisms]``
fragment with cites that any scenario can take (:func:`load_calibrated`, or ``extends`` from a
full scenario: the loader validates after merging), ``report.json`` (estimates, standard
errors from the Jacobian covariance, correlations, singular values, profiles, RMSE per series
and the observation parameters) and ``manifest.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import OptimizeResult, least_squares

from sim import observe as ob
from sim import resources
from sim.engine import simulate
from sim.output import atomic_folder, check_target, manifest, write_manifest
from sim.params import with_values
from sim.spec import ScenarioSpec, load_scenario
from sim.world import World

HISTORY = resources.scenarios_dir() / "history_2014_2024.toml"
"""The shipped history scenario (found wherever ``sim`` runs from)."""
CALIBRATION = resources.calibration_dir()
"""The shipped calibration, read by default (:func:`load_calibrated`, :mod:`sim.backtest`)."""
OUT = resources.default_calibration_out()
"""Where :func:`calibrate` writes by default: the checkout's ``calibration/`` in a checkout,
else ``outputs/calibration`` (never into an installed package)."""
FRAGMENT = "mechanisms_2019.toml"
REPORT = "report.json"
FIRST_YEAR = 2014


@dataclass(frozen=True)
class FreeParam:
    """A fitted parameter: ``sets`` lists the (mechanism group, key, factor) it writes as
    ``factor · value`` (a composite such as ``events.gain`` writes two keys)."""

    name: str
    lo: float
    hi: float
    start: float
    why: str
    sets: tuple[tuple[str, str, float], ...] = ()

    @property
    def observation(self) -> bool:
        return self.name.startswith("observation.")


FREE: tuple[FreeParam, ...] = (
    FreeParam("anchor.bias", -2.0, 2.0, 0.0,
              "level of the interest anchor: where all dyads settle",
              (("anchor", "bias", 1.0),)),
    FreeParam("anchor.w_ideology", 0.0, 5.0, 1.0,
              "weight of ideal-point affinity in the anchor: spread of the dyads' levels",
              (("anchor", "w_ideology", 1.0),)),
    FreeParam("events.gain", 0.0, 5.0, 1.0,
              "size of event effects on relations, immediate (shock_scale = 0.1 g) and lasting "
              "(ties_scale = 0.2 g)",
              (("events", "shock_scale", 0.1), ("events", "ties_scale", 0.2))),
    FreeParam("observation.trade_growth", -0.10, 0.20, 0.0,
              "nominal growth of goods trade per year, which the model does not contain"),
)

PROFILED_FIXED: tuple[FreeParam, ...] = (
    FreeParam("anchor.rate", 0.005, 0.15, 0.03, "speed of the pull toward the anchor",
              (("anchor", "rate", 1.0),)),
    FreeParam("balance.rate", 0.0, 0.10, 0.02, "structural-balance rate",
              (("balance", "rate", 1.0),)),
    FreeParam("trade.elasticity_one_year", 0.05, 1.95, 0.76,
              "one-year tariff elasticity (Boehm, Levchenko & Pandalai-Nayar 2023: 0.76)",
              (("trade", "elasticity_one_year", 1.0),)),
    FreeParam("trade.alignment_semi_elasticity", 0.0, 1.0, 0.13,
              "trade response to alignment (Gopinath et al. 2024: 0.13)",
              (("trade", "alignment_semi_elasticity", 1.0),)),
)


# ----------------------------------------------------------------------------- model run


def theta_values(params: tuple[FreeParam, ...], theta: np.ndarray) -> dict[str, float]:
    """The registered parameters (:mod:`sim.params` names) that ``theta`` sets, with their
    values (``factor · value`` for each key a free parameter writes)."""
    return {f"{group}.{key}": float(factor * v)
            for p, v in zip(params, theta, strict=True) for group, key, factor in p.sets}


def with_params(spec: ScenarioSpec, params: tuple[FreeParam, ...], theta: np.ndarray,
                noise: bool | None = None) -> tuple[ScenarioSpec, ob.ObservationParams]:
    """The scenario with ``theta`` written into its mechanisms (through
    :func:`sim.params.with_values`, so validated), and the observation parameters."""
    obs = ob.ObservationParams(d_half=spec.mechanisms.anchor.d_half,
                               base_year=int(spec.scenario.start[:4]) - 1)
    for p, v in zip(params, theta, strict=True):
        if p.observation:
            obs = obs.with_(**{p.name.split(".", 1)[1]: float(v)})
    values: dict[str, float | bool] = dict(theta_values(params, theta))
    if noise is not None:
        values["noise.enabled"] = noise
    return with_values(spec, values), obs


def predict(spec: ScenarioSpec, obs: ob.ObservationParams, seed: int = 0,
            runs: int | np.ndarray = 1) -> tuple[np.ndarray, dict[tuple[str, str], np.ndarray]]:
    """Annual predicted observations ``{(series, pair): (R, Y)}`` of a scenario."""
    world = World.from_spec(spec)
    traj = simulate(world, seed, runs)
    return ob.observe(traj.x, traj.imports, world.ids, world.start, obs)


# ----------------------------------------------------------------------------- the fit


@dataclass
class Fit:
    """Result of :func:`fit` (all arrays over :data:`FREE` order unless named otherwise)."""

    params: tuple[FreeParam, ...]
    theta: np.ndarray
    cov: np.ndarray
    jac: np.ndarray
    years: np.ndarray
    observed: dict[tuple[str, str], np.ndarray]
    fitted: dict[tuple[str, str], np.ndarray]
    sigma: dict[tuple[str, str], float]
    dof: int
    ssr: float
    nfev: int
    obs_params: ob.ObservationParams
    resid_sd: dict[tuple[str, str], float] = field(default_factory=dict)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def sd(self) -> np.ndarray:
        return np.sqrt(np.maximum(np.diag(self.cov), 0.0))

    def rmse(self, key: tuple[str, str]) -> float:
        return float(np.sqrt(np.nanmean((self.fitted[key] - self.observed[key]) ** 2)))

    def values(self) -> dict[str, float]:
        return {p.name: float(v) for p, v in zip(self.params, self.theta, strict=True)}


class Problem:
    """Weighted residuals of the history scenario against the observed series."""

    def __init__(self, spec: ScenarioSpec, observed: pd.DataFrame, years: np.ndarray,
                 params: tuple[FreeParam, ...] = FREE) -> None:
        self.spec, self.params, self.years = spec, params, np.asarray(years)
        self.observed = ob.observed_matrix(observed, self.years)
        for key, val in self.observed.items():
            if np.isnan(val).any():
                raise ValueError(f"observed series {key} has missing years in {list(years)}")
        self.sigma = dict.fromkeys(ob.SERIES, 1.0)
        self.fixed: dict[str, float] = {}  # profile: name -> value held fixed

    def predicted(self, theta: np.ndarray) -> dict[tuple[str, str], np.ndarray]:
        params, full = self.params, np.asarray(theta, dtype=float)
        if self.fixed:
            extra = [p for p in (*FREE, *PROFILED_FIXED) if p.name in self.fixed]
            params = (*params, *extra)
            full = np.concatenate([full, [self.fixed[p.name] for p in extra]])
        spec, obs = with_params(self.spec, params, full, noise=False)
        years, pred = predict(spec, obs)
        sel = np.isin(years, self.years)
        return {k: v[0, sel] for k, v in pred.items()}

    def residuals(self, theta: np.ndarray) -> np.ndarray:
        pred = self.predicted(theta)
        out = []
        for key in ob.SERIES:
            if key[0] == ob.TRADE:
                r = np.log(pred[key]) - np.log(self.observed[key])
            else:
                r = pred[key] - self.observed[key]
            out.append(r / self.sigma[key])
        return np.concatenate(out)

    def raw_residuals(self, theta: np.ndarray) -> dict[tuple[str, str], np.ndarray]:
        """Unweighted residuals (distance units; log units for trade)."""
        pred = self.predicted(theta)
        return {k: (np.log(pred[k]) - np.log(self.observed[k])) if k[0] == ob.TRADE
                else pred[k] - self.observed[k] for k in ob.SERIES}

    def solve(self, start: np.ndarray, max_nfev: int | None = None) -> OptimizeResult:
        lo = np.array([p.lo for p in self.params])
        hi = np.array([p.hi for p in self.params])
        return least_squares(self.residuals, np.clip(start, lo, hi), bounds=(lo, hi),
                             x_scale="jac", diff_step=1e-4, max_nfev=max_nfev)


def fit(spec: ScenarioSpec, observed: pd.DataFrame, last_year: int = ob.CALIBRATION_END,
        first_year: int = FIRST_YEAR, params: tuple[FreeParam, ...] = FREE,
        profile: bool = False, profile_points: int = 5) -> Fit:
    """Two-stage weighted least squares of ``params`` on ``first_year .. last_year``."""
    if last_year > ob.CALIBRATION_END:
        raise ValueError(f"last_year {last_year} is after {ob.CALIBRATION_END}")
    observed = observed[observed["year"] <= last_year]
    years = np.arange(first_year, last_year + 1)
    prob = Problem(spec, observed, years, params)
    # stage 1: unit weights (distance units, log trade); stage 2: each series scaled by its
    # stage-1 residual sd
    res = prob.solve(np.array([p.start for p in params]))
    raw = prob.raw_residuals(res.x)
    prob.sigma = {k: max(float(np.sqrt(np.mean(raw[k] ** 2))), 1e-3) for k in ob.SERIES}
    nfev = res.nfev
    res = prob.solve(res.x)
    nfev += res.nfev
    lo = np.array([p.lo for p in params])
    hi = np.array([p.hi for p in params])
    theta = np.where(np.abs(res.x - lo) < 1e-9, lo, np.where(np.abs(res.x - hi) < 1e-9, hi, res.x))
    jac = jacobian(prob, theta)  # least_squares' own is modified at active bounds
    n, k = jac.shape
    dof = max(n - k, 1)
    ssr = float(np.sum(res.fun ** 2))
    cov = (ssr / dof) * np.linalg.pinv(jac.T @ jac)
    pred = prob.predicted(theta)
    raw = prob.raw_residuals(theta)
    _, obs = with_params(spec, params, theta)
    result = Fit(params=params, theta=theta, cov=cov, jac=jac, years=years,
                 observed=prob.observed, fitted=pred, sigma=dict(prob.sigma), dof=dof,
                 ssr=ssr, nfev=nfev, obs_params=obs,
                 resid_sd={k: float(np.sqrt(np.mean(raw[k] ** 2))) for k in ob.SERIES})
    if profile:
        result.profiles = profiles(prob, theta, jac, ssr, dof, profile_points)
    return result


def jacobian(prob: Problem, theta: np.ndarray, rel: float = 1e-4) -> np.ndarray:
    """Finite-difference Jacobian of the weighted residuals: central inside the bounds,
    one-sided inward at a bound (step ``rel · max(1, |θ|)``)."""
    r0 = prob.residuals(theta)
    cols = []
    for k, p in enumerate(prob.params):
        h = rel * max(1.0, abs(theta[k]))
        up, down = theta.copy(), theta.copy()
        up[k], down[k] = theta[k] + h, theta[k] - h
        if up[k] > p.hi:
            cols.append((r0 - prob.residuals(down)) / h)
        elif down[k] < p.lo:
            cols.append((prob.residuals(up) - r0) / h)
        else:
            cols.append((prob.residuals(up) - prob.residuals(down)) / (2 * h))
    return np.stack(cols, axis=1)


def profiles(prob: Problem, theta: np.ndarray, jac: np.ndarray, ssr: float, dof: int,
             points: int = 5) -> dict[str, dict[str, Any]]:
    """Profile of the weighted SSR over each free parameter and each fixed one of
    :data:`PROFILED_FIXED`: the parameter is held at grid values and the free ones re-fitted.
    ``delta_ssr / s²`` below 3.84 marks values the data cannot reject (95%). Free parameters
    are profiled over ±2.5 sd around the estimate (clipped to the bounds), fixed ones over
    their whole range."""
    s2 = ssr / dof
    out: dict[str, dict[str, Any]] = {}
    names = [p.name for p in prob.params]
    sd = np.sqrt(np.maximum(np.diag(s2 * np.linalg.pinv(jac.T @ jac)), 0.0))
    for target in (*prob.params, *PROFILED_FIXED):
        if target.name in names:
            i = names.index(target.name)
            centre = float(theta[i])
            half = 2.5 * sd[i] if np.isfinite(sd[i]) and sd[i] > 0 else (target.hi - target.lo) / 8
            grid = np.linspace(max(target.lo, centre - half), min(target.hi, centre + half),
                               points)
            others = tuple(p for p in prob.params if p.name != target.name)
            start = np.delete(theta, i)
        else:
            grid = np.linspace(target.lo, target.hi, points)
            others, start = prob.params, theta
        sub = Problem.__new__(Problem)
        sub.__dict__.update(prob.__dict__)
        sub.params, sub.fixed = others, {target.name: 0.0}
        delta = []
        for g in grid:
            sub.fixed = {target.name: float(g)}
            res = sub.solve(start, max_nfev=40)
            delta.append(float(np.sum(res.fun ** 2)) - ssr)
        delta_arr = np.asarray(delta) / s2
        out[target.name] = {
            "grid": [float(g) for g in grid], "delta_ssr_over_s2": [float(d) for d in delta_arr],
            "fixed_in_fit": target.name not in names,
            "not_rejected_range": not_rejected(grid, delta_arr),
            "flat": bool(np.all(delta_arr < 3.84)),
        }
    return out


def not_rejected(grid: np.ndarray, delta: np.ndarray, level: float = 3.84) -> list[float] | None:
    """The range of the grid where the profile stays below ``level``, with its ends
    interpolated linearly to the crossings (the grid's ends if it never crosses)."""
    ok = np.flatnonzero(delta < level)
    if not ok.size:
        return None
    i, j = int(ok.min()), int(ok.max())

    def cross(a: int, b: int) -> float:
        w = (level - delta[a]) / (delta[b] - delta[a])
        return float(grid[a] + w * (grid[b] - grid[a]))

    lo = cross(i, i - 1) if i > 0 else float(grid[0])
    hi = cross(j, j + 1) if j < len(grid) - 1 else float(grid[-1])
    return [lo, hi]


# ----------------------------------------------------------------------------- identifiability


def identifiability(f: Fit) -> dict[str, Any]:
    """Correlations, singular values of the Jacobian with columns scaled by each parameter's
    bound width (dimensionless), condition number, and the weakest direction."""
    corr = correlation(f.cov)
    widths = np.array([p.hi - p.lo for p in f.params])
    _, sv, vt = np.linalg.svd(f.jac * widths, full_matrices=False)
    weakest = vt[-1] / np.abs(vt[-1]).max()
    off = np.abs(corr - np.eye(len(corr)))
    return {
        "correlation": [[float(c) for c in row] for row in corr],
        "singular_values_scaled": [float(s) for s in sv],
        "condition_number": float(sv[0] / sv[-1]) if sv[-1] > 0 else None,
        "weakest_direction": {p.name: float(w) for p, w in zip(f.params, weakest, strict=True)},
        "max_abs_correlation": float(np.max(off)),
    }


def correlation(cov: np.ndarray) -> np.ndarray:
    sd = np.sqrt(np.maximum(np.diag(cov), 0.0))
    safe = np.where(sd > 0, sd, 1.0)
    return cov / np.outer(safe, safe)


def key_name(key: tuple[str, str]) -> str:
    return f"{key[0]}:{key[1]}"


def fit_table(f: Fit) -> dict[str, Any]:
    """RMSE per series (natural units) with the constant-mean in-sample baseline."""
    out = {}
    for key in ob.SERIES:
        o, p = f.observed[key], f.fitted[key]
        const = np.full_like(o, o.mean())
        out[key_name(key)] = {
            "unit": "ideal-point distance" if key[0] == ob.DISTANCE else "USD bn",
            "rmse": float(np.sqrt(np.mean((p - o) ** 2))),
            "rmse_constant_mean": float(np.sqrt(np.mean((const - o) ** 2))),
            "weight_sd_stage1": f.sigma[key],
            "residual_sd": f.resid_sd[key],
            "residual_sd_unit": "ideal-point distance" if key[0] == ob.DISTANCE else "log",
            "years": [int(y) for y in f.years],
            "observed": [float(v) for v in o],
            "fitted": [float(v) for v in p],
        }
    return out


def report(f: Fit, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    sd = f.sd
    params = []
    for p, v, s in zip(f.params, f.theta, sd, strict=True):
        at = "lower" if np.isclose(v, p.lo, atol=1e-6) else (
            "upper" if np.isclose(v, p.hi, atol=1e-6) else None)
        params.append({
            "name": p.name, "estimate": float(v), "sd": float(s),
            "ci95": [float(max(p.lo, v - 1.96 * s)), float(min(p.hi, v + 1.96 * s))],
            "bounds": [p.lo, p.hi], "at_bound": at, "why": p.why,
            "sets": {f"mechanisms.{g}.{k}": float(fac * v) for g, k, fac in p.sets},
        })
    return {
        "data_through": int(f.years.max()),
        "years": [int(y) for y in f.years],
        "free_parameters": params,
        "covariance": [[float(c) for c in row] for row in f.cov],
        "identifiability": identifiability(f),
        "profiles": f.profiles,
        "fixed_parameters": {p.name: p.start for p in PROFILED_FIXED},
        "observation": {"d_half": f.obs_params.d_half, "base_year": f.obs_params.base_year,
                        "trade_growth": f.obs_params.trade_growth,
                        "residual_sd": {key_name(k): v for k, v in f.resid_sd.items()},
                        "residual_sd_note": "measurement noise per series: RMSE of the fit, "
                                            "ideal-point units for distances, logs for trade"},
        "fit": fit_table(f),
        "weighted_ssr": f.ssr, "dof": f.dof, "nfev": f.nfev,
        "method": "scipy.optimize.least_squares (trf), deterministic run with noise off; "
                  "two-stage weights (residual sd per series); covariance s^2 (J'J)^-1",
        **(extra or {}),
    }


# ----------------------------------------------------------------------------- files


def _fmt(v: float) -> str:
    """A TOML float literal with 6 significant digits (``0.0``, not ``0``)."""
    text = f"{float(v):.6g}"
    return text if any(c in text for c in ".en") else text + ".0"


def fragment_toml(f: Fit, source: str) -> str:
    """The ``[mechanisms]`` fragment with a cite on every value."""
    rmse = ", ".join(f"{k[1]} {'dist' if k[0] == ob.DISTANCE else 'trade'} "
                     f"{f.rmse(k):.3g}" for k in ob.SERIES)
    lines = [
        "# Calibrated mechanisms, written by `sim calibrate` from outcome data through "
        f"{int(f.years.max())} only",
        f"# ({int(f.years.min())}-{int(f.years.max())}; history scenario {source}).",
        "# A fragment, not a scenario: merge it on top of one with sim.calibrate.load_calibrated,",
        '# or write extends = "<path to this file>" in a full scenario (validated after merging).',
        "# Observation parameters (not scenario keys) are in report.json: "
        f"trade_growth = {_fmt(f.obs_params.trade_growth)} per year.",
        f"# RMSE: {rmse} (distance units; trade USD bn).",
        "",
    ]
    groups: dict[str, list[str]] = {}
    for p, v, s in zip(f.params, f.theta, f.sd, strict=True):
        bound = ("lower" if v == p.lo else "upper" if v == p.hi else None)
        note = f", at its {bound} bound" if bound else ""
        prof = f.profiles.get(p.name, {}).get("not_rejected_range")
        if prof:
            note += f", profile 95% range {_fmt(prof[0])} .. {_fmt(prof[1])}"
        for group, key, factor in p.sets:
            cite = (f"sim calibrate on data through {int(f.years.max())}: {p.name} = "
                    f"{_fmt(v)} +/- {_fmt(s)} (1 sd, Jacobian covariance{note})"
                    + (f", times {factor:g}" if factor != 1.0 else "") + f"; RMSE {rmse}")
            groups.setdefault(group, []).append(
                f'{key} = {{ value = {_fmt(factor * v)}, cite = "{cite}" }}')
    for group, entries in groups.items():
        lines += [f"[mechanisms.{group}]", *entries, ""]
    return "\n".join(lines)


def load_calibrated(history: Path | str = HISTORY,
                    fragment: Path | str = CALIBRATION / FRAGMENT) -> ScenarioSpec:
    """The history scenario with the calibrated ``[mechanisms]`` fragment merged on top."""
    fragment = Path(fragment)
    if not fragment.is_file():
        raise FileNotFoundError(f"{fragment}: no calibrated mechanisms; run `sim calibrate` first")
    over = tomllib.loads(fragment.read_text(encoding="utf-8"))
    return load_scenario(history, overrides=over)


def _shown(folder: Path) -> str:
    """A folder as shown in reports: relative to the working directory when possible."""
    try:
        return os.path.relpath(folder.resolve())
    except ValueError:  # another drive (Windows)
        return str(folder)


def _hash(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def calibrate(history_path: Path | str = HISTORY, out_path: Path | str = OUT,
              force: bool = False, data: Path | str | None = None,
              last_year: int = ob.CALIBRATION_END, profile: bool = True,
              quiet: bool = True) -> dict[str, Any]:
    """Fit :data:`FREE` to the outcome series through ``last_year`` (<= 2019) and write
    ``mechanisms_2019.toml``, ``report.json`` and ``manifest.json`` into ``out_path``."""
    t0 = time.perf_counter()
    history_path, out_path = Path(history_path), Path(out_path)
    check_target(out_path, force)
    spec = load_scenario(history_path)
    history_path = Path(_shown(history_path))  # as recorded: relative when possible
    folder = Path(data) if data is not None else ob.data_dir()
    observed = ob.load_observed(folder, last_year=last_year)
    f = fit(spec, observed, last_year=last_year, profile=profile)
    files = {name: _hash(folder / name) for name in (ob.IDEALPOINT_FILE, ob.TRADE_FILE)}
    rep = report(f, {"history": str(history_path), "data_dir": _shown(folder),
                     "data_files": files, "time_s": round(time.perf_counter() - t0, 2)})
    with atomic_folder(out_path, force) as tmp:
        (tmp / FRAGMENT).write_text(fragment_toml(f, str(history_path)), encoding="utf-8")
        (tmp / REPORT).write_text(json.dumps(rep, indent=2) + "\n", encoding="utf-8")
        info = {"kind": "calibrate", "history": str(history_path), "last_year": last_year,
                "seed": None, "data_dir": _shown(folder)}
        write_manifest(tmp, manifest([history_path], [], info,
                                     [FRAGMENT, REPORT, "manifest.json"]))
    if not quiet:
        print_summary(rep, out_path)
    return rep


def print_summary(rep: dict[str, Any], out: Path) -> None:
    print(f"wrote {out}/ (data through {rep['data_through']}, {rep['time_s']} s)")
    for p in rep["free_parameters"]:
        flag = f"  [at {p['at_bound']} bound]" if p["at_bound"] else ""
        print(f"  {p['name']:<34} {p['estimate']:+.4f} +/- {p['sd']:.4f}{flag}")
    for key, row in rep["fit"].items():
        print(f"  RMSE {key:<40} {row['rmse']:.4g}  "
              f"(constant mean {row['rmse_constant_mean']:.4g})")
    ident = rep["identifiability"]
    print(f"  condition number {ident['condition_number']:.3g}, max |correlation| "
          f"{ident['max_abs_correlation']:.2f}")
