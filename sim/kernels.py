"""Dynamics kernels: small pure numpy functions over arrays with a leading run axis ``(R, ...)``.

One run is ``R = 1``; an ensemble advances all its runs at once through the same functions.
Each docstring gives the equation and its source; ``docs/ODD.md`` collects them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.events import Effect
from sim.spec import Mechanisms
from sim.world import World

NEVER = -(10**6)


@dataclass
class State:
    """The dynamic state of ``R`` runs. Matrices are ``(R, N, N)``; policy arrays ``(R, P)``."""

    x: np.ndarray  # relations x_ij
    imports: np.ndarray  # imports[i, j], USD bn/yr
    base: np.ndarray  # import level with no tariffs and initial alignment
    tau: np.ndarray  # added tariff(-equivalent) of i on imports from j
    ties: np.ndarray  # lasting ties stock (agreements +, sanctions -)
    exposure: np.ndarray  # exposure of i to secondary sanctions for dealing with j
    support: np.ndarray  # material support given by i to j (deals)
    concession: np.ndarray  # price concessions offered by i to j
    count: np.ndarray  # times each policy fired (int)
    last: np.ndarray  # month each policy last fired (int, NEVER if not)

    @classmethod
    def initial(cls, world: World, runs: int) -> State:
        n, p = world.n, len(world.decisions)

        def tile(a: np.ndarray) -> np.ndarray:
            return np.repeat(a[None], runs, axis=0).astype(float)

        zeros = np.zeros((runs, n, n))
        return cls(x=tile(world.x0), imports=tile(world.imports0), base=tile(world.imports0),
                   tau=zeros.copy(), ties=tile(world.ties0), exposure=tile(world.exposure0),
                   support=zeros.copy(), concession=zeros.copy(),
                   count=np.zeros((runs, p), dtype=np.int64),
                   last=np.full((runs, p), NEVER, dtype=np.int64))



# ----------------------------------------------------------------------------- relations


def saturation(x: np.ndarray, r: float | None = 1.0) -> np.ndarray:
    """``G(x) = 1 - (x/R)^2`` (Kułakowski, Gawroński & Gronek 2005, IJMPC 16:707); ``R=None``
    switches saturation off (``G = 1``)."""
    return np.ones_like(x) if r is None else 1.0 - (x / r) ** 2


def balance_drift(x: np.ndarray, rate: float, r: float | None = 1.0, form: str = "xxt",
                  normalize: bool = True) -> np.ndarray:
    """Structural-balance pull ``α G(x_ij) Σ_k x_ik x_jk / (N-2)``: the ``X Xᵀ`` form.

    Traag, Van Dooren & De Leenheer (2013, PLoS ONE 8:e60063) show ``X Xᵀ`` reaches balance
    from asymmetric starts where ``X²`` does not; saturation (``R ≥ 1``) slows the pull as
    ``|x|`` nears ``R``, and :func:`relation_step` clips ``x`` to ``[-1, 1]``.
    Pure modes for the theory checks: ``form="x2"`` gives ``Σ_k x_ik x_kj`` (Marvel et al.
    2011, ``dX/dt = X²``), ``r=None`` drops saturation, ``normalize=False`` drops ``1/(N-2)``.
    """
    n = x.shape[-1]
    other = np.swapaxes(x, -1, -2) if form == "xxt" else x
    if form not in ("xxt", "x2"):
        raise ValueError(f"form must be 'xxt' or 'x2', not {form!r}")
    agree = x @ other
    scale = rate / max(n - 2, 1) if normalize else rate
    return scale * saturation(x, r) * agree


def zero_diagonal(a: np.ndarray) -> np.ndarray:
    """Set ``a[..., i, i] = 0`` in place (no self-relations); returns ``a``."""
    n = a.shape[-1]
    a[..., np.arange(n), np.arange(n)] = 0.0
    return a


def symmetric(x: np.ndarray) -> np.ndarray:
    """``(x_ij + x_ji) / 2``: the dyad's mean alignment."""
    return 0.5 * (x + np.swapaxes(x, -1, -2))


