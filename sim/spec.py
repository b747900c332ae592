"""Scenario files: the TOML schema, `extends` resolution and clear validation errors.

A scenario file is read in three passes:

1. ``tomllib`` parses the text; ``extends`` chains are merged parent first (tables merge key by
   key, ``events`` are appended unless the child sets ``replace_events = true``; a child event
   with the ``id`` of a parent event changes that event (``enabled = false`` removes it)).
2. Every ``{ value = ..., cite = "..." }`` table is unwrapped to its value; the citations are
   kept in ``ScenarioSpec.cites`` by key path (``states[1].capability``).
3. Pydantic checks keys, types and ranges; then cross-references (ids, dates) are checked.

Any problem raises :class:`ScenarioError` naming the file, the key path, the bad value (as it
would be written in TOML) and what was expected (with a did-you-mean for a misspelt key).

Files are read as UTF-8, with or without a byte order mark. Dates may be written as text
(``"2024-05"``, ``"2024-05-12"``) or as TOML dates (``2024-05-12``).

Pair keys (``[relations]``, ``[trade]``, ``[alliances]``, ``[initial.*]``) name a pair of states:
``"A->B"`` is directed; ``"A-B"``, ``"B-A"``, ``"A - B"`` and ``"A<->B"`` all name the same
undirected pair (both directions). Precedence (:func:`pair_identity`):

- in one file, a pair may be given once per spelling family: two undirected keys of one pair, or
  two directed keys of one direction, are an error naming both keys; a directed key refines the
  undirected one (whatever their order in the file);
- across files (``extends``), a child's key replaces everything its parents said about it: an
  undirected child key replaces the parents' undirected key *and* both directed keys of the pair;
  a directed child key replaces the parents' key of that direction only.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import math
import re
import tomllib
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from sim.events import EVENT_TYPES
from sim.resources import ResourceError, scenarios_dir

YEAR_MONTH = r"^\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?$"
STATE_ID = r"^[A-Z][A-Z0-9_]{1,11}$"
NAME = r"^[a-z0-9_]+$"
PAIR = re.compile(r"^\s*([A-Z][A-Z0-9_]{1,11})\s*(->|<->|-)\s*([A-Z][A-Z0-9_]{1,11})\s*$")
META_KEYS = {
    "name",
    "title",
    "description",
    "id",
    "cite",
    "extends",
    "replace_events",
    "type",
    "rule",
    "ask",
    "instrument",
    "actor",
    "target",
    "partner",
    "watch",
    "third",
    "date",
}


RELATION_LIMIT = 0.99
"""Largest |x| a scenario may give in ``[relations]``: relations live on the latent scale
``z = artanh(x)`` (docs/ODD.md), which ±1 would put at infinity."""

PAIR_TABLES = ("relations", "trade", "alliances", "initial.ties", "initial.exposure")
"""Tables whose keys are pairs of state ids (``"A->B"`` directed, ``"A-B"`` both ways)."""


class Shown(str):
    """Text shown as it is in a :class:`ScenarioError` (already formatted for the user)."""


class Key(str):
    """A TOML key shown as written in a file: bare (``capabilty``) or quoted (``"A - B"``)."""


def toml_text(value: Any, limit: int = 80) -> str:
    """``value`` as it would be written in a TOML file (``"text"``, ``1.5``, ``true``,
    ``2024-02-12``, ``[1, 2]``, ``{ a = 1 }``), cut to ``limit`` characters; ``None`` (a missing
    value) is ``nothing``. Never a Python repr."""
    if isinstance(value, Shown):
        text = str(value)
    elif isinstance(value, Key):
        text = value if re.fullmatch(r"[A-Za-z0-9_-]+", value) else json.dumps(
            str(value), ensure_ascii=False)
    elif value is None:
        text = "nothing"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        text = ("nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
                if math.isinf(value) else repr(float(value)))
    elif isinstance(value, int):
        text = str(int(value))
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, (dt.date, dt.time)):
        text = value.isoformat()
    elif isinstance(value, dict):
        text = "{ " + ", ".join(f"{toml_text(Key(k), limit)} = {toml_text(v, limit)}"
                                for k, v in value.items()) + " }"
    elif isinstance(value, (list, tuple)):
        text = "[" + ", ".join(toml_text(v, limit) for v in value) + "]"
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ScenarioError(Exception):
    """A scenario file is wrong. ``str(err)`` is the one-line message shown to the user:
    ``FILE at KEY.PATH: got VALUE; expected WHAT``, the value written as in TOML
    (:func:`toml_text`)."""

    def __init__(self, file: str | Path, path: str, value: Any, expected: str) -> None:
        self.file, self.path, self.value, self.expected = str(file), path, value, expected
        where = f" at {path}" if path else ""
        super().__init__(f"{self.file}{where}: got {toml_text(value)}; expected {expected}")


def did_you_mean(value: Any, choices: Sequence[str]) -> str:
    """`` (did you mean "X"?)`` for the choice closest to a misspelt ``value`` (case and
    ``-``/``_`` ignored), or ``""`` if none is close."""
    if not isinstance(value, str) or not value:
        return ""
    norm = {c.lower().replace("-", "_"): c for c in choices}
    key = value.lower().replace("-", "_").strip()
    close = ([norm[key]] if key in norm else
             [norm[c] for c in difflib.get_close_matches(key, list(norm), n=1, cutoff=0.6)])
    return f" (did you mean {toml_text(close[0])}?)" if close else ""


def one_of(value: Any, choices: Sequence[str]) -> str:
    """What a choice-valued key expects: ``one of "a", "b" (did you mean "a"?)``."""
    return "one of " + ", ".join(toml_text(c) for c in choices) + did_you_mean(value, choices)


def _calendar(text: str) -> str:
    """A ``YYYY-MM-DD`` date must exist (no 30 February). Raises a ``calendar_date`` error."""
    if len(text) == 10:
        try:
            dt.date.fromisoformat(text)
        except ValueError:
            raise PydanticCustomError("calendar_date", "a date that exists") from None
    return text


Month = Annotated[str, Field(pattern=YEAR_MONTH), AfterValidator(_calendar)]
"""A month ``YYYY-MM`` (or a day ``YYYY-MM-DD`` of it) that exists in the calendar."""


class Strict(BaseModel):
    """No unknown keys, and values of the kind asked for: a number is a number (not ``true``,
    which Python counts as 1, nor text such as ``"0.5"``), a whole number is written without a
    fraction, a switch is ``true`` or ``false`` (not 0 or 1)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


# ----------------------------------------------------------------------------- scenario parts


