"""Shipped scenarios: valid, and every value carries a citation."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, SCENARIOS

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


ARTICLE_ENV = "SIM_ARTICLE"
"""Path of the article's text. It is not part of the project; CI sets it (.ci/run)."""
RUN = 8
"""Words in a row that count as copying."""
PROSE = ["README.md", "data/README.md", "docs/**/*.md", "notebooks/*.ipynb", "notebooks/*.py",
         "scenarios/*.toml", "sim/*.py"]
"""Files of the project written in words, checked against the article."""


def words(text: str) -> list[str]:
    """Lower-case words, punctuation and markup dropped (curly and straight quotes alike)."""
    return re.findall(r"\w+", text.replace("\u2019", "'").casefold())


def copied_runs(source: str, text: str, n: int = RUN) -> set[str]:
    """Every run of ``n`` consecutive words of ``source`` that also appears in ``text``."""
    def runs(w: list[str]) -> set[str]:
        return {" ".join(w[i:i + n]) for i in range(len(w) - n + 1)}

    return runs(words(source)) & runs(words(text))


def article_text() -> str:
    """The article from ``$SIM_ARTICLE``; in CI (``$CI`` set) it must be there, elsewhere the
    test is skipped with the reason."""
    env = os.environ.get(ARTICLE_ENV)
    if env:
        path = Path(env)
        if not path.is_file():
            pytest.fail(f"{ARTICLE_ENV}={env}: no such file; expected the article's text")
        return path.read_text(encoding="utf-8")
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"CI: {ARTICLE_ENV} is not set; .ci/run must point it at the article's "
                    "text so that the no-copy check runs")
    pytest.skip(f"article text not available: set {ARTICLE_ENV}=<path to article.txt> to check "
                "that no 8-word run of it was copied into the project (CI does)")


def test_copy_checker_finds_a_run_whatever_the_case_and_punctuation():
    source = "One two three, four five six seven eight nine."
    assert copied_runs(source, "x ONE two three four five six seven eight y") == {
        "one two three four five six seven eight"}
    assert copied_runs(source, "one two three four five six seven") == set()
    assert copied_runs("It\u2019s a b c d e f g", "it's a b c d e f g!")


def test_article_text_is_not_copied_into_the_project():
    """Paraphrase, never copy: no run of 8 words of the article appears in the project's
    scenarios, docs (docs/ARTICLE.md included), notebooks, READMEs or code."""
    article = article_text()
    files = sorted({p for pattern in PROSE for p in ROOT.glob(pattern) if p.is_file()})
    assert any(p.name == "ARTICLE.md" for p in files) and len(files) > 20
    copied = {str(p.relative_to(ROOT)): sorted(runs)[:3] for p in files
              if (runs := copied_runs(article, p.read_text(encoding="utf-8")))}
    assert not copied, f"article text copied (8+ words in a row): {copied}"
