"""State arrays: a validated scenario compiled into the numpy arrays the kernels work on.

Index conventions (used everywhere):

- ``x[i, j]``: i's disposition toward j, in [-1, 1] (directed).
- ``imports[i, j]``: i's imports of goods from j, USD bn/yr (a scenario's ``"A->B"`` trade key
  is goods shipped from A to B, so it lands in ``imports[B, A]``).
- ``tau[i, j]``: i's added tariff (or tariff-equivalent) on imports from j since the start.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.events import CONCESSION_STEP, Effect, effect_of
from sim.spec import (
    PAIR,
    Concede,
    Escalate,
    Event,
    GrantAsk,
    Mechanisms,
    ScenarioSpec,
    month_index,
    month_label,
)

ASK_EVENTS = {
    "pipeline": "agreement",
    "military_hardware": "military_aid",
    "finance_access": "finance_access",
}


@dataclass
class Decision:
    """One compiled policy: who decides, about whom, and the event it fires."""

    index: int
    rule: str
    label: str
    actor: int
    other: int  # partner (grant_ask, concede) or target (escalate)
    watch: int  # the third state watched by 'escalate' (else -1)
    params: object  # the policy's validated spec
    event: Event
    effect: Effect


@dataclass
class World:
    """Everything fixed for a scenario; the dynamic state lives in :class:`sim.kernels.State`."""

    spec: ScenarioSpec
    ids: list[str]
    names: list[str]
    capability: np.ndarray
    gdp: np.ndarray
    ideal: np.ndarray
    reciprocity: np.ndarray
    x0: np.ndarray
    imports0: np.ndarray
    alliance: np.ndarray
    ties0: np.ndarray
    exposure0: np.ndarray
    months: int
    start: str
    schedule: dict[int, Effect] = field(default_factory=dict)
    scheduled_events: list[tuple[int, Event]] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def mech(self) -> Mechanisms:
        return self.spec.mechanisms

    def idx(self, sid: str) -> int:
        return self.ids.index(sid)

    def triad(self) -> tuple[int, int, int]:
        """Indices of the USA-CHN-RUS triangle (or of the first three states)."""
        if all(s in self.ids for s in ("USA", "CHN", "RUS")):
            return self.idx("USA"), self.idx("CHN"), self.idx("RUS")
        return 0, 1, 2

    def key_pairs(self) -> list[tuple[str, str]]:
        """The triangle's three dyads, e.g. ``[("USA", "CHN"), ("USA", "RUS"), ("CHN", "RUS")]``."""
        a, b, c = (self.ids[i] for i in self.triad())
        return [(a, b), (a, c), (b, c)]

    def dates(self) -> list[str]:
        """YYYY-MM label of every step 0..months."""
        return [month_label(self.start, t) for t in range(self.months + 1)]

    @classmethod
    def from_spec(cls, spec: ScenarioSpec) -> World:
        ids = spec.ids
        index = {s: i for i, s in enumerate(ids)}
        n = len(ids)
        ideal = np.array([s.ideal_point for s in spec.states])
        x0 = initial_relations(ideal, spec.mechanisms.anchor.d_half)
        given = pair_matrix(spec.relations, index, n)
        mask = pair_matrix(dict.fromkeys(spec.relations, 1.0), index, n) > 0
        x0[mask] = given[mask]
        imports0 = np.zeros((n, n))
        for key, val in spec.trade.items():
            a, arrow, b = PAIR.match(key).groups()
            if arrow == "->":
                imports0[index[b], index[a]] = val
            else:  # a pair total, split evenly
                imports0[index[b], index[a]] = imports0[index[a], index[b]] = val / 2
        alliance = pair_matrix(spec.alliances, index, n)
        ties0 = pair_matrix(spec.initial.ties, index, n)
        exposure0 = pair_matrix(spec.initial.exposure, index, n)
        recip = np.array([s.reciprocity for s in spec.states])
        world = cls(
            spec=spec,
            ids=ids,
            names=[s.name for s in spec.states],
            capability=np.array([s.capability for s in spec.states]),
            gdp=np.array([s.gdp for s in spec.states]),
            ideal=ideal,
            reciprocity=recip,
            x0=x0,
            imports0=imports0,
            alliance=alliance,
            ties0=ties0,
            exposure0=exposure0,
            months=spec.scenario.months,
            start=spec.scenario.start,
        )
        world._compile_events(index)
        world._compile_policies(index)
        return world

    def effect(self, event: Event) -> Effect:
        index = {s: i for i, s in enumerate(self.ids)}
        return effect_of(
            event, index, self.reciprocity, self.imports0, self.mech.events, self.mech.trade
        )

    def _compile_events(self, index: dict[str, int]) -> None:
        for ev in self.spec.events:
            if not ev.enabled:
                continue
            t = month_index(self.start, ev.date)
            eff = self.effect(ev)
            self.scheduled_events.append((t, ev))
            self.schedule.setdefault(t, Effect(self.n)).add(eff)
            if eff.lag and eff.lagged_base.any() and t + eff.lag < self.months:
                self.schedule.setdefault(t + eff.lag, Effect(self.n)).dbase[...] += eff.lagged_base

    def _compile_policies(self, index: dict[str, int]) -> None:
        # disabled policies keep their place (and random-draw slot) but never fire
        for pol in self.spec.policies:
            ev, other, label = decision_event(pol, self.start)
            watch = index[pol.watch] if pol.rule == "escalate" else -1
            if any(d.label == label for d in self.decisions):  # same rule twice: name the other
                label = f"{label}@{other}"
            self.decisions.append(
                Decision(
                    index=len(self.decisions),
                    rule=pol.rule,
                    label=label,
                    actor=index[pol.actor],
                    other=index[other],
                    watch=watch,
                    params=pol,
                    event=ev,
                    effect=self.effect(ev),
                )
            )


