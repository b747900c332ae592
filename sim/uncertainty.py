"""Uncertainty in scenario files: declared distributions of parameters, drawn by Latin hypercube
and carried through every ensemble.

A scenario's ``[uncertainties]`` table gives a distribution for registered parameters (dotted
names, :mod:`sim.params`), each with a ``cite``:

- ``uniform`` (``lo``, ``hi``), ``triangular`` (``lo``, ``mode``, ``hi``);
- ``normal`` (``mean``, ``sd``) and ``lognormal`` (``median``, ``sdlog``: sd of the natural
  log), truncated to ``[lo, hi]`` (default: the parameter's allowed range);
- ``from = "calibration"``: joint draws from the Bayesian posterior ``sim calibrate`` wrote
  (``calibration/posterior.csv.gz``, one row per posterior sample): a draw takes one *row* of the
  file for all the calibrated parameters it declares, so their posterior correlations are kept
  (no normal approximation); values are kept within the registered range;
- ``fixed``: no uncertainty (the scenario's value): how a child scenario removes an entry it
  inherits. A child's entry replaces its parent's whole entry; a file that sets a parameter's
  value drops the uncertainty it inherited for it (:func:`sim.spec.load_scenario`).

**Draws.** :func:`draw_table` draws ``D`` rows by a Latin hypercube
(``scipy.stats.qmc.LatinHypercube``, one column per independent parameter plus one column for
the calibration block: draw ``d`` takes row ``⌊u_d · S⌋`` of the ``S`` posterior samples, so the
rows are spread evenly over the file) from its own stream,
``SeedSequence(seed, spawn_key=(DRAW_TAG, 0))`` (runs draw from Philox under the key of
``SeedSequence(seed)``, :mod:`sim.seeds`, so it never coincides with a run's numbers), through
each marginal's inverse CDF. The table is drawn once,
before any run, so it does not depend on chunks, workers or Dask.

**Ensembles.** An ensemble is ``D`` draws × ``K`` runs per draw: run ``i = d·K + k`` uses draw
``d``'s parameters and the random streams of run ``i`` (:mod:`sim.seeds`). :class:`Design` holds
the table; :func:`simulate_design` and :func:`stream_design` run it; ``Trajectory.draw`` and
``EnsembleStats.draw`` give each run's draw. In a comparison every scenario runs the reference's
design: the parameters a scenario declares get the reference's draws, the others keep the
scenario's own values (:meth:`Design.params_for`, :func:`compare_notes`).

Errors in a table raise :class:`sim.spec.ScenarioError` (file, key path, bad value, what was
expected); bad counts raise :class:`sim.output.UserError`.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.output import UserError, file_hash, shown_path
from sim.params import Param, Params, RunParams, get, registry, value_path, within_rules
from sim.spec import DIST_KEYS, Key, ScenarioError, ScenarioSpec, Uncertainty, toml_text

if TYPE_CHECKING:
    import pandas as pd

    from sim.engine import Trajectory
    from sim.ensemble import EnsembleStats

DRAW_TAG = 0x5EED_D4A7
"""First element of the two-element spawn key of the parameter draws (runs use ``(i,)``)."""
DEFAULT_DRAWS = 200
DEFAULT_RUNS_PER_DRAW = 5
FIXED_RUNS = 100
"""Runs of a noise-only ensemble (``--fixed-params``, or a scenario declaring nothing)."""
U_EDGE = 1e-12
"""Hypercube coordinates are kept in ``[U_EDGE, 1 - U_EDGE]``: a draw never lands exactly on a
bound (some ranges are open, e.g. a temperature in (0, 5])."""
NUMBERS = ("lo", "hi", "mode", "mean", "sd", "median", "sdlog")
KIND_TEXT = {"int": "a whole number", "switch": "true or false"}


# ----------------------------------------------------------------------------- declarations


def declared(spec: ScenarioSpec) -> dict[str, Uncertainty]:
    """The scenario's uncertain parameters (``fixed`` entries left out), in registry order."""
    if not spec.uncertainties:
        return {}
    return {n: spec.uncertainties[n] for n in registry(spec)
            if n in spec.uncertainties and spec.uncertainties[n].kind != "fixed"}


