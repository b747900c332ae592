"""One registry of outcomes: every number the tables, figures, comparisons and hypotheses
report, by name, for any states of a scenario.

A name is ``KIND`` or ``KIND:OPERAND``; its value per run and step, and its table column:

- ``relation:A-B``: mean dyad relation ``x̄_AB = (x_AB + x_BA)/2`` (``relation_A-B``);
  ``relation:A->B``: A's disposition toward B, ``x_AB`` (``relation_A->B``).
- ``relation_latent:A-B`` (or ``A->B``): ``artanh`` of the relation (``relation_latent_A-B``).
- ``trade:A->B``: goods shipped A→B, USD bn/yr (``trade_A->B``); ``trade:A-B``: the pair's
  goods trade, both directions (``trade_A-B``).
- ``decision:LABEL``: 1 if the decision was taken by then, else 0 (``made_LABEL``);
  ``decision_count:LABEL``: times taken by then (``times_LABEL``); ``decision_month:LABEL``:
  month of the first decision, NaN while not yet taken (``first_month_LABEL``);
  ``decision_probability:LABEL``: its probability that month, NaN at step 0 (``p_LABEL``).
- ``balanced_share``: share of balanced triads among the closed triads; ``frustration``:
  frustration index (ties to flip for balance); ``frustration_normalized``: ``1 − L/(m/2)``
  (1 = balanced). Columns named as the outcomes.
- ``dittmer:A-B-C``: Dittmer pattern of the three, text (``dittmer_A-B-C``).
- ``blocs:eigen``, ``blocs:landscape``: the two blocs by the leading eigenvector and by
  landscape theory, text (``eigen_blocs``, ``landscape_blocs``).

``LABEL`` is a decision label (``CHN:pipeline``, ``USA:tariff@JPN``;
:func:`sim.world.policy_labels`). A pair may be written as in scenario files (``USA-CHN``,
``USA - CHN``, ``USA<->CHN``). A table column name (``relation_USA-CHN``,
``made_CHN:pipeline``) parses to the same outcome.

Every outcome is a value per run and step, ``(R, T+1)``, computed by a pure function of a
trajectory's arrays (leading run axis, :class:`sim.engine.Trajectory`); text outcomes
(``dittmer``, ``blocs``) give strings. :func:`parse` turns a name into an :class:`Outcome`
(raising :class:`OutcomeError` with a did-you-mean for a bad one), :func:`evaluate` gives a
tidy table ``run, draw, step, date, outcome, value``, :func:`default_names` the outcomes a
world reports by default.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.landscape import blocs_from_relations
from sim.metrics import (
    DITTMER,
    balanced_share,
    blocs,
    dittmer,
    frustration,
    frustration_normalized,
)
from sim.output import UserError
from sim.spec import PAIR, STATE_ID

LATENT_EPS = 1e-12
"""The latent scale clips relations to ``±(1 − LATENT_EPS)`` before ``artanh`` (so ``x̄ = ±1``
maps to ``±14.2``, not ``±inf``); relations are bounded to ``[−1, 1]`` and reach ±1 only at
saturation."""


class OutcomeError(UserError, ValueError):
    """A bad outcome name or date (shown to the user as one line, exit code 2)."""


# ------------------------------------------------------------------------ pure functions


def relation(x: np.ndarray, i: int, j: int, directed: bool = False) -> np.ndarray:
    """``x_ij`` if ``directed`` else ``x̄_ij = (x_ij + x_ji)/2``; ``x`` is ``(..., N, N)``."""
    return x[..., i, j] if directed else 0.5 * (x[..., i, j] + x[..., j, i])


def latent(v: np.ndarray) -> np.ndarray:
    """``artanh`` of relations clipped to ``±(1 − LATENT_EPS)``."""
    return np.arctanh(np.clip(v, -1.0 + LATENT_EPS, 1.0 - LATENT_EPS))


def trade(imports: np.ndarray, i: int, j: int, directed: bool = False) -> np.ndarray:
    """Goods shipped ``i → j`` (``imports[..., j, i]``) if ``directed``, else both directions;
    USD bn/yr."""
    shipped = imports[..., j, i]
    return shipped if directed else shipped + imports[..., i, j]


def _with_start(monthly: np.ndarray, fill: float) -> np.ndarray:
    """``(R, T)`` monthly values as ``(R, T+1)`` steps, step 0 set to ``fill``."""
    return np.concatenate([np.full((monthly.shape[0], 1), fill), monthly], axis=1)


def times_taken(fired: np.ndarray, k: int) -> np.ndarray:
    """Times decision ``k`` fired in the months before each step, ``(R, T+1)`` floats
    (``fired`` is ``(R, T, P)``; month ``t`` leads from step ``t`` to ``t+1``)."""
    return _with_start(np.cumsum(fired[:, :, k], axis=1, dtype=float), 0.0)


def taken(fired: np.ndarray, k: int) -> np.ndarray:
    """1.0 where decision ``k`` fired in some month before the step, else 0.0, ``(R, T+1)``."""
    return (times_taken(fired, k) > 0).astype(float)


def first_month(fired: np.ndarray, k: int) -> np.ndarray:
    """Month (0 = the first month) in which decision ``k`` first fired, known from the step
    after it on; NaN before and in runs where it never fired, ``(R, T+1)``."""
    f = fired[:, :, k]
    first = np.where(f.any(axis=1), np.argmax(f, axis=1), f.shape[1]).astype(float)
    steps = np.arange(f.shape[1] + 1)[None, :]
    return np.where(steps > first[:, None], first[:, None], np.nan)


def probability(prob: np.ndarray, k: int) -> np.ndarray:
    """Decision ``k``'s probability in the month leading to each step, NaN at step 0."""
    return _with_start(prob[:, :, k], np.nan)


