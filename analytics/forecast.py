"""Forecast of hourly people and utilization per group (building, floor, zone,
department) for the next weeks, with 80 % and 95 % prediction intervals, and
the rolling-origin backtest that chooses the model. Pure: DataFrames in,
DataFrames out (rules: docs/metrics.md, "Forecast").

The series of a group is its mean head count per local hour of the working
hours of working days (``people`` = ∫ people dt ÷ the hour's measured time);
closed days (public holidays of the site's country, the site's own closed
days) are known in advance: forecast 0, never fitted or scored.

Models:

- ``seasonal_naive``: the mean of the same weekday and hour over the last
  ``naive_weeks`` open weeks (the baseline of the issue).
- ``dls``: discounted least squares (Brown 1963) with statsmodels' WLS:
  hour-of-week dummies + a linear trend [per week] + school-holiday ×
  hour-of-day dummies, weights 0.5^(age ÷ half-life); fitted on the last
  ``history_weeks``. Chosen over statsforecast because the model is closed-form
  (milliseconds a series, no JIT compile), takes the irregular calendar
  (holidays as missing rows, no season phase to repair) and regressors known in
  advance, and gives prediction standard errors (``get_prediction``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from threadpoolctl import threadpool_limits

logger = logging.getLogger(__name__)

__all__ = [
    "FORECAST_COLUMNS",
    "MODELS",
    "ForecastParams",
    "backtest",
    "calibrate",
    "fit_predict",
    "forecast_all",
    "hour_grid",
    "hourly_series",
    "mase_scale",
    "score",
]

MODELS = ("seasonal_naive", "dls", "dls_level", "dls_fast")
#: Weekly damping of the trend beyond the last week (Gardner & McKenzie 1985).
PHI = 0.85
#: Half-life of the "dls_fast" weights [weeks].
FAST_HALF_LIFE = 2.0
#: Standard normal quantiles of the two-sided 80 % and 95 % intervals.
Z80, Z95 = 1.2815515655446004, 1.959963984540054


@dataclass(frozen=True)
class ForecastParams:
    """``horizon_weeks``: 1-8; ``history_weeks``: fit window; ``half_life_weeks``:
    of the DLS weights; ``naive_weeks``: N of the seasonal-naive mean;
    ``origins``: rolling origins of the backtest, ``step_weeks`` apart."""

    horizon_weeks: int = 4
    history_weeks: int = 26
    half_life_weeks: float = 6.0
    naive_weeks: int = 4
    origins: int = 10
    step_weeks: int = 2


def hour_grid(
    first: dt.date,
    last: dt.date,
    *,
    work_hours: tuple[int, int],
    weekdays: Iterable[int],
    closed: Iterable[dt.date] = (),
    school: Iterable[dt.date] = (),
) -> pd.DataFrame:
    """Every working hour of every working weekday in [first, last]: day, hour,
    weekday, how (hour of week = weekday × 24 + hour), week (days since
    1970-01-05 // 7, a Monday), closed, school (bools)."""
    days = pd.date_range(first, last, freq="D")
    wd = set(weekdays)
    days = days[np.isin(days.weekday, list(wd))]
    hours = np.arange(work_hours[0], work_hours[1])
    d = np.repeat(days.date, len(hours))
    h = np.tile(hours, len(days))
    weekday = np.repeat(days.weekday.to_numpy(), len(hours))
    ordinal = np.repeat(
        (days.to_numpy().astype("datetime64[D]").astype(np.int64) - 4), len(hours)
    )
    closed_set, school_set = set(closed), set(school)
    return pd.DataFrame(
        {
            "day": d,
            "hour": h.astype(np.int64),
            "weekday": weekday.astype(np.int64),
            "how": (weekday * 24 + h).astype(np.int64),
            "week": ordinal // 7,
            "closed": np.array([x in closed_set for x in d], dtype=bool),
            "school": np.array([x in school_set for x in d], dtype=bool),
        }
    )


def hourly_series(hourly: pd.DataFrame, bucket_s: int) -> pd.DataFrame:
    """Level-hour aggregates (``read_level_agg(by_hour=True)``: level,
    level_id, day, hour, n, capacity_s, people_s) → level, level_id, day, hour,
    people (mean head count over the hour's buckets with data), capacity
    (seats)."""
    secs = hourly["n"].astype(float) * bucket_s
    out = hourly[["level", "level_id", "day", "hour"]].copy()
    out["hour"] = out["hour"].astype(np.int64)
    out["people"] = hourly["people_s"].astype(float) / secs
    out["capacity"] = hourly["capacity_s"].astype(float) / secs
    return out.reset_index(drop=True)


def _naive(train: pd.DataFrame, target: pd.DataFrame, weeks: int) -> np.ndarray:
    """Mean of the last ``weeks`` open values of the same hour of week."""
    t = train[~train["closed"] & train["people"].notna()]
    t = t[t["week"] > t["week"].max() - weeks] if len(t) else t
    prof = t.groupby("how")["people"].mean()
    return target["how"].map(prof).fillna(0.0).to_numpy(float)


def _design(
    g: pd.DataFrame, hows: np.ndarray, hours: np.ndarray, w0: int, trend_on: bool
) -> np.ndarray:
    how_d = (g["how"].to_numpy()[:, None] == hows[None, :]).astype(float)
    h = g["week"].to_numpy(float) - w0
    # Beyond the last week the trend is damped: Σ_{i=1..h} φ^i instead of h.
    damped = np.where(h > 0, PHI * (1 - PHI**h) / (1 - PHI), h)
    trend = damped[:, None] * float(trend_on)
    sch = g["school"].to_numpy(bool)[:, None]
    hod = (g["hour"].to_numpy()[:, None] == hours[None, :]) & sch
    return np.hstack([how_d, trend, hod.astype(float)])


def fit_predict(
    train: pd.DataFrame,
    target: pd.DataFrame,
    model: str,
    p: ForecastParams,
    *,
    z: tuple[float | np.ndarray, float | np.ndarray] = (Z80, Z95),
) -> pd.DataFrame:
    """Point forecast ``people``, its spread ``sd`` and the 80/95 % intervals
    (forecast ± z · sd, ``z`` = the two multipliers, clipped at 0) of
    ``target`` rows (hour_grid columns) from ``train`` (hour_grid columns +
    people). Closed rows: 0."""
    if model not in MODELS:
        raise ValueError(f"model {model!r}: use one of {', '.join(MODELS)}")
    open_t = train[~train["closed"] & train["people"].notna()]
    last_week = int(open_t["week"].max()) if len(open_t) else 0
    fit = open_t[open_t["week"] > last_week - p.history_weeks]
    n = len(target)
    mean, sd = np.zeros(n), np.zeros(n)
    if model == "seasonal_naive" or len(fit) < 20:
        mean = _naive(train, target, p.naive_weeks)
        # Spread: the seasonal naive's own week-to-week error per hour of day.
        err = _naive_errors(fit)
        fill = float(err.mean()) if len(err) else 0.0
        sd = target["hour"].map(err).fillna(fill).fillna(0.0).to_numpy(float)
    else:
        hl = FAST_HALF_LIFE if model == "dls_fast" else p.half_life_weeks
        mean, sd = _dls(fit, target, last_week, hl, trend=model == "dls")
    closed = target["closed"].to_numpy(bool)
    mean = np.where(closed, 0.0, np.maximum(mean, 0.0))
    sd = np.where(closed, 0.0, sd)
    out = pd.DataFrame({"people": mean, "sd": sd})
    for name, mult in (("80", z[0]), ("95", z[1])):
        out[f"people_lo{name}"] = np.maximum(mean - mult * sd, 0.0)
        out[f"people_hi{name}"] = mean + mult * sd
    return out


def _naive_errors(fit: pd.DataFrame) -> pd.Series:
    """Per hour of day, the sd of (value − same hour of week a week before)."""
    v = fit.set_index(["week", "how"])["people"]
    prev = v.copy()
    prev.index = pd.MultiIndex.from_arrays(
        [prev.index.get_level_values(0) + 1, prev.index.get_level_values(1)]
    )
    d = (v - prev.reindex(v.index)).dropna()
    hour = d.index.get_level_values(1) % 24
    return d.groupby(hour).std(ddof=1) if len(d) else pd.Series(dtype=float)


def _dls(
    fit: pd.DataFrame,
    target: pd.DataFrame,
    last_week: int,
    half_life: float,
    *,
    trend: bool,
) -> tuple[np.ndarray, np.ndarray]:
    hows = np.sort(fit["how"].unique())
    hours = np.sort(fit["hour"].unique())
    x = _design(fit, hows, hours, last_week, trend)
    keep = np.asarray(x.any(axis=0), dtype=bool)
    keep[len(hows)] = trend  # the trend column (all 0 in the last week)
    x = x[:, keep]
    age = (last_week - fit["week"].to_numpy(float)).clip(min=0)
    w = 0.5 ** (age / half_life)
    # hasconst: the dummies span the constant (no rank test needed); QR is
    # the cheap, stable solve of a full-rank design.
    res = sm.WLS(fit["people"].to_numpy(float), x, weights=w, hasconst=True).fit(
        method="qr"
    )
    xt = _design(target, hows, hours, last_week, trend)[:, keep]
    pred = res.get_prediction(xt)
    mean = np.asarray(pred.predicted_mean, dtype=float)
    se_mean = np.asarray(pred.se_mean, dtype=float)
    # Residual spread per hour of day (weighted), heteroscedastic noise.
    r2 = pd.Series(np.asarray(res.resid) ** 2 * w).groupby(fit["hour"].to_numpy())
    var_h = r2.sum() / pd.Series(w).groupby(fit["hour"].to_numpy()).sum()
    noise = target["hour"].map(var_h).fillna(float(var_h.mean())).to_numpy(float)
    return mean, np.sqrt(noise + se_mean**2)


def mase_scale(train: pd.DataFrame) -> float:
    """In-sample MAE of the one-week seasonal naive (y_t − y_{t−m}, m = one
    week: the same weekday and hour a week earlier) over the open hours of
    ``train`` (Hyndman & Koehler 2006); pairs with a closed or missing side are
    left out. NaN when there is no pair."""
    t = train[~train["closed"] & train["people"].notna()]
    v = t.set_index(["week", "how"])["people"]
    prev = v.copy()
    prev.index = pd.MultiIndex.from_arrays(
        [prev.index.get_level_values(0) + 1, prev.index.get_level_values(1)]
    )
    d = (v - prev.reindex(v.index)).dropna()
    return float(d.abs().mean()) if len(d) else float("nan")


def backtest(series: pd.DataFrame, p: ForecastParams) -> pd.DataFrame:
    """Rolling-origin backtest of every model on one group's series
    (hour_grid columns + people): origins at the start of the week, the last
    one ``horizon_weeks`` before the end, ``step_weeks`` apart; each fits on
    the data before its origin and forecasts ``horizon_weeks``. Rows: origin
    week, model, week_ahead (1..horizon), y, yhat, lo80, hi80, lo95, hi95,
    scale (the MASE scale of that origin's training data); open hours with a
    value only."""
    weeks = np.sort(series["week"].unique())
    if len(weeks) < p.horizon_weeks + 4:
        return pd.DataFrame()
    last_origin = int(weeks[-1]) - p.horizon_weeks + 1
    origins = [last_origin - i * p.step_weeks for i in range(p.origins)]
    origins = [o for o in origins if o - int(weeks[0]) >= 4]
    parts = []
    for origin in sorted(origins):
        train = series[series["week"] < origin]
        test = series[
            (series["week"] >= origin) & (series["week"] < origin + p.horizon_weeks)
        ]
        test = test[~test["closed"] & test["people"].notna()]
        if test.empty:
            continue
        scale = mase_scale(train[train["week"] >= origin - p.history_weeks])
        for model in MODELS:
            f = fit_predict(train, test, model, p)
            parts.append(
                pd.DataFrame(
                    {
                        "origin": origin,
                        "model": model,
                        "week_ahead": (test["week"].to_numpy() - origin + 1),
                        "y": test["people"].to_numpy(float),
                        "yhat": f["people"].to_numpy(),
                        "lo80": f["people_lo80"].to_numpy(),
                        "hi80": f["people_hi80"].to_numpy(),
                        "lo95": f["people_lo95"].to_numpy(),
                        "hi95": f["people_hi95"].to_numpy(),
                        "sd": f["sd"].to_numpy(),
                        "scale": scale,
                    }
                )
            )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def score(bt: pd.DataFrame) -> pd.DataFrame:
    """Per model: points, MAE [people], MASE (mean over points of |e| ÷ the
    point's origin scale), coverage80/95 [%] (share of y inside the interval)."""
    if bt.empty:
        return pd.DataFrame(
            columns=["model", "points", "mae", "mase", "coverage80", "coverage95"]
        )
    e = (bt["y"] - bt["yhat"]).abs()
    g = bt.assign(
        ae=e,
        se=e / bt["scale"],
        in80=(bt["y"] >= bt["lo80"] - 1e-9) & (bt["y"] <= bt["hi80"] + 1e-9),
        in95=(bt["y"] >= bt["lo95"] - 1e-9) & (bt["y"] <= bt["hi95"] + 1e-9),
    ).groupby("model", sort=True)
    out = pd.DataFrame(
        {
            "points": g.size(),
            "mae": g["ae"].mean(),
            "mase": g["se"].mean(),
            "coverage80": 100 * g["in80"].mean(),
            "coverage95": 100 * g["in95"].mean(),
        }
    )
    return out.reset_index()


def calibrate(
    bt: pd.DataFrame, weeks_ahead: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Interval multipliers for target rows ``weeks_ahead`` weeks after the
    origin, from one model's rolling-origin errors (split conformal
    prediction with normalised scores, Lei et al. 2018): per week ahead, the
    80th and 95th percentiles of |y − ŷ| ÷ sd over the backtest points of that
    week ahead (sd > 0); a week ahead with fewer than 50 points takes those
    of all weeks, fewer than 50 in all: the normal quantiles."""
    z80 = np.full(len(weeks_ahead), Z80)
    z95 = np.full(len(weeks_ahead), Z95)
    if bt.empty:
        return z80, z95
    ok = bt[bt["sd"] > 1e-9]
    if len(ok) < 50:
        return z80, z95
    r = (ok["y"] - ok["yhat"]).abs() / ok["sd"]
    z80[:], z95[:] = np.quantile(r, 0.8), np.quantile(r, 0.95)
    for w, part in r.groupby(ok["week_ahead"].to_numpy()):
        if len(part) >= 50:
            hit = weeks_ahead == w
            z80[hit], z95[hit] = np.quantile(part, 0.8), np.quantile(part, 0.95)
    return z80, z95


def forecast_all(
    series: pd.DataFrame,
    history: pd.DataFrame,
    future: pd.DataFrame,
    p: ForecastParams,
    *,
    k: int,
    timezone: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Backtest, choose and forecast every group of ``series``
    (:func:`hourly_series`) over the ``future`` hours (:func:`hour_grid`),
    ``history`` being the grid of the past. A group with fewer than ``k``
    seats is left out (it could describe fewer than k people).

    Returns (forecast, scores). forecast: level, level_id, ts (UTC start of
    the local hour), day, hour, model, closed, people, people_lo80/hi80/lo95/
    hi95, capacity, utilization_pct (and its lo/hi). scores: level, level_id,
    model, points, mae, mase, coverage80, coverage95, chosen."""
    # Small least-squares problems: BLAS threads only contend (10x slower
    # on a busy 2-core machine, measured).
    with threadpool_limits(limits=1, user_api="blas"):
        return _forecast_groups(series, history, future, p, k=k, timezone=timezone)


def _forecast_groups(
    series: pd.DataFrame,
    history: pd.DataFrame,
    future: pd.DataFrame,
    p: ForecastParams,
    *,
    k: int,
    timezone: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    fparts, sparts = [], []
    for key, g in series.groupby(["level", "level_id"], sort=True):
        level, level_id = str(key[0]), str(key[1])
        cap = float(g.sort_values("day")["capacity"].tail(200).max())
        if not np.isfinite(cap) or cap < k:
            continue
        s = history.merge(g[["day", "hour", "people"]], on=["day", "hour"], how="left")
        bt = backtest(s, p)
        sc = score(bt)
        best = (
            str(sc.sort_values(["mase", "model"]).iloc[0]["model"])
            if len(sc) and sc["mase"].notna().any()
            else "seasonal_naive"
        )
        sc.insert(0, "level_id", level_id)
        sc.insert(0, "level", level)
        sc["chosen"] = sc["model"] == best
        ahead = (future["week"] - future["week"].min() + 1).to_numpy()
        z = calibrate(bt[bt["model"] == best] if len(bt) else bt, ahead)
        sc["z80"], sc["z95"] = float(z[0].mean()), float(z[1].mean())
        sparts.append(sc)
        f = fit_predict(s, future, best, p, z=z).drop(columns="sd")
        f.insert(0, "closed", future["closed"].to_numpy(bool))
        f.insert(0, "model", best)
        f.insert(0, "hour", future["hour"].to_numpy())
        f.insert(0, "day", future["day"].to_numpy())
        f.insert(0, "level_id", level_id)
        f.insert(0, "level", level)
        f["capacity"] = cap
        fparts.append(f)
    if not fparts:
        return _empty_forecast(), pd.DataFrame(columns=_SCORE_COLS)
    out = pd.concat(fparts, ignore_index=True)
    local = pd.to_datetime(out["day"].astype(str)) + pd.to_timedelta(
        out["hour"], unit="h"
    )
    out.insert(
        2,
        "ts",
        local.dt.tz_localize(
            timezone, ambiguous=True, nonexistent="shift_forward"
        ).dt.tz_convert("UTC"),
    )
    for col in ("", "_lo80", "_hi80", "_lo95", "_hi95"):
        out[f"utilization_pct{col}"] = 100 * out[f"people{col}"] / out["capacity"]
    return out, pd.concat(sparts, ignore_index=True)[_SCORE_COLS]


_SCORE_COLS = [
    "level",
    "level_id",
    "model",
    "points",
    "mae",
    "mase",
    "coverage80",
    "coverage95",
    "chosen",
    "z80",
    "z95",
]
FORECAST_COLUMNS = [
    "level",
    "level_id",
    "ts",
    "day",
    "hour",
    "model",
    "closed",
    "people",
    "people_lo80",
    "people_hi80",
    "people_lo95",
    "people_hi95",
    "capacity",
    "utilization_pct",
    "utilization_pct_lo80",
    "utilization_pct_hi80",
    "utilization_pct_lo95",
    "utilization_pct_hi95",
]


def _empty_forecast() -> pd.DataFrame:
    return pd.DataFrame(columns=FORECAST_COLUMNS)