@functools.cache
def calibrated_targets() -> tuple[str, ...]:
    """The registered parameters ``sim calibrate`` samples: the names ``from = "calibration"``
    accepts (:func:`sim.calibrate.calibrated_names`; no file is read)."""
    from sim.calibrate import calibrated_names  # scipy.stats: only when a scenario asks for it

    return tuple(calibrated_names())


def check_uncertainties(spec: ScenarioSpec, file: str | Path) -> None:
    """Check every ``[uncertainties]`` entry of ``spec``: a registered parameter (did-you-mean),
    a cite, ``dist`` or ``from`` (not both), the keys its distribution takes, bounds within the
    parameter's allowed range, a distribution that can be sampled (lo < hi, sd > 0, mode in
    [lo, hi], ...), a continuous parameter its policy reads, ``from = "calibration"`` only for a
    parameter ``sim calibrate`` fits. Raises :class:`ScenarioError` (one line) for the first
    problem."""
    reg = registry(spec)
    for name, u in spec.uncertainties.items():
        where = f"uncertainties.{toml_text(Key(name))}"
        if name not in reg:
            close = difflib.get_close_matches(name, list(reg), n=1, cutoff=0.6)
            hint = f"did you mean {toml_text(close[0])}?" if close else "see `sim params`"
            raise ScenarioError(file, where, Key(name), f"a registered parameter ({hint})")
        _check_entry(u, reg[name], str(file), where)
        if u.kind not in ("fixed", "calibration"):
            _check_point_value(spec, u, reg[name], get(spec, name, reg), str(file))


def _check_point_value(spec: ScenarioSpec, u: Uncertainty, p: Param, value: float,
                       file: str) -> None:
    """The scenario's own ``value`` of ``p`` (what a single run or ``--fixed-params`` uses)
    must be one the declared distribution can draw, or the two would describe different
    worlds."""
    lo, hi = draw_range(u, p)
    if not lo <= value <= hi:
        raise ScenarioError(file, value_path(spec, p.name), value,
                            f"a value the declared uncertainty {u.text} can draw, from "
                            f"{toml_text(lo)} to {toml_text(hi)} (uncertainties."
                            f"{toml_text(Key(p.name))}); set the value inside it, e.g. "
                            f"{toml_text(_middle(lo, hi))}, or widen the distribution")


def _middle(lo: float, hi: float) -> float:
    if math.isinf(lo) or math.isinf(hi):
        return lo if math.isfinite(lo) else hi
    return float(f"{(lo + hi) / 2:.6g}")


def _check_entry(u: Uncertainty, p: Param, file: str, where: str) -> None:
    if not (u.cite or "").strip():
        raise ScenarioError(file, f"{where}.cite", u.cite,
                            "a citation: where this distribution comes from")
    if u.dist is not None and u.from_ is not None:
        raise ScenarioError(file, f"{where}.from", u.from_, "either dist or from, not both")
    kind = u.kind
    if not kind:
        raise ScenarioError(file, f"{where}.dist", None, 'dist = "uniform", "normal", '
                            '"lognormal", "triangular" or "fixed", or from = "calibration"')
    required, optional = DIST_KEYS[kind]
    what = "from = \"calibration\"" if kind == "calibration" else f"a {kind} distribution"
    keys = ", ".join((*required, *optional, "cite"))
    for k in required:
        if getattr(u, k) is None:
            raise ScenarioError(file, f"{where}.{k}", None, f"this key for {what} ({keys})")
    for k in NUMBERS:
        if getattr(u, k) is not None and k not in required + optional:
            raise ScenarioError(file, f"{where}.{k}", getattr(u, k),
                                f"no {k} for {what} (it takes {keys})")
    if kind == "fixed":
        return
    if p.kind != "float":
        raise ScenarioError(file, where, Key(p.name), "a parameter with a continuous value ("
                            f"{p.name} is {KIND_TEXT[p.kind]}; such a parameter can only be "
                            "fixed)")
    if not p.used:
        raise ScenarioError(file, where, Key(p.name), "a parameter its policy reads (this "
                            "policy never reads it; remove the entry)")
    if kind == "calibration":
        if p.name not in calibrated_targets():
            raise ScenarioError(file, f"{where}.from", "calibration", "a parameter sim "
                                "calibrate fits (" + ", ".join(calibrated_targets()) + "); give "
                                "this one a dist")
        return
    _check_numbers(u, p, file, where)