def dittmer_pattern(x: np.ndarray, i: int, j: int, k: int) -> np.ndarray:
    """Dittmer pattern names (:data:`sim.metrics.DITTMER`) of triad ``(i, j, k)``."""
    return np.asarray(DITTMER, dtype=object)[dittmer(x, i, j, k)]


def split_labels(sides: np.ndarray, ids: Sequence[str]) -> np.ndarray:
    """``"USA EU JPN | CHN RUS IND"`` per ``(..., N)`` row of ±1 sides (the first state's side
    first; ``"... (one bloc)"`` when all are on one side); returns ``(...)`` strings."""
    ids = np.asarray(ids)
    flat = np.asarray(sides).reshape(-1, len(ids))
    out = np.array([" ".join(ids[row == row[0]]) + (
        " | " + " ".join(ids[row != row[0]]) if (row != row[0]).any() else " (one bloc)")
        for row in flat], dtype=object)
    return out.reshape(np.shape(sides)[:-1])


# ------------------------------------------------------------------------ the registry


@dataclass(frozen=True)
class Kind:
    """One kind of outcome: what its operand is, how it is labelled and computed."""

    name: str
    operand: str  # "pair", "decision", "triad", "method" or "" (none)
    label: str
    unit: str
    how: str
    column: str
    compute: Callable[[Outcome, Any, Any], np.ndarray]
    numeric: bool = True
    bounds: tuple[float | None, float | None] = (None, None)


def _dash(states: Sequence[str], directed: bool = False) -> str:
    return "->".join(states) if directed else "-".join(states)


def _idx(o: Outcome, traj: Any) -> list[int]:
    return [traj.world.ids.index(s) for s in o.states]


def _decision(o: Outcome, traj: Any) -> int:
    return next(d.index for d in traj.world.decisions if d.label == o.decision)


