"""Ensembles: many runs of one scenario, with either engine, in chunks, in parallel, with a
progress bar; and streaming statistics for ensembles too large to keep.

Run ``i`` of master seed ``s`` is the same whatever the engine, the ensemble size, the chunking
or the number of workers (see :mod:`sim.seeds`): a chunk is the runs ``lo .. hi-1``, computed
anywhere (this process, a local process pool, a Dask cluster) and combined in run order, so
results are identical byte for byte however they were computed.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from tqdm.auto import tqdm

from sim.engine import Trajectory, simulate, simulate_into
from sim.world import World

Engine = Literal["auto", "mesa", "batched"]

DASK_ENV = "SIM_DASK_SCHEDULER"
"""Environment variable read for the scheduler address when ``dask="env"``."""


def pick_engine(engine: Engine, runs: int) -> Literal["mesa", "batched"]:
    """``auto``: the Mesa model for a single run, the batched engine for more."""
    if engine == "auto":
        return "mesa" if runs == 1 else "batched"
    if engine not in ("mesa", "batched"):
        raise ValueError(f"engine must be auto, mesa or batched, not {engine!r}")
    return engine


def simulate_mesa(world: World, seed: int, runs: np.ndarray | range | int) -> Trajectory:
    """Run each run through the Mesa model and read the DataCollector into a Trajectory."""
    from sim.model import AlignmentModel

    runs = np.arange(runs) if isinstance(runs, int) else np.asarray(runs)
    traj = Trajectory.empty(world, seed, runs)
    for k, run in enumerate(runs):
        model = AlignmentModel(world, rng=seed, run=int(run)).run_to_end()
        df = model.datacollector.get_model_vars_dataframe()
        traj.x[k] = np.stack(df["x"].to_list())
        traj.imports[k] = np.stack(df["imports"].to_list())
        traj.prob[k] = np.stack(df["prob"].to_list()[1:])
        traj.fired[k] = np.stack(df["fired"].to_list()[1:])
    return traj


# ----------------------------------------------------------------------------- execution
# Chunk tasks are module-level functions of picklable arguments, so they run unchanged in
# this process, in "spawn" worker processes (which import sim afresh) and on Dask workers.

_WORKER_WORLD: World | None = None


def _install_world(blob: bytes) -> None:
    """Process-pool initializer: unpickle the scenario's World once per worker."""
    global _WORKER_WORLD
    _WORKER_WORLD = pickle.loads(blob)


def _simulate_chunk(kind: str, world: World, seed: int, ids: np.ndarray) -> Trajectory:
    return (simulate_mesa if kind == "mesa" else simulate)(world, seed, ids)


def _trajectory_task(world: World | None, seed: int, ids: np.ndarray, kind: str
                     ) -> tuple[np.ndarray, ...]:
    """One chunk as plain arrays (a Trajectory would carry the World back with it)."""
    traj = _simulate_chunk(kind, world or _WORKER_WORLD, seed, ids)
    return traj.x, traj.imports, traj.prob, traj.fired


def _resolve_dask(dask: str | None) -> str | None:
    if dask is None:
        return None
    if dask == "env":
        address = os.environ.get(DASK_ENV, "").strip()
        if not address:
            raise ValueError(f'dask="env" needs the scheduler address in ${DASK_ENV}')
        return address
    return dask


def resolve_workers(workers: int | None) -> int:
    """``None``: every core; otherwise at least 1."""
    return max(1, os.cpu_count() or 1) if workers is None else max(1, int(workers))


