"""The article's claims H1–H4, decided on parameter draws (sim.hypotheses).

A claim holds when at least 90% of the parameter draws agree with it, fails when at least 90%
disagree, and is otherwise undetermined. The slow tests run the design docs/SCENARIOS.md
reports (h.DRAWS draws x h.RUNS_PER_DRAW runs, master seed 1, the shipped scenarios with their
declared uncertainties) and assert what the model says; they pin only what is robust (far from
the 90% lines, or a mean whose Monte-Carlo interval excludes zero). Parameters come from data,
the calibration and documented ranges; nothing here is tuned to make a claim hold, and an
undetermined verdict is a legitimate answer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SCENARIOS

from sim import hypotheses as h

BASELINE = SCENARIOS / "baseline.toml"
SEED = 1


def checked(table: pd.DataFrame, prefix: str = "") -> pd.DataFrame:
    """The rows of a decided table, after checking each verdict is the rule applied to its
    share of agreeing draws, the design is the reported one and the mean lies in its MC CI."""
    rows = table.dropna(subset=[prefix + "agree"])
    for row in rows.to_dict("records"):
        assert row[prefix + "verdict"] == h.verdict(row[prefix + "agree"])
        assert row[prefix + "draws"] == h.DRAWS
        assert row[prefix + "runs"] == h.DRAWS * h.RUNS_PER_DRAW
        assert row[prefix + "mc_lo"] <= row[prefix + "mean"] <= row[prefix + "mc_hi"]
    return rows


@pytest.fixture(scope="module")
def dose() -> pd.DataFrame:
    return h.pressure_dose(BASELINE, seed=SEED)


@pytest.mark.slow
def test_h1_weak_form_holds_in_every_step_up_in_pressure(dose):
    """H1 (Bremmer, ¶10-14), non-inferiority form fixed in advance: no step up in US/allied
    pressure (0, 0.5, 1, 1.5, 2 x) lowers China-Russia x̄ at the horizon by more than 0.01, in
    at least 90% of the draws."""
    steps = checked(dose)
    assert list(steps["dose"]) == list(h.DOSES[1:])
    assert (steps["verdict"] == "holds").all(), steps


@pytest.mark.slow
def test_h1_strong_form_does_not_hold_across_the_draws(dose):
    """H1, strong form: 2 x pressure gives higher China-Russia x̄ than none. Under propagated
    uncertainty the draws disagree: it does not hold (measured: undetermined, about 60% of the
    draws agree; the mean effect is smaller than the pre-set margin of 0.01)."""
    strong = checked(dose.tail(1), prefix="strong_").iloc[0]
    assert strong["strong_verdict"] != "holds", strong
    assert abs(strong["strong_mean"]) < h.NEGLIGIBLE
    claims = h.pressure_dose_claims(dose)
    assert claims.iloc[-1]["verdict"] == strong["strong_verdict"]


@pytest.mark.slow
def test_h2_progress_on_each_ask_within_12_months_is_limited():
    """H2 (Hess, ¶6): each ask has less than a one-in-four chance within 12 months, in at
    least 90% of the draws. Under model v2 it is undetermined for every ask (docs/SCENARIOS.md);
    the test checks the verdict follows the rule from the draws' shares, and that the verdict
    says what it owes to the base-rate threshold."""
    asks = checked(h.asks_within(BASELINE, months=12, seed=SEED))
    assert set(asks["ask"]) == set(h.ASKS)
    assert ((asks["verdict"] == "holds") == (asks["agree"] >= 0.9)).all(), asks
    assert (asks["verdict"] != "fails").all(), asks
    words = h.asks_claims(asks)
    assert words["owes to the model's construction"].str.contains("base rate").all()


@pytest.mark.slow
def test_h3_may2024_tariffs_lower_us_china_alignment():
    """H3 (¶11-12): baseline minus the no-tariff counterfactual is below zero at 12 months and
    at the horizon, in at least 90% of the draws."""
    res = checked(h.tariff_effect(BASELINE, SCENARIOS / "no_may2024_tariffs.toml", seed=SEED))
    assert list(res["when"]) == ["12 months", "horizon"]
    assert (res["verdict"] == "holds").all(), res
    assert (res["mc_hi"] < 0).all()


@pytest.mark.slow
def test_h4_enforced_secondary_sanctions_reduce_material_support():
    """H4: enforced secondary sanctions cut China's finance and hardware support for Russia.
    Robust: the mean effect is negative (its MC 95% CI below zero) and the claim does not fail;
    whether it holds sits near the 90% line (measured 0.92 with 40 runs per draw, 0.79 with 10:
    ``near`` reports the share of draws within their Monte-Carlo error of zero)."""
    res = h.secondary_sanctions_effect(BASELINE, SCENARIOS / "secondary_sanctions_enforced.toml",
                                       seed=SEED)
    support = checked(res).iloc[0]
    assert support["mc_hi"] < 0 and support["verdict"] != "fails", support
    assert 0 < support["near"] < 1
    assert res.iloc[1]["verdict"] == ""  # alignment is reported, not claimed


# ------------------------------------------------------------------------------ fast


def test_verdict_follows_the_90_percent_rule():
    assert h.verdict(1.0) == h.verdict(0.9) == "holds"
    assert h.verdict(0.0) == h.verdict(0.1) == "fails"
    assert h.verdict(0.5) == h.verdict(0.89) == h.verdict(0.11) == "undetermined"
    with pytest.raises(ValueError, match="share"):
        h.verdict(1.5)


def test_judge_counts_the_draws_on_the_claimed_side():
    # draws 0..3 of two runs: per-draw effects -2, -0.7, +1, +0.5
    values = np.array([-2.0, -2.0, -1.2, -0.2, 1.0, 1.0, 0.5, 0.5])
    draw = np.repeat(np.arange(4), 2)
    r = h.judge(values, draw, below=0.0)
    assert r["agree"] == 0.5 and r["verdict"] == "undetermined" and r["draws"] == 4
    assert r["mean"] == pytest.approx(-0.3)
    # only draw 1 has spread: its MC error (1.96 x 0.707/√2 = 0.98) reaches 0: one in four near
    assert r["near"] == 0.25
    assert h.judge(values, draw, above=-3.0)["verdict"] == "holds"
    assert h.judge(values, draw, above=2.0)["verdict"] == "fails"
    with pytest.raises(ValueError, match="exactly one"):
        h.judge(values, draw)
    assert h.per_draw_error(values, draw) == pytest.approx([0.0, 0.5, 0.0, 0.0])


def test_claims_are_reported_with_their_verdict_and_construction():
    """A small design end to end: every claim is reported as a row with the test in words, the
    measured effect with both intervals, the share of draws agreeing and what the verdict owes
    to the model's construction; the words say the same as the numbers."""
    kw = {"draws": 4, "runs_per_draw": 2, "seed": 3}
    dose = h.pressure_dose(BASELINE, doses=(0.0, 2.0), **kw)
    asks = h.asks_within(BASELINE, **kw)
    tariff = h.tariff_effect(BASELINE, SCENARIOS / "no_may2024_tariffs.toml", **kw)
    table = h.claims_table(h.pressure_dose_claims(dose), h.asks_claims(asks),
                           h.tariff_claims(tariff))
    assert list(table["claim"]) == ["H1", "H1"] + ["H2"] * 3 + ["H3"] * 2
    assert list(table["verdict"][:1]) == [dose.iloc[1]["verdict"]]
    assert table.iloc[1]["verdict"] == dose.iloc[1]["strong_verdict"]
    assert (table["draws agreeing"].str.endswith("of 4")).all()
    assert table["measured: mean [MC 95% CI]; 90% of draws"].str.contains("90% of draws").all()
    for claim, owes in zip(table["claim"], table["owes to the model's construction"],
                           strict=True):
        assert owes == h.OWES[claim]
    # every arm got the same draws: the first dose's and the last dose's runs share them
    assert dose.iloc[1]["draws"] == 4 and dose.iloc[1]["runs"] == 8


def test_fixed_parameters_decide_on_one_draw_and_say_so():
    asks = h.asks_within(BASELINE, runs_per_draw=20, seed=3, fixed=True)
    assert (asks["draws"] == 1).all() and asks["param_lo"].isna().all()
    words = h.asks_claims(asks)
    assert words["measured: mean [MC 95% CI]; 90% of draws"].str.endswith(
        "parameters fixed").all()
    assert (words["draws agreeing"].str.endswith("of 1")).all()
