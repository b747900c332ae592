"""Scenario files: the TOML schema, `extends` resolution and clear validation errors.

A scenario file is read in three passes:

1. ``tomllib`` parses the text; ``extends`` chains are merged parent first (tables merge key by
   key, ``events`` are appended unless the child sets ``replace_events = true``; a child event
   with the ``id`` of a parent event changes that event (``enabled = false`` removes it)).
2. Every ``{ value = ..., cite = "..." }`` table is unwrapped to its value; the citations are
   kept in ``ScenarioSpec.cites`` by key path (``states[1].capability``).
3. Pydantic checks keys, types and ranges; then cross-references (ids, dates) are checked.

Any problem raises :class:`ScenarioError` naming the file, the key path, the bad value and what
was expected (with a did-you-mean for a misspelt key).
"""

from __future__ import annotations

import difflib
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.events import EVENT_TYPES

YEAR_MONTH = r"^\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?$"
STATE_ID = r"^[A-Z][A-Z0-9_]{1,11}$"
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


class ScenarioError(Exception):
    """A scenario file is wrong. ``str(err)`` is the one-line message shown to the user."""

    def __init__(self, file: str | Path, path: str, value: Any, expected: str) -> None:
        self.file, self.path, self.value, self.expected = str(file), path, value, expected
        shown = repr(value) if not isinstance(value, dict) else "{...}"
        if len(shown) > 80:
            shown = shown[:77] + "..."
        where = f" at {path}" if path else ""
        super().__init__(f"{self.file}{where}: got {shown}; expected {expected}")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ----------------------------------------------------------------------------- scenario parts


class Meta(Strict):
    """``[scenario]``: what the scenario is and when it runs."""

    name: Annotated[
        str, Field(pattern=r"^[a-z0-9_]+$", description="short id, used for output folders")
    ]
    title: str
    description: str = ""
    start: Annotated[str, Field(pattern=YEAR_MONTH, description="first month, YYYY-MM")]
    months: Annotated[int, Field(ge=1, le=600, description="horizon in monthly steps")]
    seed: int = Field(0, ge=0, lt=2**63, description="default master seed")
    extends: str | list[str] | None = None
    replace_events: bool = False


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
    rate: float = Field(0.02, ge=0, le=1, description="alpha, per month")
    saturation: float = Field(1.0, ge=1, le=5, description="R in G(x)=1-(x/R)^2")


class Anchor(Strict):
    enabled: bool = True
    rate: float = Field(0.03, ge=0, le=1, description="beta, pull toward p_ij per month")
    bias: float = Field(0.0, ge=-3, le=3)
    w_ideology: float = Field(1.0, ge=0, le=5)
    w_trade: float = Field(0.5, ge=0, le=5)
    w_shared_threat: float = Field(1.0, ge=0, le=5)
    w_threat: float = Field(0.5, ge=0, le=5)
    w_ties: float = Field(1.0, ge=0, le=5)
    w_alliance: float = Field(1.0, ge=0, le=5, description="weight of treaty commitments")
    d_half: float = Field(1.75, gt=0, le=10, description="ideal-point distance of zero affinity")
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
            raise ValueError("elasticity_one_year must not exceed elasticity_long_run")
        return self


class Noise(Strict):
    enabled: bool = True
    sigma: float = Field(0.01, ge=0, le=1, description="sd of monthly relation noise")


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
    date: Annotated[str, Field(pattern=YEAR_MONTH)]
    id: str | None = Field(None, description="lets a child scenario change or disable it")
    enabled: bool = True
    actor: str | list[str]
    target: str | list[str]
    third: str | None = None
    intensity: float = Field(1.0, ge=0, le=10)
    rate: float | None = Field(
        None, ge=-5, le=5, description="tariff change, fraction (0.25 = 25 pp)"
    )
    coverage: float | None = Field(None, ge=0, le=10000, description="imports covered, USD bn/yr")
    gas_bcm: float | None = Field(None, ge=0, le=500)
    trade_bn: float | None = Field(None, ge=0, le=5000)
    note: str = ""

    @model_validator(mode="after")
    def _known_type(self) -> Event:
        if self.type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {self.type!r}")
        kind = EVENT_TYPES[self.type]
        for field in kind.required:
            if getattr(self, field) is None:
                raise ValueError(f"event type {self.type!r} needs {field!r}")
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
    threshold: float = Field(1.0, ge=-5, le=5)
    temperature: float = Field(0.15, gt=0, le=5)
    hazard: float = Field(0.05, ge=0, le=1, description="max monthly probability")
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
    threshold: float = Field(1.0, ge=-5, le=5, description="support index that triggers")
    temperature: float = Field(0.15, gt=0, le=5)
    hazard: float = Field(0.1, ge=0, le=1)
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
    hazard: float = Field(0.05, ge=0, le=1)
    step: float = Field(0.1, ge=0, le=1, description="gain added to partner's pipeline ask")
    max_times: int = Field(3, ge=0, le=100)