def _ordered(task: Callable[..., Any], world: World, seed: int, chunks: Sequence[np.ndarray],
             extra: tuple[Any, ...], workers: int, dask: str | None) -> Iterator[Any]:
    """``task(world, seed, ids, *extra)`` for every chunk, yielded in chunk order.

    Locally with one worker; in a "spawn" process pool with several (the World is sent once
    per worker); on a Dask cluster when ``dask`` is its scheduler address (the World is
    scattered once). At most ``2 · workers`` chunks are in flight, so memory stays bounded
    however many chunks there are.
    """
    if dask is not None:
        from distributed import Client

        with Client(dask) as client:
            width = max(1, sum(client.ncores().values()))
            remote_world = client.scatter(world, broadcast=True)
            yield from _windowed(
                lambda ids: client.submit(task, remote_world, seed, ids, *extra, pure=False),
                chunks, 2 * width, lambda fut: fut.result())
        return
    if workers <= 1 or len(chunks) <= 1:
        for ids in chunks:
            yield task(world, seed, ids, *extra)
        return
    ctx = multiprocessing.get_context("spawn")
    blob = pickle.dumps(world)
    with ProcessPoolExecutor(max_workers=min(workers, len(chunks)), mp_context=ctx,
                             initializer=_install_world, initargs=(blob,)) as pool:
        yield from _windowed(lambda ids: pool.submit(task, None, seed, ids, *extra),
                             chunks, 2 * workers, lambda fut: fut.result())


def _windowed(submit: Callable[[np.ndarray], Any], chunks: Sequence[np.ndarray], width: int,
              result: Callable[[Any], Any]) -> Iterator[Any]:
    pending: deque = deque()
    todo = iter(chunks)
    for ids in todo:
        pending.append(submit(ids))
        if len(pending) >= width:
            break
    while pending:
        out = result(pending.popleft())
        for ids in todo:
            pending.append(submit(ids))
            break
        yield out


def _chunks(runs: int, step: int) -> list[np.ndarray]:
    return [np.arange(lo, min(runs, lo + step)) for lo in range(0, runs, step)]


def _bar(world: World, runs: int, kind: str, progress: bool, workers: int,
         dask: str | None) -> tqdm:
    where = f"dask {dask}" if dask else f"{workers} worker{'s' if workers > 1 else ''}"
    return tqdm(total=runs, unit="run", unit_scale=True, disable=not progress or runs < 2,
                desc=f"{world.spec.scenario.name} ({kind}, {where})", smoothing=0.1)


def run_ensemble(world: World, seed: int, runs: int, engine: Engine = "auto",
                 chunk: int = 1000, progress: bool = True, *, workers: int | None = 1,
                 dask: str | None = None) -> Trajectory:
    """Runs ``0 .. runs-1`` of master ``seed``, in chunks, returned as one Trajectory.

    Args:
        engine: ``auto`` (Mesa for one run, batched for more), ``mesa`` or ``batched``.
        chunk: runs per task (the Mesa engine always uses one run per task).
        progress: show a tqdm bar (runs and runs/s).
        workers: local processes (``None``: every core). Results do not depend on it.
        dask: a Dask distributed scheduler address (``"tcp://host:8786"``), or ``"env"`` to
            read it from ``$SIM_DASK_SCHEDULER``; chunks then run on that cluster (its
            workers need ``sim`` installed).

    Chunks are combined in run order whatever order they finish in. Worker processes are
    started with "spawn" (safe with threads, same on every OS): they import ``sim`` afresh
    (~1-2 s) and get the World once, pickled; a script using ``workers > 1`` must call this
    under ``if __name__ == "__main__":``.
    """
    kind = pick_engine(engine, runs)
    if runs <= 0:
        return Trajectory.empty(world, seed, np.arange(0))
    nworkers, address = resolve_workers(workers), _resolve_dask(dask)
    chunks = _chunks(runs, 1 if kind == "mesa" else max(1, chunk))
    traj = Trajectory.empty(world, seed, np.arange(runs))
    with _bar(world, runs, kind, progress, nworkers, address) as bar:
        if kind == "batched" and address is None and (nworkers <= 1 or len(chunks) <= 1):
            for ids in chunks:  # in place: no copy
                simulate_into(traj, int(ids[0]), int(ids[-1]) + 1)
                bar.update(len(ids))
            return traj
        lo = 0
        for x, imports, prob, fired in _ordered(_trajectory_task, world, seed, chunks, (kind,),
                                                nworkers, address):
            hi = lo + len(x)
            traj.x[lo:hi], traj.imports[lo:hi] = x, imports
            traj.prob[lo:hi], traj.fired[lo:hi] = prob, fired
            bar.update(hi - lo)
            lo = hi
    return traj


