"""A what-if question: a shipped scenario, the controls changed (:mod:`sim.dashboard.controls`)
and a reference; :func:`apply` makes the modified scenario, :func:`to_toml` writes it as a
child scenario file that ``sim validate`` accepts and ``sim run`` reproduces."""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sim.dashboard.controls import Control, by_key
from sim.dashboard.scenarios import load_shipped
from sim.params import registry, with_values
from sim.spec import (
    POLICY_KEYS,
    Key,
    ScenarioError,
    ScenarioSpec,
    Uncertainty,
    check_references,
    toml_text,
)
from sim.uncertainty import check_uncertainties, declared
from sim.world import policy_labels

CITE = "what-if set in the dashboard (sim.dashboard)"


class ChangeError(ValueError):
    """A what-if change that cannot be applied: ``str(err)`` names the key, the value and what
    was expected."""

    def __init__(self, key: str, value: Any, expected: str) -> None:
        self.key, self.value, self.expected = key, value, expected
        super().__init__(f"what-if {key}: got {_shown(value)}; expected {expected}")


def _shown(value: Any) -> str:
    return "nothing" if value is None else toml_text(value)


@dataclass(frozen=True)
class WhatIf:
    """A shipped scenario (``scenario``: its stem), the controls changed (key → value; only
    those that differ from the default matter) and the scenario to compare with
    (``reference``: a shipped stem; None = the unmodified scenario)."""

    scenario: str
    changes: Mapping[str, Any] = field(default_factory=dict)
    reference: str | None = None

    @property
    def reference_stem(self) -> str:
        return self.reference or self.scenario

    def spec(self) -> ScenarioSpec:
        """The modified scenario (:func:`apply` to the shipped one)."""
        return apply(load_shipped(self.scenario), self.changes)


# ------------------------------------------------------------------------------ checking