class Meta(Strict):
    """``[scenario]``: what the scenario is and when it runs."""

    name: Annotated[
        str, Field(pattern=NAME, description="short id, used for output folders")
    ]
    title: str
    description: str = ""
    start: Annotated[Month, Field(description="first month, YYYY-MM")]
    months: Annotated[int, Field(ge=1, le=600, description="horizon in monthly steps")]
    seed: int = Field(0, ge=0, lt=2**63, description="default master seed")
    extends: str | list[str] | None = None
    replace_events: bool = False
    start_relations: Literal["rule", "calibrated"] = Field(
        "rule", description="how the dyads the UN-distance channel observes (USA-CHN, USA-RUS, "
        "CHN-RUS) start: 'rule', the ideal-point rule 1 - d/d_half or [relations]; "
        "'calibrated', the calibrated UN-distance observation model inverted at the states' "
        "ideal-point distance, [relations] keeping only the gap between the two directions "
        "(sim.world.observed_start)")
    anchor_offset: Literal["none", "steady_start"] = Field(
        "none", description="'none': the anchor is z* as the mechanisms give it. "
        "'steady_start': base-year (steady-state) calibration of the anchor, as in CGE "
        "(Shoven & Whalley 1992, Applying General Equilibrium, ch. 5) and DSGE models: each "
        "run adds a constant per-dyad offset c_ij to z*, computed once at the start (before "
        "the first month's events) so that the start state is a fixed point of the "
        "deterministic relation dynamics, c = z0 - z*(x0) - (alpha/beta) B(x0) "
        "(sim.kernels.anchor_offset); relations then move only by events, decisions, noise and "
        "the fading of the initial ties, and relax back to their start. Needs the anchor on "
        "with beta > 0 (runs given another value get c = 0)")


class StateSpec(Strict):
    """One state (or group such as ``EU``) in ``[[states]]``."""

    id: Annotated[str, Field(pattern=STATE_ID)]
    name: str
    capability: Annotated[
        float, Field(gt=0, le=1, description="COW CINC share of world capability")
    ]
    gdp: Annotated[float, Field(gt=0, le=100, description="GDP, USD trillion")]
    ideal_point: Annotated[
        float, Field(ge=-5, le=5, description="UNGA ideal point (Bailey et al.)")
    ]
    reciprocity: float = Field(
        0.5, ge=0, le=1, description="share of a hostile/friendly act returned"
    )


class Balance(Strict):
    enabled: bool = True
    rate: float = Field(0.01, ge=0, le=1, description="alpha, latent z per month")


class Anchor(Strict):
    """The anchor ``z*`` on the latent scale; inputs standardised (:mod:`sim.standardise`)."""

    enabled: bool = True
    rate: float = Field(0.03, ge=0, le=1, description="beta, pull of z toward z* per month")
    bias: float = Field(-0.4855, ge=-2, le=2, description="b, latent level at average inputs")
    w_ideology: float = Field(0.9503, ge=0, le=2, description="per sd of ideal-point distance")
    w_trade: float = Field(0.05, ge=0, le=1, description="per sd of log bilateral trade")
    w_shared_threat: float = Field(0.05, ge=0, le=1, description="per sd of shared threat")
    w_threat: float = Field(0.05, ge=0, le=1, description="per sd of direct threat")
    w_ties: float = Field(0.25, ge=0, le=2, description="per unit of the ties stock")
    w_alliance: float = Field(0.05, ge=0, le=2, description="per unit of treaty commitment")
    d_half: float = Field(1.75, gt=0, le=10, description="ideal-point distance of zero "
                          "affinity in the initial-relation rule")
    dependence_scale: float = Field(0.05, gt=0, le=1, description="trade/GDP giving 63% dependence")


class Threat(Strict):
    enabled: bool = True
    power_exponent: float = Field(1.0, ge=0, le=3, description="a in (cap_j/cap_max)^a")


class EventShocks(Strict):
    enabled: bool = True
    shock_scale: float = Field(0.1, ge=0, le=1, description="change in x per 10 Goldstein points")
    ties_scale: float = Field(0.2, ge=0, le=1, description="lasting ties per 10 Goldstein points")
    ties_half_life: float = Field(36.0, gt=0, le=600, description="months")
    sanction_tariff_equivalent: float = Field(0.15, ge=0, le=5)
    pressure_scale: dict[str, Annotated[float, Field(ge=0, le=10)]] = Field(
        {}, description="multiplies every hostile event (Goldstein < 0) by these actors"
    )


class Trade(Strict):
    enabled: bool = True
    elasticity_long_run: float = Field(2.0, ge=0, le=10)
    elasticity_one_year: float = Field(0.76, ge=0, le=10)
    diversion: float = Field(
        0.5, ge=0, le=1, description="share of lost imports bought from third states"
    )
    alignment_semi_elasticity: float = Field(0.13, ge=0, le=2)
    gas_price_bn_per_bcm: float = Field(
        0.35, gt=0, le=2, description="PoS1: ~$400bn over 30 years for 38 bcm/yr = 0.35"
    )
    pipeline_lead_months: int = Field(
        67, ge=0, le=240, description="PoS1: contract 2014-05 to first gas 2019-12"
    )

    @model_validator(mode="after")
    def _short_below_long(self) -> Trade:
        if self.elasticity_one_year > self.elasticity_long_run:
            raise ValueError(f"elasticity_one_year at most elasticity_long_run "
                             f"({toml_text(self.elasticity_long_run)})")
        return self


class Noise(Strict):
    enabled: bool = True
    sigma: float = Field(0.01, ge=0, le=1, description="sd of monthly noise on z")


class Mechanisms(Strict):
    """``[mechanisms]``: every force of the model, each with defaults and ranges."""

    balance: Balance = Balance()
    anchor: Anchor = Anchor()
    threat: Threat = Threat()
    events: EventShocks = EventShocks()
    trade: Trade = Trade()
    noise: Noise = Noise()


class Event(Strict):
    """One timed event from the event library (``sim.events.EVENT_TYPES``)."""

    type: str
    date: Month
    id: str | None = Field(None, description="lets a child scenario change or disable it")
    enabled: bool = True
    actor: str | list[str]
    target: str | list[str]
    third: str | None = None
    intensity: float = Field(1.0, ge=0, le=10)
    rate: float | None = Field(
        None, ge=0, le=5, description="tariff change, fraction (0.25 = 25 pp): raised by a "
        "tariff event, lowered by an easing event (the type gives the direction)"
    )
    coverage: float | None = Field(None, ge=0, le=10000, description="imports covered, USD bn/yr")
    gas_bcm: float | None = Field(None, ge=0, le=500)
    trade_bn: float | None = Field(None, ge=0, le=5000)
    note: str = ""

    @model_validator(mode="after")
    def _known_type(self) -> Event:
        if self.type not in EVENT_TYPES:
            raise PydanticCustomError("unknown_event_type", "unknown event type {event_type}",
                                      {"event_type": self.type})
        kind = EVENT_TYPES[self.type]
        for field in kind.required:
            if getattr(self, field) is None:
                raise PydanticCustomError("key_for_event_type",
                                          "event type {event_type} needs {field}",
                                          {"event_type": self.type, "field": field})
        return self

    @property
    def actors(self) -> list[str]:
        return [self.actor] if isinstance(self.actor, str) else list(self.actor)

    @property
    def targets(self) -> list[str]:
        return [self.target] if isinstance(self.target, str) else list(self.target)