def _landscape(o: Outcome, traj: Any, sel: Any) -> np.ndarray:
    x = traj.x[:, sel]
    return split_labels(blocs_from_relations(x, traj.world.capability), traj.world.ids)


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("relation", "pair", "{pair} relation", "x̄  (−1 hostile … +1 friendly)",
         "x̄_AB = (x_AB + x_BA)/2 of the run's relations x (A->B: x_AB, A's disposition "
         "toward B)", "relation_{pair}",
         lambda o, t, s: relation(t.x[:, s], *_idx(o, t), o.directed), bounds=(-1.0, 1.0)),
    Kind("relation_latent", "pair", "{pair} relation, latent scale", "artanh x̄",
         f"artanh of the relation, clipped to ±(1 − {LATENT_EPS:g}) first",
         "relation_latent_{pair}",
         lambda o, t, s: latent(relation(t.x[:, s], *_idx(o, t), o.directed))),
    Kind("trade", "pair", "{pair} trade", "goods, both ways (USD bn/yr)",
         "A->B: goods shipped from A to B (imports of B from A); A-B: both directions",
         "trade_{pair}",
         lambda o, t, s: trade(t.imports[:, s], *_idx(o, t), o.directed), bounds=(0.0, None)),
    Kind("decision", "decision", "{decision} taken", "1 if taken by then, else 0",
         "1 where the decision fired in some month before the date", "made_{decision}",
         lambda o, t, s: taken(t.fired, _decision(o, t))[:, s], bounds=(0.0, 1.0)),
    Kind("decision_count", "decision", "{decision}, times taken", "times",
         "number of months before the date in which the decision fired",
         "times_{decision}",
         lambda o, t, s: times_taken(t.fired, _decision(o, t))[:, s], bounds=(0.0, None)),
    Kind("decision_month", "decision", "{decision}, month of first decision",
         "months after the start (0 = first month; NaN: not yet)",
         "the month (0-based) the decision first fired, once it has; NaN before",
         "first_month_{decision}",
         lambda o, t, s: first_month(t.fired, _decision(o, t))[:, s], bounds=(0.0, None)),
    Kind("decision_probability", "decision", "{decision}, monthly probability", "probability",
         "the decision rule's probability of acting in the month leading to the date "
         "(NaN at the start)", "p_{decision}",
         lambda o, t, s: probability(t.prob, _decision(o, t))[:, s], bounds=(0.0, 1.0)),
    Kind("balanced_share", "", "Balanced triads", "share of closed triads balanced",
         "share of closed triads (all three ties x̄ non-zero) with x̄_ij x̄_jk x̄_ki > 0 "
         "(Heider; Cartwright & Harary 1956); NaN when no triad is closed",
         "balanced_share", lambda o, t, s: balanced_share(t.x[:, s]), bounds=(0.0, 1.0)),
    Kind("frustration", "", "Frustration index", "ties to flip for balance",
         "fewest ties of sign(x̄) whose sign must flip for structural balance (Aref & Wilson "
         "2018); exact up to 12 states, an upper bound from local search above",
         "frustration", lambda o, t, s: frustration(t.x[:, s]), bounds=(0.0, None)),
    Kind("frustration_normalized", "", "Normalised frustration (1 = balanced)", "1 − L/(m/2)",
         "1 − L/(m/2) for frustration index L and m non-zero ties (Aref & Wilson 2018)",
         "frustration_normalized", lambda o, t, s: frustration_normalized(t.x[:, s]),
         bounds=(0.0, 1.0)),
    Kind("dittmer", "triad", "{triad} Dittmer pattern", "pattern",
         "ménage à trois (+,+,+), stable marriage (one +), romantic triangle (two +), unit "
         "veto (−,−,−) from the signs of the three x̄ (Dittmer 1981)", "dittmer_{triad}",
         lambda o, t, s: dittmer_pattern(t.x[:, s], *_idx(o, t)), numeric=False),
    Kind("blocs", "method", "Blocs ({method})", "split",
         "eigen: signs of the leading eigenvector of x̄ (Marvel et al. 2011); landscape: the "
         "global-minimum landscape split with x̄ as propensities and capabilities as sizes "
         "(Axelrod & Bennett 1993)", "{method}_blocs",
         lambda o, t, s: (split_labels(blocs(t.x[:, s]), t.world.ids) if o.method == "eigen"
                          else _landscape(o, t, s)), numeric=False),
)}
METHODS = ("eigen", "landscape")
"""Operands of ``blocs``."""
METHOD_LABELS = {"eigen": "leading eigenvector", "landscape": "landscape theory"}