def decision_event(pol: GrantAsk | Escalate | Concede, start: str) -> tuple[Event, str, str]:
    """The event a policy fires when it decides to act, the other party, and its label."""
    if pol.rule == "grant_ask":
        kind, other, what = ASK_EVENTS[pol.ask], pol.partner, pol.ask
        extra = {"pipeline": {"gas_bcm": pol.gas_bcm},
                 "finance_access": {"trade_bn": pol.trade_bn}}.get(pol.ask, {})
    elif pol.rule == "escalate":
        kind, other, what = pol.instrument, pol.target, pol.instrument
        extra = ({"rate": pol.rate, "coverage": pol.coverage} if pol.instrument == "tariff"
                 else {"third": pol.watch})
    else:
        kind, other, what = "price_concession", pol.partner, "price_concession"
        extra = {"intensity": pol.step / CONCESSION_STEP}
    event = Event(type=kind, date=start, actor=pol.actor, target=other,
                  note=f"decision: {what}", **extra)
    return event, other, f"{pol.actor}:{what}"


def pair_matrix(pairs: dict[str, float], index: dict[str, int], n: int) -> np.ndarray:
    """``{"A->B": v, "A-B": w}`` as an ``(N, N)`` matrix (``A-B`` sets both directions)."""
    out = np.zeros((n, n))
    for key, val in pairs.items():
        a, arrow, b = PAIR.match(key).groups()
        out[index[a], index[b]] = val
        if arrow != "->":
            out[index[b], index[a]] = val
    return out


def initial_relations(ideal: np.ndarray, d_half: float) -> np.ndarray:
    """Default ``x0_ij = clip(1 - |ip_i - ip_j| / d_half, -1, 1)``, zero diagonal.

    Our rule: identical ideal points give full friendship, a distance of ``d_half`` neutrality,
    and twice that full hostility. With ``d_half = 1.75`` (half of 3.5, the top of the 2000-19
    US-China distance in SCIENCE.md §6; the data maximum is 3.64 in 2003), the 2019 distances give
    USA-CHN -0.72, USA-RUS -0.46, CHN-RUS +0.73.
    """
    d = np.abs(ideal[:, None] - ideal[None, :])
    x = np.clip(1.0 - d / d_half, -1.0, 1.0)
    np.fill_diagonal(x, 0.0)
    return x
