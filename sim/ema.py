"""EMA Workbench adapter: ``sim.ema.model(scenario)`` is an ``ema_workbench`` model of a scenario.

- **Uncertainties**: the scenario's factors (:mod:`sim.explore.space`: the distributions its
  ``[uncertainties]`` declares, as scipy distributions through their quantiles), except the
  policy thresholds, which are levers.
- **Levers**: each enabled scheduled event's switch (``BooleanParameter``) and magnitude scale
  (``RealParameter`` 0.5..1.5, as :mod:`sim.explore.attribution` scales it), and each policy's
  threshold (over its declared range, else 0.5 to 1.5 times its value).
- **Outcomes**: each outcome asked (default: the triangle's relations and trade, and each
  decision) as a ``ScalarOutcome`` at the horizon and a ``TimeSeriesOutcome`` over every month.

EMA names must be Python identifiers: each is the registered name with other characters as
``_`` (``policies.USA:tariff.threshold`` → ``policies_USA_tariff_threshold``), and EMA's
``variable_name`` carries the registered name to the model function (``Model.uncertainties``
and ``levers`` list both). Each experiment is one run of the batched engine with the
experiment's parameter values and the random streams of run ``run`` (a constant, default 0:
every experiment shares its noise with every other, as ``sim compare`` pairs runs) of master
seed ``seed`` (default the scenario's); ``replications=K`` gives a ``ReplicatorModel`` whose
replication ``k`` uses run ``k`` (outcomes then ``ArrayOutcome`` named ``..._runs``: one value
or series per replication). The same values and seed through ``sim.engine.simulate`` give the
same numbers, bit for bit.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sim import outcomes as oc
from sim.spec import ScenarioSpec
from sim.world import World

SCALE = (0.5, 1.5)
GRID = 1025
"""Quantiles behind each uncertainty's distribution (piecewise uniform between them)."""


def ident(name: str) -> str:
    """A registered or outcome name as a Python identifier (EMA's rule)."""
    out = re.sub(r"\W+", "_", name.replace("->", "_to_")).strip("_")
    return out if out and not out[0].isdigit() else f"p_{out}"


def default_outcomes(world: World) -> list[str]:
    """The triangle's relations and trade, and each decision."""
    pairs = [f"{a}-{b}" for a, b in world.key_pairs()]
    return ([f"relation:{p}" for p in pairs] + [f"trade:{p}" for p in pairs]
            + [f"decision:{d.label}" for d in world.decisions])


class Runner:
    """The model function EMA calls: ``runner(**experiment)`` -> ``{outcome ident: value}``.

    Picklable (it carries the scenario, not the World), so it runs under EMA's
    multiprocessing, Dask or MPI evaluators; the World and each event-lever variant are built
    once per process."""

    def __init__(self, spec: ScenarioSpec, outcomes: Sequence[str], seed: int,
                 events: Sequence[tuple[str, int]]) -> None:
        self.spec, self.outcomes, self.seed = spec, list(outcomes), int(seed)
        self.events = list(events)  # (lever ident stem, event index)
        self._worlds: dict[tuple[Any, ...], World] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_worlds"} | {"_worlds": {}}

    def world(self, switches: tuple[tuple[bool, float], ...]) -> World:
        """The World with each event switched and scaled as ``switches`` say."""
        if switches not in self._worlds:
            from sim.explore.attribution import with_events

            changes = {idx: sw for (_, idx), sw in zip(self.events, switches, strict=True)}
            self._worlds[switches] = World.from_spec(with_events(self.spec, changes))
        return self._worlds[switches]

    def __call__(self, **kw: Any) -> dict[str, Any]:
        from sim.engine import simulate

        run = int(kw.pop("run", 0))
        kw.pop("seed", None)
        switches = tuple((bool(kw.pop(f"{stem}_on", True)), float(kw.pop(f"{stem}_scale", 1.0)))
                         for stem, _ in self.events)
        world = self.world(switches)
        params = {k: np.array([v]) for k, v in kw.items()}
        traj = simulate(world, self.seed, np.array([run]), params=params or None)
        out: dict[str, Any] = {}
        for name in self.outcomes:
            series = oc.parse(name).values(traj)[0].astype(float)
            out[ident(name)] = float(series[-1])
            out[f"{ident(name)}_series"] = series
        return out


