"""Parameters as data: one registry of everything a user can vary, and their values per run.

Every parameter has one dotted name:

- ``<group>.<key>`` for ``[mechanisms.<group>]`` (``anchor.w_ideology``, ``trade.diversion``,
  ``noise.enabled``): generated from the pydantic models of :mod:`sim.spec`;
- ``events.pressure_scale.<ID>``: the pressure multiplier of each declared state (1 if absent);
- ``states.<ID>.reciprocity``: the share of an act each state returns;
- ``policies.<LABEL>.<key>``: each policy's parameters, addressed by its decision label
  (``policies.USA:tariff.threshold``, ``policies.CHN:pipeline.gain``; labels as in the results).

:func:`registry` lists them as :class:`Param` (default, kind, allowed range, unit, symbol,
source, documented plausible range, whether ``sim calibrate`` identifies it). :func:`get` and
:func:`with_values` read and set them on a scenario (the one way to do so). :class:`Params`
holds the values of every parameter for ``R`` runs, each a scalar or an array with one value per
run ``(R,)``: what the kernels, the decision rules and the event effects read.

Errors (unknown name, value out of range, wrong kind) raise :class:`sim.spec.ScenarioError`
naming the scenario file, the parameter, the value and what was expected (did-you-mean for an
unknown name).
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ValidationError

from sim.spec import (
    Concede,
    Escalate,
    EventShocks,
    GrantAsk,
    Mechanisms,
    ScenarioError,
    ScenarioSpec,
    StateSpec,
    check_references,
)
from sim.world import decision_fields, policy_labels

Kind = Literal["float", "int", "switch"]
Value = float | int | bool | np.ndarray

GROUPS: tuple[str, ...] = tuple(Mechanisms.model_fields)
"""``[mechanisms]`` groups: balance, anchor, threat, events, trade, noise."""
POLICY_MODELS: dict[str, type[BaseModel]] = {"grant_ask": GrantAsk, "escalate": Escalate,
                                             "concede": Concede}
EVENT_KEYS = ("gas_bcm", "trade_bn", "rate", "coverage")
"""Policy fields that only some policies of a rule read (a pipeline's gas, a tariff's rate)."""
STATE_PARAMS: tuple[str, ...] = ("reciprocity",)
"""Per-state parameters; the other numbers of ``[[states]]`` (capability, GDP, ideal point)
are data with their own citations, not parameters."""
SCHEMA = "schema (pydantic Field bounds, sim/spec.py; docs/ODD.md 'allowed range')"
OURS = "Our choice, not calibrated (docs/ODD.md)."

# ----------------------------------------------------------------------------- documentation
# symbol, unit, source of every parameter (keys: "<group>.<key>", "events.pressure_scale",
# "states.reciprocity", "<rule>.<key>"). Defaults and ranges come from sim/spec.py, never here.
META: dict[str, tuple[str, str, str]] = {
    "balance.enabled": ("", "switch", "docs/ODD.md §7.1: the balance term can be switched off."),
    "balance.rate": ("α", "latent z per month", "Our choice; the published models have no "
                     "time unit (Traag, Van Dooren & De Leenheer 2013). Added to z = artanh(x) "
                     "with B = X Xᵀ/(N-2) in [-1, 1] (docs/ODD.md §7.1)."),
    "anchor.enabled": ("", "switch", "docs/ODD.md §7.1: the anchor term can be switched off."),
    "anchor.rate": ("β", "per month", "Default: our choice; alone it closes half the gap "
                    "to z* in 22.8 months. Calibrated (Bayesian, 2010-2019; uniform prior "
                    "0.005-0.15, sim/calibrate.py MODEL_PRIORS): posterior in "
                    "calibration/report.json."),
    "anchor.bias": ("b", "latent z", "Default: intercept of the least-squares line of "
                    "artanh(1 - d/d_half) on the standardised ideal-point affinity over the "
                    "USA-CHN-RUS dyads 1992-2019 (sim.standardise.ideology_defaults; "
                    "data/derived_idealpoint_distances_USA_CHN_RUS.csv): the level the "
                    "initial-relation rule implies at average distance. Range ±2: tanh(2) = "
                    "0.96. Calibrated (Bayesian, 2010-2019; prior normal(0, 1), "
                    "sim/calibrate.py MODEL_PRIORS): posterior in calibration/report.json."),
    "anchor.w_ideology": ("w_I", "latent z per sd of ideal-point distance", "Default: slope "
                          "of the same line (sim.standardise.ideology_defaults): the ideology "
                          "term alone reproduces the levels the initial-relation rule gives "
                          "the triangle 1992-2019. Range [0, 2]: 2 sd (the CHN-RUS vs USA-CHN "
                          "gap) then spans 4 latent units. Calibrated (Bayesian; prior half-normal "
                          "sd 1, sim/calibrate.py MODEL_PRIORS): posterior in "
                          "calibration/report.json."),
    "anchor.w_trade": ("w_D", "latent z per sd of ln bilateral trade", "Our choice: small "
                       "(0.05), since the ideology line already reproduces the levels; "
                       "interdependence restraint (SCIENCE.md §3); z-score over the triangle "
                       "1992-2014 (data/derived_cow_trade_triad_1990_2014.csv). Range [0, 1]. "
                       "Calibrated (Bayesian; prior half-normal sd 0.25, sim/calibrate.py "
                       "MODEL_PRIORS): posterior in calibration/report.json."),
    "anchor.w_shared_threat": ("w_S", "latent z per sd of shared threat", "Our choice: small "
                               "(0.05), as w_D; balance of threat (Walt 1985, 1987); z-score "
                               "over the triangle 1992-2019 (sim.standardise). Range [0, 1]."),
    "anchor.w_threat": ("w_T", "latent z per sd of threat", "Our choice: small (0.05), as "
                        "w_D (Walt 1985, 1987); z-score over the triangle 1992-2019 "
                        "(sim.standardise). Range [0, 1]."),
    "anchor.w_ties": ("w_K", "latent z per unit of ties", "Our choice: 0.25, a quarter of a "
                      "latent unit per unit of the ties stock (an agreement adds 0.16 at the "
                      "default ties_scale); range [0, 2]."),
    "anchor.w_alliance": ("w_L", "latent z per unit of commitment", "Our choice: a defence "
                          "pledge adds 0.05 latent units (about a twentieth of one sd of "
                          "ideology, w_I ≈ 0.95), since the ideology line already carries most "
                          "of the allies' closeness; treaty coding from ATOP v5.1. Range [0, 2]. "
                          "Calibrated (Bayesian; prior half-normal sd 0.5, sim/calibrate.py "
                          "MODEL_PRIORS): posterior in calibration/report.json."),
    "anchor.d_half": ("d_1/2", "ideal-point units", "Half of about 3.5, the top of 2000-19 "
                      "US-China final-passage distances (SCIENCE.md §6); sets the initial "
                      "relations of pairs not given in [relations] (x0 = 1 - d/d_1/2, clipped "
                      "to ±0.99); the anchor uses the standardised distance instead."),
    "anchor.dependence_scale": ("c_D", "bilateral trade / GDP", "Our choice: bilateral trade "
                                "of 5% of GDP gives D = 0.63."),
    "threat.enabled": ("", "switch", "docs/ODD.md §7.2: drops the S and T terms."),
    "threat.power_exponent": ("a", "—", "Our choice (threat linear in relative power); Walt "
                              "gives no functional form."),
    "events.enabled": ("", "switch", "docs/ODD.md: switches off the scheduled events (and "
                       "their lagged gas); decisions keep their effects."),
    "events.shock_scale": ("s", "Δz (latent) per 10 Goldstein points", "Default: our choice. "
                           "Calibrated (Bayesian, 2010-2019; prior half-normal sd 0.1, "
                           "sim/calibrate.py MODEL_PRIORS): posterior in calibration/report.json."),
    "events.ties_scale": ("s_K", "ΔK per 10 Goldstein points", "Our choice, not "
                          "calibrated (the Bayesian calibration does not sample it)."),
    "events.ties_half_life": ("h_K", "months", "Our choice, not calibrated."),
    "events.sanction_tariff_equivalent": ("τ_S", "tariff fraction per unit intensity",
                                          "Our choice, not calibrated: tariff-equivalent of a "
                                          "sanction or easing given without a rate."),
    "events.pressure_scale": ("m_a", "multiplier", "Scenario device (docs/ODD.md §7.5): scales "
                              "every hostile event of this actor; not a calibrated quantity."),
    "trade.enabled": ("", "switch", "docs/ODD.md §7.3: trade stays at its start if off."),
    "trade.elasticity_long_run": ("ε_LR", "—", "Boehm, Levchenko & Pandalai-Nayar 2023 (AER): "
                                  "about 1.75-2.25 long run; Head & Mayer 2014 (5) and "
                                  "Simonovska & Waugh 2014 (about 4) for sensitivity."),
    "trade.elasticity_one_year": ("ε_1y", "—", "Boehm, Levchenko & Pandalai-Nayar 2023: "
                                  "about 0.76 after one year (the default). Calibrated (Bayesian; "
                                  "prior normal(0.76, 0.3), sim/calibrate.py MODEL_PRIORS): "
                                  "posterior in calibration/report.json."),
    "trade.diversion": ("θ_div", "share of lost imports", "Our choice, not calibrated; "
                        "motivated by Alfaro & Chor 2023 (diversion after 2018)."),
    "trade.alignment_semi_elasticity": ("κ", "per unit of x̄", "Gopinath et al. 2024 (IMF "
                                        "WP/24/76): between-bloc trade about 12% lower, "
                                        "-ln 0.88 = 0.128."),
    "trade.gas_price_bn_per_bcm": ("π_g", "USD bn/yr per bcm/yr", "Power of Siberia 1: about "
                                   "USD 400 bn over 30 years for 38 bcm/yr (timeline row "
                                   "2014-05-21)."),
    "trade.pipeline_lead_months": ("t_g", "months", "Power of Siberia 1: contract 2014-05 to "
                                   "first gas 2019-12 (timeline rows 2014-05-21, 2019-12-02)."),
    "noise.enabled": ("", "switch", "docs/ODD.md §7.1: the noise term can be switched off."),
    "noise.sigma": ("σ", "latent z per month (sd)", "Default: our choice. Calibrated "
                    "(Bayesian, 2010-2019; prior half-normal sd 0.05, sim/calibrate.py "
                    "MODEL_PRIORS): posterior in calibration/report.json."),
    "states.reciprocity": ("r_i", "share of an act returned", "Goldstein & Freeman 1990, 1991 "
                           "(scenario file cites the value per state)."),
    "grant_ask.enabled": ("", "switch", "docs/ODD.md §7.6: a disabled policy never fires."),
    "grant_ask.gain": ("gain", "utility", "Our choice per ask (the scenario cites it)."),
    "grant_ask.w_alignment": ("w_A", "—", OURS),
    "grant_ask.w_gain": ("w_G", "—", OURS),
    "grant_ask.w_risk": ("w_R", "—", OURS),
    "grant_ask.threshold": ("θ_d", "utility", "Utility at which the monthly hazard is h "
                            "(cloglog, docs/ODD.md §7.6); the baseline sets it at the status "
                            "quo."),
    "grant_ask.temperature": ("φ_d", "utility", "Our choice: one unit of utility multiplies "
                              "the hazard by exp(1/φ)."),
    "grant_ask.hazard": ("h_d", "per month", "Monthly hazard at U = θ: the base rate (PoS-2 "
                         "unsigned 2015-05..2019-12, Jeffreys Beta(0.5, 112.5); "
                         "sim.event_history)."),
    "grant_ask.duration_shape": ("k", "—", "Weibull-type duration dependence of a discrete-time "
                                 "hazard (Allison 1982; Beck, Katz & Tucker 1998): k < 1 the "
                                 "hazard falls with months at risk, k > 1 it rises; default 1 "
                                 "(none). Range [0.5, 2]: a doubling of the months at risk "
                                 "multiplies the hazard by 2^(k-1), 0.71 to 2."),
    "grant_ask.w_response": ("w_E", "utility per unit probability", "Our choice: weight of the "
                             "probability that a watching escalate rule fires within H months "
                             "after the grant (one-step anticipation, docs/ODD.md §7.6); a sure "
                             "response costs as much as the default threshold gap. Range [0, 5]."),
    "grant_ask.horizon_months": ("H", "months", "Our choice: half a year ahead (the 2018 "
                                 "Section 301 rounds came 1-8 months apart, "
                                 "data/timeline_events_2014_2024.csv). Range 1-24."),
    "grant_ask.gas_bcm": ("", "bcm/yr", "Power of Siberia 2 planned capacity, 50 bcm/yr "
                          "(SCIENCE.md §4); used by the pipeline ask only."),
    "grant_ask.trade_bn": ("", "USD bn/yr", "Our choice; used by the finance_access ask only."),
    "escalate.enabled": ("", "switch", "docs/ODD.md §7.6: a disabled policy never fires."),
    "escalate.threshold": ("θ_d", "support index", "Support index at which the monthly "
                           "hazard is h; the baseline sets it at the status quo."),
    "escalate.temperature": ("φ_d", "support index", "Our choice: one unit of support (a "
                             "material grant) multiplies the hazard by exp(1/φ) (e² ≈ 7.4 at "
                             "0.5): no step."),
    "escalate.hazard": ("h_d", "per month", "Monthly hazard at the threshold; range from the "
                        "event history (sim.event_history)."),
    "escalate.duration_shape": ("k", "—", "As grant_ask.duration_shape (months since the "
                                "rule last fired, or since the start)."),
    "escalate.cooldown_months": ("m_d", "months", OURS),
    "escalate.max_times": ("n_max", "count", OURS),
    "escalate.rate": ("", "tariff fraction", "Section 301 List 3: 10% (timeline row "
                      "2018-09-24); tariff instrument only."),
    "escalate.coverage": ("", "USD bn/yr", "Section 301 List 3: about USD 200 bn (timeline row "
                          "2018-09-24); tariff instrument only."),
    "concede.enabled": ("", "switch", "docs/ODD.md §7.6: a disabled policy never fires."),
    "concede.threshold": ("θ_d", "dependence D", OURS),
    "concede.temperature": ("φ_d", "dependence", OURS),
    "concede.hazard": ("h_d", "per month", "Monthly hazard at the threshold (cloglog); "
                       "our choice."),
    "concede.duration_shape": ("k", "—", "As grant_ask.duration_shape."),
    "concede.step": ("", "utility (pipeline gain)", "Our choice: gain added to the partner's "
                     "pipeline ask per concession (the event fires with intensity step/0.1)."),
    "concede.max_times": ("n_max", "count", OURS),
}

PLAUSIBLE: dict[str, tuple[float, float, str]] = {
    "anchor.rate": (0.005, 0.15, "half-lives of 4.6 to 139 months; the uniform prior of the "
                    "Bayesian calibration (sim/calibrate.py MODEL_PRIORS), posterior in "
                    "calibration/report.json"),
    "trade.elasticity_long_run": (1.75, 2.25, "Boehm, Levchenko & Pandalai-Nayar 2023"),
    "trade.elasticity_one_year": (0.16, 1.36, "prior normal(0.76, 0.3) of the Bayesian "
                                  "calibration, ±2 sd (sim/calibrate.py MODEL_PRIORS; Boehm, "
                                  "Levchenko & Pandalai-Nayar 2023), posterior in "
                                  "calibration/report.json"),
}
"""Ranges that evidence supports (narrower than the allowed range), with their source."""

CONSTRAINTS: dict[str, str] = {
    "trade.elasticity_one_year": "≤ trade.elasticity_long_run",
    "trade.elasticity_long_run": "≥ trade.elasticity_one_year",
}


# ----------------------------------------------------------------------------- the registry


@dataclass(frozen=True)
class Param:
    """One parameter: what it is, its default, its allowed and plausible ranges, and why."""

    name: str
    kind: Kind
    default: float | int | bool
    lo: float | None
    hi: float | None
    lo_open: bool
    hi_open: bool
    symbol: str
    unit: str
    source: str
    range_source: str = SCHEMA
    plausible: tuple[float, float] | None = None
    plausible_source: str = ""
    constraint: str = ""
    used: bool = True  # False: a field of the policy's rule that this policy never reads

    @property
    def range(self) -> str:
        """The allowed range as text: ``[0, 1]``, ``(0, 10]``, ``true/false``."""
        if self.kind == "switch":
            return "true/false"
        lo = "-inf" if self.lo is None else f"{self.lo:g}"
        hi = "inf" if self.hi is None else f"{self.hi:g}"
        text = f"{'(' if self.lo_open else '['}{lo}, {hi}{')' if self.hi_open else ']'}"
        return text + (" integer" if self.kind == "int" else "")

    @property
    def expected(self) -> str:
        """What a value must be, for error messages."""
        if self.kind == "switch":
            return "true or false"
        what = "a whole number" if self.kind == "int" else "a number"
        return f"{what} in {self.range.removesuffix(' integer')}"

    @property
    def identified(self) -> str:
        """What ``sim calibrate`` does with it: ``fitted``, ``fitted as <composite>``,
        ``profiled (held fixed)`` or ``no``."""
        return calibration_roles().get(self.name, "no")

    def bad(self, values: np.ndarray) -> np.ndarray:
        """Mask of values outside the allowed range (or not whole numbers, or not booleans)."""
        v = np.asarray(values)
        if self.kind == "switch":
            return ~np.isin(v, (True, False, 0, 1))
        v = v.astype(float)
        out = ~np.isfinite(v)
        if self.lo is not None:
            out |= (v <= self.lo) if self.lo_open else (v < self.lo)
        if self.hi is not None:
            out |= (v >= self.hi) if self.hi_open else (v > self.hi)
        if self.kind == "int":
            out |= np.isfinite(v) & (v != np.round(v))
        return out


@functools.cache
def calibration_roles() -> dict[str, str]:
    """Parameter name -> what :mod:`sim.calibrate` does with it (sampled from the posterior)."""
    from sim.calibrate import roles  # heavy (emcee, scipy): only when asked

    return roles()


def _kind(annotation: Any) -> Kind | None:
    return {float: "float", int: "int", bool: "switch"}.get(annotation)


def _bounds(metadata: Sequence[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"lo": None, "hi": None, "lo_open": False, "hi_open": False}
    for m in metadata:
        for attr, key, is_open in (("ge", "lo", False), ("gt", "lo", True),
                                   ("le", "hi", False), ("lt", "hi", True)):
            if getattr(m, attr, None) is not None:
                out[key], out[f"{key}_open"] = float(getattr(m, attr)), is_open
    return out


def _param(name: str, doc_key: str, kind: Kind, default: Any, metadata: Sequence[Any]) -> Param:
    symbol, unit, source = META.get(doc_key, ("", "", ""))
    lo, hi, why = PLAUSIBLE.get(name, (None, None, ""))
    return Param(name=name, kind=kind, default=default, symbol=symbol, unit=unit, source=source,
                 plausible=None if lo is None else (lo, hi), plausible_source=why,
                 constraint=CONSTRAINTS.get(name, ""), **_bounds(metadata))


@functools.cache
def _model_params(model: type[BaseModel], prefix: str, doc_prefix: str) -> dict[str, Param]:
    """Entries for the number and switch fields of a pydantic model (cached: do not change)."""
    out = {}
    for key, field in model.model_fields.items():
        kind = _kind(field.annotation)
        if kind is not None:
            name = f"{prefix}.{key}"
            out[name] = _param(name, f"{doc_prefix}.{key}", kind, field.default, field.metadata)
    return out


def _dict_value_field(model: type[BaseModel], key: str) -> Any:
    """The value type's FieldInfo of a ``dict[str, Annotated[float, Field(...)]]`` field."""
    value_type = typing.get_args(model.model_fields[key].annotation)[1]
    return typing.get_args(value_type)[1]


