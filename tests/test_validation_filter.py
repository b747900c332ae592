"""sim.validation.filter: the bootstrap particle filter over the engine's month loop."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SCENARIOS

from sim.engine import simulate
from sim.params import get
from sim.spec import load_scenario
from sim.validation.filter import particle_filter, systematic, year_end_step
from sim.world import World


@pytest.fixture(scope="module")
def world():
    return World.from_spec(load_scenario(SCENARIOS / "history_2014_2024.toml"))


def usa_chn(traj, year):
    """The annual mean of x[USA, CHN] in ``year`` per particle."""
    ids = list(traj.world.ids)
    i, j = ids.index("USA"), ids.index("CHN")
    end = year_end_step(traj.world.start, year)
    return traj.x[:, end - 11:end + 1, i, j].mean(axis=1)


def test_without_observations_the_filter_is_the_engine(world):
    res = particle_filter(world, 5, 24, lambda tr, y, th: np.zeros(24), [2014, 2015])
    traj = simulate(world, 5, 24)
    assert np.array_equal(res.traj.x[:, :13], traj.x[:, :13])  # before any resampling
    free = particle_filter(world, 5, 24, lambda tr, y, th: np.zeros(24), [])
    assert np.array_equal(free.traj.x, traj.x) and np.array_equal(free.traj.imports,
                                                                  traj.imports)


def test_informative_observation_moves_the_particles_to_the_truth_deterministically(world):
    prior = simulate(world, 3, 200)
    truth = float(np.quantile(usa_chn(prior, 2015), 0.9))  # a value the prior finds unlikely

    def loglik(tr, year, theta):
        return -0.5 * ((usa_chn(tr, year) - truth) / 0.01) ** 2 if year == 2015 else np.zeros(
            tr.x.shape[0])

    a = particle_filter(world, 3, 200, loglik, [2014, 2015])
    b = particle_filter(world, 3, 200, loglik, [2014, 2015])
    assert np.array_equal(a.traj.x, b.traj.x) and np.array_equal(a.ess, b.ess)
    before = abs(usa_chn(prior, 2015).mean() - truth)
    after = abs(usa_chn(a.traj, 2015).mean() - truth)
    assert after < 0.5 * before
    # the ESS is that of the prior particles weighted by the observation (no resampling before
    # 2015: the 2014 likelihood is flat), well below the 200 an uninformative one leaves
    w = np.exp(loglik(prior, 2015, None) - loglik(prior, 2015, None).max())
    assert a.ess[0] == pytest.approx(200) and not a.resampled[0]
    assert a.ess[-1] == pytest.approx(w.sum() ** 2 / (w ** 2).sum(), rel=1e-9)
    assert a.ess[-1] < 0.75 * 200 and a.resampled[-1]


def test_resampling_keeps_parameters_and_theta_with_their_particles(world):
    r = 64
    name = "anchor.rate"
    assert name in _names(world)
    base = float(get(world.spec, name))
    rate = base * np.linspace(0.5, 1.5, r)  # a per-run parameter, distinct for every particle
    mark = np.arange(r, dtype=float)

    def loglik(tr, year, theta):
        # favour the particles whose parameter is large, and check theta travels with them
        assert np.array_equal(np.asarray(tr.params.values[name]), rate[theta["mark"]
                                                                       .astype(int)])
        return 40.0 * np.asarray(tr.params.values[name])

    res = particle_filter(world, 1, r, loglik, [2014, 2015, 2016], params={name: rate},
                          theta={"mark": mark})
    kept = np.asarray(res.traj.params.values[name])
    assert res.resampled.any() and kept.mean() > rate.mean()
    assert np.array_equal(kept, rate[res.theta["mark"].astype(int)])


def _names(world):
    from sim.params import registry

    return set(registry(world.spec))


def test_systematic_resampling():
    logw = np.log(np.array([0.0, 0.5, 0.25, 0.25]) + 1e-300)
    idx = systematic(logw, 0.5)
    assert np.bincount(idx, minlength=4).tolist() == [0, 2, 1, 1]
    assert np.all(np.diff(idx) >= 0)
