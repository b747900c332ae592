"""The numba backend of the batched engine: one jitted month over all runs of a batch.

The same month as :func:`sim.engine.month` (scheduled events and lagged imports, every
decision's probability and firing, the decisions' effects, relations, trade and ties), fused into
one compiled call, and the record into the trajectory. The state lives in one array ``S`` of
shape ``(9, N, N, R)`` with the runs innermost, so every step (decisions included) is a loop over
the run axis that the compiler vectorises. Every parameter is passed as one value per run (a
shared value is broadcast), so per-run parameters cost nothing extra. The month draws its own
random numbers (:func:`draw_month`): :mod:`sim.seeds`' counter-based Philox4x64-10 and its
transforms, bit for bit, computed in the kernel from the key and the run ids, so this backend
draws nothing in numpy.

The equations, and the order of the floating-point operations where it matters, are those of
:mod:`sim.kernels` and :mod:`sim.policies` (the numpy backend, which stays the reference).
Results agree to rounding and every decision fires identically (tests/test_fast.py: relations
and probabilities to 1e-12, imports to 1e-12 of their size). The differences: the order of a
few sums (numpy's pairwise sums, BLAS products; here each symmetric product once per pair) and
exp, log, pow and tanh written out below (a few units in the last place, fused multiply-adds in
their polynomials), since library calls would keep the run loops from vectorising. No fastmath.

Requires numba (``pip install sim[fast]``); importing this module without it raises
ImportError.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
from llvmlite import binding, ir
from numba.core import cgutils, types
from numba.extending import get_cython_function_address, intrinsic

from sim import seeds
from sim.events import FIELDS
from sim.kernels import (
    NEVER,
    State,
    adjustment_rates,
    anchor_base,
    power,
    symmetric,
    ties_decay,
)
from sim.standardise import CONSTANTS
from sim.world import World

# ----------------------------------------------------------------------------- layout

Z, TAU, TIES, EXPOSURE, SUPPORT, CONCESSION, BASE, X, IMPORTS = range(9)
"""Rows of the state array ``S`` (``(9, N, N, R)``): the event fields first, in
:data:`sim.events.FIELDS` order (an event's ``x`` term moves the latent ``z``)."""
FIELD_ROW = {name: (Z if name == "x" else k) for k, name in enumerate(FIELDS)}

PAR = ("bal_on", "bal_scale", "anc_on", "anc_rate", "noise_on", "sigma", "w_trade", "w_ties",
       "thr_on", "w_shared_threat", "w_threat", "trade_on", "neg_eps", "diversion", "kappa",
       "adjust", "ties_decay", "dep_scale", "events_on")
"""Rows of the per-run parameter matrix ``par`` ``(K, R)`` (switches as 1.0 / 0.0)."""
(BAL_ON, BAL_SCALE, ANC_ON, ANC_RATE, NOISE_ON, SIGMA, W_TRADE, W_TIES, THR_ON, W_ST, W_T,
 TRADE_ON, NEG_EPS, DIVERSION, KAPPA, ADJUST, TIES_DECAY, DEP_SCALE, EVENTS_ON) = range(len(PAR))

DPAR = ("enabled", "log_h", "threshold", "temperature", "duration_shape", "max_times",
        "cooldown_months", "gain", "w_alignment", "w_gain", "w_risk", "w_response",
        "horizon_months", "inc")
"""Rows of the per-decision parameter array ``dpar`` ``(P, K, R)``: the policy's values
(0 where a rule has no such key), ``log_h = log(hazard)`` and ``inc``, the support a grant adds
(:func:`sim.policies.response_cost`)."""
(D_ON, D_LOG_H, D_THRESHOLD, D_TEMPERATURE, D_SHAPE, D_MAX_TIMES, D_COOLDOWN, D_GAIN, D_W_ALIGN,
 D_W_GAIN, D_W_RISK, D_W_RESPONSE, D_HORIZON, D_INC) = range(len(DPAR))

ESCALATE, GRANT_ASK, CONCEDE = 0, 1, 2
RULES = {"escalate": ESCALATE, "grant_ask": GRANT_ASK, "concede": CONCEDE}


def _runs(v: object, runs: int) -> np.ndarray:
    """A parameter value (scalar or ``(R,)``) as a float array ``(R,)`` (a writable copy)."""
    return np.array(np.broadcast_to(np.asarray(v, dtype=float), (runs,)), order="C")


def _lanes(a: np.ndarray, runs: int) -> np.ndarray:
    """An ``(N, N)`` or ``(R, N, N)`` array as ``(N, N, R)`` (runs innermost), a writable copy
    whatever ``R``: the kernel's arguments then have one type (readonly views would compile a
    second version of it, e.g. for one run)."""
    n = a.shape[-1]
    return np.array(np.moveaxis(np.broadcast_to(a, (runs, n, n)), 0, -1), order="C")


@dataclass
class Terms:
    """Effects as flat arrays: term ``m`` adds ``value[m, r]`` to ``S[field[m], i[m], j[m], r]``;
    the terms of effect ``e`` are ``offset[e] .. offset[e+1]-1``."""

    offset: np.ndarray
    field: np.ndarray
    i: np.ndarray
    j: np.ndarray
    value: np.ndarray

    @classmethod
    def build(cls, effects: list, runs: int) -> Terms:
        """``effects``: :class:`sim.events.Effect` or None (no terms), in order."""
        offset, rows = [0], []
        for eff in effects:
            items = [] if eff is None else list(eff.terms.items())
            rows += [(FIELD_ROW[name], i, j, _runs(v, runs)) for (name, i, j), v in items]
            offset.append(len(rows))
        return cls(np.array(offset, dtype=np.int64),
                   np.array([r[0] for r in rows], dtype=np.int64),
                   np.array([r[1] for r in rows], dtype=np.int64),
                   np.array([r[2] for r in rows], dtype=np.int64),
                   np.array([r[3] for r in rows]).reshape(len(rows), runs))


class Batch:
    """The runs of one batch in the numba layout, built from the numpy :class:`State` at the
    start: :meth:`run` advances them through every month and records them."""

    def __init__(self, world: World, state: State) -> None:
        runs, n = state.x.shape[0], world.n
        par, plan = state.par, state.plan
        self.world, self.runs = world, runs
        S = np.zeros((9, n, n, runs))
        for row, arr in ((Z, state.z), (TAU, state.tau), (TIES, state.ties),
                         (EXPOSURE, state.exposure), (SUPPORT, state.support),
                         (CONCESSION, state.concession), (BASE, state.base), (X, state.x),
                         (IMPORTS, state.imports)):
            S[row] = _lanes(arr, runs)
        self.S = S
        self.count = np.ascontiguousarray(state.count.T)
        self.last = np.ascontiguousarray(state.last.T)
        a = par.anchor
        values = {
            "bal_on": par.balance.enabled, "bal_scale": np.asarray(par.balance.rate)
            / max(n - 2, 1), "anc_on": a.enabled, "anc_rate": a.rate,
            "noise_on": par.noise.enabled, "sigma": par.noise.sigma, "w_trade": a.w_trade,
            "w_ties": a.w_ties, "thr_on": par.threat.enabled,
            "w_shared_threat": a.w_shared_threat, "w_threat": a.w_threat,
            "trade_on": par.trade.enabled, "neg_eps": -np.asarray(par.trade.elasticity_long_run),
            "diversion": par.trade.diversion, "kappa": par.trade.alignment_semi_elasticity,
            "adjust": par.cached("adjustment_rate", lambda: adjustment_rates(par)),
            "ties_decay": par.cached("ties_decay", lambda: ties_decay(par.events.ties_half_life)),
            "dep_scale": a.dependence_scale, "events_on": par.events.enabled}
        self.par = np.stack([_runs(values[k], runs) for k in PAR])
        self.fixed = _lanes(anchor_base(world, state), runs)  # offset included, if any
        self.x0_mean = _lanes(symmetric(state.x0), runs)
        rel = power(world.capability / world.capability.max(), par.threat.power_exponent)
        self.relcap = np.array(np.broadcast_to(rel, (runs, n)).T, order="C")
        self.decisions = self._decisions(world, state)
        months = world.months
        self.schedule = Terms.build([plan.schedule.get(t) for t in range(months)], runs)
        self.acts = Terms.build(plan.decisions, runs)
        lag = plan.lagged
        self.lag_k = np.array([e[0] for e in lag], dtype=np.int64)
        self.lag_i = np.array([e[1] for e in lag], dtype=np.int64)
        self.lag_j = np.array([e[2] for e in lag], dtype=np.int64)
        self.lag_v = np.array([_runs(e[3], runs) for e in lag]).reshape(len(lag), runs)
        self.lag_m = np.array([np.broadcast_to(np.asarray(e[4], dtype=np.int64), (runs,))
                               for e in lag], dtype=np.int64).reshape(len(lag), runs)
        self.consts = np.array([CONSTANTS[k] for k in (
            "log_trade_mean", "log_trade_sd", "threat_mean", "threat_sd", "shared_threat_mean",
            "shared_threat_sd")])

    def _decisions(self, world: World, state: State) -> tuple[np.ndarray, np.ndarray]:
        """``(P, 6)`` ints (rule, actor, other, watch, sanctions instrument, pipeline ask) and
        ``(P, K, R)`` per-run policy values (:data:`DPAR`)."""
        runs, par, plan = self.runs, state.par, state.plan
        ints = np.zeros((len(world.decisions), 6), dtype=np.int64)
        dpar = np.zeros((len(world.decisions), len(DPAR), runs))
        for d in world.decisions:
            pol = par.policies[d.index]
            ints[d.index] = (RULES[d.rule], d.actor, d.other, d.watch,
                             getattr(d.params, "instrument", "") == "secondary_sanctions",
                             getattr(d.params, "ask", "") == "pipeline")
            with np.errstate(divide="ignore"):
                log_h = np.log(np.asarray(pol.hazard, dtype=float))
            inc = plan.decisions[d.index].terms.get(("support", d.actor, d.other), 0.0)
            vals = {"enabled": pol.enabled, "log_h": log_h, "inc": inc}
            for k in DPAR:
                v = vals[k] if k in vals else getattr(pol, k, 0.0)
                dpar[d.index, DPAR.index(k)] = _runs(v, runs)
        return ints, dpar

    def run(self, key: np.ndarray, ids: np.ndarray, sink: Any) -> None:
        """Advance every month, the random numbers of the runs ``ids`` ``(R,)`` (non-negative
        ints) under Philox key ``key`` (:func:`sim.seeds.key`) computed in the kernel
        (:func:`draw_month`: the numbers of :class:`sim.seeds.Draws`, bit for bit). Records are kept
        in the run-innermost layout for :data:`BLOCK` months, then handed to
        ``sink(t0, count, xb, ib, pb, fb)``: ``count`` months from month ``t0``, ``xb``, ``ib``
        ``(BLOCK, N, N, R)`` (relations, imports after each month), ``pb``, ``fb``
        ``(BLOCK, P, R)`` (decision probabilities, firings); buffers reused between blocks."""
        ints, dpar = self.decisions
        s, a = self.schedule, self.acts
        n, runs, months = self.world.n, self.runs, self.world.months
        block = min(BLOCK, months)
        xb, ib = np.empty((block, n, n, runs)), np.empty((block, n, n, runs))
        pb, fb = np.empty((block, len(ints), runs)), np.empty((block, len(ints), runs), bool)
        key = np.asarray(key, dtype=np.uint64)
        ids = np.asarray(ids, dtype=np.int64).astype(np.uint64)
        for t in range(months):
            m = t % block
            _month(self.S, self.count, self.last, t, key, ids, pb[m], fb[m], xb[m], ib[m],
                   self.par, self.fixed, self.x0_mean, self.relcap, self.world.gdp, self.consts,
                   ints, dpar, s.offset, s.field, s.i, s.j, s.value,
                   a.offset, a.field, a.i, a.j, a.value,
                   self.lag_k, self.lag_i, self.lag_j, self.lag_v, self.lag_m,
                   n >= BLAS_N)
            if m == block - 1 or t == months - 1:
                sink(t - m, m + 1, xb, ib, pb, fb)


BLOCK = 8
"""Months recorded in the run-innermost layout before copying out (:meth:`Batch.run`)."""

BLAS_N = 48
"""From this many states on, the month's two matrix products (``X Xᵀ``, ``T Tᵀ``) go to BLAS
run by run (:func:`_gram`); below, compiled loops with the runs as the vector lane are faster
(a batch then has many runs, :func:`sim.engine.batch_size`)."""


# ----------------------------------------------------------------------------- lane maths
# exp, expm1, log, log1p, pow and tanh written out (no library calls), so that the loops over
# the run axis vectorise; accurate to a few units in the last place for the arguments the model
# produces (tests/test_fast.py checks them against numpy).


@intrinsic
def _as_float(typingctx: Any, bits: Any) -> Any:
    """The float64 whose bits are the int64 ``bits``."""
    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


@intrinsic
def _as_bits(typingctx: Any, value: Any) -> Any:
    """The bits of the float64 ``value`` as an int64."""
    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.IntType(64))
    return types.int64(types.float64), codegen


