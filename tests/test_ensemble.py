"""Ensembles: the batched engine equals the Mesa model, runs do not depend on chunking,
workers or Dask, and streaming statistics equal the full-ensemble ones."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from conftest import BASELINE, SCENARIOS

from sim import ensemble
from sim.engine import Trajectory, simulate
from sim.ensemble import (
    DASK_ENV,
    REL_ERROR,
    TRADE_REL_ERROR,
    run_ensemble,
    run_stats,
    simulate_mesa,
)
from sim.results import BAND_QUANTILES, Results
from sim.spec import load_scenario
from sim.world import World

FIELDS = ("x", "imports", "prob", "fired")


@pytest.fixture(scope="module")
def world() -> World:
    return World.from_spec(load_scenario(BASELINE))


@pytest.fixture
def small_blocks(monkeypatch):
    """Statistics blocks of 10 runs, so that small ensembles span several blocks."""
    monkeypatch.setattr(ensemble, "STATS_BLOCK", 10)


def same_bytes(a: Trajectory, b: Trajectory) -> bool:
    return all(getattr(a, f).shape == getattr(b, f).shape
               and getattr(a, f).tobytes() == getattr(b, f).tobytes() for f in FIELDS) \
        and np.array_equal(a.runs, b.runs)


def max_diff(a: Trajectory, b: Trajectory) -> float:
    return max((np.abs(getattr(a, f).astype(float) - getattr(b, f)).max(initial=0.0)
                for f in FIELDS), default=0.0)


# ----------------------------------------------------------------------------- engines


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.stem)
def test_batched_engine_equals_mesa_model_on_every_scenario(path):
    world = World.from_spec(load_scenario(path))
    runs = [0, 3, 11]
    mesa = simulate_mesa(world, 2024, runs)
    batched = simulate(world, 2024, runs)
    assert max_diff(mesa, batched) <= 1e-12
    assert np.array_equal(mesa.fired, batched.fired)


def test_run_does_not_depend_on_ensemble_size_chunking_or_batch(world):
    small = run_ensemble(world, 5, 10, chunk=3, progress=False)
    large = run_ensemble(world, 5, 20, chunk=20, progress=False)
    one = simulate(world, 5, [7], batch=1)
    reversed_batched = simulate(world, 5, np.arange(20)[::-1], batch=6)
    for f in FIELDS:
        assert getattr(small, f)[7].tobytes() == getattr(large, f)[7].tobytes()
        assert getattr(small, f)[7].tobytes() == getattr(one, f)[0].tobytes()
        assert getattr(large, f).tobytes() == getattr(reversed_batched, f)[::-1].tobytes()


def test_disabled_or_added_policy_keeps_the_other_policies_draws(baseline_child):
    """Common random numbers: a policy's draws do not depend on how many policies exist."""
    parent, child = baseline_child("""
        [[policies]]
        rule = "grant_ask"
        actor = "CHN"
        ask = "pipeline"
        enabled = false

        [[policies]]
        rule = "concede"
        actor = "CHN"
        partner = "RUS"
        hazard = 0.0
        """)
    a = World.from_spec(load_scenario(parent))
    b = World.from_spec(load_scenario(child))
    assert len(b.decisions) == len(a.decisions) + 1
    ta, tb = simulate(a, 3, 50), simulate(b, 3, 50)
    assert not tb.fired[:, :, 0].any()  # the disabled pipeline ask never fires
    # until the pipeline would first have been signed, the two scenarios are the same run
    first = ta.fired[:, :, 0].argmax(axis=1)
    first[~ta.fired[:, :, 0].any(axis=1)] = a.months
    for r in range(50):
        assert np.array_equal(ta.x[r, :first[r] + 1], tb.x[r, :first[r] + 1])


def test_world_pickles_and_gives_the_same_runs(world):
    copy = pickle.loads(pickle.dumps(world))
    assert same_bytes(simulate(world, 1, 4), simulate(copy, 1, 4))


# ----------------------------------------------------------------------------- parallel