class GrantAsk(Strict):
    """A state weighs granting a partner's ask (China on Russia's three asks, article ¶4-6)."""

    rule: Literal["grant_ask"]
    enabled: bool = True
    actor: str
    partner: str
    ask: Literal["pipeline", "military_hardware", "finance_access"]
    gain: float = Field(0.3, ge=0, le=2, description="economic gain to the actor, 0..2")
    w_alignment: float = Field(1.0, ge=0, le=5)
    w_gain: float = Field(1.0, ge=0, le=5)
    w_risk: float = Field(1.0, ge=0, le=20)
    threshold: float = Field(1.0, ge=-5, le=5, description="utility at which the hazard is h")
    temperature: float = Field(0.15, gt=0, le=5)
    hazard: float = Field(0.05, ge=0, le=1, description="h, monthly hazard at U = threshold")
    duration_shape: float = Field(1.0, ge=0.5, le=2, description="k, Weibull duration shape")
    w_response: float = Field(1.0, ge=0, le=5, description="w_E, weight of the expected "
                              "response (anticipation)")
    horizon_months: int = Field(6, ge=1, le=24, description="H, anticipation horizon")
    gas_bcm: float = Field(50.0, ge=0, le=500)
    trade_bn: float = Field(10.0, ge=0, le=5000)


class Escalate(Strict):
    """A state escalates against a target when the target's support for ``watch`` rises."""

    rule: Literal["escalate"]
    enabled: bool = True
    actor: str
    target: str
    watch: str
    instrument: Literal["tariff", "secondary_sanctions"]
    threshold: float = Field(1.0, ge=-5, le=5, description="support index at which the "
                             "hazard is h")
    temperature: float = Field(0.5, gt=0, le=5)
    hazard: float = Field(0.02, ge=0, le=1, description="h, monthly hazard at the threshold")
    duration_shape: float = Field(1.0, ge=0.5, le=2, description="k, Weibull duration shape")
    cooldown_months: int = Field(12, ge=0, le=600)
    max_times: int = Field(3, ge=0, le=100)
    rate: float = Field(0.1, ge=0, le=5)
    coverage: float = Field(200.0, ge=0, le=10000)


class Concede(Strict):
    """A state offers price concessions to a partner as its dependence on it grows."""

    rule: Literal["concede"]
    enabled: bool = True
    actor: str
    partner: str
    threshold: float = Field(0.5, ge=0, le=1, description="dependence that triggers")
    temperature: float = Field(0.1, gt=0, le=5)
    hazard: float = Field(0.05, ge=0, le=1, description="h, monthly hazard at the threshold")
    duration_shape: float = Field(1.0, ge=0.5, le=2, description="k, Weibull duration shape")
    step: float = Field(0.1, ge=0, le=1, description="gain added to partner's pipeline ask")
    max_times: int = Field(3, ge=0, le=100)


Policy = Annotated[GrantAsk | Escalate | Concede, Field(discriminator="rule")]


DISTRIBUTIONS = ("uniform", "normal", "lognormal", "triangular", "fixed")
"""``dist`` of an ``[uncertainties]`` entry (``fixed``: no uncertainty, the scenario's value)."""
DIST_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "uniform": (("lo", "hi"), ()),
    "triangular": (("lo", "mode", "hi"), ()),
    "normal": (("mean", "sd"), ("lo", "hi")),
    "lognormal": (("median", "sdlog"), ("lo", "hi")),
    "fixed": ((), ()),
    "calibration": ((), ()),
}
"""Required and optional numbers of each distribution (``calibration``: ``from = ...``)."""


