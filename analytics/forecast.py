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
- ``dls``, ``dls_level``, ``dls_fast``: discounted least squares (Brown 1963):
  hour-of-week dummies (+ a damped linear trend for ``dls``) + school-holiday
  × hour-of-day dummies, weights 0.5^(age ÷ half-life); fitted on the last
  ``history_weeks``.
- ``log_shift`` (``_trend``): the same on log(1 + people) (multiplicative
  school-holiday, trend and shift effects), half-life 13 weeks, isolated
  outlier days cleaned, and a level shift detected on the weekly mean
  residuals (analytics/forecast_model.py).
- every model but the seasonal naive × a yearly term: the same weeks a year
  earlier beyond a line and level step, shrunk (analytics/forecast_yearly.py;
  0 without those weeks in the history).
Every group of a site shares the calendar, so one design and one numpy
least-squares solve fit all groups at once (the per-series statsmodels WLS
took 5 times the CPU on the benchmark, with 4 models instead of 6); intervals are split-conformal on the backtest.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from analytics.forecast_calib import interval_z, pooled_relative, score
from analytics.forecast_changes import PlannedChange, apply_planned, planned_shares
from analytics.forecast_grid import hour_grid, hourly_series
from analytics.forecast_model import (
    PHI,
    SPECS,
    Z80,
    Z95,
    Cal,
    calibrate,
    hour_group,
    mase_scales,
    predict,
)
from analytics.forecast_yearly import yearly_term

logger = logging.getLogger(__name__)

__all__ = [
    "FORECAST_COLUMNS",
    "MODELS",
    "PHI",
    "ForecastParams",
    "PlannedChange",
    "backtest",
    "backtest_wide",
    "calibrate",
    "fit_predict",
    "forecast_all",
    "hour_grid",
    "hour_group",
    "hourly_series",
    "mase_scale",
    "score",
]

MODELS = ("seasonal_naive", *SPECS)


@dataclass(frozen=True)
class ForecastParams:
    """``horizon_weeks``: 1-8; ``history_weeks``: fit window; ``half_life_weeks``:
    of the DLS weights; ``naive_weeks``: N of the seasonal-naive mean;
    ``origins``: rolling origins of the backtest, ``step_weeks`` apart;
    ``calib_origins``: the intervals are calibrated on the errors of the
    latest that many backtest origins only (None: all of them); ``yearly``:
    the yearly term (analytics/forecast_yearly.py) on every model but the
    seasonal naive; ``aci``: ACI interval levels (analytics/forecast_aci.py);
    ``pool_relative``: intervals from the relative errors of every group
    (analytics/forecast_calib.py); ``block``: conformal levels with the
    backtest origins as the exchangeable units (forecast_calib.block_levels)."""

    horizon_weeks: int = 4
    history_weeks: int = 26
    half_life_weeks: float = 6.0
    naive_weeks: int = 4
    origins: int = 10
    step_weeks: int = 2
    calib_origins: int | None = None
    yearly: bool = True
    aci: bool = False
    pool_relative: bool = False
    block: bool = False


def _open(train: pd.DataFrame) -> pd.DataFrame:
    return train[~train["closed"].to_numpy(bool)]


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
    t = _open(train)
    t = t[t["people"].notna()]
    mean, sd = _predict(
        Cal.of(t), t["people"].to_numpy(float)[:, None], Cal.of(target), model, p
    )
    return _intervals(mean[:, 0], sd[:, 0], target["closed"].to_numpy(bool), z)