def test_two_workers_give_identical_arrays(world, small_blocks):
    serial = run_ensemble(world, 9, 48, chunk=7, progress=False)
    parallel = run_ensemble(world, 9, 48, chunk=5, progress=False, workers=2)
    assert same_bytes(serial, parallel)
    stats_serial = run_stats(world, 9, 48, chunk=48)
    stats_parallel = run_stats(world, 9, 48, chunk=5, workers=2)
    assert_same_stats(stats_serial, stats_parallel)


def test_dask_cluster_gives_identical_results(world, monkeypatch, small_blocks):
    distributed = pytest.importorskip("distributed")
    serial = run_ensemble(world, 4, 30, chunk=30, progress=False)
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        remote = run_ensemble(world, 4, 30, chunk=4, progress=False,
                              dask=cluster.scheduler_address)
        monkeypatch.setenv(DASK_ENV, cluster.scheduler_address)
        stats = run_stats(world, 4, 30, chunk=8, dask="env")
    assert same_bytes(serial, remote)
    assert_same_stats(stats, run_stats(world, 4, 30, chunk=30))


def test_dask_env_without_address_is_an_error(world, monkeypatch):
    monkeypatch.delenv(DASK_ENV, raising=False)
    with pytest.raises(ValueError, match=DASK_ENV):
        run_ensemble(world, 1, 4, progress=False, dask="env")


# ----------------------------------------------------------------------------- statistics

STAT_FIELDS = ("relation_mean", "relation_sd", "trade_mean", "trade_sd", "imports_mean",
               "prob_mean", "fired_share", "dealt", "relation_quantiles", "trade_quantiles")


def assert_same_stats(a, b):
    assert a.runs == b.runs
    for f in STAT_FIELDS:
        assert getattr(a, f).tobytes() == getattr(b, f).tobytes(), f
    for k in ("relation", "trade"):
        assert a.hist[k].tobytes() == b.hist[k].tobytes(), k


