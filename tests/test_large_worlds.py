"""Worlds of about 190 states: readable heatmaps, a bounded landscape split, and ``sim run``
choosing to stream by the memory per-run tables would need."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from sim.api import run, stream_reason, table_memory
from sim.cli import main
from sim.landscape import _weights, blocs_from_relations, energy
from sim.plots import LABELS_MAX, fig_heatmap, heatmap_layout, save_figures
from sim.spec import load_scenario


def synthetic(n: int, months: int = 3) -> str:
    """A scenario file of ``n`` states with ideal points spread over [-2, 2.7] and capabilities
    ~ 1/rank, no relations (the ideal-point rule fills them): a user's own large world."""
    weights = 1.0 / np.arange(1, n + 1)
    ids = ["USA", "CHN", "RUS"] + [f"S{k:03d}" for k in range(3, n)]
    ideal = {0: 2.5, 1: -0.4, 2: 0.0}
    lines = ["[scenario]", f'name = "world_{n}"', f'title = "{n} states"', 'start = "2013-01"',
             f"months = {months}", "seed = 11", ""]
    for k, sid in enumerate(ids):
        ip = ideal.get(k, -2.0 + 4.7 * ((k * 71) % n) / n)
        lines += ["[[states]]", f'id = "{sid}"', f'name = "State {k}"',
                  f"capability = {weights[k] / weights.sum():.8f}", "gdp = 0.1",
                  f"ideal_point = {ip:.4f}", ""]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def world190(tmp_path_factory):
    """A 190-state scenario file and its two-run ensemble."""
    path = tmp_path_factory.mktemp("w190") / "world_190.toml"
    path.write_text(synthetic(190))
    return path, run(load_scenario(path), runs=2, seed=1)


def tick_boxes(fig, axis: str):
    """Window extents (pixels) of the visible tick labels of every heatmap panel."""
    FigureCanvasAgg(fig).draw()
    out = []
    for ax in fig.axes[:2]:
        labels = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
        out.append([t for t in labels if t.get_visible() and t.get_text()])
    return out


@pytest.mark.parametrize("axis", ["x", "y"])
def test_heatmap_of_190_states_is_readable(world190, axis):
    """At most ~60 labels per axis, at least 6 pt, none overlapping; the figure grows with N
    up to a cap."""
    _, res = world190
    fig = fig_heatmap(res)
    w, h = fig.get_size_inches()
    assert 14 <= w <= 24 and 8 <= h <= 12, (w, h)
    for labels in tick_boxes(fig, axis):
        assert 20 <= len(labels) <= LABELS_MAX
        assert min(t.get_fontsize() for t in labels) >= 6
        boxes = sorted((t.get_window_extent() for t in labels),
                       key=lambda b: b.x0 if axis == "x" else b.y0)
        for a, b in itertools.pairwise(boxes):
            assert not a.overlaps(b), (a, b)


def test_heatmap_size_grows_with_states_up_to_a_cap():
    sides = [heatmap_layout(n)[0] for n in (3, 15, 40, 80, 190, 250)]
    assert sides == sorted(sides) and sides[-1] == sides[-2] == 10.0 and sides[3] > sides[2]
    assert [heatmap_layout(n)[1] for n in (6, 60, 80, 190)] == [1, 1, 2, 4]


def test_heatmap_order_csv_beside_the_figure(world190, tmp_path):
    """Above the label limit the full order is written: every state once, grouped by bloc
    (the first state's bloc first), with the labelled ones marked."""
    _, res = world190
    paths = save_figures(res, tmp_path, ("heatmap",))
    assert [p.name for p in paths] == ["heatmap.png", "heatmap_order.csv"]
    order = pd.read_csv(tmp_path / "heatmap_order.csv")
    assert list(order.columns) == ["position", "id", "name", "bloc", "labelled"]
    assert sorted(order["id"]) == sorted(res.world.ids)
    assert order.set_index("id").loc["USA", "bloc"] == 1
    assert order["bloc"].is_monotonic_increasing and set(order["bloc"]) == {1, 2}
    step = heatmap_layout(190)[1]
    assert order["labelled"].sum() == len(range(0, 190, step))