def _mechanism_params() -> dict[str, Param]:
    out: dict[str, Param] = {}
    for group, field in Mechanisms.model_fields.items():
        out.update(_model_params(field.annotation, group, group))
    return out


MECHANISMS: dict[str, Param] = _mechanism_params()
"""Every number and switch of ``[mechanisms]`` (``events.pressure_scale`` is per state)."""
FAMILY_FIELDS = {("events", "pressure_scale")}
"""Fields of ``[mechanisms]`` registered once per declared state, not as one parameter."""


@functools.cache
def _state_params(sid: str) -> dict[str, Param]:
    """State ``sid``'s pressure scale and per-state parameters (cached: do not change)."""
    ps = _dict_value_field(EventShocks, "pressure_scale")
    name = f"events.pressure_scale.{sid}"
    out = {name: _param(name, "events.pressure_scale", "float", 1.0, ps.metadata)}
    for key in STATE_PARAMS:
        f = StateSpec.model_fields[key]
        name = f"states.{sid}.{key}"
        out[name] = _param(name, f"states.{key}", _kind(f.annotation), f.default, f.metadata)
    return out


def registry(spec: ScenarioSpec | None = None) -> dict[str, Param]:
    """Every parameter, by dotted name: the mechanisms, and with a scenario also each state's
    pressure scale and reciprocity and each policy's parameters (in scenario order)."""
    out = dict(MECHANISMS)
    if spec is None:
        return out
    for sid in spec.ids:
        out.update(_state_params(sid))
    for label, pol in zip(policy_labels(spec.policies), spec.policies, strict=True):
        reads = decision_fields(pol)
        for name, p in _model_params(type(pol), f"policies.{label}", pol.rule).items():
            key = name.rsplit(".", 1)[1]
            out[name] = p if key not in EVENT_KEYS or key in reads else replace(p, used=False)
    return out


