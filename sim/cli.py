"""Command line: ``sim run | validate | schema | params | list | rerun | compare | calibrate |
backtest | explore | sensitivity | discover | attribute``.

Bad input prints one line naming the file, key path, bad value and what was expected, and
exits with code 2 without writing anything.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
import tomllib
import typing
from collections.abc import Sequence
from pathlib import Path

from sim.engine import BackendError
from sim.output import OutputError, UserError, check_target, claim, compare_folders, read_manifest
from sim.spec import ScenarioError, json_schema, load_scenario, month_label

EXIT_BAD_INPUT = 2
EXPLORE_HOST = "127.0.0.1"  # the explorer is for this machine only
EXPLORE_PORT = 8765


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


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}; expected a port number") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"got {value}; expected a port from 1 to 65535")
    return value


def _months(text: str) -> list[str]:
    dates = [d.strip() for d in text.split(",") if d.strip()]
    if not dates or not all(re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", d) for d in dates):
        raise argparse.ArgumentTypeError(f"got {text!r}; expected YYYY-MM dates separated by "
                                         "commas, e.g. 2025-05,2027-05")
    return dates


TYPE_WORDS = {"int": "a whole number", "float": "a number"}
"""argparse's names of the types it failed to convert, in words."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line naming the problem, plus a hint
    ``try: sim <cmd> --help``, exit code 2; never the usage text."""

    def error(self, message: str) -> typing.NoReturn:  # type: ignore[override]
        print(f"error: {self.prog}: {usage_text(message, self)}", file=sys.stderr)
        print(f"try: {self.prog} --help", file=sys.stderr)
        self.exit(EXIT_BAD_INPUT)

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[override]
        ns, extra = super().parse_known_args(args, namespace)
        sub = getattr(self, "commands", {}).get(getattr(ns, "command", None))
        if extra and sub is not None:  # name the subcommand the option is unknown to
            sub.error(f"unrecognized arguments: {' '.join(extra)}")
        return ns, extra


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return [o for a in parser._actions for o in a.option_strings if o.startswith("--")]


def usage_text(message: str, parser: argparse.ArgumentParser) -> str:
    """argparse's ``message`` in the words of the other errors (``got X; expected Y``, a
    did-you-mean for a misspelt option, command or choice)."""
    from sim.spec import did_you_mean

    m = re.fullmatch(r"argument (\S+): invalid choice: '?(.*?)'? \(choose from (.*)\)",
                     message)
    if m:
        choices = [c.strip(" '") for c in m.group(3).split(",")]
        return (f"{m.group(1)}: got {m.group(2)!r}; expected one of {', '.join(choices)}"
                + did_you_mean(m.group(2), choices).replace('"', "'"))
    m = re.fullmatch(r"argument (\S+): invalid (\w+) value: '(.*)'", message)
    if m:
        return (f"{m.group(1)}: got {m.group(3)!r}; expected "
                f"{TYPE_WORDS.get(m.group(2), 'a ' + m.group(2) + ' value')}")
    m = re.fullmatch(r"argument (\S+): (expected (?:one|at least one) argument)", message)
    if m:
        return f"{m.group(1)}: got nothing; {m.group(2).replace('argument', 'value after it')}"
    m = re.fullmatch(r"argument (\S+): (.*)", message)
    if m:
        return f"{m.group(1)}: {m.group(2)}"
    m = re.fullmatch(r"unrecognized arguments: (.*)", message)
    if m:
        words = m.group(1).split()
        first = next((w for w in words if w.startswith("-")), words[0])
        what = "option" if first.startswith("-") else "argument"
        hint = did_you_mean(first.split("=")[0], _options(parser)).replace('"', "")
        return f"unknown {what} {first}{hint}"
    m = re.fullmatch(r"the following arguments are required: (.*)", message)
    if m:
        return f"missing {m.group(1)} (required)"
    return message


def _version() -> str:
    """The installed distribution's version ("unknown" when run from a tree not installed)."""
    from importlib import metadata

    try:
        return metadata.version("sim")
    except metadata.PackageNotFoundError:
        return "unknown"


def _parallel_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=_positive, default=None,
                   help="local worker processes for chunks of 1000 runs (default: all cores)")
    p.add_argument("--dask", metavar="ADDRESS", default=None,
                   help="Dask scheduler (tcp://host:8786, or 'env' for $SIM_DASK_SCHEDULER); "
                        "same results as local runs")