# ----------------------------------------------------------------------------- statistics

REL_BINS = 2001
"""Relation histogram bins: centres -1, -0.999, …, 1 (width 0.001)."""
REL_WIDTH = 2.0 / (REL_BINS - 1)
REL_ERROR = REL_WIDTH / 2
"""Largest error of a relation quantile: half a bin (0.0005)."""
TRADE_LOG10 = (-3.0, 5.0, 0.005)
"""Dyad trade histogram: log10 bins from 1e-3 to 1e5 bn/yr, 0.005 decades wide, plus a bin for
exact zero."""
TRADE_REL_ERROR = 10 ** (TRADE_LOG10[2] / 2) - 1
"""Largest relative error of a trade quantile inside the binned range (≈ 0.58%)."""
QUANTILE_CELLS = 10_000_000
"""Cap on relation histogram cells (steps × dyads × bins): 80 MB of int64 counts."""
MAX_RUNS = 8_000_000
"""Exact sums use int64 parts below 2**40: up to 2**23 runs."""

_PART = 40
_BLOCK = 2**13
_TOP = {"rel": 1, "trade": 34, "imports": 34, "prob": 1}  # |value| < 2**top


def _split(values: np.ndarray, top: int, parts: int) -> list[np.ndarray]:
    """Integer parts (held as floats) of values below ``2**top``:
    ``v = Σ_k p_k·2^(top-40(k+1)) + ε`` with ``|p_k| < 2^40`` and ``|ε| < 2^(top-40·parts)``.
    Scaling by powers of two, truncation and removing the integer part are exact."""
    if values.size and not (values.max() < 2.0 ** top and values.min() > -(2.0 ** top)):
        raise ValueError(f"value beyond the exact-sum range 2**{top}")
    s = values * 2.0 ** (_PART - top)
    out = []
    for k in range(parts):
        p = np.trunc(s) if k < parts - 1 else np.trunc(s, out=s)
        out.append(p)
        if k < parts - 1:
            s -= p
            s *= 2.0 ** _PART
    return out


def _int_sum(parts: np.ndarray) -> np.ndarray:
    """Exact sum over axis 0 of integer-valued floats below 2**40: float sums of at most 2**13
    of them stay below 2**53, so they are exact in any order; blocks are added as int64."""
    total = np.zeros(parts.shape[1:], dtype=np.int64)
    for lo in range(0, parts.shape[0], _BLOCK):
        total += parts[lo:lo + _BLOCK].sum(axis=0).astype(np.int64)
    return total


@dataclass
class _Sum:
    """Exact running sum over runs of an array of per-run values (two 40-bit parts below
    ``2**top``: resolution ``2^(top-80)``), and of the squared deviations from a fixed
    reference (run 0 of the ensemble: the shifted-data variance, free of cancellation,
    exactly 0 when all runs agree; three parts).

    Values are split into integer parts (:func:`_split`) whose sums do not depend on the order
    of addition, so sums over chunks are identical however the runs were chunked.
    """

    top: int
    sums: list = field(default_factory=list)
    squares: list = field(default_factory=list)

    @property
    def top2(self) -> int:
        return 2 * self.top + 2

    def add(self, values: np.ndarray, shift: np.ndarray | None = None) -> None:
        """Add ``values`` summed over axis 0 (and their squared deviations from ``shift``)."""
        self.sums = _add_parts(self.sums, _split(values, self.top, 2))
        if shift is not None:
            dev = values - shift
            np.square(dev, out=dev)
            self.squares = _add_parts(self.squares, _split(dev, self.top2, 3))

    def merge(self, other: _Sum) -> None:
        self.sums = [a + b for a, b in zip(self.sums, other.sums, strict=True)]
        if self.squares:
            self.squares = [a + b for a, b in zip(self.squares, other.squares, strict=True)]

    @staticmethod
    def _value(sums: list, top: int) -> np.ndarray:
        out = 0.0
        for k, s in enumerate(sums):
            out = out + np.asarray(s, float) * 2.0 ** (top - _PART * (k + 1))
        return out

    def mean(self, n: int) -> np.ndarray:
        return self._value(self.sums, self.top) / n

    def sd(self, n: int, shift: np.ndarray) -> np.ndarray:
        """Population standard deviation: ``E[(v-c)²] - (E[v]-c)²`` with ``c`` the shift."""
        dm = self.mean(n) - shift
        m2 = self._value(self.squares, self.top2) / n
        return np.sqrt(np.maximum(m2 - dm * dm, 0.0))


