"""The article's claims as hypotheses, each decided on an ensemble with intervals.

Every function runs paired ensembles (common random numbers: run ``i`` of every arm uses the
same random streams) and returns a small DataFrame with the estimate, its 95% interval and
the verdict. The tests in ``tests/test_hypotheses.py`` assert the verdicts; the numbers are
reported in ``docs/SCENARIOS.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.api import run
from sim.params import with_values
from sim.results import Results
from sim.spec import ScenarioSpec, load_scenario, read_toml

Z95 = 1.959963984540054
ALLIES = ("USA", "EU", "JPN")
DOSES = (0.0, 0.5, 1.0, 1.5, 2.0)
NEGLIGIBLE = 0.01  # a fall in x̄ smaller than this is "not lower" (1% of the scale's half-width)
LIMITED = 0.25  # "limited progress": less than a one-in-four chance within the year


def mean_ci(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and normal 95% interval (paired differences, shares)."""
    v = np.asarray(values, dtype=float)
    half = Z95 * v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else np.inf
    return float(v.mean()), float(v.mean() - half), float(v.mean() + half)


def wilson(successes: int, n: int) -> tuple[float, float, float]:
    """Share with its Wilson 95% interval."""
    p = successes / n
    den = 1 + Z95**2 / n
    mid = (p + Z95**2 / (2 * n)) / den
    half = Z95 * np.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / den
    return p, mid - half, mid + half


def arm(scenario: Path | str, params: Path | str | None = None,
        values: Mapping[str, Any] | None = None) -> ScenarioSpec:
    """A scenario, optionally with a mechanisms fragment (e.g. the calibrated parameters,
    ``calibration/mechanisms_2019.toml``) merged on top, then parameter ``values`` set
    (dotted names, :func:`sim.params.with_values`)."""
    extra = read_toml(Path(params)) if params is not None else {}
    return with_values(load_scenario(scenario, overrides=extra), values or {})


def pressure_dose(scenario: Path, runs: int = 400, seed: int = 1,
                  doses: tuple[float, ...] = DOSES, params: Path | None = None
                  ) -> pd.DataFrame:
    """H1 (Bremmer, ¶10-14): scale every hostile act of the US and its allies by ``dose``.

    Returns, per dose, China-Russia alignment at the horizon (mean and 95% interval), the
    paired difference from the previous dose (``step_*``) and from the first dose
    (``vs_first*``); ``holds`` is true when the step does not lower it by more than
    ``NEGLIGIBLE`` (interval lower bound above ``-NEGLIGIBLE``). :func:`pressure_dose_claims`
    states the tests in words.
    """
    rows, prev, first = [], None, None
    for dose in doses:
        spec = arm(scenario, params, {f"events.pressure_scale.{a}": dose for a in ALLIES})
        res = run(spec, runs=runs, seed=seed)
        cr = res.relation("CHN", "RUS")[:, -1]
        row = dict(zip(("dose", "chn_rus", "lo", "hi"), (dose, *mean_ci(cr)), strict=True))
        if prev is not None:
            d, lo, hi = mean_ci(cr - prev)
            row.update(step_diff=d, step_lo=lo, step_hi=hi, holds=bool(lo > -NEGLIGIBLE))
            row.update(zip(("vs_first", "vs_first_lo", "vs_first_hi"), mean_ci(cr - first),
                           strict=True))
        rows.append(row)
        prev = cr
        first = cr if first is None else first
    return pd.DataFrame(rows)


def verdict(lo: float, hi: float, above: float | None = None,
            below: float | None = None) -> str:
    """A one-sided claim decided by its 95% interval ``[lo, hi]``, in words.

    The claim is "the effect is above ``above``" (or "below ``below``"): "supported" when the
    whole interval lies on the claimed side, "not supported" when it lies wholly on the other
    side, "undetermined" when it straddles the threshold. Raises ``ValueError`` unless exactly
    one of ``above`` and ``below`` is given.
    """
    if (above is None) == (below is None):
        raise ValueError("verdict: give exactly one of above= and below=")
    if above is not None:
        return "supported" if lo > above else "not supported" if hi <= above else "undetermined"
    return "supported" if hi < below else "not supported" if lo >= below else "undetermined"


def _estimate(v: float, lo: float, hi: float, digits: int) -> str:
    return f"{v:+.{digits}f} [{lo:+.{digits}f}, {hi:+.{digits}f}]"