def names(spec: ScenarioSpec | None = None) -> list[str]:
    """Dotted names of every parameter (of ``spec`` if given)."""
    return list(registry(spec))


# ----------------------------------------------------------------------------- reading, setting


def _unknown(spec: ScenarioSpec, name: str, known: Sequence[str]) -> ScenarioError:
    close = difflib.get_close_matches(str(name), list(known), n=1, cutoff=0.6)
    if not close and str(name).startswith("mechanisms."):
        close = difflib.get_close_matches(str(name).removeprefix("mechanisms."), list(known), 1)
    hint = f"did you mean {close[0]!r}?" if close else "see `sim params SCENARIO`"
    return ScenarioError(spec.source or "<scenario>", "parameters", str(name),
                         f"a registered parameter ({hint})")


def _locate(spec: ScenarioSpec, name: str) -> tuple[str, Any, str]:
    """Where a parameter lives: ``("mech", group, key)``, ``("pressure", sid, "")``,
    ``("state", index, key)`` or ``("policy", index, key)``."""
    parts = name.split(".")
    if parts[0] in GROUPS and len(parts) == 2:
        return "mech", parts[0], parts[1]
    if parts[:2] == ["events", "pressure_scale"] and len(parts) == 3:
        return "pressure", parts[2], ""
    if parts[0] == "states" and len(parts) == 3:
        return "state", spec.ids.index(parts[1]), parts[2]
    labels = policy_labels(spec.policies)
    return "policy", labels.index(parts[1]), parts[2]


