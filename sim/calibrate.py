"""Bayesian calibration of the stochastic model on history through 2019 (``sim calibrate``).

**Target.** The posterior of a parameter vector ``θ = (θ_M, θ_O)``: model parameters ``θ_M``
(registered names, :mod:`sim.params`, e.g. ``anchor.bias``) and observation parameters ``θ_O``
of the channels (:mod:`sim.observation`, ``<channel>.<key>``: loadings, intercepts, noises),

    p(θ | y) ∝ p(θ) · p(y | θ),    p(y | θ) = ∫ Π_c p_c(y_c | X, θ_O) p(X | θ_M) dX,

where ``X`` is a run of the history scenario (2010-01 driven by the recorded events), ``c``
ranges over the observation channels and ``y_c`` are their observations from the history's
first year to 2019 (never later: :data:`LAST_YEAR`; each channel raises for later rows).

**Simulated likelihood with common random numbers.** ``p(y | θ)`` has no closed form (the
relations carry monthly noise), so it is estimated by Monte Carlo over ``K`` replicate runs,

    p̂(y | θ) = (1/K) Σ_k Π_c p_c(y_c | X_k(θ), θ_O),
    log p̂ = logsumexp_k(ℓ_k) − log K,    ℓ_k = Σ_c w_c · Channel.loglik(X_k(θ), θ),

the *simulated likelihood* of Lerman & Manski (1981) and McFadden (1989), also the estimator
inside pseudo-marginal MCMC (Andrieu & Roberts 2009). Replicate ``k`` uses the random
streams of run ``k`` of the calibration seed for *every* θ (common random numbers; Glasserman
& Yao 1992): ``p̂`` is then a smooth, deterministic function of θ, so an ordinary MCMC sampler
targets ``p(θ) p̂(y | θ)`` exactly and reproducibly. The price is a fixed Monte-Carlo error in
``p̂`` (Jensen: log-mean-exp is biased low by about ``Var(ℓ_k)/(2K)`` where ``ℓ`` is nearly
Gaussian); it is reported (``loglik_mc_sd``: the spread of the ``ℓ_k`` at the posterior mean)
so a reader can judge ``K``. ``w_c`` = 1/(channels of c's family): the three UN-vote channels
measure the same roll calls, so together they count once (a power likelihood; Bissiri, Holmes &
Walker 2016; :func:`family_weights`).

**Sampler.** ``emcee`` (Foreman-Mackey et al. 2013), the affine-invariant ensemble sampler of
Goodman & Weare (2010): it needs no gradient and no tuning beyond the number of walkers, its
moves use the ensemble's own spread (parameters of very different scales need no rescaling),
and with ``vectorize=True`` it hands us a whole half-ensemble of proposals at once. Every such
call is ONE batched :func:`sim.engine.simulate` of ``walkers/2 × K`` runs (the engine takes one
value per run for any registered parameter), which is what makes a 10-minute calibration
possible. Proposals: :data:`MOVES` (differential evolution; the stretch move alone accepted 20%
and drifted in 36 dimensions). The walkers start as draws from a Laplace approximation at the
posterior mode (:func:`laplace`: L-BFGS-B with batched finite-difference gradients, then a
finite-difference Hessian), and the first :attr:`Settings.burn` steps are discarded.
Diagnostics: acceptance fraction, integrated autocorrelation time (emcee's
``get_autocorr_time`` with ``tol=0``, Sokal 1997) and the number of effective samples, and the
split-R̂ of Gelman et al. (2013, BDA3 §11.4) with each walker as a chain (an optimistic check:
walkers of an ensemble are not independent).

*Alternatives considered.* ABC-SMC (``pyabc``; Toni et al. 2009, Klinger et al. 2018) needs
summary statistics and a tolerance schedule, discards the channels' explicit observation
models (binomial votes, beta-binomial event counts, log-normal trade) and typically needs
1e5-1e6 simulations; the Gaussian synthetic likelihood (Wood 2010; Price et al. 2018) needs
summary statistics that are close to Gaussian and ``n`` ≈ 50-200 runs per θ to estimate their
covariance. Our channels give an exact conditional likelihood ``p(y | X, θ_O)``, so averaging it
over runs (what both of these approximate) is direct, uses all observations, and needs only
``K`` = 4 runs per θ because the relations' noise is small next to the measurement noise.

**Priors** (:func:`priors`): model parameters from :data:`MODEL_PRIORS` (each with a source,
in the registry's documented plausible range where there is one); observation parameters from
each channel's :class:`ObsParam` prior. All are *sampled* (not profiled): the channels'
observation models are mostly not linear-Gaussian (binomial, beta-binomial, log-normal with
covariates), and emcee's affine invariance copes with the extra dimensions.

**Outputs** (:func:`calibrate`, written atomically with ``manifest.json``):
``posterior.csv.gz`` (one row per retained sample: every sampled parameter, ``loglik``,
``logprior``, ``walker``, ``step``), ``report.json`` (priors, posterior summaries, contraction
``1 − var_post/var_prior`` per parameter, diagnostics, posterior predictive checks of levels,
year-on-year changes and lag-1 autocorrelation per channel with posterior predictive
p-values), ``mechanisms_2019.toml`` (posterior means of the model parameters as a
``[mechanisms]`` fragment with cites), ``trace.png``, ``marginals.png`` and
``ppc_<channel>.png``.

Same history, data, settings and seed → the same posterior, bit for bit.
"""

from __future__ import annotations

import json
import math
import os
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import logsumexp

from sim import resources
from sim.output import UserError, atomic_folder, check_target, manifest, write_manifest
from sim.spec import ScenarioSpec, load_scenario
from sim.world import World

HISTORY = resources.history_scenario()
"""The shipped history scenario (January 2010, driven by the recorded events)."""
CALIBRATION = resources.calibration_dir()
"""The shipped calibration, read by default (:func:`load_posterior`, :func:`load_calibrated`)."""
OUT = resources.default_calibration_out()
"""Where :func:`calibrate` writes by default: the checkout's ``calibration/`` in a checkout,
else ``outputs/calibration`` (never into an installed package)."""
FRAGMENT = "mechanisms_2019.toml"
REPORT = "report.json"
POSTERIOR = resources.POSTERIOR
LAST_YEAR = 2019
"""Last year of observations the calibration may use."""
EXTRA_COLUMNS = ("loglik", "logprior", "walker", "step")
"""Columns of ``posterior.csv.gz`` besides the parameters."""
PPC_TAG = 0xC0FFEE
"""Spawn-key tag of the posterior predictive draws (runs use one-element keys ``(i,)``)."""
INIT_TAG = 0x1417
"""Spawn-key tag of the initial walker positions."""


# ----------------------------------------------------------------------------- priors


