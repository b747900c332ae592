"""Output folders: where ``sim`` may write, one writer at a time, atomic writing, the manifest.

Every command that writes a folder (``run``, ``rerun``, ``compare``, ``calibrate``,
``backtest``) goes through :func:`claim` and :func:`atomic_folder`:

- :func:`check_target` refuses the working directory, a folder containing it, the home folder
  and the filesystem root; a file; a non-empty folder unless ``force``; and even with
  ``force``, a folder that ``sim`` did not write (no sim ``manifest.json``) or that holds files
  its manifest does not list (the user's own).
- :func:`claim` holds a lock file ``.NAME.lock`` beside the target (``fcntl.flock``, released
  by the OS if the process dies) from the check to the final rename, so of two commands writing
  the same folder at once exactly one goes ahead; the other gets an :class:`OutputError`.
- :func:`atomic_folder` writes into a hidden sibling ``.NAME.partial-*`` and renames it into
  place when complete, after checking again under the lock; POSIX ``rename`` never replaces a
  non-empty folder, so a folder that appeared meanwhile is left alone. The folder gets the
  mode a plain ``mkdir`` gives under the user's umask. Any ``OSError`` (full disk, no
  permission) becomes one :class:`OutputError` line naming the path; nothing is left behind.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # not POSIX: fall back to an exclusive lock file
    fcntl = None  # type: ignore[assignment]


class UserError(Exception):
    """Anything the user can fix: shown as one line without a traceback, exit code 2."""


class OutputError(UserError):
    """The output folder cannot be used."""


IGNORED = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
"""Files a file browser adds to a folder; ``--force`` may remove them with it."""

_HELD: dict[Path, int] = {}
"""Targets (resolved) whose lock this process holds, with the lock file's descriptor."""


# ----------------------------------------------------------------------------- where to write


def _refuse_protected(out: Path) -> None:
    """Refuse the filesystem root, the home folder, the working directory and any folder
    containing it."""
    target = out.resolve()
    try:
        home = Path.home().resolve()
    except (RuntimeError, KeyError):
        home = None
    cwd = Path.cwd().resolve()
    what = ("the filesystem root" if target == Path(target.anchor) else
            "the home folder" if target == home else
            "the working directory or a folder containing it"
            if target == cwd or target in cwd.parents else None)
    if what:
        raise OutputError(f"{out}: is {what}; expected a folder of its own for the outputs, "
                          "e.g. outputs/NAME")


def _refuse_file_on_path(out: Path) -> None:
    """Refuse ``out`` or one of its parents being a file."""
    for p in (out, *out.parents):
        if p.exists() or p.is_symlink():
            if not p.is_dir():
                where = "" if p == out else f" (its parent {p} is a file)"
                raise OutputError(f"{out}: exists and is not a folder{where}; expected a "
                                  "folder path for --out")
            return


