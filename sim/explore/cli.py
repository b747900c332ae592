"""``sim sensitivity``, ``sim discover`` and ``sim attribute``: their arguments and commands
(:mod:`sim.cli` adds them). Outputs follow ``sim run``'s rules: a folder written atomically
with a manifest, refused if not empty (``--force`` replaces only a folder sim wrote), one
writer at a time, a progress bar unless ``--quiet``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.ensemble import BATCHED_ENGINES
from sim.output import check_target, claim

QUICK = {"morris": 10, "sobol": 32, "top": 8}
"""``sim sensitivity --quick``: Morris trajectories; Sobol base samples and factors (one
replicate each; under 10 s for the baseline on two cores)."""


def _share(text: str) -> float:
    """A share in (0, 1] (``--density``)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}; expected a number") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"got {text}; expected a share greater than 0 and "
                                         "at most 1")
    return value


def _outcomes(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--outcome", dest="outcomes", action="append", default=None,
                   metavar="NAME", help=f"{what} (repeatable; registered names such as "
                   "relation:USA-CHN, trade:USA-CHN, decision:CHN:pipeline; default: the "
                   "triangle's three relations)")
    p.add_argument("--date", dest="dates", action="append", default=None, metavar="YYYY-MM",
                   help="date of the outcomes (repeatable; default: the horizon)")


def _common(p: argparse.ArgumentParser, seed: Callable[[str], int], positive: Any) -> None:
    p.add_argument("--seed", type=seed, default=None, help="master seed (default: scenario's)")
    p.add_argument("--out", type=Path, default=None, help="output folder")
    p.add_argument("--force", action="store_true", help="replace a non-empty output folder "
                   "sim wrote")
    p.add_argument("--workers", type=positive, default=None,
                   help="local worker processes (default: all cores)")
    p.add_argument("--no-figures", action="store_true", help="write tables only")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--engine", choices=BATCHED_ENGINES, default="batched",
                   help="batched = numpy (the reference); numba = compiled "
                        "(pip install sim[fast]; equal within 1e-12)")


def add_parsers(sub: Any, positive: Callable[[str], int], seed: Callable[[str], int]) -> None:
    """Add the three subcommands to ``sub`` (argparse subparsers)."""
    s = sub.add_parser("sensitivity", help="which parameters drive an outcome or an effect: "
                       "Morris screening or Sobol indices (SALib)")
    s.add_argument("scenario", type=Path, help="scenario file or shipped scenario name")
    s.add_argument("--vs", type=Path, default=None, metavar="OTHER",
                   help="analyse the paired effect OTHER - SCENARIO (same draws and streams)")
    s.add_argument("--method", choices=("morris", "sobol"), default="sobol",
                   help="morris = elementary effects, a cheap screen of every factor; sobol = "
                        "variance shares (S1, ST) of the --top factors of a Morris screen "
                        "(default sobol)")
    _outcomes(s, "outcome to analyse")
    s.add_argument("--n", type=positive, default=None, help="Morris trajectories (default "
                   "20) or Sobol base samples, a power of 2 of at least 16 (default 256)")
    s.add_argument("--reps", type=positive, default=None, help="noise replicates per design "
                   "point (default: 2 for Morris, 4 for Sobol)")
    s.add_argument("--quick", action="store_true",
                   help=f"a first look in seconds: Morris {QUICK['morris']} trajectories, or "
                        f"Sobol n = {QUICK['sobol']} over the --top {QUICK['top']} of the "
                        "screen, one replicate per point (no noise estimate); rough indices. "
                        "--n, --reps and --top given explicitly win")
    s.add_argument("--params", default=None, metavar="NAME,...",
                   help="the parameters to vary (default: Morris all; Sobol the --top of a "
                        "Morris screen)")
    s.add_argument("--top", type=positive, default=None,
                   help="Sobol: factors taken from the screen (default 12)")
    s.add_argument("--declared-only", action="store_true",
                   help="vary only parameters [uncertainties] declares (default: every "
                        "registered number, undeclared ones over a fallback range)")
    _common(s, seed, positive)

    d = sub.add_parser("discover", help="under which parameter values a condition on "
                       "outcomes holds: PRIM and CART (EMA Workbench)")
    d.add_argument("scenario", type=Path, help="scenario file or shipped scenario name")
    d.add_argument("--where", required=True, metavar="CONDITION",
                   help='e.g. "relation:CHN-RUS at 2027-05 > 0.8 and '
                        'decision:CHN:finance_access by 2027-05"')
    d.add_argument("--draws", type=positive, default=500, help="parameter draws (default 500)")
    d.add_argument("--runs-per-draw", type=positive, default=1, help="runs per draw (default 1)")
    d.add_argument("--density", type=_share, default=0.8,
                   help="PRIM: least density of the chosen box (default 0.8)")
    d.add_argument("--events", action="store_true",
                   help="also vary each scheduled event: on or off (probability 1/2) and its "
                        "magnitude x0.5..x1.5 per draw, as factors event:<id>.on and "
                        "event:<id>.scale")
    _common(d, seed, positive)

    a = sub.add_parser("attribute", help="what each scheduled event and each policy "
                       "contributes: removed, x0.5, x1.5, switched off; tornado charts")
    a.add_argument("scenario", type=Path, help="scenario file or shipped scenario name")
    _outcomes(a, "outcome to attribute")
    a.add_argument("--draws", type=positive, default=50, help="parameter draws (default 50)")
    a.add_argument("--runs-per-draw", type=positive, default=4,
                   help="runs per draw (default 4)")
    a.add_argument("--fixed-params", action="store_true",
                   help="no parameter uncertainty: the scenario's values, noise only")
    a.add_argument("--no-policies", action="store_true", help="events only")
    a.add_argument("--no-events", action="store_true", help="policies only")
    _common(a, seed, positive)


