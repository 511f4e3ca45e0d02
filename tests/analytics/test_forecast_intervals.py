"""The forecast's level adaptation, outlier days and interval calibration on
synthetic series whose truth is known here (noise, shift, spike)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from analytics.forecast import (
    MODELS,
    ForecastParams,
    backtest,
    backtest_wide,
    calibrate,
    fit_predict,
    forecast_all,
    hour_grid,
    hour_group,
)

MON = dt.date(2026, 1, 5)  # a Monday


def _grid(weeks: int, hours: tuple[int, int] = (9, 13)) -> pd.DataFrame:
    return hour_grid(
        MON,
        MON + dt.timedelta(days=7 * weeks - 1),
        work_hours=hours,
        weekdays=range(5),
    )


def _profile(g: pd.DataFrame) -> np.ndarray:
    return (20 + 3 * g["weekday"] + 4 * (g["hour"] == 10)).to_numpy(float)


def test_calibrated_80_and_95_intervals_cover_held_out_gaussian_noise() -> None:
    """Twelve groups with a fixed profile + N(0, 2) noise: the forecast's
    calibrated intervals, scored on 4 held-out weeks the forecast never saw,
    cover 80 % and 95 % of the truth (binomial sd over 960 points: 1.3 and
    0.7 points)."""
    rng = np.random.default_rng(7)
    grid = _grid(34)
    hist = grid[grid["week"] < grid["week"].min() + 30].reset_index(drop=True)
    fut = grid[grid["week"] >= grid["week"].min() + 30].reset_index(drop=True)
    rows = []
    for i in range(12):
        g = grid.assign(level="zone", level_id=f"z{i:02d}", capacity=60.0)
        g["people"] = _profile(g) + rng.normal(0, 2.0, len(g))
        rows.append(g)
    full = pd.concat(rows, ignore_index=True)
    series = full[full["day"].isin(set(hist["day"]))]
    cols = ["level", "level_id", "day", "hour", "people", "capacity"]
    fc, _ = forecast_all(
        series[cols], hist, fut, ForecastParams(horizon_weeks=4), k=5, timezone="UTC"
    )
    got = fc.merge(full[cols], on=["level", "level_id", "day", "hour"])
    y = got["people_y"]
    in80 = ((y >= got["people_lo80"]) & (y <= got["people_hi80"])).mean()
    in95 = ((y >= got["people_lo95"]) & (y <= got["people_hi95"])).mean()
    assert len(got) == 12 * 4 * 5 * 4
    assert 0.75 <= in80 <= 0.85
    assert 0.92 <= in95 <= 0.98


def test_level_shift_is_absorbed_after_two_weeks() -> None:
    """+30 % from week 21 of 23: the log-scale model with level-shift
    detection forecasts the new level (within 3 %); the 6-week discounted
    least squares without it still lags by more than 10 %."""
    rng = np.random.default_rng(1)
    g = _grid(23)
    w = g["week"] - g["week"].min()
    g["people"] = (
        _profile(g) * np.where(w >= 21, 1.3, 1.0) * rng.normal(1, 0.02, len(g))
    )
    target = _grid(25)
    target = target[target["week"] > g["week"].max()].reset_index(drop=True)
    truth = 1.3 * _profile(target)
    p = ForecastParams(history_weeks=26)
    shift = fit_predict(g, target, "log_shift", p)["people"].to_numpy()
    lag = fit_predict(g, target, "dls_level", p)["people"].to_numpy()
    assert np.abs(shift / truth - 1).mean() < 0.03
    assert np.abs(lag / truth - 1).mean() > 0.10


def test_no_shift_is_taken_from_noise_alone() -> None:
    """Without a step the level-shift model forecasts the profile (no
    spurious shift: within 2 %)."""
    rng = np.random.default_rng(2)
    g = _grid(20)
    g["people"] = _profile(g) * rng.normal(1, 0.05, len(g))
    target = _grid(21).tail(20).reset_index(drop=True)
    f = fit_predict(g, target, "log_shift", ForecastParams())["people"].to_numpy()
    assert np.abs(f / _profile(target) - 1).mean() < 0.02


def test_an_outlier_day_does_not_move_the_profile() -> None:
    """An all-hands day (× 3) on a Wednesday: with outlier days cleaned the
    Wednesday forecast stays on the profile; without, it is pulled up."""
    rng = np.random.default_rng(3)
    g = _grid(12)
    g["people"] = _profile(g) * rng.normal(1, 0.02, len(g))
    spike = g["day"] == MON + dt.timedelta(days=7 * 11 + 2)
    g.loc[spike, "people"] *= 3.0
    target = _grid(13).tail(20).reset_index(drop=True)
    wed = (target["weekday"] == 2).to_numpy()
    p = ForecastParams()
    clean = fit_predict(g, target, "log_shift", p)["people"].to_numpy()
    raw = fit_predict(g, target, "dls_level", p)["people"].to_numpy()
    expect = _profile(target)
    np.testing.assert_allclose(clean[wed], expect[wed], rtol=0.03)
    assert (raw[wed] > expect[wed] * 1.2).all()


def test_calibrate_takes_the_quantiles_of_each_week_and_hour_group() -> None:
    """Scores |y − ŷ| ÷ sd: week 1 early hours 0..0.99 (100 points), week 1
    late hours 10 × that; week 2 has 10 points only (falls back to all)."""
    u = np.arange(100) / 100
    bt = pd.concat(
        [
            pd.DataFrame({"week_ahead": 1, "hour": 8, "y": u, "yhat": 0.0, "sd": 1.0}),
            pd.DataFrame(
                {"week_ahead": 1, "hour": 17, "y": 10 * u, "yhat": 0.0, "sd": 1.0}
            ),
            pd.DataFrame({"week_ahead": 2, "hour": 8, "y": u[:10], "yhat": 0, "sd": 1}),
        ],
        ignore_index=True,
    )
    z80, z95 = calibrate(bt, np.array([1, 1, 2]), np.array([8, 17, 8]))
    assert z80[0] == pytest.approx(np.quantile(u, 0.8))
    assert z80[1] == pytest.approx(np.quantile(10 * u, 0.8))
    assert z95[1] == pytest.approx(np.quantile(10 * u, 0.95))
    r_all = np.concatenate([u, 10 * u, u[:10]])
    assert z80[2] == pytest.approx(np.quantile(r_all, 0.8))
    # fewer than 50 points in all: the normal quantiles
    z80, z95 = calibrate(bt.head(20), np.array([1]), np.array([8]))
    assert z80[0] == pytest.approx(1.2815515655446004)


def test_hour_groups_cut_the_working_hours_in_three_runs() -> None:
    hours = np.arange(8, 18)
    assert hour_group(hours, hours).tolist() == [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]


def test_wide_backtest_equals_one_series_at_a_time() -> None:
    """The engine fits every column on one design: each column's backtest is
    the single-series backtest of that column (a column with a gap too)."""
    rng = np.random.default_rng(5)
    g = _grid(20)
    y = np.column_stack([_profile(g) * rng.normal(1, 0.1, len(g)) for _ in range(3)])
    y[5:15, 2] = np.nan  # a different missing pattern
    p = ForecastParams(horizon_weeks=2, origins=3)
    wide = backtest_wide(g, y, p)
    for j in range(3):
        one = backtest(g.assign(people=y[:, j]), p)
        part = wide[wide["col"] == j].drop(columns="col").reset_index(drop=True)
        assert set(part["model"]) == set(MODELS)
        pd.testing.assert_frame_equal(part, one, check_dtype=False)
