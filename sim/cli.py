"""Command line: ``sim run | validate | schema | list | rerun``.

Bad input prints one line naming the file, key path, bad value and what was expected, and
exits with code 2 without writing anything.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

from sim.output import OutputError, check_target, compare_folders, read_manifest
from sim.spec import ScenarioError, json_schema, load_scenario

EXIT_BAD_INPUT = 2


class UserError(Exception):
    """Anything the user can fix; shown without a traceback."""


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}; expected a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"got {value}; expected a number of at least 1")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}; expected a whole number >= 0") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"got {value}; expected 0 <= seed < 2**63")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sim", description="Scenario simulator of great-power "
                                "alignment (USA, China, Russia and neighbours).")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("run", help="run a scenario as an ensemble; write tables and figures")
    r.add_argument("scenario", type=Path, help="scenario file (.toml)")
    r.add_argument("--runs", type=_positive, default=100, help="number of runs (default 100)")
    r.add_argument("--seed", type=_seed, default=None, help="master seed (default: scenario's)")
    r.add_argument("--out", type=Path, default=None, help="output folder "
                   "(default outputs/<scenario name>)")
    r.add_argument("--force", action="store_true", help="replace a non-empty output folder")
    r.add_argument("--engine", choices=("auto", "mesa", "batched"), default="auto",
                   help="auto = Mesa for one run, batched for more (same results)")
    r.add_argument("--no-figures", action="store_true", help="write tables only")
    r.add_argument("--quiet", action="store_true", help="no progress bar")

    v = sub.add_parser("validate", help="check scenario files without running them")
    v.add_argument("scenarios", type=Path, nargs="+")

    sub.add_parser("schema", help="print the JSON Schema of scenario files")

    ls = sub.add_parser("list", help="list the scenarios in a folder with their titles")
    ls.add_argument("folder", type=Path, nargs="?", default=Path("scenarios"))

    rr = sub.add_parser("rerun", help="repeat a run from its manifest and check the files match")
    rr.add_argument("folder", type=Path, help="a folder written by sim run")
    rr.add_argument("--out", type=Path, default=None, help="where to write (default FOLDER-rerun)")
    rr.add_argument("--force", action="store_true")
    rr.add_argument("--quiet", action="store_true")
    return p


def cmd_run(args: argparse.Namespace) -> int:
    from sim.api import run, write_run

    spec = load_scenario(args.scenario)
    out = args.out or Path("outputs") / spec.scenario.name
    check_target(out, args.force)
    res = run(spec, runs=args.runs, seed=args.seed, engine=args.engine, progress=not args.quiet)
    write_run(res, out, force=args.force, figures=not args.no_figures,
              settings={"engine": args.engine})
    _report(out, res)
    return 0


def _report(out: Path, res) -> None:
    s = res.summary
    cols = [c for c in s.columns if c.startswith("relation_")]
    print(f"wrote {out}/ ({s.shape[0]} runs, {res.world.months} months)")
    for c in cols:
        q = s[c].quantile([0.05, 0.5, 0.95]).to_numpy()
        print(f"  {c.removeprefix('relation_'):>8} at horizon: median {q[1]:+.2f} "
              f"(90%: {q[0]:+.2f} .. {q[2]:+.2f})")


def cmd_validate(args: argparse.Namespace) -> int:
    for path in args.scenarios:
        spec = load_scenario(path)
        print(f"ok  {path}: {spec.scenario.name} - {len(spec.states)} states, "
              f"{len(spec.events)} events, {len(spec.policies)} policies, "
              f"{spec.scenario.months} months from {spec.scenario.start}")
    return 0


def cmd_schema(_: argparse.Namespace) -> int:
    print(json.dumps(json_schema(), indent=2))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    files = sorted(args.folder.glob("*.toml"))
    if not files:
        raise UserError(f"{args.folder}: no scenario files (*.toml); expected a scenarios folder")
    width = max(len(f.stem) for f in files)
    for f in files:
        try:
            meta = tomllib.loads(f.read_text(encoding="utf-8")).get("scenario", {})
            title = meta.get("title", "")
            parent = meta.get("extends")
            parent = parent.get("value") if isinstance(parent, dict) else parent
            note = f"  [extends {Path(parent).stem}]" if parent else ""
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, AttributeError) as err:
            title, note = f"(unreadable: {err})", ""
        print(f"{f.stem:<{width}}  {title}{note}")
    return 0


def cmd_rerun(args: argparse.Namespace) -> int:
    from sim.api import rerun_spec, run, write_run

    data = read_manifest(args.folder)
    settings = data["settings"]
    if settings.get("kind") != "run":
        raise UserError(f"{args.folder}/manifest.json: settings.kind is {settings.get('kind')!r};"
                        " expected 'run' (sim rerun repeats sim run folders)")
    out = args.out or args.folder.with_name(args.folder.name + "-rerun")
    check_target(out, args.force)
    spec = rerun_spec(data)
    res = run(spec, runs=settings["runs"], seed=settings["seed"],
              engine=settings.get("engine", "auto"), progress=not args.quiet)
    write_run(res, out, force=args.force, figures=settings.get("figures", True),
              settings={"engine": settings.get("engine", "auto")})
    diff = compare_folders(args.folder, out)
    if diff:
        print(f"rerun wrote {out}/ but {len(diff)} file(s) differ: {', '.join(diff[:5])}")
        return 1
    print(f"rerun wrote {out}/: every file identical to {args.folder}/ (manifest aside)")
    return 0


COMMANDS = {"run": cmd_run, "validate": cmd_validate, "schema": cmd_schema, "list": cmd_list,
            "rerun": cmd_rerun}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (ScenarioError, OutputError, UserError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted; nothing written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