def build_parser() -> argparse.ArgumentParser:
    from sim.ensemble import ENGINES

    p = Parser(prog="sim", description="Scenario simulator of great-power "
                                "alignment (USA, China, Russia and neighbours).")
    p.add_argument("--version", action="version", version=f"sim {_version()}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("run", help="run a scenario as an ensemble; write tables and figures")
    r.add_argument("scenario", type=Path, help="scenario file (.toml) or the name of a shipped "
                   "scenario (e.g. baseline; see sim list)")
    r.add_argument("--runs", type=_positive, default=None,
                   help="total runs (default: draws x runs per draw, 200 x 5; alone: that many "
                        "draws of one run each; with --fixed-params: that many runs, default "
                        "100)")
    r.add_argument("--draws", type=_positive, default=None,
                   help="parameter draws from the scenario's [uncertainties] (default 200)")
    r.add_argument("--runs-per-draw", type=_positive, default=None,
                   help="runs per parameter draw, each with its own noise (default 5)")
    r.add_argument("--fixed-params", action="store_true",
                   help="no parameter uncertainty: the scenario's values, noise only")
    r.add_argument("--seed", type=_seed, default=None, help="master seed (default: scenario's)")
    r.add_argument("--out", type=Path, default=None, help="output folder "
                   "(default outputs/<scenario name>)")
    r.add_argument("--force", action="store_true", help="replace a non-empty output folder")
    r.add_argument("--engine", choices=ENGINES, default="auto",
                   help="auto = Mesa for one run, batched for more (same results); numba = "
                        "the batched engine compiled (pip install sim[fast]; equal within "
                        "1e-12)")
    r.add_argument("--no-figures", action="store_true", help="write tables only")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    _parallel_arguments(r)
    r.add_argument("--stream", action="store_true",
                   help="keep per-month statistics only (automatic when per-run tables "
                        "would exceed $SIM_MEMORY_BUDGET, default 2GB); writes 3 of the 6 "
                        "figures, relations, trade and deals: heatmap, triangle and patterns "
                        "need every run's values, which a streamed run does not keep")
    r.add_argument("--keep-runs", action="store_true",
                   help="with streaming, also write every run's rows to runs.parquet")
    r.add_argument("--triangle-dates", type=_months, default=None, metavar="YYYY-MM,...",
                   help="dates of the strategic-triangle figure (default: start, +12, +36 "
                        "months and the horizon)")

    v = sub.add_parser("validate", help="check scenario files without running them")
    v.add_argument("scenarios", type=Path, nargs="+",
                   help="scenario files (.toml) or names of shipped scenarios")

    sub.add_parser("schema", help="print the JSON Schema of scenario files")

    pa = sub.add_parser("params", help="list every parameter of a scenario: value, default, "
                        "unit, range, whether the calibration identifies it, source")
    pa.add_argument("scenario", type=Path,
                    help="scenario file (.toml) or name of a shipped scenario")
    pa.add_argument("--csv", action="store_true", help="comma-separated, every column in full")

    ls = sub.add_parser("list", help="list the scenarios in a folder with their titles")
    ls.add_argument("folder", type=Path, nargs="?", default=None,
                    help="a folder of scenario files (default: the shipped scenarios)")

    rr = sub.add_parser("rerun", help="repeat a run from its manifest and check the files match")
    rr.add_argument("folder", type=Path, help="a folder written by sim run")
    rr.add_argument("--out", type=Path, default=None, help="where to write (default FOLDER-rerun)")
    rr.add_argument("--force", action="store_true",
                    help="replace a non-empty output folder that sim wrote")
    rr.add_argument("--quiet", action="store_true", help="no progress bar")

    c = sub.add_parser("compare", help="run scenarios with the same random streams and compare "
                       "them run by run with the first")
    c.add_argument("scenarios", type=Path, nargs="+",
                   help="scenario files (.toml) or shipped scenario names, at least 2; the "
                        "first is the reference")
    c.add_argument("--runs", type=_positive, default=None,
                   help="runs per scenario (default: draws x runs per draw; alone: that many "
                        "draws of one run)")
    c.add_argument("--draws", type=_positive, default=None,
                   help="parameter draws, from the first scenario's [uncertainties], shared by "
                        "every scenario (default 200)")
    c.add_argument("--runs-per-draw", type=_positive, default=None,
                   help="runs per parameter draw (default 5)")
    c.add_argument("--fixed-params", action="store_true",
                   help="no parameter uncertainty: each scenario's own values, noise only "
                        "(default 100 runs)")
    c.add_argument("--seed", type=_seed, default=None,
                   help="master seed shared by every scenario (default: the first one's)")
    c.add_argument("--out", type=Path, default=None,
                   help="output folder (default outputs/compare-<first>-vs-<second>, or "
                        "-vs-<number of others> for more than two)")
    c.add_argument("--force", action="store_true", help="replace a non-empty output folder")
    c.add_argument("--engine", choices=ENGINES, default="auto",
                   help="auto = Mesa for one run, batched for more (same results); numba = "
                        "the batched engine compiled (pip install sim[fast]; equal within "
                        "1e-12)")
    c.add_argument("--quiet", action="store_true", help="no progress bar")
    _parallel_arguments(c)

    from sim.resources import default_calibration_out, history_scenario, is_checkout

    history, out = history_scenario(), default_calibration_out()

    data_help = "data folder (default $SIM_DATA_DIR, else the shipped data)"
    history_help = f"history scenario: a file or a shipped name (default {history.stem})"
    out_help = ("output folder (default: this checkout's calibration/, the one sim reads)"
                if is_checkout() else f"output folder (default {out}/ in the working "
                "directory; the installed package's own calibration is never overwritten: "
                "pass --calibration to sim backtest to use yours)")
    cal = sub.add_parser("calibrate", help="Bayesian posterior of the model's and the "
                         "observation channels' parameters from data through 2019 (emcee)")
    cal.add_argument("--history", type=Path, default=history, help=history_help)
    cal.add_argument("--out", type=Path, default=out, help=out_help)
    cal.add_argument("--force", action="store_true", help="replace a non-empty output folder")
    cal.add_argument("--data", type=Path, default=None, help=data_help)
    cal.add_argument("--quick", action="store_true", help="a few steps to check the "
                     "machinery (seconds; not a usable posterior)")
    cal.add_argument("--steps", type=_positive, default=None,
                     help="steps per walker (default 12000, as shipped: about an hour on one "
                     "core; fewer give a rougher posterior)")
    cal.add_argument("--walkers", type=_positive, default=None, help="walkers (even, at least "
                     "twice the number of parameters)")
    cal.add_argument("--replicates", type=_positive, default=None,
                     help="runs per parameter vector in the simulated likelihood")
    cal.add_argument("--seed", type=_seed, default=None, help="sampler seed")
    cal.add_argument("--quiet", action="store_true", help="no progress bar")

    bt = sub.add_parser("backtest", help="filter the history to each origin, score rolling-"
                        "origin forecasts 2014-2019 against naive baselines, forecast 2020-2024")
    bt.add_argument("--out", type=Path, required=True, help="output folder")
    bt.add_argument("--runs", type=_positive, default=200,
                    help="particles of the filter (default 200)")
    bt.add_argument("--seed", type=_seed, default=None, help="master seed (default: scenario's)")
    bt.add_argument("--force", action="store_true", help="replace a non-empty output folder")
    bt.add_argument("--history", type=Path, default=history,
                    help=f"history scenario: a file or a shipped name (default {history.stem})")
    bt.add_argument("--calibration", type=Path, default=None,
                    help="folder with posterior.csv.gz from sim calibrate (default: the shipped "
                         "calibration/; particles carry posterior draws)")
    bt.add_argument("--no-calibration", action="store_true",
                    help="use the scenario's and the channels' default parameters instead")
    bt.add_argument("--data", type=Path, default=None, help=data_help)
    bt.add_argument("--no-evaluation", action="store_true",
                    help="skip the rolling origins (only the 2020-2024 forecasts)")
    bt.add_argument("--no-param-uncertainty", action="store_true",
                    help="every particle takes the posterior mean")
    bt.add_argument("--quiet", action="store_true", help="no progress bar")

    ex = sub.add_parser("explore", help="open the scenario explorer in the browser "
                        "(solara run sim/app.py on 127.0.0.1; needs the viz extra)")
    ex.add_argument("--port", type=_port, default=EXPLORE_PORT,
                    help=f"port on 127.0.0.1 (default {EXPLORE_PORT})")
    ex.add_argument("--no-open", action="store_true", help="do not open a web browser")

    from sim.explore.cli import add_parsers

    add_parsers(sub, _positive, _seed)  # sensitivity, discover, attribute
    p.commands = dict(sub.choices)
    return p


def cmd_run(args: argparse.Namespace) -> int:
    spec = load_scenario(args.scenario)
    out = args.out or Path("outputs") / spec.scenario.name
    check_target(out, args.force)
    dates = {month_label(spec.scenario.start, t) for t in range(spec.scenario.months + 1)}
    for d in args.triangle_dates or []:
        if d not in dates:
            raise UserError(f"--triangle-dates: got {d!r}; expected a month from "
                            f"{spec.scenario.start} to {max(dates)}")
    return _run(spec, out, args)


def _run(spec, out: Path, opts: argparse.Namespace) -> int:
    """Run ``spec`` with the options of ``sim run`` and write ``out``, holding its lock
    throughout; finished chunks are kept beside ``out`` until it is written, so that the same
    command resumes an interrupted run (:mod:`sim.chunks`)."""
    from sim.api import resolved
    from sim.chunks import resumable, spec_hash
    from sim.uncertainty import make_design, summary

    design = make_design(spec, opts.runs, opts.draws, opts.runs_per_draw, opts.seed,
                         opts.fixed_params)
    key = {"scenario": spec_hash(resolved(spec)), "seed": int(design.seed),
           "runs": int(design.runs), "draws": design.digest()}
    argv = getattr(opts, "argv", None)
    again = f"`{shlex.join(['sim', *argv])}`" if argv else "the same command"
    with claim(out, opts.force), resumable(out, key, again) as store:
        if not opts.quiet:
            print(summary(design))
        return _compute(spec, design, out, opts, store)


def _compute(spec, design, out: Path, opts: argparse.Namespace, store) -> int:
    """The body of :func:`_run`: the runs of ``design`` (a :class:`sim.uncertainty.Design`) as
    per-run tables, or streamed statistics for large ensembles (finished chunks kept in
    ``store``)."""
    from sim.api import run, stream, stream_reason, write_run, write_stats

    parallel = {"workers": opts.workers, "dask": opts.dask, "store": store}
    figures, progress = not opts.no_figures, not opts.quiet
    too_big = None if opts.stream else stream_reason(spec, design.runs)
    if too_big:
        print(too_big)
    if opts.stream or too_big:
        keep = store.folder / "runs.parquet" if opts.keep_runs else None
        engine = "batched" if opts.engine == "auto" else opts.engine
        stats = stream(spec, design=design, progress=progress, keep_runs=keep, engine=engine,
                       **parallel)
        write_stats(stats, out, force=opts.force, figures=figures,
                    settings={"engine": engine, "stream": True, "keep_runs": keep})
        _report_stats(out, stats, figures)
        return 0
    res = run(spec, design=design, engine=opts.engine, progress=progress, **parallel)
    write_run(res, out, force=opts.force, figures=figures,
              settings={"engine": opts.engine, "stream": False},
              triangle_dates=opts.triangle_dates)
    _report(out, res)
    return 0


def _report(out: Path, res) -> None:
    from sim import outcomes as oc
    from sim.uncertainty import counted

    s = res.summary
    print(f"wrote {out}/ ({counted(s.shape[0], 'run')}, {res.world.months} months)")
    for a, b in res.key_pairs():
        q = s[oc.parse(f"relation:{a}-{b}").column].quantile([0.05, 0.5, 0.95]).to_numpy()
        print(f"  {a + '-' + b:>8} at horizon: median {q[1]:+.2f} "
              f"(90%: {q[0]:+.2f} .. {q[2]:+.2f})")
    top = s["landscape_blocs"].value_counts(normalize=True)
    print(f"  blocs landscape theory favours at horizon: {top.index[0]} "
          f"({top.iloc[0]:.0%} of runs)")


def _report_stats(out: Path, stats, figures: bool) -> None:
    """What :func:`_report` prints, for a streamed ensemble, how approximate it is and which
    figures it has."""
    from sim.api import QUANTILE_NOTE, STREAM_FIGURES
    from sim.uncertainty import counted

    print(f"wrote {out}/ ({counted(stats.runs, 'run')} streamed, "
          f"{stats.world.months} months)")
    for a, b in stats.key_pairs():
        pair = (a, b) if (a, b) in stats.quantile_dyads else (b, a)
        if pair in stats.quantile_dyads:
            q = stats.quantile([0.05, 0.5, 0.95])[:, -1, stats.quantile_dyads.index(pair)]
            print(f"  {a + '-' + b:>8} at horizon: median {q[1]:+.2f} "
                  f"(90%: {q[0]:+.2f} .. {q[2]:+.2f})")
    print(f"  {QUANTILE_NOTE} (stats.csv, summary_stats.csv)")
    if figures:
        print(f"  figures: {', '.join(STREAM_FIGURES)} only (heatmap, triangle and patterns "
              "need every run's values, which a streamed run does not keep)")


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


def cmd_params(args: argparse.Namespace) -> int:
    import csv

    from sim.params import SCHEMA, table

    rows = table(load_scenario(args.scenario))
    if args.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return 0

    def shown(v: object) -> str:
        return ("true" if v else "false") if isinstance(v, bool) else f"{v:g}" if isinstance(
            v, float) else str(v)

    cols = ("name", "value", "default", "unit", "range", "plausible", "identified",
            "uncertainty")
    cells = [[shown(r[c]) for c in cols] + [r["source"] + (
        f" Plausible: {r['plausible_source']}." if r["plausible"] else "")] for r in rows]
    widths = [max(len(c), *(len(row[k]) for row in cells)) for k, c in enumerate(cols)]
    print(f"# {args.scenario}: {len(rows)} parameters; range = allowed values, from the {SCHEMA}")
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)) + "  source")
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)) + "  " + row[-1])
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from sim.resources import scenarios_dir

    if args.folder is None:
        args.folder = scenarios_dir()
    files = sorted(args.folder.glob("*.toml"))
    if not files:
        raise UserError(f"{args.folder}: no scenario files (*.toml); expected a scenarios folder")
    width = max(len(f.stem) for f in files)
    for f in files:
        try:
            meta = tomllib.loads(f.read_text(encoding="utf-8-sig")).get("scenario", {})
            title = meta.get("title", "")
            parents = meta.get("extends") or []
            parents = parents.get("value") if isinstance(parents, dict) else parents
            parents = [parents] if isinstance(parents, str) else parents
            note = f"  [extends {' + '.join(Path(p).stem for p in parents)}]" if parents else ""
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, AttributeError) as err:
            title, note = f"(unreadable: {err})", ""
        print(f"{f.stem:<{width}}  {title}{note}")
    return 0