@dataclass(frozen=True)
class Outcome:
    """A parsed outcome name (:func:`parse`). ``states``: the ids of a pair or triad;
    ``directed``: a pair written ``A->B``; ``decision``: a decision label; ``method``: the
    bloc split."""

    kind: str
    states: tuple[str, ...] = ()
    directed: bool = False
    decision: str = ""
    method: str = ""

    @property
    def definition(self) -> Kind:
        """The registry entry of this outcome's kind."""
        return KINDS[self.kind]

    @property
    def operand(self) -> str:
        op = self.definition.operand
        if op in ("pair", "triad"):
            return _dash(self.states, self.directed)
        return self.decision if op == "decision" else self.method

    @property
    def name(self) -> str:
        """The canonical name, ``relation:USA-CHN``."""
        return f"{self.kind}:{self.operand}" if self.definition.operand else self.kind

    @property
    def column(self) -> str:
        """The table column (``relation_USA-CHN``, ``made_CHN:pipeline``)."""
        return self.definition.column.format(pair=self.operand, decision=self.decision,
                                       triad=self.operand, method=self.method)

    @property
    def label(self) -> str:
        """A title for axes and tables: ``USA–CHN relation``, ``CHN: pipeline taken``."""
        arrow = "→" if self.directed else "–"
        return self.definition.label.format(
            pair=arrow.join(self.states), triad="–".join(self.states),
            decision=decision_title(self.decision),
            method=METHOD_LABELS.get(self.method, self.method))

    @property
    def unit(self) -> str:
        if self.kind == "relation" and self.directed:
            return "x  (−1 hostile … +1 friendly)"
        if self.kind == "relation_latent" and self.directed:
            return "artanh x"
        if self.kind == "trade" and self.directed:
            return "goods shipped (USD bn/yr)"
        return self.definition.unit

    @property
    def how(self) -> str:
        """How the value is computed from a run's trajectory, in words."""
        return self.definition.how

    @property
    def numeric(self) -> bool:
        """False for text outcomes (``dittmer``, ``blocs``)."""
        return self.definition.numeric

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        """The value's range (None: open), for axes."""
        return self.definition.bounds

    def check(self, world: Any) -> Outcome:
        """This outcome if ``world`` has its states and decision; raises :class:`OutcomeError`
        (with a did-you-mean) otherwise."""
        for s in self.states:
            if s not in world.ids:
                raise OutcomeError(f"outcome {self.name}: got state {s}; expected a state of "
                                   f"the scenario ({', '.join(world.ids)})"
                                   f"{_did_you_mean(s, world.ids)}")
        if self.decision:
            labels = [d.label for d in world.decisions]
            if self.decision not in labels:
                known = ", ".join(labels) if labels else "none: the scenario has no policies"
                raise OutcomeError(f"outcome {self.name}: got decision {self.decision}; "
                                   f"expected a decision label of the scenario ({known})"
                                   f"{_did_you_mean(self.decision, labels)}")
        return self

    def available(self, world: Any) -> bool:
        """Whether ``world`` has this outcome's states and decision."""
        return all(s in world.ids for s in self.states) and (
            not self.decision or self.decision in [d.label for d in world.decisions])

    def values(self, traj: Any, steps: Sequence[int] | np.ndarray | None = None
               ) -> np.ndarray:
        """Values per run at ``steps`` (indices 0..T; None: every step) of a trajectory
        (``x``, ``imports``: ``(R, T+1, N, N)``; ``prob``, ``fired``: ``(R, T, P)``; ``world``),
        ``(R, len(steps))``: floats, or strings for text outcomes. Raises
        :class:`OutcomeError` if the world lacks a state or decision."""
        self.check(traj.world)
        sel = slice(None) if steps is None else np.asarray(steps, dtype=int)
        return self.definition.compute(self, traj, sel)

    def __str__(self) -> str:
        return self.name