@intrinsic
def _fma(typingctx: Any, a: Any, b: Any, c: Any) -> Any:
    """``a·b + c`` rounded once (the FMA instruction): Horner steps, faster and more exact."""
    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        return builder.fma(*args)
    return types.float64(types.float64, types.float64, types.float64), codegen


LN2_HI = 6.93147180369123816490e-01  # fdlibm's split of ln 2: LN2_HI * n is exact for |n| < 2^11
LN2_LO = 1.90821492927058770002e-10
INV_LN2 = 1.44269504088896338700e+00
SQRT2 = 1.4142135623730951
EXP_MIN, EXP_MAX = -708.0, 709.0  # normal results only; exp below EXP_MIN gives 0
MANTISSA, ONE_BITS = 0x000FFFFFFFFFFFFF, 0x3FF0000000000000

lane = numba.njit(inline="always", error_model="numpy")


@lane
def _exp_poly(r: float) -> float:
    """``e^r`` for ``|r| ≤ ln2 / 2``: Taylor to ``r^13`` (error < 1e-17)."""
    p = 1.0 / 6227020800.0
    p = _fma(r, p, 1.0 / 479001600.0)
    p = _fma(r, p, 1.0 / 39916800.0)
    p = _fma(r, p, 1.0 / 3628800.0)
    p = _fma(r, p, 1.0 / 362880.0)
    p = _fma(r, p, 1.0 / 40320.0)
    p = _fma(r, p, 1.0 / 5040.0)
    p = _fma(r, p, 1.0 / 720.0)
    p = _fma(r, p, 1.0 / 120.0)
    p = _fma(r, p, 1.0 / 24.0)
    p = _fma(r, p, 1.0 / 6.0)
    p = _fma(r, p, 0.5)
    return r + r * (r * p)  # e^r - 1