def cmd_rerun(args: argparse.Namespace) -> int:
    from sim.api import rerun_spec

    data = read_manifest(args.folder)
    settings = data["settings"]
    if settings.get("kind") != "run":
        raise UserError(f"{args.folder}/manifest.json: settings.kind is {settings.get('kind')!r};"
                        " expected 'run' (sim rerun repeats sim run folders)")
    out = args.out or args.folder.with_name(args.folder.name + "-rerun")
    if out.resolve() == args.folder.resolve():
        raise UserError(f"--out {out}: is the folder being rerun; expected another folder to "
                        "write the rerun into (default FOLDER-rerun)")
    check_target(out, args.force)
    if settings.get("engine") == "numba":
        from sim.engine import numba_backend

        try:
            numba_backend()
        except BackendError as err:
            raise UserError(f"{args.folder}/manifest.json: settings.engine is 'numba', which "
                            f"needs numba, not installed here ({err.cause}); expected numba "
                            "to repeat the run: pip install sim[fast] (numpy's results differ "
                            "from numba's by up to 1e-12, so another engine would not give "
                            "identical files)") from None
    unc = settings.get("uncertainty") or {"fixed_params": True}  # older manifests: noise only
    opts = argparse.Namespace(argv=getattr(args, "argv", None),
        runs=settings["runs"], seed=settings["seed"], engine=settings.get("engine", "auto"),
        draws=unc.get("draws"), runs_per_draw=unc.get("runs_per_draw"),
        fixed_params=bool(unc.get("fixed_params")),
        force=args.force, no_figures=not settings.get("figures", True), quiet=args.quiet,
        workers=None, dask=None, stream=bool(settings.get("stream")),
        keep_runs=bool(settings.get("keep_runs")), triangle_dates=settings.get("triangle_dates"))
    _run(rerun_spec(data), out, opts)
    diff = compare_folders(args.folder, out)
    _calibration_note(unc, read_manifest(out)["settings"].get("uncertainty") or {})
    if diff:
        print(f"rerun wrote {out}/ but {len(diff)} file(s) differ: {', '.join(diff[:5])}")
        return 1
    print(f"rerun wrote {out}/: every file identical to {args.folder}/ (manifest aside)")
    return 0


