"""Issue 10 model core: standardisation constants, cloglog hazards, anticipation, event
history likelihood, relation limits in scenario files."""

from __future__ import annotations

import numpy as np
import pytest

from sim import event_history as eh
from sim import standardise as sd
from sim.kernels import State, begin_month
from sim.policies import (
    cloglog_probability,
    grant_ask_utility,
    hazard_eta,
    probability,
    response_cost,
)
from sim.resources import scenarios_dir
from sim.spec import ScenarioError, load_scenario, spec_from_dict
from sim.world import World, initial_relations

BASELINE = scenarios_dir() / "baseline.toml"


def test_shipped_standardisation_constants_equal_the_data_function():
    assert sd.CONSTANTS == sd.rounded(sd.standardisation())
    assert sd.IDEOLOGY_DEFAULTS == sd.rounded(sd.ideology_defaults())


def test_spec_defaults_of_bias_and_ideology_weight_come_from_the_data_function():
    from sim.spec import Anchor

    assert Anchor().bias == sd.IDEOLOGY_DEFAULTS["bias"]
    assert Anchor().w_ideology == sd.IDEOLOGY_DEFAULTS["w_ideology"]


class _Pol:
    def __init__(self, **kw):
        self.hazard, self.threshold, self.temperature, self.duration_shape = (
            kw.get("h", 0.01), kw.get("theta", 0.0), kw.get("T", 0.5), kw.get("k", 1.0))


def test_cloglog_hazard_at_threshold_is_the_base_rate_and_has_no_step():
    pol = _Pol(h=0.01)
    p0 = cloglog_probability(hazard_eta(np.array([0.0]), pol, np.array([1.0])))
    assert p0[0] == pytest.approx(1 - np.exp(-0.01))
    u = np.linspace(-2, 2, 401)
    p = cloglog_probability(hazard_eta(u, pol, np.ones_like(u)))
    assert np.all(np.diff(p) > 0) and p.max() < 1
    assert np.max(np.diff(p)) < 0.05  # smooth: no jump between neighbouring utilities
    # one unit of U multiplies the hazard by exp(1/T)
    h = -np.log1p(-cloglog_probability(hazard_eta(np.array([0.0, 1.0]), pol, np.ones(2))))
    assert h[1] / h[0] == pytest.approx(np.exp(2.0))


def test_duration_dependence_scales_the_hazard_by_d_to_the_k_minus_one():
    pol = _Pol(h=0.01, k=1.5)
    h = -np.log1p(-cloglog_probability(hazard_eta(np.zeros(2), pol, np.array([1.0, 4.0]))))
    assert h[1] / h[0] == pytest.approx(4.0 ** 0.5)
    assert np.isfinite(cloglog_probability(np.array([1e6, -np.inf]))).all()


def _state(spec=None):
    spec = spec or load_scenario(BASELINE)
    w = World.from_spec(spec)
    st = State.initial(w, 1)
    begin_month(st, w, 0)
    return w, st


def _decision(w, label):
    return next(d for d in w.decisions if d.label == label)


def test_anticipation_lowers_the_grant_utility_by_the_expected_response_cost():
    w, st = _state()
    d = _decision(w, "CHN:finance_access")
    cost = response_cost(st, w, d, 0)
    assert 0 < cost[0] < 1 + 1 + st.exposure[0, d.actor, d.other]
    from sim.params import with_values
    spec0 = with_values(load_scenario(BASELINE), {"policies.CHN:finance_access.w_response": 0.0})
    w0, st0 = _state(spec0)
    u, u0 = grant_ask_utility(st, w, d, 0), grant_ask_utility(st0, w0, _decision(w0, d.label), 0)
    assert u0[0] - u[0] == pytest.approx(1.0 * cost[0])


def test_deterrence_fails_when_the_responder_cannot_respond():
    # with the US rules disabled the expected response cost is 0: China's hazard rises
    from sim.params import with_values
    off = with_values(load_scenario(BASELINE), {"policies.USA:tariff.enabled": False,
                                                "policies.USA:secondary_sanctions.enabled": False})
    w, st = _state()
    w0, st0 = _state(off)
    d, d0 = _decision(w, "CHN:finance_access"), _decision(w0, "CHN:finance_access")
    assert response_cost(st0, w0, d0, 0)[0] == 0.0
    assert probability(st0, w0, d0, 0)[0] > probability(st, w, d, 0)[0]


def test_event_history_loglik_of_a_constant_hazard_by_hand():
    fired = np.array([0, 1, 0, 0, 1, 0], bool)
    p = np.full(6, 0.2)
    assert eh.loglik(p, fired) == pytest.approx(2 * np.log(0.2) + 4 * np.log(0.8))
    risk = np.array([1, 1, 0, 1, 1, 1], bool)
    assert eh.loglik(p, fired, risk) == pytest.approx(2 * np.log(0.2) + 3 * np.log(0.8))
    with pytest.raises(ValueError, match="not at risk"):
        eh.loglik(p, fired, ~fired)


def test_event_history_mle_maximises_the_constant_hazard_likelihood():
    rec = eh.records()[0]
    fired, risk = rec.arrays()
    mle = eh.constant_mle(fired, risk)
    assert mle == pytest.approx(fired.sum() / risk.sum())
    grid = np.linspace(0.001, 0.5, 500)
    ll = [eh.loglik(np.full(len(fired), q), fired, risk) for q in grid]
    assert abs(grid[int(np.argmax(ll))] - mle) < 0.002


def test_event_history_report_uses_only_data_through_2019():
    rep = eh.history_report()
    assert set(rep.rule) >= {"USA:tariff (Section 301 rounds)", "CHN:pipeline (Power of Siberia 2)"}
    tariff = rep.set_index("rule").loc["USA:tariff (Section 301 rounds)"]
    assert tariff.firings == 5 and tariff.dates.split()[-1] <= "2019-12"
    pos2 = rep.set_index("rule").loc["CHN:pipeline (Power of Siberia 2)"]
    assert pos2.firings == 0 and pos2.months_at_risk == 56
    with pytest.raises(ValueError, match="after"):
        eh.Record("x", "2019-01", "2020-01", (), "").arrays()


@pytest.mark.parametrize("value", [1.0, -1.0])
def test_relation_of_plus_minus_one_is_one_clear_error(value):
    data = {"scenario": {"name": "t", "title": "t", "start": "2024-01", "months": 2},
            "states": [{"id": s, "name": s, "capability": 0.1, "gdp": 1.0, "ideal_point": 0.0}
                       for s in ("AAA", "BBB", "CCC")],
            "relations": {"AAA-BBB": value}}
    with pytest.raises(ScenarioError) as err:
        spec_from_dict(data)
    msg = str(err.value)
    assert "relations" in msg and "AAA-BBB" in msg and "0.99" in msg and "\n" not in msg


def test_initial_relations_are_strictly_inside_minus_one_one():
    x = initial_relations(np.array([-3.0, 0.0, 3.0]), 1.0)
    assert np.abs(x).max() <= 0.99
    assert np.isfinite(np.arctanh(x)).all()


def test_baseline_relations_stay_off_the_bounds_without_clip():
    from sim.engine import simulate

    traj = simulate(World.from_spec(load_scenario(BASELINE)), 3, 20)
    assert np.isfinite(traj.x).all() and np.abs(traj.x).max() < 1
