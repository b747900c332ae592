"""Results tables: a :class:`~sim.engine.Trajectory` as tidy pandas DataFrames.

- ``timeseries``: one row per run, step and directed dyad (relation, goods shipped).
- ``states``: one row per run, step and state (bloc, mean relations, trade, decisions).
- ``outcomes``: one row per run and step (Dittmer pattern, balanced share, decision
  probabilities and deals made so far).
- ``summary``: one row per run, end-of-horizon outcomes.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from sim.engine import Trajectory
from sim.landscape import blocs_from_relations
from sim.metrics import BAND_QUANTILES, DITTMER, balanced_share, blocs, dittmer


def pair_name(a: str, b: str) -> str:
    return f"{a}-{b}"


class Results:
    """Tables of one ensemble (computed on first use)."""

    def __init__(self, traj: Trajectory) -> None:
        self.traj = traj
        self.world = traj.world
        self.dates = self.world.dates()

    # ---------------------------------------------------------------- helpers
    def key_pairs(self) -> list[tuple[str, str]]:
        """The three dyads of the USA-CHN-RUS triangle."""
        return self.world.key_pairs()

    def relation(self, a: str, b: str) -> np.ndarray:
        """Mean dyad relation ``x̄_ab``, ``(R, T+1)``."""
        i, j = self.world.idx(a), self.world.idx(b)
        return 0.5 * (self.traj.x[:, :, i, j] + self.traj.x[:, :, j, i])

    def trade(self, a: str, b: str) -> np.ndarray:
        """Goods trade of the pair, both directions, USD bn/yr, ``(R, T+1)``."""
        i, j = self.world.idx(a), self.world.idx(b)
        return self.traj.imports[:, :, i, j] + self.traj.imports[:, :, j, i]

    @cached_property
    def dittmer_codes(self) -> np.ndarray:
        return dittmer(self.traj.x, *self.world.triad())

    @cached_property
    def balanced(self) -> np.ndarray:
        return balanced_share(self.traj.x)

    @cached_property
    def bloc_sides(self) -> np.ndarray:
        return blocs(self.traj.x)

    @cached_property
    def landscape_sides(self) -> np.ndarray:
        """The split landscape theory favours at the horizon, per run ``(R, N)`` (±1)."""
        return blocs_from_relations(self.traj.x[:, -1], self.world.capability)

    def split_labels(self, sides: np.ndarray) -> np.ndarray:
        """``"USA EU JPN | CHN RUS IND"`` per row of ±1 sides (the first state's side first;
        ``"... (one bloc)"`` when all are on one side)."""
        ids = np.asarray(self.world.ids)
        return np.array([" ".join(ids[row == row[0]]) + (
            " | " + " ".join(ids[row != row[0]]) if (row != row[0]).any() else " (one bloc)")
            for row in sides])

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
        tr = self.traj
        r, t1 = tr.x.shape[:2]
        step = np.tile(np.arange(t1), r)
        cols: dict[str, np.ndarray] = {
            "run": np.repeat(tr.runs, t1), "step": step, "date": np.asarray(self.dates)[step],
            "dittmer": np.asarray(DITTMER)[self.dittmer_codes.reshape(-1)],
        }
        cols.update({k: v.reshape(-1) for k, v in self.key_outcomes().items()})
        prob = np.concatenate([np.full((r, 1, tr.prob.shape[2]), np.nan), tr.prob], axis=1)
        for d in self.world.decisions:
            cols[f"p_{d.label}"] = prob[:, :, d.index].reshape(-1)
        return pd.DataFrame(cols)

    def key_outcomes(self) -> dict[str, np.ndarray]:
        """The outcomes tables and comparisons report, each ``(R, T+1)``: the triangle's
        relations and trade, the balanced share, and whether each decision was taken yet."""
        out: dict[str, np.ndarray] = {}
        for a, b in self.key_pairs():
            out[f"relation_{pair_name(a, b)}"] = self.relation(a, b)
        for a, b in self.key_pairs():
            out[f"trade_{pair_name(a, b)}"] = self.trade(a, b)
        out["balanced_share"] = self.balanced.astype(float)
        for d in self.world.decisions:
            out[f"made_{d.label}"] = (self.made[:, :, d.index] > 0).astype(float)
        return out

    @cached_property
    def summary(self) -> pd.DataFrame:
        tr, w = self.traj, self.world
        cols: dict[str, np.ndarray] = {"run": tr.runs}
        for a, b in self.key_pairs():
            cols[f"relation_{pair_name(a, b)}"] = self.relation(a, b)[:, -1]
        for a, b in self.key_pairs():
            cols[f"trade_{pair_name(a, b)}"] = self.trade(a, b)[:, -1]
        cols["dittmer"] = np.asarray(DITTMER)[self.dittmer_codes[:, -1]]
        cols["balanced_share"] = self.balanced[:, -1]
        cols["eigen_blocs"] = self.split_labels(self.bloc_sides[:, -1])
        cols["landscape_blocs"] = self.split_labels(self.landscape_sides)
        for d in w.decisions:
            cols[f"made_{d.label}"] = self.made[:, -1, d.index]
            first = np.argmax(tr.fired[:, :, d.index], axis=1).astype(float)
            first[~tr.fired[:, :, d.index].any(axis=1)] = np.nan
            cols[f"first_month_{d.label}"] = first
        return pd.DataFrame(cols)

    def median_relations(self, step: int = -1) -> pd.DataFrame:
        """Median over runs of ``x_ij`` at a step, as a labelled matrix."""
        m = np.median(self.traj.x[:, step], axis=0)
        return pd.DataFrame(m, index=self.world.ids, columns=self.world.ids)