def _calibration_note(before: dict, after: dict) -> None:
    """Say so if the calibration report the draws came from has changed since the run."""
    old, new = before.get("calibration") or {}, after.get("calibration") or {}
    if old.get("hash") and old.get("hash") != new.get("hash"):
        print(f"  note: the calibration report {old.get('report')} has changed since the run "
              f"({old['hash'][:19]}... then, {str(new.get('hash'))[:19]}... now): draws from "
              "the calibration differ")


def cmd_compare(args: argparse.Namespace) -> int:
    from sim.comparison import compare, default_out, load_scenarios
    from sim.uncertainty import counted

    specs = load_scenarios(args.scenarios)
    names = [s.scenario.name for s in specs]
    out = args.out or default_out(names)
    with claim(out, args.force):  # one writer from the check to the rename
        comp = compare(specs, runs=args.runs, seed=args.seed, engine=args.engine,
                       progress=not args.quiet, draws=args.draws,
                       runs_per_draw=args.runs_per_draw, fixed_params=args.fixed_params,
                       workers=args.workers, dask=args.dask)
        comp.write(out, force=args.force)
    print(f"wrote {out}/ ({len(names)} scenarios × {counted(comp.runs, 'run')} each, "
          f"seed {comp.seed}; "
          f"reference {names[0]})")
    print("\n".join(comp.summary_lines()))  # the same numbers as effects.md
    return 0