def decision_title(label: str) -> str:
    """A decision label for people: ``CHN:military_hardware`` -> ``CHN: military hardware``."""
    return label.replace(":", ": ").replace("_", " ")


def _did_you_mean(got: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(got, list(options), 1, 0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


COLUMN_PREFIXES = (("relation_latent_", "relation_latent"), ("relation_", "relation"),
                   ("trade_", "trade"), ("made_", "decision"), ("times_", "decision_count"),
                   ("first_month_", "decision_month"), ("p_", "decision_probability"),
                   ("dittmer_", "dittmer"))
"""Table column prefixes and the kinds they name (longest first)."""
COLUMN_NAMES = {"eigen_blocs": "blocs:eigen", "landscape_blocs": "blocs:landscape"}


def _canonical(name: str) -> str:
    """A table column spelling as ``KIND:OPERAND``; other names unchanged."""
    if name in COLUMN_NAMES:
        return COLUMN_NAMES[name]
    kind = name.split(":", 1)[0]
    if kind in KINDS:
        return name
    for prefix, k in COLUMN_PREFIXES:
        if name.startswith(prefix) and len(name) > len(prefix):
            return f"{k}:{name[len(prefix):]}"
    return name


def _states(name: str, text: str, count: int) -> tuple[tuple[str, ...], bool]:
    """The ids of a pair (``count`` 2, ``A-B`` or ``A->B``) or triad (3, ``A-B-C``)."""
    if count == 2:
        m = PAIR.match(text)
        if not m:
            raise OutcomeError(f"outcome {name}: got {text!r}; expected a pair of state ids "
                               "as A-B (both directions) or A->B (one direction), e.g. "
                               "USA-CHN")
        ids, directed = (m.group(1), m.group(3)), m.group(2) == "->"
    else:
        ids, directed = tuple(p.strip() for p in text.split("-")), False
        if len(ids) != 3 or not all(re.match(STATE_ID, s) for s in ids):
            raise OutcomeError(f"outcome {name}: got {text!r}; expected three state ids as "
                               "A-B-C, e.g. USA-CHN-RUS")
    if len(set(ids)) != len(ids):
        raise OutcomeError(f"outcome {name}: got {text!r}; expected {count} different states")
    return ids, directed


def parse(name: str | Outcome, world: Any = None) -> Outcome:
    """The :class:`Outcome` a name gives (``relation:USA-CHN``; a table column such as
    ``relation_USA-CHN`` too); with ``world``, its states and decision are checked against
    the scenario. Raises :class:`OutcomeError`: one line with the name, what was wrong and a
    did-you-mean over kinds, state ids and decision labels."""
    if isinstance(name, Outcome):
        return name.check(world) if world is not None else name
    if not isinstance(name, str) or not name.strip():
        raise OutcomeError(f"outcome: got {name!r}; expected a name such as relation:USA-CHN "
                           f"(kinds: {', '.join(KINDS)})")
    text = _canonical(name.strip())
    kind, sep, operand = text.partition(":")
    if kind not in KINDS:
        raise OutcomeError(f"outcome {name}: got kind {kind}; expected one of "
                           f"{', '.join(KINDS)}{_did_you_mean(kind, KINDS)}")
    spec = KINDS[kind]
    if not spec.operand:
        if sep:
            raise OutcomeError(f"outcome {name}: got {operand!r} after {kind}; expected "
                               f"{kind} alone")
        out = Outcome(kind)
    elif not operand.strip():
        example = {"pair": "USA-CHN", "triad": "USA-CHN-RUS", "decision": "CHN:pipeline",
                   "method": "eigen"}[spec.operand]
        raise OutcomeError(f"outcome {name}: got no {spec.operand}; expected {kind}:"
                           f"{example}")
    elif spec.operand == "method":
        if operand not in METHODS:
            raise OutcomeError(f"outcome {name}: got {operand}; expected {kind}:eigen or "
                               f"{kind}:landscape{_did_you_mean(operand, METHODS)}")
        out = Outcome(kind, method=operand)
    elif spec.operand == "decision":
        out = Outcome(kind, decision=operand.strip())
    else:
        states, directed = _states(name, operand, 2 if spec.operand == "pair" else 3)
        out = Outcome(kind, states, directed)
    return out.check(world) if world is not None else out


def parse_all(names: str | Outcome | Iterable[str | Outcome], world: Any = None
              ) -> list[Outcome]:
    """:func:`parse` of one name or several, in order, without repeats."""
    if isinstance(names, (str, Outcome)):
        names = [names]
    return list(dict.fromkeys(parse(n, world) for n in names))


# ------------------------------------------------------------------------ sets of outcomes


def triangle(world: Any) -> tuple[str, str, str]:
    """The ids of the world's strategic triangle (USA, CHN, RUS, or the first three)."""
    a, b, c = (world.ids[i] for i in world.triad())
    return a, b, c


def triangle_outcome(world: Any) -> Outcome:
    """The Dittmer pattern of the world's strategic triangle (``dittmer:USA-CHN-RUS``)."""
    return Outcome("dittmer", triangle(world))


def key_names(world: Any) -> list[str]:
    """The key outcomes every comparison reports and draws (outcomes over time, paired
    differences, effects at the horizon): the triangle's three relations, its three trade
    flows (USA–CHN, USA–RUS, CHN–RUS) and the share of balanced triads."""
    pairs = [_dash(p) for p in world.key_pairs()]
    return ([f"relation:{p}" for p in pairs] + [f"trade:{p}" for p in pairs]
            + ["balanced_share"])


def default_names(world: Any) -> list[str]:
    """The outcomes a world reports by default: the triangle's relations on both scales and
    its trade (both directions), each decision (taken by the date asked for, e.g. the
    horizon), the share of balanced triads and the frustration index."""
    pairs = [f"{a}-{b}" for a, b in world.key_pairs()]
    return ([f"relation:{p}" for p in pairs] + [f"relation_latent:{p}" for p in pairs]
            + [f"trade:{p}" for p in pairs] + [f"decision:{d.label}" for d in world.decisions]
            + ["balanced_share", "frustration"])


def describe(names: str | Outcome | Iterable[str | Outcome] | None = None,
             world: Any = None) -> pd.DataFrame:
    """One row per outcome (``names``; default: one example of every kind): name, column,
    label, unit, whether it is numeric, and how it is computed."""
    if names is None:
        names = [f"{k}:{ {'pair': 'USA-CHN', 'triad': 'USA-CHN-RUS', 'decision': 'CHN:pipeline',
                          'method': 'eigen'}[s.operand]}" if s.operand else k
                 for k, s in KINDS.items()]
    rows = [{"name": o.name, "column": o.column, "label": o.label, "unit": o.unit,
             "numeric": o.numeric, "how": o.how} for o in parse_all(names, world)]
    return pd.DataFrame(rows, columns=["name", "column", "label", "unit", "numeric", "how"])