def pressure_dose_claims(dose: pd.DataFrame) -> pd.DataFrame:
    """H1 as the tests it is decided by, one row each, from :func:`pressure_dose`'s table:
    the claim stated as a test, the measured paired effect with its 95% interval and the
    verdict in words (:func:`verdict`). The weak (non-inferiority) form has one row per step
    up in pressure; the strong form compares the last dose with the first."""
    def x(v: float) -> str:
        return f"{v:g}×"

    rows = []
    for prev, row in zip(dose.itertuples(), dose.iloc[1:].itertuples(), strict=False):
        rows.append({
            "form": "weak (non-inferiority)",
            "claim, as tested": f"raising US/EU/JPN pressure from {x(prev.dose)} to "
                                f"{x(row.dose)} does not lower CHN–RUS alignment by more "
                                f"than {NEGLIGIBLE:g} (Δ = {x(row.dose)} − {x(prev.dose)} "
                                f"> −{NEGLIGIBLE:g})",
            "measured paired Δ [95% CI]": _estimate(row.step_diff, row.step_lo, row.step_hi, 5),
            "verdict": verdict(row.step_lo, row.step_hi, above=-NEGLIGIBLE)})
    first, last = dose.iloc[0], dose.iloc[-1]
    rows.append({
        "form": "strong",
        "claim, as tested": f"{x(last.dose)} pressure gives higher CHN–RUS alignment than "
                            f"{x(first.dose)} (Δ = {x(last.dose)} − {x(first.dose)} > 0)",
        "measured paired Δ [95% CI]": _estimate(last.vs_first, last.vs_first_lo,
                                                last.vs_first_hi, 5),
        "verdict": verdict(last.vs_first_lo, last.vs_first_hi, above=0.0)})
    return pd.DataFrame(rows)


ASKS = ("pipeline", "military_hardware", "finance_access")


def asks_within(scenario: Path, months: int = 12, runs: int = 1000, seed: int = 1,
                params: Path | None = None) -> pd.DataFrame:
    """H2 (Hess, ¶6): share of runs in which China grants each ask within ``months``.

    ``holds`` when the Wilson interval's upper bound is below ``LIMITED``
    (:func:`asks_claims` states the test in words).
    """
    res = run(arm(scenario, params), runs=runs, seed=seed)
    rows = []
    for d in res.world.decisions:
        if d.rule == "grant_ask":
            k = int((res.made[:, months, d.index] > 0).sum())
            p, lo, hi = wilson(k, runs)
            rows.append({"ask": d.params.ask, "share": p, "lo": lo, "hi": hi,
                         "holds": bool(hi < LIMITED)})
    return pd.DataFrame(rows)


def asks_claims(asks: pd.DataFrame, months: int = 12) -> pd.DataFrame:
    """H2 as tests, one row per ask, from :func:`asks_within`'s table (``months`` as passed
    there): the claim, the measured share with its Wilson 95% interval, the verdict in words."""
    return pd.DataFrame({
        "claim, as tested": [f"China grants {a.replace('_', ' ')} within {months} months in "
                             f"fewer than {LIMITED:.0%} of runs (share < {LIMITED:g})"
                             for a in asks["ask"]],
        "measured share [95% CI]": [f"{p:.3f} [{lo:.3f}, {hi:.3f}]" for p, lo, hi in
                                    zip(asks["share"], asks["lo"], asks["hi"], strict=True)],
        "verdict": [verdict(lo, hi, below=LIMITED) for lo, hi in
                    zip(asks["lo"], asks["hi"], strict=True)]})


def paired(first: Path | str, second: Path | str, runs: int = 1000, seed: int = 1,
           params: Path | None = None) -> tuple[Results, Results]:
    """Two scenarios run with the same seeds (common random numbers)."""
    return (run(arm(first, params), runs=runs, seed=seed),
            run(arm(second, params), runs=runs, seed=seed))


def tariff_effect(baseline: Path, counterfactual: Path, runs: int = 1000, seed: int = 1,
                  params: Path | None = None) -> pd.DataFrame:
    """H3 (¶11-12): the May 2024 tariffs lower US-China alignment (baseline - no tariffs).

    Paired difference of x̄(USA, CHN) at 12 months and at the horizon; ``holds`` when the
    interval's upper bound is below zero.
    """
    base, cf = paired(baseline, counterfactual, runs, seed, params)
    rows = []
    for label, step in (("12 months", 12), ("horizon", -1)):
        d, lo, hi = mean_ci(base.relation("USA", "CHN")[:, step] -
                            cf.relation("USA", "CHN")[:, step])
        rows.append({"when": label, "diff": d, "lo": lo, "hi": hi, "holds": bool(hi < 0)})
    return pd.DataFrame(rows)


def material_support(res: Results) -> np.ndarray:
    """1 where China has granted finance or military hardware by the horizon, per run."""
    made = [res.made[:, -1, d.index] > 0 for d in res.world.decisions
            if d.rule == "grant_ask" and d.params.ask in ("finance_access", "military_hardware")]
    return np.any(made, axis=0).astype(float)


def secondary_sanctions_effect(baseline: Path, enforced: Path, runs: int = 1000, seed: int = 1,
                               params: Path | None = None) -> pd.DataFrame:
    """H4: enforced secondary sanctions reduce China's material support for Russia.

    Paired difference (enforced - baseline) in the share of runs with finance or hardware
    support by the horizon, and in China-Russia alignment; ``holds`` when the support
    difference's upper bound is below zero.
    """
    base, enf = paired(baseline, enforced, runs, seed, params)
    rows = []
    d, lo, hi = mean_ci(material_support(enf) - material_support(base))
    rows.append({"outcome": "material support (finance or hardware)", "diff": d, "lo": lo,
                 "hi": hi, "holds": bool(hi < 0)})
    d, lo, hi = mean_ci(enf.relation("CHN", "RUS")[:, -1] - base.relation("CHN", "RUS")[:, -1])
    rows.append({"outcome": "CHN-RUS alignment at horizon", "diff": d, "lo": lo, "hi": hi,
                 "holds": None})
    return pd.DataFrame(rows)