def _data_folder(arg: Path | None) -> Path:
    from sim.resources import data_dir

    folder = Path(arg) if arg is not None else data_dir()
    marker = "derived_idealpoint_distances_USA_CHN_RUS.csv"
    if not (folder / marker).is_file():
        raise UserError(f"{folder}: no {marker}; expected the data folder (set SIM_DATA_DIR "
                        "or pass --data)")
    return folder


def cmd_calibrate(args: argparse.Namespace) -> int:
    from sim.calibrate import calibrate, settings_for
    from sim.resources import scenario_path

    history = scenario_path(args.history)
    if args.data is not None:  # the channels read $SIM_DATA_DIR (sim.resources.data_dir)
        os.environ["SIM_DATA_DIR"] = str(_data_folder(args.data))
    settings = settings_for(args.quick, steps=args.steps, walkers=args.walkers,
                            replicates=args.replicates, seed=args.seed)
    with claim(args.out, args.force):  # one writer from the check to the rename
        calibrate(history, args.out, force=args.force, settings=settings, quiet=False,
                  progress=not args.quiet)
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    from sim.backtest import backtest, print_summary
    from sim.resources import POSTERIOR, calibration_dir

    if args.calibration is not None and args.no_calibration:
        raise UserError("--calibration and --no-calibration: expected one of them")
    if args.calibration is None and not args.no_calibration:
        args.calibration = calibration_dir()
    if args.calibration is not None and not (Path(args.calibration) / POSTERIOR).is_file():
        raise UserError(f"--calibration {args.calibration}: no {POSTERIOR}; expected a folder "
                        "written by `sim calibrate` with posterior draws")
    before = os.environ.get("SIM_DATA_DIR")
    if args.data is not None:  # the channels read $SIM_DATA_DIR (sim.resources.data_dir)
        os.environ["SIM_DATA_DIR"] = str(_data_folder(args.data))
    with claim(args.out, args.force):  # one writer from the check to the rename
        try:
            res = backtest(args.out, runs=args.runs, seed=args.seed, force=args.force,
                           history=args.history, calibration=args.calibration,
                           evaluate=not args.no_evaluation,
                           param_uncertainty=not args.no_param_uncertainty,
                           progress=not args.quiet)
        except ValueError as err:
            raise UserError(str(err)) from None
        finally:
            if before is None:
                os.environ.pop("SIM_DATA_DIR", None)
            else:
                os.environ["SIM_DATA_DIR"] = before
    print_summary(res)
    return 0


