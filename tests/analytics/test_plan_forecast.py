"""The forecast's pure pieces on small hand-built series (values worked out
here), and the holiday calendar."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from analytics.forecast import (
    MODELS,
    PHI,
    ForecastParams,
    backtest,
    fit_predict,
    forecast_all,
    hour_grid,
    hourly_series,
    mase_scale,
    score,
)
from analytics.plan_io import closed_days

MON = dt.date(2026, 3, 2)  # a Monday


def _grid(weeks: int, hours: tuple[int, int] = (9, 11)) -> pd.DataFrame:
    return hour_grid(
        MON, MON + dt.timedelta(days=7 * weeks - 1), work_hours=hours, weekdays=[0, 2]
    )


def test_hour_grid_rows_and_hour_of_week() -> None:
    g = hour_grid(
        MON,
        MON + dt.timedelta(days=6),
        work_hours=(9, 11),
        weekdays=[0, 2],
        closed=[MON + dt.timedelta(days=2)],
    )
    # Monday and Wednesday, hours 9 and 10: 4 rows.
    assert g["day"].tolist() == [MON, MON, MON + dt.timedelta(2), MON + dt.timedelta(2)]
    assert g["how"].tolist() == [9, 10, 2 * 24 + 9, 2 * 24 + 10]
    assert g["closed"].tolist() == [False, False, True, True]
    assert g["week"].nunique() == 1


def test_mase_scale_is_the_in_sample_one_week_seasonal_naive_mae() -> None:
    g = _grid(2, hours=(9, 10))  # 2 weeks × (Mon, Wed) × 1 hour
    g["people"] = [1.0, 2.0, 2.0, 4.0]  # week 1: Mon 1, Wed 2; week 2: Mon 2, Wed 4
    # |2 - 1| and |4 - 2| -> mean 1.5
    assert mase_scale(g) == pytest.approx(1.5)
    g.loc[3, "closed"] = True  # a closed hour is no pair
    assert mase_scale(g) == pytest.approx(1.0)


def test_seasonal_naive_is_the_mean_of_the_last_n_weeks() -> None:
    g = _grid(3, hours=(9, 10))
    g["people"] = [1.0, 10.0, 3.0, 20.0, 5.0, 60.0]
    target = _grid(4, hours=(9, 10)).tail(2).reset_index(drop=True)
    f = fit_predict(g, target, "seasonal_naive", ForecastParams(naive_weeks=2))
    # last two weeks: Monday (3 + 5) / 2 = 4, Wednesday (20 + 60) / 2 = 40
    assert f["people"].tolist() == pytest.approx([4.0, 40.0])


def test_dls_reproduces_a_noise_free_profile_with_trend() -> None:
    g = _grid(10)
    profile = {9: 3.0, 10: 5.0, 2 * 24 + 9: 7.0, 2 * 24 + 10: 2.0}
    w = g["week"] - g["week"].min()
    g["people"] = g["how"].map(profile) + 0.5 * w
    full = _grid(12)
    target = full[full["week"] > g["week"].max()].reset_index(drop=True)
    f = fit_predict(g, target, "dls", ForecastParams(history_weeks=10))
    # h weeks after the last, the damped trend adds 0.5 × Σ_{i=1..h} φ^i
    h = (target["week"] - g["week"].max()).to_numpy(float)
    last = g["week"].max() - g["week"].min()
    damped = sum(PHI**i * (h >= i) for i in range(1, 4))
    expect = target["how"].map(profile) + 0.5 * (last + damped)
    np.testing.assert_allclose(f["people"], expect, atol=1e-8)
    # no noise: intervals collapse on the forecast
    np.testing.assert_allclose(f["people_hi95"], expect, atol=1e-6)


def test_closed_hours_are_forecast_zero() -> None:
    g = _grid(6)
    g["people"] = 4.0
    target = _grid(7).tail(4).reset_index(drop=True)
    target["closed"] = [True, True, False, False]
    for model in ("dls", "seasonal_naive"):
        f = fit_predict(g, target, model, ForecastParams())
        assert f["people"].tolist()[:2] == [0.0, 0.0]
        assert f["people_hi95"].tolist()[:2] == [0.0, 0.0]
        assert f["people"].tolist()[2:] == pytest.approx([4.0, 4.0])


def test_score_by_hand() -> None:
    bt = pd.DataFrame(
        {
            "origin": 1,
            "model": "dls",
            "week_ahead": 1,
            "y": [1.0, 3.0, 10.0],
            "yhat": [2.0, 3.0, 6.0],
            "lo80": [0.0, 2.0, 7.0],
            "hi80": [2.0, 4.0, 9.0],
            "lo95": [0.0, 1.0, 5.0],
            "hi95": [3.0, 5.0, 11.0],
            "scale": [2.0, 2.0, 4.0],
        }
    )
    s = score(bt).iloc[0]
    assert s["mae"] == pytest.approx((1 + 0 + 4) / 3)
    assert s["mase"] == pytest.approx((0.5 + 0 + 1.0) / 3)
    assert s["coverage80"] == pytest.approx(200 / 3)
    assert s["coverage95"] == pytest.approx(100.0)


def _noisy_series(weeks: int, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = _grid(weeks)
    g["people"] = 20 + 5 * (g["hour"] == 10) + rng.normal(0, 2, len(g))
    return g


def test_backtest_origins_and_horizons() -> None:
    s = _noisy_series(20)
    p = ForecastParams(horizon_weeks=2, origins=3, step_weeks=2)
    bt = backtest(s, p)
    last = s["week"].max()
    # origins last-1, last-3, last-5; each forecasts 2 weeks of 4 hours
    assert sorted(bt["origin"].unique()) == [last - 5, last - 3, last - 1]
    assert set(bt["model"]) == set(MODELS)
    assert sorted(bt["week_ahead"].unique()) == [1, 2]
    assert len(bt) == 3 * len(MODELS) * 2 * 4


def test_backtest_beats_naive_and_covers_on_stationary_noise() -> None:
    s = _noisy_series(40)
    sc = score(backtest(s, ForecastParams(horizon_weeks=4, origins=8))).set_index(
        "model"
    )
    # A profile averaged over weeks beats the 4-week mean on white noise ...
    assert sc.loc["dls", "mae"] < sc.loc["seasonal_naive", "mae"]
    # ... and MASE < 1 (the scale holds the noise twice: y_t - y_{t-m}).
    assert sc.loc["dls", "mase"] < 1.0
    assert 70 <= sc.loc["dls", "coverage80"] <= 90


def test_forecast_all_leaves_out_groups_under_k_seats_and_chooses() -> None:
    s = _noisy_series(30)
    grid = _grid(32)
    hist_days = set(s["day"])
    rows = []
    # seats: 40, exactly k = 5 (kept), k − 1 = 4 (left out)
    for level_id, cap in (("big", 40.0), ("five", 5.0), ("tiny", 4.0)):
        rows.append(
            s.assign(level="zone", level_id=level_id, capacity=cap)[
                ["level", "level_id", "day", "hour", "people", "capacity"]
            ]
        )
    series = pd.concat(rows, ignore_index=True)
    fc, scores = forecast_all(
        series,
        grid[grid["day"].isin(hist_days)].reset_index(drop=True),
        grid[~grid["day"].isin(hist_days)].reset_index(drop=True),
        ForecastParams(horizon_weeks=2),
        k=5,
        timezone="Europe/Amsterdam",
    )
    assert set(fc["level_id"]) == {"big", "five"}
    assert set(scores["level_id"]) == {"big", "five"}
    fc = fc[fc["level_id"] == "big"]
    scores = scores[scores["level_id"] == "big"]
    assert len(fc) == 2 * 4
    chosen = scores[scores["chosen"]]
    assert len(chosen) == 1
    assert chosen["mase"].iloc[0] == scores["mase"].min()
    assert (fc["model"] == chosen["model"].iloc[0]).all()
    np.testing.assert_allclose(fc["utilization_pct"], 100 * fc["people"] / 40.0)
    # the UTC start of the local hour
    first = fc.iloc[0]
    local = pd.Timestamp(f"{first['day']} 09:00", tz="Europe/Amsterdam")
    assert first["ts"] == local.tz_convert("UTC")


def test_hourly_series_from_level_hour_aggregates() -> None:
    agg = pd.DataFrame(
        {
            "level": ["floor"],
            "level_id": ["f0"],
            "day": [MON],
            "hour": [9],
            "n": [4],
            "capacity_s": [4 * 900 * 10.0],
            "people_s": [2 * 900 * 3.0 + 2 * 900 * 5.0],
        }
    )
    s = hourly_series(agg, 900)
    assert s["people"].tolist() == [4.0]
    assert s["capacity"].tolist() == [10.0]


def test_closed_days_are_public_holidays_and_own_closures() -> None:
    extra = dt.date(2026, 12, 24)
    got = closed_days("NL", [extra], dt.date(2026, 4, 1), dt.date(2026, 12, 31))
    assert dt.date(2026, 4, 27) in got  # King's Day
    assert dt.date(2026, 5, 14) in got  # Ascension
    assert extra in got
    assert dt.date(2026, 1, 1) not in got  # outside the range
    be = closed_days("BE", [], dt.date(2026, 7, 1), dt.date(2026, 7, 31))
    assert dt.date(2026, 7, 21) in be  # Belgian national day