@lane
def _reduce(x: float) -> tuple[float, float, float]:
    """``x = n ln2 + r`` with ``|r| ≤ ln2 / 2`` (Cody & Waite; ``x`` clamped to the normal
    range): ``(n, r, 2^n)``."""
    c = min(max(x, EXP_MIN), EXP_MAX)
    n = math.floor(c * INV_LN2 + 0.5)
    r = (c - n * LN2_HI) - n * LN2_LO
    return n, r, _as_float((np.int64(n) + 1023) << 52)


@lane
def vexp(x: float) -> float:
    """``e^x = 2^n e^r``; 0 below ``EXP_MIN``."""
    _, r, scale = _reduce(x)
    out = (1.0 + _exp_poly(r)) * scale
    return 0.0 if x < EXP_MIN else out


@lane
def vexpm1(x: float) -> float:
    """``e^x - 1``, accurate near 0 (``n = 0``: the polynomial itself)."""
    n, r, scale = _reduce(x)
    p = _exp_poly(r)
    out = p if n == 0.0 else (1.0 + p) * scale - 1.0
    return -1.0 if x < EXP_MIN else out


@lane
def vlog(x: float) -> float:
    """``ln x`` for a positive normal ``x``: ``x = 2^e m`` with ``m`` in ``[√2/2, √2)``,
    ``ln m = 2 artanh(s)``, ``s = (m-1)/(m+1)``, in fdlibm's arrangement (series to ``s^21``)."""
    bits = _as_bits(x)
    e = (bits >> 52) - 1023
    m = _as_float((bits & MANTISSA) | ONE_BITS)
    big = m > SQRT2
    m = 0.5 * m if big else m
    k = float(e + 1) if big else float(e)
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    q = 2.0 / 21.0
    q = _fma(z, q, 2.0 / 19.0)
    q = _fma(z, q, 2.0 / 17.0)
    q = _fma(z, q, 2.0 / 15.0)
    q = _fma(z, q, 2.0 / 13.0)
    q = _fma(z, q, 2.0 / 11.0)
    q = _fma(z, q, 2.0 / 9.0)
    q = _fma(z, q, 2.0 / 7.0)
    q = _fma(z, q, 2.0 / 5.0)
    q = _fma(z, q, 2.0 / 3.0)
    hfsq = 0.5 * f * f
    return k * LN2_HI - ((hfsq - (s * (hfsq + z * q) + k * LN2_LO)) - f)


@lane
def vlog1p(y: float) -> float:
    """``ln(1 + y)`` for ``y > -1``, accurate near 0 (Goldberg's correction)."""
    u = 1.0 + y
    return y if u == 1.0 else vlog(u) * (y / (u - 1.0))


