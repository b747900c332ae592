"""sim backtest on sim.validation: rolling origins, files, quantile columns, refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.backtest import PRED_COLUMNS, QCOLS, backtest
from sim.cli import main
from sim.observation import CHANNELS
from sim.validation import rolling as ro


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("bt") / "bt"
    return out, backtest(out, runs=24, seed=4, samples=200, origins=(2016, 2018))


def test_backtest_writes_scores_skill_and_quantile_predictions(result):
    out, _ = result
    for f in ("predictions.csv", "observed.csv", "scores.csv", "skill.csv", "filter.csv",
              "manifest.json", "figures/pit.png", "figures/skill.png",
              "figures/forecast_un_distance.png"):
        assert (out / f).is_file(), f
    pred = pd.read_csv(out / "predictions.csv")
    assert list(pred.columns) == PRED_COLUMNS
    q = pred[QCOLS].to_numpy()
    assert np.all(np.diff(q, axis=1) >= -1e-9), "quantiles are ordered"
    assert np.allclose(pred.predicted, pred.q50) and np.allclose(pred.lower, pred.q05)
    assert pred.year.max() == 2024 and (pred.year > 2019).any()
    scores = pd.read_csv(out / "scores.csv")
    assert list(scores.columns) == ro.SCORE_COLUMNS
    assert scores.time.astype(str).str[:4].astype(int).max() <= 2019, "only data <= 2019"
    assert set(scores.origin) == {2016, 2018}
    assert {"model", "rw_drift", "ar1", "var"} <= set(scores.method)
    assert (scores.crps >= 0).all() and scores.pit.between(0, 1).all()
    skill = pd.read_csv(out / "skill.csv")
    assert set(skill.baseline) >= {"rw_drift", "ar1", "var"}
    assert np.isfinite(skill.skill).all()


def test_baselines_never_see_data_after_the_origin(monkeypatch):
    ch = CHANNELS["un_distance"]
    targets = ch.observed(2017, 2019)
    before = ro.baseline_samples(ch, 2016, targets, 100, seed=1)
    real = type(ch).load

    def perturbed(self):
        df = real(self)
        return df.assign(value=np.where(df.year > 2016, df.value + 5.0, df.value))

    monkeypatch.setattr(type(ch), "load", perturbed)
    after = ro.baseline_samples(ch, 2016, targets, 100, seed=1)
    assert before.keys() == after.keys()
    for m in before:
        assert np.array_equal(before[m], after[m]), m


def test_cli_backtest_and_refusals(tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["backtest", "--out", str(out), "--runs", "8", "--no-evaluation",
                 "--quiet"]) == 0
    assert "q05" in (out / "predictions.csv").read_text().splitlines()[0]
    capsys.readouterr()
    assert main(["backtest", "--out", str(out), "--runs", "8", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and len(err.splitlines()) == 1
    bad = tmp_path / "nocal"
    bad.mkdir()
    assert main(["backtest", "--out", str(tmp_path / "x"), "--calibration", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert "posterior.csv.gz" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "x").exists()
    with pytest.raises(SystemExit) as e:
        main(["backtest", "--out", str(tmp_path / "y"), "--runs", "0"])
    assert e.value.code == 2


def test_trade_forecasts_2020_2024_are_written(result):
    """Covariates stop in 2019: the forecasts simulate them, so trade has 2020-2024 rows."""
    out, res = result
    pred = pd.read_csv(out / "predictions.csv", dtype={"time": str})
    fut = pred[pred.year >= 2020]
    monthly = fut[fut.series == "trade_usa_chn_monthly"]
    assert set(monthly.pair) == {"CHN->USA", "USA->CHN"} and len(monthly) == 2 * 60
    assert len(fut[fut.series == "trade_chn_rus_annual"]) == 5
    assert np.isfinite(fut[QCOLS].to_numpy()).all()
    assert not res["notes"]


def test_manifest_states_what_is_in_sample(result):
    import json

    out, _ = result
    info = json.loads((out / "manifest.json").read_text())["settings"]["information"]
    assert "IN SAMPLE" in info["model_parameters"]
    assert "re-estimated" in info["observation_parameters"]
    assert "removed" in info["events"]


def test_a_whole_backtest_is_identical_bit_for_bit_on_a_second_run(tmp_path):
    """Same arguments, same files byte for byte, tables and figures (the manifest up to its
    clock and command).
    The backtest has no worker or chunk options; the filter batches all particles at once."""
    kw = dict(runs=10, seed=7, samples=40, origins=(2017,))
    a, b = tmp_path / "a", tmp_path / "b"
    backtest(a, **kw)
    backtest(b, **kw)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert any(str(f).endswith("scores.csv") for f in files)
    for f in files:
        if f.name == "manifest.json":
            import json

            ma, mb = (json.loads((d / f).read_text()) for d in (a, b))
            for m in (ma, mb):
                m.pop("time_utc")
                m.pop("command", None)
            assert ma == mb
        else:  # the tables and the figures
            assert (a / f).read_bytes() == (b / f).read_bytes(), f
