"""Event history of the decision rules: discrete-time hazard likelihood of observed firing dates.

A rule with monthly probabilities ``p_t`` (:mod:`sim.policies`) that is at risk in months
``t ∈ R`` and fired in months ``F ⊂ R`` has the log-likelihood (Allison 1982; Beck, Katz &
Tucker 1998)

    ℓ = Σ_{t ∈ F} log p_t + Σ_{t ∈ R \\ F} log(1 - p_t);

with a constant ``p`` its maximum is at ``p̂ = |F| / |R|`` (firings per month at risk), and the
Jeffreys posterior of ``p`` is ``Beta(|F| + ½, |R| - |F| + ½)``. :func:`history_report` gives
these for the shipped history, using only data through 2019
(``data/timeline_events_2014_2024.csv``): the US Section 301 tariff rounds 2018–19 as firings of
an escalate rule, the Power of Siberia 2 non-signature 2015-05 .. 2019-12 as zero firings of
China's pipeline rule, no Chinese lethal aid to Russia 2014–2019, and the one US sanction on
China over dealings with Russia (CAATSA s.231, 2018-09).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import beta

LAST = "2019-12"
"""Last month of the history used (no observation after 2019)."""


def month_number(label: str) -> int:
    """``"YYYY-MM"`` (or ``YYYY-MM-DD``) as a month count ``12·year + month - 1``."""
    year, month = int(label[:4]), int(label[5:7])
    return 12 * year + month - 1


def loglik(p: np.ndarray, fired: np.ndarray, at_risk: np.ndarray | None = None) -> float:
    """``Σ_fired log p + Σ_(at risk, not fired) log(1 - p)`` over months (1-d arrays of one
    length; ``at_risk`` default all). ``-inf`` if a firing month has ``p = 0`` or a quiet month
    ``p = 1``. Raises ValueError for arrays of different lengths or a firing not at risk."""
    p, fired = np.asarray(p, float), np.asarray(fired, bool)
    risk = np.ones_like(fired) if at_risk is None else np.asarray(at_risk, bool)
    if not p.shape == fired.shape == risk.shape:
        raise ValueError(f"loglik: p {p.shape}, fired {fired.shape}, at_risk {risk.shape}; "
                         "expected arrays of one length")
    if (fired & ~risk).any():
        raise ValueError("loglik: a firing in a month not at risk")
    with np.errstate(divide="ignore"):
        return float(np.sum(np.log(p[fired])) + np.sum(np.log1p(-p[risk & ~fired])))


def constant_mle(fired: np.ndarray, at_risk: np.ndarray | None = None) -> float:
    """Maximum-likelihood constant monthly probability: firings / months at risk."""
    fired = np.asarray(fired, bool)
    risk = np.ones_like(fired) if at_risk is None else np.asarray(at_risk, bool)
    return float(fired.sum() / risk.sum())


def jeffreys(firings: int, months: int, level: float = 0.9) -> tuple[float, float, float]:
    """Jeffreys posterior ``Beta(f + ½, n - f + ½)`` of a constant monthly probability:
    (mean, lower, upper) of its central ``level`` interval."""
    post = beta(firings + 0.5, months - firings + 0.5)
    lo, hi = post.ppf([(1 - level) / 2, (1 + level) / 2])
    return float(post.mean()), float(lo), float(hi)


@dataclass(frozen=True)
class Record:
    """One rule's observed history: months at risk ``first .. last`` and firing months."""

    name: str
    first: str
    last: str
    firings: tuple[str, ...]
    source: str
    cooldown: int = 0  # months after a firing not at risk

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """``(fired, at_risk)`` over the months ``first .. last``."""
        a, b = month_number(self.first), month_number(self.last)
        if b > month_number(LAST):
            raise ValueError(f"{self.name}: history ends {self.last}, after {LAST}")
        fired = np.zeros(b - a + 1, bool)
        risk = np.ones(b - a + 1, bool)
        for f in self.firings:
            k = month_number(f) - a
            fired[k] = True
            risk[k + 1: k + 1 + self.cooldown] = False
        return fired, risk


def records(data_dir: Path | None = None) -> list[Record]:
    """The shipped history through 2019, from ``data/timeline_events_2014_2024.csv``.
    Raises FileNotFoundError if the file is missing."""
    if data_dir is None:
        from sim.resources import data_dir as shipped

        data_dir = shipped()
    tl = pd.read_csv(Path(data_dir) / "timeline_events_2014_2024.csv")
    tl = tl[tl.date <= "2019-12-31"]
    rounds = tuple(d[:7] for d in tl[(tl.category == "tariffs_USA_CHN")
                                     & tl.event.str.contains("List")
                                     & ~tl.event.str.contains("delayed")].date)
    caatsa = tuple(d[:7] for d in tl[tl.category == "sanctions_CHN_via_RUS"].date)
    pos2 = tl[tl.event.str.contains("Power of Siberia 2|PoS-2|PoS2", regex=True)]
    src = "data/timeline_events_2014_2024.csv"
    return [
        Record("USA:tariff (Section 301 rounds)", "2014-01", LAST, rounds,
               f"{src}, category tariffs_USA_CHN (List rounds)"),
        Record("USA:secondary_sanctions (over Russia)", "2014-01", LAST, caatsa,
               f"{src}, category sanctions_CHN_via_RUS"),
        Record("CHN:pipeline (Power of Siberia 2)", "2015-05", LAST,
               tuple(d[:7] for d in pos2.date), f"{src}: talks from 2015-05-08, no signature"),
        Record("CHN:military_hardware", "2014-01", LAST, (),
               f"{src}: no Chinese lethal aid to Russia recorded"),
    ]


def history_report(probabilities: dict[str, float] | None = None,
                   data_dir: Path | None = None, level: float = 0.9) -> pd.DataFrame:
    """One row per :func:`records` entry: months at risk, firings (dates), MLE of a constant
    monthly probability and its log-likelihood, the Jeffreys mean and ``level`` interval, and
    the log-likelihood at ``probabilities[name]`` (a rule's constant status-quo probability,
    e.g. the baseline's), if given."""
    rows = []
    for rec in records(data_dir):
        fired, risk = rec.arrays()
        mle = constant_mle(fired, risk)
        mean, lo, hi = jeffreys(int(fired.sum()), int(risk.sum()), level)
        row = {"rule": rec.name, "months_at_risk": int(risk.sum()),
               "firings": int(fired.sum()), "dates": " ".join(rec.firings), "mle": mle,
               "loglik_mle": loglik(np.full(len(fired), mle), fired, risk),
               "jeffreys_mean": mean, f"jeffreys_lo{int(level * 100)}": lo,
               f"jeffreys_hi{int(level * 100)}": hi, "source": rec.source}
        if probabilities and rec.name in probabilities:
            row["loglik_at"] = loglik(np.full(len(fired), probabilities[rec.name]), fired, risk)
        rows.append(row)
    return pd.DataFrame(rows)


def spacing(dates: Sequence[str]) -> list[int]:
    """Months between consecutive firing dates (``YYYY-MM``)."""
    m = [month_number(d) for d in dates]
    return [b - a for a, b in pairwise(m)]