# ------------------------------------------------------------------------ evaluation


def _trajectory(source: Any) -> Any:
    traj = getattr(source, "traj", source)
    if not hasattr(traj, "x") or not hasattr(traj, "fired"):
        raise OutcomeError(f"outcomes: got {type(source).__name__}; expected sim.Results or a "
                           "Trajectory with every run's values (a streamed ensemble keeps "
                           "per-month statistics only: run without --stream)")
    return traj


def steps_of(world: Any, dates: Iterable[int | str] | int | str | None) -> np.ndarray:
    """Step indices of ``dates``: a ``YYYY-MM`` label of the run, a step ``0..T`` (negative
    counts from the horizon: -1 is the horizon), ``"start"`` or ``"horizon"``; None: every
    step. Raises :class:`OutcomeError` for a date outside the run."""
    labels = world.dates()
    if dates is None:
        return np.arange(len(labels))
    if isinstance(dates, (int, np.integer, str)):
        dates = [dates]
    out = []
    for d in dates:
        if isinstance(d, (int, np.integer)) and not isinstance(d, bool):
            if not -len(labels) <= d < len(labels):
                raise OutcomeError(f"outcome date: got step {d}; expected 0 .. "
                                   f"{len(labels) - 1} (or -1 for the horizon)")
            out.append(int(d) % len(labels))
        elif d in ("start", "horizon"):
            out.append(0 if d == "start" else len(labels) - 1)
        elif isinstance(d, str) and d[:7] in labels and re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", d):
            out.append(labels.index(d[:7]))
        else:
            raise OutcomeError(f"outcome date: got {d!r}; expected a month from {labels[0]} to "
                               f"{labels[-1]} (YYYY-MM), a step, 'start' or 'horizon'"
                               f"{_did_you_mean(str(d), labels)}")
    return np.asarray(out, dtype=int)