def test_small_heatmap_keeps_values_and_no_order_file(small, tmp_path):
    res = run(small, runs=2, seed=1)
    fig = fig_heatmap(res)
    assert tuple(fig.get_size_inches()) == (11, 4.8)
    assert sum(len(ax.texts) for ax in fig.axes[:2]) == 2 * 3 * 2  # every off-diagonal cell
    assert [p.name for p in save_figures(res, tmp_path, ("heatmap",))] == ["heatmap.png"]


def test_landscape_split_of_190_states_is_quick_and_a_local_minimum(world190):
    """The exhaustive search is exponential in N; above 16 states a heuristic under a work
    bound gives a split no single state would leave, quickly, whatever the batch."""
    _, res = world190
    rng = np.random.default_rng(3)
    x0 = res.world.x0
    x = np.clip(x0[None] + 0.3 * rng.normal(size=(4, *x0.shape)), -1, 1)
    x[:, np.arange(190), np.arange(190)] = 0.0
    sizes = res.world.capability
    t = time.perf_counter()
    sides = blocs_from_relations(x, sizes)
    assert time.perf_counter() - t < 5.0
    assert sides.shape == (4, 190) and set(np.unique(sides)) == {-1.0, 1.0}
    assert (sides[:, 0] == 1).all()
    for xr, s in zip(x, sides, strict=True):
        p = 0.5 * (xr + xr.T)
        assert np.all(s * (_weights(sizes, p) @ s) >= -1e-9)  # nobody gains by switching
        u1 = np.linalg.eigh(p * sizes[:, None] * sizes[None, :])[1][:, -1]
        assert energy(sizes, p, s) <= energy(sizes, p, np.where(u1 >= 0, 1, -1)) + 1e-12
    np.testing.assert_array_equal(blocs_from_relations(x[2], sizes), sides[2])


def test_memory_estimate_decides_streaming(world190, monkeypatch):
    """Per-run tables of 190 states x 3 months: about 29 MB a run; 2 GB fits 74 runs,
    whereas the baseline (6 states, 72 months) fits about 4000."""
    monkeypatch.delenv("SIM_MEMORY_BUDGET", raising=False)
    _, res = world190
    spec = res.world.spec
    assert table_memory(10, 3, 190) == 10 * 4 * 190**2 * 8 * 25
    assert stream_reason(spec, 74) is None
    assert "over the memory budget of 2.0 GB" in stream_reason(spec, 75)
    assert 3900 < 2 * 1024**3 / table_memory(1, 72, 6) < 4200


def test_large_world_streams_and_says_so(world190, tmp_path, capsys, monkeypatch):
    """``sim run`` of a large world streams when per-run tables would pass the budget, and
    says why in one line; the budget is set by SIM_MEMORY_BUDGET."""
    path, _ = world190
    monkeypatch.setenv("SIM_MEMORY_BUDGET", "100MB")
    out = tmp_path / "out"
    assert main(["run", str(path), "--runs", "6", "--out", str(out), "--quiet",
                 "--no-figures", "--workers", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    need = table_memory(6, 3, 190) // 1024**2
    assert lines[0].startswith(f"streaming: per-run tables of 6 runs x 3 months x 190 states "
                               f"would need about {need} MB, over the memory budget of 100 MB")
    assert (out / "stats.csv").is_file() and not (out / "timeseries.csv").exists()
    monkeypatch.setenv("SIM_MEMORY_BUDGET", "lots")
    assert main(["run", str(path), "--runs", "6", "--out", str(tmp_path / "o2"),
                 "--quiet"]) == 2
    assert "SIM_MEMORY_BUDGET: got 'lots'" in capsys.readouterr().err
    assert not (tmp_path / "o2").exists()
