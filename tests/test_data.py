"""The shipped data: described, cited correctly, cut at 2019 where they are outcomes; and no
path outside the repository anywhere in the project."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from conftest import ROOT

from sim.observation.channel import CALIBRATION_END

DATA = ROOT / "data"
README = (DATA / "README.md").read_text(encoding="utf-8")
OUTCOMES = {  # file -> its date column; outcome and market series stop at 2019
    "derived_idealpoint_distances_USA_CHN_RUS.csv": "year",
    "derived_trade_series_long.csv": "year",
    "derived_unga_agreement_by_year_long.csv": "year",
    "derived_statedept_coincidence_with_USA_CHN_RUS_2013_2019.csv": "year",
    "derived_us_china_trade_monthly_2010_2019.csv": "month",
    "derived_unga_rollcall_votes_1991_2019.csv": "date",
    "derived_brent_cnyusd_monthly_2010_2019.csv": "month",
}
CITED = re.compile(r"data/([\w.-]+\.csv|landscape_syria_2016)")


def test_every_shipped_file_is_described():
    entries = {p.relative_to(DATA).parts[0] for p in DATA.rglob("*")
               if p.is_file() and p.name != "README.md"}
    assert len(entries) >= 14
    missing = [e for e in sorted(entries) if f"`{e}" not in README]
    assert not missing, f"data/README.md does not describe {missing}"


@pytest.mark.parametrize("name", sorted(OUTCOMES))
def test_outcome_series_stop_at_2019(name):
    column = OUTCOMES[name]
    dates = pd.read_csv(DATA / name, dtype={column: str})[column].dropna()
    assert not dates.empty
    years = dates.str[:4].astype(int)
    assert years.max() == CALIBRATION_END == 2019, name
    assert name in README


def test_every_cited_data_file_exists():
    """``data/<file>`` in scenario cites, docs and code names a file that ships."""
    texts = [*ROOT.glob("scenarios/*.toml"), *ROOT.glob("docs/*.md"), *ROOT.glob("sim/*.py"),
             ROOT / "README.md"]
    cited = {m for p in texts for m in CITED.findall(p.read_text(encoding="utf-8"))}
    assert "timeline_events_2014_2024.csv" in cited
    missing = sorted(c for c in cited if not (DATA / c).exists())
    assert not missing, f"cited but not in data/: {missing}"


def test_nothing_points_outside_the_repository():
    """A clone has nothing beside it: no code, test, doc, scenario or notebook may name a path
    outside the repository (CI machinery in .ci/ aside)."""
    outside = re.compile(r"\.\./" + "shared" + r"|/work/" + r"(shared|main)")
    kinds = ("*.py", "*.md", "*.toml", "*.ipynb", "*.json", "Makefile", "*.cfg", "*.txt")
    skip = {".venv", ".git", ".ci", "outputs", "build", "dist"}
    hits = []
    for pattern in kinds:
        for path in ROOT.rglob(pattern):
            rel = path.relative_to(ROOT)
            if skip & set(rel.parts) or any(part.endswith(".egg-info") for part in rel.parts):
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if outside.search(line):
                    hits.append(f"{rel}:{n}")
    assert not hits, f"paths outside the repository: {hits[:10]}"
