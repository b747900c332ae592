"""The Mesa model: holds the state arrays of one run and steps it month by month.

Each month (``step``): scheduled events land, every agent decides on its own policies from
the same snapshot, the decisions that fire become events, then relations and trade move.
The batched engine (:mod:`sim.engine`) runs the same month for many runs at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import mesa
import numpy as np

from sim.agents import StateAgent
from sim.kernels import State, begin_month, evolve
from sim.metrics import balanced_share, dittmer
from sim.params import Params
from sim.policies import act
from sim.resources import scenarios_dir
from sim.seeds import SLOTS, Draws, run_seed
from sim.spec import ScenarioSpec, load_scenario, month_label
from sim.world import World

DEFAULT_SCENARIO = scenarios_dir() / "baseline.toml"


class AlignmentModel(mesa.Model):
    """Great-power alignment, one run.

    Args:
        scenario_file: a scenario file, a validated :class:`ScenarioSpec` or a compiled
            ``World`` (default: ``scenarios/baseline.toml``). Not called ``scenario``: Mesa 3.5
            reserves that keyword for its own ``Model.scenario``, and SolaraViz's Reset would
            pass a Mesa ``Scenario`` object in its place.
        rng: master seed (default: the scenario's ``seed``).
        run: run index within the ensemble of that master seed (default 0).
        params: one parameter set, ``{dotted name: value}`` (:mod:`sim.params`), replacing the
            scenario's values (default: none); the batched engine's run ``k`` with per-run
            parameters is this model given row ``k``. Raises :class:`sim.spec.ScenarioError`
            for an unknown name or a value out of range.
    """

    def __init__(self, scenario_file: str | Path | ScenarioSpec | World = DEFAULT_SCENARIO,
                 rng: int | None = None, run: int = 0,
                 params: Mapping[str, float | int | bool] | Params | None = None) -> None:
        world = _as_world(scenario_file)
        seed = world.spec.scenario.seed if rng is None else int(rng)
        super().__init__(rng=run_seed(seed, run))
        self.world, self.seed, self.run = world, seed, run
        self.params = params if isinstance(params, Params) else Params.from_spec(world.spec,
                                                                                 params)
        if self.params.runs is not None:
            raise ValueError("AlignmentModel runs one parameter set: give scalars, not arrays")
        self.state = State.initial(world, 1, self.params)
        self._draws = Draws(seed, np.array([run]), world.n, world.months)
        p = len(world.decisions)
        self.month = 0
        self.uniform = np.zeros((1, SLOTS))
        self.prob, self.fired = np.zeros((1, p)), np.zeros((1, p), bool)
        for i, (sid, name) in enumerate(zip(world.ids, world.names, strict=True)):
            StateAgent(self, i, sid, name, [d for d in world.decisions if d.actor == i])
        usa, chn, rus = world.triad()
        dyads = {f"{a}-{b}": _dyad_reporter(world.idx(a), world.idx(b))
                 for a, b in world.key_pairs()}
        self.datacollector = mesa.DataCollector(
            model_reporters={
                **dyads,
                "step": lambda m: int(m.time),
                "date": lambda m: month_label(m.world.start, int(m.time)),
                "dittmer": lambda m: int(dittmer(m.state.x[0], usa, chn, rus)),
                "balanced_share": lambda m: float(balanced_share(m.state.x[0])),
                "x": lambda m: m.state.x[0],
                "imports": lambda m: m.state.imports[0],
                "prob": lambda m: m.prob[0],
                "fired": lambda m: m.fired[0],
            },
            agent_reporters={
                "state": "sid",
                "acted": lambda a: ";".join(a.acted),
                "deals": "deals",
                "mean_relation_out": "mean_relation_out",
                "mean_relation_in": "mean_relation_in",
                "trade_total": "trade_total",
            },
        )
        self.datacollector.collect(self)

    @classmethod
    def from_scenario(cls, scenario: str | Path | ScenarioSpec | World, rng: int | None = None,
                      run: int = 0, params: Mapping[str, float | int | bool] | None = None
                      ) -> AlignmentModel:
        """Build the model of one run of a scenario, optionally with one parameter set
        (``params={"anchor.w_ideology": 0.4, "policies.USA:tariff.threshold": 1.0}``)."""
        return cls(scenario, rng=rng, run=run, params=params)

    @property
    def agent_by_id(self) -> dict[str, StateAgent]:
        return {a.sid: a for a in self.agents}

    def step(self) -> None:
        """One month."""
        self.month = round(self.time) - 1
        w = self.world
        noise, self.uniform = self._draws.month(self.month)
        begin_month(self.state, w, self.month)
        self.prob[:], self.fired[:] = 0.0, False
        self.agents.do("decide")
        act(self.state, w, self.month, self.fired)
        evolve(self.state, w, noise)
        self.datacollector.collect(self)

    def run_to_end(self) -> AlignmentModel:
        """Step to the scenario's horizon."""
        self.run_for(self.world.months - round(self.time))
        return self


def _dyad_reporter(i: int, j: int):
    """Reporter of the mean relation ``x̄_ij`` of one dyad."""
    return lambda m: float(0.5 * (m.state.x[0, i, j] + m.state.x[0, j, i]))


def _as_world(scenario: str | Path | ScenarioSpec | World) -> World:
    """The compiled world of a scenario file, spec or world.

    Raises TypeError for anything else (e.g. a Mesa ``Scenario`` object).
    """
    if isinstance(scenario, World):
        return scenario
    if isinstance(scenario, ScenarioSpec):
        return World.from_spec(scenario)
    if not isinstance(scenario, str | Path):
        raise TypeError(f"scenario_file: got {type(scenario).__name__} {scenario!r}; expected a "
                        "scenario file path, a ScenarioSpec or a World")
    return World.from_spec(load_scenario(scenario))

