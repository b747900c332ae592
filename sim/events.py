"""The event library: what each kind of event is (CAMEO code, Goldstein weight) and what it does.

An event turns into an :class:`Effect`: increments to the model's state arrays, computed from the
runs' parameters (each magnitude a float, or one value per run). Scheduled events and agents'
decisions go through the same :func:`effect_of`, so a decision has exactly the effect of the same
event written in a scenario file. :class:`Plan` holds the effects of a scenario's events and
decisions for a set of runs; it is built when the runs start, not stored in the World.

Goldstein (1992, JCR 36:369) weights through the CAMEO crosswalk, as listed in SCIENCE.md §5.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from sim.spec import Event


@dataclass(frozen=True)
class EventType:
    """One entry of the event library."""

    cameo: str
    goldstein: float
    label: str
    lasting: bool = False  # also moves the slow 'ties' stock (agreements, sanctions)
    host_goldstein: float | None = None  # reply weight of the target (a hosted visit)
    support: float = 0.0  # counts as material support of actor for target
    required: tuple[str, ...] = ()


EVENT_TYPES: dict[str, EventType] = {
    "tariff": EventType(
        "163",
        -8.0,
        "impose tariffs (embargo, boycott or sanctions)",
        True,
        required=("rate", "coverage"),
    ),
    "sanctions": EventType("163", -8.0, "impose embargo, boycott or sanctions", True),
    "secondary_sanctions": EventType(
        "172",
        -5.0,
        "impose administrative sanctions on a third party's dealings",
        True,
        required=("third",),
    ),
    "export_controls": EventType(
        "172", -5.0, "impose administrative sanctions (export controls)", True
    ),
    "threat": EventType("1312", -5.8, "threaten to boycott, embargo or sanction"),
    "reduce_relations": EventType("160", -4.0, "reduce relations"),
    "pressure": EventType("111", -2.0, "criticise or denounce (diplomatic pressure)"),
    "visit": EventType("042", 1.9, "make a visit (target hosts: CAMEO 043)", host_goldstein=2.8),
    "agreement": EventType("057", 8.0, "sign formal agreement", True, support=0.5),
    "military_aid": EventType("072", 8.3, "provide military aid", True, support=1.0),
    "finance_access": EventType(
        "061", 6.4, "cooperate economically (finance, currency)", True, support=1.0
    ),
    "price_concession": EventType("061", 6.4, "cooperate economically (price concession)"),
    "negotiation": EventType("046", 7.0, "engage in negotiation"),
    "intent_to_cooperate": EventType("030", 4.0, "express intent to cooperate"),
    "endorse": EventType("051", 3.4, "praise or endorse (e.g. back a peace plan)"),
    "easing": EventType("085", 7.0, "ease economic sanctions or tariffs", True),
}

TARIFF_REFERENCE_BN = 0.25 * 50.0  # duties of the 2018 List 1+2 round: 25% on $50bn (timeline)
CONCESSION_STEP = 0.1  # gain added to a partner's pipeline ask by one price concession


FIELDS = ("x", "tau", "ties", "exposure", "support", "concession", "base")
"""State arrays an event moves (:class:`sim.kernels.State`), in the order they are applied."""

Magnitude = Any
"""A float shared by all runs, or an array ``(R,)`` with one value per run."""


@dataclass
class Effect:
    """An event's increments for ``R`` runs, kept sparse.

    ``terms[(field, i, j)]`` is the increment of ``state.<field>[:, i, j]`` (a float, or one
    value per run ``(R,)``), summed in event order; ``lagged`` lists imports that land later:
    ``(i, j, value, lag)`` adds ``value`` to ``base[:, i, j]`` ``lag`` months on (``lag`` an
    int or ``(R,)`` ints). ``dx``, ``dtau``, ... give dense ``(N, N)`` views (``(R, N, N)`` if
    any value varies by run).
    """

    n: int
    terms: dict[tuple[str, int, int], Magnitude] = field(default_factory=dict)
    lagged: list[tuple[int, int, Magnitude, Magnitude]] = field(default_factory=list)

    def add(self, name: str, i: int, j: int, value: Magnitude) -> None:
        """``terms[(name, i, j)] += value`` (first value kept as is: ``0 + v == v``)."""
        key = (name, i, j)
        self.terms[key] = self.terms[key] + value if key in self.terms else value

    def merge(self, other: Effect) -> None:
        """Add ``other``'s terms after this effect's (lagged imports are not merged)."""
        for (name, i, j), value in other.terms.items():
            self.add(name, i, j, value)

    def dense(self, name: str) -> np.ndarray:
        """The increments of one state array: ``(N, N)``, or ``(R, N, N)`` if they vary by run."""
        vals = [v for (f, _, _), v in self.terms.items() if f == name]
        runs = max((np.size(v) for v in vals if np.ndim(v)), default=0)
        out = np.zeros((runs, self.n, self.n) if runs else (self.n, self.n))
        for (f, i, j), v in self.terms.items():
            if f == name:
                out[..., i, j] += v
        return out

    @property
    def dx(self) -> np.ndarray:
        return self.dense("x")

    @property
    def dtau(self) -> np.ndarray:
        return self.dense("tau")

    @property
    def dties(self) -> np.ndarray:
        return self.dense("ties")

    @property
    def dexposure(self) -> np.ndarray:
        return self.dense("exposure")

    @property
    def dsupport(self) -> np.ndarray:
        return self.dense("support")

    @property
    def dconcession(self) -> np.ndarray:
        return self.dense("concession")

    @property
    def dbase(self) -> np.ndarray:
        return self.dense("base")


def _nonzero(v: Magnitude) -> bool:
    return v is not None and bool(np.any(v))


def effect_of(
    event: Event,
    index: dict[str, int],
    reciprocity: np.ndarray,
    imports0: np.ndarray,
    shocks: Any,
    trade: Any,
    fields: dict[str, Magnitude] | None = None,
) -> Effect:
    """Compile one event into its :class:`Effect` for given parameter values.

    ``shocks`` and ``trade`` carry ``[mechanisms.events]`` and ``[mechanisms.trade]``
    (:class:`sim.spec.EventShocks` and :class:`sim.spec.Trade`, or the groups of
    :class:`sim.params.Params`, whose values may be arrays ``(R,)``); ``reciprocity`` is
    ``(N,)`` or ``(R, N)``; ``fields`` replaces the event's ``intensity``, ``rate``,
    ``coverage``, ``gas_bcm`` or ``trade_bn`` (a decision's values per run).

    Relation shock (SCIENCE.md §5, Goldstein & Freeman 1990 for the reply):
    ``dx[a, b] = s · g/10 · k`` for actor a, target b; ``dx[b, a] = r_b · s · g/10 · k``
    (or the host weight for a visit), with ``s`` = ``shock_scale``, ``g`` the Goldstein weight,
    ``k`` the intensity. Tariffs scale ``k`` by duties raised relative to the 2018 List 1+2
    round. Lasting events move ``ties`` by ``ties_scale · g/10 · k`` both ways. A hostile
    event (``g < 0``) by an actor listed in ``pressure_scale`` has all its effects multiplied
    by that actor's factor (0 removes them, 2 doubles them). Units as in docs/ODD.md §7.5.
    """
    ev = _EventValues(event, fields or {})
    kind = EVENT_TYPES[event.type]
    eff = Effect(len(index))
    k = ev.intensity
    if event.type in ("tariff", "easing") and ev.rate is not None and ev.coverage is not None:
        k = k * np.minimum(3.0, np.abs(ev.rate) * ev.coverage / TARIFF_REFERENCE_BN)
    g = kind.goldstein / 10.0
    for actor in event.actors:
        a = index[actor]
        m = shocks.pressure_scale.get(actor, 1.0) if g < 0 else 1.0
        for target in event.targets:
            b = index[target]
            pair = Effect(len(index))
            _pair_effects(pair, ev, kind, a, b, k, reciprocity, index, imports0, shocks, trade)
            for (name, i, j), value in pair.terms.items():
                eff.add(name, i, j, m * value)
            eff.lagged += [(i, j, m * value, lag) for i, j, value, lag in pair.lagged]
    return eff


class _EventValues:
    """An event's fields, with ``fields`` (per-run values of a decision) in their place."""

    def __init__(self, event: Event, fields: dict[str, Magnitude]) -> None:
        self.event, self.fields = event, fields

    def __getattr__(self, name: str) -> Any:
        return self.fields[name] if name in self.fields else getattr(self.event, name)


def _pair_effects(
    eff: Effect,
    event: Any,
    kind: EventType,
    a: int,
    b: int,
    k: Magnitude,
    reciprocity: np.ndarray,
    index: dict[str, int],
    imports0: np.ndarray,
    shocks: Any,
    trade: Any,
) -> None:
    """The effect of ``event`` from actor ``a`` on target ``b``."""
    g = kind.goldstein / 10.0
    te = shocks.sanction_tariff_equivalent
    eff.add("x", a, b, shocks.shock_scale * g * k)
    reply = kind.host_goldstein / 10.0 if kind.host_goldstein is not None else (
        reciprocity[..., b] * g)
    eff.add("x", b, a, shocks.shock_scale * reply * k)
    if kind.lasting:
        eff.add("ties", a, b, shocks.ties_scale * g * k)
        eff.add("ties", b, a, shocks.ties_scale * g * k)
    if kind.support:
        eff.add("support", a, b, kind.support * event.intensity)
    _trade_effects(eff, event, a, b, index, imports0, te, trade)


def _trade_effects(
    eff: Effect,
    event: Any,
    a: int,
    b: int,
    index: dict[str, int],
    imports0: np.ndarray,
    te: Magnitude,
    trade: Any,
) -> None:
    """Tariff-equivalents and trade levels. ``tau[i, j]``: i's tariff on imports from j."""
    k = event.intensity
    if event.type in ("tariff", "easing") and event.rate is not None and event.coverage is not None:
        sign = 1.0 if event.type == "tariff" else -1.0
        base = max(imports0[a, b], 1e-9)
        eff.add("tau", a, b, sign * k * np.abs(event.rate) * np.minimum(event.coverage, base)
                / base)
    elif event.type == "easing":
        eff.add("tau", a, b, -(te * k))
        eff.add("tau", b, a, -(te * k))
    elif event.type == "sanctions":
        eff.add("tau", a, b, te * k)
        eff.add("tau", b, a, te * k)
    elif event.type == "export_controls":
        eff.add("tau", b, a, 0.5 * te * k)
    elif event.type == "secondary_sanctions" and event.third is not None:
        eff.add("exposure", b, index[event.third], k)
    elif event.type == "price_concession":
        eff.add("concession", a, b, CONCESSION_STEP * k)
    if _nonzero(event.trade_bn):
        eff.add("base", a, b, 0.5 * event.trade_bn)
        eff.add("base", b, a, 0.5 * event.trade_bn)
    if _nonzero(event.gas_bcm):
        # gas flows from target to actor (the actor buys), once the pipeline is built
        eff.lagged.append((a, b, event.gas_bcm * trade.gas_price_bn_per_bcm,
                           trade.pipeline_lead_months))


# ----------------------------------------------------------------------------- magnitudes per run


@dataclass
class Plan:
    """The event magnitudes of ``R`` runs with their parameters: the increments of every month
    with scheduled events (lagged gas included, in the month it lands) and each decision's
    effect. Built when the runs start (:meth:`sim.kernels.State.initial`), so the compiled
    World holds no magnitudes and one World serves any parameter values."""

    schedule: dict[int, Effect]
    decisions: list[Effect]
    lagged: list[tuple[int, int, int, Magnitude, Magnitude]] = field(default_factory=list)
    """Decisions' lagged imports: ``(decision index, i, j, value, lag)``."""

    @classmethod
    def build(cls, world: Any, par: Any) -> Plan:
        """``world``: a :class:`sim.world.World`; ``par``: its runs' :class:`sim.params.Params`.

        Scheduled events of a month are summed in scenario order (each event's gas landing
        ``pipeline_lead_months`` later, if that is inside the horizon, added where the event
        comes), exactly as one event after the other."""
        from sim.world import decision_fields

        index = {s: i for i, s in enumerate(world.ids)}

        def effect(event: Event, fields: dict[str, Magnitude] | None = None) -> Effect:
            return effect_of(event, index, par.reciprocity, world.imports0, par.events,
                             par.trade, fields)

        schedule: dict[int, Effect] = {}
        for t, ev in world.scheduled_events:
            eff = effect(ev)
            schedule.setdefault(t, Effect(world.n)).merge(eff)
            for i, j, value, lag in eff.lagged:
                for land, v in _landings(t, value, lag, world.months):
                    schedule.setdefault(land, Effect(world.n)).add("base", i, j, v)
        decisions = [effect(d.event, decision_fields(d.params, par.policies[d.index]))
                     for d in world.decisions]
        lagged = [(k, *entry) for k, eff in enumerate(decisions) for entry in eff.lagged]
        return cls(schedule, decisions, lagged)


def _landings(t: int, value: Magnitude, lag: Magnitude, months: int
              ) -> list[tuple[int, Magnitude]]:
    """Months in which imports ordered at ``t`` land (``t + lag``, inside the horizon; a lag
    of 0 delivers nothing, as before), with each run's value there (0 where it lands elsewhere)."""
    if np.ndim(lag) == 0:
        return [(t + int(lag), value)] if lag and t + lag < months else []
    lag = np.asarray(lag)
    return [(int(land), np.where(t + lag == land, value, 0.0))
            for land in np.unique(t + lag[lag > 0]) if land < months]
