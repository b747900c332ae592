"""Dynamics kernels: small pure numpy functions over arrays with a leading run axis ``(R, ...)``.

One run is ``R = 1``; an ensemble advances all its runs at once through the same functions.
Each docstring gives the equation and its source; ``docs/ODD.md`` collects them.

Parameters come as :class:`sim.params.Params` (or :class:`sim.spec.Mechanisms` for the
mechanism kernels): every value is a scalar or an array with one value per run ``(R,)``, which
:func:`per_run` shapes ``(R, 1, 1)`` against ``(R, N, N)`` arrays. A run's numbers do not depend
on the other runs in its batch or on their parameters; a value shared by all runs gives the same
floats as the same value given per run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.events import Effect, Plan
from sim.params import Params
from sim.standardise import CONSTANTS
from sim.world import World

NEVER = -(10**6)


@dataclass
class State:
    """The dynamic state of ``R`` runs. Matrices are ``(R, N, N)``; policy arrays ``(R, P)``."""

    x: np.ndarray  # relations x_ij = tanh(z_ij)
    z: np.ndarray  # latent relations z_ij = artanh(x_ij), the state that evolves
    imports: np.ndarray  # imports[i, j], USD bn/yr
    base: np.ndarray  # import level with no tariffs and initial alignment
    tau: np.ndarray  # added tariff(-equivalent) of i on imports from j
    ties: np.ndarray  # lasting ties stock (agreements +, sanctions -)
    exposure: np.ndarray  # exposure of i to secondary sanctions for dealing with j
    support: np.ndarray  # material support given by i to j (deals)
    concession: np.ndarray  # price concessions offered by i to j
    count: np.ndarray  # times each policy fired (int)
    last: np.ndarray  # month each policy last fired (int, NEVER if not)
    par: Params  # the runs' parameters: scalars or (R,) arrays, constant over time
    plan: Plan  # event and decision magnitudes implied by par
    x0: np.ndarray  # starting relations, (N, N) or (R, N, N) if anchor.d_half varies by run
    offset: np.ndarray | None = None  # anchor offset c (R, N, N), latent units (anchor_offset)

    @classmethod
    def initial(cls, world: World, runs: int, par: Params | None = None) -> State:
        """``runs`` runs at the start. ``par``: their parameters (default: the scenario's);
        ``anchor.d_half`` sets the starting relations of pairs not given in ``[relations]``.
        With ``[scenario] anchor_offset = "steady_start"`` the runs' anchor offsets
        (:func:`anchor_offset`) are computed here, at this start state, before any event."""
        par = Params.from_spec(world.spec) if par is None else par
        n, p = world.n, len(world.decisions)
        x0 = initial_x(world, par)

        def tile(a: np.ndarray) -> np.ndarray:
            return np.broadcast_to(a, (runs, n, n)).astype(float)

        zeros = np.zeros((runs, n, n))
        x = tile(x0)
        state = cls(x=x, z=latent(x), imports=tile(world.imports0), base=tile(world.imports0),
                    tau=zeros.copy(), ties=tile(world.ties0), exposure=tile(world.exposure0),
                    support=zeros.copy(), concession=zeros.copy(),
                    count=np.zeros((runs, p), dtype=np.int64),
                    last=np.full((runs, p), NEVER, dtype=np.int64),
                    par=par, plan=Plan.build(world, par), x0=x0)
        if world.spec.scenario.anchor_offset == "steady_start":
            fixed = par.cached("anchor_fixed", lambda: anchor_fixed(world, par), owner=world)
            target = anchor(state.x, state.imports, state.ties, world, par, fixed)
            state.offset = anchor_offset(state.z, target, state.x, par)
        return state


def initial_x(world: World, par: Params) -> np.ndarray:
    """Starting relations for the runs' ``anchor.d_half``: ``world.x0`` if it is the
    scenario's, else :meth:`World.initial_x` (``(R, N, N)`` for one value per run)."""
    d = par.anchor.d_half
    if shared(d) and d == world.mech.anchor.d_half:
        return world.x0
    return world.initial_x(d)


# ----------------------------------------------------------------------------- parameters


def shared(v: Any) -> bool:
    """Whether a parameter value is one value for every run (not an ``(R,)`` array)."""
    return not isinstance(v, np.ndarray) or v.ndim == 0


def per_run(v: Any, ndim: int = 3) -> Any:
    """A parameter against arrays of ``ndim`` dimensions with a leading run axis: a scalar as
    is, an ``(R,)`` array as ``(R, 1, ..., 1)``."""
    return v if shared(v) else np.reshape(v, (-1,) + (1,) * (ndim - 1))


_SPECIAL_POWERS = {-1.0: lambda b: 1.0 / b, 0.0: np.ones_like, 0.5: np.sqrt,
                   1.0: lambda b: b + 0.0, 2.0: lambda b: b * b}


def power(base: np.ndarray, e: Any) -> np.ndarray:
    """``base ** e`` for an exponent ``e`` shared by all runs or one per run ``(R,)``. ``base``
    is ``(R, N, N)``, or has no run axis (``(N,)``, ``(N, N)``: the result gets one). numpy
    computes a shared exponent of -1, 0, 0.5, 1 or 2 by special cases (``1/b``, ``1``,
    ``sqrt``, ``b``, ``b·b``); runs with those values get the same here, so every run's floats
    are those of its exponent given alone."""
    if np.ndim(e) == 0:
        return base**e
    out = np.power(base, per_run(e, 3 if np.ndim(base) == 3 else np.ndim(base) + 1))
    for value, special in _SPECIAL_POWERS.items():
        hit = np.asarray(e) == value
        if hit.any():
            out[hit] = special(np.broadcast_to(base, out.shape)[hit])
    return out


def all_on(on: Any) -> bool:
    """Whether a switch (shared, or per run) is on in every run."""
    return bool(on) if shared(on) else bool(on.all())


def choose(on: Any, new: np.ndarray, old: np.ndarray | float) -> np.ndarray:
    """``new`` in the runs where a switch is on, ``old`` in the others (``new`` as is when
    it is on everywhere: the same floats)."""
    return new if all_on(on) else np.where(per_run(on, new.ndim), new, old)


def gate(on: Any, term: np.ndarray) -> np.ndarray:
    """``term`` where a switch is on, zero in the runs where it is off."""
    return choose(on, term, 0.0)


def any_on(on: Any) -> bool:
    """Whether a switch (shared, or per run) is on in any run."""
    return bool(on) if shared(on) else bool(on.any())


# ----------------------------------------------------------------------------- relations


def latent(x: np.ndarray) -> np.ndarray:
    """``z = artanh(x)`` with a zero diagonal (relations strictly inside (-1, 1); the spec
    allows ``|x| ≤ 0.99``, :data:`sim.spec.RELATION_LIMIT`). Any shape."""
    return zero_diagonal(np.arctanh(x))


def saturation(x: np.ndarray, r: Any = 1.0) -> np.ndarray:
    """``G(x) = 1 - (x/R)^2`` (Kułakowski, Gawroński & Gronek 2005, IJMPC 16:707); ``R=None``
    gives ``G = 1``. Kept for the theory reproductions (tests/test_theory.py): the model's
    relations live on the latent scale ``z = artanh(x)``, where ``dx = (1 - x²) dz`` already
    slows moves near ±1, so the model uses no saturation factor."""
    return np.ones_like(x) if r is None else 1.0 - (x / per_run(r, x.ndim)) ** 2


def balance_drift(x: np.ndarray, rate: Any, r: Any = None, form: str = "xxt",
                  normalize: bool = True) -> np.ndarray:
    """Structural-balance pull ``α B_ij`` with ``B_ij = Σ_k x_ik x_jk / (N-2)``: the ``X Xᵀ``
    form, in [-1, 1] for relations in [-1, 1].

    Traag, Van Dooren & De Leenheer (2013, PLoS ONE 8:e60063) show ``X Xᵀ`` reaches balance
    from asymmetric starts where ``X²`` does not. The model adds ``α B`` to the latent
    ``z`` (:func:`relation_step`), so no saturation factor is needed (``r=None``, the default).
    ``rate`` α (latent units per month) and ``r`` may be scalars or ``(R,)``; ``x`` is
    ``(R, N, N)`` (or ``(N, N)``). Pure modes for the theory checks: ``form="x2"`` gives
    ``Σ_k x_ik x_kj`` (Marvel et al. 2011, ``dX/dt = X²``), ``r`` multiplies by
    :func:`saturation` ``1 - (x/r)²``, ``normalize=False`` drops ``1/(N-2)``.
    """
    n = x.shape[-1]
    other = np.swapaxes(x, -1, -2) if form == "xxt" else x
    if form not in ("xxt", "x2"):
        raise ValueError(f"form must be 'xxt' or 'x2', not {form!r}")
    agree = x @ other
    rate = per_run(rate, x.ndim)
    scale = rate / max(n - 2, 1) if normalize else rate
    return scale * agree if r is None else scale * saturation(x, r) * agree


def zero_diagonal(a: np.ndarray) -> np.ndarray:
    """Set ``a[..., i, i] = 0`` in place (no self-relations); returns ``a``."""
    n = a.shape[-1]
    a[..., np.arange(n), np.arange(n)] = 0.0
    return a


def symmetric(x: np.ndarray) -> np.ndarray:
    """``(x_ij + x_ji) / 2``: the dyad's mean alignment."""
    return 0.5 * (x + np.swapaxes(x, -1, -2))


def threat(x: np.ndarray, capability: np.ndarray, exponent: Any) -> np.ndarray:
    """Threat to i from j: ``T_ij = (P_j / max P)^a · max(0, -x_ji)`` (Walt 1987; our form).

    Power ``P`` is the COW CINC share; intent is j's hostility toward i. Proximity and offensive
    capability are left out (SCIENCE.md §3 lists them; no data for them here). ``a``: scalar
    or ``(R,)``; ``x``: ``(R, N, N)`` or ``(N, N)``.
    """
    rel = power(capability / capability.max(), exponent)  # (N,) or (R, N)
    hostility = np.maximum(0.0, -np.swapaxes(x, -1, -2))
    return rel[..., None, :] * hostility


def shared_threat(t: np.ndarray) -> np.ndarray:
    """Shared threat ``S_ij = Σ_k T_ik T_jk`` (k ≠ i, j): both threatened by the same states.

    Balance of threat (Walt 1985): states align against a common threat. Our operationalisation.
    """
    return zero_diagonal(t @ np.swapaxes(t, -1, -2))


def dependence(imports: np.ndarray, gdp: np.ndarray, scale: Any) -> np.ndarray:
    """Trade dependence of i on j: ``D_ij = 1 - exp(-(M_ij + M_ji) / (GDP_i · c))``.

    Bilateral goods trade (USD bn) over GDP (USD tn · 1000); ``c`` = ``dependence_scale``.
    Our operationalisation of interdependence as an interest (SCIENCE.md §3); read by the
    decision rules. ``c``: scalar or ``(R,)``; ``imports``: ``(R, N, N)``.
    """
    pair = imports + np.swapaxes(imports, -1, -2)
    return 1.0 - np.exp(-pair / (1000.0 * gdp[:, None] * per_run(scale, imports.ndim)))


def dependence_of(imports: np.ndarray, gdp: np.ndarray, scale: Any, i: int) -> np.ndarray:
    """Row ``D[:, i, :]`` of :func:`dependence` (what the decision rules need), ``(R, N)``."""
    return 1.0 - np.exp(-(imports[:, i, :] + imports[:, :, i])
                        / (1000.0 * gdp[i] * per_run(scale, 2)))


def affinity(ideal: np.ndarray, d_half: Any) -> np.ndarray:
    """Ideological affinity ``A_ij = 1 - |ip_i - ip_j| / d_half`` (UNGA ideal points):
    ``(N, N)``, or ``(R, N, N)`` for ``d_half`` per run (ideal-point units). The initial
    relations' rule (:func:`sim.world.initial_relations`); the anchor uses :func:`ideology`."""
    return 1.0 - np.abs(ideal[:, None] - ideal[None, :]) / per_run(d_half)


def ideology(ideal: np.ndarray) -> np.ndarray:
    """Standardised ideological affinity ``Ã_ij = (μ_d - |ip_i - ip_j|) / s_d``, ``(N, N)``:
    ideal-point distance as a z-score over the USA–CHN–RUS dyads 1992–2019
    (:data:`sim.standardise.CONSTANTS`, from data/derived_idealpoint_distances_USA_CHN_RUS.csv;
    closer = higher; zero diagonal)."""
    c = CONSTANTS
    a = (c["distance_mean"] - np.abs(ideal[:, None] - ideal[None, :])) / c["distance_sd"]
    return zero_diagonal(a)


def trade_volume(imports: np.ndarray) -> np.ndarray:
    """Standardised trade ``D̃_ij = (ln(1 + M_ij + M_ji) - μ) / s`` (USD bn/yr; μ, s over the
    USA–CHN–RUS dyads 1992–2014, data/derived_cow_trade_triad_1990_2014.csv,
    :data:`sim.standardise.CONSTANTS`). ``imports``: ``(R, N, N)``; zero diagonal."""
    c = CONSTANTS
    pair = imports + np.swapaxes(imports, -1, -2)
    return zero_diagonal((np.log1p(pair) - c["log_trade_mean"]) / c["log_trade_sd"])


def anchor_fixed(world: World, mech: Params | Any) -> np.ndarray:
    """The part of the anchor's argument fixed over time, ``b + w_I Ã + w_L L``: ``(N, N)``,
    or ``(R, N, N)`` if any of ``b``, ``w_I``, ``w_L`` varies by run (zero diagonal)."""
    a = mech.anchor
    z = (per_run(a.bias) + per_run(a.w_ideology) * ideology(world.ideal)
         + per_run(a.w_alliance) * world.alliance)
    return zero_diagonal(np.array(z, dtype=float))


def anchor(x: np.ndarray, imports: np.ndarray, ties: np.ndarray, world: World,
           mech: Params | Any, fixed: np.ndarray | None = None) -> np.ndarray:
    """The anchor's argument on the latent scale (latent units, ``(R, N, N)``, zero diagonal):
    ``z*_ij = b + w_I Ã_ij + w_L L_ij + w_D D̃_ij + w_S S̃_ij - w_T T̃_ij + w_K K_ij``.

    SCIENCE.md §3: ideology (Ã, :func:`ideology`), treaty commitments (L, ATOP), trade
    (D̃, :func:`trade_volume`), shared threat and direct threat (S̃, T̃: z-scores of
    :func:`shared_threat` and :func:`threat` over the triangle 1992–2019,
    :mod:`sim.standardise`) and lasting ties from agreements and sanctions (K). Standardised
    inputs make each weight "latent units per sample sd", so no stack of unit weights pushes
    ``z*`` far out (``x* = tanh(z*)``). ``x``, ``imports``, ``ties``: ``(R, N, N)``; ``mech``:
    :class:`sim.params.Params` (weights scalar or ``(R,)``) or :class:`sim.spec.Mechanisms`;
    ``fixed``: :func:`anchor_fixed` if already computed.
    """
    a = mech.anchor
    z = anchor_fixed(world, mech) if fixed is None else fixed
    z = z + per_run(a.w_trade) * trade_volume(imports) + per_run(a.w_ties) * ties
    on = mech.threat.enabled
    if any_on(on):
        c = CONSTANTS
        t = threat(x, world.capability, mech.threat.power_exponent)
        s_std = (shared_threat(t) - c["shared_threat_mean"]) / c["shared_threat_sd"]
        t_std = (t - c["threat_mean"]) / c["threat_sd"]
        zt = z + per_run(a.w_shared_threat) * s_std - per_run(a.w_threat) * t_std
        z = choose(on, zt, z)
    return zero_diagonal(np.array(z, dtype=float))


def anchor_offset(z0: np.ndarray, target: np.ndarray, x0: np.ndarray,
                  mech: Params | Any) -> np.ndarray:
    """The anchor offset of ``[scenario] anchor_offset = "steady_start"``, per run and dyad:
    ``c_ij = z0_ij - z*_ij(x0) - (α/β) B_ij(x0)`` (latent units, ``(R, N, N)``, zero diagonal).

    Base-year (steady-state) calibration, as CGE models calibrate their shift parameters to
    reproduce the benchmark data set as an equilibrium (Shoven & Whalley 1992, *Applying General
    Equilibrium*, ch. 5) and DSGE models set constants so that the steady state matches the
    observed ratios: the anchor gets a constant dyad term ``c`` so that the start is a fixed
    point of the deterministic part of :func:`relation_step`. With the anchor ``z* + c``, at
    ``z = z0``, ``x = x0``: ``β (z* + c - z0) + α B = 0``, so without events, decisions and
    noise the relations stay at ``z0`` as long as the anchor's inputs stay at their start
    values (trade at its base, no tariffs; the initial ties stock ``K`` still fades with
    ``events.ties_half_life`` and moves ``z*`` by ``w_K ΔK``). ``c`` is the dyad's residual
    of the anchor equation at the start, kept constant: what the inputs do not explain about
    the start is taken as lasting. Events, decisions and noise then move ``z`` away from the
    start and the anchor pulls it back toward ``z0`` (not toward ``z*(x0)``).

    ``z0``, ``x0 = tanh(z0)``: the start, ``(R, N, N)``; ``target``: :func:`anchor` at the
    start ``z*(x0)`` (without offset), ``(R, N, N)``; ``mech``: α (``balance.rate``, per
    month), β (``anchor.rate``, per month) and the switches, scalars or ``(R,)``. A run with the
    balance term off gets ``c = z0 - z*``; a run with the anchor off or ``β = 0`` gets
    ``c = 0`` (no anchor to offset: its start is not a fixed point).
    """
    b, a = mech.balance, mech.anchor
    pull = np.zeros_like(z0)
    if any_on(b.enabled):
        pull = gate(b.enabled, balance_drift(x0, b.rate))
    on = np.logical_and(a.enabled, np.asarray(a.rate) > 0)  # bool, or (R,)
    beta = per_run(np.where(on, a.rate, 1.0), z0.ndim)  # 1.0 where c is 0 anyway
    return zero_diagonal(np.array(gate(on, z0 - target - pull / beta), dtype=float))


def anchor_base(world: World, state: State) -> np.ndarray:
    """The part of the anchor fixed over a run: :func:`anchor_fixed` plus the runs' offset
    ``c`` (:func:`anchor_offset`) if they have one; ``(N, N)`` or ``(R, N, N)``. Both engines
    start every month's anchor from this array (the same floats)."""
    par = state.par
    fixed = par.cached("anchor_fixed", lambda: anchor_fixed(world, par), owner=world)
    if state.offset is None:
        return fixed
    return par.cached("anchor_base", lambda: fixed + state.offset, owner=state.offset)


def relation_step(z: np.ndarray, x: np.ndarray, target: np.ndarray, noise: np.ndarray,
                  mech: Params | Any) -> np.ndarray:
    """One month on the latent scale: ``z ← z + β (z* - z) + α B + σ ξ`` with
    ``B = X Xᵀ / (N-2)`` (:func:`balance_drift`) at the month's ``x = tanh(z)``; returns the
    new ``z`` (zero diagonal). ``x = tanh(z)`` is then in (-1, 1) without a clip, and ``|z|``
    grows only as far as the forces push it (each term is bounded: ``|B| ≤ 1``, ``z*`` finite).

    ``z``, ``x``, ``target`` (``z*``, :func:`anchor`), ``noise``: ``(R, N, N)``; α, β (per
    month), σ (latent units per month) and each term's switch: scalars or ``(R,)`` (a term
    switched off in a run adds nothing there).
    """
    dz = np.zeros_like(z)
    b, a, s = mech.balance, mech.anchor, mech.noise
    if any_on(b.enabled):
        dz += gate(b.enabled, balance_drift(x, b.rate))
    if any_on(a.enabled):
        dz += gate(a.enabled, per_run(a.rate) * (target - z))
    if any_on(s.enabled):
        dz += gate(s.enabled, per_run(s.sigma) * noise)
    return zero_diagonal(z + dz)


# ----------------------------------------------------------------------------- trade


def adjustment_rate(eps_one_year: float, eps_long_run: float) -> float:
    """Monthly partial-adjustment rate ``a`` with ``ε(12) = ε_LR (1 - (1-a)^12) = ε_1y``.

    Boehm, Levchenko & Pandalai-Nayar (AER 2023): ≈0.76 after one year, ≈2 long run,
    giving ``a ≈ 0.039`` per month.
    """
    if eps_long_run <= 0 or eps_one_year >= eps_long_run:
        return 1.0
    return 1.0 - (1.0 - eps_one_year / eps_long_run) ** (1.0 / 12.0)


def adjustment_rates(par: Params | Any) -> Any:
    """:func:`adjustment_rate` of the runs: a float, or ``(R,)`` computed per run with
    Python floats (the same floats as a shared value)."""
    tr = par.trade
    if np.ndim(tr.elasticity_one_year) == 0 and np.ndim(tr.elasticity_long_run) == 0:
        return adjustment_rate(tr.elasticity_one_year, tr.elasticity_long_run)
    one, long = np.broadcast_arrays(tr.elasticity_one_year, tr.elasticity_long_run)
    return np.array([adjustment_rate(float(a), float(b)) for a, b in zip(one, long, strict=True)])


def ties_decay(half_life: Any) -> Any:
    """Monthly factor ``2^(-1/h_K)`` of the ties stock (``h_K`` in months; float or ``(R,)``)."""
    if np.ndim(half_life) == 0:
        return 0.5 ** (1.0 / half_life)
    return np.array([0.5 ** (1.0 / float(h)) for h in half_life])


def trade_target(base: np.ndarray, tau: np.ndarray, x: np.ndarray, x0: np.ndarray,
                 mech: Params | Any, x0_mean: np.ndarray | None = None) -> np.ndarray:
    """Long-run imports ``M*_ij``: CES tariff response, diversion and alignment feedback.

    ``M*_ij = B̃_ij e^{κ (x̄_ij - x̄0_ij)} + θ B̃_ij Σ_{l≠j} B°_il / Σ_{k≠l} B̃_ik`` with
    ``B̃ = B (1+τ)^(-ε)`` the imports kept at the new tariffs and ``B° = B - B̃`` those lost:
    a share ``θ`` of what i no longer buys from l is bought from the other partners k ≠ l, in
    proportion to what i still buys from them (gravity/CES, Head & Mayer 2014; diversion to
    third countries: Alfaro & Chor 2023; alignment: Gopinath et al. 2024, ≈12% less trade
    between blocs, so κ ≈ 0.13). Arrays ``(R, N, N)`` (``x0`` may be ``(N, N)``; ``x0_mean``:
    ``symmetric(x0)`` if already computed); ``ε``, ``θ``, ``κ``: scalars or ``(R,)``.
    """
    tr = mech.trade
    kept = base * power(1.0 + np.maximum(tau, -0.99), -tr.elasticity_long_run)
    lost = np.maximum(base - kept, 0.0)
    others = kept.sum(axis=-1, keepdims=True) - kept  # Σ_{k≠l} K_ik, per lost partner l
    share = np.divide(lost, others, out=np.zeros_like(lost), where=others > 1e-12)
    diverted = per_run(tr.diversion) * kept * (share.sum(axis=-1, keepdims=True) - share)
    x0_mean = symmetric(x0) if x0_mean is None else x0_mean
    align = np.exp(per_run(tr.alignment_semi_elasticity) * (symmetric(x) - x0_mean))
    return kept * align + diverted


def trade_step(imports: np.ndarray, target: np.ndarray, rate: Any) -> np.ndarray:
    """Partial adjustment in logs: ``ln M ← ln M + a (ln M* - ln M)`` (zero flows stay zero
    until a target appears, then start at 1% of it). ``a``: per month, scalar or ``(R,)``."""
    start = np.where((imports <= 0) & (target > 0), 0.01 * target, imports)
    safe = np.maximum(start, 1e-300)
    out = np.where(target > 0, safe * power(np.maximum(target, 1e-300) / safe, rate), 0.0)
    return out


# ----------------------------------------------------------------------------- events and time


def apply_effect(state: State, effect: Effect, mask: np.ndarray | None = None) -> None:
    """Add an event's effect to every run, or only to the runs where ``mask`` is true
    (the others are not touched, so a run never depends on the runs batched with it).
    Relation shocks (``x`` terms, :mod:`sim.events`) add to the latent ``z``:
    ``x ← tanh(artanh(x) + δ)``.
    A per-run magnitude ``(R,)`` gives each run its own increment."""
    rows = slice(None) if mask is None else np.flatnonzero(mask)
    moved = False
    for (name, i, j), value in effect.terms.items():
        arr = state.z if name == "x" else getattr(state, name)
        moved |= name == "x"
        arr[rows, i, j] += value if shared(value) else value[rows]
    if moved:  # relation shocks move the latent z: x ← tanh(artanh(x) + δ)
        zero_diagonal(state.z)
        state.x[rows] = np.tanh(state.z[rows])
    np.maximum(state.tau, 0.0, out=state.tau)


def begin_month(state: State, world: World, t: int) -> None:
    """Scheduled events of month ``t`` (in the runs where ``events.enabled``) and lagged
    effects of earlier decisions (pipelines, ``pipeline_lead_months`` after the decision).
    Decisions are switched off per policy."""
    on = state.par.events.enabled
    if t in state.plan.schedule and any_on(on):
        apply_effect(state, state.plan.schedule[t], None if shared(on) else on)
    for k, i, j, value, lag in state.plan.lagged:
        due = (state.last[:, k] == t - lag) & (np.asarray(lag) > 0)
        if due.any():
            rows = np.flatnonzero(due)
            state.base[rows, i, j] += value if shared(value) else value[rows]


def evolve(state: State, world: World, noise: np.ndarray) -> None:
    """Relations and trade move one month (in place); ``noise`` is ``(R, N, N)`` standard normal.
    Parameters: ``state.par`` (shared or per run)."""
    par = state.par
    target = anchor(state.x, state.imports, state.ties, world, par, anchor_base(world, state))
    x_old = state.x
    state.z = relation_step(state.z, x_old, target, noise, par)
    state.x = np.tanh(state.z)
    on = par.trade.enabled
    if any_on(on):
        x0_mean = par.cached("x0_mean", lambda: symmetric(state.x0), owner=state.x0)
        target = trade_target(state.base, state.tau, x_old, state.x0, par, x0_mean)
        rate = par.cached("adjustment_rate", lambda: adjustment_rates(par))
        moved = trade_step(state.imports, target, rate)
        state.imports = choose(on, moved, state.imports)
    state.ties *= per_run(par.cached("ties_decay", lambda: ties_decay(par.events.ties_half_life)))
