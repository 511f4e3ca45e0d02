"""The forecast's yearly term (analytics/forecast_yearly.py) on hand-built
series: a dip of the same weeks a year earlier lowers those weeks' forecast by
about that much; noise alone, or a year-earlier week outside the history, gives
no term; a level step and a trend are not taken for a yearly pattern. (A dip
at the very start of a one-year history is another matter: it looks like a
level step up after it; docs/metrics.md.)"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from analytics.forecast import ForecastParams, fit_predict, hour_grid
from analytics.forecast_model import Cal
from analytics.forecast_yearly import yearly_term

MON = dt.date(2025, 1, 6)  # a Monday
WEEKS = 70
DIP = range(10, 16)  # weeks of the first year with 30 % fewer people
HIST = 62  # weeks of history: the targets' weeks a year earlier are 10-17


def _grid(weeks: int) -> pd.DataFrame:
    return hour_grid(
        MON, MON + dt.timedelta(days=7 * weeks - 1), work_hours=(9, 12), weekdays=[0, 2]
    )


def _series(
    dip: float, step: float = 0.0, trend: float = 0.0, seed: int = 3
) -> pd.DataFrame:
    g = _grid(WEEKS)
    rng = np.random.default_rng(seed)
    wk = (g["week"] - g["week"].min()).to_numpy()
    level = 50.0 * (1 + trend * wk / 52) * np.where(wk >= 30, 1 + step, 1.0)
    level = level * np.where(np.isin(wk, list(DIP)), 1 - dip, 1.0)
    g["people"] = level * (1 + 0.02 * rng.standard_normal(len(g)))
    return g


def _term(g: pd.DataFrame, weeks_hist: int) -> tuple[np.ndarray, pd.DataFrame]:
    w0 = g["week"].min()
    hist = g[g["week"] < w0 + weeks_hist]
    tgt = g[g["week"] >= w0 + weeks_hist]
    term = yearly_term(Cal.of(hist), hist["people"].to_numpy()[:, None], Cal.of(tgt))
    return term[:, 0], tgt


def test_a_dip_a_year_earlier_lowers_the_same_weeks() -> None:
    term, tgt = _term(_series(0.3), HIST)
    wk = (tgt["week"] - tgt["week"].min()).to_numpy() + HIST - 52
    inside = np.isin(wk, list(DIP)[1:-1])  # the dip's inner weeks a year later
    # log(0.7) = −0.36, less the 3-week smoothing at the edges and shrinkage
    assert term[inside].mean() == pytest.approx(np.log(0.7), abs=0.1)
    # 2 weeks after the dip (the 3-week mean reaches 1 week beyond it)
    assert np.abs(term[wk >= DIP.stop + 1]).max() < 0.15
    # ... and the forecast follows it.
    g = _series(0.3)
    cut = g["week"].min() + HIST
    hist, fut = g[g["week"] < cut], g[g["week"] >= cut]
    on = fit_predict(hist, fut, "dls_level", ForecastParams(8))["people"].to_numpy()
    off = fit_predict(hist, fut, "dls_level", ForecastParams(8, yearly=False))
    ratio = on[inside] / off["people"].to_numpy()[inside]
    assert ratio.mean() == pytest.approx(0.72, abs=0.1)


def test_noise_a_step_or_a_trend_give_no_term() -> None:
    for g in (_series(0.0), _series(0.0, step=0.2), _series(0.0, trend=0.15)):
        term, _ = _term(g, HIST)
        assert np.abs(term).max() < 0.03


def test_no_term_without_the_week_a_year_earlier_or_a_short_history() -> None:
    term, tgt = _term(_series(0.3), 40)  # targets: weeks 40-69
    wk = (tgt["week"] - tgt["week"].min()).to_numpy() + 40
    assert (term[wk < 52] == 0).all()  # a year earlier: before the history
    assert (term[wk >= 52 + 40] == 0).all()  # a year earlier: after it
    # a year earlier 2-7: no dip, 2 weeks from it and from the history's start
    assert np.abs(term[(wk >= 54) & (wk < 60)]).max() < 0.15
    g = _series(0.3)
    short = g[g["week"] < g["week"].min() + 20]
    fut = g[g["week"] >= g["week"].min() + 20]
    t = yearly_term(Cal.of(short), short["people"].to_numpy()[:, None], Cal.of(fut))
    assert (t == 0).all()