def sim_files_only(out: Path) -> None:
    """Raise :class:`OutputError` unless ``out`` was written by ``sim`` (a sim manifest) and
    holds only the files that manifest lists."""
    path = out / "manifest.json"
    hint = ("; --force replaces only a folder written by sim. Choose another --out, or move "
            "the folder away yourself")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OutputError(f"{out}: has no manifest.json, so sim did not write it{hint}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise OutputError(f"{path}: unreadable ({err}){hint}") from None
    if not isinstance(data, dict) or data.get("sim_manifest") != 1:
        raise OutputError(f"{path}: not a sim manifest (no sim_manifest = 1){hint}")
    listed = set(data.get("files") or [])
    if listed:
        extra = sorted(str(p.relative_to(out)) for p in out.rglob("*")
                       if (p.is_file() or p.is_symlink()) and p.name not in IGNORED
                       and str(p.relative_to(out)) not in listed)
        if extra:
            shown = ", ".join(extra[:3]) + (f" and {len(extra) - 3} more" if len(extra) > 3
                                            else "")
            raise OutputError(f"{out}: holds files sim did not write ({shown}); --force "
                              "replaces only what sim wrote. Move them, or choose another --out")


def check_target(out: Path, force: bool) -> None:
    """Refuse a protected folder (the working directory or one containing it, home, root), a
    file, a non-empty folder unless ``force``, and with ``force`` a folder not written by sim.

    Raises :class:`OutputError` (one line naming ``out`` and what was expected).
    """
    out = Path(out)
    try:
        _refuse_protected(out)
        _refuse_file_on_path(out)
        if not out.is_dir() or not any(out.iterdir()):
            return
        if not force:
            raise OutputError(f"{out}: folder is not empty; pass --force to replace a folder "
                              "sim wrote, or choose another --out")
        sim_files_only(out)
    except OSError as err:
        raise write_error(out, err) from None


def write_error(out: Path, err: OSError, tmp: Path | None = None) -> OutputError:
    """One line for an OS error while writing ``out`` (the partial folder ``tmp`` shown as
    ``out``)."""
    name = str(err.filename) if err.filename is not None else ""
    if tmp is not None and name.startswith(str(tmp)):
        name = str(out) + name[len(str(tmp)):]
    detail = f"{err.strerror or err}" + (f": {name}" if name and name != str(out) else "")
    return OutputError(f"{out}: cannot write ({detail}); nothing was written")


# ----------------------------------------------------------------------------- one writer


def _lock_path(target: Path) -> Path:
    return target.parent / f".{target.name}.lock"


def _lock(target: Path, shown: Path) -> int:
    """Take the lock of ``target``; its file descriptor. Raises :class:`OutputError` if another
    process holds it."""
    path = _lock_path(target)
    busy = OutputError(f"{shown}: another sim command is writing this folder (lock {path}); "
                       "wait for it to finish, or choose another --out")
    for _ in range(10):
        if fcntl is None:
            try:
                return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                raise busy from None
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise busy from None
        # the previous holder removes the file when done: make sure ours is still the one there
        try:
            st, mine = os.stat(path), os.fstat(fd)
            if (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino):
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)
    raise busy


def _unlock(target: Path, fd: int) -> None:
    """Remove the lock file, then release the lock (in this order: see :func:`_lock`)."""
    with suppress(OSError):
        _lock_path(target).unlink()
    os.close(fd)


def _make_parents(folder: Path) -> list[Path]:
    """Create ``folder`` and missing parents; the folders created, deepest first."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    return missing


@contextmanager
def claim(out: Path, force: bool) -> Iterator[None]:
    """Check ``out`` (:func:`check_target`) and hold its lock until the block ends, so no other
    ``sim`` command writes it meanwhile. Re-entrant within one process. Raises
    :class:`OutputError`: a refused target, another command holding the lock, or an OS error
    creating the parent folders (then nothing is left behind)."""
    out = Path(out)
    check_target(out, force)
    target = out.resolve()
    if target in _HELD:
        yield
        return
    created: list[Path] = []
    try:
        created = _make_parents(target.parent)
        fd = _lock(target, out)
    except OSError as err:
        _remove_empty(created)
        raise write_error(out, err) from None
    except BaseException:
        _remove_empty(created)
        raise
    _HELD[target] = fd
    try:
        check_target(out, force)  # again, now that no other sim can change it
        yield
    finally:
        del _HELD[target]
        _unlock(target, fd)
        _remove_empty(created)


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders that are still empty, deepest first."""
    for p in folders:
        with suppress(OSError):
            p.rmdir()


# ----------------------------------------------------------------------------- atomic writing


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_folder(out: Path, force: bool) -> Iterator[Path]:
    """Yield a temporary folder beside ``out``; when the block ends without error it becomes
    ``out`` in one rename (a folder ``sim`` wrote is replaced only with ``force``).

    Raises :class:`OutputError` for a refused target (:func:`check_target`), another command
    writing ``out``, or any ``OSError`` while writing (full disk, no permission): one line,
    and the temporary folder is removed.
    """
    out = Path(out)
    with claim(out, force):
        target = out.resolve()
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
            os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700; a plain mkdir's mode
        except OSError as err:
            raise write_error(out, err) from None
        try:
            yield tmp
            _install(tmp, target, out, force)
        except OSError as err:
            shutil.rmtree(tmp, ignore_errors=True)
            raise write_error(out, err, tmp) from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


