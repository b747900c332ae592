"""Agents' decision rules as pure functions over the run axis.

Every rule gives the monthly probability that the agent acts as a discrete-time proportional
hazard with a complementary log-log link (Allison 1982; Beck, Katz & Tucker 1998, AJPS 42:1260):

    p = 1 - exp(-exp(η)),   η = log h + (U - θ)/T + (k - 1) log d,

where ``U`` is the rule's utility or trigger index, ``h`` the monthly hazard at ``U = θ``
(the base rate), ``T`` a temperature (one unit of ``U`` multiplies the hazard by ``e^{1/T}``),
``d`` the months at risk (since the start, or since the rule last fired) and ``k`` a
Weibull-type duration shape (1: none). There is no cap and no step: the hazard rises smoothly
with ``U``. A rule that has used up its allowance (a deal already signed, ``max_times``
reached, cooldown) has probability 0. China's ``grant_ask`` utility anticipates the US
response one step ahead (:func:`response_cost`). The Mesa agents call :func:`probability` for
their own rules; the batched engine calls it for all rules. A firing turns into the rule's
event (``sim.world.Decision.event``, with the magnitudes of ``State.plan``). Every policy
parameter is read from ``state.par.policies[k]``: a scalar, or one value per run ``(R,)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.kernels import NEVER, State, any_on, apply_effect, dependence_of, shared
from sim.world import Decision, World

ETA_MAX = 50.0
"""``η`` is capped here before ``exp`` (``p`` is 1 to double precision long before)."""


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function, numerically safe."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def cloglog_probability(eta: np.ndarray) -> np.ndarray:
    """``p = 1 - exp(-exp(η))``: the probability of at least one event in a month of a
    Poisson process with rate ``exp(η)`` (inverse complementary log-log link). Any shape;
    ``η = -inf`` gives 0."""
    return -np.expm1(-np.exp(np.minimum(eta, ETA_MAX)))


def hazard_eta(index: np.ndarray, pol: Any, months_at_risk: np.ndarray) -> np.ndarray:
    """``η = log h + (U - θ)/T + (k - 1) log d`` (``(R,)``): ``index`` U, ``months_at_risk``
    d ≥ 1, and the policy's ``hazard`` h (per month), ``threshold`` θ, ``temperature`` T and
    ``duration_shape`` k (scalars or ``(R,)``). ``h = 0`` gives ``-inf`` (never fires)."""
    with np.errstate(divide="ignore"):
        log_h = np.log(np.asarray(pol.hazard, dtype=float))
    eta = log_h + (index - pol.threshold) / pol.temperature
    k = pol.duration_shape
    if np.any(np.asarray(k) != 1.0):
        eta = eta + (np.asarray(k, dtype=float) - 1.0) * np.log(months_at_risk)
    return eta


def months_at_risk(state: State, d: Decision, t: int) -> np.ndarray:
    """Months at risk at month ``t`` (``(R,)``, ≥ 1): ``t + 1`` if the rule never fired, else
    the months since it last fired."""
    last = state.last[:, d.index]
    return np.where(last == NEVER, t + 1, t - last).astype(float)


def grant_ask_utility(state: State, world: World, d: Decision, t: int = 0) -> np.ndarray:
    """Actor a's utility of granting partner p's ask (China weighing Russia's asks, ¶4-6).

    ``U = w_A x_ap + w_G (gain + c_pa) - w_R risk - w_E C_resp``: alignment with the partner,
    economic gain (plus price concessions ``c_pa`` for the pipeline), the retaliation risk
    ``risk = Σ_k D_ak max(0, -x_kp) / Σ_k D_ak`` (the share of the actor's trade dependence
    that lies with states hostile to the partner) and the expected cost of a response
    (:func:`response_cost`, one-step anticipation). Our operationalisation. ``(R,)``;
    weights and gain (utility units) scalars or ``(R,)``.
    """
    pol = state.par.policies[d.index]
    a, p = d.actor, d.other
    dep = dependence_of(state.imports, world.gdp, state.par.anchor.dependence_scale, a)
    hostile_to_partner = np.maximum(0.0, -state.x[:, :, p])  # (R, N): x_kp
    risk = (dep * hostile_to_partner).sum(axis=-1) / np.maximum(dep.sum(axis=-1), 1e-12)
    gain = pol.gain + (state.concession[:, p, a] if d.params.ask == "pipeline" else 0.0)
    u = pol.w_alignment * state.x[:, a, p] + pol.w_gain * gain - pol.w_risk * risk
    if np.any(np.asarray(pol.w_response) != 0.0):
        u = u - pol.w_response * response_cost(state, world, d, t)
    return u


def watchers(world: World, d: Decision) -> list[Decision]:
    """The escalate rules that watch ``d``'s actor backing its partner (target = actor,
    watch = partner), in policy order."""
    return [r for r in world.decisions
            if r.rule == "escalate" and r.other == d.actor and r.watch == d.other]


def response_cost(state: State, world: World, d: Decision, t: int) -> np.ndarray:
    """Expected cost to actor a of a response to granting ``d`` (``(R,)``, in [0, Σ stakes]):
    ``C = Σ_r s_r P_r`` over the watching escalate rules r (:func:`watchers`), with
    ``P_r = 1 - (1 - p_r)^H`` the probability that r fires within the horizon ``H``
    (``horizon_months``) evaluated on the state after the grant (support ``support_ap``
    raised by the grant's increment, months at risk one on), ``p_r`` r's own monthly
    probability (:func:`escalate_probability`), and stake ``s_r`` = 1 for a tariff and
    ``1 + E_ap`` for secondary sanctions (E: the actor's exposure to them for dealing with
    the partner). Deterrence thus depends on the responder's rule: it is 0 where that rule
    is disabled, used up, or far below its threshold."""
    pol = state.par.policies[d.index]
    inc = state.plan.decisions[d.index].terms.get(("support", d.actor, d.other), 0.0)
    cost = np.zeros(state.x.shape[0])
    for r in watchers(world, d):
        p_r = escalate_probability(state, r, t + 1, extra_support=inc,
                                   horizon=pol.horizon_months)
        within = -np.expm1(pol.horizon_months * np.log1p(-np.minimum(p_r, 1.0 - 1e-16)))
        stake = 1.0 + state.exposure[:, d.actor, d.other] if (
            r.params.instrument == "secondary_sanctions") else 1.0
        cost += stake * within
    return cost


def support_index(state: State, d: Decision, extra: Any = 0.0) -> np.ndarray:
    """How far the target backs the watched state: ``x_tw + support_tw`` (military aid and
    finance access count 1 each, a signed agreement 0.5; ``sim.events``), plus ``extra``
    (a hypothetical grant's increment)."""
    return state.x[:, d.other, d.watch] + state.support[:, d.other, d.watch] + extra


def escalate_probability(state: State, d: Decision, t: int, extra_support: Any = 0.0,
                         horizon: Any = 0) -> np.ndarray:
    """Monthly probability ``(R,)`` of escalate rule ``d`` at month ``t`` with the target's
    support raised by ``extra_support``: cloglog in :func:`support_index` (0 where disabled,
    after ``max_times`` firings, or within the cooldown ``horizon`` months from now)."""
    pol = state.par.policies[d.index]
    eta = hazard_eta(support_index(state, d, extra_support), pol, months_at_risk(state, d, t))
    allowed = (state.count[:, d.index] < pol.max_times) & (
        t + np.asarray(horizon) - state.last[:, d.index] >= pol.cooldown_months)
    on = allowed if shared(pol.enabled) else allowed & pol.enabled
    return np.where(on & any_on(pol.enabled), cloglog_probability(eta), 0.0)


def concede_index(state: State, world: World, d: Decision) -> np.ndarray:
    """Actor's trade dependence on its partner ``D_ap`` (Russia on China)."""
    dep = dependence_of(state.imports, world.gdp, state.par.anchor.dependence_scale, d.actor)
    return dep[:, d.other]


def probability(state: State, world: World, d: Decision, t: int) -> np.ndarray:
    """Monthly probability ``(R,)`` that decision ``d`` fires at month ``t`` (0 where disabled):
    ``1 - exp(-exp(η))`` with ``η`` of :func:`hazard_eta` and the runs'
    ``policies.<label>.*`` values (scalars or ``(R,)``)."""
    pol = state.par.policies[d.index]
    if not any_on(pol.enabled):
        return np.zeros(state.x.shape[0])
    if d.rule == "escalate":
        return escalate_probability(state, d, t)
    if d.rule == "grant_ask":
        index, allowed = grant_ask_utility(state, world, d, t), state.count[:, d.index] == 0
    else:
        index, allowed = concede_index(state, world, d), state.count[:, d.index] < pol.max_times
    prob = cloglog_probability(hazard_eta(index, pol, months_at_risk(state, d, t)))
    return np.where(allowed if shared(pol.enabled) else allowed & pol.enabled, prob, 0.0)


def record_firing(state: State, d: Decision, fired: np.ndarray, t: int) -> None:
    """Bookkeeping after a decision fired in the runs where ``fired`` is true."""
    state.count[:, d.index] += fired
    state.last[:, d.index] = np.where(fired, t, state.last[:, d.index])


def act(state: State, world: World, t: int, fired: np.ndarray) -> None:
    """Apply the events of the decisions that fired (``(R, P)``), in policy order."""
    for d in world.decisions:
        hit = fired[:, d.index]
        if hit.any():
            apply_effect(state, state.plan.decisions[d.index], hit)
            record_firing(state, d, hit, t)