def model(scenario: str | Path | ScenarioSpec, outcomes: Sequence[str] | None = None,
          seed: int | None = None, run: int = 0, replications: int | None = None,
          which: str = "declared", name: str | None = None) -> Any:
    """An ``ema_workbench`` model of ``scenario`` (module docstring). ``outcomes``: registered
    outcome names (default :func:`default_outcomes`); ``which``: ``"declared"`` uncertainties
    or ``"all"`` registered numbers (:func:`sim.explore.space.space`). Raises
    :class:`sim.output.UserError` / :class:`sim.outcomes.OutcomeError` for bad input."""
    from scipy import stats

    warnings.filterwarnings("ignore", message="ipyparallel not installed")
    from ema_workbench import (
        ArrayOutcome,
        BooleanParameter,
        Constant,
        IntegerParameter,
        Model,
        RealParameter,
        ReplicatorModel,
        ScalarOutcome,
        TimeSeriesOutcome,
    )

    from sim.explore import common
    from sim.explore.attribution import enabled_events, policy_switches
    from sim.explore.runner import numeric_outcomes
    from sim.explore.space import FALLBACK, space

    spec = common.load(scenario)
    world = World.from_spec(spec)
    names = [o.name for o in numeric_outcomes(world, outcomes or default_outcomes(world))]
    sp = space(spec, which)  # type: ignore[arg-type]
    thresholds = {f"{sw.rsplit('.', 1)[0]}.threshold" for sw in policy_switches(spec).values()}
    from sim.params import Params, registry

    reg, values = registry(spec), Params.from_spec(spec).values
    uncertainties = []
    for f in sp.factors:
        if f.name in thresholds:
            continue
        if f.kind == "int":
            uncertainties.append(IntegerParameter(ident(f.name), int(f.lo), int(f.hi),
                                                  variable_name=f.name))
            continue
        grid = np.maximum.accumulate(f.quantiles(GRID))
        grid = grid + np.arange(len(grid)) * 1e-12 * max(1.0, abs(grid[-1]))  # increasing
        dist = stats.rv_histogram((np.ones(len(grid) - 1), grid), density=False)
        uncertainties.append(RealParameter.from_dist(ident(f.name), dist.freeze(),
                                                     variable_name=f.name))
    levers = []
    by = {f.name: f for f in sp.factors}
    for t in sorted(thresholds):
        if t not in reg:
            continue
        lo, hi = ((by[t].lo, by[t].hi) if t in by else
                  sorted((FALLBACK[0] * values[t], FALLBACK[1] * values[t])))
        if lo < hi:
            levers.append(RealParameter(ident(t), float(lo), float(hi), variable_name=t))
    events = []
    for i, label in enabled_events(spec):
        stem = ident(f"event_{label}")
        events.append((stem, i))
        levers += [BooleanParameter(f"{stem}_on"), RealParameter(f"{stem}_scale", *SCALE)]
    master = spec.scenario.seed if seed is None else int(seed)
    runner = Runner(spec, names, master, events)
    label = ident(name or spec.scenario.name)
    if replications is None:
        m = Model(label, function=runner)
        m.constants = [Constant("run", int(run))]
    else:
        m = ReplicatorModel(label, function=runner)
        m.replications = [{"run": k} for k in range(int(replications))]
    m.uncertainties = uncertainties
    m.levers = levers
    if replications is None:
        m.outcomes = ([ScalarOutcome(ident(n)) for n in names]
                      + [TimeSeriesOutcome(f"{ident(n)}_series") for n in names])
    else:  # one value (or series) per replication
        # EMA keeps one class per outcome name across models: other names than the scalars'
        m.outcomes = ([ArrayOutcome(f"{ident(n)}_runs", variable_name=ident(n)) for n in names]
                      + [ArrayOutcome(f"{ident(n)}_series_runs",
                                      variable_name=f"{ident(n)}_series") for n in names])
    return m


__all__ = ["Runner", "default_outcomes", "ident", "model"]