def _check_numbers(u: Uncertainty, p: Param, file: str, where: str) -> None:
    """Bounds within the allowed range; a distribution that can be sampled."""
    lo_r = -math.inf if p.lo is None else p.lo
    hi_r = math.inf if p.hi is None else p.hi
    for k in NUMBERS:
        v = getattr(u, k)
        if v is not None and not math.isfinite(v):
            raise ScenarioError(file, f"{where}.{k}", v, "a finite number")
    for k in ("lo", "hi", "mode", "mean", "median"):
        v = getattr(u, k)
        if v is not None and not lo_r <= v <= hi_r:
            raise ScenarioError(file, f"{where}.{k}", v,
                                f"a value within the allowed range of {p.name}, {p.range}")
    lo, hi = draw_range(u, p)
    if not lo < hi:
        key = "hi" if u.hi is not None else "lo"
        raise ScenarioError(file, f"{where}.{key}", getattr(u, key),
                            f"a number above lo ({toml_text(lo)})" if key == "hi"
                            else f"a number below hi ({toml_text(hi)})")
    text = f"from lo to hi ({toml_text(lo)} to {toml_text(hi)})"
    if u.kind == "triangular" and not lo <= u.mode <= hi:
        raise ScenarioError(file, f"{where}.mode", u.mode, f"a mode {text}")
    if u.kind == "normal":
        if u.sd <= 0:
            raise ScenarioError(file, f"{where}.sd", u.sd, "a standard deviation above 0")
        if not lo <= u.mean <= hi:
            raise ScenarioError(file, f"{where}.mean", u.mean, f"a mean {text}, the bounds it "
                                "is truncated to")
    if u.kind == "lognormal":
        if u.sdlog <= 0:
            raise ScenarioError(file, f"{where}.sdlog", u.sdlog, "a standard deviation of the "
                                "log above 0")
        if not (u.median > 0 and lo <= u.median <= hi):
            raise ScenarioError(file, f"{where}.median", u.median, f"a median above 0 and "
                                f"{text}, the bounds it is truncated to")


def draw_range(u: Uncertainty, p: Param) -> tuple[float, float]:
    """The range a distribution is drawn on: its lo/hi, else the allowed range (a lognormal's
    lower end at least 0)."""
    lo = u.lo if u.lo is not None else (-math.inf if p.lo is None else p.lo)
    hi = u.hi if u.hi is not None else (math.inf if p.hi is None else p.hi)
    return (max(lo, 0.0), hi) if u.kind == "lognormal" else (lo, hi)


# ----------------------------------------------------------------------------- calibration


def calibration_report() -> Path:
    """The file ``from = "calibration"`` reads: the shipped ``calibration/posterior.csv.gz``."""
    from sim.resources import POSTERIOR, calibration_dir

    return calibration_dir() / POSTERIOR


@functools.cache
def _read_posterior(path: Path, stamp: tuple[int, int], names: tuple[str, ...]) -> np.ndarray:
    from sim.calibrate import load_posterior

    return load_posterior(path, names)[list(names)].to_numpy(dtype=float)


def read_posterior(path: Path | None = None, names: tuple[str, ...] | None = None
                   ) -> np.ndarray:
    """``(S, len(names))`` posterior samples of ``names`` (default every calibrated parameter)
    from ``posterior.csv.gz`` (default :func:`calibration_report`), cached while the file is
    unchanged. Raises :class:`UserError` (one line) if the file is missing, unreadable, lacks
    a column, has no rows or a non-finite value (:func:`sim.calibrate.load_posterior`)."""
    path = calibration_report() if path is None else Path(path)
    names = calibrated_targets() if names is None else tuple(names)
    if not path.is_file():
        raise UserError(f"{path}: no posterior samples; expected posterior.csv.gz written by "
                        "`sim calibrate` (from = \"calibration\" draws its rows)")
    st = path.stat()
    return _read_posterior(path, (st.st_mtime_ns, st.st_size), names)