def _name(path: Path) -> str:
    return Path(path).stem


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from sim.explore.sensitivity import morris, sobol

    out = args.out or Path("outputs") / ("sensitivity-" + _name(args.scenario) + (
        f"-vs-{_name(args.vs)}" if args.vs else "") + f"-{args.method}")
    check_target(out, args.force)
    params = [p.strip() for p in args.params.split(",") if p.strip()] if args.params else None
    common = {"outcomes": args.outcomes, "dates": args.dates, "vs": args.vs, "seed": args.seed,
              "which": "declared" if args.declared_only else "all", "params": params,
              "workers": args.workers, "progress": not args.quiet, "engine": args.engine}
    quick = args.quick
    with claim(out, args.force):
        if args.method == "morris":
            res = morris(args.scenario, r=args.n or (QUICK["morris"] if quick else 20),
                         reps=args.reps or (1 if quick else 2), **common)
        else:
            res = sobol(args.scenario, n=args.n or (QUICK["sobol"] if quick else 256),
                        reps=args.reps or (1 if quick else 4),
                        top=args.top or (QUICK["top"] if quick else 12), **common)
        res.write(out, force=args.force, figures=not args.no_figures)
    print(f"wrote {out}/ ({res.method}, {res.runs_text()} in {res.seconds:.1f} s)")
    for o in res.outcomes:
        top = res.top(o, res.dates[-1], 3)
        key = "ST" if res.method == "sobol" else "mu_star"
        lead = ", ".join(f"{r.parameter} {getattr(r, key):.2f}" for r in top.itertuples())
        print(f"  {o} at {res.dates[-1]} ({res.quantity}): {key} {lead}")
    return 0


def cmd_discover(args: argparse.Namespace) -> int:
    from sim.explore.discovery import discover

    out = args.out or Path("outputs") / f"discover-{_name(args.scenario)}"
    check_target(out, args.force)
    with claim(out, args.force):
        res = discover(args.scenario, args.where, draws=args.draws,
                       runs_per_draw=args.runs_per_draw, seed=args.seed, density=args.density,
                       workers=args.workers, progress=not args.quiet, events=args.events,
                       engine=args.engine)
        res.write(out, force=args.force, figures=not args.no_figures)
    st = res.trajectory.iloc[res.chosen]
    print(f"wrote {out}/ ({len(res.y)} runs; condition holds in {res.share:.1%})")
    print(f"  PRIM box {res.chosen}: coverage {st.coverage:.2f}, density {st.density:.2f}, "
          f"{len(res.box)} restricted: {', '.join(res.box.parameter)}")
    return 0


def cmd_attribute(args: argparse.Namespace) -> int:
    from sim.explore.attribution import attribute

    out = args.out or Path("outputs") / f"attribute-{_name(args.scenario)}"
    check_target(out, args.force)
    with claim(out, args.force):
        res = attribute(args.scenario, args.outcomes, args.dates, draws=args.draws,
                        runs_per_draw=args.runs_per_draw, seed=args.seed,
                        events=not args.no_events, policies=not args.no_policies,
                        fixed_params=args.fixed_params, workers=args.workers,
                        progress=not args.quiet, engine=args.engine)
        res.write(out, force=args.force, figures=not args.no_figures)
    print(f"wrote {out}/ ({res.runs} runs in {res.seconds:.1f} s)")
    t = res.table
    for o in res.outcomes:
        r = t[(t.outcome == o) & (t.date == res.dates[-1])]
        if len(r):
            big = r.loc[r["mean"].abs().idxmax()]
            print(f"  {o} at {res.dates[-1]}: largest change {big['mean']:+.3f} "
                  f"({big['item']}, {big.change})")
    return 0


COMMANDS = {"sensitivity": cmd_sensitivity, "discover": cmd_discover,
            "attribute": cmd_attribute}

__all__ = ["COMMANDS", "add_parsers"]