def explore_command(port: int, no_open: bool) -> list[str]:
    """The ``solara run`` command line of the explorer (``sim/app.py``) on
    :data:`EXPLORE_HOST` and ``port``."""
    app = Path(__file__).resolve().parent / "app.py"
    return [sys.executable, "-m", "solara", "run", str(app), "--host", EXPLORE_HOST,
            "--port", str(port), "--production", *(["--no-open"] if no_open else [])]


def explore_env() -> dict[str, str]:
    """The environment of the explorer's server: this one, with Solara's usage reporting off,
    its "runs on Solara" banner hidden (it covered the page's bottom-right corner) and
    matplotlib drawing off-screen."""
    return {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
            "SOLARA_THEME_SHOW_BANNER": "False", "MPLBACKEND": "Agg"}


def cmd_explore(args: argparse.Namespace) -> int:
    """Run the explorer until Ctrl+C. Raises UserError if the ``viz`` extra (solara) is not
    installed or the port is taken."""
    import importlib.util
    import socket
    import subprocess

    if importlib.util.find_spec("solara") is None:
        raise UserError("sim explore: solara is not installed; the explorer needs the viz "
                        "extra: pip install 'sim[viz]' (or pip install -e '.[viz]')")
    with socket.socket() as probe:
        try:
            probe.bind((EXPLORE_HOST, args.port))
        except OSError as err:
            raise UserError(f"sim explore: --port {args.port}: cannot listen on "
                            f"{EXPLORE_HOST}:{args.port} ({err.strerror}); expected a free "
                            "port, e.g. --port 8766") from None
    print(f"sim explore: http://{EXPLORE_HOST}:{args.port}/ (Ctrl+C stops it)", flush=True)
    try:
        return subprocess.call(explore_command(args.port, args.no_open), env=explore_env())
    except KeyboardInterrupt:
        return 0