def posterior_rows(u: np.ndarray, samples: int) -> np.ndarray:
    """Rows ``⌊u · S⌋`` of ``S`` posterior samples for hypercube coordinates ``u`` in (0, 1):
    ``D ≤ S`` stratified coordinates pick ``D`` rows spread evenly over the file."""
    return np.minimum((np.asarray(u) * samples).astype(np.int64), samples - 1)


# ----------------------------------------------------------------------------- sampling


def latin_hypercube(dims: int, draws: int, seed: int) -> np.ndarray:
    """``(draws, dims)`` points of a scrambled Latin hypercube in ``[U_EDGE, 1 - U_EDGE]``:
    each column has one point in each of ``draws`` equal strata. Drawn from
    ``SeedSequence(seed, spawn_key=(DRAW_TAG, 0))``."""
    from scipy.stats import qmc

    if dims == 0:
        return np.empty((draws, 0))
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(DRAW_TAG, 0)))
    u = qmc.LatinHypercube(d=dims, rng=rng).random(draws)
    return np.clip(u, U_EDGE, 1 - U_EDGE)


def quantile(u: Uncertainty, p: Param, q: np.ndarray) -> np.ndarray:
    """The values of ``p``'s distribution ``u`` at probabilities ``q`` (inverse CDF), kept within
    the allowed range (and off an open bound)."""
    from scipy import stats

    lo, hi = draw_range(u, p)
    if u.kind == "uniform":
        v = lo + q * (hi - lo)
    elif u.kind == "triangular":
        v = stats.triang.ppf(q, (u.mode - lo) / (hi - lo), loc=lo, scale=hi - lo)
    elif u.kind == "normal":
        v = stats.truncnorm.ppf(q, (lo - u.mean) / u.sd, (hi - u.mean) / u.sd, loc=u.mean,
                                scale=u.sd)
    elif u.kind == "lognormal":
        m = math.log(u.median)
        a = -math.inf if lo <= 0 else (math.log(lo) - m) / u.sdlog
        b = math.inf if math.isinf(hi) else (math.log(hi) - m) / u.sdlog
        v = np.exp(stats.truncnorm.ppf(q, a, b, loc=m, scale=u.sdlog))
    else:
        raise ValueError(f"{p.name}: {u.kind!r} has no marginal quantile")
    return _inside(np.asarray(v, dtype=float), p)


def _inside(v: np.ndarray, p: Param) -> np.ndarray:
    """``v`` clipped to the allowed range (round-off), one step inside an open bound."""
    lo = -np.inf if p.lo is None else (np.nextafter(p.lo, np.inf) if p.lo_open else p.lo)
    hi = np.inf if p.hi is None else (np.nextafter(p.hi, -np.inf) if p.hi_open else p.hi)
    return np.clip(v, lo, hi)


def draw_table(spec: ScenarioSpec, draws: int, seed: int,
               report: Path | None = None) -> tuple[list[str], np.ndarray]:
    """``D = draws`` rows of the declared parameters of ``spec``: their names (registry order)
    and values ``(D, P)``. Independent parameters take one hypercube column each, in name order;
    the ``from = "calibration"`` entries share the last column, which picks one row of the
    posterior samples (``report``: that file, default :func:`calibration_report`) per draw
    (:func:`posterior_rows`). Same scenario, ``draws`` and ``seed``: the same table, bit for
    bit. A row whose long-run trade elasticity is drawn below its one-year one takes the
    one-year value for both (:func:`sim.params.within_rules`). Raises :class:`ScenarioError`
    if a row still breaks a rule between parameters, :class:`UserError` for a missing or
    unusable posterior file."""
    if draws < 1:
        raise UserError(f"draws: got {draws}; expected at least 1")
    decl, reg = declared(spec), registry(spec)
    names = list(decl)
    alone = [n for n in names if decl[n].kind != "calibration"]
    joint = [n for n in names if decl[n].kind == "calibration"]
    u = latin_hypercube(len(alone) + bool(joint), draws, seed)
    values = np.empty((draws, len(names)))
    for j, name in enumerate(alone):
        values[:, names.index(name)] = quantile(decl[name], reg[name], u[:, j])
    if joint:
        post = read_posterior(report, tuple(joint))
        rows = posterior_rows(u[:, len(alone)], post.shape[0])
        for k, name in enumerate(joint):
            values[:, names.index(name)] = _inside(post[rows, k], reg[name])
    if names:  # the rules between parameters (pydantic validators), once per row
        kept = within_rules({n: values[:, j] for j, n in enumerate(names)})
        values = np.column_stack([kept[n] for n in names])
        Params.from_spec(spec, kept, runs=draws)
    return names, values