def _add_parts(acc: list, parts: list[np.ndarray]) -> list:
    sums = [_int_sum(p) for p in parts]
    return sums if not acc else [a + s for a, s in zip(acc, sums, strict=True)]


def _hist_index_rel(v: np.ndarray) -> np.ndarray:
    half = (REL_BINS - 1) // 2
    return np.clip(np.rint(v * half) + half, 0, REL_BINS - 1).astype(np.int64)


def _trade_bins() -> int:
    lo, hi, w = TRADE_LOG10
    return round((hi - lo) / w) + 2


def _hist_index_trade(v: np.ndarray) -> np.ndarray:
    lo, hi, w = TRADE_LOG10
    with np.errstate(divide="ignore"):
        lg = np.log10(np.maximum(v, 10.0 ** lo))
    idx = np.rint((np.minimum(lg, hi) - lo) / w).astype(np.int64) + 1
    idx[v <= 0] = 0
    return idx


def _hist(idx: np.ndarray, bins: int) -> np.ndarray:
    """Counts per (step, dyad, bin) of bin indices ``idx`` ``(R, T+1, D)`` (overwritten)."""
    _, t1, d = idx.shape
    cell = (np.arange(t1)[:, None] * d + np.arange(d)[None, :]) * bins
    idx += cell[None]
    return np.bincount(idx.ravel(), minlength=t1 * d * bins).reshape(t1, d, bins)


def _hist_quantiles(hist: np.ndarray, centres: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """numpy's default (linear) quantiles with each order statistic replaced by its bin centre.

    ``hist`` is ``(..., B)``; returns ``(Q, ...)``. Each order statistic is within half a bin
    of its centre and the interpolation is a convex combination, so the error is at most half
    a bin.
    """
    cum = np.cumsum(hist, axis=-1)
    n = cum[..., -1:]
    out = []
    for q in qs:
        h = (n[..., 0] - 1) * q
        lo = np.floor(h)
        frac = h - lo
        vals = []
        for k in (lo, np.minimum(lo + 1, n[..., 0] - 1)):
            # the order statistic k (0-based) sits in the first bin with cum > k
            b = (cum <= k[..., None]).sum(axis=-1)
            vals.append(centres[np.minimum(b, len(centres) - 1)])
        out.append(vals[0] + frac * (vals[1] - vals[0]))
    return np.stack(out)


@dataclass
class _Counts:
    """Histogram counts in transit: the non-zero cells only (a chunk of 1000 runs fills ~7%
    of the relation cells, far fewer of the trade cells)."""

    shape: tuple[int, ...]
    cells: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, hist: np.ndarray) -> _Counts:
        flat = hist.reshape(-1)
        cells = np.flatnonzero(flat)
        kind = np.int32 if flat.size < 2**31 else np.int64
        return cls(hist.shape, cells.astype(kind), flat[cells].astype(np.int64))

    def add_to(self, dense: np.ndarray) -> None:
        dense.reshape(-1)[self.cells] += self.counts  # cells are distinct


