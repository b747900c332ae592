"""Every notebook executes top to bottom and shows each figure it makes as an image, once;
committed notebooks carry no outputs.

Figure cells: the generator (notebooks/make_notebooks.py) tags every cell that makes a figure
``figure`` in its metadata. A cell whose source makes a figure (``FIGURE_CALL``) must carry the
tag, and after execution a tagged cell must show at least one ``image/png`` and no image twice;
no output anywhere may be a figure's bare text repr (``<Figure size 900x480 with 1 Axes>``).
The kernel runs with ``MPLBACKEND=Agg`` (as in CI), which is what turns figures into text when a
notebook does not select the inline backend itself.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT
from nbclient import NotebookClient

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
FIGURE_TAG = "figure"
# calls that make a matplotlib figure: sim.plots/backtest fig_* functions, Comparison.figures(),
# pyplot, pandas .plot()
FIGURE_CALL = re.compile(r"\bfig_\w+\(|\.figures\(\)|\bfigs\[|\bplt\.|\.plot\(")
FIGURE_TEXT = re.compile(r"^<Figure size \d+x\d+ with \d+ Axes>$")


def code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


def is_figure_cell(cell) -> bool:
    return FIGURE_TAG in cell.get("metadata", {}).get("tags", [])


def bare_figure_texts(cell) -> list[str]:
    """Outputs of ``cell`` that are a figure's text repr with no image beside it."""
    bare = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            texts = [out.text]
        else:
            data = out.get("data", {})
            texts = [] if "image/png" in data else [data.get("text/plain", "")]
        bare += [line for t in texts for line in t.splitlines() if FIGURE_TEXT.match(line)]
    return bare


def images(cell) -> list[str]:
    return [o.data["image/png"] for o in cell.get("outputs", [])
            if "image/png" in o.get("data", {})]


def figure_problems(nb) -> list[str]:
    """What is wrong with the figures of an executed notebook (empty list when nothing)."""
    problems = []
    for cell in code_cells(nb):
        bare = bare_figure_texts(cell)
        if bare:
            problems.append(f"cell {cell.id}: figure shown as text {bare[0]!r}")
        if not is_figure_cell(cell):
            continue
        shown = images(cell)
        if not shown:
            problems.append(f"cell {cell.id}: tagged {FIGURE_TAG!r} but has no image/png output")
        elif len(set(shown)) < len(shown):
            problems.append(f"cell {cell.id}: the same figure is shown twice")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_cells_that_make_figures_are_tagged(path: Path):
    nb = nbformat.read(path, as_version=4)
    untagged = [c.id for c in code_cells(nb)
                if FIGURE_CALL.search(c.source) and not is_figure_cell(c)]
    assert not untagged, f"cells making figures without the {FIGURE_TAG!r} tag: {untagged}"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes_and_shows_its_figures(path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")  # the kernel inherits it, as in CI
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for c in code_cells(nb) for o in c.outputs if o.output_type == "error"]
    assert not errors
    problems = figure_problems(nb)
    assert not problems, "\n".join(problems)
    assert any(is_figure_cell(c) for c in code_cells(nb)), "a notebook with no figure"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_outputs_are_stripped(path: Path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(c["outputs"] == [] and c["execution_count"] is None for c in code)


def test_there_are_notebooks():
    assert any(p.name == "01_baseline.ipynb" for p in NOTEBOOKS)


def test_figure_check_catches_text_figures_and_missing_images():
    """The figure check on hand-made outputs: text repr, no image, a duplicate, and a good cell."""
    repr_ = "<Figure size 900x480 with 1 Axes>"
    text = nbformat.v4.new_output("execute_result", {"text/plain": repr_}, execution_count=1)
    png = nbformat.v4.new_output("display_data", {"image/png": "iVBORw0KGgo=", "text/plain": repr_})
    cells = [nbformat.v4.new_code_cell("plots.fig_relations(res)", outputs=[text]),
             nbformat.v4.new_code_cell("x = 1"),
             nbformat.v4.new_code_cell("f = fig_a(); display(f); f", outputs=[png, png]),
             nbformat.v4.new_code_cell("plots.fig_trade(res)", outputs=[png])]
    for k, cell in enumerate(cells):
        cell.id = f"c{k}"
        if k != 1:
            cell.metadata["tags"] = [FIGURE_TAG]
    problems = figure_problems(nbformat.v4.new_notebook(cells=cells))
    assert problems == ["cell c0: figure shown as text '<Figure size 900x480 with 1 Axes>'",
                        "cell c0: tagged 'figure' but has no image/png output",
                        "cell c2: the same figure is shown twice"]