def threat(x: np.ndarray, capability: np.ndarray, exponent: float) -> np.ndarray:
    """Threat to i from j: ``T_ij = (P_j / max P)^a · max(0, -x_ji)`` (Walt 1987; our form).

    Power ``P`` is the COW CINC share; intent is j's hostility toward i. Proximity and offensive
    capability are left out (SCIENCE.md §3 lists them; no data for them here).
    """
    power = (capability / capability.max()) ** exponent
    hostility = np.maximum(0.0, -np.swapaxes(x, -1, -2))
    return power[None, None, :] * hostility if x.ndim == 3 else power[None, :] * hostility


def shared_threat(t: np.ndarray) -> np.ndarray:
    """Shared threat ``S_ij = Σ_k T_ik T_jk`` (k ≠ i, j): both threatened by the same states.

    Balance of threat (Walt 1985): states align against a common threat. Our operationalisation.
    """
    return zero_diagonal(t @ np.swapaxes(t, -1, -2))


def dependence(imports: np.ndarray, gdp: np.ndarray, scale: float) -> np.ndarray:
    """Trade dependence of i on j: ``D_ij = 1 - exp(-(M_ij + M_ji) / (GDP_i · c))``.

    Bilateral goods trade (USD bn) over GDP (USD tn · 1000); ``c`` = ``dependence_scale``.
    Our operationalisation of interdependence as an interest (SCIENCE.md §3).
    """
    pair = imports + np.swapaxes(imports, -1, -2)
    return 1.0 - np.exp(-pair / (1000.0 * gdp[:, None] * scale))


def dependence_of(imports: np.ndarray, gdp: np.ndarray, scale: float, i: int) -> np.ndarray:
    """Row ``D[:, i, :]`` of :func:`dependence` (what the decision rules need), ``(R, N)``."""
    return 1.0 - np.exp(-(imports[:, i, :] + imports[:, :, i]) / (1000.0 * gdp[i] * scale))


def affinity(ideal: np.ndarray, d_half: float) -> np.ndarray:
    """Ideological affinity ``A_ij = 1 - |ip_i - ip_j| / d_half`` (UNGA ideal points)."""
    return 1.0 - np.abs(ideal[:, None] - ideal[None, :]) / d_half


def anchor(x: np.ndarray, imports: np.ndarray, ties: np.ndarray, world: World,
           mech: Mechanisms) -> np.ndarray:
    """Interest anchor
    ``p_ij = tanh(b + w_I A_ij + w_L L_ij + w_D D_ij + w_S S_ij - w_T T_ij + w_K K_ij)``.

    SCIENCE.md §3: ideology (A), treaty commitments (L, ATOP), trade dependence (D), shared
    threat (S), direct threat (T) and lasting ties from agreements and sanctions (K).
    """
    a = mech.anchor
    z = a.bias + a.w_ideology * affinity(world.ideal, a.d_half) + a.w_alliance * world.alliance
    z = z + a.w_trade * dependence(imports, world.gdp, a.dependence_scale) + a.w_ties * ties
    if mech.threat.enabled:
        t = threat(x, world.capability, mech.threat.power_exponent)
        z = z + a.w_shared_threat * shared_threat(t) - a.w_threat * t
    return zero_diagonal(np.tanh(z))


def relation_step(x: np.ndarray, p: np.ndarray, noise: np.ndarray, mech: Mechanisms) -> np.ndarray:
    """One month: ``x ← clip(x + α G(x)(X Xᵀ)/(N-2) + β (p - x) + σ ξ, -1, 1)``, zero diagonal."""
    dx = np.zeros_like(x)
    if mech.balance.enabled:
        dx += balance_drift(x, mech.balance.rate, mech.balance.saturation)
    if mech.anchor.enabled:
        dx += mech.anchor.rate * (p - x)
    if mech.noise.enabled:
        dx += mech.noise.sigma * noise
    return zero_diagonal(np.clip(x + dx, -1.0, 1.0))


# ----------------------------------------------------------------------------- trade


def adjustment_rate(eps_one_year: float, eps_long_run: float) -> float:
    """Monthly partial-adjustment rate ``a`` with ``ε(12) = ε_LR (1 - (1-a)^12) = ε_1y``.

    Boehm, Levchenko & Pandalai-Nayar (AER 2023): ≈0.76 after one year, ≈2 long run,
    giving ``a ≈ 0.039`` per month.
    """
    if eps_long_run <= 0 or eps_one_year >= eps_long_run:
        return 1.0
    return 1.0 - (1.0 - eps_one_year / eps_long_run) ** (1.0 / 12.0)


