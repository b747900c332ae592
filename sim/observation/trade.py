"""Trade channels, driven by the model's imports (``Trajectory.imports``, USD bn/yr): monthly
US-China goods trade (US Census, both flows) and annual China-Russia goods trade (China
customs). Both add to the model's flows what it leaves out on purpose: nominal growth (a trend),
prices and exchange rates (CNY/USD, Brent) and, monthly, the season.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import resources
from sim.observation.channel import Channel, ObsParam, Theta, read_data
from sim.observation.counts import per_row_annual, per_row_monthly
from sim.observation.stats import ar1_draw, ar1_loglik
from sim.observation.view import SimView, split_pair

MONTHLY_FILE = "derived_us_china_trade_monthly_2010_2019.csv"
MARKET_FILE = "derived_brent_cnyusd_monthly_2010_2019.csv"
ANNUAL_FILE = "derived_trade_series_long.csv"
TIMELINE_FILE = "timeline_events_2014_2024.csv"
FLOWS = {"CHN->USA": "us_imports_from_cn", "USA->CHN": "us_exports_to_cn"}
"""Monthly flows: ``"A->B"`` (goods shipped from A to B, as scenario trade keys) -> file flow."""
FLOW_KEY = {"CHN->USA": "imports", "USA->CHN": "exports"}
"""Parameter prefix of each flow (seen from the USA, as Census reports them)."""
SEASON_YEARS = (2010, 2017)
"""Years the monthly seasonal factors are estimated on: before the 2018-19 tariff rounds."""
TREND_ORIGIN = 2010.5
"""Decimal year at which the trend is zero (mid-2010, the centre of the first data year)."""
CHN_RUS_SERIES = "CHN-RUS goods trade (China GAC customs"
BASE_YEAR = 2010
"""Year at which the CHN-RUS trend is zero and the Brent reference is taken."""


# ----------------------------------------------------------------------------- covariates


def _stamp(file: str) -> tuple[str, float]:
    """``(path, mtime)`` of a data file: the key of the caches below (a new file or a changed
    ``$SIM_DATA_DIR`` misses them)."""
    path = Path(resources.data_dir()) / file
    return str(path), (path.stat().st_mtime if path.is_file() else -1.0)


@lru_cache(maxsize=8)
def _market(stamp: tuple[str, float]) -> pd.DataFrame:
    return read_data(MARKET_FILE).pivot(index="month", columns="series", values="value")


def market() -> pd.DataFrame:
    """Monthly Brent (USD/bbl) and CNY per USD, indexed by ``YYYY-MM`` (2010-01..2019-12)."""
    return _market(_stamp(MARKET_FILE)).copy()


def cny_reference() -> float:
    """Mean CNY per USD of 2010 (the first data year), the reference of the CNY covariate."""
    m = market()["cny_per_usd"]
    return float(m[m.index.str.startswith(str(BASE_YEAR))].mean())


def brent_annual() -> pd.Series:
    """Annual mean Brent price (USD/bbl) by year."""
    b = market()["brent_spot"]
    return b.groupby(b.index.str[:4].astype(int)).mean()


def covariate(values: pd.Series, keys: np.ndarray, name: str) -> np.ndarray:
    """``values`` at ``keys``; raises ValueError naming the keys without a value (e.g. months
    after 2019, when the shipped covariates stop)."""
    got = values.reindex(keys)
    if got.isna().any():
        bad = [str(k) for k in np.asarray(keys)[got.isna().to_numpy()]][:3]
        raise ValueError(f"{name}: no covariate value for {bad} (data/{MARKET_FILE} covers "
                         "2010-01 to 2019-12)")
    return got.to_numpy(float)


def covariate_paths(values: pd.Series, origin: int, months: int, runs: int,
                    rng: np.random.Generator) -> np.ndarray:
    """``(R, months)`` paths of a monthly covariate (index ``YYYY-MM``) for the months after
    December ``origin``, as known at the origin: a driftless random walk in logs from the
    December ``origin`` value, ``log c_{t+1} = log c_t + s ε``, ``s`` the sd of the monthly log
    changes from the series' start to December ``origin`` (nothing later is read), one path
    per run. Raises ValueError if the series has no December ``origin`` value."""
    known = values[values.index.str[:4].astype(int) <= origin].dropna()
    end = f"{origin}-12"
    if end not in known.index or len(known) < 3:
        raise ValueError(f"covariate_paths: no value for {end} (data/{MARKET_FILE} covers "
                         "2010-01 to 2019-12)")
    lv = np.log(known.to_numpy(float))
    sd = float(np.diff(lv).std(ddof=1))
    steps = sd * rng.standard_normal((runs, months))
    return np.exp(lv[-1] + np.cumsum(steps, axis=1))


def months_after(origin: int, times: np.ndarray) -> np.ndarray:
    """1-based month index after December ``origin`` of ``YYYY-MM`` labels."""
    t = pd.Series(np.asarray(times).astype(str))
    return ((t.str[:4].astype(int) - origin - 1) * 12 + t.str[5:7].astype(int)).to_numpy()


def seasonal_factors(df: pd.DataFrame, last: int = SEASON_YEARS[1]) -> dict[str, np.ndarray]:
    """Month-of-year factors of log trade per flow (``(12,)``, mean zero), by least squares of
    ``log value`` on a linear trend and month dummies over :data:`SEASON_YEARS` up to ``last``
    (a forecast origin: nothing later is used). Fixed, not estimated with the rest: 22 nuisance
    parameters would swamp a calibration, and 2010-2017 (before any tariff round) pins them
    down."""
    out = {}
    for pair, s in df.groupby("pair", sort=False):
        s = s[s["year"].between(SEASON_YEARS[0], min(SEASON_YEARS[1], last))]
        month = s["time"].str[5:7].astype(int).to_numpy()
        t = s["year"].to_numpy() + (month - 0.5) / 12
        x = np.column_stack([np.ones(len(s)), t - TREND_ORIGIN,
                             *((month == k).astype(float) for k in range(2, 13))])
        coef, *_ = np.linalg.lstsq(x, np.log(s["value"].to_numpy(float)), rcond=None)
        season = np.concatenate([[0.0], coef[2:]])
        out[str(pair)] = season - season.mean()
    return out


def tariff_rounds(last: str = "2019-12") -> pd.DataFrame:
    """Dated US-China tariff rows of the event timeline up to ``last`` (``date``, ``event``)."""
    t = read_data(TIMELINE_FILE)
    t = t[(t["category"] == "tariffs_USA_CHN") & (t["date"].str[:7] <= last)]
    return t[["date", "event"]].reset_index(drop=True)


# ----------------------------------------------------------------------------- monthly


def _flow_param(flow: str, key: str) -> str:
    return f"{FLOW_KEY[flow]}.{key}"


def _monthly_params() -> tuple[ObsParam, ...]:
    fit = "rounded OLS on 2010-2017 with the model flow held at its 2010 level (our calculation)"
    spec = {"imports": (0.04, -0.75, 0.05, 0.2), "exports": (0.04, -1.1, 0.07, 0.7)}
    out = []
    for flow, (g, b, s, r) in spec.items():
        pre = f"trade_usa_chn_monthly.{flow}"
        out += [
            ObsParam(f"{pre}.intercept", 0.0, -1.0, 1.0, "log",
                     "0: the history scenario sets the model's flows from the same Census table; "
                     "prior normal(0, 0.2)", ("normal", 0.0, 0.2)),
            ObsParam(f"{pre}.trend", g, -0.2, 0.3, "1/yr",
                     f"nominal growth the model leaves out; {fit}; prior normal(0.03, 0.05)",
                     ("normal", 0.03, 0.05)),
            ObsParam(f"{pre}.cny", b, -5.0, 5.0, "log trade per log(CNY/USD)",
                     f"{fit}; sign left open by the prior normal(0, 1)", ("normal", 0.0, 1.0)),
            ObsParam(f"{pre}.sigma", s, 0.005, 1.0, "log",
                     f"marginal residual sd; {fit}; prior half-normal, sd 0.2",
                     ("halfnormal", 0.0, 0.2)),
            ObsParam(f"{pre}.ar1", r, 0.0, 0.95, "1",
                     f"lag-one residual correlation (exports 0.74, imports 0.15 in the {fit}); "
                     "flat prior", ("uniform", 0.0, 0.95)),
        ]
    return tuple(out)


@lru_cache(maxsize=16)
def _monthly(stamp: tuple[str, float]) -> pd.DataFrame:
    df = read_data(MONTHLY_FILE)
    pair = df["flow"].map({v: k for k, v in FLOWS.items()})
    return pd.DataFrame({"time": df["month"], "year": df["month"].str[:4].astype(int),
                         "pair": pair, "value": df["value_usd_bn"] * 12.0}) \
        .sort_values(["pair", "time"], kind="stable").reset_index(drop=True)


@lru_cache(maxsize=16)
def _season(stamp: tuple[str, float], last: int) -> dict[str, np.ndarray]:
    return seasonal_factors(_monthly(stamp), last)


class TradeUsaChnMonthly(Channel):
    """US-China goods trade per month and flow (US Census), as an annual rate (value · 12):

        log(12 · v_fm) = log M̂_fm + a_f + s_f(month) + g_f · (t_m - 2010.5)
                          + β_f · log(CNY/USD_m / CNY/USD_2010) + e_fm,

    ``M̂`` the model's end-of-month flow (USD bn/yr; CHN->USA is ``imports[USA, CHN]``), ``s_f``
    fixed month-of-year factors (:func:`seasonal_factors`), ``e_f`` AR(1) with marginal sd
    ``σ_f`` and lag-one correlation ``φ_f`` per flow (the residuals of US exports are strongly
    autocorrelated, 0.74, those of imports barely, 0.15, in 2010-2017). The tariff rounds act
    through ``M̂``; the 2018 front-loading (imports above trend in September-December 2018,
    before the List 3 rate rise then due in January) is what the model has to produce or leave in
    the residuals: the plot marks both.

    **Forecasts** (:meth:`forecast`, from the end of :attr:`known_through`) use nothing after
    the origin: CNY/USD follows one simulated path per run after December of the origin
    (:func:`covariate_paths`, a random walk in logs with the volatility of the data to the
    origin), the seasonal factors are estimated on data to the origin, and each flow's AR(1)
    residual starts from its value in December of the origin (observed minus expected, per
    run). The same rule gives the 2020-2024 forecasts (origin 2019).
    """

    name = "trade_usa_chn_monthly"
    title = "US-China goods trade, monthly (annual rate)"
    unit = "USD bn/yr"
    family = "trade"
    source = (f"data/{MONTHLY_FILE}: US Census Bureau, Trade in Goods with China (c5700), "
              f"monthly; CNY/USD from data/{MARKET_FILE} (Federal Reserve H.10)")
    panels = ("CHN->USA", "USA->CHN")
    params = _monthly_params()

    def load(self) -> pd.DataFrame:
        return _monthly(_stamp(MONTHLY_FILE)).copy()

    def _fixed(self, rows: pd.DataFrame) -> np.ndarray:
        """``s_f(month) + log`` terms that do not depend on theta: the seasonal factor (K,)."""
        season = _season(_stamp(MONTHLY_FILE), self.known_through)
        month = rows["time"].str[5:7].astype(int).to_numpy() - 1
        return np.array([season[p][m] for p, m in zip(rows["pair"], month, strict=True)])

    def log_mean(self, view: SimView, theta: Theta | None, rows: pd.DataFrame,
                 cny: np.ndarray | None = None) -> np.ndarray:
        """The mean of ``log(12 v)``: ``(R, K)``. ``cny``: CNY per USD at the rows, ``(K,)`` or
        ``(R, K)`` (None: the observed values, which stop in 2019)."""
        flow = per_row_monthly(view, rows, lambda p: view.flow(*split_pair(p)))
        months = rows["time"].to_numpy()
        t = rows["year"].to_numpy() + (rows["time"].str[5:7].astype(int).to_numpy() - 0.5) / 12
        if cny is None:
            cny = covariate(market()["cny_per_usd"], months, self.name)
        lcny = np.log(np.asarray(cny, dtype=float) / cny_reference())
        out = np.log(np.maximum(flow, 1e-9)) + self._fixed(rows)
        for f in FLOW_KEY:
            m = (rows["pair"] == f).to_numpy()
            out[:, m] = out[:, m] + (self.value(theta, _flow_param(f, "intercept"))
                                     + self.value(theta, _flow_param(f, "trend"))
                                     * (t[m] - TREND_ORIGIN)
                                     + self.value(theta, _flow_param(f, "cny"))
                                     * lcny[..., m])
        return out

    def decorate(self, ax: Any, panel: str) -> None:
        """Dashed lines at the Section 301 rounds to 2019 (data/timeline_events_2014_2024.csv)
        and the 2018 front-loading window shaded (September-December 2018: imports above trend
        ahead of the List 3 rise then due in January 2019)."""
        ax.axvspan(2018 + 8 / 12, 2019.0, color="#e6a700", alpha=0.18, lw=0,
                   label="2018 front-loading")
        for k, date in enumerate(tariff_rounds()["date"]):
            x = int(date[:4]) + (int(date[5:7]) - 1 + (int(date[8:10]) - 1) / 31) / 12
            ax.axvline(x, color="#b8412c", ls="--", lw=0.8,
                       label="Section 301 rounds" if k == 0 else None)
        ax.set_xlim(2015.0, 2020.05)

    def _steps(self, rows: pd.DataFrame) -> np.ndarray:
        month = rows["time"].str[5:7].astype(int).to_numpy()
        return rows["year"].to_numpy() * 12 + month

    def mean(self, view: SimView, theta: Theta | None, rows: pd.DataFrame) -> np.ndarray:
        """Log-normal mean ``exp(μ + σ²/2)``, USD bn/yr: ``(R, K)``."""
        mu = self.log_mean(view, theta, rows)
        for f in FLOW_KEY:
            m = (rows["pair"] == f).to_numpy()
            mu[:, m] += 0.5 * self.value(theta, _flow_param(f, "sigma")) ** 2
        return np.exp(mu)

    def logpdf(self, view: SimView, theta: Theta | None, rows: pd.DataFrame) -> np.ndarray:
        ly = np.log(rows["value"].to_numpy(float))
        resid = ly - self.log_mean(view, theta, rows)
        steps, total = self._steps(rows), np.zeros(view.runs)
        for f in FLOW_KEY:
            m = (rows["pair"] == f).to_numpy()
            if m.any():  # log-normal: the Jacobian of log y keeps densities in USD bn/yr
                total += ar1_loglik(resid[:, m], np.zeros(m.sum()), steps[m],
                                    self.value(theta, _flow_param(f, "sigma")),
                                    self.value(theta, _flow_param(f, "ar1"))) - ly[m].sum()
        return total

    def draw(self, view: SimView, theta: Theta | None, rows: pd.DataFrame,
             rng: np.random.Generator) -> np.ndarray:
        mu = self.log_mean(view, theta, rows)
        steps = self._steps(rows)
        for f in FLOW_KEY:
            m = (rows["pair"] == f).to_numpy()
            if m.any():
                mu[:, m] += ar1_draw((mu.shape[0], int(m.sum())), np.zeros(m.sum()), steps[m],
                                     self.value(theta, _flow_param(f, "sigma")),
                                     self.value(theta, _flow_param(f, "ar1")), rng)
        return np.exp(mu)

    def forecast(self, view: SimView, theta: Theta | None, rows: pd.DataFrame,
                 rng: np.random.Generator) -> np.ndarray:
        """Forecast draws ``(R, K)`` of months after the origin (class docstring): simulated
        CNY/USD paths, AR(1) residuals from their value at the origin."""
        rows = self.forecast_rows(rows)
        origin = self.known_through
        ahead = months_after(origin, rows["time"].to_numpy())
        path = covariate_paths(market()["cny_per_usd"], origin, int(ahead.max()), view.runs, rng)
        mu = self.log_mean(view, theta, rows, cny=path[:, ahead - 1])
        known = self.known()
        last = known.sort_values("time", kind="stable").groupby("pair", sort=False).tail(1)
        last = last.reset_index(drop=True)
        resid = np.log(last["value"].to_numpy(float)) - self.log_mean(view, theta, last)
        steps, last_steps = self._steps(rows), self._steps(last)
        for f in FLOW_KEY:
            m = (rows["pair"] == f).to_numpy()
            if not m.any():
                continue
            k = int(np.flatnonzero((last["pair"] == f).to_numpy())[0])
            mu[:, m] += ar1_draw((mu.shape[0], int(m.sum())), np.zeros(m.sum()), steps[m],
                                 self.value(theta, _flow_param(f, "sigma")),
                                 self.value(theta, _flow_param(f, "ar1")), rng,
                                 prev={0: (int(last_steps[k]), resid[:, k])})
        return np.exp(mu)


# ----------------------------------------------------------------------------- annual


class TradeChnRusAnnual(Channel):
    """China-Russia goods trade per year, both directions (China customs, USD bn):

        log T_y = log T̂_y + a + g · (y - 2010) + β · log(Brent_y / Brent_2010) + e_y,
        e_y ~ N(0, σ²),

    ``T̂`` the annual mean of the model's two flows. Brent enters because most of Russia's
    exports to China are crude oil and products, priced off Brent (the 2015 fall of trade is the
    oil price). Ten points: no AR term.

    **Forecasts** (:meth:`forecast`, from the end of :attr:`known_through`) use nothing after
    the origin: Brent follows one simulated monthly path per run after December of the origin
    (:func:`covariate_paths`, a random walk in logs with the volatility of the data to the
    origin) and enters as the annual mean of that path. The same rule gives the 2020-2024
    forecasts (origin 2019)."""

    name = "trade_chn_rus_annual"
    title = "China-Russia goods trade, annual"
    unit = "USD bn"
    family = "trade"
    source = (f"data/{ANNUAL_FILE}: CHN-RUS total, China customs (GAC) as reported by Xinhua, "
              f"TASS, RT, Interfax; Brent from data/{MARKET_FILE} (EIA RBRTE)")
    panels = ("CHN-RUS",)
    params = (
        ObsParam("trade_chn_rus_annual.intercept", 0.0, -1.0, 1.0, "log",
                 "0: the history scenario sets the model's flows from the same China customs "
                 "figures; prior normal(0, 0.2)", ("normal", 0.0, 0.2)),
        ObsParam("trade_chn_rus_annual.trend", 0.05, -0.2, 0.3, "1/yr",
                 "nominal growth the model leaves out; prior normal(0.03, 0.05) (our choice)",
                 ("normal", 0.03, 0.05)),
        ObsParam("trade_chn_rus_annual.brent", 0.35, -1.0, 2.0, "log trade per log Brent",
                 "about half the pair's trade is Russia's exports, about 70% of them fuels "
                 "(our approximation): 0.5 × 0.7 = 0.35; prior normal(0.35, 0.2)",
                 ("normal", 0.35, 0.2)),
        ObsParam("trade_chn_rus_annual.sigma", 0.1, 0.005, 1.0, "log",
                 "our choice; prior half-normal, sd 0.2", ("halfnormal", 0.0, 0.2)),
    )

    def load(self) -> pd.DataFrame:
        df = read_data(ANNUAL_FILE)
        sel = df[df["series"].str.startswith(CHN_RUS_SERIES) & (df["flow"] == "total")]
        return pd.DataFrame({"time": sel["year"].astype(int), "year": sel["year"].astype(int),
                             "pair": "CHN-RUS", "value": sel["value"].astype(float)}) \
            .sort_values("year").reset_index(drop=True)

    def log_mean(self, view: SimView, theta: Theta | None, rows: pd.DataFrame,
                 brent: np.ndarray | None = None) -> np.ndarray:
        """The mean of ``log T``: ``(R, K)``. ``brent``: annual mean Brent at the rows, ``(K,)``
        or ``(R, K)`` (None: the observed values, which stop in 2019)."""
        years = rows["year"].to_numpy()
        trade = per_row_annual(view, rows, view.pair_trade)
        annual = brent_annual()
        if brent is None:
            brent = covariate(annual, years, self.name)
        lb = np.log(np.asarray(brent, dtype=float) / annual.loc[BASE_YEAR])
        return (np.log(np.maximum(trade, 1e-9)) + self.value(theta, "intercept")
                + self.value(theta, "trend") * (years - BASE_YEAR)
                + self.value(theta, "brent") * lb)

    def mean(self, view: SimView, theta: Theta | None, rows: pd.DataFrame) -> np.ndarray:
        return np.exp(self.log_mean(view, theta, rows) + 0.5 * self.value(theta, "sigma") ** 2)

    def logpdf(self, view: SimView, theta: Theta | None, rows: pd.DataFrame) -> np.ndarray:
        ly = np.log(rows["value"].to_numpy(float))
        resid = ly - self.log_mean(view, theta, rows)
        return ar1_loglik(resid, np.zeros(len(rows)), rows["year"].to_numpy(),
                          self.value(theta, "sigma"), 0.0) - ly.sum()

    def draw(self, view: SimView, theta: Theta | None, rows: pd.DataFrame,
             rng: np.random.Generator) -> np.ndarray:
        mu = self.log_mean(view, theta, rows)
        return np.exp(mu + self.value(theta, "sigma") * rng.standard_normal(mu.shape))

    def forecast(self, view: SimView, theta: Theta | None, rows: pd.DataFrame,
                 rng: np.random.Generator) -> np.ndarray:
        """Forecast draws ``(R, K)`` of years after the origin with simulated Brent paths
        (class docstring)."""
        rows = self.forecast_rows(rows)
        origin = self.known_through
        ahead = rows["year"].to_numpy() - origin  # years after the origin, >= 1
        path = covariate_paths(market()["brent_spot"], origin, 12 * int(ahead.max()),
                               view.runs, rng)
        annual = path.reshape(view.runs, -1, 12).mean(axis=2)  # (R, years ahead)
        mu = self.log_mean(view, theta, rows, brent=annual[:, ahead - 1])
        return np.exp(mu + self.value(theta, "sigma") * rng.standard_normal(mu.shape))


__all__ = ["FLOWS", "TradeChnRusAnnual", "TradeUsaChnMonthly", "brent_annual", "cny_reference",
           "covariate_paths", "market", "months_after", "seasonal_factors", "tariff_rounds"]