@lane
def vpow(b: float, e: float) -> float:
    """``b^e = e^(e ln b)`` for ``b > 0`` (``b^0 = 1`` exactly; numpy's special exponents -1,
    0.5, 1, 2 come within a few units in the last place of ``1/b``, ``√b``, ``b``, ``b²``)."""
    return vexp(e * vlog(b))


@lane
def vtanh(z: float) -> float:
    """``tanh |z| = -m / (2 + m)`` with ``m = e^{-2|z|} - 1``, and the sign of ``z``."""
    m = vexpm1(-2.0 * abs(z))
    t = -m / (2.0 + m)
    return t if z >= 0.0 else -t


# ----------------------------------------------------------------------------- random numbers
# sim.seeds' numbers computed in the kernel: the same counter-based Philox4x64-10 and the same
# transforms, bit for bit (tests/test_fast.py), so the numba path draws nothing in numpy.

U64 = np.uint64
M0, M1 = U64(seeds.MULTIPLIERS[0]), U64(seeds.MULTIPLIERS[1])
W0, W1 = U64(seeds.WEYL[0]), U64(seeds.WEYL[1])
LO32, SHIFT32, SHIFT12 = U64(0xFFFFFFFF), U64(32), U64(12)
NDTRI = "sim_scipy_special_ndtri"
"""The symbol under which scipy's compiled ``ndtri`` (through its Cython API,
``scipy.special.cython_special``: the same Cephes ``ndtri`` as the ufunc
:func:`sim.seeds.normal` calls, logarithms and all, so the normals agree bit for bit) is known to
the compiled code; cached code finds it again by name in a new process."""
binding.add_symbol(NDTRI, get_cython_function_address("scipy.special.cython_special", "ndtri"))


@intrinsic
def _ndtri(typingctx: Any, y: Any) -> Any:
    """``Φ⁻¹(y)``: a call of scipy's ``ndtri`` (:data:`NDTRI`)."""
    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        fnty = ir.FunctionType(ir.DoubleType(), [ir.DoubleType()])
        return builder.call(cgutils.get_or_insert_function(builder.module, fnty, NDTRI), args)
    return types.float64(types.float64), codegen


@lane
def mulhilo(m: np.uint64, a: np.uint64) -> tuple[np.uint64, np.uint64]:
    """High and low 64-bit words of the 128-bit product ``m · a``, from 32-bit halves
    (:func:`sim.seeds._mulhilo`; LLVM turns the high word into one 64×64→128 multiply)."""
    m_lo, m_hi = m & LO32, m >> SHIFT32
    a_lo, a_hi = a & LO32, a >> SHIFT32
    t = a_hi * m_lo + ((a_lo * m_lo) >> SHIFT32)
    w = (t & LO32) + a_lo * m_hi
    return a_hi * m_hi + (t >> SHIFT32) + (w >> SHIFT32), a * m


@lane
def philox(c0: np.uint64, c1: np.uint64, c2: np.uint64, c3: np.uint64, k0: np.uint64,
           k1: np.uint64) -> tuple[np.uint64, np.uint64, np.uint64, np.uint64]:
    """Philox4x64-10 of one counter ``(c0, c1, c2, c3)`` (``c0`` least significant) under key
    ``(k0, k1)``: the four output words. Round: ``(hi₁⊕c1⊕k0, lo₁, hi₀⊕c3⊕k1, lo₀)`` with
    ``hi₀,lo₀ = M0·c0``, ``hi₁,lo₁ = M1·c2``; the key grows by the Weyl constants between
    rounds (Salmon et al. 2011, Random123 ``philox4x64_R``; :func:`sim.seeds.philox`)."""
    for r in range(seeds.ROUNDS):
        if r:
            k0 += W0
            k1 += W1
        hi0, lo0 = mulhilo(M0, c0)
        hi1, lo1 = mulhilo(M1, c2)
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return c0, c1, c2, c3


@lane
def uniform(x: np.uint64) -> float:
    """``((x >> 12) + ½) · 2⁻⁵²`` (:func:`sim.seeds.uniform`; ``x >> 12 < 2⁵²`` converts exactly
    through int64, the fast conversion)."""
    return (float(np.int64(x >> SHIFT12)) + 0.5) * 2.0**-52


@lane
def normal(x: np.uint64) -> float:
    """``Φ⁻¹(uniform(x))`` by scipy's own ``ndtri`` (:func:`sim.seeds.normal`)."""
    return _ndtri(uniform(x))


# ----------------------------------------------------------------------------- compiled parts

jit = numba.njit(cache=True, error_model="numpy")


