"""Agents' decision rules as pure functions over the run axis.

Every rule returns the monthly probability that the agent acts, ``h · σ((U - θ)/T)``, where
``U`` is the rule's utility or trigger index, ``h`` a maximum monthly hazard, ``θ`` a threshold
and ``T`` a temperature; the agent acts where a uniform draw falls below it. A rule that has
used up its allowance (a deal already signed, ``max_times`` reached, cooldown) has probability 0.
The Mesa agents call :func:`probability` for their own rules; the batched engine calls it for
all rules. A firing turns into the rule's event (``sim.world.Decision.event``, with the
magnitudes of ``State.plan``). Every policy parameter is read from ``state.par.policies[k]``: a
scalar, or one value per run ``(R,)``.
"""

from __future__ import annotations

import numpy as np

from sim.kernels import State, any_on, apply_effect, dependence_of, shared
from sim.world import Decision, World


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function, numerically safe."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def grant_ask_utility(state: State, world: World, d: Decision) -> np.ndarray:
    """Actor a's utility of granting partner p's ask (China weighing Russia's asks, ¶4-6).

    ``U = w_A x_ap + w_G (gain + c_pa) - w_R (1 + E_ap) Σ_k D_ak max(0, -x_kp) / Σ_k D_ak``:
    alignment with the partner, economic gain (plus price concessions ``c_pa`` for the
    pipeline), and expected retaliation: the share of the actor's trade dependence that lies
    with states hostile to the partner, raised by its secondary-sanction exposure ``E_ap``.
    Our operationalisation. ``(R,)``; weights and gain (utility units) scalars or ``(R,)``.
    """
    pol = state.par.policies[d.index]
    a, p = d.actor, d.other
    dep = dependence_of(state.imports, world.gdp, state.par.anchor.dependence_scale, a)
    hostile_to_partner = np.maximum(0.0, -state.x[:, :, p])  # (R, N): x_kp
    west = (dep * hostile_to_partner).sum(axis=-1) / np.maximum(dep.sum(axis=-1), 1e-12)
    gain = pol.gain + (state.concession[:, p, a] if d.params.ask == "pipeline" else 0.0)
    risk = (1.0 + state.exposure[:, a, p]) * west
    return pol.w_alignment * state.x[:, a, p] + pol.w_gain * gain - pol.w_risk * risk


def support_index(state: State, d: Decision) -> np.ndarray:
    """How far the target backs the watched state: ``x_tw + support_tw`` (military aid and
    finance access count 1 each, a signed agreement 0.5; ``sim.events``)."""
    return state.x[:, d.other, d.watch] + state.support[:, d.other, d.watch]


def concede_index(state: State, world: World, d: Decision) -> np.ndarray:
    """Actor's trade dependence on its partner ``D_ap`` (Russia on China)."""
    dep = dependence_of(state.imports, world.gdp, state.par.anchor.dependence_scale, d.actor)
    return dep[:, d.other]


def probability(state: State, world: World, d: Decision, t: int) -> np.ndarray:
    """Monthly probability ``(R,)`` that decision ``d`` fires at month ``t`` (0 where disabled):
    ``h · σ((U - θ)/T)`` with the runs' ``policies.<label>.*`` values (scalars or ``(R,)``)."""
    pol = state.par.policies[d.index]
    if not any_on(pol.enabled):
        return np.zeros(state.x.shape[0])
    if d.rule == "grant_ask":
        index, allowed = grant_ask_utility(state, world, d), state.count[:, d.index] == 0
    elif d.rule == "escalate":
        index = support_index(state, d)
        allowed = (state.count[:, d.index] < pol.max_times) & (
            t - state.last[:, d.index] >= pol.cooldown_months)
    else:
        index, allowed = concede_index(state, world, d), state.count[:, d.index] < pol.max_times
    prob = pol.hazard * sigmoid((index - pol.threshold) / pol.temperature)
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