def _densify(hist: np.ndarray | _Counts) -> np.ndarray:
    if isinstance(hist, np.ndarray):
        return hist
    dense = np.zeros(hist.shape, dtype=np.int64)
    hist.add_to(dense)
    return dense


@dataclass
class _Partial:
    """Statistics of one chunk (or of several merged)."""

    runs: int
    rel: _Sum
    trade: _Sum
    imports: _Sum
    prob: _Sum
    fired: np.ndarray
    dealt: np.ndarray
    rel_hist: np.ndarray | _Counts | None  # sparse from a chunk, dense int64 once merged
    trade_hist: np.ndarray | _Counts | None
    table: Any = None  # pyarrow Table of the chunk's runs (keep_runs)

    def merge(self, other: _Partial) -> None:
        self.runs += other.runs
        for name in ("rel", "trade", "imports", "prob"):
            getattr(self, name).merge(getattr(other, name))
        self.fired = self.fired + other.fired
        self.dealt = self.dealt + other.dealt
        if self.rel_hist is not None:
            self.rel_hist = _densify(self.rel_hist)
            self.trade_hist = _densify(self.trade_hist)
            other.rel_hist.add_to(self.rel_hist)
            other.trade_hist.add_to(self.trade_hist)


def _dyads(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.triu_indices(n, 1)


def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.nonzero(~np.eye(n, dtype=bool))


def _dyad_series(x: np.ndarray, imports: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Dyad relations ``x̄_ij`` (as ``Results.relation``) and trade ``M_ij + M_ji``,
    ``(..., D)`` for the dyads ``i < j``."""
    iu, ju = _dyads(n)
    xbar = x[..., iu, ju]
    xbar += x[..., ju, iu]
    xbar *= 0.5
    trade = imports[..., iu, ju]
    trade += imports[..., ju, iu]
    return xbar, trade


def _chunk_stats(traj: Trajectory, qdyads: np.ndarray | None, keep: bool,
                 ref: tuple[np.ndarray, np.ndarray], block: int = 128) -> _Partial:
    """Reduce a chunk to its partial statistics, ``block`` runs at a time (cache-sized)."""
    n = traj.world.n
    r, t1 = traj.x.shape[:2]
    rel, tr, imp, prob = (_Sum(_TOP[k]) for k in ("rel", "trade", "imports", "prob"))
    hist = qdyads is not None
    if hist:
        rel_idx = np.empty((r, t1, len(qdyads)), dtype=np.int64)
        trade_idx = np.empty_like(rel_idx)
    for lo in range(0, r, block):
        rows = slice(lo, min(r, lo + block))
        xbar, trade = _dyad_series(traj.x[rows], traj.imports[rows], n)  # (b, T+1, D)
        rel.add(xbar, ref[0])
        tr.add(trade, ref[1])
        imp.add(traj.imports[rows])
        prob.add(traj.prob[rows])
        if hist:
            rel_idx[rows] = _hist_index_rel(xbar[:, :, qdyads])
            trade_idx[rows] = _hist_index_trade(trade[:, :, qdyads])
    fired = traj.fired.sum(axis=0, dtype=np.int64)
    dealt = np.logical_or.accumulate(traj.fired, axis=1).sum(axis=0, dtype=np.int64)
    rel_hist = trade_hist = None
    if hist:
        rel_hist = _Counts.of(_hist(rel_idx, REL_BINS))
        trade_hist = _Counts.of(_hist(trade_idx, _trade_bins()))
    table = _runs_table(traj) if keep else None
    return _Partial(r, rel, tr, imp, prob, fired, dealt, rel_hist, trade_hist, table)


def _stats_task(world: World | None, seed: int, ids: np.ndarray, kind: str,
                qdyads: np.ndarray | None, keep: bool, ref: tuple[np.ndarray, np.ndarray]
                ) -> _Partial:
    traj = _simulate_chunk(kind, world or _WORKER_WORLD, seed, ids)
    return _chunk_stats(traj, qdyads, keep, ref)


def _runs_table(traj: Trajectory) -> Any:
    """Per-run rows ``run, step, source, target, relation, trade`` (as ``Results.timeseries``:
    relation ``x[source, target]``, trade the goods shipped source → target), ordered by run,
    step, then pair."""
    import pyarrow as pa

    r, t1, n, _ = traj.x.shape
    src, tgt = _pairs(n)
    k = len(src)
    ids = pa.array(traj.world.ids, pa.string())
    return pa.table({
        "run": pa.array(np.repeat(traj.runs.astype(np.int64), t1 * k)),
        "step": pa.array(np.tile(np.repeat(np.arange(t1, dtype=np.int32), k), r)),
        "source": pa.DictionaryArray.from_arrays(
            pa.array(np.tile(src.astype(np.int32), r * t1)), ids),
        "target": pa.DictionaryArray.from_arrays(
            pa.array(np.tile(tgt.astype(np.int32), r * t1)), ids),
        "relation": pa.array(traj.x[:, :, src, tgt].reshape(-1)),
        "trade": pa.array(traj.imports[:, :, tgt, src].reshape(-1)),
    })


@dataclass
class EnsembleStats:
    """Per-month statistics of an ensemble, computed chunk by chunk (see :func:`run_stats`).

    Dyads are the pairs ``i < j`` of ``ids`` (``dyads``); the relation of a dyad is
    ``x̄_ij = (x_ij + x_ji)/2`` and its trade ``M_ij + M_ji`` (USD bn/yr), as in
    :class:`sim.results.Results`. Steps run ``0 .. T`` (``dates``); decision arrays cover the
    months ``0 .. T-1`` in which decisions are taken.
    """

    scenario: str
    seed: int
    runs: int
    ids: list[str]
    dates: list[str]
    dyads: list[tuple[str, str]]
    decisions: list[str]
    quantiles: tuple[float, ...]
    relation_mean: np.ndarray  # (T+1, D)
    relation_sd: np.ndarray  # (T+1, D)
    trade_mean: np.ndarray  # (T+1, D)
    trade_sd: np.ndarray  # (T+1, D)
    imports_mean: np.ndarray  # (T+1, N, N), imports[i, j]: i's imports from j
    prob_mean: np.ndarray  # (T, P) mean monthly probability of each decision
    fired_share: np.ndarray  # (T, P) share of runs in which the decision fired that month
    deal_share: np.ndarray  # (T, P) share of runs in which it fired in some month <= t
    quantile_dyads: list[tuple[str, str]] = field(default_factory=list)
    relation_quantiles: np.ndarray | None = None  # (Q, T+1, Dq)
    trade_quantiles: np.ndarray | None = None  # (Q, T+1, Dq)
    relation_hist: np.ndarray | None = None  # (T+1, Dq, REL_BINS) counts
    trade_hist: np.ndarray | None = None  # (T+1, Dq, bins) counts
    relation_error: float = REL_ERROR
    trade_relative_error: float = TRADE_REL_ERROR
    keep_runs: str | None = None

    def dyad(self, a: str, b: str) -> int:
        """Column of dyad ``a``-``b`` in the ``(T+1, D)`` arrays."""
        key = (a, b) if (a, b) in self.dyads else (b, a)
        return self.dyads.index(key)

    def quantile(self, q: float | Sequence[float], what: str = "relation") -> np.ndarray:
        """Any quantile(s) of ``relation`` or ``trade`` from the histograms, ``(Q, T+1, Dq)``."""
        qs = [q] if np.isscalar(q) else list(q)
        if what == "relation":
            out = _hist_quantiles(self.relation_hist, _rel_centres(), qs)
        elif what == "trade":
            out = _hist_quantiles(self.trade_hist, _trade_centres(), qs)
        else:
            raise ValueError(f"what must be 'relation' or 'trade', not {what!r}")
        return out[0] if np.isscalar(q) else out

    def to_frame(self) -> Any:
        """Long table: one row per step and dyad with means, sds and quantiles."""
        import pandas as pd

        t1, d = self.relation_mean.shape
        cols: dict[str, Any] = {
            "step": np.repeat(np.arange(t1), d),
            "date": np.repeat(np.asarray(self.dates), d),
            "source": np.tile([a for a, _ in self.dyads], t1),
            "target": np.tile([b for _, b in self.dyads], t1),
            "relation_mean": self.relation_mean.ravel(),
            "relation_sd": self.relation_sd.ravel(),
            "trade_mean": self.trade_mean.ravel(),
            "trade_sd": self.trade_sd.ravel(),
        }
        frame = pd.DataFrame(cols)
        if self.relation_quantiles is not None:
            pos = [self.dyads.index(p) for p in self.quantile_dyads]
            for name, arr in (("relation", self.relation_quantiles),
                              ("trade", self.trade_quantiles)):
                for q, a in zip(self.quantiles, arr, strict=True):
                    full = np.full((t1, d), np.nan)
                    full[:, pos] = a
                    frame[f"{name}_q{q:g}"] = full.ravel()
        return frame


def _rel_centres() -> np.ndarray:
    half = (REL_BINS - 1) // 2
    return (np.arange(REL_BINS) - half) / half


def _trade_centres() -> np.ndarray:
    lo, _, w = TRADE_LOG10
    k = np.arange(_trade_bins())
    return np.where(k == 0, 0.0, 10.0 ** (lo + (k - 1) * w))


def _quantile_dyads(world: World, dyads: Sequence[tuple[str, str]] | None) -> np.ndarray:
    """Columns (among all dyads) that get histograms."""
    iu, ju = _dyads(world.n)
    if dyads is not None:
        cols = []
        for a, b in dyads:
            i, j = sorted((world.idx(a), world.idx(b)))
            cols.append(int(np.flatnonzero((iu == i) & (ju == j))[0]))
        return np.array(cols, dtype=np.int64)
    cells = (world.months + 1) * len(iu) * REL_BINS
    if cells <= QUANTILE_CELLS:
        return np.arange(len(iu))
    from sim.model import triad

    tri = sorted(triad(world))
    pairs = [(tri[0], tri[1]), (tri[0], tri[2]), (tri[1], tri[2])]
    return np.array([int(np.flatnonzero((iu == i) & (ju == j))[0]) for i, j in pairs])


def run_stats(world: World, seed: int, runs: int, engine: Engine = "batched",
              chunk: int = 1000, workers: int | None = 1, dask: str | None = None,
              quantiles: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95),
              keep_runs: str | Path | None = None, progress: bool = False,
              dyads: Sequence[tuple[str, str]] | None = None) -> EnsembleStats:
    """Per-month statistics of runs ``0 .. runs-1`` without holding all runs in memory.

    Each chunk of runs is simulated (locally, in ``workers`` processes or on a Dask cluster,
    as :func:`run_ensemble`) and reduced to fixed-size partial statistics; partials are merged
    in run order. Memory is a few chunks' trajectories plus the fixed-size accumulators,
    whatever ``runs`` is.

    Means, standard deviations and shares combine exactly: values are summed as integers
    (each value split into two int64 parts, exact to ``2^-79`` of the value range), so the
    result does not depend on the chunk size, the number of workers or the completion order,
    and means equal the full-ensemble means to ~1e-16. Standard deviations use the squared
    deviations from run 0 (shifted data: no cancellation; exactly 0 when all runs agree).

    Quantiles: exact streaming quantiles need all values (100k runs × 73 months × 15 dyads
    is 110 million numbers), so values are counted in fixed histograms that add exactly
    across chunks (deterministic whatever the chunking). Each order statistic is replaced by
    its bin centre in numpy's default (linear) quantile, so the error against
    ``np.quantile`` of the full ensemble is at most half a bin:

    - relations ``x̄_ij``: 2001 bins of width 0.001 on [-1, 1]: error ≤ 0.0005;
    - dyad trade: log10 bins of 0.005 decades on [1e-3, 1e5] bn/yr plus an exact-zero bin:
      relative error ≤ 0.58% inside that range (values outside are clamped to it).

    Histograms cover every dyad while steps × dyads × 2001 ≤ 10 million cells (up to 12
    states over 72 months), else the USA–CHN–RUS triangle; ``dyads`` picks them explicitly. Any
    other quantile is available afterwards from :meth:`EnsembleStats.quantile`.

    ``keep_runs``: also write every run's rows ``run, step, source, target, relation,
    trade`` (directed pairs; relation ``x[source, target]``, trade the goods shipped
    source → target, as ``Results.timeseries``) to this Parquet file, chunk by chunk,
    ordered by run then step.
    """
    if not 0 < runs <= MAX_RUNS:
        raise ValueError(f"runs must be in 1..{MAX_RUNS}, not {runs}")
    qs = tuple(float(q) for q in quantiles)
    if any(not 0 <= q <= 1 for q in qs):
        raise ValueError("quantiles must lie in [0, 1]")
    kind = pick_engine(engine, runs)
    nworkers, address = resolve_workers(workers), _resolve_dask(dask)
    qcols = _quantile_dyads(world, dyads)
    chunks = _chunks(runs, max(1, chunk))
    first = simulate(world, seed, [0])
    ref = tuple(a[0] for a in _dyad_series(first.x, first.imports, world.n))
    writer, total = None, None
    try:
        with _bar(world, runs, kind, progress, nworkers, address) as bar:
            extra = (kind, qcols, keep_runs is not None, ref)
            for part in _ordered(_stats_task, world, seed, chunks, extra, nworkers, address):
                if part.table is not None:
                    if writer is None:
                        import pyarrow.parquet as pq

                        writer = pq.ParquetWriter(str(keep_runs), part.table.schema)
                    writer.write_table(part.table)
                    part.table = None
                if total is None:
                    total = part
                    if total.rel_hist is not None:
                        total.rel_hist = _densify(total.rel_hist)
                        total.trade_hist = _densify(total.trade_hist)
                else:
                    total.merge(part)
                bar.update(part.runs)
    finally:
        if writer is not None:
            writer.close()
    return _finish(world, seed, total, qs, qcols, keep_runs, ref)


def _finish(world: World, seed: int, total: _Partial, qs: tuple[float, ...],
            qcols: np.ndarray, keep_runs: str | Path | None,
            ref: tuple[np.ndarray, np.ndarray]) -> EnsembleStats:
    n = total.runs
    iu, ju = _dyads(world.n)
    ids = world.ids
    dyads = [(ids[i], ids[j]) for i, j in zip(iu, ju, strict=True)]
    rq = tq = None
    if total.rel_hist is not None:
        rq = _hist_quantiles(total.rel_hist, _rel_centres(), qs)
        tq = _hist_quantiles(total.trade_hist, _trade_centres(), qs)
    return EnsembleStats(
        scenario=world.spec.scenario.name, seed=int(seed), runs=n, ids=list(ids),
        dates=world.dates(), dyads=dyads, decisions=[d.label for d in world.decisions],
        quantiles=qs, relation_mean=total.rel.mean(n), relation_sd=total.rel.sd(n, ref[0]),
        trade_mean=total.trade.mean(n), trade_sd=total.trade.sd(n, ref[1]),
        imports_mean=total.imports.mean(n), prob_mean=total.prob.mean(n),
        fired_share=total.fired / n, deal_share=total.dealt / n,
        quantile_dyads=[dyads[c] for c in qcols], relation_quantiles=rq, trade_quantiles=tq,
        relation_hist=total.rel_hist, trade_hist=total.trade_hist,
        keep_runs=None if keep_runs is None else str(keep_runs))


__all__ = ["DASK_ENV", "Engine", "EnsembleStats", "pick_engine", "resolve_workers",
           "run_ensemble", "run_stats", "simulate_mesa"]
