"""The registry of outcomes (sim/outcomes.py) and the balance metrics it reports
(sim/metrics.py: balanced share over closed triads, frustration index), on hand-computable
graphs and trajectories."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE

from sim import metrics
from sim import outcomes as oc
from sim.api import run
from sim.engine import Trajectory
from sim.metrics import balanced_share, frustration, frustration_normalized
from sim.output import UserError
from sim.results import Results, outcomes_columns, summary_columns
from sim.spec import load_scenario
from sim.world import World


def graph(n: int, ties: dict[tuple[int, int], float]) -> np.ndarray:
    """A symmetric relation matrix with the given ties (others 0)."""
    x = np.zeros((n, n))
    for (i, j), v in ties.items():
        x[i, j] = x[j, i] = v
    return x


def complete(n: int, sign: float = 1.0, **flip: float) -> np.ndarray:
    return graph(n, {(i, j): sign for i in range(n) for j in range(i + 1, n)})


def brute_frustration(x: np.ndarray) -> int:
    """Fewest frustrated ties over every split, by plain enumeration (independent of sim)."""
    s = np.sign(x + x.T)
    n = len(s)
    return min(sum(1 for i in range(n) for j in range(i + 1, n)
                   if s[i, j] != 0 and s[i, j] * side[i] * side[j] < 0)
               for side in itertools.product((1, -1), repeat=n))


def brute_balanced(x: np.ndarray) -> float:
    s = np.sign(x + x.T)
    prods = [s[i, j] * s[j, k] * s[k, i] for i, j, k in itertools.combinations(range(len(s)), 3)]
    closed = [p for p in prods if p != 0]
    return sum(p > 0 for p in closed) / len(closed) if closed else np.nan


# ------------------------------------------------------------------------ balanced share


def test_balanced_share_counts_closed_triads_only():
    """K4, all friendly except one neutral dyad (2-3): the two triads through 2-3 are open,
    the other two balanced, so the share is 1 (counting open triads as unbalanced gave 0.5)."""
    x = complete(4)
    x[2, 3] = x[3, 2] = 0.0
    assert balanced_share(x) == 1.0


@pytest.mark.parametrize(("x", "share"), [
    (complete(4), 1.0),
    (complete(4, -1.0), 0.0),                                   # four unit vetoes
    (graph(4, {(0, 1): -1, (0, 2): 1, (0, 3): 1, (1, 2): 1, (1, 3): 1, (2, 3): 1}), 0.5),
    (graph(4, {(0, 1): 1, (0, 2): -1, (0, 3): -1, (1, 2): -1, (1, 3): -1, (2, 3): 1}), 1.0),
    (graph(4, {(0, 1): -1, (1, 2): 1, (0, 2): 0.5, (2, 3): -1}), 0.0),   # one closed, unbalanced
])
def test_balanced_share_of_hand_graphs(x, share):
    assert balanced_share(x) == share


def test_balanced_share_is_nan_without_a_closed_triad():
    path = graph(3, {(0, 1): 1.0, (1, 2): -1.0})
    assert np.isnan(balanced_share(path))
    assert np.isnan(balanced_share(np.zeros((2, 2))))


def test_balanced_share_fast_path_matches_enumeration_with_zero_ties():
    rng = np.random.default_rng(5)
    x = rng.choice([-0.5, 0.0, 0.5], size=(60, 6, 6), p=[0.4, 0.2, 0.4])
    x = np.triu(x, 1) + np.swapaxes(np.triu(x, 1), 1, 2)
    got = balanced_share(x)
    want = np.array([brute_balanced(v) for v in x])
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(metrics._balanced_exact(metrics.signed_graph(x)), want)


# ------------------------------------------------------------------------ frustration


@pytest.mark.parametrize(("x", "index", "normalized"), [
    (complete(4), 0, 1.0),
    (complete(3, -1.0), 1, 1 - 1 / 1.5),            # unit veto: one tie to flip
    (complete(4, -1.0), 2, 1 - 2 / 3),              # max cut of K4 is 4 of 6
    (complete(5, -1.0), 4, 1 - 4 / 5),              # max cut of K5 is 6 of 10
    (graph(4, {(0, 1): -1, (0, 2): 1, (0, 3): 1, (1, 2): 1, (1, 3): 1, (2, 3): 1}), 1,
     1 - 1 / 3),
    (graph(3, {(0, 1): 1.0, (1, 2): -1.0}), 0, 1.0),  # a path is always balanced
])
def test_frustration_of_hand_graphs(x, index, normalized):
    assert frustration(x) == index
    assert frustration_normalized(x) == pytest.approx(normalized)


def test_frustration_of_two_blocs_is_zero_and_grows_with_flips():
    side = np.array([1, 1, -1, 1, -1, -1, 1])
    x = 0.6 * np.outer(side, side)
    np.fill_diagonal(x, 0)
    assert frustration(x) == 0 and balanced_share(x) == 1.0
    x[0, 1] = x[1, 0] = -0.6     # two friends turned hostile: one frustrated tie
    assert frustration(x) == 1 and balanced_share(x) < 1.0


def test_frustration_matches_plain_enumeration_and_is_at_most_half_the_ties():
    rng = np.random.default_rng(8)
    for n in (3, 5, 7):
        x = rng.choice([-1.0, 0.0, 1.0], size=(25, n, n), p=[0.45, 0.1, 0.45])
        x = np.triu(x, 1) + np.swapaxes(np.triu(x, 1), 1, 2)
        got = frustration(x)
        assert got.tolist() == [brute_frustration(v) for v in x]
        ties = (np.abs(np.sign(x)).sum(axis=(1, 2)) / 2)
        assert (got <= ties / 2).all()


def test_frustration_keeps_the_run_axes():
    x = np.broadcast_to(complete(4, -1.0), (2, 3, 4, 4))
    assert frustration(x).shape == (2, 3) and (frustration(x) == 2).all()


def test_large_graphs_use_local_search_an_upper_bound(monkeypatch):
    """Above FRUSTRATION_EXACT_MAX the local search gives an upper bound: on graphs small
    enough to enumerate it is never below the exact index; on a planted two-bloc graph of
    40 states it finds 0, and with k ties flipped at most k."""
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, (40, 9, 9))
    exact = frustration(x)
    monkeypatch.setattr(metrics, "FRUSTRATION_EXACT_MAX", 2)
    bound = frustration(x)
    assert (bound >= exact).all() and (bound == exact).mean() > 0.5
    side = rng.choice([-1.0, 1.0], 40)
    planted = np.outer(side, side) * rng.uniform(0.1, 1, (40, 40))
    planted = np.triu(planted, 1) + np.triu(planted, 1).T
    monkeypatch.setattr(metrics, "FRUSTRATION_EXACT_MAX", 12)
    assert frustration(planted) == 0
    for i, j in ((0, 5), (7, 20), (30, 39)):
        planted[i, j] = planted[j, i] = -planted[i, j]
    assert frustration(planted) <= 3


# ------------------------------------------------------------------------ parsing


@pytest.mark.parametrize(("name", "canonical", "column"), [
    ("relation:USA-CHN", "relation:USA-CHN", "relation_USA-CHN"),
    ("relation:USA - CHN", "relation:USA-CHN", "relation_USA-CHN"),
    ("relation:USA<->CHN", "relation:USA-CHN", "relation_USA-CHN"),
    ("relation:USA->CHN", "relation:USA->CHN", "relation_USA->CHN"),
    ("relation_latent:CHN-RUS", "relation_latent:CHN-RUS", "relation_latent_CHN-RUS"),
    ("trade:CHN->USA", "trade:CHN->USA", "trade_CHN->USA"),
    ("trade:CHN-USA", "trade:CHN-USA", "trade_CHN-USA"),
    ("decision:CHN:pipeline", "decision:CHN:pipeline", "made_CHN:pipeline"),
    ("decision_month:USA:tariff@JPN", "decision_month:USA:tariff@JPN",
     "first_month_USA:tariff@JPN"),
    ("decision_count:USA:tariff", "decision_count:USA:tariff", "times_USA:tariff"),
    ("decision_probability:USA:tariff", "decision_probability:USA:tariff", "p_USA:tariff"),
    ("balanced_share", "balanced_share", "balanced_share"),
    ("frustration", "frustration", "frustration"),
    ("dittmer:EU-CHN-IND", "dittmer:EU-CHN-IND", "dittmer_EU-CHN-IND"),
    ("blocs:landscape", "blocs:landscape", "landscape_blocs"),
    # table columns name the same outcomes
    ("relation_USA-CHN", "relation:USA-CHN", "relation_USA-CHN"),
    ("relation_latent_USA-CHN", "relation_latent:USA-CHN", "relation_latent_USA-CHN"),
    ("made_RUS:price_concession@EU", "decision:RUS:price_concession@EU",
     "made_RUS:price_concession@EU"),
    ("first_month_CHN:pipeline", "decision_month:CHN:pipeline", "first_month_CHN:pipeline"),
    ("eigen_blocs", "blocs:eigen", "eigen_blocs"),
])
def test_names_parse_to_structured_outcomes(name, canonical, column):
    o = oc.parse(name)
    assert (o.name, o.column) == (canonical, column)
    assert oc.parse(o.name) == o and oc.parse(o.column) == o


def test_parsed_fields_need_no_string_handling():
    o = oc.parse("trade:CHN->USA")
    assert (o.kind, o.states, o.directed) == ("trade", ("CHN", "USA"), True)
    assert (o.label, o.unit, o.bounds) == ("CHN→USA trade", "goods shipped (USD bn/yr)",
                                           (0.0, None))
    d = oc.parse("decision:CHN:military_hardware")
    assert (d.kind, d.decision, d.label) == ("decision", "CHN:military_hardware",
                                             "CHN: military hardware taken")
    assert not oc.parse("dittmer:USA-CHN-RUS").numeric and oc.parse("frustration").numeric


@pytest.fixture(scope="module")
def world() -> World:
    return World.from_spec(load_scenario(BASELINE))


@pytest.mark.parametrize(("name", "message"), [
    ("relaton:USA-CHN", 'got kind relaton; expected one of relation, '),
    ("relaton:USA-CHN", '(did you mean "relation"?)'),
    ("relation:USA-CHM", 'got state CHM; expected a state of the scenario'),
    ("relation:USA-CHM", '(did you mean "CHN"?)'),
    ("decision:CHN:pipline", '(did you mean "CHN:pipeline"?)'),
    ("blocs:eigne", 'expected blocs:eigen or blocs:landscape (did you mean "eigen"?)'),
    ("relation:USA", "expected a pair of state ids as A-B"),
    ("relation:USA-USA", "expected 2 different states"),
    ("dittmer:USA-CHN", "expected three state ids as A-B-C"),
    ("relation", "got no pair; expected relation:USA-CHN"),
    ("frustration:USA", "expected frustration alone"),
    ("", "expected a name such as relation:USA-CHN"),
])
def test_bad_names_get_one_clear_line(world, name, message):
    with pytest.raises(oc.OutcomeError) as err:
        oc.parse(name, world)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert isinstance(err.value, UserError)


def test_state_ids_are_checked_against_the_world_only_when_given(world):
    o = oc.parse("relation:USA-KAZ")
    assert not o.available(world)
    with pytest.raises(oc.OutcomeError, match="got state KAZ"):
        o.check(world)
    assert oc.parse("relation:USA-CHN").available(world)


# ------------------------------------------------------------------------ values


@pytest.fixture(scope="module")
def traj(world) -> Trajectory:
    """Two runs by hand: relations, trade and decisions with known values."""
    t = Trajectory.empty(world, seed=0, runs=np.array([4, 9]))
    usa, chn, rus = world.triad()
    t.x[:, :, usa, chn], t.x[:, :, chn, usa] = -0.2, -0.6
    t.x[1, -1, usa, chn] = t.x[1, -1, chn, usa] = -1.0
    t.x[:, :, chn, rus] = t.x[:, :, rus, chn] = 0.5
    t.x[:, :, usa, rus] = t.x[:, :, rus, usa] = -0.3
    t.imports[:, :, usa, chn] = 400.0   # the US imports 400 from China
    t.imports[:, :, chn, usa] = 150.0
    t.fired[0, [2, 5], 0] = True        # run 0 takes decision 0 in months 2 and 5
    t.prob[:, :, 0] = np.linspace(0, 1, world.months)
    return t


def test_values_from_a_hand_built_trajectory(world, traj):
    def v(name, steps=None):
        return oc.parse(name, world).values(traj, steps)

    rel = v("relation:USA-CHN")
    assert (rel[0] == -0.4).all() and (rel[1, :-1] == -0.4).all() and rel[1, -1] == -1.0
    assert (v("relation:USA->CHN", [0, 5]) == -0.2).all()
    assert v("relation:CHN-USA")[0, 0] == -0.4
    latent = v("relation_latent:USA-CHN")
    assert latent[0, 0] == pytest.approx(np.arctanh(-0.4))
    assert latent[1, -1] == pytest.approx(np.arctanh(-1 + 1e-12)) and np.isfinite(latent).all()
    assert (v("trade:CHN->USA") == 400).all() and (v("trade:USA->CHN") == 150).all()
    assert (v("trade:USA-CHN") == 550).all()
    label = world.decisions[0].label
    assert v(f"decision:{label}", [0, 2, 3, 6, -1]).tolist() == [[0, 0, 1, 1, 1],
                                                                  [0, 0, 0, 0, 0]]
    assert v(f"decision_count:{label}", [2, 3, 6])[0].tolist() == [0, 1, 2]
    month = v(f"decision_month:{label}", [2, 3, -1])
    assert np.isnan(month[0, 0]) and month[0, 1:].tolist() == [2, 2]
    assert np.isnan(month[1]).all()
    p = v(f"decision_probability:{label}", [0, 1, -1])
    assert np.isnan(p[0, 0]) and p[0, 1] == 0 and p[0, 2] == 1
    assert v("dittmer:USA-CHN-RUS", [0])[0, 0] == "stable_marriage"


def test_blocs_outcomes_name_the_split(world):
    side = np.where(np.isin(world.ids, ["USA", "EU", "JPN"]), 1.0, -1.0)
    t = Trajectory.empty(world, seed=0, runs=np.arange(1))
    t.x[:] = 0.5 * np.outer(side, side) - 0.5 * np.eye(len(side))
    for method in ("eigen", "landscape"):
        got = oc.parse(f"blocs:{method}").values(t, [0, -1])
        assert (got == "USA EU JPN | CHN RUS IND").all()


def test_evaluate_is_tidy_with_draws_and_dates(world, traj):
    names = ["relation:USA-CHN", "trade:CHN->USA", f"decision:{world.decisions[0].label}"]
    df = oc.evaluate(traj, names, dates=[3, "horizon", "2025-05"])
    assert list(df.columns) == ["run", "draw", "step", "date", "outcome", "value"]
    assert len(df) == 3 * 2 * 3 and df["value"].dtype == float
    assert (df["draw"] == 0).all()
    assert df["date"].unique().tolist() == [world.dates()[3], world.dates()[-1], "2025-05"]
    row = df[(df.run == 4) & (df.outcome == names[2]) & (df.step == 3)]
    assert row["value"].item() == 1.0
    traj.draw = np.array([0, 1])
    try:
        assert oc.evaluate(traj, names[0], dates=-1)["draw"].tolist() == [0, 1]
    finally:
        del traj.draw
    text = oc.evaluate(traj, ["dittmer:USA-CHN-RUS", "frustration"], dates=0)
    assert text["value"].dtype == object


@pytest.mark.parametrize(("dates", "message"), [
    (["2099-01"], "expected a month from 2024-05 to 2030-05"),
    ([999], "got step 999; expected 0 .. 72"),
    (["2025-5"], "got '2025-5'"),
])
def test_evaluate_rejects_dates_outside_the_run(traj, dates, message):
    with pytest.raises(oc.OutcomeError, match=message):
        oc.evaluate(traj, "frustration", dates)


def test_evaluate_needs_per_run_values():
    with pytest.raises(oc.OutcomeError, match="streamed ensemble"):
        oc.evaluate(object(), "frustration")


def test_default_outcomes_of_any_world(world, write_scenario):
    names = oc.default_names(world)
    assert names[:3] == ["relation:USA-CHN", "relation:USA-RUS", "relation:CHN-RUS"]
    assert {"relation_latent:CHN-RUS", "trade:USA-CHN", "balanced_share", "frustration",
            f"decision:{world.decisions[-1].label}"} <= set(names)
    assert len(names) == 9 + len(world.decisions) + 2
    tiny = "".join(f'[[states]]\nid = "{s}"\nname = "{s}"\ncapability = 0.1\ngdp = 1.0\n'
                   f'ideal_point = {ip}\n' for s, ip in (("AAA", 0), ("BBB", 1), ("CCC", 2)))
    spec = load_scenario(write_scenario('[scenario]\nname = "t"\ntitle = "T"\nstart = '
                                        '"2024-01"\nmonths = 2\n' + tiny, "t.toml"))
    res = run(spec, runs=2, seed=1)
    assert oc.default_names(res.world) == [
        "relation:AAA-BBB", "relation:AAA-CCC", "relation:BBB-CCC", "relation_latent:AAA-BBB",
        "relation_latent:AAA-CCC", "relation_latent:BBB-CCC", "trade:AAA-BBB",
        "trade:AAA-CCC", "trade:BBB-CCC", "balanced_share", "frustration"]
    assert len(oc.evaluate(res, oc.default_names(res.world), dates="horizon")) == 11 * 2


# ------------------------------------------------------------------------ tables


@pytest.fixture(scope="module")
def res() -> Results:
    return run(BASELINE, runs=6, seed=2)


def test_tables_columns_come_from_the_registry(res):
    w = res.world
    assert list(res.summary.columns) == ["run", "draw", *(oc.parse(n).column for n in
                                                           summary_columns(w))]
    assert list(res.outcomes.columns) == ["run", "draw", "step", "date", *(
        oc.parse(n).column for n in outcomes_columns(w))]
    for name in ("relation:USA-CHN", "trade:CHN-RUS", "balanced_share", "frustration",
                 f"decision_month:{w.decisions[0].label}", "blocs:landscape"):
        o = oc.parse(name)
        want = oc.evaluate(res, name, dates="horizon")["value"].to_numpy()
        got = res.summary[o.column].to_numpy()
        assert (pd.isna(got) == pd.isna(want)).all()
        assert (got[~pd.isna(got)] == want[~pd.isna(want)]).all()


def test_summary_decisions_taken_counted_and_dated(res):
    for d in res.world.decisions:
        fired = res.traj.fired[:, :, d.index]
        s = res.summary
        assert s[f"made_{d.label}"].tolist() == fired.any(axis=1).astype(float).tolist()
        assert s[f"times_{d.label}"].tolist() == fired.sum(axis=1).astype(float).tolist()
        first = s[f"first_month_{d.label}"].to_numpy()
        ever = fired.any(axis=1)
        assert np.isnan(first[~ever]).all()
        assert first[ever].tolist() == np.argmax(fired[ever], axis=1).tolist()


def test_key_outcomes_keep_their_names_and_values(res):
    keys = res.key_outcomes()
    assert list(keys)[:3] == ["relation_USA-CHN", "relation_USA-RUS", "relation_CHN-RUS"]
    assert "balanced_share" in keys and f"made_{res.world.decisions[0].label}" in keys
    np.testing.assert_array_equal(keys["relation_USA-CHN"], res.relation("USA", "CHN"))
    with pytest.raises(oc.OutcomeError, match='did you mean "CHN"'):
        res.value("relation:USA-CHM")


def test_describe_lists_every_kind():
    table = oc.describe()
    assert set(table["name"].str.split(":").str[0]) == set(oc.KINDS)
    assert table["how"].str.len().min() > 20