Policy = Annotated[GrantAsk | Escalate | Concede, Field(discriminator="rule")]


class Initial(Strict):
    """``[initial]``: stocks already built up at the start (pairs as in ``[relations]``)."""

    ties: dict[str, Annotated[float, Field(ge=-5, le=5)]] = {}
    exposure: dict[str, Annotated[float, Field(ge=0, le=10)]] = {}


class ScenarioSpec(Strict):
    """A validated scenario: the single input of :mod:`sim.world`."""

    scenario: Meta
    states: Annotated[list[StateSpec], Field(min_length=3, max_length=250)]
    relations: dict[str, Annotated[float, Field(ge=-1, le=1)]] = {}
    trade: dict[str, Annotated[float, Field(ge=0, le=10000)]] = {}
    alliances: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(
        {}, description="treaty commitment per pair: 1 defence pledge, 0.5 bilateral "
        "non-aggression and consultation (ATOP), absent 0")
    initial: Initial = Initial()
    mechanisms: Mechanisms = Mechanisms()
    events: list[Event] = []
    policies: list[Policy] = Field([], max_length=16, description="at most 16 (sim.seeds.SLOTS)")
    # bookkeeping, filled by the loader
    cites: dict[str, str] = {}
    source: str = ""

    @property
    def ids(self) -> list[str]:
        return [s.id for s in self.states]


# ----------------------------------------------------------------------------- loading


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> ScenarioSpec:
    """Read, merge (``extends``), unwrap cites, validate and cross-check a scenario file."""
    path = Path(path)
    raw = _read_merged(path, chain=())
    if overrides:
        raw = merge_tables(raw, overrides)
    cites: dict[str, str] = {}
    plain = _unwrap(raw, "", cites, path)
    try:
        spec = ScenarioSpec.model_validate({**plain, "cites": cites, "source": str(path)})
    except ValidationError as err:
        raise _to_scenario_error(err, path, plain) from None
    check_references(spec, path)
    return spec


def spec_from_dict(data: dict[str, Any], source: str = "<dict>") -> ScenarioSpec:
    """Validate an in-memory scenario (same rules as a file, no ``extends``)."""
    cites: dict[str, str] = {}
    plain = _unwrap(data, "", cites, source)
    try:
        spec = ScenarioSpec.model_validate({**plain, "cites": cites, "source": source})
    except ValidationError as err:
        raise _to_scenario_error(err, source, plain) from None
    check_references(spec, source)
    return spec


def read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ScenarioError(path, "", str(path), "an existing scenario file (.toml)")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(path, "", "TOML text", f"valid TOML ({err})") from None
    except UnicodeDecodeError:
        raise ScenarioError(path, "", "binary data", "a UTF-8 text file") from None