def trade_target(base: np.ndarray, tau: np.ndarray, x: np.ndarray, x0: np.ndarray,
                 mech: Mechanisms) -> np.ndarray:
    """Long-run imports ``M*_ij``: CES tariff response, diversion and alignment feedback.

    ``M*_ij = B̃_ij e^{κ (x̄_ij - x̄0_ij)} + θ B̃_ij Σ_{l≠j} B°_il / Σ_{k≠l} B̃_ik`` with
    ``B̃ = B (1+τ)^(-ε)`` the imports kept at the new tariffs and ``B° = B - B̃`` those lost:
    a share ``θ`` of what i no longer buys from l is bought from the other partners k ≠ l, in
    proportion to what i still buys from them (gravity/CES, Head & Mayer 2014; diversion to
    third countries: Alfaro & Chor 2023; alignment: Gopinath et al. 2024, ≈12% less trade
    between blocs, so κ ≈ 0.13).
    """
    tr = mech.trade
    kept = base * (1.0 + np.maximum(tau, -0.99)) ** (-tr.elasticity_long_run)
    lost = np.maximum(base - kept, 0.0)
    others = kept.sum(axis=-1, keepdims=True) - kept  # Σ_{k≠l} K_ik, per lost partner l
    share = np.divide(lost, others, out=np.zeros_like(lost), where=others > 1e-12)
    diverted = tr.diversion * kept * (share.sum(axis=-1, keepdims=True) - share)
    align = np.exp(tr.alignment_semi_elasticity * (symmetric(x) - symmetric(x0)))
    return kept * align + diverted


def trade_step(imports: np.ndarray, target: np.ndarray, rate: float) -> np.ndarray:
    """Partial adjustment in logs: ``ln M ← ln M + a (ln M* - ln M)`` (zero flows stay zero
    until a target appears, then start at 1% of it)."""
    start = np.where((imports <= 0) & (target > 0), 0.01 * target, imports)
    safe = np.maximum(start, 1e-300)
    out = np.where(target > 0, safe * (np.maximum(target, 1e-300) / safe) ** rate, 0.0)
    return out


# ----------------------------------------------------------------------------- events and time


def apply_effect(state: State, effect: Effect, mask: np.ndarray | None = None) -> None:
    """Add an event's effect to every run, or only to the runs where ``mask`` is true
    (the others are not touched, so a run never depends on the runs batched with it)."""
    rows = slice(None) if mask is None else np.flatnonzero(mask)
    for name, inc in (("x", effect.dx), ("tau", effect.dtau), ("ties", effect.dties),
                      ("exposure", effect.dexposure), ("support", effect.dsupport),
                      ("concession", effect.dconcession), ("base", effect.dbase)):
        if inc.any():
            arr = getattr(state, name)
            arr[rows] += inc
    state.x[rows] = np.clip(state.x[rows], -1.0, 1.0)
    zero_diagonal(state.x)
    np.maximum(state.tau, 0.0, out=state.tau)


def begin_month(state: State, world: World, t: int) -> None:
    """Scheduled events of month ``t`` (unless ``mechanisms.events`` is off) and lagged effects
    of earlier decisions (pipelines). Decisions are switched off per policy."""
    if world.mech.events.enabled and t in world.schedule:
        apply_effect(state, world.schedule[t])
    for d in world.decisions:
        if d.effect.lag and d.effect.lagged_base.any():
            due = np.flatnonzero(state.last[:, d.index] == t - d.effect.lag)
            state.base[due] += d.effect.lagged_base


def evolve(state: State, world: World, noise: np.ndarray) -> None:
    """Relations and trade move one month (in place); ``noise`` is ``(R, N, N)`` standard normal."""
    mech = world.mech
    p = anchor(state.x, state.imports, state.ties, world, mech)
    x_old = state.x
    state.x = relation_step(x_old, p, noise, mech)
    if mech.trade.enabled:
        tr = mech.trade
        target = trade_target(state.base, state.tau, x_old, world.x0, mech)
        state.imports = trade_step(state.imports, target,
                                   adjustment_rate(tr.elasticity_one_year, tr.elasticity_long_run))
    state.ties *= 0.5 ** (1.0 / mech.events.ties_half_life)
