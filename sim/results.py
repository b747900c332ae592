"""Results tables: a :class:`~sim.engine.Trajectory` as tidy pandas DataFrames.

- ``timeseries``: one row per run, step and directed dyad (relation, goods shipped).
- ``states``: one row per run, step and state (bloc, mean relations, trade, decisions).
- ``outcomes``: one row per run and step, a column per registered outcome
  (:func:`outcomes_columns`: Dittmer pattern, triangle relations and trade, balanced share,
  frustration, decisions taken and their monthly probabilities).
- ``summary``: one row per run, registered outcomes at the horizon (:func:`summary_columns`).

Every outcome column is a registered outcome of :mod:`sim.outcomes` (its ``column`` name).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from sim import outcomes as oc
from sim.engine import Trajectory
from sim.landscape import blocs_from_relations
from sim.metrics import BAND_QUANTILES, blocs, dittmer
from sim.world import World


def pair_name(a: str, b: str) -> str:
    return f"{a}-{b}"


def _triangle_names(world: World, kinds: tuple[str, ...]) -> list[str]:
    pairs = [pair_name(a, b) for a, b in world.key_pairs()]
    return [f"{k}:{p}" for k in kinds for p in pairs]


def outcomes_columns(world: World) -> list[str]:
    """Outcomes of the ``outcomes`` table, every step: the triangle's Dittmer pattern,
    relations and trade, the balanced share, the frustration index, each decision taken so
    far and its monthly probability."""
    labels = [d.label for d in world.decisions]
    return ([oc.triangle_outcome(world).name]
            + _triangle_names(world, ("relation", "trade"))
            + ["balanced_share", "frustration"]
            + [f"decision:{lab}" for lab in labels]
            + [f"decision_probability:{lab}" for lab in labels])


def summary_columns(world: World) -> list[str]:
    """Outcomes of the ``summary`` table, at the horizon: the triangle's relations, trade and
    Dittmer pattern, the balanced share, the frustration index, the two bloc splits, and per
    decision whether and how often it was taken and the month it first was."""
    return (_triangle_names(world, ("relation", "trade"))
            + [oc.triangle_outcome(world).name, "balanced_share", "frustration",
               "blocs:eigen", "blocs:landscape"]
            + [f"{k}:{d.label}" for d in world.decisions
               for k in ("decision", "decision_count", "decision_month")])


def key_outcome_names(world: World) -> list[str]:
    """The outcomes comparisons report (:meth:`Results.key_outcomes`)."""
    return oc.key_names(world) + [f"decision:{d.label}" for d in world.decisions]


class Results:
    """Tables of one ensemble (computed on first use)."""

    def __init__(self, traj: Trajectory) -> None:
        self.traj = traj
        self.world = traj.world
        self.dates = self.world.dates()
        self._values: dict[str, np.ndarray] = {}

    def value(self, name: str | oc.Outcome, steps: np.ndarray | list[int] | None = None
              ) -> np.ndarray:
        """A registered outcome (:func:`sim.outcomes.parse`) per run and step ``(R, T+1)``, or
        at ``steps``; kept for the next call when all steps are asked for. Raises
        :class:`sim.outcomes.OutcomeError` for a bad name."""
        o = oc.parse(name, self.world)
        if steps is not None:
            return o.values(self.traj, steps)
        if o.name not in self._values:
            self._values[o.name] = o.values(self.traj)
        return self._values[o.name]

    # ---------------------------------------------------------------- helpers
    def key_pairs(self) -> list[tuple[str, str]]:
        """The three dyads of the USA-CHN-RUS triangle."""
        return self.world.key_pairs()

    def relation(self, a: str, b: str) -> np.ndarray:
        """Mean dyad relation ``x̄_ab``, ``(R, T+1)`` (outcome ``relation:a-b``)."""
        return self.value(f"relation:{a}-{b}")

    def trade(self, a: str, b: str) -> np.ndarray:
        """Goods trade of the pair, both directions, USD bn/yr, ``(R, T+1)`` (``trade:a-b``)."""
        return self.value(f"trade:{a}-{b}")

    @cached_property
    def dittmer_codes(self) -> np.ndarray:
        return dittmer(self.traj.x, *self.world.triad())

    @cached_property
    def balanced(self) -> np.ndarray:
        """Share of balanced triads among closed triads, ``(R, T+1)`` (``balanced_share``)."""
        return self.value("balanced_share")

    @cached_property
    def bloc_sides(self) -> np.ndarray:
        return blocs(self.traj.x)

    @cached_property
    def landscape_sides(self) -> np.ndarray:
        """The split landscape theory favours at the horizon, per run ``(R, N)`` (±1)."""
        return blocs_from_relations(self.traj.x[:, -1], self.world.capability)

    def split_labels(self, sides: np.ndarray) -> np.ndarray:
        """``"USA EU JPN | CHN RUS IND"`` per row of ±1 sides (:func:`oc.split_labels`)."""
        return oc.split_labels(sides, self.world.ids)

    @cached_property
    def made(self) -> np.ndarray:
        """Deals (decisions) made by step, cumulative, ``(R, T+1, P)``."""
        r, _, p = self.traj.fired.shape
        return np.concatenate([np.zeros((r, 1, p), int), np.cumsum(self.traj.fired, axis=1)], 1)

    # ---------------------------------------------------------------- what figures read
    # (sim.ensemble.EnsembleStats offers the same methods for streamed ensembles)
    @property
    def runs(self) -> int:
        return int(self.traj.x.shape[0])

    @property
    def draw(self) -> np.ndarray:
        """The parameter draw of each run, ``(R,)`` ints (all 0 when parameters are fixed)."""
        draw = getattr(self.traj, "draw", None)
        return np.zeros(self.runs, dtype=np.int64) if draw is None else np.asarray(draw)

    def relation_bands(self, a: str, b: str) -> np.ndarray:
        """5%, 25%, 50%, 75% and 95% quantiles over runs of ``x̄_ab``, ``(5, T+1)``."""
        return np.quantile(self.relation(a, b), BAND_QUANTILES, axis=0)

    def trade_bands(self, a: str, b: str) -> np.ndarray:
        """The same quantiles of the pair's trade (USD bn/yr), ``(5, T+1)``."""
        return np.quantile(self.trade(a, b), BAND_QUANTILES, axis=0)

    def deal_share(self) -> np.ndarray:
        """Share of runs in which each decision has been taken by each step, ``(T+1, P)``."""
        return (self.made > 0).mean(axis=0)

    def mean_prob(self) -> np.ndarray:
        """Mean monthly probability of each decision, ``(T, P)``."""
        return self.traj.prob.mean(axis=0)

    # ---------------------------------------------------------------- tables
    @cached_property
    def timeseries(self) -> pd.DataFrame:
        tr, ids = self.traj, self.world.ids
        r, t1, n, _ = tr.x.shape
        src, tgt = np.nonzero(~np.eye(n, dtype=bool))
        run = np.repeat(tr.runs, t1 * len(src))
        step = np.tile(np.repeat(np.arange(t1), len(src)), r)
        return pd.DataFrame({
            "run": run, "step": step, "date": np.asarray(self.dates)[step],
            "source": np.tile(np.asarray(ids)[src], r * t1),
            "target": np.tile(np.asarray(ids)[tgt], r * t1),
            "relation": tr.x[:, :, src, tgt].reshape(-1),
            "trade": tr.imports[:, :, tgt, src].reshape(-1),  # goods shipped source -> target
        })

    @cached_property
    def states(self) -> pd.DataFrame:
        tr, w = self.traj, self.world
        r, t1, n, _ = tr.x.shape
        off = ~np.eye(n, dtype=bool)
        out_rel = (tr.x * off).sum(-1) / (n - 1)
        in_rel = (tr.x * off).sum(-2) / (n - 1)
        trade_total = tr.imports.sum(-1) + tr.imports.sum(-2)
        acted = np.full((r, t1, n), "", dtype=object)
        deals = np.zeros((r, t1, n), int)
        for d in w.decisions:
            fired = np.concatenate([np.zeros((r, 1), bool), tr.fired[:, :, d.index]], axis=1)
            lab = np.where(fired, d.label.split(":", 1)[1], "")
            cur = acted[:, :, d.actor]
            acted[:, :, d.actor] = np.where((cur != "") & (lab != ""), cur + ";" + lab, cur + lab)
            deals[:, :, d.actor] += self.made[:, :, d.index]
        step = np.tile(np.repeat(np.arange(t1), n), r)
        return pd.DataFrame({
            "run": np.repeat(tr.runs, t1 * n), "step": step, "date": np.asarray(self.dates)[step],
            "state": np.tile(np.asarray(w.ids), r * t1),
            "bloc": self.bloc_sides.reshape(-1),
            "mean_relation_out": out_rel.reshape(-1), "mean_relation_in": in_rel.reshape(-1),
            "trade_total": trade_total.reshape(-1),
            "decisions": acted.reshape(-1), "decisions_so_far": deals.reshape(-1),
        })

    @cached_property
    def outcomes(self) -> pd.DataFrame:
        """One row per run and step: ``run, draw, step, date`` and a column per outcome of
        :func:`outcomes_columns` (named by its ``column``)."""
        tr = self.traj
        r, t1 = tr.x.shape[:2]
        step = np.tile(np.arange(t1), r)
        cols: dict[str, np.ndarray] = {
            "run": np.repeat(tr.runs, t1), "draw": np.repeat(self.draw, t1), "step": step,
            "date": np.asarray(self.dates)[step]}
        for name in outcomes_columns(self.world):
            o = oc.parse(name)
            cols[o.column] = np.asarray(self.value(o)).reshape(-1)
        return pd.DataFrame(cols)

    def key_outcomes(self) -> dict[str, np.ndarray]:
        """The outcomes comparisons report (:func:`key_outcome_names`) by table column, each
        ``(R, T+1)``: the triangle's relations and trade, the balanced share, and whether each
        decision was taken yet."""
        return {oc.parse(n).column: self.value(n) for n in key_outcome_names(self.world)}

    @cached_property
    def summary(self) -> pd.DataFrame:
        """One row per run: ``run``, ``draw`` (its parameter draw) and the outcomes of
        :func:`summary_columns` at the horizon (named by their ``column``)."""
        horizon = [len(self.dates) - 1]
        cols: dict[str, np.ndarray] = {"run": self.traj.runs, "draw": self.draw}
        for name in summary_columns(self.world):
            o = oc.parse(name)
            cols[o.column] = (self._values[o.name][:, -1] if o.name in self._values
                              else self.value(o, horizon)[:, 0])
        return pd.DataFrame(cols)

    def median_relations(self, step: int = -1) -> pd.DataFrame:
        """Median over runs of ``x_ij`` at a step, as a labelled matrix."""
        m = np.median(self.traj.x[:, step], axis=0)
        return pd.DataFrame(m, index=self.world.ids, columns=self.world.ids)