def value_path(spec: ScenarioSpec, name: str) -> str:
    """Where a registered parameter's value is written in a scenario file:
    ``mechanisms.events.ties_scale``, ``states[1].reciprocity``, ``policies[0].threshold``."""
    where, a, key = _locate(spec, name)
    if where == "mech":
        return f"mechanisms.{a}.{key}"
    if where == "pressure":
        return f"mechanisms.events.pressure_scale.{a}"
    return f"{'states' if where == 'state' else 'policies'}[{a}].{key}"


def _read(spec: ScenarioSpec, name: str) -> Any:
    where, a, key = _locate(spec, name)
    if where == "mech":
        return getattr(getattr(spec.mechanisms, a), key)
    if where == "pressure":
        return spec.mechanisms.events.pressure_scale.get(a, 1.0)
    return getattr((spec.states if where == "state" else spec.policies)[a], key)


def _values(spec: ScenarioSpec) -> dict[str, Value]:
    """Every parameter's value in ``spec``, in registry order."""
    out: dict[str, Value] = {}
    for group in GROUPS:
        model = getattr(spec.mechanisms, group)
        for name in _model_params(type(model), group, group):
            out[name] = getattr(model, name.split(".")[1])
    scales = spec.mechanisms.events.pressure_scale
    for state in spec.states:
        out[f"events.pressure_scale.{state.id}"] = scales.get(state.id, 1.0)
        for key in STATE_PARAMS:
            out[f"states.{state.id}.{key}"] = getattr(state, key)
    for label, pol in zip(policy_labels(spec.policies), spec.policies, strict=True):
        for name in _model_params(type(pol), f"policies.{label}", pol.rule):
            out[name] = getattr(pol, name.rsplit(".", 1)[1])
    return out


