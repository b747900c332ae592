"""Writes notebooks/04_explore.ipynb (outputs stripped). Run from the repo root:
``python notebooks/make_explore_notebook.py``. Edit here, not in the .ipynb."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
INLINE = "%matplotlib inline\n"


def figure_cell(source: str) -> nbformat.NotebookNode:
    """A code cell showing one figure, tagged ``figure`` (tests/test_notebooks.py)."""
    return new_code_cell(source, metadata={"tags": ["figure"]})


CELLS = [
    new_markdown_cell("""# Exploring the baseline: which assumptions, which conditions, which events

Small sizes so that the notebook runs in a minute; `docs/EXPLORE.md` has the full-size results
(`python docs/make_explore.py`). The same analyses run from the command line as
`sim sensitivity`, `sim discover` and `sim attribute`."""),
    new_code_cell(INLINE + """import warnings

warnings.filterwarnings("ignore", message="ipyparallel")
from sim.explore.sensitivity import morris, sobol
from sim.explore.discovery import discover
from sim.explore.attribution import attribute"""),
    new_markdown_cell("""## Screening every parameter (Morris)
Every registered number of the baseline, policies included, over its declared distribution
(or a stated fallback range): μ* ranks how much each moves the outcome."""),
    new_code_cell("""screen = morris("baseline", outcomes=["relation:CHN-RUS"], r=6, reps=1)
screen.top("relation:CHN-RUS", k=8)"""),
    figure_cell("""screen.figures()[f"morris_relation_CHN-RUS_{screen.dates[-1]}"]"""),
    new_markdown_cell("""## Sobol indices with intervals and convergence
The top factors of the screen; first-order and total indices with 95% bootstrap intervals,
flags for intervals wider than 0.1 or including 0, and the share of a run's variance due to
the model's own noise."""),
    new_code_cell("""res = sobol("baseline", outcomes=["relation:CHN-RUS"], n=64, reps=2, top=6,
            screen_r=4)
print(res.noise[["outcome", "date", "noise_share"]].to_string(index=False))
res.top("relation:CHN-RUS")"""),
    figure_cell("""res.figures()[f"sobol_relation_CHN-RUS_{res.dates[-1]}"]"""),
    figure_cell("""res.figures()[f"convergence_relation_CHN-RUS_{res.dates[-1]}"]"""),
    new_markdown_cell("""## The effect of tariff escalation, paired
The same draws and random streams in both scenarios: the outcome is the effect run by run."""),
    new_code_cell("""eff = sobol("baseline", vs="tariff_escalation", outcomes=["trade:USA-CHN"],
            n=32, reps=2, top=4, screen_r=3)
eff.top("trade:USA-CHN")"""),
    new_markdown_cell("""## Which event matters
Each scheduled event removed and scaled ×0.5 / ×1.5, each policy switched off, paired with the
full scenario."""),
    new_code_cell("""att = attribute("baseline", outcomes=["trade:USA-CHN"], draws=8,
                runs_per_draw=2)
att.table.sort_values("mean", key=abs, ascending=False).head(6)[
    ["item", "change", "mean", "param_lo", "param_hi"]]"""),
    figure_cell("""att.figures()[f"tornado_trade_USA-CHN_{att.dates[-1]}"]"""),
    new_markdown_cell("""## Under which conditions (PRIM)
The article's outcome as a condition on registered outcomes."""),
    new_code_cell("""dis = discover("baseline", "relation:CHN-RUS at 2027-05 > 0.8 and "
               "decision:CHN:finance_access by 2027-05", draws=200)
print(f"holds in {dis.share:.1%} of runs")
dis.box"""),
    figure_cell("""dis.figures()["prim_trajectory"]"""),
]


def main() -> None:
    nb = new_notebook(cells=CELLS, metadata={"kernelspec": {"name": "python3",
                                                            "display_name": "Python 3",
                                                            "language": "python"}})
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"explore-{i:02d}"
    nbformat.write(nb, HERE / "04_explore.ipynb")


if __name__ == "__main__":
    main()
