"""State arrays: a validated scenario compiled into the numpy arrays the kernels work on.

Index conventions (used everywhere):

- ``x[i, j]``: i's disposition toward j, in (-1, 1) (directed); it evolves as the latent
  ``z = artanh(x)`` (:mod:`sim.kernels`).
- ``imports[i, j]``: i's imports of goods from j, USD bn/yr (a scenario's ``"A->B"`` trade key
  is goods shipped from A to B, so it lands in ``imports[B, A]``).
- ``tau[i, j]``: i's added tariff (or tariff-equivalent) on imports from j since the start.

The World holds no parameter-dependent magnitudes beyond the scenario's own starting values
(``x0``): event effects are computed from the runs' parameters when they are simulated
(:class:`sim.events.Plan`, built by :class:`sim.kernels.State`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from sim.events import CONCESSION_STEP
from sim.spec import (
    PAIR,
    RELATION_LIMIT,
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
    params: object  # the policy's validated spec (its parameters per run: sim.params.Params)
    event: Event  # the event it fires, with the scenario's values (magnitudes: sim.events.Plan)


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
    given: np.ndarray  # (N, N) bool: relations set in [relations] or by the calibrated start
    #                    (sim.world.observed_start); the rest follow d_half
    months: int
    start: str
    scheduled_events: list[tuple[int, Event]] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def mech(self) -> Mechanisms:
        return self.spec.mechanisms

    def initial_x(self, d_half: float | np.ndarray) -> np.ndarray:
        """Starting relations for ``anchor.d_half = d_half`` (``(N, N)``; ``(R, N, N)`` for one
        value per run): the ideal-point rule (:func:`initial_relations`) where
        ``[relations]`` gives no value."""
        x = initial_relations(self.ideal, d_half)
        x[..., self.given] = self.x0[self.given]
        return x

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
        if spec.scenario.start_relations == "calibrated":
            x0, observed = observed_start(ideal, x0, ids)
            mask |= observed
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
            given=mask,
            months=spec.scenario.months,
            start=spec.scenario.start,
        )
        world._compile_events()
        world._compile_policies(index)
        return world

    def _compile_events(self) -> None:
        """The enabled scheduled events with their months, in scenario order."""
        for ev in self.spec.events:
            if ev.enabled:
                self.scheduled_events.append((month_index(self.start, ev.date), ev))

    def _compile_policies(self, index: dict[str, int]) -> None:
        # disabled policies keep their place (and random-draw slot) but never fire
        labels = policy_labels(self.spec.policies)
        for pol, label in zip(self.spec.policies, labels, strict=True):
            ev, other, _ = decision_event(pol, self.start)
            watch = index[pol.watch] if pol.rule == "escalate" else -1
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
                )
            )


Policy = GrantAsk | Escalate | Concede


def _other_and_what(pol: Policy) -> tuple[str, str]:
    """The other party of a policy and what it does (ask, instrument or price concession)."""
    if pol.rule == "grant_ask":
        return pol.partner, pol.ask
    if pol.rule == "escalate":
        return pol.target, pol.instrument
    return pol.partner, "price_concession"


def policy_labels(policies: list[Policy]) -> list[str]:
    """Each policy's decision label ``ACTOR:what``; a label already taken (the same rule twice
    for one actor) gets ``@OTHER``, its partner or target (``USA:tariff@JPN``)."""
    labels: list[str] = []
    for pol in policies:
        other, what = _other_and_what(pol)
        label = f"{pol.actor}:{what}"
        labels.append(f"{label}@{other}" if label in labels else label)
    return labels


ASK_WORDS = {"pipeline": "a gas pipeline deal", "military_hardware": "military hardware",
             "finance_access": "access to its finance"}
INSTRUMENT_WORDS = {"tariff": "raises tariffs on", "secondary_sanctions":
                    "imposes secondary sanctions on"}


def decision_words(d: Decision, ids: list[str]) -> str:
    """A decision in plain words: ``CHN grants RUS a gas pipeline deal``, ``USA raises tariffs
    on CHN for backing RUS``, ``RUS offers CHN price concessions``."""
    actor, other = ids[d.actor], ids[d.other]
    if d.rule == "grant_ask":
        return f"{actor} grants {other} {ASK_WORDS[d.params.ask]}"
    if d.rule == "escalate":
        return (f"{actor} {INSTRUMENT_WORDS[d.params.instrument]} {other} for backing "
                f"{ids[d.watch]}")
    return f"{actor} offers {other} price concessions"


def decision_fields(pol: Policy, values: object | None = None) -> dict[str, object]:
    """The event fields a policy's decision sets (gas, trade, tariff rate and coverage, the
    concession's intensity), from ``values`` (the policy's parameters for some runs,
    ``sim.params.Params.policies[k]``: scalars or ``(R,)`` arrays) or the policy itself."""
    v = pol if values is None else values
    if pol.rule == "grant_ask":
        return {"pipeline": {"gas_bcm": v.gas_bcm},
                "finance_access": {"trade_bn": v.trade_bn}}.get(pol.ask, {})
    if pol.rule == "escalate":
        return {"rate": v.rate, "coverage": v.coverage} if pol.instrument == "tariff" else {}
    return {"intensity": v.step / CONCESSION_STEP}


def decision_event(pol: Policy, start: str) -> tuple[Event, str, str]:
    """The event a policy fires when it decides to act (with the scenario's values), the other
    party, and its label before de-duplication (:func:`policy_labels`)."""
    kind = {"grant_ask": ASK_EVENTS.get(getattr(pol, "ask", ""), ""),
            "escalate": getattr(pol, "instrument", ""), "concede": "price_concession"}[pol.rule]
    other, what = _other_and_what(pol)
    extra = decision_fields(pol)
    if pol.rule == "escalate" and pol.instrument == "secondary_sanctions":
        extra = {"third": pol.watch}
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


def initial_relations(ideal: np.ndarray, d_half: float | np.ndarray) -> np.ndarray:
    """Default ``x0_ij = clip(1 - |ip_i - ip_j| / d_half, -0.99, 0.99)``, zero diagonal:
    ``(N, N)``, or ``(R, N, N)`` for one ``d_half`` per run (ideal-point units).

    Our rule: identical ideal points give near-full friendship, a distance of ``d_half``
    neutrality, and twice that near-full hostility; the clip at ``RELATION_LIMIT`` (0.99, as
    for ``[relations]``) keeps every start strictly inside (-1, 1), where the latent
    ``z = artanh(x)`` is finite. With ``d_half = 1.75`` (half of 3.5, the top of the 2000-19
    US-China distance in SCIENCE.md §6; the data maximum is 3.64 in 2003), the 2019 distances give
    USA-CHN -0.72, USA-RUS -0.46, CHN-RUS +0.73.
    """
    d = np.abs(ideal[:, None] - ideal[None, :])
    half = d_half if np.ndim(d_half) == 0 else np.reshape(d_half, (-1, 1, 1))
    x = np.clip(1.0 - d / half, -RELATION_LIMIT, RELATION_LIMIT)
    x[..., np.arange(len(ideal)), np.arange(len(ideal))] = 0.0
    return x


def observed_start(ideal: np.ndarray, x: np.ndarray, ids: list[str],
                   theta: Mapping[str, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The calibrated start of the dyads the UN-distance channel observes
    (:class:`sim.observation.votes.UnDistance`, ``[scenario] start_relations = "calibrated"``):

        x̄0_ab = clip((a_p − |ip_a − ip_b|) / λ),   x0_ab, x0_ba = clip(x̄0_ab ± (x_ab − x_ba) / 2),

    the channel's own map (:meth:`UnDistance.relation`, the inverse of the mean it predicts)
    at the states' ideal-point distance, with ``a_p`` and ``λ`` from ``theta`` (default: the
    shipped posterior means, :func:`sim.observation.votes.calibrated_theta`, the map the
    pattern P3 reads). So the expected distance at the start is the one the scenario's ideal
    points give. ``x`` ``(N, N)``: the relations so far (``[relations]`` or the ideal-point
    rule); only the gap between a dyad's two directions is kept (0 for a symmetric entry).
    Clip at ``RELATION_LIMIT``. Dyads with a state not in ``ids`` are skipped. Returns the new
    ``(N, N)`` relations and the ``(N, N)`` bool mask of the entries set. Raises
    :class:`sim.output.UserError` if the posterior file is missing or unusable."""
    from sim.observation.votes import TRIAD_PAIRS, UnDistance, calibrated_theta

    theta = calibrated_theta() if theta is None else theta
    out, mask = x.copy(), np.zeros(x.shape, dtype=bool)
    pairs = [p for p in TRIAD_PAIRS if all(s in ids for s in p.split("-"))]
    if not pairs:
        return out, mask
    idx = np.array([[ids.index(s) for s in p.split("-")] for p in pairs])
    a, b = idx[:, 0], idx[:, 1]
    d = np.abs(ideal[a] - ideal[b])
    mean = np.clip(UnDistance().relation(d, theta, np.array(pairs)), -RELATION_LIMIT,
                   RELATION_LIMIT)
    gap = 0.5 * (x[a, b] - x[b, a])
    out[a, b] = np.clip(mean + gap, -RELATION_LIMIT, RELATION_LIMIT)
    out[b, a] = np.clip(mean - gap, -RELATION_LIMIT, RELATION_LIMIT)
    mask[a, b] = mask[b, a] = True
    return out, mask
