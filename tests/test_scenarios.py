"""Shipped scenarios: valid, and every value carries a citation."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from conftest import SCENARIOS

from sim.spec import META_KEYS, load_scenario

FILES = sorted(SCENARIOS.glob("*.toml"))


def uncited(node: Any, path: str = "", covered: bool = False) -> list[str]:
    """Key paths of values with no cite of their own and none on an enclosing table."""
    if isinstance(node, dict) and "value" in node and set(node) <= {"value", "cite"}:
        return [] if covered or node.get("cite") else [path]
    if isinstance(node, dict):
        covered = covered or (bool(path) and isinstance(node.get("cite"), str))
        return [p for k, v in node.items() if k not in META_KEYS
                for p in uncited(v, f"{path}.{k}" if path else k, covered)]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in uncited(v, f"{path}[{i}]", covered)]
    return [] if covered else [path]


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_shipped_scenario_is_valid_and_cited(path: Path):
    spec = load_scenario(path)
    assert spec.scenario.name == path.stem
    raw = tomllib.loads(path.read_text())
    missing = uncited(raw)
    assert not missing, f"{path.name}: values without a cite: {missing}"


def test_checker_catches_an_uncited_value():
    assert uncited({"states": [{"id": "X", "gdp": 1.0}]}) == ["states[0].gdp"]
    assert uncited({"events": [{"type": "visit", "intensity": 2.0, "cite": "a"}]}) == []
    assert uncited({"trade": {"A->B": {"value": 3.0}}}) == ["trade.A->B"]


def test_article_text_is_not_copied_into_scenarios():
    """Paraphrase, never copy: no 8-word run of the article appears in a scenario file."""
    article = Path(__file__).resolve().parents[2] / "shared" / "article.txt"
    if not article.is_file():
        article = Path(__file__).resolve().parents[1].parent / "shared" / "article.txt"
    words = article.read_text().lower().split()
    runs = {" ".join(words[i:i + 8]) for i in range(len(words) - 7)}
    for path in FILES:
        text = " ".join(path.read_text().lower().split())
        assert not [r for r in runs if r in text], path.name