class Uncertainty(Strict):
    """One entry of ``[uncertainties]``: the distribution of one registered parameter, with its
    source. ``uniform`` (lo, hi), ``triangular`` (lo, mode, hi), ``normal`` (mean, sd) and
    ``lognormal`` (median, sdlog: the sd of the natural log) truncated to ``[lo, hi]`` (default:
    the parameter's allowed range), ``from = "calibration"`` (joint draws from ``sim
    calibrate``'s estimate and covariance) or ``fixed`` (none: the scenario's value). Which keys a
    distribution takes and whether it can be sampled is checked by
    :func:`sim.uncertainty.check_uncertainties`."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, serialize_by_alias=True)

    dist: Literal["uniform", "normal", "lognormal", "triangular", "fixed"] | None = None
    from_: Literal["calibration"] | None = Field(None, alias="from")
    lo: float | None = None
    hi: float | None = None
    mode: float | None = None
    mean: float | None = None
    sd: float | None = None
    median: float | None = None
    sdlog: float | None = None
    cite: str | None = Field(None, description="where the distribution comes from (required)")

    @property
    def kind(self) -> str:
        """``uniform`` ... ``fixed``, or ``calibration`` for ``from = "calibration"``."""
        return self.from_ or self.dist or ""

    @property
    def text(self) -> str:
        """The distribution in a few words: ``triangular(0.5, 1, 1.5)``, ``from calibration``."""
        if self.kind in ("calibration", "fixed", ""):
            return {"calibration": "from calibration (joint)", "fixed": "fixed"}.get(self.kind, "")
        keys = {"uniform": ("lo", "hi"), "triangular": ("lo", "mode", "hi"),
                "normal": ("mean", "sd"), "lognormal": ("median", "sdlog")}[self.kind]
        text = f"{self.kind}({', '.join(f'{getattr(self, k):g}' for k in keys)})"
        if self.kind in ("normal", "lognormal") and (self.lo, self.hi) != (None, None):
            lo, hi = ("" if v is None else f"{v:g}" for v in (self.lo, self.hi))
            text += f" in [{lo or '..'}, {hi or '..'}]"
        return text


UNCERTAINTY_FIELDS = frozenset(f.alias or k for k, f in Uncertainty.model_fields.items())
"""Keys of an ``[uncertainties]`` entry (a table with any of them is an entry, not a level of a
dotted name)."""


class Initial(Strict):
    """``[initial]``: stocks already built up at the start (pairs as in ``[relations]``)."""

    ties: dict[str, Annotated[float, Field(ge=-5, le=5)]] = {}
    exposure: dict[str, Annotated[float, Field(ge=0, le=10)]] = {}

    @field_validator("ties", "exposure")
    @classmethod
    def _undirected_first(cls, pairs: dict[str, float]) -> dict[str, float]:
        return undirected_first(pairs)


class ScenarioSpec(Strict):
    """A validated scenario: the single input of :mod:`sim.world`."""

    scenario: Meta
    states: Annotated[list[StateSpec], Field(min_length=3, max_length=250)]
    relations: dict[str, Annotated[float, Field(ge=-RELATION_LIMIT, le=RELATION_LIMIT)]] = {}
    trade: dict[str, Annotated[float, Field(ge=0, le=10000)]] = {}
    alliances: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(
        {}, description="treaty commitment per pair: 1 defence pledge, 0.5 bilateral "
        "non-aggression and consultation (ATOP), absent 0")
    initial: Initial = Initial()
    mechanisms: Mechanisms = Mechanisms()
    events: list[Event] = []
    policies: list[Policy] = Field([], max_length=16, description="at most 16 (sim.seeds.SLOTS)")
    uncertainties: dict[str, Uncertainty] = Field(
        {}, description="distribution of registered parameters (dotted names, sim params), "
        "drawn per parameter draw of an ensemble (sim.uncertainty)")
    # bookkeeping, filled by the loader
    cites: dict[str, str] = {}
    source: str = ""

    @field_validator("relations", "trade", "alliances")
    @classmethod
    def _undirected_first(cls, pairs: dict[str, float]) -> dict[str, float]:
        return undirected_first(pairs)

    @property
    def ids(self) -> list[str]:
        return [s.id for s in self.states]


# ----------------------------------------------------------------------------- loading


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> ScenarioSpec:
    """Read, merge (``extends``), unwrap cites, validate and cross-check a scenario file."""
    path = Path(path)
    raw = _read_merged(path, chain=())
    if overrides:
        overrides = flatten_uncertainties(overrides, "overrides")
        check_pair_keys(overrides, "overrides")
        raw = _drop_overridden(merge_tables(raw, overrides), raw, overrides)
    return _validate(raw, path)


def spec_from_dict(data: dict[str, Any], source: str = "<dict>") -> ScenarioSpec:
    """Validate an in-memory scenario (same rules as a file, no ``extends``)."""
    data = flatten_uncertainties(data, source)
    check_pair_keys(data, source)
    return _validate(data, source)


def _validate(raw: dict[str, Any], file: str | Path) -> ScenarioSpec:
    cites: dict[str, str] = {}
    plain = _dates_as_text(_unwrap(raw, "", cites, file))
    try:
        spec = ScenarioSpec.model_validate({**plain, "cites": cites, "source": str(file)})
    except ValidationError as err:
        raise _to_scenario_error(err, file, plain) from None
    check_references(spec, file)
    if spec.uncertainties:
        from sim.uncertainty import check_uncertainties  # needs the registry (sim.params)

        check_uncertainties(spec, file)
    return spec


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file: UTF-8 with or without a byte order mark (as Windows editors save
    it). Raises :class:`ScenarioError` naming the file for a missing or unreadable file, text
    that is not UTF-8 (with the line), or invalid TOML (with the line and a hint for unquoted
    dates such as ``start = 2024-05``)."""
    if not path.is_file():
        raise ScenarioError(path, "", Shown(str(path)), "an existing scenario file (.toml)")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ScenarioError(path, "", Shown(f"a file that cannot be read ({err.strerror})"),
                            "a readable scenario file") from None
    text = _decode(path, data)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise _toml_error(path, text, err) from None