COMMANDS = {"run": cmd_run, "validate": cmd_validate, "schema": cmd_schema, "list": cmd_list,
            "params": cmd_params,
            "rerun": cmd_rerun, "compare": cmd_compare, "calibrate": cmd_calibrate,
            "backtest": cmd_backtest, "explore": cmd_explore}


def _explore_commands() -> None:
    from sim.explore.cli import COMMANDS as EXPLORE

    COMMANDS.update(EXPLORE)


_explore_commands()


def _resolve_scenarios(args: argparse.Namespace) -> None:
    """Scenario arguments (``scenario``, ``scenarios``, ``--history``) as files: an existing
    path as is, a bare name such as ``baseline`` as the shipped scenario
    (:func:`sim.resources.scenario_path`; raises ``ResourceError`` with a did-you-mean)."""
    from sim.resources import scenario_path

    for key in ("scenario", "scenarios", "history"):
        value = getattr(args, key, None)
        if isinstance(value, list):
            setattr(args, key, [scenario_path(v) for v in value])
        elif value is not None:
            setattr(args, key, scenario_path(value))


def _numba_missing(err: BackendError) -> str:
    """The command line's words for numba not installed: the CLI options, not the API's."""
    return (f"--engine numba: needs numba, which is not installed ({err.cause}); install it "
            "with `pip install sim[fast]` or use --engine batched (numpy, the reference)")


def _check_engine(args: argparse.Namespace) -> None:
    """``--engine numba`` without numba installed: a UserError before anything runs."""
    if getattr(args, "engine", None) == "numba":
        from sim.engine import numba_backend

        try:
            numba_backend()
        except BackendError as err:
            raise UserError(_numba_missing(err)) from None


def main(argv: Sequence[str] | None = None) -> int:
    from sim.resources import ResourceError

    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # to show how to resume
    try:
        _resolve_scenarios(args)
        _check_engine(args)
        return COMMANDS[args.command](args)
    except (ScenarioError, OutputError, UserError, ResourceError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BackendError as err:  # numba asked for on a path not checked beforehand
        print(f"error: {_numba_missing(err)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted; no output folder written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
