"""The event library: what each kind of event is (CAMEO code, Goldstein weight) and what it does.

An event turns into an :class:`Effect`: dense ``(N, N)`` increments to the model's state arrays.
Scheduled events and agents' decisions go through the same :func:`effect_of`, so a decision has
exactly the effect of the same event written in a scenario file.

Goldstein (1992, JCR 36:369) weights through the CAMEO crosswalk, as listed in SCIENCE.md §5.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from sim.spec import Event, EventShocks, Trade


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


@dataclass
class Effect:
    """Increments to the state arrays, all ``(N, N)``; ``lagged_base`` lands ``lag`` months on."""

    n: int
    dx: np.ndarray = field(init=False)
    dtau: np.ndarray = field(init=False)
    dties: np.ndarray = field(init=False)
    dexposure: np.ndarray = field(init=False)
    dsupport: np.ndarray = field(init=False)
    dconcession: np.ndarray = field(init=False)
    dbase: np.ndarray = field(init=False)
    lagged_base: np.ndarray = field(init=False)
    lag: int = 0

    FIELDS = ("dx", "dtau", "dties", "dexposure", "dsupport", "dconcession", "dbase")

    def __post_init__(self) -> None:
        for name in (*self.FIELDS, "lagged_base"):
            setattr(self, name, np.zeros((self.n, self.n)))

    def add(self, other: Effect) -> None:
        for name in self.FIELDS:
            getattr(self, name)[...] += getattr(other, name)


def effect_of(
    event: Event,
    index: dict[str, int],
    reciprocity: np.ndarray,
    imports0: np.ndarray,
    shocks: EventShocks,
    trade: Trade,
) -> Effect:
    """Compile one event into its :class:`Effect`.

    Relation shock (SCIENCE.md §5, Goldstein & Freeman 1990 for the reply):
    ``dx[a, b] = s · g/10 · k`` for actor a, target b; ``dx[b, a] = r_b · s · g/10 · k``
    (or the host weight for a visit), with ``s`` = ``shock_scale``, ``g`` the Goldstein weight,
    ``k`` the intensity. Tariffs scale ``k`` by duties raised relative to the 2018 List 1+2
    round. Lasting events move ``ties`` by ``ties_scale · g/10 · k`` both ways. A hostile
    event (``g < 0``) by an actor listed in ``pressure_scale`` has all its effects multiplied
    by that actor's factor (0 removes them, 2 doubles them).
    """
    kind = EVENT_TYPES[event.type]
    eff = Effect(len(index))
    k = event.intensity
    if event.type in ("tariff", "easing") and event.rate is not None and event.coverage is not None:
        k *= min(3.0, abs(event.rate) * event.coverage / TARIFF_REFERENCE_BN)
    g = kind.goldstein / 10.0
    for actor in event.actors:
        a = index[actor]
        m = shocks.pressure_scale.get(actor, 1.0) if g < 0 else 1.0
        for target in event.targets:
            b = index[target]
            pair = Effect(len(index))
            _pair_effects(pair, event, kind, a, b, k, reciprocity, index, imports0, shocks, trade)
            for name in (*Effect.FIELDS, "lagged_base"):
                getattr(eff, name)[...] += m * getattr(pair, name)
            eff.lag = max(eff.lag, pair.lag)
    return eff


def _pair_effects(
    eff: Effect,
    event: Event,
    kind: EventType,
    a: int,
    b: int,
    k: float,
    reciprocity: np.ndarray,
    index: dict[str, int],
    imports0: np.ndarray,
    shocks: EventShocks,
    trade: Trade,
) -> None:
    """The effect of ``event`` from actor ``a`` on target ``b``."""
    g = kind.goldstein / 10.0
    te = shocks.sanction_tariff_equivalent
    eff.dx[a, b] += shocks.shock_scale * g * k
    reply = kind.host_goldstein / 10.0 if kind.host_goldstein is not None else reciprocity[b] * g
    eff.dx[b, a] += shocks.shock_scale * reply * k
    if kind.lasting:
        eff.dties[a, b] += shocks.ties_scale * g * k
        eff.dties[b, a] += shocks.ties_scale * g * k
    eff.dsupport[a, b] += kind.support * event.intensity
    _trade_effects(eff, event, a, b, index, imports0, te, trade)


def _trade_effects(
    eff: Effect,
    event: Event,
    a: int,
    b: int,
    index: dict[str, int],
    imports0: np.ndarray,
    te: float,
    trade: Trade,
) -> None:
    """Tariff-equivalents and trade levels. ``tau[i, j]``: i's tariff on imports from j."""
    k = event.intensity
    if event.type in ("tariff", "easing") and event.rate is not None and event.coverage is not None:
        sign = 1.0 if event.type == "tariff" else -1.0
        base = max(imports0[a, b], 1e-9)
        eff.dtau[a, b] += sign * k * abs(event.rate) * min(event.coverage, base) / base
    elif event.type == "easing":
        eff.dtau[a, b] -= te * k
        eff.dtau[b, a] -= te * k
    elif event.type == "sanctions":
        eff.dtau[a, b] += te * k
        eff.dtau[b, a] += te * k
    elif event.type == "export_controls":
        eff.dtau[b, a] += 0.5 * te * k
    elif event.type == "secondary_sanctions" and event.third is not None:
        eff.dexposure[b, index[event.third]] += k
    elif event.type == "price_concession":
        eff.dconcession[a, b] += CONCESSION_STEP * k
    if event.trade_bn:
        eff.dbase[a, b] += 0.5 * event.trade_bn
        eff.dbase[b, a] += 0.5 * event.trade_bn
    if event.gas_bcm:
        # gas flows from target to actor (the actor buys), once the pipeline is built
        eff.lagged_base[a, b] += event.gas_bcm * trade.gas_price_bn_per_bcm
        eff.lag = trade.pipeline_lead_months