@dataclass(frozen=True)
class Prior:
    """A prior: ``dist`` "normal" (``a`` = mean, ``b`` = sd), "halfnormal" (``a`` = 0, ``b`` =
    sd) or "uniform" (``a`` = lo, ``b`` = hi), truncated to ``[lo, hi]`` (the parameter's
    allowed range, or narrower); ``source``: why."""

    name: str
    dist: str
    a: float
    b: float
    lo: float
    hi: float
    source: str
    observation: bool = False
    start: float | None = None
    """Where the walkers start (the scenario's value, the channel's default); None: the prior
    median."""

    def frozen(self) -> Any:
        """The scipy distribution (truncated normal, or uniform on ``[max(a, lo), min(b, hi)]``).
        Raises ValueError for an unknown ``dist`` or an empty support."""
        if self.dist == "uniform":
            lo, hi = max(self.a, self.lo), min(self.b, self.hi)
            if not lo < hi:
                raise ValueError(f"{self.name}: empty uniform prior [{lo}, {hi}]")
            return stats.uniform(loc=lo, scale=hi - lo)
        if self.dist in ("normal", "halfnormal"):
            mu = 0.0 if self.dist == "halfnormal" else self.a
            lo = max(self.lo, 0.0) if self.dist == "halfnormal" else self.lo
            return stats.truncnorm((lo - mu) / self.b, (self.hi - mu) / self.b, loc=mu,
                                   scale=self.b)
        raise ValueError(f"{self.name}: unknown prior {self.dist!r}; expected normal, "
                         "halfnormal or uniform")

    @property
    def support(self) -> tuple[float, float]:
        d = self.frozen()
        return float(d.ppf(0.0)), float(d.ppf(1.0))

    def text(self) -> str:
        """``Normal(0.76, 0.3) on [0.05, 1.95]`` and the like."""
        lo, hi = (0.0 if abs(v) < 1e-12 else v for v in self.support)  # ppf round-off
        if self.dist == "uniform":
            return f"Uniform({lo:g}, {hi:g})"
        head = "HalfNormal(" + f"{self.b:g})" if self.dist == "halfnormal" else \
            f"Normal({self.a:g}, {self.b:g})"
        return f"{head} on [{lo:g}, {hi:g}]"


@dataclass(frozen=True)
class ModelPrior:
    """A model parameter's prior before the registry's allowed range is known."""

    name: str
    dist: str
    a: float
    b: float
    source: str


MODEL_PRIORS: tuple[ModelPrior, ...] = (
    ModelPrior("anchor.bias", "normal", 0.0, 1.0,
               "weakly informative, centred on no tilt: the latent anchor at average inputs; "
               "±2 sd is the registered range [-2, 2] (tanh 2 = 0.96)"),
    ModelPrior("anchor.w_ideology", "halfnormal", 0.0, 1.0,
               "ideal-point affinity raises the anchor (SCIENCE.md §3): a non-negative weight "
               "per sd of the standardised input, half-normal sd 1 (a 2-sd gap in affinity "
               "then moves the anchor by about 2 latent units at most)"),
    ModelPrior("anchor.w_alliance", "halfnormal", 0.0, 0.5,
               "a defence pledge raises the anchor (treaty coding ATOP v5.1); non-negative, "
               "half-normal sd 0.5: secondary to ideology (sim/params.py META)"),
    ModelPrior("anchor.w_trade", "halfnormal", 0.0, 0.25,
               "interdependence restraint (SCIENCE.md §3); non-negative, half-normal sd 0.25: "
               "secondary input (sim/params.py META), registered range [0, 1]"),
    ModelPrior("anchor.rate", "uniform", 0.005, 0.15,
               "the registry's plausible range 0.005-0.15 per month (half-lives of 4.6 to 139 "
               "months; sim/params.py PLAUSIBLE)"),
    ModelPrior("events.shock_scale", "halfnormal", 0.0, 0.1,
               "latent change per 10 Goldstein points; non-negative (hostile events lower "
               "relations by construction), half-normal sd 0.1 (default 0.1 at 1 sd)"),
    ModelPrior("noise.sigma", "halfnormal", 0.0, 0.05,
               "sd of the monthly latent noise; half-normal sd 0.05 (default 0.01): at 0.1 a "
               "year's noise alone moves z by 0.35, more than the UN-distance data show"),
    ModelPrior("trade.elasticity_one_year", "normal", 0.76, 0.3,
               "Boehm, Levchenko & Pandalai-Nayar 2023 (AER): about 0.76 after one year; sd "
               "0.3 covers their confidence band and the short-run estimates of Fajgelbaum "
               "et al. 2020"),
)
"""Model parameters the 2010-2019 channels can speak to, with priors and their sources.
Each must be a registered float parameter of the history scenario (:func:`priors` checks)."""


def priors(spec: ScenarioSpec, channels: Mapping[str, Any],
           model: Sequence[ModelPrior] = MODEL_PRIORS) -> list[Prior]:
    """The priors of every sampled parameter: ``model`` (truncated to the registered allowed
    range) then each channel's observation parameters (their ``ObsParam.prior`` on
    ``[lo, hi]``). Raises UserError for a model parameter the scenario does not register."""
    from sim.params import get, registry

    reg = registry(spec)
    out = []
    for m in model:
        p = reg.get(m.name)
        if p is None or p.kind != "float":
            raise UserError(f"{m.name}: calibrated parameter not a registered number of "
                            f"{spec.scenario.name}; expected one of `sim params`")
        lo = -math.inf if p.lo is None else (np.nextafter(p.lo, np.inf) if p.lo_open else p.lo)
        hi = math.inf if p.hi is None else (np.nextafter(p.hi, -np.inf) if p.hi_open else p.hi)
        other = p.constraint[2:].strip() if p.constraint[:1] in "≤≥" else ""
        if other in reg and other not in {q.name for q in model}:  # a rule between parameters
            bound = float(get(spec, other))  # (e.g. one-year elasticity ≤ long-run)
            lo, hi = (lo, min(hi, bound)) if p.constraint[0] == "≤" else (max(lo, bound), hi)
        out.append(Prior(m.name, m.dist, m.a, m.b, float(lo), float(hi), m.source,
                         start=float(get(spec, m.name))))
    for ch in channels.values():
        for op in ch.params:
            dist, a, b = op.prior
            out.append(Prior(op.name, dist, float(a), float(b), float(op.lo), float(op.hi),
                             op.why, observation=True, start=float(op.default)))
    return out


def log_prior(pri: Sequence[Prior], theta: np.ndarray) -> np.ndarray:
    """``(W,)`` log prior density of ``theta`` ``(W, D)`` (−inf outside a support)."""
    theta = np.atleast_2d(theta)
    out = np.zeros(theta.shape[0])
    for j, p in enumerate(pri):
        out += p.frozen().logpdf(theta[:, j])
    return np.where(np.isnan(out), -np.inf, out)


def prior_draws(pri: Sequence[Prior], n: int, rng: np.random.Generator) -> np.ndarray:
    """``(n, D)`` independent draws from the priors."""
    return np.column_stack([p.frozen().rvs(size=n, random_state=rng) for p in pri])


