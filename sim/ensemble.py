"""Ensembles: many runs of one scenario in chunks, here, in local processes or on Dask
(:func:`run_ensemble`), and streaming statistics of ensembles too large to keep (:func:`run_stats`).

Run ``i`` of master seed ``s`` is the same whatever the engine, the ensemble size, the chunking
or the workers (see :mod:`sim.seeds`), and chunks are combined in run order, so results are
identical byte for byte however they were computed.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from tqdm.auto import tqdm

from sim.engine import (
    Backend,
    Trajectory,
    advance,
    batch_size,
    numba_backend,
    simulate,
    simulate_into,
)
from sim.metrics import BAND_QUANTILES
from sim.params import Params, RunParams, resolve
from sim.world import World

if TYPE_CHECKING:
    from sim.chunks import ChunkStore

Engine = Literal["auto", "mesa", "batched", "numba"]
ENGINES: tuple[str, ...] = ("auto", "mesa", "batched", "numba")
"""``batched``: the batched engine on numpy (the reference); ``numba``: the same engine on the
compiled backend (:mod:`sim.numba_engine`, ``pip install sim[fast]``), equal to it within
1e-12 with every decision the same, not bit for bit."""
BATCHED_ENGINES: tuple[str, ...] = ("batched", "numba")
"""The engines that run the batched engine (its numpy or numba backend)."""

DASK_ENV = "SIM_DASK_SCHEDULER"
"""Environment variable read for the scheduler address when ``dask="env"``."""

CHUNK = 1000
"""Most runs per task when no ``chunk`` is given (read at call time)."""

PRELOAD = ["sim.preload"]
"""Modules the forkserver imports once; each worker is forked from it with them loaded
(:mod:`sim.preload`: ``sim.ensemble``, and numba with the compiled kernel when installed)."""


def default_chunk(runs: int, workers: int, unit: int = 1) -> int:
    """Runs per task: :data:`CHUNK` for one worker; with several, small enough that each
    worker gets about three tasks (so no worker idles at the end), in whole ``unit``s."""
    size = CHUNK if workers <= 1 else min(CHUNK, -(-runs // (3 * workers)))
    return max(unit, -(-size // unit) * unit)


def pool_context() -> multiprocessing.context.BaseContext:
    """"forkserver" with ``sim`` (and numba's kernel, when installed) preloaded where the
    platform has it (Linux, macOS): a worker starts in milliseconds instead of importing
    ``sim`` and numba and loading the kernel afresh; else "spawn"."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def start_pool(workers: int, dask: str | None, chunks: int) -> None:
    """Start the forkserver now if a local pool of ``workers`` will run ``chunks`` tasks, so
    that its preload (:data:`PRELOAD`: ``sim``, numba and the kernel, ~1 s) runs while this
    process prepares the ensemble, not when the first task is sent. Nothing for one worker or
    one task, on Dask, or without forkserver."""
    if (workers > 1 and chunks > 1 and dask is None
            and pool_context().get_start_method() == "forkserver"):
        from multiprocessing import forkserver

        forkserver.ensure_running()


def pick_engine(engine: Engine, runs: int) -> Literal["mesa", "batched", "numba"]:
    """``auto``: the Mesa model for a single run, the batched engine for more. Raises
    ValueError for an unknown engine and :class:`~sim.engine.BackendError` for ``numba``
    without numba installed."""
    if engine == "auto":
        return "mesa" if runs == 1 else "batched"
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if engine == "numba":
        numba_backend()
    return engine


def backend_of(kind: str) -> Backend:
    """The batched engine's backend for engine ``kind`` (one of :data:`BATCHED_ENGINES`)."""
    return "numba" if kind == "numba" else "numpy"


def simulate_mesa(world: World, seed: int, runs: np.ndarray | range | int,
                  params: Params | Mapping[str, Any] | None = None) -> Trajectory:
    """Run each run through the Mesa model and read the DataCollector into a Trajectory
    (``params`` as in :func:`sim.engine.simulate`: run ``runs[k]`` gets row ``k``)."""
    from sim.model import AlignmentModel  # Mesa is imported only where the Mesa engine runs

    runs = np.arange(runs) if isinstance(runs, int) else np.asarray(runs)
    par = None if params is None else resolve(world.spec, params, len(runs))
    traj = Trajectory.empty(world, seed, runs, par)
    for k, run in enumerate(runs):
        model = AlignmentModel(world, rng=seed, run=int(run),
                               params=None if par is None else par.row(k)).run_to_end()
        df = model.datacollector.get_model_vars_dataframe()
        traj.x[k] = np.stack(df["x"].to_list())
        traj.imports[k] = np.stack(df["imports"].to_list())
        traj.prob[k] = np.stack(df["prob"].to_list()[1:])
        traj.fired[k] = np.stack(df["fired"].to_list()[1:])
    return traj


# ----------------------------------------------------------------------------- execution
# Chunk tasks are module-level functions of picklable arguments, so they run unchanged in
# this process, in worker processes (forked from a forkserver with sim loaded, or "spawn") and
# on Dask workers.

_WORKER_WORLD: World | None = None


def _install_world(blob: bytes) -> None:
    """Process-pool initializer: unpickle the scenario's World once per worker."""
    global _WORKER_WORLD
    _WORKER_WORLD = pickle.loads(blob)


def _simulate_chunk(kind: str, world: World, seed: int, ids: np.ndarray,
                    params: Params | None = None) -> Trajectory:
    """Runs ``ids`` with the ``mesa``, ``batched`` or ``numba`` engine (``params``: those runs'
    rows)."""
    if kind == "mesa":
        return simulate_mesa(world, seed, ids, params)
    return simulate(world, seed, ids, params=params, backend=backend_of(kind))


def _trajectory_task(world: World | None, seed: int, ids: np.ndarray, kind: str,
                     params: Params | None = None) -> tuple[np.ndarray, ...]:
    """One chunk as plain arrays (a Trajectory would carry the World back with it)."""
    traj = _simulate_chunk(kind, world or _WORKER_WORLD, seed, ids, params)
    return traj.x, traj.imports, traj.prob, traj.fired


def _rows(params: Params | RunParams | None, ids: np.ndarray) -> Params | None:
    """The parameters of runs ``ids`` (run ``i`` is row ``i`` of an ensemble's parameters)."""
    return None if params is None else params.take(ids)


def _run_params(world: World, params: Params | RunParams | Mapping[str, Any] | None, runs: int
                ) -> Params | RunParams | None:
    """An ensemble's per-run parameters as :class:`Params` (None: the scenario's)."""
    return None if params is None else resolve(world.spec, params, runs)


def _draw_index(draw: np.ndarray | None, runs: int) -> np.ndarray:
    """The parameter draw of each run, ``(runs,)`` ints (all 0 if None). Raises ValueError for
    another shape."""
    if draw is None:
        return np.zeros(runs, dtype=np.int64)
    out = np.asarray(draw, dtype=np.int64)
    if out.shape != (runs,):
        raise ValueError(f"draw has shape {out.shape}; expected one draw index per run ({runs},)")
    return out


def _resolve_dask(dask: str | None) -> str | None:
    """The scheduler address (``"env"``: read from ``$SIM_DASK_SCHEDULER``), or None."""
    if dask != "env":
        return dask
    address = os.environ.get(DASK_ENV, "").strip()
    if not address:
        raise ValueError(f'dask="env" needs the scheduler address in ${DASK_ENV}')
    return address


def resolve_workers(workers: int | None) -> int:
    """``None``: every core; otherwise at least 1."""
    return max(1, os.cpu_count() or 1) if workers is None else max(1, int(workers))


def _ordered(task: Callable[..., Any], world: World, seed: int, chunks: Sequence[np.ndarray],
             extra: tuple[Any, ...], workers: int, dask: str | None,
             params: Params | RunParams | None = None) -> Iterator[Any]:
    """``task(world, seed, ids, *extra, params=rows)`` for every chunk, yielded in chunk order:
    here with one worker, in a process pool with several (:func:`pool_context`; the World sent
    once per worker), or on the Dask scheduler ``dask`` (the World scattered once); ``rows`` are the
    chunk's rows of ``params`` (only they travel). At most ``2 · workers`` chunks are in
    flight, so memory stays bounded however many chunks there are."""
    if not chunks:
        return
    if dask is not None:
        from distributed import Client

        with Client(dask) as client:
            width = max(1, sum(client.ncores().values()))
            remote_world = client.scatter(world, broadcast=True)
            yield from _windowed(
                lambda ids: client.submit(task, remote_world, seed, ids, *extra, pure=False,
                                          params=_rows(params, ids)),
                chunks, 2 * width)
        return
    if workers <= 1 or len(chunks) <= 1:
        for ids in chunks:
            yield task(world, seed, ids, *extra, params=_rows(params, ids))
        return
    ctx = pool_context()
    blob = pickle.dumps(world)
    with ProcessPoolExecutor(max_workers=min(workers, len(chunks)), mp_context=ctx,
                             initializer=_install_world, initargs=(blob,)) as pool:
        yield from _windowed(lambda ids: pool.submit(task, None, seed, ids, *extra,
                                                     params=_rows(params, ids)),
                             chunks, 2 * workers)


def _windowed(submit: Callable[[np.ndarray], Any], chunks: Sequence[np.ndarray], width: int
              ) -> Iterator[Any]:
    """Results of the futures ``submit(ids)`` of every chunk, in order, ``width`` in flight."""
    todo = iter(chunks)
    pending = deque(submit(ids) for ids in islice(todo, width))
    while pending:
        out = pending.popleft().result()
        pending.extend(submit(ids) for ids in islice(todo, 1))
        yield out


def _chunks(runs: int, step: int) -> list[np.ndarray]:
    """Run indices ``0 .. runs-1`` in chunks of ``step``."""
    return [np.arange(lo, min(runs, lo + step)) for lo in range(0, runs, step)]


def _bar(world: World, runs: int, kind: str, progress: bool, workers: int,
         dask: str | None, initial: int = 0) -> tqdm:
    """A tqdm progress bar over the runs (disabled unless ``progress``)."""
    where = f"dask {dask}" if dask else f"{workers} worker{'s' if workers > 1 else ''}"
    return tqdm(total=runs, initial=initial, unit="run", unit_scale=True,
                disable=not progress or runs < 2,
                desc=f"{world.spec.scenario.name} ({kind}, {where})", smoothing=0.1)


def _piece(prefix: str, index: int) -> str:
    """Name of chunk ``index``'s piece in a :class:`~sim.chunks.ChunkStore`."""
    return f"{prefix}-{index:06d}"


def _stored_chunks(store: ChunkStore | None, chunks: Sequence[np.ndarray],
                   settings: dict[str, Any]) -> dict[int, dict[str, np.ndarray]]:
    """The chunks a store holds for these settings (none without a store or for one chunk)."""
    if store is None or len(chunks) <= 1:
        return {}
    store.begin(settings)
    done = {}
    for i in sorted(store.names("chunk")):
        arrays = store.load(_piece("chunk", i)) if i < len(chunks) else None
        if arrays is not None and len(arrays.get("x", ())) == len(chunks[i]):
            done[i] = arrays
    store.resumed(sum(len(chunks[i]) for i in done), sum(len(c) for c in chunks))
    return done


def run_ensemble(world: World, seed: int, runs: int, engine: Engine = "auto",
                 chunk: int | None = None, progress: bool = True, *, workers: int | None = 1,
                 dask: str | None = None, store: ChunkStore | None = None,
                 params: Params | Mapping[str, Any] | None = None,
                 draw: np.ndarray | None = None) -> Trajectory:
    """Runs ``0 .. runs-1`` of master ``seed``, in chunks, returned as one Trajectory.

    ``engine``: ``auto`` (Mesa for one run, batched for more), ``mesa``, ``batched`` or
    ``numba`` (:data:`ENGINES`);
    ``chunk``: runs per task (default :data:`CHUNK`; Mesa: always one); ``progress``: a tqdm
    bar; ``workers``: local processes (``None``: every core); ``dask``: a Dask scheduler address
    (``tcp://host:8786``) or ``"env"`` to read it from ``$SIM_DASK_SCHEDULER`` (its workers need
    ``sim``); ``store``: a :class:`~sim.chunks.ChunkStore` where each finished chunk is saved
    and from which saved chunks are read back instead of run again (with more than one chunk).
    ``params``: parameter values replacing the scenario's (:mod:`sim.params`), each a scalar or
    an array of ``runs`` values: run ``i`` always gets row ``i``, whatever the chunks or workers.
    ``draw``: the parameter draw of each run, ``(runs,)`` (kept as ``Trajectory.draw``; default
    all 0: :mod:`sim.uncertainty`). Results do not depend on chunks, workers or resuming.
    Workers are forked from a forkserver that has imported ``sim`` once (:func:`pool_context`); as
    with "spawn", the main module is imported in each worker, so a script using
    ``workers > 1`` must call this under ``if __name__ == "__main__":``.
    """
    kind = pick_engine(engine, runs)
    if runs <= 0:
        return Trajectory.empty(world, seed, np.arange(0))
    par = _run_params(world, params, runs)
    if isinstance(par, RunParams):  # a trajectory keeps every run's row
        par = par.full()
    draw = _draw_index(draw, runs)
    nworkers, address = resolve_workers(workers), _resolve_dask(dask)
    chunk = chunk or (store.saved_chunk() if store is not None else None)
    step = 1 if kind == "mesa" else max(1, default_chunk(runs, nworkers) if chunk is None
                                        else chunk)
    chunks = _chunks(runs, step)
    start_pool(nworkers, address, len(chunks))
    traj = Trajectory.empty(world, seed, np.arange(runs), par, draw)
    done = _stored_chunks(store, chunks, {"mode": "runs", "engine": kind, "chunk": step,
                                          "runs": runs, "seed": int(seed),
                                          **({} if par is None else {"params": par.digest()})})
    for i, arrays in done.items():
        lo, hi = int(chunks[i][0]), int(chunks[i][-1]) + 1
        for name in ("x", "imports", "prob", "fired"):
            getattr(traj, name)[lo:hi] = arrays[name]
    todo = [i for i in range(len(chunks)) if i not in done]
    saving = store is not None and len(chunks) > 1
    finished = sum(len(chunks[i]) for i in done)

    def keep(i: int, lo: int, hi: int) -> None:
        nonlocal finished
        if saving:
            store.save(_piece("chunk", i), {name: getattr(traj, name)[lo:hi]
                                            for name in ("x", "imports", "prob", "fired")})
        finished += hi - lo
        if saving:
            store.progressed(finished)

    nworkers = min(nworkers, max(1, len(todo)))  # no more processes than chunks
    with _bar(world, runs, kind, progress, nworkers, address, finished) as bar:
        if kind != "mesa" and address is None and (nworkers <= 1 or len(todo) <= 1):
            for i in todo:  # in place: no copy
                lo, hi = int(chunks[i][0]), int(chunks[i][-1]) + 1
                simulate_into(traj, lo, hi, backend=backend_of(kind))
                keep(i, lo, hi)
                bar.update(hi - lo)
            return traj
        results = _ordered(_trajectory_task, world, seed, [chunks[i] for i in todo], (kind,),
                           nworkers, address, par)
        for i, (x, imports, prob, fired) in zip(todo, results, strict=True):
            lo, hi = int(chunks[i][0]), int(chunks[i][-1]) + 1
            traj.x[lo:hi], traj.imports[lo:hi] = x, imports
            traj.prob[lo:hi], traj.fired[lo:hi] = prob, fired
            keep(i, lo, hi)
            bar.update(hi - lo)
    return traj


# ----------------------------------------------------------------------------- statistics
# run_stats reduces runs in blocks of stats_block(runs) runs aligned at run 0; a task covers
# whole blocks. A block's float sums come from its own runs only and are added up in block
# order, so the totals are the same floats however the runs were chunked or spread over
# workers. Counts (firings, histograms) are integers: they add up exactly in any order.

STATS_BLOCK = 250
"""Most runs in a statistics block (:func:`stats_block`)."""
SAVE_SECONDS = 10.0
"""With a chunk store, :func:`run_stats` saves its statistics after a chunk at most this often
(and after the last): a save writes the whole state (~30 MB of histograms for 6 states over 72
months, ~70 ms), so saving after every 1,000-run chunk would cost more than the runs.
An interruption loses at most this many seconds of runs (read at call time)."""
STATS_SPLIT = 4
"""Fewest blocks an ensemble of at least as many runs is split into, so that even a small one
makes several tasks for 2 workers (each block's sums travel on their own: ~110 MB at N = 193
over 120 months, so not more)."""
REL_BINS = 2001  # relation histogram: centres -1, -0.999, …, 1
REL_ERROR = 0.0005  # largest error of a relation quantile: half a bin
TRADE_LOG10 = (-3.0, 5.0, 0.005)  # trade histogram: a bin for 0, log10 centres -3 .. 5 by 0.005
TRADE_BINS = 1602
TRADE_REL_ERROR = 10 ** (TRADE_LOG10[2] / 2) - 1  # largest relative error in range (0.58%)
QUANTILE_CELLS = 10_000_000  # histograms for every dyad while steps × dyads × REL_BINS ≤ this
CENTRES = {"relation": np.linspace(-1.0, 1.0, REL_BINS),
           "trade": np.r_[0.0, np.logspace(*TRADE_LOG10[:2], TRADE_BINS - 1)]}


def stats_block(runs: int) -> int:
    """Runs in each statistics block of an ensemble of ``runs`` runs: :data:`STATS_BLOCK`, or
    fewer so that there are at least :data:`STATS_SPLIT` blocks. It depends on ``runs`` only
    (never on chunks or workers), so the float sums, added block by block, are the same bytes
    however the ensemble is run."""
    return max(1, min(STATS_BLOCK, -(-runs // STATS_SPLIT)))


def _dyad_series(x: np.ndarray, imports: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Dyad relations ``x̄_ij = (x_ij + x_ji)/2`` and trade ``M_ij + M_ji`` for ``i < j``."""
    iu, ju = np.triu_indices(n, 1)
    return 0.5 * (x[..., iu, ju] + x[..., ju, iu]), imports[..., iu, ju] + imports[..., ju, iu]


def _histogram(v: np.ndarray, what: str) -> np.ndarray:
    """Counts ``(T+1, D, bins)`` of values ``v`` ``(R, T+1, D)`` in their nearest bins."""
    if what == "relation":
        k = np.clip(np.rint(v * (REL_BINS // 2)) + REL_BINS // 2, 0, REL_BINS - 1)
    else:  # bin 0 for no trade, else the nearest log10 centre (clamped to the range)
        lo, hi, w = TRADE_LOG10
        k = np.where(v > 0, np.rint((np.log10(np.clip(v, 10**lo, 10**hi)) - lo) / w) + 1, 0)
    t1, d, size = *v.shape[1:], len(CENTRES[what])
    cells = k.astype(np.int64) + np.arange(t1 * d).reshape(t1, d) * size  # (step, dyad, bin)
    return np.bincount(cells.ravel(), minlength=t1 * d * size).reshape(t1, d, size)


def _hist_quantiles(hist: np.ndarray, what: str, qs: Sequence[float]) -> np.ndarray:
    """numpy's default (linear) quantiles ``(Q, ...)`` from counts ``(..., bins)``, with each
    order statistic replaced by its bin centre: within half a bin of ``np.quantile``."""
    cum = np.cumsum(hist, axis=-1)
    n = cum[..., -1]
    out = []
    for q in qs:
        h = (n - 1) * q
        lo = np.floor(h)
        # order statistic k (from 0) lies in the first bin whose cumulative count exceeds k
        a, b = (CENTRES[what][(cum <= k[..., None]).sum(-1)]
                for k in (lo, np.minimum(lo + 1, n - 1)))
        out.append(a + (h - lo) * (b - a))
    return np.stack(out)


class BlockStats:
    """A :class:`~sim.engine.Recorder` folding a task's runs into :func:`run_stats`'s sums and
    counts while the months run, so no trajectory is kept. The task's ``runs`` rows start at a
    multiple of ``block`` and each call covers whole blocks, so block ``b``'s float sums come
    from its own runs in run order whatever the batches, chunks or workers. ``qcols``: the
    dyads with histograms; ``ref``: run 0's dyad relations and trade ``(T+1, D)`` each, from
    which squared deviations are summed. Buffers are allocated once per task."""

    def __init__(self, world: World, runs: int, block: int, qcols: np.ndarray,
                 ref: tuple[np.ndarray, np.ndarray]) -> None:
        t1, n, p = world.months + 1, world.n, len(world.decisions)
        d, nb = n * (n - 1) // 2, -(-runs // block)
        self.n, self.block, self.qcols, self.ref = n, block, qcols, ref
        self.sums = {k: np.zeros((nb, t1, d)) for k in
                     ("relation", "relation_sq", "trade", "trade_sq")}
        self.sums["imports"] = np.zeros((nb, t1, n, n))
        self.sums["prob"] = np.zeros((nb, t1 - 1, p))
        self.fired = np.zeros((t1 - 1, p), dtype=np.int64)
        self.dealt = np.zeros((t1 - 1, p), dtype=np.int64)
        self.ever = np.zeros((runs, p), dtype=bool)
        self.hist = {what: np.zeros((t1, len(qcols), len(CENTRES[what])), dtype=np.int32)
                     for what in ("relation", "trade")}

    def record(self, rows: slice, t: int, x: np.ndarray, imports: np.ndarray,
               prob: np.ndarray | None, fired: np.ndarray | None) -> None:
        """Fold month ``t`` (``-1``: the start) of rows ``rows`` (whole blocks) in."""
        rel, trade = _dyad_series(x, imports, self.n)  # (B, D)
        for lo in range(rows.start, rows.stop, self.block):
            b, k = slice(lo - rows.start, min(rows.stop, lo + self.block) - rows.start), \
                lo // self.block
            self.sums["relation"][k, t + 1] = rel[b].sum(0)
            self.sums["relation_sq"][k, t + 1] = np.square(rel[b] - self.ref[0][t + 1]).sum(0)
            self.sums["trade"][k, t + 1] = trade[b].sum(0)
            self.sums["trade_sq"][k, t + 1] = np.square(trade[b] - self.ref[1][t + 1]).sum(0)
            self.sums["imports"][k, t + 1] = imports[b].sum(0)
            if prob is not None:
                self.sums["prob"][k, t] = prob[b].sum(0)
        if fired is None:
            self.ever[rows] = False
        else:
            self.ever[rows] |= fired
            self.fired[t] += fired.sum(0, dtype=np.int64)
            self.dealt[t] += self.ever[rows].sum(0, dtype=np.int64)
        for what, v in (("relation", rel), ("trade", trade)):
            self.hist[what][t + 1] += _histogram(v[:, None, self.qcols], what)[0]

    def result(self) -> tuple[list[dict[str, np.ndarray]], dict[str, Any]]:
        """Each block's sums in block order, and the integer counts with the histograms as
        sparse ``(flat index, count)`` pairs: a chunk ships a few MB, not the dense
        ``(T+1, D, bins)`` arrays (~35 MB for 6 states over 72 months)."""
        blocks = [{k: v[i] for k, v in self.sums.items()}
                  for i in range(len(self.sums["relation"]))]
        counts: dict[str, Any] = {"fired": self.fired, "dealt": self.dealt}
        for what, h in self.hist.items():
            flat = np.flatnonzero(h)
            counts[what] = (flat.astype(np.int64), h.ravel()[flat])
        return blocks, counts


class _Tee:
    """Hands every month to several recorders."""

    def __init__(self, *recorders: Any) -> None:
        self.recorders = recorders

    def record(self, *args: Any) -> None:
        for r in self.recorders:
            r.record(*args)


def _stats_task(world: World | None, seed: int, ids: np.ndarray, kind: str, block: int,
                qcols: np.ndarray, keep: bool, ref: tuple[np.ndarray, np.ndarray],
                params: Params | None = None) -> tuple:
    """Run runs ``ids`` (whole blocks; ``params``: their rows) folding them into
    :class:`BlockStats`; return its block sums and counts, and the runs' rows if ``keep``
    (only then is a trajectory kept)."""
    world = world or _WORKER_WORLD
    stats = BlockStats(world, len(ids), block, qcols, ref)
    if kind == "mesa":
        traj = simulate_mesa(world, seed, ids, params)
        traj.replay(stats)
    else:
        traj = Trajectory.empty(world, seed, ids, params) if keep else None
        batch = block * max(1, batch_size(world) // block)
        advance(world, seed, np.asarray(ids), params, _Tee(stats, traj) if keep else stats,
                0, len(ids), batch, backend_of(kind))
    return (*stats.result(), _runs_table(traj) if keep else None)


def _runs_table(traj: Trajectory) -> Any:
    """Per-run rows ``run, step, source, target, relation, trade`` as ``Results.timeseries``
    (relation ``x[source, target]``, trade the goods shipped source → target)."""
    import pyarrow as pa

    r, t1, n, _ = traj.x.shape
    src, tgt = np.nonzero(~np.eye(n, dtype=bool))
    names = pa.array(traj.world.ids, pa.string())
    source, target = (pa.DictionaryArray.from_arrays(np.tile(v.astype(np.int32), r * t1), names)
                      for v in (src, tgt))
    return pa.table({
        "run": np.repeat(traj.runs.astype(np.int64), t1 * len(src)),
        "step": np.tile(np.repeat(np.arange(t1, dtype=np.int32), len(src)), r),
        "source": source, "target": target, "relation": traj.x[:, :, src, tgt].reshape(-1),
        "trade": traj.imports[:, :, tgt, src].reshape(-1)})


@dataclass
class EnsembleStats:
    """Per-month statistics of an ensemble (see :func:`run_stats`), with the methods the
    figures read from :class:`sim.results.Results`. Dyads are the pairs ``i < j``; a dyad's
    relation is ``x̄_ij = (x_ij + x_ji)/2``, its trade ``M_ij + M_ji`` (USD bn/yr)."""

    world: World = field(repr=False)
    seed: int
    runs: int
    dyads: list[tuple[str, str]]
    relation_mean: np.ndarray  # (T+1, D)
    relation_sd: np.ndarray  # (T+1, D)
    trade_mean: np.ndarray  # (T+1, D)
    trade_sd: np.ndarray  # (T+1, D)
    imports_mean: np.ndarray  # (T+1, N, N), imports[i, j]: i's imports from j
    prob_mean: np.ndarray  # (T, P) mean monthly probability of each decision
    fired_share: np.ndarray  # (T, P) share of runs in which a decision fired that month
    dealt: np.ndarray  # (T, P) runs in which a decision fired in some month <= t
    quantile_dyads: list[tuple[str, str]]  # dyads with histograms
    hist: dict[str, np.ndarray] = field(repr=False)  # relation, trade: (T+1, Dq, bins) counts
    quantiles: tuple[float, ...]
    relation_quantiles: np.ndarray  # (Q, T+1, Dq)
    trade_quantiles: np.ndarray  # (Q, T+1, Dq)
    keep_runs: str | None = None
    draw: np.ndarray | None = None  # (R,) parameter draw of each run (sim.uncertainty)
    design: Any = None  # the sim.uncertainty.Design the runs come from, if any

    @property
    def dates(self) -> list[str]:
        """``YYYY-MM`` label of every step ``0 .. T``."""
        return self.world.dates()

    def key_pairs(self) -> list[tuple[str, str]]:
        """The three dyads of the USA-CHN-RUS triangle."""
        return self.world.key_pairs()

    def dyad(self, a: str, b: str) -> int:
        """Column of dyad ``a``-``b`` in the ``(T+1, D)`` arrays."""
        return self.dyads.index((a, b) if (a, b) in self.dyads else (b, a))

    def quantile(self, q: float | Sequence[float], what: str = "relation") -> np.ndarray:
        """Quantile(s) of ``relation`` or ``trade``, ``(Q, T+1, Dq)`` (``(T+1, Dq)`` for one)."""
        out = _hist_quantiles(self.hist[what], what, [q] if np.isscalar(q) else list(q))
        return out[0] if np.isscalar(q) else out

    def bands(self, a: str, b: str, what: str = "relation") -> np.ndarray:
        """5, 25, 50, 75 and 95% quantiles over runs of dyad ``a``-``b``, ``(5, T+1)``."""
        pair = (a, b) if (a, b) in self.quantile_dyads else (b, a)
        if pair not in self.quantile_dyads:
            raise ValueError(f"no histogram of {a}-{b}: pass it in run_stats(dyads=...)")
        hist = self.hist[what][:, self.quantile_dyads.index(pair)]
        return _hist_quantiles(hist, what, BAND_QUANTILES)

    def relation_bands(self, a: str, b: str) -> np.ndarray:
        """5%, 25%, 50%, 75% and 95% quantiles over runs of ``x̄_ab``, ``(5, T+1)``."""
        return self.bands(a, b, "relation")

    def trade_bands(self, a: str, b: str) -> np.ndarray:
        """The same quantiles of the pair's trade (USD bn/yr), ``(5, T+1)``."""
        return self.bands(a, b, "trade")

    def deal_share(self) -> np.ndarray:
        """Share of runs in which each decision has been taken by each step, ``(T+1, P)``."""
        return np.vstack([np.zeros((1, self.dealt.shape[1])), self.dealt / self.runs])

    def mean_prob(self) -> np.ndarray:
        """Mean monthly probability of each decision, ``(T, P)``."""
        return self.prob_mean

    def to_frame(self) -> Any:
        """One row per step and dyad: means, sds and quantiles (NaN without histogram)."""
        import pandas as pd

        t1, d = self.relation_mean.shape
        cols = {"step": np.repeat(np.arange(t1), d), "date": np.repeat(self.dates, d),
                "source": np.tile([a for a, _ in self.dyads], t1),
                "target": np.tile([b for _, b in self.dyads], t1),
                "relation_mean": self.relation_mean, "relation_sd": self.relation_sd,
                "trade_mean": self.trade_mean, "trade_sd": self.trade_sd}
        where = [self.dyads.index(p) for p in self.quantile_dyads]
        for what, quantiles in (("relation", self.relation_quantiles),
                                ("trade", self.trade_quantiles)):
            for q, values in zip(self.quantiles, quantiles, strict=True):
                cols[f"{what}_q{q:g}"] = np.full((t1, d), np.nan)
                cols[f"{what}_q{q:g}"][:, where] = values
        return pd.DataFrame({k: np.ravel(v) for k, v in cols.items()})


def _add_counts(counts: dict[str, np.ndarray], chunk: dict[str, Any],
                shapes: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    """``counts`` plus a chunk's counts (histograms as sparse ``(flat index, count)`` pairs
    added into dense ``shapes`` arrays); integers, so the order does not matter."""
    out = dict(counts) or {k: np.zeros(shapes[k], dtype=np.int64) if k in shapes
                           else np.zeros_like(v) for k, v in chunk.items()}
    for k, v in chunk.items():
        if k in shapes:
            flat = out[k].reshape(-1)
            flat[v[0]] += v[1]
        else:
            out[k] = out[k] + v
    return out


def _flatten(sums: dict[str, np.ndarray], counts: dict[str, np.ndarray]
             ) -> dict[str, np.ndarray]:
    return {**{f"sum.{k}": v for k, v in sums.items()},
            **{f"count.{k}": v for k, v in counts.items()}}


def _unflatten(arrays: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], ...]:
    return tuple({k.split(".", 1)[1]: v for k, v in arrays.items() if k.startswith(f"{p}.")}
                 for p in ("sum", "count"))


def _stored_state(store: ChunkStore | None, chunks: Sequence[np.ndarray], keep: bool,
                  settings: dict[str, Any]) -> tuple[int, dict[str, np.ndarray],
                                                     dict[str, np.ndarray]]:
    """The latest statistics a store holds, ``(chunks done, sums, counts)`` (``0, {}, {}`` if
    none), with every chunk's rows when ``keep``."""
    if store is None or (len(chunks) <= 1 and not keep):
        return 0, {}, {}
    store.begin(settings)
    for i in sorted(store.names("state"), reverse=True):
        arrays = store.load(_piece("state", i)) if i < len(chunks) else None
        rows = all(store.has(f"{_piece('runs', k)}.arrow") for k in range(i + 1))
        if arrays is not None and (rows or not keep):
            store.resumed(sum(len(c) for c in chunks[:i + 1]), sum(len(c) for c in chunks))
            return i + 1, *_unflatten(arrays)
    store.resumed(0, sum(len(c) for c in chunks))
    return 0, {}, {}


def _join_rows(store: ChunkStore, count: int, path: str | Path) -> None:
    """Write the rows of chunks ``0 .. count-1`` kept in ``store`` to one Parquet file."""
    store.join_tables([_piece("runs", i) for i in range(count)], Path(path))


def run_stats(world: World, seed: int, runs: int, engine: Engine = "batched",
              chunk: int | None = None, workers: int | None = 1, dask: str | None = None,
              quantiles: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95),
              keep_runs: str | Path | None = None, progress: bool = False,
              dyads: Sequence[tuple[str, str]] | None = None,
              store: ChunkStore | None = None,
              params: Params | RunParams | Mapping[str, Any] | None = None,
              draw: np.ndarray | None = None) -> EnsembleStats:
    """Per-month statistics of runs ``0 .. runs-1`` without holding all runs in memory.

    Tasks of ``chunk`` runs (rounded up to whole blocks of :func:`stats_block` runs) run as in
    :func:`run_ensemble`; the result is the same byte for byte whatever ``chunk``, ``workers``
    or ``dask``. Standard deviations use squared deviations from run 0 (exactly 0 where all
    runs agree). Quantiles come from histograms, within half a bin of ``np.quantile``:
    relations in 2001 bins on [-1, 1] (error ≤ 0.0005), trade in log10 bins of 0.005 decades on
    [1e-3, 1e5] bn/yr and a bin for 0 (relative error ≤ 0.58%); for every dyad up to 12
    states over 72 months, else the USA-CHN-RUS triangle, or the ``dyads`` given.
    ``keep_runs``: also write every run's rows (as ``Results.timeseries``: ``run, step,
    source, target, relation, trade``) to this Parquet file, chunk by chunk. ``store``: a
    :class:`~sim.chunks.ChunkStore` keeping the statistics after a chunk every
    :data:`SAVE_SECONDS` (and each chunk's rows) so that an interrupted call resumes from them
    with the same result byte for byte.
    ``params``, ``draw``: as in :func:`run_ensemble` (run ``i`` gets row ``i``).
    """
    qs = tuple(float(q) for q in quantiles)
    if runs <= 0 or not all(0 <= q <= 1 for q in qs):
        raise ValueError(f"need runs > 0 and quantiles in [0, 1], not {runs} and {qs}")
    kind = pick_engine(engine, runs)
    nworkers, address = resolve_workers(workers), _resolve_dask(dask)
    chunk = chunk or (store.saved_chunk() if store is not None else None)
    size = default_chunk(runs, nworkers) if chunk is None else max(1, chunk)
    block = stats_block(runs)
    step = -(-size // block) * block
    chunks = _chunks(runs, step)  # whole blocks
    start_pool(nworkers, address, len(chunks))
    iu, ju = np.triu_indices(world.n, 1)
    pairs = [(world.ids[i], world.ids[j]) for i, j in zip(iu, ju, strict=True)]
    if dyads is None and (world.months + 1) * len(pairs) * REL_BINS > QUANTILE_CELLS:
        dyads = world.key_pairs()
    qcols = np.arange(len(pairs)) if dyads is None else np.array(
        [pairs.index(p if p in pairs else p[::-1]) for p in dyads])
    par = _run_params(world, params, runs)
    draw = _draw_index(draw, runs)
    hist_shape = {what: (world.months + 1, len(qcols), len(CENTRES[what]))
                  for what in ("relation", "trade")}
    first = _simulate_chunk(kind, world, seed, np.arange(1), _rows(par, np.arange(1)))
    ref = tuple(a[0] for a in _dyad_series(first.x, first.imports, world.n))
    keep = keep_runs is not None
    start, sums, counts = _stored_state(
        store, chunks, keep, {"mode": "stats", "engine": kind, "chunk": step, "runs": runs,
                              "seed": int(seed), "block": block,
                              "dyads": [pairs[c] for c in qcols], "keep_runs": keep,
                              **({} if par is None else {"params": par.digest()})})
    saving = store is not None and len(chunks) > 1
    saved, last_save = start - 1, time.monotonic()
    nworkers = min(nworkers, max(1, len(chunks) - start))
    extra = (kind, block, qcols, keep, ref)
    tasks = _ordered(_stats_task, world, seed, chunks[start:], extra, nworkers, address, par)
    finished = sum(len(c) for c in chunks[:start])
    writer = None
    with (_bar(world, runs, kind, progress, nworkers, address, finished) as bar,
          ExitStack() as files):
        for i, (block_sums, chunk_counts, table) in enumerate(tasks, start):
            for part in block_sums:  # one block after the other
                sums = part if not sums else {k: sums[k] + v for k, v in part.items()}
            counts = _add_counts(counts, chunk_counts, hist_shape)
            if table is not None and store is not None:
                store.save_table(_piece("runs", i), table)
            elif table is not None:
                import pyarrow.parquet as pq

                writer = writer or files.enter_context(pq.ParquetWriter(keep_runs, table.schema))
                writer.write_table(table)
            finished += len(chunks[i])
            if saving and (i == len(chunks) - 1
                           or time.monotonic() - last_save >= SAVE_SECONDS):
                # the statistics of chunks 0 .. i replace the last saved ones
                store.save(_piece("state", i), _flatten(sums, counts))
                if saved >= 0:
                    store.delete(f"{_piece('state', saved)}.npz")
                saved, last_save = i, time.monotonic()
                store.progressed(finished)
            bar.update(len(chunks[i]))
    if keep and store is not None:
        _join_rows(store, len(chunks), keep_runs)
    mean = {k: v / runs for k, v in sums.items()}  # of values, and of squared deviations
    sd = {k: np.sqrt(np.maximum(mean[f"{k}_sq"] - (mean[k] - shift) ** 2, 0.0))
          for k, shift in zip(("relation", "trade"), ref, strict=True)}
    hist = {k: counts[k] for k in ("relation", "trade")}
    return EnsembleStats(
        world=world, seed=int(seed), runs=runs, dyads=pairs, relation_mean=mean["relation"],
        relation_sd=sd["relation"], trade_mean=mean["trade"], trade_sd=sd["trade"],
        imports_mean=mean["imports"], prob_mean=mean["prob"],
        fired_share=counts["fired"] / runs, dealt=counts["dealt"],
        quantile_dyads=[pairs[c] for c in qcols], hist=hist, quantiles=qs,
        relation_quantiles=_hist_quantiles(hist["relation"], "relation", qs),
        trade_quantiles=_hist_quantiles(hist["trade"], "trade", qs),
        keep_runs=None if keep_runs is None else str(keep_runs), draw=draw)


__all__ = ["BATCHED_ENGINES", "DASK_ENV", "ENGINES", "STATS_BLOCK", "STATS_SPLIT", "Engine",
           "EnsembleStats", "backend_of", "pick_engine", "pool_context", "resolve_workers",
           "run_ensemble", "run_stats", "simulate_mesa", "start_pool", "stats_block"]