def _read_merged(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    """The file merged over its parents (``extends`` is one path or a list, merged in order)."""
    path = path.resolve()
    if path in chain:
        loop = " -> ".join(p.name for p in (*chain, path))
        raise ScenarioError(chain[-1], "scenario.extends", path.name, f"no cycle ({loop})")
    raw = read_toml(path)
    meta = raw.get("scenario", {})
    refs = _plain(meta.get("extends")) if isinstance(meta, dict) else None
    if refs is None:
        return raw
    refs = [refs] if isinstance(refs, str) else refs
    if not isinstance(refs, list) or not refs or not all(isinstance(r, str) for r in refs):
        raise ScenarioError(
            path, "scenario.extends", refs, "a relative path to a .toml file, or a list of them"
        )
    merged: dict[str, Any] = {}
    for ref in refs:
        parent_path = path.parent / ref
        if not parent_path.is_file():
            raise ScenarioError(
                path,
                "scenario.extends",
                ref,
                f"a scenario file relative to {path.name} (not found: {parent_path})",
            )
        merged = _overlay(merged, _read_merged(parent_path, (*chain, path)))
    return _overlay(merged, raw)


def _overlay(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """``child`` over ``parent``; events are added (or changed by ``id``) unless the child
    says ``replace_events = true``."""
    child = dict(child)
    replace = bool(_plain(child.get("scenario", {}).get("replace_events", False)))
    child_events = child.pop("events", [])
    merged = merge_tables(parent, child)
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


def merge_tables(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Recursive merge: tables merge by key; ``states`` merge by ``id`` and ``policies`` by
    identity (``POLICY_KEYS``: rule plus actor and ask / instrument and target / partner);
    anything else in ``over`` replaces."""
    out = dict(base)
    for key, val in over.items():
        if isinstance(val, dict) and isinstance(out.get(key), dict) and not _is_cited(val):
            out[key] = merge_tables(out[key], val)
        elif key in _LIST_IDENTITY and isinstance(val, list) and isinstance(out.get(key), list):
            out[key] = _merge_list(out[key], val, _LIST_IDENTITY[key])
        else:
            out[key] = val
    return out


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
        if isinstance(node.get("cite"), str) and path:
            cites[path] = node["cite"]
        return {
            k: _unwrap(v, f"{path}.{k}" if path else k, cites, file)
            for k, v in node.items()
            if not (k == "cite" and path)
        }
    if isinstance(node, list):
        return [_unwrap(v, f"{path}[{i}]", cites, file) for i, v in enumerate(node)]
    return node


def _fmt_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("grant_ask", "escalate", "concede") or str(part).startswith("function-"):
            continue  # pydantic's discriminator tags
        else:
            out += f".{part}" if out else str(part)
    return out


def _lookup(plain: Any, loc: tuple[Any, ...]) -> Any:
    node = plain
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            continue
    return node


def _allowed_keys(loc: tuple[Any, ...], plain: dict[str, Any]) -> list[str]:
    """Field names of the model that owns the key at ``loc`` (for did-you-mean)."""
    model: Any = ScenarioSpec
    node: Any = plain
    for part in loc[:-1]:
        if isinstance(part, int) or part in ("grant_ask", "escalate", "concede"):
            if isinstance(node, list) and isinstance(part, int):
                node = node[part]
            continue
        node = node.get(part, {}) if isinstance(node, dict) else {}
        field = model.model_fields.get(part) if isinstance(model, type) else None
        if field is None:
            return []
        model = _model_of(field.annotation, node)
        if model is None:
            return []
    fields = model.model_fields if isinstance(model, type) else {}
    return [k for k in fields if k not in ("cites", "source")]


def _model_of(annotation: Any, node: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    args = getattr(annotation, "__args__", ())
    for arg in args:
        found = _model_of(arg, node)
        if found is None:
            continue
        rule = node.get("rule") if isinstance(node, dict) else None
        fields = getattr(found, "model_fields", {})
        if rule is None or "rule" not in fields:
            return found
        if fields["rule"].annotation.__args__[0] == rule:
            return found
    for meta in getattr(annotation, "__metadata__", ()):
        del meta
    return None


def _to_scenario_error(
    err: ValidationError, file: str | Path, plain: dict[str, Any]
) -> ScenarioError:
    errors = err.errors()
    # a misspelt key shows up as 'extra' plus 'missing': report the misspelling
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc, kind = tuple(first["loc"]), first["type"]
    path = _fmt_loc(loc)
    if kind == "extra_forbidden":
        key = str(loc[-1])
        allowed = _allowed_keys(loc, plain)
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"one of {', '.join(allowed)}"
        return ScenarioError(file, path, key, f"a known key ({hint})")
    if kind == "missing":
        return ScenarioError(file, path, None, "this required key to be present")
    value = first.get("input", _lookup(plain, loc))
    msg = first["msg"]
    if kind == "value_error":
        msg = msg.removeprefix("Value error, ")
        if "unknown event type" in msg:
            close = difflib.get_close_matches(
                str(value.get("type")) if isinstance(value, dict) else "", list(EVENT_TYPES), n=1
            )
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            return ScenarioError(
                file,
                f"{path}.type",
                value.get("type") if isinstance(value, dict) else value,
                f"an event type: {', '.join(EVENT_TYPES)}{hint}",
            )
    if kind == "union_tag_invalid":
        rule = value.get("rule") if isinstance(value, dict) else value
        close = difflib.get_close_matches(str(rule), ["grant_ask", "escalate", "concede"], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return ScenarioError(
            file, f"{path}.rule", rule, f"one of grant_ask, escalate, concede{hint}"
        )
    return ScenarioError(file, path, value, msg[0].lower() + msg[1:])


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
            close = difflib.get_close_matches(sid, ids, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ScenarioError(file, path, sid, f"a declared state id: {', '.join(ids)}{hint}")

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
            if not m:
                raise ScenarioError(
                    file, f"{table}.{key}", key, 'a pair "A->B" or "A-B" of state ids'
                )
            known(m.group(1), f"{table}.{key}")
            known(m.group(3), f"{table}.{key}")
            if m.group(1) == m.group(3):
                raise ScenarioError(file, f"{table}.{key}", key, "two different states")
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