def _predict(
    cal: Cal,
    y: np.ndarray,
    tgt: Cal,
    model: str,
    p: ForecastParams,
    term: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``predict`` × the yearly term (``term``: already computed for these
    rows and columns, or None)."""
    mean, sd = predict(
        cal,
        y,
        tgt,
        model,
        history_weeks=p.history_weeks,
        half_life=p.half_life_weeks,
        naive_weeks=p.naive_weeks,
    )
    if not p.yearly or model == "seasonal_naive":
        return mean, sd
    # The yearly term multiplies 1 + people (analytics/forecast_yearly.py).
    f = np.exp(yearly_term(cal, y, tgt) if term is None else term)
    return (np.maximum(mean, 0.0) + 1.0) * f - 1.0, sd * f


def _intervals(
    mean: np.ndarray,
    sd: np.ndarray,
    closed: np.ndarray,
    z: tuple[float | np.ndarray, float | np.ndarray],
) -> pd.DataFrame:
    mean = np.where(closed, 0.0, np.maximum(mean, 0.0))
    sd = np.where(closed, 0.0, sd)
    out = pd.DataFrame({"people": mean, "sd": sd})
    for name, mult in (("80", z[0]), ("95", z[1])):
        out[f"people_lo{name}"] = np.maximum(mean - mult * sd, 0.0)
        out[f"people_hi{name}"] = mean + mult * sd
    return out


def mase_scale(train: pd.DataFrame) -> float:
    """In-sample MAE of the one-week seasonal naive (y_t − y_{t−m}, m = one
    week: the same weekday and hour a week earlier) over the open hours of
    ``train`` (Hyndman & Koehler 2006); pairs with a closed or missing side are
    left out. NaN when there is no pair."""
    t = _open(train)
    return float(mase_scales(Cal.of(t), t["people"].to_numpy(float)[:, None])[0])


def backtest(series: pd.DataFrame, p: ForecastParams) -> pd.DataFrame:
    """Rolling-origin backtest of every model on one group's series
    (hour_grid columns + people): origins at the start of the week, the last
    one ``horizon_weeks`` before the end, ``step_weeks`` apart; each fits on
    the data before its origin and forecasts ``horizon_weeks``. Rows: origin
    week, model, week_ahead (1..horizon), hour, y, yhat, sd, lo80, hi80,
    lo95, hi95 (normal quantiles), scale (the MASE scale of that origin's
    training data); open hours with a value only."""
    bt = backtest_wide(series, series["people"].to_numpy(float)[:, None], p)
    return bt.drop(columns="col")


def backtest_wide(grid: pd.DataFrame, y: np.ndarray, p: ForecastParams) -> pd.DataFrame:
    """:func:`backtest` of every column of ``y`` (rows of ``grid``) at once;
    the rows carry ``col``, the column."""
    open_rows = np.flatnonzero(~grid["closed"].to_numpy(bool))
    cal, y = Cal.of(grid.iloc[open_rows]), y[open_rows]
    weeks = np.unique(cal.week)
    if len(weeks) < p.horizon_weeks + 4:
        return pd.DataFrame()
    last_origin = int(weeks[-1]) - p.horizon_weeks + 1
    origins = [last_origin - i * p.step_weeks for i in range(p.origins)]
    origins = sorted(o for o in origins if o - int(weeks[0]) >= 4)
    parts = []
    for origin in origins:
        tr = np.flatnonzero(cal.week < origin)
        te = np.flatnonzero(
            (cal.week >= origin) & (cal.week < origin + p.horizon_weeks)
        )
        if not len(te):
            continue
        trc, tec = cal.take(tr), cal.take(te)
        win = trc.week >= origin - p.history_weeks
        scale = mase_scales(trc.take(np.flatnonzero(win)), y[tr][win])
        yt = y[te]
        ok = ~np.isnan(yt)
        r, c = np.nonzero(ok)
        term = yearly_term(trc, y[tr], tec) if p.yearly else None
        for model in MODELS:
            mean, sd = _predict(trc, y[tr], tec, model, p, term)
            mean = np.maximum(mean, 0.0)
            parts.append(
                pd.DataFrame(
                    {
                        "col": c,
                        "origin": origin,
                        "model": model,
                        "week_ahead": tec.week[r] - origin + 1,
                        "hour": tec.hour[r],
                        "y": yt[r, c],
                        "yhat": mean[r, c],
                        "sd": sd[r, c],
                        "scale": scale[c],
                    }
                )
            )
    if not parts:
        return pd.DataFrame()
    bt = pd.concat(parts, ignore_index=True)
    for name, mult in (("80", Z80), ("95", Z95)):
        bt[f"lo{name}"] = np.maximum(bt["yhat"] - mult * bt["sd"], 0.0)
        bt[f"hi{name}"] = bt["yhat"] + mult * bt["sd"]
    return bt


def forecast_all(
    series: pd.DataFrame,
    history: pd.DataFrame,
    future: pd.DataFrame,
    p: ForecastParams,
    *,
    k: int,
    timezone: str,
    planned: Sequence[PlannedChange] = (),
    zones: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Backtest, choose and forecast every group of ``series``
    (:func:`hourly_series`) over the ``future`` hours (:func:`hour_grid`),
    ``history`` being the grid of the past. A group with fewer than ``k``
    seats is left out (it could describe fewer than k people). ``planned``:
    changes announced in advance (analytics/forecast_changes.py), applied to
    the forecast of the hours on/after their dates when these lie after the
    history (the backtest and the model choice do not see them).

    Returns (forecast, scores). forecast: level, level_id, ts (UTC start of
    the local hour), day, hour, model, closed, people, people_lo80/hi80/lo95/
    hi95, capacity, planned_factor (1: none), utilization_pct (and its
    lo/hi). scores: level, level_id,
    model, points, mae, mase, coverage80, coverage95, chosen."""
    # Small least-squares problems: BLAS threads only contend (10x slower
    # on a busy 2-core machine, measured).
    with threadpool_limits(limits=1, user_api="blas"):
        return _forecast_groups(
            series,
            history,
            future,
            p,
            k=k,
            timezone=timezone,
            planned=planned,
            zones=zones,
        )


def _forecast_groups(
    series: pd.DataFrame,
    history: pd.DataFrame,
    future: pd.DataFrame,
    p: ForecastParams,
    *,
    k: int,
    timezone: str,
    planned: Sequence[PlannedChange] = (),
    zones: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    keys, caps = _groups(series, k)
    if not keys:
        return _empty_forecast(), pd.DataFrame(columns=_SCORE_COLS)
    y = _wide(series, history, keys)
    bt = backtest_wide(history, y, p)
    sc = score(bt, ("col", "model")) if len(bt) else pd.DataFrame()
    best = _choose(sc, len(keys))
    ahead = (future["week"] - future["week"].min() + 1).to_numpy()
    hours = future["hour"].to_numpy()
    hist_open = history[~history["closed"].to_numpy(bool)]
    cal = Cal.of(hist_open)
    y_open = y[~history["closed"].to_numpy(bool)]
    tgt = Cal.of(future)
    closed = future["closed"].to_numpy(bool)
    calib = _calib_groups(bt, p.calib_origins), _pooled(bt, best, p)
    last_day = history["day"].max() if len(history) else dt.date.min
    shares = planned_shares(
        planned, series, keys, zones, future["how"].to_numpy(), last_day, p.naive_weeks
    )
    term = yearly_term(cal, y_open, tgt) if p.yearly else None
    fparts, sparts = [], []
    for model in sorted(set(best)):
        cols = [j for j, b in enumerate(best) if b == model]
        sub = None if term is None else term[:, cols]
        mean, sd = _predict(cal, y_open[:, cols], tgt, model, p, sub)
        mean, sd, factor = apply_planned(
            np.maximum(mean, 0.0),
            sd,
            future["day"].to_numpy(),
            last_day,
            planned,
            [None if sh is None else sh[:, cols] for sh in shares],
        )
        for i, j in enumerate(cols):
            z = _z(calib, j, model, ahead, hours, (mean[:, i], sd[:, i]), p)
            f = _intervals(mean[:, i], sd[:, i], closed, z).drop(columns="sd")
            head: dict[str, Any] = {"level": keys[j][0], "level_id": keys[j][1]}
            head |= {"day": future["day"].to_numpy(), "hour": hours, "model": model}
            f = pd.concat([pd.DataFrame(head | {"closed": closed}), f], axis=1)
            f["capacity"] = caps[j]
            f["planned_factor"] = np.where(closed, 1.0, factor[:, i])
            fparts.append((j, f))
            sparts.append((j, _score_rows(sc, j, keys[j], model, z)))
    out = pd.concat([f for _, f in sorted(fparts, key=lambda t: t[0])])
    scores = pd.concat([s for _, s in sorted(sparts, key=lambda t: t[0])])
    return _finish(out.reset_index(drop=True), timezone), scores.reset_index(drop=True)[
        _SCORE_COLS
    ]


def _z(
    calib: tuple[dict[object, pd.DataFrame], pd.DataFrame | None],
    j: int,
    model: str,
    ahead: np.ndarray,
    hours: np.ndarray,
    fc: tuple[np.ndarray, np.ndarray],
    p: ForecastParams,
) -> tuple[np.ndarray, np.ndarray]:
    """The interval multipliers of column ``j`` (``model`` chosen)."""
    sel = calib[0].get((j, model), pd.DataFrame())
    return interval_z(sel, calib[1], ahead, hours, fc, p.aci, p.block)


def _pooled(
    bt: pd.DataFrame, best: list[str], p: ForecastParams
) -> pd.DataFrame | None:
    return pooled_relative(bt, best) if p.pool_relative else None


def _calib_groups(bt: pd.DataFrame, origins: int | None) -> dict[object, pd.DataFrame]:
    """The backtest rows of the latest ``origins`` origins by (col, model);
    none without a backtest (a history too short for one)."""
    if not len(bt):
        return {}
    return dict(iter(_recent(bt, origins).groupby(["col", "model"])))


def _recent(bt: pd.DataFrame, origins: int | None) -> pd.DataFrame:
    """The backtest rows of the latest ``origins`` origins (None: all)."""
    if bt.empty or origins is None:
        return bt
    keep = np.sort(bt["origin"].unique())[-origins:]
    return bt[bt["origin"].isin(keep)]


def _groups(series: pd.DataFrame, k: int) -> tuple[list[tuple[str, str]], list[float]]:
    """The groups (level, level_id) of ``series`` with at least ``k`` seats
    (the largest seat count of their recent hours), and those seats."""
    keys, caps = [], []
    for key, g in series.groupby(["level", "level_id"], sort=True):
        cap = float(g.sort_values("day")["capacity"].tail(200).max())
        if np.isfinite(cap) and cap >= k:
            keys.append((str(key[0]), str(key[1])))
            caps.append(cap)
    return keys, caps


def _score_rows(
    sc: pd.DataFrame,
    j: int,
    key: tuple[str, str],
    model: str,
    z: tuple[np.ndarray, np.ndarray],
) -> pd.DataFrame:
    """The backtest scores of column ``j`` (group ``key``), ``model`` chosen."""
    s = sc[sc["col"] == j].drop(columns="col") if len(sc) else _no_scores()
    s.insert(0, "level_id", key[1])
    s.insert(0, "level", key[0])
    s["chosen"] = s["model"] == model
    s["z80"], s["z95"] = float(z[0].mean()), float(z[1].mean())
    return s


def _finish(out: pd.DataFrame, timezone: str) -> pd.DataFrame:
    """+ ts (UTC start of the local hour) and the utilization columns."""
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
    return out


def _wide(
    series: pd.DataFrame, grid: pd.DataFrame, keys: list[tuple[str, str]]
) -> np.ndarray:
    """people of every group ``keys`` on the rows of ``grid`` (NaN: none)."""
    wide = series.pivot_table(
        index=["day", "hour"],
        columns=["level", "level_id"],
        values="people",
        aggfunc="mean",
    )
    wide = wide.reindex(columns=pd.MultiIndex.from_tuples(keys))
    idx = pd.MultiIndex.from_arrays([grid["day"], grid["hour"]])
    return wide.reindex(idx).to_numpy(float)


def _choose(sc: pd.DataFrame, n: int) -> list[str]:
    """Per column, the model of the lowest backtest MASE (seasonal naive
    without a score)."""
    best = ["seasonal_naive"] * n
    if sc.empty:
        return best
    ok = sc[sc["mase"].notna()].sort_values(["col", "mase", "model"])
    first = ok.groupby("col")["model"].first()
    for col, model in zip(first.index.to_numpy(int), first.to_numpy(), strict=True):
        best[int(col)] = str(model)
    return best


def _no_scores() -> pd.DataFrame:
    return pd.DataFrame(
        columns=["model", "points", "mae", "mase", "coverage80", "coverage95"]
    )


_SCORE_COLS = (
    "level level_id model points mae mase coverage80 coverage95 chosen z80 z95"
).split()
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
    "planned_factor",
    "utilization_pct",
    "utilization_pct_lo80",
    "utilization_pct_hi80",
    "utilization_pct_lo95",
    "utilization_pct_hi95",
]


def _empty_forecast() -> pd.DataFrame:
    return pd.DataFrame(columns=FORECAST_COLUMNS)
