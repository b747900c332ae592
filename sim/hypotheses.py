"""The article's claims H1–H4 as hypotheses, decided on parameter draws.

Every claim is a statement about a *per-draw effect* ``e_d``: the mean, over the ``K`` runs of
parameter draw ``d``, of a paired difference between two arms (or of a share, for H2). The arms
run with the same master seed and the same draws (common random numbers extended to the
parameters: :func:`sim.uncertainty.make_design` once, :func:`sim.uncertainty.simulate_design`
for every arm). A claim

- **holds** when at least ``AGREE`` (90%) of the draws agree with it,
- **fails** when at least 90% of the draws disagree,
- is **undetermined** otherwise: the parameters we are unsure of decide it.

Each result row carries the effect statistics of :mod:`sim.effects` (mean over draws, its
Monte-Carlo 95% CI, the 90% interval across draws), the share of draws agreeing (``agree``),
the verdict, and, in :data:`OWES`, what the verdict owes to the model's own construction.
:func:`claims_table` states every test in words, one row per test. The thresholds (``NEGLIGIBLE``,
``LIMITED``) were fixed before any result was seen; nothing here is tuned to make a claim hold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.effects import Z95, effect_stats, per_draw
from sim.params import with_values
from sim.results import Results
from sim.spec import ScenarioSpec, load_scenario, read_toml
from sim.uncertainty import Design, make_design, simulate_design

AGREE = 0.9
"""A claim holds (fails) when at least this share of the parameter draws agrees (disagrees)."""
ALLIES = ("USA", "EU", "JPN")
DOSES = (0.0, 0.5, 1.0, 1.5, 2.0)
NEGLIGIBLE = 0.01  # a fall in x̄ smaller than this is "not lower" (1% of the scale's half-width)
LIMITED = 0.25  # "limited progress": less than a one-in-four chance within the year
ASKS = ("pipeline", "military_hardware", "finance_access")
DRAWS, RUNS_PER_DRAW = 100, 40
"""The design the tests and docs decide the claims on (4000 runs per arm). With 10 runs per
draw, H4's share of agreeing draws was 0.79 (Monte-Carlo noise in each draw's effect); with 40
it is 0.92: ``near`` reports how much of a verdict that noise can still reach."""

OWES = {
    "H1": "the retaliation-risk term of China's grant_ask rule rises with Western hostility "
          "toward Russia and China's trade with the West, and the expected cost of a US "
          "response rises with China's support (docs/ODD.md §7.6): counter-forces to the "
          "balance push are part of the rules' design; on the latent scale z = artanh(x) a "
          "given push moves x less the closer it is to ±1; the weak form's margin 0.01 was "
          "chosen in advance",
    "H2": "each ask's threshold is set at China's status-quo utility and its hazard there at "
          "the Jeffreys base rate of the record through 2019 (Power of Siberia 2 unsigned "
          "2015-05..2019-12, no lethal aid or finance deal 2014-2019; sim.event_history): the "
          "status-quo hazard agrees with that record by construction; what is measured is how "
          "the state's evolution and the anticipated US response move it",
    "H3": "a tariff is a hostile event by the event library's Goldstein weight (−8.0), so its "
          "sign is set by construction; what is measured is its size (event shocks on the "
          "latent z scaled by events.shock_scale, and the trade channel)",
    "H4": "China's grant utility subtracts w_E Σ_r s_r P_r: the probability P_r that each "
          "watching US escalate rule fires within H months after the grant, times its stake "
          "s_r (1 for a tariff, 1 + exposure for secondary sanctions). Higher exposure raises "
          "the stake, so the sign is built in where a US response is possible; its size and "
          "whether it deters at all depend on the US rule's own probability (0 when that rule "
          "is disabled, used up or far below its threshold) and on China's gain",
}
"""What each claim's verdict owes to the model's own construction."""

RESULT_COLUMNS = ["runs", "draws", "mean", "mc_lo", "mc_hi", "param_lo", "param_hi", "agree",
                  "near", "verdict"]
"""Columns of a decided test: :func:`sim.effects.effect_stats`, then ``agree`` (share of draws
on the claimed side), ``near`` (share of draws within their own Monte-Carlo 95% error of the
threshold: how much of the verdict more runs per draw could still move) and ``verdict``."""


# ------------------------------------------------------------------------------ deciding


def verdict(agree: float) -> str:
    """``holds`` when at least ``AGREE`` of the draws agree with a claim, ``fails`` when at
    least ``AGREE`` disagree, else ``undetermined``. Raises ``ValueError`` outside [0, 1]."""
    if not 0.0 <= agree <= 1.0:
        raise ValueError(f"verdict: got a share of {agree}; expected a share in [0, 1]")
    return "holds" if agree >= AGREE else "fails" if 1.0 - agree >= AGREE else "undetermined"


def judge(values: np.ndarray, draw: np.ndarray, above: float | None = None,
          below: float | None = None) -> dict[str, Any]:
    """Effect statistics of ``values`` (per run: a paired difference or a 0/1 outcome) by
    draw (:func:`sim.effects.effect_stats`), the share of draws whose effect ``e_d`` lies on the
    claimed side (``e_d > above`` or ``e_d < below``) and the :func:`verdict`. Raises
    ``ValueError`` unless exactly one of ``above`` and ``below`` is given."""
    if (above is None) == (below is None):
        raise ValueError("judge: give exactly one of above= and below=")
    e, se = per_draw(values, draw), per_draw_error(values, draw)
    threshold = above if above is not None else below
    agree = e > above if above is not None else e < below
    stats = effect_stats(values, draw)
    share = float(agree.mean())
    near = float(np.mean(np.abs(e - threshold) <= Z95 * se)) if np.isfinite(se).all() else np.nan
    return {k: stats[k] for k in RESULT_COLUMNS[:7]} | {"agree": share, "near": near,
                                                        "verdict": verdict(share)}


def per_draw_error(values: np.ndarray, draw: np.ndarray) -> np.ndarray:
    """Monte-Carlo standard error of each draw's effect ``e_d`` (sd over its runs / √K; inf
    for a draw of one run), in draw order."""
    values = np.asarray(values, dtype=float)
    ids, inverse = np.unique(draw, return_inverse=True)
    n = np.bincount(inverse, minlength=len(ids)).astype(float)
    mean = np.bincount(inverse, weights=values, minlength=len(ids)) / n
    ss = np.bincount(inverse, weights=(values - mean[inverse]) ** 2, minlength=len(ids))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 1, np.sqrt(ss / (n - 1) / n), np.inf)


# ------------------------------------------------------------------------------ arms


def arm(scenario: Path | str | ScenarioSpec, params: Path | str | None = None,
        values: Mapping[str, Any] | None = None) -> ScenarioSpec:
    """A scenario, optionally with a mechanisms fragment (``params``, a TOML file) merged on
    top, then parameter ``values`` set (dotted names, :func:`sim.params.with_values`; a value
    set here is fixed, not drawn)."""
    if isinstance(scenario, ScenarioSpec):
        spec = scenario
    else:
        extra = read_toml(Path(params)) if params is not None else {}
        spec = load_scenario(scenario, overrides=extra)
    return with_values(spec, values or {})


def design_for(spec: ScenarioSpec, draws: int = DRAWS, runs_per_draw: int = RUNS_PER_DRAW,
               seed: int = 1, fixed: bool = False) -> Design:
    """The parameter draws every arm of a claim shares, from ``spec``'s ``[uncertainties]``
    (``fixed``: one draw at the scenario's values, ``runs_per_draw`` runs)."""
    if fixed:
        return make_design(spec, runs=runs_per_draw, seed=seed, fixed=True)
    return make_design(spec, draws=draws, runs_per_draw=runs_per_draw, seed=seed)


def run_arm(spec: ScenarioSpec, design: Design) -> Results:
    """One arm's ensemble under ``design`` (same seeds and draws as every other arm)."""
    return Results(simulate_design(spec, design))


def _draw(res: Results) -> np.ndarray:
    return np.asarray(res.traj.draw)


# ------------------------------------------------------------------------------ H1


def pressure_dose(scenario: Path | str | ScenarioSpec, draws: int = DRAWS,
                  runs_per_draw: int = RUNS_PER_DRAW, seed: int = 1,
                  doses: Sequence[float] = DOSES, params: Path | None = None,
                  fixed: bool = False) -> pd.DataFrame:
    """H1 (Bremmer, ¶10-14): scale every hostile act of the US and its allies by ``dose``
    (``events.pressure_scale`` of USA, EU, JPN set to the dose; every other parameter drawn).

    One row per dose: China–Russia x̄ at the horizon (``level``: mean over draws, with its MC
    CI and 90% interval across draws, ``level_*``), then the test of that row: for every dose
    after the first, ``form = "weak"``, the step from the previous dose must not lower x̄ by
    more than ``NEGLIGIBLE`` in a draw (``e_d > −NEGLIGIBLE``); the last row also carries the
    strong form (``strong_*``: last dose − first dose ``> 0``). Columns of :func:`judge`."""
    base = arm(scenario, params)
    design = design_for(base, draws, runs_per_draw, seed, fixed)
    rows, prev, first = [], None, None
    for dose in doses:
        res = run_arm(arm(base, values={f"events.pressure_scale.{a}": dose for a in ALLIES}),
                      design)
        cr, draw = res.relation("CHN", "RUS")[:, -1], _draw(res)
        level = effect_stats(cr, draw)
        row: dict[str, Any] = {"dose": dose, "level": level["mean"],
                               "level_lo": level["param_lo"], "level_hi": level["param_hi"]}
        if prev is not None:
            row.update(judge(cr - prev, draw, above=-NEGLIGIBLE))
        if dose == doses[-1] and first is not None:
            row.update({f"strong_{k}": v for k, v in judge(cr - first, draw, above=0.0).items()})
        rows.append(row)
        prev = cr
        first = cr if first is None else first
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------ H2


def asks_within(scenario: Path | str | ScenarioSpec, months: int = 12, draws: int = DRAWS,
                runs_per_draw: int = RUNS_PER_DRAW, seed: int = 1,
                params: Path | None = None, fixed: bool = False) -> pd.DataFrame:
    """H2 (Hess, ¶6): per ask, the share of runs in which China grants it within ``months``,
    by draw; the claim holds in a draw whose share is below ``LIMITED``. Columns: ``ask``, then
    :func:`judge`'s (``mean`` = the share over all draws)."""
    spec = arm(scenario, params)
    res = run_arm(spec, design_for(spec, draws, runs_per_draw, seed, fixed))
    rows = []
    for d in res.world.decisions:
        if d.rule == "grant_ask":
            taken = (res.made[:, months, d.index] > 0).astype(float)
            rows.append({"ask": d.params.ask, **judge(taken, _draw(res), below=LIMITED)})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------ H3, H4


def paired(first: Path | str | ScenarioSpec, second: Path | str | ScenarioSpec,
           draws: int = DRAWS, runs_per_draw: int = RUNS_PER_DRAW, seed: int = 1,
           params: Path | None = None, fixed: bool = False) -> tuple[Results, Results]:
    """Two scenarios with the same seeds and the same parameter draws (from the first)."""
    a, b = arm(first, params), arm(second, params)
    design = design_for(a, draws, runs_per_draw, seed, fixed)
    return run_arm(a, design), run_arm(b, design)


def tariff_effect(baseline: Path | str, counterfactual: Path | str, draws: int = DRAWS,
                  runs_per_draw: int = RUNS_PER_DRAW, seed: int = 1,
                  params: Path | None = None, fixed: bool = False) -> pd.DataFrame:
    """H3 (¶11-12): the May 2024 tariffs lower US–China alignment: baseline − no tariffs in
    x̄(USA, CHN), at 12 months and at the horizon; holds in a draw whose effect is below 0."""
    base, cf = paired(baseline, counterfactual, draws, runs_per_draw, seed, params, fixed)
    rows = []
    for label, step in (("12 months", 12), ("horizon", -1)):
        d = base.relation("USA", "CHN")[:, step] - cf.relation("USA", "CHN")[:, step]
        rows.append({"when": label, **judge(d, _draw(base), below=0.0)})
    return pd.DataFrame(rows)


def material_support(res: Results) -> np.ndarray:
    """1 where China has granted finance or military hardware by the horizon, per run."""
    made = [res.made[:, -1, d.index] > 0 for d in res.world.decisions
            if d.rule == "grant_ask" and d.params.ask in ("finance_access", "military_hardware")]
    return np.any(made, axis=0).astype(float)


def secondary_sanctions_effect(baseline: Path | str, enforced: Path | str, draws: int = DRAWS,
                               runs_per_draw: int = RUNS_PER_DRAW, seed: int = 1,
                               params: Path | None = None, fixed: bool = False
                               ) -> pd.DataFrame:
    """H4: enforced secondary sanctions reduce China's material support for Russia: enforced
    − baseline in the share of runs with finance or hardware support by the horizon; holds in a
    draw whose effect is below 0. A second row reports China–Russia x̄ at the horizon (no
    claim: ``verdict`` is empty)."""
    base, enf = paired(baseline, enforced, draws, runs_per_draw, seed, params, fixed)
    draw = _draw(base)
    rows = [{"outcome": "material support (finance or hardware)",
             **judge(material_support(enf) - material_support(base), draw, below=0.0)}]
    d = enf.relation("CHN", "RUS")[:, -1] - base.relation("CHN", "RUS")[:, -1]
    stats = effect_stats(d, draw)
    rows.append({"outcome": "CHN-RUS alignment at horizon",
                 **{k: stats[k] for k in RESULT_COLUMNS[:7]}, "agree": np.nan, "near": np.nan,
                 "verdict": ""})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------ in words


def _measured(row: Any, digits: int, prefix: str = "") -> str:
    def g(k: str) -> float:
        return float(row[prefix + k])

    mean = f"{g('mean'):+.{digits}f} [{g('mc_lo'):+.{digits}f}, {g('mc_hi'):+.{digits}f}]"
    if np.isnan(g("param_lo")):
        return f"{mean}; parameters fixed"
    return f"{mean}; 90% of draws {g('param_lo'):+.{digits}f} … {g('param_hi'):+.{digits}f}"


def _claim(h: str, form: str, test: str, row: Any, digits: int, prefix: str = "") -> dict:
    return {"claim": h, "form": form, "claim, as tested (per draw)": test,
            "measured: mean [MC 95% CI]; 90% of draws": _measured(row, digits, prefix),
            "draws agreeing": f"{row[prefix + 'agree']:.0%} of {int(row[prefix + 'draws'])}",
            "within MC error": f"{row[prefix + 'near']:.0%}",
            "verdict": row[prefix + "verdict"], "owes to the model's construction": OWES[h]}


def pressure_dose_claims(dose: pd.DataFrame) -> pd.DataFrame:
    """H1 as the tests it is decided by, one row each (:func:`claims_table` columns), from
    :func:`pressure_dose`'s table: the weak form per step up in pressure, then the strong
    form."""
    def x(v: float) -> str:
        return f"{v:g}×"

    rows = []
    for prev, row in zip(dose.to_dict("records"), dose.iloc[1:].to_dict("records"),
                         strict=False):
        rows.append(_claim("H1", "weak (non-inferiority)",
                           f"raising US/EU/JPN pressure from {x(prev['dose'])} to "
                           f"{x(row['dose'])} does not lower CHN–RUS x̄ at the horizon by "
                           f"more than {NEGLIGIBLE:g} (Δ > −{NEGLIGIBLE:g})", row, 5))
    first, last = dose.iloc[0], dose.iloc[-1].to_dict()
    rows.append(_claim("H1", "strong",
                       f"{x(last['dose'])} pressure gives higher CHN–RUS x̄ at the horizon than "
                       f"{x(first['dose'])} (Δ = {x(last['dose'])} − {x(first['dose'])} > 0)",
                       last, 5, prefix="strong_"))
    return pd.DataFrame(rows)


def asks_claims(asks: pd.DataFrame, months: int = 12) -> pd.DataFrame:
    """H2 as tests, one row per ask, from :func:`asks_within`'s table (``months`` as there)."""
    return pd.DataFrame([_claim(
        "H2", row["ask"].replace("_", " "),
        f"China grants {row['ask'].replace('_', ' ')} within {months} months in fewer than "
        f"{LIMITED:.0%} of runs (share < {LIMITED:g})", row, 3)
        for row in asks.to_dict("records")])


def tariff_claims(tariff: pd.DataFrame) -> pd.DataFrame:
    """H3 as tests, one row per date, from :func:`tariff_effect`'s table."""
    return pd.DataFrame([_claim(
        "H3", row["when"], f"USA–CHN x̄ at {row['when']} is lower with the May 2024 tariffs "
        "than without (baseline − no_may2024_tariffs < 0)", row, 5)
        for row in tariff.to_dict("records")])


def sanctions_claims(sanctions: pd.DataFrame) -> pd.DataFrame:
    """H4 as a test, from :func:`secondary_sanctions_effect`'s table (its first row)."""
    row = sanctions.iloc[0].to_dict()
    return pd.DataFrame([_claim(
        "H4", "material support", "enforced secondary sanctions lower the share of runs in "
        "which China grants Russia finance or hardware by the horizon (enforced − baseline "
        "< 0)", row, 4)])


def claims_table(*parts: pd.DataFrame) -> pd.DataFrame:
    """The claims tables of :func:`pressure_dose_claims`, :func:`asks_claims`,
    :func:`tariff_claims` and :func:`sanctions_claims` as one table."""
    return pd.concat(parts, ignore_index=True)


__all__ = ["AGREE", "ASKS", "DOSES", "LIMITED", "NEGLIGIBLE", "OWES", "arm", "asks_claims",
           "asks_within", "claims_table", "design_for", "judge", "material_support", "paired",
           "per_draw_error", "pressure_dose", "pressure_dose_claims", "run_arm",
           "sanctions_claims", "secondary_sanctions_effect", "tariff_claims", "tariff_effect",
           "verdict"]