# ----------------------------------------------------------------------------- likelihood


class ChannelLike(Protocol):
    """What the calibration needs of an observation channel (:mod:`sim.observation`)."""

    name: str
    params: tuple[Any, ...]

    def observed(self, first: int, last: int = LAST_YEAR) -> pd.DataFrame: ...

    def loglik(self, view: Any, theta: Mapping[str, Any], first: int, last: int
               ) -> np.ndarray: ...

    def simulate(self, view: Any, theta: Mapping[str, Any], rng: np.random.Generator
                 ) -> np.ndarray: ...


def family_weights(channels: Mapping[str, Any]) -> dict[str, float]:
    """Weight ``1/m`` of each channel whose family (``Channel.family``: the raw data it
    measures) has ``m`` channels: channels of one family (the three UN-vote channels) measure
    the same roll calls, so together they count as one source (a power likelihood, Bissiri,
    Holmes & Walker 2016). A channel without a family counts fully."""
    fam = {n: getattr(ch, "family", None) or n for n, ch in channels.items()}
    size = {f: sum(1 for g in fam.values() if g == f) for f in fam.values()}
    return {n: 1.0 / size[f] for n, f in fam.items()}


def months_through(start: str, last_year: int) -> int:
    """Monthly steps from ``start`` (YYYY-MM) to the end of December ``last_year``."""
    y, m = (int(v) for v in start.split("-"))
    return 12 * (last_year + 1 - y) - (m - 1)


def default_channels() -> dict[str, ChannelLike]:
    """The registered observation channels (:data:`sim.observation.CHANNELS`)."""
    from sim.observation import CHANNELS

    return dict(CHANNELS)


def default_view(traj: Any) -> Any:
    """The channels' view of a trajectory (:class:`sim.observation.SimView`)."""
    from sim.observation import SimView

    make = getattr(SimView, "from_trajectory", None)
    return make(traj) if make is not None else SimView(traj)