def _install(tmp: Path, target: Path, out: Path, force: bool) -> None:
    """Rename ``tmp`` to ``target``; an existing folder sim wrote is moved aside first and
    removed after (put back if the rename fails). Raises :class:`OutputError` if a folder
    appeared at ``target`` meanwhile (it is left alone)."""
    check_target(out, force)
    old = None
    if target.is_dir() and any(target.iterdir()):
        old = target.parent / f".{target.name}.old-{os.getpid()}"
        os.rename(target, old)
    try:
        os.rename(tmp, target)  # POSIX: only an absent target or an empty folder is replaced
    except OSError as err:
        if old is not None:
            os.rename(old, target)
        if err.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
            raise OutputError(f"{out}: something appeared there while sim was writing; left "
                              "it alone and wrote nothing. Choose another --out") from None
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# ----------------------------------------------------------------------------- manifest


def file_hash(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def _extends(path: Path) -> list[str]:
    """The ``extends`` of a scenario file (one path or a list; cite-wrapped or not)."""
    try:
        meta = tomllib.loads(path.read_text(encoding="utf-8-sig")).get("scenario", {})
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return []
    refs = meta.get("extends") if isinstance(meta, dict) else None
    refs = refs.get("value") if isinstance(refs, dict) else refs
    refs = [refs] if isinstance(refs, str) else refs
    return [r for r in refs if isinstance(r, str)] if isinstance(refs, list) else []


def shown_path(path: Path) -> Path:
    """``path`` (absolute) relative to the working directory if inside it, else as is."""
    try:
        return path.relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def scenario_files(sources: Iterable[str | Path | None]) -> list[Path]:
    """Every file the scenario files ``sources`` were read from: each file, then its ``extends``
    parents (one path or a list, at any depth, found as :mod:`sim.spec` finds them), once each.
    Missing files are skipped (a scenario built in memory has none)."""
    out: list[Path] = []
    seen: set[Path] = set()

    def walk(path: Path, shown: Path) -> None:
        real = path.resolve()
        if real in seen or not real.is_file():
            return
        seen.add(real)
        out.append(shown)
        for ref in _extends(real):
            parent = real.parent / ref
            walk(parent, shown_path(parent.resolve()))

    for source in sources:
        if source:
            walk(Path(source), Path(source))
    return out


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
    for pkg in ("sim", "mesa", "numpy", "scipy", "pandas", "matplotlib", "pydantic"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def resolved(spec: Any) -> dict[str, Any]:
    """A scenario (:class:`~sim.spec.ScenarioSpec`) after ``extends`` and cite unwrapping, as
    plain JSON-able data (what a manifest records)."""
    return spec.model_dump(mode="json", exclude={"cites", "source"}, exclude_none=True)


def manifest(scenario_files: list[Path], resolved: list[dict[str, Any]], settings: dict[str, Any],
             files: list[str]) -> dict[str, Any]:
    """What is needed to repeat a run and check it is the same."""
    return {
        "sim_manifest": 1,
        "scenario_files": [{"path": str(p), "hash": file_hash(p)} for p in scenario_files],
        "resolved_scenarios": resolved,
        "settings": settings,
        "seeds": {"master": settings.get("seed"),
                  "rule": "Philox4x64-10 with key SeedSequence(master).generate_state(2, "
                          "uint64) and counter words (block, stream, month, run), stream 0 "
                          "noise (normals by ndtri), 1 decisions (uniforms "
                          "((bits >> 12) + 0.5) * 2**-52) (sim.seeds)"},
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
