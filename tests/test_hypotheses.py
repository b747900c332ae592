"""The article's claims, decided on paired ensembles with 95% intervals (sim.hypotheses).

Parameters come from data and the literature (docs/ODD.md); nothing here is tuned to make a
claim pass. A claim the model does not support stays as a documented expected failure.
"""

from __future__ import annotations

import pytest
from conftest import SCENARIOS

from sim import hypotheses as h

BASELINE = SCENARIOS / "baseline.toml"
CALIBRATED = SCENARIOS.parent / "calibration" / "mechanisms_2019.toml"
# every claim is decided under the default parameters and under those fitted to 2014-2019
PARAMS = pytest.mark.parametrize("params", [None, CALIBRATED], ids=["default", "calibrated"])


@pytest.fixture(scope="module", params=[None, CALIBRATED], ids=["default", "calibrated"])
def dose(request) -> object:
    return h.pressure_dose(BASELINE, runs=400, seed=1, params=request.param)


@pytest.mark.slow
def test_h1_pressure_does_not_lower_china_russia_alignment(dose):
    """H1 (Bremmer, ¶10-14), non-inferiority form fixed in advance: no step up in US/allied
    pressure (0, 0.5, 1, 1.5, 2 × baseline) lowers China-Russia alignment at the horizon by
    more than 0.01 (95% interval)."""
    steps = dose.dropna(subset=["step_diff"])
    assert len(steps) == 4
    assert steps["holds"].all(), steps


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="the model does not support the strong form: more "
                   "pressure raises China's expected retaliation costs, fewer deals are made, "
                   "and China-Russia alignment at the horizon is slightly LOWER under both "
                   "parameter sets (see docs/SCENARIOS.md, H1)")
def test_h1_strong_form_more_pressure_drives_china_closer(dose):
    """H1, strong form: 2 × pressure gives higher China-Russia alignment than none."""
    top, none = dose.iloc[-1], dose.iloc[0]
    assert top["lo"] > none["hi"]


@pytest.mark.slow
@PARAMS
def test_h2_progress_on_each_ask_within_12_months_is_limited(params):
    """H2 (Hess, ¶6): each ask has less than a one-in-four chance within 12 months."""
    asks = h.asks_within(BASELINE, months=12, runs=1000, seed=1, params=params)
    assert set(asks["ask"]) == set(h.ASKS)
    assert asks["holds"].all(), asks


@pytest.mark.slow
@PARAMS
def test_h3_may2024_tariffs_lower_us_china_alignment(params):
    """H3 (¶11-12): baseline minus the no-tariff counterfactual is below zero."""
    res = h.tariff_effect(BASELINE, SCENARIOS / "no_may2024_tariffs.toml", runs=1000, seed=1,
                          params=params)
    assert res["holds"].all(), res


@pytest.mark.slow
@PARAMS
def test_h4_enforced_secondary_sanctions_reduce_material_support(params):
    """H4: enforced secondary sanctions cut China's finance and hardware support for Russia."""
    res = h.secondary_sanctions_effect(BASELINE, SCENARIOS / "secondary_sanctions_enforced.toml",
                                       runs=1000, seed=1, params=params)
    assert bool(res.iloc[0]["holds"]), res


def test_intervals_are_right_on_known_cases():
    import numpy as np

    m, lo, hi = h.mean_ci(np.array([1.0, 1.0, 1.0, 1.0]))
    assert (m, lo, hi) == (1.0, 1.0, 1.0)
    p, lo, hi = h.wilson(0, 100)
    assert p == 0 and lo == pytest.approx(0, abs=1e-12) and 0.03 < hi < 0.04


def test_verdict_words_on_known_intervals():
    assert h.verdict(0.1, 0.2, above=0.0) == "supported"
    assert h.verdict(-0.2, -0.1, above=0.0) == "not supported"
    assert h.verdict(-0.1, 0.1, above=0.0) == "undetermined"
    assert h.verdict(0.1, 0.2, below=0.25) == "supported"
    assert h.verdict(0.25, 0.4, below=0.25) == "not supported"
    assert h.verdict(0.2, 0.3, below=0.25) == "undetermined"
    with pytest.raises(ValueError, match="exactly one"):
        h.verdict(0.0, 1.0)


def test_claims_tables_state_the_tests_and_agree_with_holds():
    """The readable H1/H2 tables say the same as the ``holds`` columns the tests assert."""
    dose = h.pressure_dose(BASELINE, runs=30, seed=3, doses=(0.0, 1.0, 2.0))
    steps = dose.dropna(subset=["step_diff"])
    assert dose.iloc[-1]["vs_first"] == pytest.approx(steps["step_diff"].sum(), abs=1e-12)
    claims = h.pressure_dose_claims(dose)
    assert list(claims["form"]) == ["weak (non-inferiority)"] * 2 + ["strong"]
    assert "from 0× to 1×" in claims["claim, as tested"][0]
    assert "2× pressure gives higher" in claims["claim, as tested"][2]
    assert list(claims["verdict"][:2] == "supported") == list(steps["holds"])
    asks = h.asks_within(BASELINE, months=12, runs=50, seed=3)
    words = h.asks_claims(asks, months=12)
    assert len(words) == len(asks) and words["claim, as tested"].str.contains("< 0.25").all()
    assert list(words["verdict"] == "supported") == list(asks["holds"])