@jit
def bits(key: np.ndarray, runs: np.ndarray, t: int, tag: int, out: np.ndarray) -> np.ndarray:
    """The first ``W`` raw numbers of stream ``tag`` in month ``t`` of every run into ``out``
    ``(W, R)`` uint64, for ``runs`` ``(R,)`` uint64 and ``key`` ``(2,)`` uint64: number ``4b + w``
    is word ``w`` of Philox block ``(b, tag, t, run)`` (:func:`sim.seeds.bits`, transposed)."""
    k0, k1, c1, c2 = key[0], key[1], U64(tag), U64(t)
    width = out.shape[0]
    for b in range((width + 3) // 4):
        c0 = U64(b)
        for r in range(runs.shape[0]):
            w0, w1, w2, w3 = philox(c0, c1, c2, runs[r], k0, k1)
            out[4 * b, r] = w0
            if 4 * b + 1 < width:
                out[4 * b + 1, r] = w1
            if 4 * b + 2 < width:
                out[4 * b + 2, r] = w2
            if 4 * b + 3 < width:
                out[4 * b + 3, r] = w3
    return out


@jit
def uniforms(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """:func:`uniform` of every raw number ``x`` ``(W, R)`` into ``out`` ``(W, R)``."""
    for w in range(x.shape[0]):
        for r in range(x.shape[1]):
            out[w, r] = uniform(x[w, r])
    return out


@jit
def normals(x: np.ndarray, out: np.ndarray, skip_diagonal: bool = False) -> np.ndarray:
    """:func:`normal` of every raw number ``x`` ``(N², R)`` into ``out`` ``(N, N, R)``, read
    row-major; with ``skip_diagonal`` the diagonal (never used) is set to 0 instead."""
    n = out.shape[0]
    for i in range(n):
        for j in range(n):
            row = x[i * n + j]
            if skip_diagonal and i == j:
                out[i, j, :] = 0.0
                continue
            for r in range(x.shape[1]):
                out[i, j, r] = normal(row[r])
    return out


@jit
def draw_month(key: np.ndarray, runs: np.ndarray, t: int, par: np.ndarray, raw: np.ndarray,
               noise: np.ndarray, u: np.ndarray) -> None:
    """Month ``t``'s numbers of every run as :class:`sim.seeds.Draws` gives them, in the
    run-innermost layout: relation noise ``noise`` ``(N, N, R)`` off the diagonal (skipped if no
    run has noise switched on) and decision uniforms ``u`` ``(P, R)`` (slots ``0 .. P-1``);
    ``raw``: scratch ``(≥ max(N², P), R)`` uint64."""
    n, p = noise.shape[0], u.shape[0]
    noisy = False
    for r in range(runs.shape[0]):
        noisy |= par[NOISE_ON, r] != 0.0
    if noisy:
        normals(bits(key, runs, t, seeds.NOISE, raw[:n * n]), noise, True)
    if p:
        uniforms(bits(key, runs, t, seeds.DECIDE, raw[:p]), u)


@jit
def _apply(S: np.ndarray, r: int, off: np.ndarray, field: np.ndarray, ti: np.ndarray,
           tj: np.ndarray, value: np.ndarray, e: int) -> None:
    """Effect ``e``'s terms in run ``r`` (:func:`sim.kernels.apply_effect`)."""
    moved = False
    for m in range(off[e], off[e + 1]):
        S[field[m], ti[m], tj[m], r] += value[m, r]
        moved |= field[m] == Z
    n = S.shape[1]
    if moved:
        for i in range(n):
            S[Z, i, i, r] = 0.0
        for i in range(n):
            for j in range(n):
                S[X, i, j, r] = vtanh(S[Z, i, j, r])
    for i in range(n):
        for j in range(n):
            S[TAU, i, j, r] = max(S[TAU, i, j, r], 0.0)


@lane
def _cloglog(eta: float) -> float:
    """``1 - exp(-exp(η))`` with ``η`` capped at 50 (:func:`sim.policies.cloglog_probability`)."""
    return -vexpm1(-vexp(min(eta, 50.0)))


@lane
def _hazard(index: float, dp: np.ndarray, r: int, adj: float) -> float:
    """:func:`sim.policies.hazard_eta` then the cloglog probability of run ``r``; ``adj``:
    the duration term (:func:`_duration`)."""
    eta = dp[D_LOG_H, r] + (index - dp[D_THRESHOLD, r]) / dp[D_TEMPERATURE, r]
    return _cloglog(eta + adj)


@jit
def _duration(dp: np.ndarray, last: np.ndarray, t: int, out: np.ndarray) -> np.ndarray:
    """The duration term ``(k - 1) log d`` of every run into ``out`` (0 where ``k = 1``: adding
    it changes nothing), ``d`` the months at risk at month ``t``
    (:func:`sim.policies.months_at_risk`); no logarithm at all if every run has ``k = 1``."""
    shaped = False
    for r in range(dp.shape[1]):
        shaped |= dp[D_SHAPE, r] != 1.0
    if not shaped:
        out[:] = 0.0
        return out
    for r in range(dp.shape[1]):
        mar = float(t + 1) if last[r] == NEVER else float(t - last[r])
        shape = dp[D_SHAPE, r]
        out[r] = (shape - 1.0) * vlog(mar) if shape != 1.0 else 0.0
    return out


@jit
def _escalate(S: np.ndarray, count: np.ndarray, last: np.ndarray, ints: np.ndarray,
              dpar: np.ndarray, k: int, t: int, extra: np.ndarray, horizon: np.ndarray,
              out: np.ndarray, adj: np.ndarray) -> None:
    """:func:`sim.policies.escalate_probability` of rule ``k`` in every run, into ``out``;
    ``extra`` and ``horizon``: ``(R,)``; ``adj``: scratch ``(R,)`` (not ``out``: arrays that
    overlap keep the loop from vectorising)."""
    dp, o, w = dpar[k], ints[k, 2], ints[k, 3]
    _duration(dp, last[k], t, adj)
    for r in range(S.shape[3]):
        index = S[X, o, w, r] + S[SUPPORT, o, w, r] + extra[r]
        p = _hazard(index, dp, r, adj[r])
        allowed = ((count[k, r] < dp[D_MAX_TIMES, r])
                   & (t + horizon[r] - last[k, r] >= dp[D_COOLDOWN, r]) & (dp[D_ON, r] != 0.0))
        out[r] = p if allowed else 0.0


@jit
def _dependence(S: np.ndarray, gdp: np.ndarray, scale: np.ndarray, a: int, dep: np.ndarray,
                known: np.ndarray) -> np.ndarray:
    """Row ``a`` of :func:`sim.kernels.dependence` of every run: ``dep[a]`` ``(N, R)``,
    computed once per month (``known[a]``)."""
    if known[a]:
        return dep[a]
    row = dep[a]
    for j in range(S.shape[1]):
        for r in range(S.shape[3]):
            row[j, r] = 1.0 - vexp(-(S[IMPORTS, a, j, r] + S[IMPORTS, j, a, r])
                                   / (1000.0 * gdp[a] * scale[r]))
    known[a] = True
    return row


@jit
def _probability(S: np.ndarray, count: np.ndarray, last: np.ndarray, ints: np.ndarray,
                 dpar: np.ndarray, k: int, t: int, dep: np.ndarray, out: np.ndarray,
                 tmp: np.ndarray) -> None:
    """:func:`sim.policies.probability` of decision ``k`` in every run, into ``out``; ``dep``:
    the actor's dependence row ``(N, R)``; ``tmp``: scratch ``(5, R)``."""
    runs, n = S.shape[3], S.shape[1]
    dp = dpar[k]
    rule, a, p = ints[k, 0], ints[k, 1], ints[k, 2]
    if rule == ESCALATE:
        zero = tmp[0]
        zero[:] = 0.0
        _escalate(S, count, last, ints, dpar, k, t, zero, zero, out, tmp[4])
        return
    if rule == CONCEDE:
        adj = _duration(dp, last[k], t, tmp[4])
        for r in range(runs):
            prob = _hazard(dep[p, r], dp, r, adj[r])
            out[r] = prob if (count[k, r] < dp[D_MAX_TIMES, r]) & (dp[D_ON, r] != 0.0) else 0.0
        return
    index, hostile, total, p_r = tmp[0], tmp[1], tmp[2], tmp[3]
    hostile[:] = 0.0
    total[:] = 0.0
    for j in range(n):
        for r in range(runs):
            hostile[r] += dep[j, r] * max(0.0, -S[X, j, p, r])
            total[r] += dep[j, r]
    pipeline = ints[k, 5] != 0
    for r in range(runs):
        risk = hostile[r] / max(total[r], 1e-12)
        gain = dp[D_GAIN, r] + (S[CONCESSION, p, a, r] if pipeline else 0.0)
        index[r] = (dp[D_W_ALIGN, r] * S[X, a, p, r] + dp[D_W_GAIN, r] * gain
                    - dp[D_W_RISK, r] * risk)
    cost = hostile  # reused: the expected cost of a response (response_cost)
    cost[:] = 0.0
    for q in range(ints.shape[0]):  # the watching escalate rules, in policy order
        if ints[q, 0] == ESCALATE and ints[q, 2] == a and ints[q, 3] == p:
            _escalate(S, count, last, ints, dpar, q, t + 1, dp[D_INC], dp[D_HORIZON], p_r,
                      tmp[4])
            sanctions = ints[q, 4] != 0
            for r in range(runs):
                h = dp[D_HORIZON, r]
                within = -vexpm1(h * vlog1p(-min(p_r[r], 1.0 - 1e-16)))
                stake = 1.0 + S[EXPOSURE, a, p, r] if sanctions else 1.0
                cost[r] += stake * within
    adj = _duration(dp, last[k], t, tmp[4])
    for r in range(runs):
        w = dp[D_W_RESPONSE, r]
        u = index[r] - w * cost[r] if w != 0.0 else index[r]
        prob = _hazard(u, dp, r, adj[r])
        out[r] = prob if (count[k, r] == 0) & (dp[D_ON, r] != 0.0) else 0.0


@jit
def _decide(S: np.ndarray, count: np.ndarray, last: np.ndarray, t: int, u: np.ndarray,
            prob: np.ndarray, fired: np.ndarray, par: np.ndarray, gdp: np.ndarray,
            ints: np.ndarray, dpar: np.ndarray, s_off: np.ndarray, s_field: np.ndarray,
            s_i: np.ndarray, s_j: np.ndarray, s_val: np.ndarray, a_off: np.ndarray,
            a_field: np.ndarray, a_i: np.ndarray, a_j: np.ndarray, a_val: np.ndarray,
            lag_k: np.ndarray, lag_i: np.ndarray, lag_j: np.ndarray, lag_v: np.ndarray,
            lag_m: np.ndarray) -> None:
    """Scheduled events and lagged imports (:func:`sim.kernels.begin_month`), every decision's
    probability (:func:`sim.policies.probability`), then the firings' effects in policy order
    (:func:`sim.policies.act`); ``u``: the decision uniforms ``(P, R)``; writes ``prob`` and
    ``fired`` ``(P, R)``."""
    runs, n_dec, n = S.shape[3], ints.shape[0], S.shape[1]
    if t < len(s_off) - 1 and s_off[t + 1] > s_off[t]:
        for r in range(runs):
            if par[EVENTS_ON, r] != 0.0:
                _apply(S, r, s_off, s_field, s_i, s_j, s_val, t)
    for m in range(len(lag_k)):
        k, i, j = lag_k[m], lag_i[m], lag_j[m]
        for r in range(runs):
            due = (lag_m[m, r] > 0) & (last[k, r] == t - lag_m[m, r])
            S[BASE, i, j, r] += lag_v[m, r] if due else 0.0
    pk = np.empty((n_dec, runs))
    tmp = np.empty((5, runs))
    dep = np.empty((n, n, runs))
    known = np.zeros(n, dtype=np.bool_)
    for k in range(n_dec):
        if ints[k, 0] == ESCALATE:
            row = dep[0]
        else:
            row = _dependence(S, gdp, par[DEP_SCALE], ints[k, 1], dep, known)
        _probability(S, count, last, ints, dpar, k, t, row, pk[k], tmp)
    for r in range(runs):
        for k in range(n_dec):
            hit = u[k, r] < pk[k, r]
            prob[k, r] = pk[k, r]
            fired[k, r] = hit
            if hit:
                _apply(S, r, a_off, a_field, a_i, a_j, a_val, k)
                count[k, r] += 1
                last[k, r] = t


@jit
def _gram(a: np.ndarray, out: np.ndarray, acc: np.ndarray, blas: bool) -> None:
    """``out[i, j, r] = out[j, i, r] = Σ_k a[i, k, r] a[j, k, r]`` for ``i < j`` (the product
    ``A Aᵀ`` of every run, symmetric; the diagonal is not written) from ``a`` ``(N, N, R)``.
    ``blas``: each run's product by BLAS on a contiguous copy (fast for large ``N``, where a
    batch has few runs); else summed in ``k`` order with the runs as the vector lane (small
    ``N``, many runs). ``acc``: scratch ``(R,)``."""
    n, runs = a.shape[0], a.shape[2]
    if blas:
        for r in range(runs):
            m = np.ascontiguousarray(a[:, :, r])
            g = np.dot(m, m.T)
            for i in range(n):
                for j in range(i + 1, n):
                    out[i, j, r] = g[i, j]
                    out[j, i, r] = g[i, j]
        return
    for i in range(n):
        for j in range(i + 1, n):
            acc[:] = 0.0
            for k in range(n):
                for r in range(runs):
                    acc[r] += a[i, k, r] * a[j, k, r]
            for r in range(runs):
                out[i, j, r] = acc[r]
                out[j, i, r] = acc[r]


@jit
def _anchor(S: np.ndarray, par: np.ndarray, fixed: np.ndarray, relcap: np.ndarray,
            consts: np.ndarray, target: np.ndarray, thr: np.ndarray, gram: np.ndarray,
            acc: np.ndarray, blas: bool) -> None:
    """The anchor's argument ``z*`` of every run into ``target`` (:func:`sim.kernels.anchor`);
    ``thr``, ``gram``: scratch ``(N, N, R)``, ``acc``: ``(R,)``; ``blas``: the product
    ``T Tᵀ`` by BLAS (:func:`_gram`)."""
    n, runs = S.shape[1], S.shape[3]
    x, imp, ties = S[X], S[IMPORTS], S[TIES]
    w_trade, w_ties, thr_on = par[W_TRADE], par[W_TIES], par[THR_ON]
    w_st, w_t = par[W_ST], par[W_T]
    lt_mean, lt_sd, t_mean, t_sd = consts[0], consts[1], consts[2], consts[3]
    s_mean, s_sd = consts[4], consts[5]
    any_threat = False
    for r in range(runs):
        any_threat |= thr_on[r] != 0.0
    if any_threat:  # T_ij = rel_j max(0, -x_ji)
        for i in range(n):
            for j in range(n):
                for r in range(runs):
                    thr[i, j, r] = relcap[j, r] * max(0.0, -x[j, i, r])
    for i in range(n):
        for r in range(runs):
            target[i, i, r] = 0.0
        for j in range(i + 1, n):  # D̃ is symmetric: one log per pair
            for r in range(runs):
                tv = (vlog1p(imp[i, j, r] + imp[j, i, r]) - lt_mean) / lt_sd
                target[i, j, r] = fixed[i, j, r] + w_trade[r] * tv + w_ties[r] * ties[i, j, r]
                target[j, i, r] = fixed[j, i, r] + w_trade[r] * tv + w_ties[r] * ties[j, i, r]
    if not any_threat:
        return
    _gram(thr, gram, acc, blas)  # S = T Tᵀ, symmetric
    for i in range(n):
        for j in range(i + 1, n):
            for a, b in ((i, j), (j, i)):
                for r in range(runs):
                    zt = (target[a, b, r] + w_st[r] * ((gram[i, j, r] - s_mean) / s_sd)
                          - w_t[r] * ((thr[a, b, r] - t_mean) / t_sd))
                    target[a, b, r] = zt if thr_on[r] != 0.0 else target[a, b, r]


@jit
def _relations(S: np.ndarray, noise: np.ndarray, par: np.ndarray, target: np.ndarray,
               znew: np.ndarray, gram: np.ndarray, acc: np.ndarray, blas: bool) -> None:
    """The new latent relations into ``znew`` (:func:`sim.kernels.relation_step`); ``noise``:
    ``(N, N, R)`` standard normals; ``gram``, ``acc``, ``blas``: as in :func:`_gram`."""
    n, runs = S.shape[1], S.shape[3]
    x, z = S[X], S[Z]
    bal_on, bal_scale, anc_on, anc_rate = par[BAL_ON], par[BAL_SCALE], par[ANC_ON], par[ANC_RATE]
    noise_on, sigma = par[NOISE_ON], par[SIGMA]
    _gram(x, gram, acc, blas)  # B = X Xᵀ, symmetric
    for i in range(n):
        for r in range(runs):
            znew[i, i, r] = 0.0
        for j in range(i + 1, n):
            for a, b in ((i, j), (j, i)):
                for r in range(runs):
                    bal = bal_scale[r] * gram[i, j, r] if bal_on[r] != 0.0 else 0.0
                    anc = (anc_rate[r] * (target[a, b, r] - z[a, b, r]) if anc_on[r] != 0.0
                           else 0.0)
                    sig = sigma[r] * noise[a, b, r] if noise_on[r] != 0.0 else 0.0
                    znew[a, b, r] = z[a, b, r] + (bal + anc + sig)


@jit
def _trade(S: np.ndarray, par: np.ndarray, x0_mean: np.ndarray, kept: np.ndarray,
           share: np.ndarray, tot: np.ndarray, align: np.ndarray) -> None:
    """Trade moves one month at the month's old relations (:func:`sim.kernels.trade_target`,
    :func:`sim.kernels.trade_step`); runs with trade switched off keep their imports.
    ``kept``, ``share``: scratch ``(N, R)``; ``tot``: ``(R,)``; ``align``: ``(N, N, R)``."""
    n, runs = S.shape[1], S.shape[3]
    trade_on, neg_eps, diversion = par[TRADE_ON], par[NEG_EPS], par[DIVERSION]
    kappa, adjust = par[KAPPA], par[ADJUST]
    x, imp, base, tau = S[X], S[IMPORTS], S[BASE], S[TAU]
    for i in range(n):  # e^{κ (x̄ - x̄0)} is symmetric: one exp per pair
        for j in range(i, n):
            for r in range(runs):
                sym = 0.5 * (x[i, j, r] + x[j, i, r])
                align[i, j, r] = vexp(kappa[r] * (sym - x0_mean[i, j, r]))
                align[j, i, r] = align[i, j, r]
    for i in range(n):
        tot[:] = 0.0
        for j in range(n):
            tariffs = False
            for r in range(runs):
                tariffs |= tau[i, j, r] != 0.0
            if tariffs:  # (1 + 0)^-ε = 1: no power where no run has a tariff
                for r in range(runs):
                    t = tau[i, j, r]
                    kept[j, r] = base[i, j, r] * (vpow(1.0 + max(t, -0.99), neg_eps[r])
                                                  if t != 0.0 else 1.0)
            else:
                for r in range(runs):
                    kept[j, r] = base[i, j, r]
            for r in range(runs):
                tot[r] += kept[j, r]
        for j in range(n):
            for r in range(runs):
                others = tot[r] - kept[j, r]
                lost = max(base[i, j, r] - kept[j, r], 0.0)
                share[j, r] = lost / others if others > 1e-12 else 0.0
        tot[:] = 0.0
        for j in range(n):
            for r in range(runs):
                tot[r] += share[j, r]
        for j in range(n):
            for r in range(runs):
                diverted = diversion[r] * kept[j, r] * (tot[r] - share[j, r])
                target = kept[j, r] * align[i, j, r] + diverted
                m = imp[i, j, r]
                start = 0.01 * target if (m <= 0.0) & (target > 0.0) else m
                safe = max(start, 1e-300)
                moved = safe * vpow(max(target, 1e-300) / safe, adjust[r]) if target > 0.0 else 0.0
                imp[i, j, r] = moved if trade_on[r] != 0.0 else m


@jit
def _month(S: np.ndarray, count: np.ndarray, last: np.ndarray, t: int, key: np.ndarray,
           ids: np.ndarray, prob: np.ndarray, fired: np.ndarray, x_out: np.ndarray,
           imp_out: np.ndarray, par: np.ndarray, fixed: np.ndarray, x0_mean: np.ndarray,
           relcap: np.ndarray, gdp: np.ndarray, consts: np.ndarray, ints: np.ndarray,
           dpar: np.ndarray, s_off: np.ndarray, s_field: np.ndarray, s_i: np.ndarray,
           s_j: np.ndarray, s_val: np.ndarray, a_off: np.ndarray, a_field: np.ndarray,
           a_i: np.ndarray, a_j: np.ndarray, a_val: np.ndarray, lag_k: np.ndarray,
           lag_i: np.ndarray, lag_j: np.ndarray, lag_v: np.ndarray, lag_m: np.ndarray,
           blas: bool) -> None:
    """One month of every run of the batch (:func:`sim.engine.month`), its random numbers
    drawn here (:func:`draw_month`; ``key`` ``(2,)``, run ids ``ids`` ``(R,)`` uint64); writes
    ``prob``, ``fired`` ``(P, R)`` and the new ``x``, ``imports`` ``(N, N, R)``; ``blas``: the
    two matrix products by BLAS (:func:`_gram`)."""
    n, runs = S.shape[1], S.shape[3]
    noise, u = np.empty((n, n, runs)), np.empty((ints.shape[0], runs))
    raw = np.empty((max(n * n, ints.shape[0]), runs), dtype=np.uint64)
    draw_month(key, ids, t, par, raw, noise, u)
    _decide(S, count, last, t, u, prob, fired, par, gdp, ints, dpar,
            s_off, s_field, s_i, s_j, s_val, a_off, a_field, a_i, a_j, a_val,
            lag_k, lag_i, lag_j, lag_v, lag_m)
    target, znew = np.empty((n, n, runs)), np.empty((n, n, runs))
    thr, gram, acc = np.empty((n, n, runs)), np.empty((n, n, runs)), np.empty(runs)
    _anchor(S, par, fixed, relcap, consts, target, thr, gram, acc, blas)
    _relations(S, noise, par, target, znew, gram, acc, blas)
    _trade(S, par, x0_mean, target[0], target[1], acc, thr)  # scratch reused
    decay = par[TIES_DECAY]
    x, z, ties, imp = S[X], S[Z], S[TIES], S[IMPORTS]
    for i in range(n):
        for j in range(n):
            for r in range(runs):
                z[i, j, r] = znew[i, j, r]
                x[i, j, r] = vtanh(znew[i, j, r])
                ties[i, j, r] *= decay[r]
                x_out[i, j, r] = x[i, j, r]
                imp_out[i, j, r] = imp[i, j, r]


@jit
def copy_block(xb: np.ndarray, ib: np.ndarray, pb: np.ndarray, fb: np.ndarray, months: int,
               t0: int, x: np.ndarray, imports: np.ndarray, prob: np.ndarray,
               fired: np.ndarray) -> None:
    """Copy ``months`` recorded months (``(B, N, N, R)``, ``(B, P, R)``) of months ``t0 ..``
    into the trajectory rows (``(R, T+1, N, N)`` from month ``t0 + 1``, ``(R, T, P)``), run
    by run."""
    n, runs, p = xb.shape[1], xb.shape[3], pb.shape[1]
    for r in range(runs):
        for m in range(months):
            for i in range(n):
                for j in range(n):
                    x[r, t0 + 1 + m, i, j] = xb[m, i, j, r]
                    imports[r, t0 + 1 + m, i, j] = ib[m, i, j, r]
            for k in range(p):
                prob[r, t0 + m, k] = pb[m, k, r]
                fired[r, t0 + m, k] = fb[m, k, r]


def warm() -> None:
    """Load (or compile) the kernel's machine code in this process: one run of a world of three
    states over one month through :func:`sim.engine.simulate` (the month and the copy into a
    trajectory; streamed statistics call the same month), so that processes forked from this
    one (the ensemble's forkserver, :mod:`sim.preload`) start with it ready. The kernel's
    arguments have one type whatever the world or batch (:func:`_lanes`), so this one call
    loads every version a run needs."""
    from sim.engine import simulate
    from sim.spec import spec_from_dict

    spec = spec_from_dict({
        "scenario": {"name": "warm", "title": "warm-up", "start": "2024-01", "months": 1,
                     "seed": 1},
        "states": [{"id": s, "name": s, "capability": 0.1, "gdp": 1.0, "ideal_point": 0.0,
                    "reciprocity": 0.5} for s in ("AAA", "BBB", "CCC")],
        "trade": {"AAA->BBB": 1.0, "BBB->AAA": 1.0}}, source="<numba warm-up>")
    simulate(World.from_spec(spec), 0, 1, backend="numba")