def get(spec: ScenarioSpec, name: str, reg: Mapping[str, Param] | None = None
        ) -> float | int | bool:
    """The value of parameter ``name`` in scenario ``spec`` (``reg``: ``registry(spec)`` if
    the caller has it already). Raises :class:`ScenarioError` for an unknown name (with a
    did-you-mean)."""
    reg = registry(spec) if reg is None else reg
    if name not in reg:
        raise _unknown(spec, name, list(reg))
    return _read(spec, name)


def scalar(param: Param, value: Any, file: str, where: str = "") -> float | int | bool:
    """``value`` checked against ``param`` and made a plain Python number (or bool).
    Raises :class:`ScenarioError` if it is of the wrong kind or out of range."""
    v = value.item() if isinstance(value, np.generic | np.ndarray) else value
    ok = isinstance(v, bool) if param.kind == "switch" else (
        isinstance(v, int | float) and not isinstance(v, bool) and not param.bad(v))
    if not ok:
        extra = f" ({param.constraint})" if param.constraint else ""
        raise ScenarioError(file, f"parameters.{param.name}{where}", v, param.expected + extra)
    return {"float": float, "int": int, "switch": bool}[param.kind](v)


def with_values(spec: ScenarioSpec, values: Mapping[str, Any]) -> ScenarioSpec:
    """A new validated scenario with ``values`` (dotted name -> value) set; ``spec`` is not
    changed. Raises :class:`ScenarioError` for an unknown name (did-you-mean), a value of the
    wrong kind or out of range, or a combination the schema rejects (e.g. a one-year trade
    elasticity above the long-run one). A value set here fixes the parameter: an uncertainty the
    scenario declares for it (``[uncertainties]``) is dropped."""
    if not values:
        return spec
    reg, file = registry(spec), spec.source or "<scenario>"
    data = spec.model_dump()
    data["uncertainties"] = {k: v for k, v in data["uncertainties"].items() if k not in values}
    for name, value in values.items():
        if name not in reg:
            raise _unknown(spec, name, list(reg))
        v = scalar(reg[name], value, file)
        where, a, key = _locate(spec, name)
        if where == "mech":
            data["mechanisms"][a][key] = v
        elif where == "pressure":  # an actor not listed has 1: setting 1 adds nothing
            scales = data["mechanisms"]["events"]["pressure_scale"]
            if a in scales or v != 1.0:
                scales[a] = v
        else:
            data["states" if where == "state" else "policies"][a][key] = v
    try:
        out = ScenarioSpec.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        msg = first["msg"].removeprefix("Value error, ")
        raise ScenarioError(file, "parameters", dict(values), msg) from None
    check_references(out, file)
    return out