def values(source: Any, names: str | Outcome | Iterable[str | Outcome],
           dates: Iterable[int | str] | int | str | None = None) -> dict[str, np.ndarray]:
    """``{name: (R, D) values}`` of ``source`` (:class:`sim.results.Results` or a trajectory)
    at ``dates`` (:func:`steps_of`; None: every step). Raises :class:`OutcomeError`."""
    traj = _trajectory(source)
    steps = steps_of(traj.world, dates)
    every = dates is None
    get = getattr(source, "value", None)
    out = {}
    for o in parse_all(names, traj.world):
        if get is not None and every:
            out[o.name] = get(o)
        else:
            out[o.name] = o.values(traj, None if every else steps)
    return out


def evaluate(source: Any, names: str | Outcome | Iterable[str | Outcome],
             dates: Iterable[int | str] | int | str | None = None) -> pd.DataFrame:
    """Tidy values: one row per outcome, run and date, columns ``run, draw, step, date,
    outcome, value`` (``outcome`` the canonical name; ``draw`` the parameter draw of the run,
    0 when parameters are fixed). ``value`` is float, or object when a text outcome is
    asked for. Raises :class:`OutcomeError` for a bad name or date, or a streamed ensemble."""
    traj = _trajectory(source)
    steps = steps_of(traj.world, dates)
    vals = values(source, names, dates)
    runs = np.asarray(traj.runs)
    draw = getattr(traj, "draw", None)
    draw = np.zeros(len(runs), dtype=int) if draw is None else np.asarray(draw)
    labels = np.asarray(traj.world.dates(), dtype=object)[steps]
    r, d = len(runs), len(steps)
    numeric = all(parse(n).numeric for n in vals)
    frames = [pd.DataFrame({
        "run": np.repeat(runs, d), "draw": np.repeat(draw, d), "step": np.tile(steps, r),
        "date": np.tile(labels, r), "outcome": name,
        "value": np.asarray(v, dtype=float if numeric else object).reshape(-1)})
        for name, v in vals.items()]
    if not frames:
        return pd.DataFrame({"run": np.empty(0, int), "draw": np.empty(0, int),
                             "step": np.empty(0, int), "date": np.empty(0, object),
                             "outcome": np.empty(0, object), "value": np.empty(0)})
    return pd.concat(frames, ignore_index=True)


__all__ = ["KINDS", "LATENT_EPS", "Outcome", "OutcomeError", "decision_title", "default_names",
           "describe", "evaluate", "key_names", "parse", "parse_all", "steps_of", "triangle",
           "triangle_outcome", "values"]
