"""Mesa agents: one per state. Thin: each decides on its own policies by calling
:func:`sim.policies.probability` on the model's state, and keeps its own bookkeeping."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.policies import probability

if TYPE_CHECKING:  # pragma: no cover
    from sim.model import AlignmentModel
    from sim.world import Decision


class StateAgent(mesa.Agent):
    """A state (or group of states such as the EU)."""

    model: AlignmentModel

    def __init__(self, model: AlignmentModel, index: int, sid: str, name: str,
                 decisions: list[Decision]) -> None:
        super().__init__(model)
        self.index, self.sid, self.name = index, sid, name
        self.decisions = decisions
        self.acted: list[str] = []  # labels of decisions taken this month
        self.deals = 0  # decisions taken so far

    def decide(self) -> None:
        """Weigh each of this state's policies; record which fire this month."""
        m = self.model
        self.acted = []
        for d in self.decisions:
            p = probability(m.state, m.world, d, m.month)
            m.prob[:, d.index] = p
            if m.uniform[0, d.index] < p[0]:
                m.fired[:, d.index] = True
                self.acted.append(d.label)
        self.deals += len(self.acted)

    # reporters -------------------------------------------------------------------------
    @property
    def mean_relation_out(self) -> float:
        x = self.model.state.x[0, self.index]
        return float(np.delete(x, self.index).mean())

    @property
    def mean_relation_in(self) -> float:
        x = self.model.state.x[0, :, self.index]
        return float(np.delete(x, self.index).mean())

    @property
    def trade_total(self) -> float:
        m = self.model.state.imports[0]
        return float(m[self.index].sum() + m[:, self.index].sum())