@pytest.fixture(scope="module")
def full(world):
    """150 runs both in full and as streamed statistics (15 blocks of 10 runs)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ensemble, "STATS_BLOCK", 10)
        return run_ensemble(world, 3, 150, progress=False), run_stats(world, 3, 150, chunk=40)


def test_run_stats_equal_full_ensemble_statistics(world, full):
    traj, stats = full
    iu, ju = np.triu_indices(world.n, 1)
    xbar = 0.5 * (traj.x[:, :, iu, ju] + traj.x[:, :, ju, iu])
    trade = traj.imports[:, :, iu, ju] + traj.imports[:, :, ju, iu]
    assert np.abs(stats.relation_mean - xbar.mean(0)).max() <= 1e-12
    assert np.abs(stats.relation_sd - xbar.std(0)).max() <= 1e-12
    assert (stats.relation_sd[0] == 0).all()  # every run starts from the same relations
    assert np.allclose(stats.trade_sd, trade.std(0), rtol=1e-9, atol=1e-9)
    assert np.allclose(stats.trade_mean, trade.mean(0), rtol=1e-12, atol=0)
    assert np.allclose(stats.imports_mean, traj.imports.mean(0), rtol=1e-12, atol=1e-12)
    assert np.abs(stats.prob_mean - traj.prob.mean(0)).max() <= 1e-12
    assert np.array_equal(stats.fired_share, traj.fired.mean(0))
    want = np.quantile(xbar, stats.quantiles, axis=0)
    assert np.abs(stats.relation_quantiles - want).max() <= REL_ERROR + 1e-12
    want_trade = np.quantile(trade, stats.quantiles, axis=0)
    ok = want_trade > 0
    rel_err = np.abs(stats.trade_quantiles[ok] / want_trade[ok] - 1)
    assert rel_err.max() <= TRADE_REL_ERROR + 1e-12
    assert np.array_equal(stats.trade_quantiles[~ok], want_trade[~ok])
    # any other quantile from the histograms, same bound
    q = stats.quantile(0.1)
    assert np.abs(q - np.quantile(xbar, 0.1, axis=0)).max() <= REL_ERROR + 1e-12
    frame = stats.to_frame()
    assert len(frame) == (world.months + 1) * len(iu)
    assert {"relation_mean", "relation_q0.5", "trade_q0.95"} <= set(frame.columns)
    assert frame["relation_q0.5"].to_numpy().tobytes() == \
        stats.relation_quantiles[2].ravel().tobytes()


def test_stats_offer_the_figure_methods_of_results(world, full):
    traj, stats = full
    res = Results(traj)
    assert stats.runs == res.runs == 150
    assert stats.dates == res.dates == world.dates()
    assert stats.key_pairs() == res.key_pairs()
    for a, b in stats.key_pairs():
        bands = stats.relation_bands(b, a)
        assert bands.shape == (5, world.months + 1)
        want = np.quantile(res.relation(a, b), BAND_QUANTILES, axis=0)
        assert np.abs(bands - want).max() <= REL_ERROR + 1e-12
        trade, want = stats.trade_bands(a, b), np.quantile(res.trade(a, b), BAND_QUANTILES, 0)
        assert np.all(np.abs(trade - want) <= TRADE_REL_ERROR * want + 1e-12)
    made = np.logical_or.accumulate(traj.fired, axis=1).mean(0)  # decisions taken by step t+1
    share = stats.deal_share()
    assert share.shape == (world.months + 1, len(world.decisions))
    assert (share[0] == 0).all() and np.array_equal(share[1:], made)
    assert np.array_equal(share, res.deal_share())
    assert np.abs(stats.mean_prob() - res.mean_prob()).max() <= 1e-12


def test_run_stats_do_not_depend_on_chunk_size(world, small_blocks):
    assert_same_stats(run_stats(world, 8, 90, chunk=7), run_stats(world, 8, 90, chunk=64))


def test_default_blocks_do_not_depend_on_chunk_size(world):
    assert ensemble.STATS_BLOCK == 250
    one_block_tasks = run_stats(world, 2, 600, chunk=1)  # rounded up to a block of 150
    assert_same_stats(one_block_tasks, run_stats(world, 2, 600, chunk=1000))


def test_blocks_depend_on_the_runs_only():
    sizes = [ensemble.stats_block(r) for r in (1, 3, 4, 5, 100, 999, 1000, 10**6)]
    assert sizes == [1, 1, 1, 2, 25, 250, 250, 250]


def test_small_ensemble_splits_over_two_workers_with_the_same_bytes(world, monkeypatch):
    """40 runs make blocks of 10: 2 workers get several tasks, the statistics are the same
    bytes as on 1 worker and with any chunk size."""
    tasks = []
    ordered = ensemble._ordered

    def counted(task, world, seed, chunks, *args, **kw):
        tasks.append(len(chunks))
        return ordered(task, world, seed, chunks, *args, **kw)

    monkeypatch.setattr(ensemble, "_ordered", counted)
    two = run_stats(world, 5, 40, workers=2)
    assert tasks == [4]
    for kw in ({"workers": 1}, {"workers": 1, "chunk": 25}, {"workers": 2, "chunk": 3}):
        assert_same_stats(two, run_stats(world, 5, 40, **kw))


def test_histograms_of_chosen_dyads(world):
    stats = run_stats(world, 1, 20, dyads=[("RUS", "USA")])
    assert stats.quantile_dyads == [("USA", "RUS")]
    assert stats.relation_bands("RUS", "USA").shape == (5, world.months + 1)
    with pytest.raises(ValueError, match="USA-CHN"):
        stats.relation_bands("USA", "CHN")
    assert np.isnan(stats.to_frame()["relation_q0.5"]).sum() == (world.months + 1) * 14


def test_keep_runs_parquet_round_trips(world, tmp_path, small_blocks):
    import pyarrow.parquet as pq

    path = tmp_path / "runs.parquet"
    stats = run_stats(world, 6, 25, chunk=10, keep_runs=path)
    assert stats.keep_runs == str(path)
    table = pq.read_table(path).to_pandas()
    want = Results(run_ensemble(world, 6, 25, progress=False)).timeseries
    assert list(table.columns) == ["run", "step", "source", "target", "relation", "trade"]
    assert len(table) == len(want)
    for col in ("run", "step", "relation", "trade"):
        assert np.array_equal(table[col].to_numpy(), want[col].to_numpy()), col
    for col in ("source", "target"):
        assert (table[col].astype(str).to_numpy() == want[col].to_numpy()).all(), col