def per_run(values: np.ndarray, runs_per_draw: int) -> np.ndarray:
    """Rows of a draw table repeated for the runs of each draw: ``(D·K, P)``, row ``i`` of
    draw ``i // K`` (run ``i = d·K + k``)."""
    return np.repeat(np.asarray(values), runs_per_draw, axis=0)


# ----------------------------------------------------------------------------- designs


@dataclass(frozen=True, eq=False)
class Design:
    """An ensemble's parameter design: ``values`` ``(D, P)`` of ``names`` (none: every run at
    the scenario's values), each row run ``runs_per_draw`` times under master ``seed``.
    ``declarations``: the entries drawn (as in the file, cites included); ``report``: the
    calibration report read (for ``from = "calibration"``), if any; ``fixed``: the noise-only
    ensemble was asked for."""

    names: tuple[str, ...]
    values: np.ndarray
    runs_per_draw: int
    seed: int
    declarations: dict[str, dict[str, Any]] = field(default_factory=dict)
    report: str | None = None
    report_hash: str | None = None
    fixed: bool = False

    @property
    def draws(self) -> int:
        return int(self.values.shape[0])

    @property
    def runs(self) -> int:
        return self.draws * self.runs_per_draw

    @property
    def draw(self) -> np.ndarray:
        """The draw of each run, ``(R,)``: run ``i`` belongs to draw ``i // K``."""
        return np.arange(self.runs) // self.runs_per_draw

    def params_for(self, spec: ScenarioSpec) -> Params | None:
        """Per-run parameters of ``spec`` under this design: the drawn values of the parameters
        ``spec`` itself declares (the others keep ``spec``'s values); None if it declares none
        of them (the scenario's values, as a noise-only ensemble). Raises
        :class:`ScenarioError` if a drawn row does not fit ``spec`` (e.g. elasticities)."""
        kept = self.run_params(spec)
        return None if kept is None else kept.full()

    def run_params(self, spec: ScenarioSpec) -> RunParams | None:
        """As :meth:`params_for`, kept once per draw (:class:`sim.params.RunParams`: a chunk
        builds only its own runs' rows)."""
        own = declared(spec)
        cols = {n: self.values[:, j] for j, n in enumerate(self.names) if n in own}
        if not cols:
            return None
        return RunParams(Params.from_spec(spec, cols, runs=self.draws), self.draw)

    def digest(self) -> str:
        """SHA-256 of the names and the values (float64, little-endian): identifies the draws."""
        h = hashlib.sha256(json.dumps(list(self.names)).encode())
        h.update(np.ascontiguousarray(self.values, dtype="<f8").tobytes())
        return h.hexdigest()

    def table(self) -> pd.DataFrame:
        """``draws.csv``: one row per draw, ``draw`` and one column per parameter."""
        import pandas as pd

        cols: dict[str, Any] = {"draw": np.arange(self.draws)}
        cols.update({n: self.values[:, j] for j, n in enumerate(self.names)})
        return pd.DataFrame(cols)

    def record(self) -> dict[str, Any]:
        """What a manifest records (``settings["uncertainty"]``) to repeat and check the draws."""
        from importlib import metadata

        return {
            "fixed_params": self.fixed, "draws": self.draws,
            "runs_per_draw": self.runs_per_draw, "runs": self.runs, "seed": int(self.seed),
            "rule": "run i = d*K + k belongs to draw d = i // K (K runs per draw) and uses the "
                    "random streams of run i",
            "draw_seed": f"scipy.stats.qmc.LatinHypercube(d=P, rng=numpy SeedSequence("
                         f"{int(self.seed)}, spawn_key=({DRAW_TAG}, 0))), one column per "
                         "independent parameter (inverse CDFs) then one for the calibration "
                         "block: row floor(u*S) of the S posterior samples (sim.uncertainty)",
            "parameters": list(self.names), "declarations": self.declarations,
            "calibration": None if self.report is None else {"report": self.report,
                                                             "hash": self.report_hash},
            "draws_file": "draws.csv", "draws_sha256": self.digest(),
            "scipy": metadata.version("scipy"),
        }