def _decode(path: Path, data: bytes) -> str:
    """UTF-8 text of a file (a leading byte order mark dropped)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ScenarioError(path, "", Shown("a file saved as UTF-16"),
                            "a UTF-8 text file (save it as UTF-8)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise ScenarioError(path, "", Shown(f"byte 0x{data[err.start]:02x} at line {line}, "
                                            "which is not UTF-8"),
                            "a UTF-8 text file (save it as UTF-8)") from None


DUPLICATE = ("Cannot overwrite a value", "Cannot declare", "Cannot mutate immutable")
"""tomllib's reasons for a key or table given twice (it names neither the key nor, at the end
of a file, the line)."""


def _key_path(line: str) -> list[str] | None:
    """The keys a TOML line sets, header (``[a.b]``, ``[[a]]``) or ``key = value`` (dotted or
    quoted keys), or None for any other line."""
    body = line.strip()
    header = re.fullmatch(r"\[\[?(.*?)\]\]?\s*(#.*)?", body)
    heads = [header.group(1)] if header else [
        body[:m.start()] for m in re.finditer("=", body)]  # the key ends at one of the "="
    for head in heads:
        try:
            node: Any = tomllib.loads(f"{head} = 0")
        except tomllib.TOMLDecodeError:
            continue
        keys = []
        while isinstance(node, dict) and len(node) == 1:
            key, node = next(iter(node.items()))
            keys.append(key)
        return keys
    return None


def _dotted(keys: Sequence[str]) -> str:
    """Keys joined as a key path, each bare or quoted as in TOML."""
    return ".".join(toml_text(Key(k)) for k in keys)


def _duplicate(path: Path, text: str) -> ScenarioError | None:
    """The error for a key or table set twice: the file, the duplicated key path, its line and
    the line that first set it; None if the text holds no duplicate."""
    lines, table, arrays, seen = text.splitlines(), "", {}, {}
    for n, line in enumerate(lines, 1):
        keys = _key_path(line)
        if keys is None:
            continue
        here = _dotted(keys)
        if re.match(r"\s*\[\[", line):
            arrays[here] = arrays.get(here, -1) + 1
            table = f"{here}[{arrays[here]}]"
        elif re.match(r"\s*\[", line):
            table = here
        else:
            here = f"{table}.{here}" if table else here
        try:
            tomllib.loads("\n".join(lines[:n]))
        except tomllib.TOMLDecodeError as err:
            if str(err).startswith(DUPLICATE):
                first = next((k for k in (here, *_prefixes(here)) if k in seen), None)
                again = f"{first} is already defined on line {seen[first]}" if first else (
                    f"{here} clashes with a key or table defined before")
                return ScenarioError(path, here, Shown(f"line {n}: {line.strip()}"),
                                     f"each key and table once ({again})")
        for k in (here, *_prefixes(here)):  # a dotted key defines its parent tables too
            seen.setdefault(k, n)
    return None


def _prefixes(dotted: str) -> list[str]:
    """The parent key paths of a key path, longest first (``a.b.c``: ``a.b``, ``a``)."""
    parts = re.findall(r'"(?:[^"\\]|\\.)*"|[^.]+', dotted)
    return [".".join(parts[:i]) for i in range(len(parts) - 1, 0, -1)]


def _toml_error(path: Path, text: str, err: tomllib.TOMLDecodeError) -> ScenarioError:
    """One line for invalid TOML: tomllib's reason, the line, and a hint for bare dates; for a
    key or table given twice, the key path and both lines."""
    reason = str(err)
    if reason.startswith(DUPLICATE):
        dup = _duplicate(path, text)
        if dup is not None:
            return dup
    where = re.search(r"\(at line (\d+), column (\d+)\)", reason)
    reason = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", reason)
    if not where:
        return ScenarioError(path, "", Shown("text that is not TOML"), f"valid TOML ({reason})")
    lineno, col = int(where.group(1)), int(where.group(2))
    lines = text.splitlines()
    line = lines[lineno - 1].strip() if lineno <= len(lines) else ""
    hint = ""
    date = re.search(r"=\s*(\d{4}-\d{1,2}(-\d{1,2})?)\s*(#.*)?$", line)
    if date:
        hint = f'; write dates in quotes, as "YYYY-MM" or "YYYY-MM-DD" (e.g. "{date.group(1)}")'
    return ScenarioError(path, "", Shown(f"line {lineno}: {line}"),
                         f"valid TOML ({reason.lower()[:1] + reason[1:]} at column {col}){hint}")


DATE_FIELDS = (("scenario", "start"), ("events", "date"))
"""Fields holding dates; a TOML date (``2024-05-12``) there is read as ``"2024-05-12"``."""


def _dates_as_text(plain: Any) -> Any:
    """TOML dates and date-times in date fields as ``YYYY-MM-DD`` text (the day kept, the time
    of day dropped); anything else is left for validation to report."""
    if not isinstance(plain, dict):
        return plain

    def text(v: Any) -> Any:
        if isinstance(v, dt.datetime):
            return v.date().isoformat()
        return v.isoformat() if isinstance(v, dt.date) else v

    out = dict(plain)
    for table, key in DATE_FIELDS:
        node = out.get(table)
        if isinstance(node, dict) and key in node:
            out[table] = {**node, key: text(node[key])}
        elif isinstance(node, list):
            out[table] = [{**e, key: text(e[key])} if isinstance(e, dict) and key in e else e
                          for e in node]
    return out


def _read_merged(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    """The file merged over its parents (``extends`` is one path or a list, merged in order)."""
    given, path = path, path.resolve()  # messages name the file as the user wrote it
    if path in chain:
        loop = " -> ".join(p.name for p in (*chain, path))
        raise ScenarioError(chain[-1], "scenario.extends", path.name, f"no cycle ({loop})")
    raw = flatten_uncertainties(read_toml(given), given)
    check_pair_keys(raw, given)
    meta = raw.get("scenario", {})
    refs = _plain(meta.get("extends")) if isinstance(meta, dict) else None
    if refs is None:
        return raw
    refs = [refs] if isinstance(refs, str) else refs
    if not isinstance(refs, list) or not refs or not all(isinstance(r, str) for r in refs):
        raise ScenarioError(
            given, "scenario.extends", refs, "a relative path to a .toml file, or a list of them"
        )
    merged: dict[str, Any] = {}
    for ref in refs:
        parent_path = _parent_file(path, ref)
        if parent_path is None:
            raise ScenarioError(
                given,
                "scenario.extends",
                ref,
                f"a scenario file relative to {path.name} (not found: {path.parent / ref}) "
                "or the name of a shipped scenario (sim list)",
            )
        merged = _overlay(merged, _read_merged(parent_path, (*chain, path)))
    return _overlay(merged, raw)


def _parent_file(path: Path, ref: str) -> Path | None:
    """The file ``extends = ref`` names: relative to ``path``'s folder first, else a shipped
    scenario by bare name (``"baseline"`` or ``"baseline.toml"``); None if neither exists."""
    local = path.parent / ref
    if local.is_file():
        return local
    if Path(ref).name != ref:
        return None
    try:
        shipped = scenarios_dir() / (ref if ref.endswith(".toml") else f"{ref}.toml")
    except ResourceError:
        return None
    return shipped if shipped.is_file() else None


def _overlay(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """``child`` over ``parent``; events are added (or changed by ``id``) unless the child
    says ``replace_events = true``."""
    child = dict(child)
    replace = bool(_plain(child.get("scenario", {}).get("replace_events", False)))
    child_events = child.pop("events", [])
    merged = _drop_overridden(merge_tables(parent, child), parent, child)
    merged["events"] = (
        child_events
        if replace
        else _merge_list(parent.get("events", []), child_events, _event_identity)
    )
    if isinstance(merged.get("scenario"), dict):
        merged["scenario"] = {
            k: v for k, v in merged["scenario"].items() if k not in ("replace_events", "extends")
        }
    if not merged["events"]:
        merged.pop("events")
    return merged


def merge_tables(base: dict[str, Any], over: dict[str, Any], _path: str = "") -> dict[str, Any]:
    """Recursive merge: tables merge by key; ``states`` merge by ``id`` and ``policies`` by
    identity (``POLICY_KEYS``: rule plus actor and ask / instrument and target / partner);
    pair tables (``PAIR_TABLES``) merge by pair, whatever the spelling (an undirected key
    replaces the base's undirected and directed keys of its pair, see the module docstring);
    anything else in ``over`` replaces."""
    out = dict(base)
    if _path in PAIR_TABLES:
        out = _drop_replaced_pairs(out, over)
    for key, val in over.items():
        sub = f"{_path}.{key}" if _path else str(key)
        if (isinstance(val, dict) and isinstance(out.get(key), dict) and not _is_cited(val)
                and _path != "uncertainties"):  # an uncertainty entry is replaced whole
            out[key] = merge_tables(out[key], val, sub)
        elif key in _LIST_IDENTITY and isinstance(val, list) and isinstance(out.get(key), list):
            out[key] = _merge_list(out[key], val, _LIST_IDENTITY[key])
        else:
            out[key] = val
    return out


def flatten_uncertainties(raw: dict[str, Any], file: str | Path) -> dict[str, Any]:
    """``raw`` with ``[uncertainties]`` keyed by dotted names: ``anchor.rate = {...}`` (which
    TOML reads as nested tables) becomes ``"anchor.rate" = {...}``, as if quoted. A table holding
    any key of an entry (``dist``, ``from``, ``lo``, ``cite``, ...) is an entry. Raises
    :class:`ScenarioError` for one name written twice (quoted and nested)."""
    table = raw.get("uncertainties") if isinstance(raw, dict) else None
    if not isinstance(table, dict):
        return raw
    flat: dict[str, Any] = {}

    def walk(node: dict[str, Any], prefix: str) -> None:
        for key, val in node.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(val, dict) and val and not set(val) & UNCERTAINTY_FIELDS:
                walk(val, name)
            elif name in flat:
                raise ScenarioError(file, f"uncertainties.{toml_text(Key(name))}", Key(name),
                                    "one entry per parameter (it is written twice)")
            else:
                flat[name] = val

    walk(table, "")
    return {**raw, "uncertainties": flat}


def _set_parameters(raw: dict[str, Any], policies: list[Any]) -> set[str]:
    """Dotted names (:mod:`sim.params`) of the parameters a file's ``raw`` tables give a value:
    ``[mechanisms]`` keys, ``pressure_scale`` entries, keys of ``[[states]]`` and of
    ``[[policies]]`` (by their label among the merged ``policies``)."""
    out: set[str] = set()
    mech = raw.get("mechanisms")
    for group, node in (mech.items() if isinstance(mech, dict) else ()):
        for key, val in (node.items() if isinstance(node, dict) else ()):
            if group == "events" and key == "pressure_scale" and isinstance(val, dict):
                out |= {f"events.pressure_scale.{sid}" for sid in val}
            else:
                out.add(f"{group}.{key}")
    for state in raw.get("states") or []:
        if isinstance(state, dict):
            out |= {f"states.{_plain(state.get('id'))}.{key}" for key in state}
    labels = _policy_labels(policies)
    for pol in raw.get("policies") or []:
        try:
            label = labels.get(_policy_identity(pol)) if isinstance(pol, dict) else None
        except TypeError:  # an unhashable identity: validation reports it
            label = None
        if label is not None:
            out |= {f"policies.{label}.{key}" for key in pol}
    return out


def _policy_labels(policies: list[Any]) -> dict[tuple[Any, ...], str]:
    """Decision label of each raw policy, by identity (``{}`` if a policy lacks what a label
    needs: validation reports it)."""
    from types import SimpleNamespace

    from sim.world import policy_labels  # sim.world imports this module

    try:
        plain = [SimpleNamespace(**{k: _plain(v) for k, v in p.items()}) for p in policies]
        return dict(zip((_policy_identity(p) for p in policies), policy_labels(plain),
                        strict=True))
    except (AttributeError, TypeError):
        return {}


def _drop_overridden(merged: dict[str, Any], parent: dict[str, Any], child: dict[str, Any]
                     ) -> dict[str, Any]:
    """``merged`` without the parent's uncertainty for any parameter ``child`` gives a value
    and declares none for: an explicit value in a child (or a later parent, or overrides) fixes
    the parameter."""
    inherited = parent.get("uncertainties")
    if not isinstance(inherited, dict) or not inherited:
        return merged
    own = child.get("uncertainties") if isinstance(child.get("uncertainties"), dict) else {}
    policies = merged.get("policies") if isinstance(merged.get("policies"), list) else []
    gone = (_set_parameters(child, policies) & set(inherited)) - set(own)
    if not gone:
        return merged
    kept = {k: v for k, v in merged["uncertainties"].items() if k not in gone}
    return {**merged, "uncertainties": kept}


def pair_identity(key: Any) -> tuple[str, str, str] | None:
    """What a pair key names: ``("->", A, B)`` for ``"A->B"``; ``("-", A, B)`` with the ids
    sorted for ``"A-B"``, ``"B-A"``, ``"A - B"`` or ``"A<->B"``; ``None`` if ``key`` is not a
    pair key."""
    m = PAIR.match(key) if isinstance(key, str) else None
    if not m:
        return None
    a, arrow, b = m.groups()
    return ("->", a, b) if arrow == "->" else ("-", *sorted((a, b)))


def _replaced(ident: tuple[str, str, str]) -> set[tuple[str, str, str]]:
    """Identities a later file's key replaces: itself, and for an undirected pair also both
    directed keys."""
    kind, a, b = ident
    return {ident} if kind == "->" else {ident, ("->", a, b), ("->", b, a)}


def _drop_replaced_pairs(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    gone: set[tuple[str, str, str]] = set()
    for key in over:
        ident = pair_identity(key)
        if ident is not None:
            gone |= _replaced(ident)
    return {k: v for k, v in base.items() if pair_identity(k) not in gone}


def _table(raw: Any, dotted: str) -> Any:
    node = raw
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def check_pair_keys(raw: dict[str, Any], file: str | Path) -> None:
    """In one file, each pair table names a pair (or a direction) once: ``"A-B"`` and
    ``"B - A"`` in one table raise :class:`ScenarioError` naming both keys, as TOML does for a
    key written twice."""
    for table in PAIR_TABLES:
        node = _table(raw, table)
        if not isinstance(node, dict):
            continue
        seen: dict[tuple[str, str, str], str] = {}
        for key in node:
            ident = pair_identity(key)
            if ident is None:
                continue
            if ident in seen:
                a, arrow, b = PAIR.match(seen[ident]).groups()
                what = f"the direction {a}->{b}" if arrow == "->" else f"the pair {a}-{b}"
                raise ScenarioError(file, f"{table}.{toml_text(Key(key))}",
                                    Shown(f"{toml_text(seen[ident])} and {toml_text(key)}"),
                                    f"one entry for {what} (both keys name it; keep one)")
            seen[ident] = key


def undirected_first(pairs: dict[str, Any]) -> dict[str, Any]:
    """The pair table with undirected keys before directed ones (order kept within each), so
    that a directed key refines the undirected one when the table is applied in order."""
    directed = {k: v for k, v in pairs.items() if (pair_identity(k) or ("",))[0] == "->"}
    return {**{k: v for k, v in pairs.items() if k not in directed}, **directed}


POLICY_KEYS = {"grant_ask": ("actor", "ask"), "escalate": ("actor", "instrument", "target"),
               "concede": ("actor", "partner")}
"""What identifies a policy when a child scenario changes its parent's (rule plus these)."""


def _policy_identity(entry: dict[str, Any]) -> tuple[Any, ...]:
    rule = _plain(entry.get("rule"))
    return (rule, *(_plain(entry.get(k)) for k in POLICY_KEYS.get(rule, ())))


def _plain(val: Any) -> Any:
    return val["value"] if _is_cited(val) else val


def _event_identity(entry: dict[str, Any]) -> Any:
    """Events merge by ``id``; events without one are always added."""
    eid = _plain(entry.get("id"))
    return ("event", eid) if eid is not None else ("anonymous", id(entry))


_LIST_IDENTITY = {
    "states": lambda entry: _plain(entry.get("id")),
    "policies": _policy_identity,
}


def _merge_list(base: list[Any], over: list[Any], identity: Any) -> list[Any]:
    out = list(base)
    index = {identity(e): i for i, e in enumerate(out) if isinstance(e, dict)}
    for entry in over:
        key = identity(entry) if isinstance(entry, dict) else None
        if key in index:
            out[index[key]] = merge_tables(out[index[key]], entry)
        else:
            out.append(entry)
    return out


def _is_cited(val: Any) -> bool:
    return isinstance(val, dict) and "value" in val and set(val) <= {"value", "cite"}


def _unwrap(node: Any, path: str, cites: dict[str, str], file: str | Path) -> Any:
    """Replace ``{value, cite}`` tables by their value; record cites by key path."""
    if _is_cited(node):
        if "cite" in node:
            if not isinstance(node["cite"], str) or not node["cite"].strip():
                raise ScenarioError(file, f"{path}.cite", node.get("cite"), "a non-empty citation")
            cites[path] = node["cite"]
        return node["value"]
    if isinstance(node, dict):
        entry = path.startswith("uncertainties.")  # an entry keeps its cite (a field of it)
        if isinstance(node.get("cite"), str) and path:
            cites[path] = node["cite"]
        return {
            k: _unwrap(v, f"{path}.{k}" if path else k, cites, file)
            for k, v in node.items()
            if not (k == "cite" and path and not entry)
        }
    if isinstance(node, list):
        return [_unwrap(v, f"{path}[{i}]", cites, file) for i, v in enumerate(node)]
    return node


def _data_loc(loc: tuple[Any, ...], plain: Any, keep_last: bool) -> tuple[Any, ...]:
    """The parts of a pydantic error location that are keys of the data: union-member and
    discriminator tags (``str``, ``list[str]``, ``grant_ask``) are dropped; the last part is
    kept when it names a key that is absent (``keep_last``)."""
    out: list[Any] = []
    node = plain
    for k, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            out.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            node = node[part]
        elif keep_last and k == len(loc) - 1:
            out.append(part)
    return tuple(out)


def _fmt_loc(loc: tuple[Any, ...]) -> str:
    """``states[0].capability``; keys that are not bare TOML keys quoted (``trade."A->B"``)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            key = toml_text(Key(str(part)))
            out += f".{key}" if out else key
    return out


def _lookup(plain: Any, loc: tuple[Any, ...]) -> Any:
    node = plain
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _allowed_keys(loc: tuple[Any, ...], plain: dict[str, Any]) -> list[str]:
    """Field names of the model that owns the key at ``loc`` (for did-you-mean)."""
    model, _ = _field_at(loc[:-1], plain)
    fields = model.model_fields if isinstance(model, type) and issubclass(model, BaseModel) else {}
    return [f.alias or k for k, f in fields.items() if k not in ("cites", "source")]


def _field_at(parts: tuple[Any, ...], plain: Any) -> tuple[Any, list[Any]]:
    """The type and the constraints (``Ge``, ``Le``, ...) of the field at data path ``parts``,
    or ``(None, [])`` if the path leaves the schema."""
    ann: Any = ScenarioSpec
    meta: list[Any] = []
    node: Any = plain
    for part in parts:
        ann, meta = _resolve(ann, meta, node)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            field = ann.model_fields.get(str(part))
            if field is None:
                return None, []
            ann, meta = field.annotation, list(field.metadata)
        elif typing.get_origin(ann) in (list, dict):
            ann, meta = typing.get_args(ann)[-1], []
        else:
            return None, []
        node = _lookup(node, (part,))
    return _resolve(ann, meta, node)


def _resolve(ann: Any, meta: list[Any], node: Any) -> tuple[Any, list[Any]]:
    """Unwrap ``Annotated`` (collecting constraints) and pick a union's model for ``node``."""
    meta = list(meta)
    while True:
        if typing.get_origin(ann) is Annotated:
            ann, *extra = typing.get_args(ann)
            for m in extra:
                meta += list(getattr(m, "metadata", [m]))
        elif typing.get_origin(ann) in (typing.Union, type(int | str)):
            model = _model_of(ann, node)
            if model is None:
                return ann, meta
            ann = model
        else:
            return ann, meta


def _model_of(annotation: Any, node: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg, node)
        if found is None:
            continue
        rule = node.get("rule") if isinstance(node, dict) else None
        fields = getattr(found, "model_fields", {})
        if rule is None or "rule" not in fields:
            return found
        if typing.get_args(fields["rule"].annotation)[0] == rule:
            return found
    return None


PATTERN_TEXT = {
    YEAR_MONTH: 'a date in quotes, as "YYYY-MM" or "YYYY-MM-DD" (e.g. "2024-05")',
    STATE_ID: 'a state id of 2 to 12 capital letters, digits or _, starting with a letter '
              '(e.g. "USA")',
    NAME: 'a short name of lowercase letters, digits and _ (e.g. "tariff_escalation")',
}
"""What each pattern of the schema asks for, in words (never the regular expression)."""

TYPE_TEXT = {
    "string_type": "text in quotes", "int_type": "a whole number",
    "int_parsing": "a whole number", "int_from_float": "a whole number",
    "float_type": "a number", "float_parsing": "a number", "bool_type": "true or false",
    "bool_parsing": "true or false", "list_type": "a list [...]", "dict_type": "a table",
    "model_type": "a table", "model_attributes_type": "a table",
}
"""Pydantic's error types in the words of a TOML file."""

BOUNDS = ("greater_than", "greater_than_equal", "less_than", "less_than_equal")


def _range_text(ann: Any, meta: list[Any], ctx: dict[str, Any]) -> str:
    """``a number from -1 to 1``, ``a whole number from 1 to 600``, ``a number greater than 0
    and at most 1``: the field's bounds (or the one pydantic reported)."""
    bounds = {k: getattr(m, k) for m in meta for k in ("ge", "gt", "le", "lt") if hasattr(m, k)}
    bounds = bounds or {k: v for k, v in ctx.items() if k in ("ge", "gt", "le", "lt")}
    kind = "a whole number" if ann is int else "a number"
    if "ge" in bounds and "le" in bounds:
        return f"{kind} from {toml_text(bounds['ge'])} to {toml_text(bounds['le'])}"
    words = {"ge": "at least", "gt": "greater than", "le": "at most", "lt": "less than"}
    return f"{kind} " + " and ".join(f"{words[k]} {toml_text(v)}" for k, v in bounds.items())


def _to_scenario_error(
    err: ValidationError, file: str | Path, plain: dict[str, Any]
) -> ScenarioError:
    """The first problem pydantic found, in the words of a scenario file: the key path as
    written, the value as in TOML, and what is expected (never a regex or a Python type)."""
    errors = err.errors()
    # a misspelt key shows up as 'extra' plus 'missing': report the misspelling
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    kind, ctx = first["type"], first.get("ctx") or {}
    loc = _data_loc(tuple(first["loc"]), plain, keep_last=kind in ("missing", "extra_forbidden"))
    path = _fmt_loc(loc)
    if kind == "extra_forbidden":
        key = str(loc[-1])
        allowed = _allowed_keys(loc, plain)
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        hint = (f"did you mean {toml_text(close[0])}?" if close
                else f"one of {', '.join(allowed)}")
        return ScenarioError(file, path, Key(key), f"a known key ({hint})")
    if kind == "missing":
        return ScenarioError(file, path, None, "this required key to be present")
    if kind == "key_for_event_type":
        return ScenarioError(file, f"{path}.{ctx['field']}", None,
                             f"this key for an event of type {toml_text(ctx['event_type'])}")
    value = _lookup(plain, loc)
    if kind == "unknown_event_type":
        return ScenarioError(file, f"{path}.type", ctx["event_type"],
                             f"an event type: {', '.join(EVENT_TYPES)}"
                             + did_you_mean(ctx["event_type"], EVENT_TYPES))
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        rule = value.get("rule") if isinstance(value, dict) else None
        return ScenarioError(file, f"{path}.rule", rule,
                             one_of(rule, ["grant_ask", "escalate", "concede"]))
    if kind in ("too_short", "too_long"):
        bound = ("at least", ctx.get("min_length")) if kind == "too_short" else (
            "at most", ctx.get("max_length"))
        return ScenarioError(file, path, Shown(f"{ctx.get('actual_length')} entries"),
                             f"{bound[0]} {bound[1]} entries")
    if kind == "calendar_date":
        return ScenarioError(file, path, value, 'a date that exists in the calendar, "YYYY-MM" '
                             'or "YYYY-MM-DD" (e.g. "2025-02-28")')
    if kind == "string_pattern_mismatch":
        return ScenarioError(file, path, value,
                             PATTERN_TEXT.get(ctx.get("pattern"), "text of another form"))
    if kind in BOUNDS:
        return ScenarioError(file, path, value, _range_text(*_field_at(loc, plain), ctx))
    if kind == "literal_error":
        options = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        return ScenarioError(file, path, value, one_of(value, options))
    if kind == "string_type":  # a text field with a form: say which (a TOML time in a date)
        pattern = next((getattr(m, "pattern", None) for m in _field_at(loc, plain)[1]
                        if getattr(m, "pattern", None)), None)
        if pattern in PATTERN_TEXT:
            return ScenarioError(file, path, value, PATTERN_TEXT[pattern])
    if kind in TYPE_TEXT:  # a union lists one error per member: name them all
        same = [e["type"] for e in errors
                if _data_loc(tuple(e["loc"]), plain, keep_last=False) == loc]
        words = list(dict.fromkeys(TYPE_TEXT[t] for t in same if t in TYPE_TEXT))
        return ScenarioError(file, path, value, " or ".join(words))
    msg = first["msg"].removeprefix("Value error, ")
    return ScenarioError(file, path, value, msg[:1].lower() + msg[1:])


def check_references(spec: ScenarioSpec, file: str | Path) -> None:
    """Ids used anywhere must be declared states; event dates must fall in the horizon."""
    ids = spec.ids
    seen: set[str] = set()
    for i, state in enumerate(spec.states):
        if state.id in seen:
            raise ScenarioError(file, f"states[{i}].id", state.id, "an id not declared twice")
        seen.add(state.id)

    def known(sid: str, path: str) -> None:
        if sid not in seen:
            raise ScenarioError(file, path, sid, f"a declared state id: {', '.join(ids)}"
                                + did_you_mean(sid, ids))

    tables = {
        "relations": spec.relations,
        "trade": spec.trade,
        "alliances": spec.alliances,
        "initial.ties": spec.initial.ties,
        "initial.exposure": spec.initial.exposure,
    }
    for table, pairs in tables.items():
        for key in pairs:
            m = PAIR.match(key)
            where = f"{table}.{toml_text(Key(key))}"
            if not m:
                raise ScenarioError(file, where, Key(key), 'a pair "A->B" (directed) or "A-B" '
                                    "(both ways) of state ids")
            known(m.group(1), where)
            known(m.group(3), where)
            if m.group(1) == m.group(3):
                raise ScenarioError(file, where, Key(key), "two different states")
    for sid in spec.mechanisms.events.pressure_scale:
        known(sid, f"mechanisms.events.pressure_scale.{sid}")
    first, last = month_index(spec.scenario.start, spec.scenario.start), spec.scenario.months - 1
    for i, ev in enumerate(spec.events):
        for who in ev.actors:
            known(who, f"events[{i}].actor")
        for who in ev.targets:
            known(who, f"events[{i}].target")
            if who in ev.actors:
                raise ScenarioError(
                    file, f"events[{i}].target", who, "a target that is not also an actor"
                )
        if ev.third is not None:
            known(ev.third, f"events[{i}].third")
        t = month_index(spec.scenario.start, ev.date)
        if not first <= t <= last:
            end = month_label(spec.scenario.start, last)
            raise ScenarioError(
                file,
                f"events[{i}].date",
                ev.date,
                f"a date within the horizon {spec.scenario.start} .. {end}",
            )
    for i, pol in enumerate(spec.policies):
        for field in ("actor", "partner", "target", "watch"):
            if hasattr(pol, field):
                known(getattr(pol, field), f"policies[{i}].{field}")


def month_index(start: str, date: str) -> int:
    """Months from ``start`` (YYYY-MM) to ``date`` (YYYY-MM[-DD])."""
    y0, m0 = int(start[:4]), int(start[5:7])
    y, m = int(date[:4]), int(date[5:7])
    return (y - y0) * 12 + (m - m0)


def month_label(start: str, t: int) -> str:
    """The YYYY-MM label of month ``t`` after ``start``."""
    y0, m0 = int(start[:4]), int(start[5:7])
    k = y0 * 12 + (m0 - 1) + t
    return f"{k // 12:04d}-{k % 12 + 1:02d}"


def json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files (values may also be written ``{value, cite}``)."""
    schema = ScenarioSpec.model_json_schema()
    for key in ("cites", "source"):
        schema.get("properties", {}).pop(key, None)
    schema["description"] = (
        'Scenario file of sim. Any value may be written as { value = ..., cite = "..." }; '
        "tables may carry a 'cite' that covers their values. Event types: " + ", ".join(EVENT_TYPES)
    )
    return schema