class Likelihood:
    """The simulated log-likelihood ``log p̂(y | θ)`` of the channels on the history.

    ``names``: the sampled parameters (model ones are those ``model`` lists, the rest go to the
    channels); ``replicates``: ``K`` runs per θ, runs ``0 .. K-1`` of ``seed`` for every θ
    (common random numbers). The history is cut at the end of ``last`` (≤ 2019). ``weights``:
    each channel's power in ``ℓ_k = Σ_c w_c log p_c`` (default :func:`family_weights`)."""

    def __init__(self, spec: ScenarioSpec, channels: Mapping[str, ChannelLike],
                 names: Sequence[str], model: Sequence[str], replicates: int, seed: int,
                 last: int = LAST_YEAR, view: Callable[[Any], Any] = default_view,
                 weights: Mapping[str, float] | None = None) -> None:
        if last > LAST_YEAR:
            raise ValueError(f"last year {last} is after {LAST_YEAR}")
        world = World.from_spec(spec)
        months = months_through(world.start, last)
        if months < 1:
            raise ValueError(f"history starts {world.start}, after {last}")
        self.world = replace(world, months=min(months, world.months))
        self.first, self.last = int(world.start[:4]), last
        self.channels, self.names = dict(channels), list(names)
        self.model = [n for n in self.names if n in set(model)]
        self.replicates, self.seed, self.view = int(replicates), int(seed), view
        self.weights = family_weights(self.channels) if weights is None else dict(weights)
        self.calls = 0

    def simulate(self, theta: np.ndarray, runs: np.ndarray) -> Any:
        """The trajectory of runs ``runs`` with row ``r`` at ``theta[r]``."""
        from sim.engine import simulate

        params = {n: theta[:, self.names.index(n)] for n in self.model}
        return simulate(self.world, self.seed, runs, params=params)

    def theta_map(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        return {n: theta[:, j] for j, n in enumerate(self.names)}

    def per_replicate(self, theta: np.ndarray) -> np.ndarray:
        """``(W, K)`` log-likelihood of each replicate run at each row of ``theta`` ``(W, D)``
        (NaN becomes −inf)."""
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        w, k = theta.shape[0], self.replicates
        rows = np.repeat(theta, k, axis=0)
        traj = self.simulate(rows, np.tile(np.arange(k), w))
        view, th = self.view(traj), self.theta_map(rows)
        ll = np.zeros(w * k)
        for name, ch in self.channels.items():
            ll += self.weights[name] * np.asarray(ch.loglik(view, th, self.first, self.last),
                                                  dtype=float)
        self.calls += 1
        return np.where(np.isnan(ll), -np.inf, ll).reshape(w, k)

    def __call__(self, theta: np.ndarray) -> np.ndarray:
        """``(W,)`` ``log p̂(y | θ) = logsumexp_k ℓ_k − log K``."""
        return log_mean_exp(self.per_replicate(theta))


def log_mean_exp(ll: np.ndarray) -> np.ndarray:
    """``log(mean(exp(ll), axis=-1))`` without overflow (−inf rows stay −inf)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = logsumexp(ll, axis=-1) - math.log(ll.shape[-1])
    return np.where(np.isnan(out), -np.inf, out)


class Posterior:
    """``log p(θ) + log p̂(y | θ)`` for emcee's vectorised calls: ``(W, D) -> (W,)`` with blobs
    ``(loglik, logprior)``; rows outside the prior's support are not simulated."""

    def __init__(self, pri: Sequence[Prior], like: Callable[[np.ndarray], np.ndarray]) -> None:
        self.pri, self.like = list(pri), like

    def __call__(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        theta = np.atleast_2d(theta)
        lp = log_prior(self.pri, theta)
        ll = np.full(theta.shape[0], -np.inf)
        ok = np.isfinite(lp)
        if ok.any():
            ll[ok] = self.like(theta[ok])
        return lp + ll, ll, lp


# ----------------------------------------------------------------------------- sampling


@dataclass(frozen=True)
class Settings:
    """Sampler settings: ``walkers`` (even, ≥ 2·dimensions), ``steps`` per walker, ``burn``
    steps discarded (default half), ``thin`` (default: every 20th step, or fewer so that at most
    :data:`KEPT_STEPS` steps per walker are kept: a long chain does not make the shipped file
    grow), ``replicates`` K runs per θ, ``seed``, ``ppc_draws`` posterior rows for the
    predictive checks."""

    walkers: int = 80
    steps: int = 12000
    replicates: int = 4
    seed: int = 2010
    burn: int | None = 500
    thin: int | None = None
    ppc_draws: int = 400
    laplace_iter: int = 100
    """L-BFGS-B iterations of the start (:func:`laplace`); 0: start at the defaults."""

    @property
    def burn_in(self) -> int:
        return self.steps // 2 if self.burn is None else min(self.burn, self.steps // 2)

    @property
    def thinning(self) -> int:
        """Every how many steps a sample is kept (``thin``, else the default above)."""
        if self.thin is not None:
            return self.thin
        return max(20, math.ceil((self.steps - self.burn_in) / KEPT_STEPS))


KEPT_STEPS = 100
"""Steps per walker kept after burn-in by default (80 walkers: 8,000 posterior rows)."""


QUICK = Settings(walkers=0, steps=6, replicates=2, burn=2, thin=1, ppc_draws=8, laplace_iter=0)
"""``--quick``: a few steps to check the machinery (walkers = 2·D + 2 when 0)."""


def settings_for(quick: bool = False, **given: int | None) -> Settings:
    """:data:`QUICK` or the default :class:`Settings`, with the values ``given`` that are not
    None (``steps``, ``walkers``, ``replicates``, ``seed`` ...)."""
    return replace(QUICK if quick else Settings(),
                   **{k: v for k, v in given.items() if v is not None})


@dataclass
class Chain:
    """What the sampler returns: ``chain`` ``(S, W, D)``, ``loglik``/``logprior`` ``(S, W)``,
    per-walker acceptance fractions, and the settings used."""

    names: list[str]
    chain: np.ndarray
    loglik: np.ndarray
    logprior: np.ndarray
    acceptance: np.ndarray
    settings: Settings
    walkers: int
    seconds: float
    start: dict[str, Any] = field(default_factory=dict)


def _bounds(pri: Sequence[Prior]) -> tuple[np.ndarray, np.ndarray]:
    """Inner bounds of the priors' supports (a thousandth of a finite width inside)."""
    lo, hi = (np.array(v, dtype=float) for v in zip(*(p.support for p in pri), strict=True))
    width = hi - lo
    fin = np.isfinite(width)
    return np.where(fin, lo + 1e-3 * width, lo), np.where(fin, hi - 1e-3 * width, hi)


def _gradient_points(theta: np.ndarray, h: np.ndarray, lo: np.ndarray, hi: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``θ, θ + h_j e_j, θ − h_j e_j`` (kept within ``[lo, hi]``) and the actual
    ``(up − down)`` step of each coordinate."""
    d = len(theta)
    up = np.minimum(theta + h, hi)
    down = np.maximum(theta - h, lo)
    pts = np.repeat(theta[None], 2 * d + 1, axis=0)
    pts[1 + np.arange(d), np.arange(d)] = up
    pts[1 + d + np.arange(d), np.arange(d)] = down
    return pts, up - down


def _value_and_gradient(post: Posterior, theta: np.ndarray, h: np.ndarray, lo: np.ndarray,
                        hi: np.ndarray) -> tuple[float, np.ndarray]:
    """``log p(θ | y)`` and its central-difference gradient, from one batched call."""
    pts, step = _gradient_points(theta, h, lo, hi)
    lp = post(pts)[0]
    d = len(theta)
    grad = (lp[1:d + 1] - lp[d + 1:]) / step
    return float(lp[0]), np.where(np.isfinite(grad), grad, 0.0)


def laplace(post: Posterior, maxiter: int = 100) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """The posterior mode and a Laplace (normal) approximation of the posterior there (with
    ``maxiter = 0``: the starting values and a diagonal covariance of (0.1 prior sd)²): the mode
    by L-BFGS-B from the starting values (:attr:`Prior.start`) with central-difference
    gradients (one batched simulation per gradient: ``2D + 1`` parameter vectors), the
    covariance as the inverse of the negative finite-difference Hessian of the log posterior
    (eigenvalues floored at the prior precision, so it is positive definite). Used only to
    start the walkers close to the posterior (the sampler then corrects it). Returns
    ``(mode, covariance, info)``."""
    from scipy.optimize import minimize

    pri = post.pri
    lo, hi = _bounds(pri)
    sd = np.array([p.frozen().std() for p in pri])
    h = 1e-3 * sd
    x0 = np.clip([p.frozen().median() if p.start is None else p.start for p in pri], lo, hi)
    if maxiter == 0:
        return x0, np.diag((0.1 * sd) ** 2), {"iterations": 0, "note": "no search (quick)"}

    def fun(u: np.ndarray) -> tuple[float, np.ndarray]:  # u: θ in prior sds from x0
        v, g = _value_and_gradient(post, x0 + sd * u, h, lo, hi)
        return (-v, -g * sd) if np.isfinite(v) else (1e300, np.zeros_like(g))

    res = minimize(fun, np.zeros(len(x0)), jac=True, method="L-BFGS-B",
                   bounds=list(zip((lo - x0) / sd, (hi - x0) / sd, strict=True)),
                   options={"maxiter": maxiter})
    mode = np.clip(x0 + sd * res.x, lo, hi)
    d = len(mode)
    hess = np.empty((d, d))
    for j in range(d):  # Hessian columns: differences of gradients
        e = np.zeros(d)
        e[j] = 10 * h[j]
        a, b = np.minimum(mode + e, hi), np.maximum(mode - e, lo)
        hess[:, j] = (_value_and_gradient(post, a, h, lo, hi)[1]
                      - _value_and_gradient(post, b, h, lo, hi)[1]) / (a[j] - b[j])
    prec = -(hess + hess.T) / 2
    w, v = np.linalg.eigh(prec)
    w = np.maximum(w, 1.0 / np.max(sd) ** 2)
    cov = (v / w) @ v.T
    info = {"log_posterior_at_mode": float(-res.fun), "iterations": int(res.nit),
            "evaluations": int(res.nfev), "converged": bool(res.success),
            "message": str(res.message)}
    return mode, cov, info


def initial_positions(post: Posterior, walkers: int, seed: int, mode: np.ndarray,
                      cov: np.ndarray) -> np.ndarray:
    """``(W, D)`` draws from the Laplace approximation ``N(mode, cov)`` (:func:`laplace`),
    kept inside the priors' supports, from ``SeedSequence(seed, spawn_key=(INIT_TAG,))``:
    walkers start spread like the posterior, so the burn-in only has to correct the normal
    approximation (Foreman-Mackey et al. 2013 §4)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(INIT_TAG,)))
    lo, hi = _bounds(post.pri)
    return np.clip(rng.multivariate_normal(mode, cov, size=walkers, method="eigh"), lo, hi)


MOVES = "80% differential evolution (DEMove), 20% DE snooker (DESnookerMove)"
"""The proposal mixture: ter Braak (2006) and ter Braak & Vrugt (2008), the mixture emcee's
documentation suggests when the stretch move mixes slowly (it did here: acceptance 0.2 and
drifting walkers in 33 dimensions)."""


def moves() -> list[tuple[Any, float]]:
    """emcee moves of :data:`MOVES`."""
    import emcee

    return [(emcee.moves.DEMove(), 0.8), (emcee.moves.DESnookerMove(), 0.2)]


def sample(post: Posterior, names: Sequence[str], settings: Settings,
           progress: bool = False,
           start: tuple[np.ndarray, np.ndarray, dict[str, Any]] | None = None) -> Chain:
    """Run emcee's ensemble sampler (vectorised) from :func:`initial_positions` around the
    Laplace approximation (``start``, default :func:`laplace`), with a mixture of moves
    (:data:`MOVES`); deterministic given ``settings.seed``."""
    import emcee

    dims = len(names)
    walkers = settings.walkers or 2 * dims + 2
    walkers += walkers % 2
    if walkers < 2 * dims:
        raise UserError(f"--walkers: got {walkers}; expected at least twice the {dims} "
                        "sampled parameters")
    t0 = time.perf_counter()
    mode, cov, info = laplace(post, settings.laplace_iter) if start is None else start
    p0 = initial_positions(post, walkers, settings.seed, mode, cov)
    def rows(theta: np.ndarray) -> list[tuple[float, float, float]]:
        """emcee's vectorised form: one ``(log posterior, loglik, logprior)`` per walker."""
        return list(zip(*(a.tolist() for a in post(theta)), strict=True))

    sampler = emcee.EnsembleSampler(walkers, dims, rows, vectorize=True, moves=moves(),
                                    blobs_dtype=[("loglik", float), ("logprior", float)])
    rstate = np.random.RandomState(settings.seed % 2**32).get_state()
    sampler.run_mcmc(emcee.State(p0, random_state=rstate), settings.steps, progress=progress,
                     progress_kwargs={"desc": "calibrate", "unit": "step", "leave": False})
    blobs = sampler.get_blobs()
    return Chain(list(names), sampler.get_chain(), np.asarray(blobs["loglik"]),
                 np.asarray(blobs["logprior"]), np.asarray(sampler.acceptance_fraction),
                 settings, walkers, time.perf_counter() - t0, info)


def posterior_frame(ch: Chain) -> pd.DataFrame:
    """Retained samples (after burn-in, every ``thin``-th step), one row per walker and step,
    ordered by step then walker: the parameters, ``loglik``, ``logprior``, ``walker``,
    ``step``."""
    s = ch.settings
    steps = np.arange(min(s.burn_in, ch.chain.shape[0] - 1), ch.chain.shape[0], s.thinning)
    w = ch.chain.shape[1]
    cols: dict[str, Any] = {n: ch.chain[steps, :, j].ravel() for j, n in enumerate(ch.names)}
    cols["loglik"] = ch.loglik[steps].ravel()
    cols["logprior"] = ch.logprior[steps].ravel()
    cols["walker"] = np.tile(np.arange(w), len(steps))
    cols["step"] = np.repeat(steps, w)
    return pd.DataFrame(cols)


# ----------------------------------------------------------------------------- diagnostics


def contraction(var_post: np.ndarray, var_prior: np.ndarray) -> np.ndarray:
    """Posterior contraction ``1 − var_post / var_prior`` (Schad, Betancourt & Vasishth 2021):
    near 1 the data determine the parameter, near 0 they say nothing beyond the prior."""
    return 1.0 - np.asarray(var_post, dtype=float) / np.asarray(var_prior, dtype=float)


def split_rhat(x: np.ndarray) -> float:
    """Split-R̂ (Gelman et al. 2013, BDA3 §11.4) of ``x`` ``(S, C)``: each chain halved,
    ``sqrt(((n-1)/n·W + B/n) / W)`` with ``W`` the mean within-chain and ``B/n`` the
    between-chain variance of the half-chain means."""
    n = x.shape[0] // 2
    if n < 2:
        return float("nan")
    halves = np.concatenate([x[:n], x[n:2 * n]], axis=1)
    within = halves.var(axis=0, ddof=1).mean()
    between = n * halves.mean(axis=0).var(ddof=1)
    if within <= 0:
        return float("nan")
    return float(np.sqrt(((n - 1) / n * within + between / n) / within))


def autocorr_time(ch: Chain) -> np.ndarray:
    """Integrated autocorrelation time per parameter after burn-in (emcee, ``tol=0``)."""
    import emcee

    kept = ch.chain[ch.settings.burn_in:]
    if kept.shape[0] < 4:
        return np.full(len(ch.names), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):  # a walker that never moved
        return np.asarray(emcee.autocorr.integrated_time(kept, tol=0), dtype=float)


def summary_table(ch: Chain, post: pd.DataFrame, pri: Sequence[Prior]) -> list[dict[str, Any]]:
    """Per parameter: prior, posterior mean/sd/quantiles (5, 50, 95%), contraction, split-R̂,
    autocorrelation time and effective samples."""
    tau = autocorr_time(ch)
    kept = ch.chain[ch.settings.burn_in:]
    rows = []
    for j, p in enumerate(pri):
        v = post[p.name].to_numpy()
        d = p.frozen()
        q = np.quantile(v, [0.05, 0.5, 0.95])
        var_prior = float(d.var())
        rows.append({
            "name": p.name, "kind": "observation" if p.observation else "model",
            "prior": p.text(), "prior_mean": float(d.mean()), "prior_sd": math.sqrt(var_prior),
            "prior_source": p.source, "mean": float(v.mean()), "sd": float(v.std(ddof=1)),
            "q05": float(q[0]), "median": float(q[1]), "q95": float(q[2]),
            "contraction": float(contraction(v.var(ddof=1), var_prior)),
            "rhat": split_rhat(kept[:, :, j]),
            "autocorr_time": float(tau[j]),
            "effective_samples": float(kept.shape[0] * kept.shape[1] / tau[j])
            if np.isfinite(tau[j]) and tau[j] > 0 else None,
        })
    return rows


# ----------------------------------------------------------------------------- predictive checks


def _series(frame: pd.DataFrame) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Rows of an observed table grouped by pair (and direction when given): ``(label, row
    indices in time order, times)``."""
    keys = [c for c in ("pair", "direction", "flow", "series") if c in frame.columns]
    labels = (frame[keys].astype(str).agg(" ".join, axis=1) if keys
              else pd.Series("all", index=frame.index))
    times = frame["time"].astype(str).to_numpy()
    out = []
    for label in sorted(labels.unique()):
        rows = np.flatnonzero((labels == label).to_numpy())
        rows = rows[np.argsort(times[rows], kind="stable")]
        out.append((str(label), rows, times[rows]))
    return out


def _lag(times: np.ndarray) -> int:
    """Year-on-year lag in rows: 12 for monthly times (YYYY-MM), 1 for annual."""
    return 12 if len(times) and "-" in str(times[0]) else 1


def ppc_stats(values: np.ndarray, lag: int) -> dict[str, np.ndarray]:
    """Test statistics of series ``values`` ``(..., T)``: ``level`` (mean), ``change`` (sd of
    the year-on-year changes ``y_t − y_{t−lag}``) and ``acf1`` (lag-1 autocorrelation)."""
    v = np.asarray(values, dtype=float)
    out = {"level": v.mean(axis=-1)}
    d = v[..., lag:] - v[..., :-lag] if v.shape[-1] > lag + 1 else None
    out["change"] = d.std(axis=-1, ddof=1) if d is not None else np.full(v.shape[:-1], np.nan)
    if v.shape[-1] > 2:
        c = v - v.mean(axis=-1, keepdims=True)
        den = (c * c).sum(axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["acf1"] = (c[..., 1:] * c[..., :-1]).sum(axis=-1) / den
    else:
        out["acf1"] = np.full(v.shape[:-1], np.nan)
    return out


def ppp_value(rep: np.ndarray, obs: float) -> float | None:
    """Posterior predictive p-value ``P(T(y_rep) ≥ T(y))`` (ties count half; Gelman, Meng &
    Stern 1996): near 0 or 1 the model misses that feature."""
    rep = np.asarray(rep, dtype=float)
    rep = rep[np.isfinite(rep)]
    if not rep.size or not np.isfinite(obs):
        return None
    return float(np.mean(rep > obs) + 0.5 * np.mean(rep == obs))


def _as_rate(frame: pd.DataFrame, values: np.ndarray) -> np.ndarray:
    """Counts as shares of their trials (the scale a reader compares), values as they are."""
    if "trials" in frame.columns:
        trials = frame["trials"].to_numpy(dtype=float)
        return np.asarray(values, dtype=float) / np.where(trials > 0, trials, np.nan)
    return np.asarray(values, dtype=float)


@dataclass
class Replicated:
    """Posterior predictive replicates of one channel: the observed table and ``(S, K)``
    replicated observations at its rows."""

    channel: str
    observed: pd.DataFrame
    rep: np.ndarray


def replicate(like: Likelihood, post: pd.DataFrame, draws: int, seed: int) -> list[Replicated]:
    """``draws`` posterior rows (evenly spaced over the file), each run once with fresh random
    streams (runs ``K .. K+S-1``, disjoint from the likelihood's replicates), then each
    channel's :meth:`simulate` with ``SeedSequence(seed, spawn_key=(PPC_TAG,))``."""
    idx = np.unique(np.linspace(0, len(post) - 1, min(draws, len(post))).round().astype(int))
    theta = post.iloc[idx][like.names].to_numpy(dtype=float)
    traj = like.simulate(theta, like.replicates + np.arange(len(idx)))
    view, th = like.view(traj), like.theta_map(theta)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(PPC_TAG,)))
    out = []
    for name, ch in like.channels.items():
        obs = ch.observed(like.first, like.last).reset_index(drop=True)
        out.append(Replicated(name, obs, np.asarray(ch.simulate(view, th, rng), dtype=float)))
    return out