# ----------------------------------------------------------------------------- values per run


ELASTICITIES = ("trade.elasticity_one_year", "trade.elasticity_long_run")
"""The one rule between parameters a design can break: ε_1y ≤ ε_LR (sim.spec.Trade)."""


def within_rules(values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Drawn per-run ``values`` made to keep the rule between parameters that independent
    draws can break: where the long-run trade elasticity is drawn below the one-year one
    (a calibrated one-year value from the posterior's tail against the low end of the long-run
    range), it is raised to the one-year value, the boundary of the allowed region
    (ε_LR := max(ε_LR, ε_1y): the one-year response is part of the long-run one, Boehm,
    Levchenko & Pandalai-Nayar 2023). The calibrated value is kept. Returns a new dict."""
    one, long = ELASTICITIES
    out = dict(values)
    if one in out and long in out:
        out[long] = np.maximum(np.asarray(out[long], dtype=float), out[one])
    return out

class Params:
    """The value of every parameter of a scenario for ``R`` runs: a scalar shared by all runs,
    or an array ``(R,)`` with one value per run (row ``k`` belongs to the ``k``-th run).

    The kernels read it like :class:`sim.spec.Mechanisms` (``par.anchor.w_ideology``,
    ``par.events.pressure_scale["USA"]``), plus ``par.reciprocity`` and ``par.pressure``
    (``(N,)``, or ``(R, N)`` if any state's value varies by run) and ``par.policies[k]``
    (policy ``k``'s values, in scenario order). A kernel broadcasts an ``(R,)`` value against
    its ``(R, N, N)`` arrays as ``v[:, None, None]`` (:func:`sim.kernels.per_run`).
    Build with :meth:`from_spec`; :meth:`take` gives the rows of a chunk of runs.
    """

    def __init__(self, ids: Sequence[str], labels: Sequence[str], values: dict[str, Value],
                 runs: int | None) -> None:
        self.ids, self.labels, self.values, self.runs = list(ids), list(labels), values, runs
        for group in GROUPS:
            prefix = f"{group}."
            ns = types.SimpleNamespace(**{k.removeprefix(prefix): v for k, v in values.items()
                                          if k.startswith(prefix) and k.count(".") == 1})
            setattr(self, group, ns)
        self.events.pressure_scale = {sid: values[f"events.pressure_scale.{sid}"]
                                      for sid in self.ids}
        self.pressure = self._vector("events.pressure_scale.{}")
        self.reciprocity = self._vector("states.{}.reciprocity")
        self.policies = [types.SimpleNamespace(**{
            k.removeprefix(f"policies.{label}."): v for k, v in values.items()
            if k.startswith(f"policies.{label}.")}) for label in self.labels]
        self._cache: dict[str, Any] = {}

    def _vector(self, pattern: str) -> np.ndarray:
        cols = [self.values[pattern.format(sid)] for sid in self.ids]
        if all(np.ndim(c) == 0 for c in cols):
            return np.array(cols, dtype=float)
        return np.stack([np.broadcast_to(np.asarray(c, dtype=float), (self.runs,))
                         for c in cols], axis=1)

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def from_spec(cls, spec: ScenarioSpec, values: Mapping[str, Any] | None = None,
                  runs: int | None = None) -> Params:
        """The scenario's values, with ``values`` (dotted name -> scalar, or array ``(R,)``)
        in their place. ``runs``: the number of runs ``R`` the arrays must have (default: their
        length). Raises :class:`ScenarioError` for an unknown name (did-you-mean), a value of
        the wrong kind or out of range (naming the run), arrays of the wrong length, or rows
        the schema rejects (e.g. ``trade.elasticity_one_year > trade.elasticity_long_run``)."""
        reg, file = registry(spec), spec.source or "<scenario>"
        out = _values(spec)
        for name, value in dict(values or {}).items():
            if name not in reg:
                raise _unknown(spec, name, list(reg))
            arr = np.asarray(value)
            if arr.ndim == 0:
                out[name] = scalar(reg[name], arr, file)
                continue
            if arr.ndim != 1 or (runs is not None and len(arr) != runs):
                want = f"{runs} values (one per run)" if runs is not None else "a 1-d array"
                raise ScenarioError(file, f"parameters.{name}", f"shape {arr.shape}", want)
            runs = len(arr)
            out[name] = _checked_array(reg[name], arr, file)
        par = cls(spec.ids, policy_labels(spec.policies), out, runs)
        par._check_models(spec, set(values or {}))
        return par

    def _check_models(self, spec: ScenarioSpec, given: set[str]) -> None:
        """Validate each changed group (or policy) with its pydantic model, once per distinct
        row, where the model checks more than each value's bounds (e.g. ``Trade``'s elasticity
        order); a group given only shared values is validated once in any case."""
        file = spec.source or "<scenario>"
        groups: list[tuple[str, BaseModel]] = [(g, getattr(spec.mechanisms, g)) for g in GROUPS]
        groups += [(f"policies.{lab}", pol) for lab, pol in zip(self.labels, spec.policies,
                                                                 strict=True)]
        for prefix, model in groups:
            keys = [n for n in given if n.startswith(prefix + ".") and
                    n.count(".") == prefix.count(".") + 1]
            decorators = type(model).__pydantic_decorators__
            checks = decorators.model_validators or decorators.field_validators
            per_run = any(np.ndim(self.values[k]) for k in keys)
            if not keys or (per_run and not checks):
                continue  # bounds were checked per value; nothing else to check
            kinds = {k.rsplit(".", 1)[1]: {"float": float, "int": int, "switch": bool}[
                _kind(type(model).model_fields[k.rsplit(".", 1)[1]].annotation)] for k in keys}
            cols = np.stack([np.broadcast_to(np.asarray(self.values[f"{prefix}.{k}"], float),
                                             (self.runs or 1,)) for k in kinds], axis=1)
            base = model.model_dump()
            for row in dict.fromkeys(map(tuple, cols.tolist())):  # distinct rows, in order
                update = {k: kind(v) for (k, kind), v in zip(kinds.items(), row, strict=True)}
                try:
                    type(model).model_validate({**base, **update})
                except ValidationError as err:
                    msg = err.errors()[0]["msg"].removeprefix("Value error, ")
                    shown = {f"{prefix}.{k}": v for k, v in update.items()}
                    raise ScenarioError(file, "parameters", shown, msg) from None

    # -- access ------------------------------------------------------------------------------

    def __getitem__(self, name: str) -> Value:
        return self.values[name]

    @property
    def per_run(self) -> list[str]:
        """Names of the parameters that vary by run."""
        return [k for k, v in self.values.items() if np.ndim(v) > 0]

    def take(self, rows: np.ndarray | slice | Sequence[int]) -> Params:
        """The parameters of runs ``rows`` (positions ``0 .. R-1``); scalars are shared."""
        if self.runs is None:
            return self
        idx = np.arange(self.runs)[rows]
        vals = {k: (v[idx] if np.ndim(v) else v) for k, v in self.values.items()}
        return Params(self.ids, self.labels, vals, len(idx))

    def row(self, k: int) -> dict[str, float | int | bool]:
        """Every parameter's value in run ``k`` (plain Python numbers)."""
        return {n: (v[k] if np.ndim(v) else v).item() if isinstance(v, np.ndarray | np.generic)
                else v for n, v in self.values.items()}

    def digest(self) -> str:
        """SHA-256 of every name and value (same values, same digest): identifies a design."""
        h = hashlib.sha256()
        for name in sorted(self.values):
            v = self.values[name]
            h.update(name.encode())
            h.update(np.ascontiguousarray(v).tobytes() + str(np.asarray(v).dtype).encode()
                     if np.ndim(v) else repr(v).encode())
        return h.hexdigest()

    def cached(self, key: str, make: Any, owner: Any = None) -> Any:
        """``make()`` computed once per Params (derived per-run constants); with ``owner``
        (e.g. the World it was computed for), again whenever the owner changes."""
        hit = self._cache.get(key)
        if hit is None or hit[0] is not owner:
            hit = self._cache[key] = (owner, make())
        return hit[1]

    def __getstate__(self) -> dict[str, Any]:
        return {"ids": self.ids, "labels": self.labels, "values": self.values, "runs": self.runs}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["ids"], state["labels"], state["values"], state["runs"])


def _checked_array(param: Param, arr: np.ndarray, file: str) -> np.ndarray:
    """``arr`` as float, int or bool per run, every value checked against ``param``."""
    is_bool = np.issubdtype(arr.dtype, np.bool_)
    numeric = np.issubdtype(arr.dtype, np.number) and not is_bool
    if param.kind == "switch":
        bad = ~np.isin(arr, (True, False)) if (numeric or is_bool) else np.ones(len(arr), bool)
    else:
        bad = param.bad(arr) if numeric else np.ones(len(arr), bool)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        extra = f" ({param.constraint})" if param.constraint else ""
        raise ScenarioError(file, f"parameters.{param.name}[run {k}]", arr[k].item(),
                            param.expected + extra)
    dtype = {"float": float, "int": np.int64, "switch": bool}[param.kind]
    return np.array(arr, dtype=dtype)


class RunParams:
    """Per-run parameters kept once per draw: run ``i`` has row ``index[i]`` of ``rows`` (a
    :class:`Params` of ``D`` draws). :meth:`take` builds only the runs asked for, so a streamed
    ensemble of a million runs never holds a million-row table; the rows taken equal
    ``rows.take(index)[ids]``."""

    def __init__(self, rows: Params, index: np.ndarray) -> None:
        self.rows, self.index = rows, np.asarray(index, dtype=np.int64)
        self.runs: int | None = len(self.index)

    def take(self, ids: np.ndarray | slice | Sequence[int]) -> Params:
        """The parameters of runs ``ids``."""
        return self.rows.take(self.index[ids])

    def full(self) -> Params:
        """Every run's row (a :class:`Params` of ``len(index)`` runs)."""
        return self.rows.take(self.index)

    def digest(self) -> str:
        """SHA-256 of the draws' digest and the run → draw index: identifies a design."""
        h = hashlib.sha256(self.rows.digest().encode())
        h.update(np.ascontiguousarray(self.index, dtype="<i8").tobytes())
        return h.hexdigest()


def resolve(spec: ScenarioSpec, params: Params | RunParams | Mapping[str, Any] | None,
            runs: int) -> Params | RunParams:
    """``params`` as :class:`Params` (or the :class:`RunParams` given) for ``runs`` runs
    (None: the scenario's own values). Raises ValueError for parameters of another number of
    runs."""
    if isinstance(params, Params | RunParams):
        if params.runs is not None and params.runs != runs:
            raise ValueError(f"params hold {params.runs} runs, not {runs}")
        return params
    return Params.from_spec(spec, params, runs=runs)


def table(spec: ScenarioSpec) -> list[dict[str, Any]]:
    """One row per parameter of ``spec``: ``name``, ``value`` (in this scenario),
    ``default`` (the schema's), ``unit``, ``range`` (allowed) and ``range_source``,
    ``plausible`` (a narrower documented range, if any) and ``plausible_source``, ``identified``
    (by ``sim calibrate``), ``uncertainty`` (the distribution ``[uncertainties]`` declares, if
    any) and ``source``."""
    rows = []
    for name, p in registry(spec).items():
        rows.append({
            "name": name, "value": _read(spec, name), "default": p.default, "unit": p.unit,
            "range": p.range + (f"; {p.constraint}" if p.constraint else ""),
            "range_source": p.range_source,
            "plausible": "" if p.plausible is None else f"{p.plausible[0]:g} .. {p.plausible[1]:g}",
            "plausible_source": p.plausible_source, "identified": p.identified,
            "uncertainty": u.text if (u := spec.uncertainties.get(name)) else "",
            "source": p.source + ("" if p.used else " Not read by this policy.")})
    return rows


__all__ = ["GROUPS", "MECHANISMS", "Param", "Params", "RunParams", "get", "names", "registry",
           "resolve", "table", "with_values"]