def split_runs(runs: int | None = None, draws: int | None = None,
               runs_per_draw: int | None = None, fixed: bool = False) -> tuple[int, int]:
    """``(D, K)`` from what was asked: nothing = 200 draws × 5 runs; ``runs`` alone = ``runs``
    draws × 1 run (``runs`` is always the total); with ``draws`` or ``runs_per_draw`` it must
    divide ``runs``. ``fixed``: one draw, ``K = runs_per_draw or runs or 100``. Raises
    :class:`UserError` for counts that do not fit together."""
    for label, v in (("--runs", runs), ("--draws", draws), ("--runs-per-draw", runs_per_draw)):
        if v is not None and v < 1:
            raise UserError(f"{label}: got {v}; expected a number of at least 1")
    if fixed:
        if draws not in (None, 1):
            raise UserError(f"--draws: got {draws}; expected no --draws with --fixed-params "
                            "(one draw: the scenario's values)")
        if runs is not None and runs_per_draw is not None and runs != runs_per_draw:
            raise UserError(f"--runs-per-draw: got {runs_per_draw} with --runs {runs} and "
                            "--fixed-params; expected one of them (one draw)")
        return 1, runs_per_draw or runs or FIXED_RUNS
    if runs is None:
        return draws or DEFAULT_DRAWS, runs_per_draw or DEFAULT_RUNS_PER_DRAW
    if draws is None and runs_per_draw is None:
        return runs, 1
    d = draws if draws is not None else runs // runs_per_draw
    k = runs_per_draw if runs_per_draw is not None else runs // draws
    if d * k != runs:
        if draws is not None and runs_per_draw is not None:
            raise UserError(f"--runs: got {runs} with --draws {draws} and --runs-per-draw "
                            f"{runs_per_draw}; expected {draws * runs_per_draw} (draws × runs "
                            "per draw), or leave one of the three out")
        given, m = (f"--draws {draws}", draws) if draws is not None else \
            (f"--runs-per-draw {runs_per_draw}", runs_per_draw)
        near = [n for n in (runs // m * m, (runs // m + 1) * m, (runs // m + 2) * m) if n >= m][:2]
        raise UserError(f"--runs: got {runs} with {given}; expected a multiple of {m} (every "
                        "draw gets the same number of runs), e.g. "
                        + " or ".join(f"--runs {n}" for n in near))
    return d, k


def make_design(spec: ScenarioSpec, runs: int | None = None, draws: int | None = None,
                runs_per_draw: int | None = None, seed: int | None = None,
                fixed: bool = False) -> Design:
    """The design of an ensemble of ``spec`` (counts as in :func:`split_runs`; ``seed``: the
    master seed, default the scenario's). A scenario that declares no uncertainty, or
    ``fixed``, gets one draw at its own values (``--draws`` is then an error for ``fixed``)."""
    master = spec.scenario.seed if seed is None else int(seed)
    decl = declared(spec)
    if not decl and not fixed and draws not in (None, 1):
        raise UserError(f"--draws: got {draws}; expected no --draws for {spec.scenario.name}, "
                        "which declares no [uncertainties] (every draw would be the same)")
    d, k = split_runs(runs, draws, runs_per_draw, fixed or not decl)
    if fixed or not decl:
        return Design((), np.empty((1, 0)), k, master, fixed=fixed)
    names, values = draw_table(spec, d, master)
    joint = any(u.kind == "calibration" for u in decl.values())
    path = calibration_report() if joint else None
    return Design(tuple(names), values, k, master,
                  declarations={n: u.model_dump(mode="json", exclude_none=True)
                                for n, u in decl.items()},
                  report=None if path is None else str(shown_path(path.resolve())),
                  report_hash=None if path is None else file_hash(path))


def compare_notes(reference: ScenarioSpec, spec: ScenarioSpec, design: Design,
                  name: str | None = None, ref_name: str | None = None) -> list[str]:
    """What ``spec`` shares of the reference's parameter draws in a comparison, in phrases:
    parameters drawn for the reference that ``spec`` keeps at its own value, those it declares
    with another distribution (it still gets the reference's draws), and those it declares but
    the reference does not (not drawn)."""
    name, ref_name = name or spec.scenario.name, ref_name or reference.scenario.name
    own, ref = declared(spec), declared(reference)
    kept = [n for n in design.names if n not in own]
    other = [n for n in design.names if n in own and n in ref
             and _entry(own[n]) != _entry(ref[n])]
    extra = [n for n in own if n not in design.names]
    notes = []
    if kept:
        notes.append(f"{name} keeps its own value of {_names(kept)} (not drawn with "
                     f"{ref_name}'s draws)")
    if other:
        notes.append(f"{name} declares another distribution for {_names(other)}: it gets "
                     f"{ref_name}'s draws")
    if extra:
        notes.append(f"{name} declares {_names(extra)}, which {ref_name} does not: held at "
                     f"{name}'s value in this comparison")
    return notes


def _entry(u: Uncertainty) -> dict[str, Any]:
    return u.model_dump(mode="json", exclude_none=True, exclude={"cite"})


def _names(names: list[str], most: int = 4) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


# ----------------------------------------------------------------------------- running


def simulate_design(spec: ScenarioSpec, design: Design, engine: str = "auto",
                    progress: bool = False, **ensemble_kw: Any) -> Trajectory:
    """Run ``design.runs`` runs of ``spec`` under master ``design.seed`` with the design's
    parameters (:meth:`Design.params_for`); the Trajectory carries ``draw`` and ``design``.
    ``ensemble_kw`` goes to :func:`sim.ensemble.run_ensemble` (workers, dask, chunk, store)."""
    from sim.ensemble import run_ensemble
    from sim.world import World

    traj = run_ensemble(World.from_spec(spec), design.seed, design.runs, engine=engine,
                        progress=progress, params=design.params_for(spec), draw=design.draw,
                        **ensemble_kw)
    traj.design = design
    return traj


def stream_design(spec: ScenarioSpec, design: Design, progress: bool = False,
                  **ensemble_kw: Any) -> EnsembleStats:
    """As :func:`simulate_design`, keeping per-month statistics only
    (:func:`sim.ensemble.run_stats`); the statistics carry ``draw`` and ``design``."""
    from sim.ensemble import run_stats
    from sim.world import World

    stats = run_stats(World.from_spec(spec), design.seed, design.runs, progress=progress,
                      params=design.run_params(spec), draw=design.draw, **ensemble_kw)
    stats.design = design
    return stats


def counted(n: int, word: str, plural: str | None = None) -> str:
    """``n`` and ``word`` in the right number: ``1 run``, ``2 runs``."""
    return f"{n} {word if n == 1 else plural or word + 's'}"


def summary(design: Design) -> str:
    """One line for the command line: how many draws of how many parameters."""
    if not design.names:
        return (f"{counted(design.runs, 'run')} at the scenario's parameter values (noise only)"
                + (" (--fixed-params)" if design.fixed else ""))
    return (f"{counted(design.draws, 'parameter draw')} × {counted(design.runs_per_draw, 'run')}"
            f" each = {counted(design.runs, 'run')}; "
            f"{counted(len(design.names), 'uncertain parameter')} (Latin hypercube, seed "
            f"{design.seed})")


__all__ = ["DEFAULT_DRAWS", "DEFAULT_RUNS_PER_DRAW", "DRAW_TAG", "FIXED_RUNS", "Design",
           "check_uncertainties", "compare_notes", "counted", "declared", "draw_table",
           "latin_hypercube",
           "make_design", "per_run", "quantile", "simulate_design", "split_runs",
           "stream_design"]