def check(spec: ScenarioSpec, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The changes that differ from their control's default, each checked against its control
    (kind, month within the horizon, number within ``low``..``high``). Raises
    :class:`ChangeError` for an unknown key (did-you-mean) or a bad value."""
    ctrl, out = by_key(spec), {}
    for key, value in changes.items():
        c = ctrl.get(key)
        if c is None:
            close = difflib.get_close_matches(key, list(ctrl), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ChangeError(key, value, f"a control of {spec.scenario.name}{hint}: "
                              "event:<id>.on|date|scale, policy:<label>.on|threshold, "
                              "uncertainty:<param>.width|fixed")
        v = _checked(c, value)
        if v != c.default:
            out[key] = v
    for key in out:
        if key.endswith(".width") and key.removesuffix(".width") + ".fixed" in out:
            raise ChangeError(key, out[key], "either a width or a fixed value for "
                              f"{key.removeprefix('uncertainty:').removesuffix('.width')}, "
                              "not both")
    return out


def _checked(c: Control, value: Any) -> Any:
    if c.kind == "switch":
        if not isinstance(value, bool):
            raise ChangeError(c.key, value, "true or false")
        return value
    if c.kind == "month":
        if not isinstance(value, str) or value not in c.choices:
            raise ChangeError(c.key, value, f"a month YYYY-MM within the horizon "
                              f"{c.choices[0]} .. {c.choices[-1]}")
        return value
    if value is None and c.default is None:
        return None
    ok = (isinstance(value, int | float) and not isinstance(value, bool)
          and math.isfinite(value) and c.low <= value <= c.high)
    if not ok:
        raise ChangeError(c.key, value, f"a number from {c.low:g} to {c.high:g}"
                          + (" (or nothing: drawn)" if c.default is None else ""))
    return float(value)


# ------------------------------------------------------------------------------ applying


def _split(key: str) -> tuple[str, str, str]:
    """``"policy:USA:tariff.threshold"`` → ``("policy", "USA:tariff", "threshold")``."""
    kind, rest = key.split(":", 1)
    name, what = rest.rsplit(".", 1)
    return kind, name, what


def apply(spec: ScenarioSpec, changes: Mapping[str, Any]) -> ScenarioSpec:
    """``spec`` with ``changes`` (control key → value) made; ``spec`` is not changed.

    Events: ``on`` sets ``enabled``, ``date`` the month, ``scale`` multiplies ``intensity``.
    Policies: ``on`` sets ``policies.<label>.enabled``, ``threshold`` the threshold
    (:func:`sim.params.with_values`) and moves a declared distribution of it by as much.
    Uncertainties: ``width`` scales the declared distribution (:func:`widened`), ``fixed``
    sets the value and drops the declaration. Raises :class:`ChangeError` for an unknown key,
    a value of the wrong kind or out of range, or a result the scenario schema rejects."""
    todo = check(spec, changes)
    if not todo:
        return spec
    data = spec.model_dump()
    index = {ev.id: i for i, ev in enumerate(spec.events) if ev.id is not None}
    values: dict[str, Any] = {}
    moved: dict[str, float] = {}
    widths: dict[str, float] = {}
    for key, v in todo.items():
        kind, name, what = _split(key)
        if kind == "event":
            ev = data["events"][index[name]]
            if what == "on":
                ev["enabled"] = v
            elif what == "date":
                ev["date"] = v
            else:
                ev["intensity"] = spec.events[index[name]].intensity * v
        elif kind == "policy":
            param = f"policies.{name}.{'enabled' if what == 'on' else what}"
            values[param] = v
            if what == "threshold":
                moved[param] = v - registry_value(spec, param)
        elif what == "width":
            widths[name] = v
        else:
            values[name] = v
    try:
        out = ScenarioSpec.model_validate(data)
        check_references(out, out.source or "<scenario>")
        out = with_values(out, values)
        decl = dict(out.uncertainties)
        reg = registry(out)
        for param, delta in moved.items():
            if param in spec.uncertainties:
                decl[param] = shifted(spec.uncertainties[param], delta, reg[param])
        for param, w in widths.items():
            decl[param] = widened(decl[param], w, reg[param])
        for param in values:
            if param in spec.uncertainties and param not in moved:  # fixed, as a child says
                decl[param] = Uncertainty(dist="fixed", cite=CITE)
        if decl != out.uncertainties:
            out = out.model_copy(update={"uncertainties": decl})
            check_uncertainties(out, out.source or "<scenario>")
    except ScenarioError as err:
        raise from_scenario_error(err, todo) from None
    return out


def from_scenario_error(err: ScenarioError, changes: Mapping[str, Any]) -> ChangeError:
    """A scenario's complaint about ``changes`` as one :class:`ChangeError`: the changes'
    keys, the value at fault and where, what was expected."""
    where = f" at {err.path}" if err.path else ""
    return ChangeError(", ".join(changes), err.value,
                       f"{err.expected} (the changed scenario{where})")


def registry_value(spec: ScenarioSpec, name: str) -> Any:
    """A parameter's value read through the registry (:func:`sim.params.get`)."""
    from sim.params import get

    return get(spec, name)


def _clip(v: float, lo: float | None, hi: float | None) -> float:
    return min(max(v, -math.inf if lo is None else lo), math.inf if hi is None else hi)


def shifted(u: Uncertainty, delta: float, p: Any) -> Uncertainty:
    """The distribution ``u`` moved by ``delta`` (its location numbers: ``lo``, ``hi``,
    ``mode``, ``mean``, ``median``), as far as it stays within the allowed range of parameter
    ``p`` (a move past a bound stops there, the spread kept)."""
    if u.kind in ("fixed", "calibration") or delta == 0:
        return u
    if u.lo is not None and p.lo is not None:
        delta = max(delta, p.lo - u.lo)
    if u.hi is not None and p.hi is not None:
        delta = min(delta, p.hi - u.hi)
    upd = {k: getattr(u, k) + delta for k in ("lo", "hi", "mode", "mean", "median")
           if getattr(u, k) is not None}
    if u.kind == "lognormal":  # a positive quantity: its median moves, its bounds stay
        upd = {"median": max(u.median + delta, 1e-12)}
    return _recited(u, upd)


def _recited(u: Uncertainty, update: dict[str, Any]) -> Uncertainty:
    """``u`` with ``update`` and a cite saying the dashboard changed it."""
    cite = u.cite if (u.cite or "").startswith(CITE) else f"{CITE}, from: {u.cite}"
    return u.model_copy(update={**update, "cite": cite})


def widened(u: Uncertainty, width: float, p: Any) -> Uncertainty:
    """``u`` with its spread multiplied by ``width``: uniform about its midpoint, triangular
    about its mode (``lo``, ``hi``), normal ``sd``, lognormal ``sdlog``; bounds kept within the
    allowed range of ``p``. Raises :class:`ChangeError` for a calibration draw (its spread is the
    posterior's)."""
    if u.kind == "uniform":
        mid, half = (u.lo + u.hi) / 2, (u.hi - u.lo) / 2 * width
        upd = {"lo": _clip(mid - half, p.lo, p.hi), "hi": _clip(mid + half, p.lo, p.hi)}
    elif u.kind == "triangular":
        upd = {"lo": _clip(u.mode - (u.mode - u.lo) * width, p.lo, p.hi),
               "hi": _clip(u.mode + (u.hi - u.mode) * width, p.lo, p.hi)}
    elif u.kind == "normal":
        upd = {"sd": u.sd * width}
    elif u.kind == "lognormal":
        upd = {"sdlog": u.sdlog * width}
    else:
        raise ChangeError(f"uncertainty:{p.name}.width", width,
                          f"a parameter with a declared distribution ({p.name} is "
                          f"{u.text or u.kind}: fix it instead)")
    return _recited(u, upd)


# ------------------------------------------------------------------------------ export


def _line(key: str, value: Any, cite: str = CITE) -> str:
    return f"{toml_text(Key(key))} = {{ value = {toml_text(value, 10**6)}, cite = " \
           f"{toml_text(cite, 10**6)} }}"


def _entry_line(name: str, u: Uncertainty) -> str:
    entry = u.model_dump(mode="json", exclude_none=True)
    return f"{toml_text(Key(name))} = {toml_text(entry, 10**6)}"


def to_toml(whatif: WhatIf, *, runs: int | None = None, seed: int | None = None,
            engine: str | None = None) -> str:
    """The what-if as a child scenario of the shipped one: ``extends = "<stem>"`` and only the
    changes, each cited :data:`CITE`: changed events by ``id``, changed policies by their
    identity keys, fixed parameters where their value lives, changed declarations in
    ``[uncertainties]``. ``sim validate`` accepts it; ``sim run`` of it gives the numbers of
    :func:`sim.dashboard.answer.answer` (same runs, seed and engine: given here, they are
    written in a comment as the command that repeats the page's numbers). Raises
    :class:`ChangeError` for a bad change."""
    base = load_shipped(whatif.scenario)
    todo = check(base, whatif.changes)
    spec = apply(base, todo)
    meta = base.scenario
    lines = [
        f"# A what-if on {meta.name!r}, exported from the scenario explorer (sim.dashboard).",
        "# Changes: " + ("; ".join(f"{k} = {_shown(v)}" for k, v in todo.items()) or "none"),
        *([] if runs is None else [
            f"# The page's numbers: sim run <this file> --runs {runs}"
            + ("" if seed is None else f" --seed {seed}")
            + ("" if engine is None else f" --engine {engine}")]),
        "", "[scenario]", f"extends = {toml_text(whatif.scenario)}",
        f"name = {toml_text(meta.name + '_whatif')}",
        f"title = {toml_text(meta.title + ' (what-if)', 10**6)}",
        f"description = {toml_text(f'What-if changes to {meta.name}: ' + ', '.join(todo), 10**6)}",
    ]
    events = {ev.id: ev for ev in spec.events if ev.id is not None}
    for eid in dict.fromkeys(_split(k)[1] for k in todo if k.startswith("event:")):
        ev = events[eid]
        lines += ["", "[[events]]", f"id = {toml_text(eid)}"]
        what = {_split(k)[2] for k in todo if k.startswith(f"event:{eid}.")}
        if "on" in what:
            lines.append(_line("enabled", ev.enabled))
        if "date" in what:
            lines.append(_line("date", ev.date))
        if "scale" in what:
            lines.append(_line("intensity", ev.intensity))
    labels = policy_labels(spec.policies)
    params = registry(spec)
    fixed = [k for k in todo if k.endswith(".fixed")]
    set_policy = {f"policies.{_split(k)[1]}.{'enabled' if _split(k)[2] == 'on' else 'threshold'}"
                  for k in todo if k.startswith("policy:")}
    set_policy |= {_split(k)[1] for k in fixed if _split(k)[1].startswith("policies.")}
    for label, pol in zip(labels, spec.policies, strict=True):
        mine = [n for n in params if n.startswith(f"policies.{label}.") and n in set_policy]
        if not mine:
            continue
        lines += ["", "[[policies]]", f"rule = {toml_text(pol.rule)}"]
        lines += [f"{k} = {toml_text(getattr(pol, k))}" for k in POLICY_KEYS[pol.rule]]
        lines += [_line(n.rsplit(".", 1)[1], getattr(pol, n.rsplit(".", 1)[1])) for n in mine]
    others = [_split(k)[1] for k in fixed if not _split(k)[1].startswith("policies.")]
    lines += _value_lines(spec, others)
    changed = {_split(k)[1] for k in todo if k.endswith(".width")}
    changed |= {n for n in set_policy if n in spec.uncertainties
                and spec.uncertainties[n] != base.uncertainties.get(n)}
    if changed or fixed:
        lines += ["", "[uncertainties]"]
        lines += [_entry_line(n, spec.uncertainties[n]) for n in declared(spec) if n in changed]
        lines += [_entry_line(_split(k)[1], spec.uncertainties[_split(k)[1]]) for k in fixed]
    return "\n".join(lines) + "\n"


def _value_lines(spec: ScenarioSpec, names: list[str]) -> list[str]:
    """TOML setting the non-policy parameters ``names`` to their values in ``spec``."""
    from sim.params import get

    out: list[str] = []
    groups: dict[str, list[str]] = {}
    states: dict[str, list[str]] = {}
    for name in names:
        parts = name.split(".")
        if parts[0] == "states":
            states.setdefault(parts[1], []).append(_line(parts[2], get(spec, name)))
        elif parts[:2] == ["events", "pressure_scale"]:
            groups.setdefault("mechanisms.events.pressure_scale", []).append(
                _line(parts[2], get(spec, name)))
        else:
            groups.setdefault(f"mechanisms.{parts[0]}", []).append(
                _line(parts[1], get(spec, name)))
    for sid, rows in states.items():
        out += ["", "[[states]]", f"id = {toml_text(sid)}", *rows]
    for table, rows in groups.items():
        out += ["", f"[{table}]", *rows]
    return out


__all__ = ["CITE", "ChangeError", "WhatIf", "apply", "check", "shifted", "to_toml", "widened"]
