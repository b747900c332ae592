"""Completed chunks of a large ensemble, kept beside its output folder so that an interrupted
``sim run`` resumes where it stopped.

The store is the hidden folder ``.NAME.chunks/`` beside the output folder ``NAME``: a
``key.json`` (what the chunks are of: scenario hash, seed, runs, chunk size, engine, versions)
and one file per saved piece, named by chunk index (``chunk-000003.npz``: that chunk's arrays;
``state-000003.npz``: the statistics of chunks 0..3; ``runs-000003.arrow``: that chunk's
per-run rows). Every piece is written to a temporary name and renamed, so a piece is either
complete or absent. Running the same command again reads the pieces whose key matches; a
different key means another run: the store is emptied (with a note), never mixed. The command
removes the store once its folder is written.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.output import OutputError, UserError, shown_path, versions, write_error

KEY_FILE = "key.json"
FORMAT = 1
ROW_GROUP = 65_536
"""Rows per row group of a joined Parquet file (:meth:`ChunkStore.join_tables`)."""


def store_path(out: Path) -> Path:
    """The chunk store of output folder ``out``: ``.NAME.chunks`` beside it."""
    target = Path(out).resolve()
    return target.parent / f".{target.name}.chunks"


def spec_hash(resolved: dict[str, Any]) -> str:
    """SHA-256 of a resolved scenario (its JSON with sorted keys)."""
    text = json.dumps(resolved, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass
class ChunkStore:
    """Pieces of one ensemble in ``folder``, valid for ``key`` (see the module docstring).

    The ensemble calls :meth:`begin` with its own settings before reading or saving anything;
    nothing is created on disk until then. Methods raise :class:`~sim.output.OutputError` on
    an OS error (full disk, no permission), naming the path.
    """

    folder: Path
    key: dict[str, Any]
    say: Callable[[str], None] = _stderr
    runs_done: int = 0
    runs_total: int = 0

    # ------------------------------------------------------------------ key
    def _read_key(self) -> dict[str, Any] | None:
        try:
            data = json.loads((self.folder / KEY_FILE).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return None
        return data if isinstance(data, dict) and data.get("format") == FORMAT else None

    def saved_chunk(self) -> int | None:
        """The runs per chunk of the pieces saved here, if any: a resumed ensemble keeps them
        (the default chunk size depends on the worker count, results do not)."""
        old = self._read_key() if self.folder.exists() else None
        chunk = None if old is None else old.get("chunk")
        return chunk if isinstance(chunk, int) and chunk > 0 else None

    def begin(self, settings: dict[str, Any]) -> None:
        """Use the store for an ensemble with ``settings`` (chunk size, engine, ...): keep the
        pieces saved under the same key, else empty the store (saying why)."""
        full = {"format": FORMAT, **self.key, **settings,
                "versions": {k: v for k, v in versions().items() if k in ("sim", "numpy")}}
        full = json.loads(json.dumps(full))  # as it reads back
        try:
            if self.folder.exists():
                old = self._read_key()
                if old == full:
                    return
                if old is None and any(p.name != KEY_FILE for p in self.folder.iterdir()):
                    raise OutputError(f"{self.folder}: exists but has no sim {KEY_FILE}; it is "
                                      "not a chunk store sim wrote. Move it away, or choose "
                                      "another --out")
                if old is not None:
                    differ = sorted(k for k in full.keys() | old.keys()
                                    if full.get(k) != old.get(k))
                    verb = "differs" if len(differ) == 1 else "differ"
                    self.say(f"note: {shown_path(self.folder)} holds chunks of another run "
                             f"({', '.join(differ)} {verb}); starting over")
                shutil.rmtree(self.folder)
            self.folder.mkdir()
            self._write(KEY_FILE, lambda f: f.write(json.dumps(full, indent=1).encode()))
        except OSError as err:
            raise write_error(self.folder, err) from None

    # ------------------------------------------------------------------ pieces
    def _write(self, name: str, write: Callable[[Any], Any]) -> None:
        tmp = self.folder / f".{name}.tmp"
        try:
            with open(tmp, "wb") as f:
                write(f)
            tmp.replace(self.folder / name)
        except OSError as err:
            with suppress(OSError):
                tmp.unlink()
            raise write_error(self.folder, err) from None

    def save(self, name: str, arrays: dict[str, np.ndarray]) -> None:
        """Save arrays as ``name.npz``."""
        self._write(f"{name}.npz", lambda f: np.savez(f, **arrays))

    def load(self, name: str) -> dict[str, np.ndarray] | None:
        """The arrays of ``name.npz``, or None if absent or unreadable."""
        try:
            with np.load(self.folder / f"{name}.npz") as data:
                return {k: data[k] for k in data.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile):
            return None

    def names(self, prefix: str) -> dict[int, str]:
        """Saved pieces ``prefix-NNNNNN.*`` by chunk index."""
        out = {}
        with suppress(OSError):
            for p in self.folder.iterdir():
                stem, _, index = p.name.split(".")[0].rpartition("-")
                if stem == prefix and index.isdigit():
                    out[int(index)] = p.name
        return out

    def save_table(self, name: str, table: Any) -> None:
        """Save a pyarrow table as ``name.arrow`` (Arrow IPC: read back exactly)."""
        import pyarrow as pa

        def write(f: Any) -> None:
            with pa.ipc.new_file(f, table.schema) as writer:
                writer.write_table(table)

        self._write(f"{name}.arrow", write)

    def load_table(self, name: str) -> Any:
        import pyarrow as pa

        with pa.memory_map(str(self.folder / f"{name}.arrow")) as source:
            return pa.ipc.open_file(source).read_all()

    def join_tables(self, names: list[str], path: Path) -> None:
        """Write the tables ``names`` (saved by :meth:`save_table`), in order, to one Parquet
        file ``path`` in row groups of :data:`ROW_GROUP` rows, so the file's bytes do not
        depend on how the rows were chunked; at most a row group and a table in memory."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        writer = None
        pending: pa.Table | None = None

        def write(table: pa.Table) -> None:
            nonlocal writer
            writer = writer or pq.ParquetWriter(path, table.schema)
            writer.write_table(table.combine_chunks(), row_group_size=ROW_GROUP)

        try:
            for name in names:
                table = self.load_table(name)
                pending = table if pending is None else pa.concat_tables([pending, table])
                while pending.num_rows >= ROW_GROUP:
                    write(pending.slice(0, ROW_GROUP))
                    pending = pending.slice(ROW_GROUP)
            if pending is not None and (pending.num_rows or writer is None):
                write(pending)
            if writer is not None:
                writer.close()
                writer = None
        except OSError as err:
            raise write_error(self.folder, err) from None
        finally:
            if writer is not None:  # after an error: the file is removed with the store
                with suppress(OSError):
                    writer.close()

    def has(self, name: str) -> bool:
        return (self.folder / name).is_file()

    def delete(self, name: str) -> None:
        with suppress(OSError):
            (self.folder / name).unlink()

    def resumed(self, done: int, total: int) -> None:
        """Record (and say, if any) how many of ``total`` runs were read back."""
        self.runs_done, self.runs_total = done, total
        if done:
            self.say(f"resuming: {done:,} of {total:,} runs already done (kept in "
                     f"{shown_path(self.folder)})")

    def progressed(self, done: int) -> None:
        self.runs_done = done

    def remove(self) -> None:
        """Delete the store (only a folder with our key file, or an empty one)."""
        if self.folder.is_dir() and (self._read_key() is not None
                                     or not any(self.folder.iterdir())):
            shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def resumable(out: Path, key: dict[str, Any], command: str = "the same command"
              ) -> Iterator[ChunkStore]:
    """A :class:`ChunkStore` for output folder ``out``: removed when the block succeeds or
    fails with a user error (full disk included: nothing left behind); kept if interrupted
    (Ctrl-C, or a crash) with runs done, saying how to resume."""
    store = ChunkStore(store_path(out), key)
    try:
        yield store
    except UserError:
        store.remove()
        raise
    except BaseException as exc:
        if store.runs_done:
            how = "interrupted" if isinstance(exc, KeyboardInterrupt) else "stopped"
            store.say(f"{how}: {store.runs_done:,} of {store.runs_total:,} runs are kept in "
                      f"{shown_path(store.folder)}; run {command} again to resume")
        else:
            store.remove()
        raise
    store.remove()


__all__ = ["ChunkStore", "resumable", "spec_hash", "store_path"]