def ppc_table(reps: Sequence[Replicated]) -> dict[str, Any]:
    """Per channel and series: observed statistic, replicated median and 90% interval, and the
    posterior predictive p-value of the level, year-on-year change and lag-1 autocorrelation."""
    out: dict[str, Any] = {}
    for r in reps:
        obs_v = _as_rate(r.observed, r.observed["value"].to_numpy())
        rep_v = _as_rate(r.observed, r.rep)
        series = {}
        for label, rows, times in _series(r.observed):
            lag = _lag(times)
            so, sr = ppc_stats(obs_v[rows], lag), ppc_stats(rep_v[:, rows], lag)
            series[label] = {
                "first": str(times[0]), "last": str(times[-1]), "n": len(rows),
                **{k: {"observed": float(so[k]),
                       "replicated_median": float(np.nanmedian(sr[k])),
                       "replicated_90": [float(np.nanquantile(sr[k], 0.05)),
                                         float(np.nanquantile(sr[k], 0.95))],
                       "ppp": ppp_value(sr[k], float(so[k]))}
                   for k in ("level", "change", "acf1")},
            }
        out[r.channel] = series
    return out


# ----------------------------------------------------------------------------- figures


def plot_trace(ch: Chain, path: Path) -> None:
    """Walker traces of every parameter, burn-in shaded."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    d = len(ch.names)
    cols = 3
    rows = math.ceil(d / cols)
    fig = Figure(figsize=(12, 1.9 * rows + 0.6), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    every = max(1, ch.chain.shape[0] // 300)  # at most ~300 points per walker: a small file
    steps = np.arange(0, ch.chain.shape[0], every)
    for j, name in enumerate(ch.names):
        ax = axes[j]
        ax.plot(steps, ch.chain[steps, :, j], color="0.2", alpha=0.15, lw=0.6)
        ax.axvspan(0, ch.settings.burn_in, color="tab:orange", alpha=0.12, lw=0)
        ax.set_title(name, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes[d:]:
        ax.set_visible(False)
    fig.suptitle(f"emcee traces: {ch.walkers} walkers x {ch.chain.shape[0]} steps "
                 f"(every {every}; shaded: burn-in, discarded)", fontsize=10)
    fig.savefig(path, dpi=90)
    from PIL import Image  # a matplotlib dependency

    # thousands of translucent lines: a 64-colour palette keeps the file under 1 MB
    with Image.open(path) as im:
        small = im.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def plot_marginals(post: pd.DataFrame, pri: Sequence[Prior], rows: Sequence[dict[str, Any]],
                   path: Path) -> None:
    """Posterior histogram against the prior density per parameter, with the contraction."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    d = len(pri)
    cols = 4
    nrow = math.ceil(d / cols)
    fig = Figure(figsize=(13, 2.2 * nrow + 0.6), layout="constrained")
    axes = fig.subplots(nrow, cols, squeeze=False).ravel()
    for j, (p, row) in enumerate(zip(pri, rows, strict=True)):
        ax, dist = axes[j], p.frozen()
        v = post[p.name].to_numpy()
        lo = min(np.quantile(v, 0.001), dist.ppf(0.01))
        hi = max(np.quantile(v, 0.999), dist.ppf(0.99))
        grid = np.linspace(lo, hi, 200)
        ax.hist(v, bins=40, range=(lo, hi), density=True, color="tab:blue", alpha=0.6,
                label="posterior")
        ax.plot(grid, dist.pdf(grid), color="0.3", lw=1, ls="--", label="prior")
        ax.set_title(f"{p.name}\ncontraction {row['contraction']:.2f}", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_yticks([])
    axes[0].legend(fontsize=7)
    for ax in axes[d:]:
        ax.set_visible(False)
    fig.suptitle("Posterior (bars) against prior (dashed)", fontsize=10)
    fig.savefig(path, dpi=110)


def plot_ppc(r: Replicated, table: Mapping[str, Any], path: Path) -> None:
    """Observed series against the 5-95% and 25-75% bands of the replicated observations,
    one panel per series, with the p-values of the three statistics."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    groups = _series(r.observed)
    cols = min(3, len(groups))
    nrow = math.ceil(len(groups) / cols)
    fig = Figure(figsize=(4.4 * cols, 2.8 * nrow + 0.5), layout="constrained")
    axes = fig.subplots(nrow, cols, squeeze=False).ravel()
    obs_v = _as_rate(r.observed, r.observed["value"].to_numpy())
    rep_v = _as_rate(r.observed, r.rep)
    for ax, (label, rows, times) in zip(axes, groups, strict=False):
        t = np.array([_decimal_time(s) for s in times])
        q = np.nanquantile(rep_v[:, rows], [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
        ax.fill_between(t, q[0], q[4], color="tab:blue", alpha=0.18, lw=0, label="5-95%")
        ax.fill_between(t, q[1], q[3], color="tab:blue", alpha=0.3, lw=0, label="25-75%")
        ax.plot(t, q[2], color="tab:blue", lw=1)
        ax.plot(t, obs_v[rows], color="k", lw=1, marker="o" if len(t) < 30 else None, ms=3,
                label="observed")
        pv = table.get(label, {})
        text = ", ".join(f"{k} {pv[k]['ppp']:.2f}" for k in ("level", "change", "acf1")
                         if pv.get(k, {}).get("ppp") is not None)
        ax.set_title(f"{label}\nppp: {text}", fontsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=7)
    for ax in axes[len(groups):]:
        ax.set_visible(False)
    fig.suptitle(f"Posterior predictive check: {r.channel}"
                 + (" (share of trials)" if "trials" in r.observed.columns else ""), fontsize=10)
    fig.savefig(path, dpi=110)


def _decimal_time(s: str) -> float:
    parts = str(s).split("-")
    return int(parts[0]) + (int(parts[1]) - 0.5) / 12 if len(parts) > 1 else float(parts[0])


# ----------------------------------------------------------------------------- files


def _fmt(v: float) -> str:
    """A TOML float literal with 6 significant digits (``0.0``, not ``0``)."""
    text = f"{float(v):.6g}"
    return text if any(c in text for c in ".en") else text + ".0"


def fragment_toml(rows: Sequence[dict[str, Any]], history: str, last: int) -> str:
    """The ``[mechanisms]`` fragment: posterior means of the model parameters, each cited."""
    from sim.params import GROUPS

    lines = [
        f"# Calibrated mechanisms: posterior means written by `sim calibrate` (emcee, simulated "
        f"likelihood) from observations through {last} only",
        f"# (history scenario {history}). Joint posterior samples: posterior.csv.gz; summaries, "
        "diagnostics and checks: report.json.",
        "# A fragment, not a scenario: merge it on top of one with sim.calibrate.load_calibrated,",
        '# or write extends = "<path to this file>" in a full scenario (validated after merging).',
        "",
    ]
    groups: dict[str, list[str]] = {}
    for r in rows:
        group, _, key = r["name"].partition(".")
        if r["kind"] != "model" or group not in GROUPS:
            continue
        cite = (f"sim calibrate on observations through {last}: posterior mean "
                f"{_fmt(r['mean'])}, sd {_fmt(r['sd'])}, 90% interval {_fmt(r['q05'])} .. "
                f"{_fmt(r['q95'])}, contraction {r['contraction']:.2f} (calibration/"
                f"{POSTERIOR}; prior {r['prior']})")
        groups.setdefault(group, []).append(f'{key} = {{ value = {_fmt(r["mean"])}, '
                                            f'cite = "{cite}" }}')
    for group, entries in groups.items():
        lines += [f"[mechanisms.{group}]", *entries, ""]
    return "\n".join(lines)


def load_calibrated(history: Path | str = HISTORY,
                    fragment: Path | str = CALIBRATION / FRAGMENT) -> ScenarioSpec:
    """The history scenario with the calibrated ``[mechanisms]`` fragment merged on top.
    Raises FileNotFoundError if the fragment is missing."""
    fragment = Path(fragment)
    if not fragment.is_file():
        raise FileNotFoundError(f"{fragment}: no calibrated mechanisms; run `sim calibrate` first")
    over = tomllib.loads(fragment.read_text(encoding="utf-8"))
    return load_scenario(history, overrides=over)


def calibrated_names() -> list[str]:
    """The registered parameters the calibration samples (``from = "calibration"`` accepts
    these)."""
    return [m.name for m in MODEL_PRIORS]


def roles() -> dict[str, str]:
    """Registered parameter -> what the calibration does with it (for ``sim params``)."""
    return dict.fromkeys(calibrated_names(), f"sampled (Bayesian posterior, {POSTERIOR})")


def load_posterior(path: Path | str | None = None,
                   names: Sequence[str] | None = None) -> pd.DataFrame:
    """``posterior.csv.gz`` of a ``sim calibrate`` folder (or the file itself; default the shipped
    calibration). Raises :class:`UserError` (one line) if it is missing, unreadable, lacks a
    column of ``names`` (default :func:`calibrated_names`), has no rows or a non-finite value."""
    path = CALIBRATION / POSTERIOR if path is None else Path(path)
    if path.is_dir():
        path = path / POSTERIOR
    if not path.is_file():
        raise UserError(f"{path}: no posterior samples; expected {POSTERIOR} written by "
                        "`sim calibrate`")
    try:
        frame = pd.read_csv(path)
    except (ValueError, OSError) as err:
        raise UserError(f"{path}: cannot read posterior samples ({err}); expected the CSV "
                        "written by `sim calibrate`") from None
    want = list(calibrated_names() if names is None else names)
    missing = [n for n in want if n not in frame.columns]
    if missing:
        raise UserError(f"{path}: no column {missing[0]!r}; expected posterior samples of "
                        f"{', '.join(want)} (re-run `sim calibrate`)")
    if frame.empty:
        raise UserError(f"{path}: no rows; expected posterior samples (re-run `sim calibrate`)")
    vals = frame[want].to_numpy(dtype=float)
    if not np.isfinite(vals).all():
        r, c = np.argwhere(~np.isfinite(vals))[0]
        raise UserError(f"{path}: row {r + 2}, column {want[c]}: got {vals[r, c]}; expected a "
                        "finite number")
    return frame


def _shown(folder: Path) -> str:
    """A path as shown in reports: relative to the working directory when possible."""
    try:
        return os.path.relpath(Path(folder).resolve())
    except ValueError:  # another drive (Windows)
        return str(folder)


def observations_used(channels: Mapping[str, ChannelLike], first: int, last: int
                      ) -> dict[str, dict[str, Any]]:
    """Per channel: rows, first and last time of the observations the likelihood uses."""
    out = {}
    for name, ch in channels.items():
        obs = ch.observed(first, last)
        times = obs["time"].astype(str)
        out[name] = {"rows": len(obs), "first": str(times.min()), "last": str(times.max()),
                     "source": getattr(ch, "source", "")}
    return out


def calibrate(history_path: Path | str = HISTORY, out_path: Path | str = OUT,
              force: bool = False, settings: Settings | None = None,
              channels: Mapping[str, ChannelLike] | None = None, quiet: bool = True,
              progress: bool | None = None,
              last_year: int = LAST_YEAR, view: Callable[[Any], Any] = default_view,
              model: Sequence[ModelPrior] = MODEL_PRIORS) -> dict[str, Any]:
    """Sample the posterior (:func:`sample`) of :data:`MODEL_PRIORS` and the channels'
    observation parameters on the history through ``last_year`` (≤ 2019) and write
    ``posterior.csv.gz``, ``report.json``, ``mechanisms_2019.toml``, the figures and
    ``manifest.json`` into ``out_path`` atomically; ``quiet``: no summary printed, ``progress``:
    a progress bar (default: not ``quiet``). Returns the report. Raises
    :class:`UserError` for a refused output folder or a bad setting."""
    t0 = time.perf_counter()
    history_path, out_path = Path(history_path), Path(out_path)
    if last_year > LAST_YEAR:
        raise UserError(f"last year: got {last_year}; expected {LAST_YEAR} or earlier "
                        "(no observation after 2019)")
    check_target(out_path, force)
    s = settings or Settings()
    spec = load_scenario(history_path)
    chans = default_channels() if channels is None else dict(channels)
    pri = priors(spec, chans, model)
    names = [p.name for p in pri]
    like = Likelihood(spec, chans, names, [m.name for m in model], s.replicates, s.seed,
                      last_year, view)
    post_fn = Posterior(pri, like)
    ch = sample(post_fn, names, s, progress=not quiet if progress is None else progress)
    post = posterior_frame(ch)
    rows = summary_table(ch, post, pri)
    mean = np.array([[r["mean"] for r in rows]])
    ll_mean = like.per_replicate(mean)[0]
    reps = replicate(like, post, s.ppc_draws, s.seed)
    ppc = ppc_table(reps)
    shown = _shown(history_path)
    rep = {
        "method": "Bayesian posterior, simulated likelihood with common random numbers "
                  "(log-mean-exp over K replicate runs), emcee affine-invariant ensemble "
                  "sampler (differential-evolution moves, vectorised); sim/calibrate.py docstring",
        "history": shown, "first_year": like.first, "data_through": last_year,
        "months_simulated": like.world.months,
        "observations": observations_used(chans, like.first, last_year),
        "channel_weights": like.weights,
        "channel_weights_note": "power of each channel's log-likelihood: 1/m for the m channels "
                                "of one family (same raw data), so a family counts once",
        "settings": {**asdict(s), "walkers": ch.walkers, "burn_in": s.burn_in,
                     "thin": s.thinning},
        "samples": len(post),
        "moves": MOVES,
        "start": {**ch.start, "note": "walkers start as draws from the Laplace approximation "
                  "at the posterior mode (L-BFGS-B, finite-difference Hessian)"},
        "diagnostics": {
            "acceptance_fraction_mean": float(ch.acceptance.mean()),
            "acceptance_fraction_range": [float(ch.acceptance.min()),
                                          float(ch.acceptance.max())],
            "max_rhat": _nanmax([r["rhat"] for r in rows]),
            "max_autocorr_time": _nanmax([r["autocorr_time"] for r in rows]),
            "steps_after_burn_in_over_max_tau": (s.steps - s.burn_in)
            / max(_nanmax([r["autocorr_time"] for r in rows]) or 1.0, 1e-9),
            "likelihood_calls": like.calls,
            "loglik_at_posterior_mean": float(log_mean_exp(ll_mean[None])[0]),
            "loglik_mc_sd": float(np.std(ll_mean[np.isfinite(ll_mean)], ddof=1))
            if np.isfinite(ll_mean).sum() > 1 else None,
            "loglik_mc_note": "sd over the K replicate runs of the channels' log-likelihood at "
                              "the posterior mean; log-mean-exp is biased low by about "
                              "sd^2/(2K)",
        },
        "parameters": rows,
        "ppc": ppc,
        "ppc_note": "posterior predictive p-value P(T(y_rep) >= T(y)) of level (mean), change "
                    "(sd of year-on-year changes) and acf1 (lag-1 autocorrelation); shares of "
                    "trials for count channels; near 0 or 1 = the model misses that feature",
        "time_s": None,
    }
    figures = ["trace.png", "marginals.png", *(f"ppc_{r.channel}.png" for r in reps)]
    with atomic_folder(out_path, force) as tmp:
        post.to_csv(tmp / POSTERIOR, index=False, float_format="%.10g",
                    compression={"method": "gzip", "mtime": 0})  # same bytes each run
        (tmp / FRAGMENT).write_text(fragment_toml(rows, shown, last_year), encoding="utf-8")
        plot_trace(ch, tmp / "trace.png")
        plot_marginals(post, pri, rows, tmp / "marginals.png")
        for r in reps:
            plot_ppc(r, ppc[r.channel], tmp / f"ppc_{r.channel}.png")
        rep["time_s"] = round(time.perf_counter() - t0, 1)
        (tmp / REPORT).write_text(json.dumps(rep, indent=2) + "\n", encoding="utf-8")
        info = {"kind": "calibrate", "history": shown, "last_year": last_year, "seed": s.seed,
                "settings": rep["settings"]}
        write_manifest(tmp, manifest([Path(shown)], [], info,
                                     [POSTERIOR, FRAGMENT, REPORT, *figures, "manifest.json"]))
    if not quiet:
        print_summary(rep, out_path)
    return rep


def _nanmax(values: Sequence[float | None]) -> float | None:
    v = [x for x in values if x is not None and np.isfinite(x)]
    return float(max(v)) if v else None


def print_summary(rep: dict[str, Any], out: Path) -> None:
    d = rep["diagnostics"]
    print(f"wrote {out}/ ({rep['samples']} posterior samples, data {rep['first_year']}-"
          f"{rep['data_through']}, {rep['time_s']} s)")
    print(f"  acceptance {d['acceptance_fraction_mean']:.2f}, max R-hat "
          f"{d['max_rhat'] or float('nan'):.3f}, max autocorrelation time "
          f"{d['max_autocorr_time'] or float('nan'):.0f} steps")
    for r in rep["parameters"]:
        print(f"  {r['name']:<40} {r['mean']:+.4g}  90% [{r['q05']:+.4g}, {r['q95']:+.4g}]  "
              f"contraction {r['contraction']:.2f}")


__all__ = ["CALIBRATION", "FRAGMENT", "HISTORY", "LAST_YEAR", "MODEL_PRIORS", "OUT",
           "POSTERIOR", "QUICK", "REPORT", "Likelihood", "ModelPrior", "Posterior", "Prior",
           "Settings", "calibrate", "calibrated_names", "contraction", "load_calibrated",
           "load_posterior", "log_mean_exp", "log_prior", "posterior_frame", "ppc_stats",
           "ppp_value", "priors", "sample", "split_rhat", "summary_table"]
