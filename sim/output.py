"""Output folders: atomic writing, refusal to overwrite, and the manifest.

A run folder is first written to a hidden sibling (``.DIR.partial-*``) and renamed into place
only when complete, so an interrupted or failed run leaves nothing half-written; an existing
folder is replaced only with ``force``.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any


class UserError(Exception):
    """Anything the user can fix: shown as one line without a traceback, exit code 2."""


class OutputError(UserError):
    """The output folder cannot be used."""


def check_target(out: Path, force: bool) -> None:
    """Refuse a non-empty folder unless ``force``; refuse a file."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder; expected a folder path for --out")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise OutputError(f"{out}: folder is not empty; pass --force to replace it, "
                          "or choose another --out")


@contextmanager
def atomic_folder(out: Path, force: bool) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces ``out`` in one rename."""
    check_target(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        out.rename(old)
    tmp.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def file_hash(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def git_commit() -> str | None:
    """The commit of the code (with ``+dirty`` if the tree has changes), if in a checkout."""
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                             text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=here, capture_output=True, text=True, timeout=5).stdout
        return rev + ("+dirty" if dirty.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("sim", "mesa", "numpy", "pandas", "matplotlib", "pydantic"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def manifest(scenario_files: list[Path], resolved: list[dict[str, Any]], settings: dict[str, Any],
             files: list[str]) -> dict[str, Any]:
    """What is needed to repeat a run and check it is the same."""
    return {
        "sim_manifest": 1,
        "scenario_files": [{"path": str(p), "hash": file_hash(p)} for p in scenario_files],
        "resolved_scenarios": resolved,
        "settings": settings,
        "seeds": {"master": settings.get("seed"),
                  "rule": "run i uses numpy SeedSequence(master, spawn_key=(i,)), split into "
                          "noise and decision streams (sim.seeds)"},
        "versions": versions(),
        "git_commit": git_commit(),
        "command": [Path(sys.argv[0]).name, *sys.argv[1:]],
        "time_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": sorted(files),
    }


def write_manifest(folder: Path, data: dict[str, Any]) -> None:
    (folder / "manifest.json").write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / "manifest.json"
    if not path.is_file():
        raise OutputError(f"{path}: no manifest.json; expected a folder written by sim run "
                          "or sim compare")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise OutputError(f"{path}: not valid JSON ({err}); expected a sim manifest") from None
    if data.get("sim_manifest") != 1:
        raise OutputError(f"{path}: key sim_manifest is {data.get('sim_manifest')!r}; "
                          "expected 1 (a manifest written by sim)")
    return data


def compare_folders(a: Path, b: Path, skip: Callable[[str], bool] | None = None) -> list[str]:
    """Relative paths of files that differ (or exist in only one) between two folders."""
    def files(root: Path) -> set[str]:
        return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}

    skip = skip or (lambda name: name == "manifest.json")
    names = {n for n in files(a) | files(b) if not skip(n)}
    return sorted(n for n in names
                  if not ((a / n).is_file() and (b / n).is_file()
                          and (a / n).read_bytes() == (b / n).read_bytes()))
