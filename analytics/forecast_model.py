"""The forecast's models on many series at once (numpy): every group of a site
shares the calendar (the rows: working hours of working days), so one design
matrix and one least-squares solve with a column per group fit them all.
Rules: docs/metrics.md, "Forecast"; the public face is analytics/forecast.py.

Arrays: ``cal`` = the hour_grid columns as numpy arrays (week, how, hour,
school, day ordinal) of the rows, ``y`` = rows × groups (NaN: no data).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "SPECS",
    "Cal",
    "ModelSpec",
    "calibrate",
    "hour_group",
    "mase_scales",
    "predict",
]

#: Weekly damping of the trend beyond the last week (Gardner & McKenzie 1985).
PHI = 0.85
#: Standard normal quantiles of the two-sided 80 % and 95 % intervals.
Z80, Z95 = 1.2815515655446004, 1.959963984540054
#: Hour-of-day groups of the interval calibration.
HOUR_GROUPS = 3
#: Fewest backtest points of a calibration cell.
MIN_CAL = 50
#: |t| of a level shift in the weekly mean residuals to accept it.
SHIFT_T = 4.0
#: A day whose mean residual is this many robust sd from the median is an
#: outlier (a one-off event): replaced by the fit before the final solve.
OUTLIER_Z = 5.0


@dataclass(frozen=True)
class ModelSpec:
    """``half_life``: of the weights [weeks], None = the params' one;
    ``trend``: damped linear trend; ``log``: fitted on log(1 + people)
    (multiplicative effects); ``shift``: level-shift detection; ``robust``:
    outlier days replaced by the fit."""

    half_life: float | None = None
    trend: bool = False
    log: bool = False
    shift: bool = False
    robust: bool = False


SPECS: dict[str, ModelSpec] = {
    "dls": ModelSpec(trend=True),
    "dls_level": ModelSpec(),
    "dls_fast": ModelSpec(half_life=2.0),
    "log_shift": ModelSpec(half_life=13.0, log=True, shift=True, robust=True),
    "log_shift_trend": ModelSpec(
        half_life=13.0, trend=True, log=True, shift=True, robust=True
    ),
}


@dataclass(frozen=True)
class Cal:
    """Calendar of rows: week (Monday-based index), how (hour of week), hour,
    school (bool), day (ordinal)."""

    week: np.ndarray
    how: np.ndarray
    hour: np.ndarray
    school: np.ndarray
    day: np.ndarray

    @classmethod
    def of(cls, g: pd.DataFrame) -> Cal:
        day = pd.to_datetime(pd.Series(g["day"]).astype(str)).to_numpy()
        return cls(
            week=g["week"].to_numpy(np.int64),
            how=g["how"].to_numpy(np.int64),
            hour=g["hour"].to_numpy(np.int64),
            school=g["school"].to_numpy(bool),
            day=day.astype("datetime64[D]").astype(np.int64),
        )

    def take(self, idx: np.ndarray) -> Cal:
        return Cal(
            self.week[idx],
            self.how[idx],
            self.hour[idx],
            self.school[idx],
            self.day[idx],
        )

    def __len__(self) -> int:
        return len(self.week)


def _week_diffs(cal: Cal, y: np.ndarray) -> np.ndarray:
    """y_t − y_{t−m}, m = one week (same hour of week a week earlier); NaN
    where either side is missing."""
    key = cal.week * 168 + cal.how
    order = np.argsort(key, kind="stable")
    pos = np.searchsorted(key[order], key - 168)
    pos = np.minimum(pos, len(key) - 1)
    prev = order[pos]
    has = key[prev] == key - 168
    d = np.full(y.shape, np.nan)
    d[has] = y[has] - y[prev[has]]
    return d


def mase_scales(cal: Cal, y: np.ndarray) -> np.ndarray:
    """Per column, the mean |y_t − y_{t−m}| (m = one week) over the pairs
    with both sides present; NaN without a pair."""
    d = np.abs(_week_diffs(cal, y))
    n = (~np.isnan(d)).sum(axis=0)
    total = np.nansum(d, axis=0)
    # Not np.nanmean: it warns "Mean of empty slice" on a column without pairs.
    return np.where(n > 0, total / np.maximum(n, 1), np.nan)


def _naive(
    cal: Cal, y: np.ndarray, tgt: Cal, weeks: int, fit_rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    last = cal.week.max()
    rows = cal.week > last - weeks
    prof = pd.DataFrame(y[rows]).groupby(cal.how[rows]).mean()
    mean = prof.reindex(tgt.how).fillna(0.0).to_numpy(float)
    fc = cal.take(fit_rows)
    d = pd.DataFrame(_week_diffs(fc, y[fit_rows]))
    err = d.groupby(fc.hour).std(ddof=1)
    fill = err.mean(axis=0).fillna(0.0)
    sd = err.reindex(tgt.hour).fillna(fill).fillna(0.0).to_numpy(float)
    return mean, sd


def _design(
    cal: Cal, hows: np.ndarray, hours: np.ndarray, w0: int, trend: bool
) -> np.ndarray:
    how_d = (cal.how[:, None] == hows[None, :]).astype(float)
    h = (cal.week - w0).astype(float)
    # Beyond the last week the trend is damped: Σ_{i=1..h} φ^i instead of h.
    damped = np.where(h > 0, PHI * (1 - PHI**h) / (1 - PHI), h)
    sch = (cal.hour[:, None] == hours[None, :]) & cal.school[:, None]
    cols = [how_d, damped[:, None]] if trend else [how_d]
    return np.hstack([*cols, sch.astype(float)])


def predict(
    cal: Cal,
    y: np.ndarray,
    tgt: Cal,
    model: str,
    *,
    history_weeks: int,
    half_life: float,
    naive_weeks: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Point forecast and spread (target rows × columns) of ``model`` from
    the open training rows ``cal``/``y`` (closed rows already left out).
    Columns with different missing rows are fitted apart."""
    m, g = len(tgt), y.shape[1]
    mean, sd = np.zeros((m, g)), np.zeros((m, g))
    if len(cal) == 0 or g == 0:
        return mean, sd
    last = int(cal.week.max())
    in_win = cal.week > last - history_weeks
    valid = ~np.isnan(y)
    packed = np.packbits(valid & in_win[:, None], axis=0).T
    _, label = np.unique(packed, axis=0, return_inverse=True)
    for lab in np.unique(label):
        cols = np.flatnonzero(label.ravel() == lab)
        rows = np.flatnonzero(valid[:, cols[0]] & in_win)
        if model == "seasonal_naive" or len(rows) < 20:
            mu, s = _naive(cal, y[:, cols], tgt, naive_weeks, rows)
        else:
            spec = SPECS[model]
            hl = spec.half_life if spec.half_life is not None else half_life
            mu, s = _dls(cal.take(rows), y[rows][:, cols], tgt, last, hl, spec)
        mean[:, cols], sd[:, cols] = mu, s
    return mean, sd


def _solve(xw: np.ndarray, zw: np.ndarray) -> np.ndarray:
    b: np.ndarray = np.linalg.lstsq(xw, zw, rcond=None)[0]
    return b


def _dls(
    cal: Cal, y: np.ndarray, tgt: Cal, last: int, half_life: float, spec: ModelSpec
) -> tuple[np.ndarray, np.ndarray]:
    """Discounted least squares of every column on one design."""
    hows, hours = np.unique(cal.how), np.unique(cal.hour)
    x = _design(cal, hows, hours, last, spec.trend)
    keep = np.asarray(x.any(axis=0), dtype=bool)
    if spec.trend:
        keep[len(hows)] = True  # the trend column (all 0 in the last week)
    x = x[:, keep]
    xt = _design(tgt, hows, hours, last, spec.trend)[:, keep]
    age = (last - cal.week).clip(min=0).astype(float)
    w = 0.5 ** (age / half_life)
    sw = np.sqrt(w)[:, None]
    xw = x * sw
    z = np.log1p(np.maximum(y, 0.0)) if spec.log else y
    b = _solve(xw, z * sw)
    resid = z - x @ b
    if spec.robust:
        z0 = z
        for _ in range(2):
            z = _clean_outlier_days(cal, z0, x @ b)
            b = _solve(xw, z * sw)
        resid = z - x @ b
    zt = xt @ b
    if spec.shift:
        zt, resid = _level_shift(cal, x, xt, w, resid, zt)
    # Residual spread per hour of day (weighted) + the fitted mean's error.
    hr = pd.Series(cal.hour)
    var_h = pd.DataFrame(resid**2 * w[:, None]).groupby(hr.to_numpy()).sum()
    var_h = var_h.div(pd.Series(w).groupby(hr.to_numpy()).sum(), axis=0)
    noise = var_h.reindex(tgt.hour).fillna(var_h.mean(axis=0)).to_numpy(float)
    dof = max(len(w) - x.shape[1], 1)
    xtx_inv = np.linalg.pinv(xw.T @ xw)
    lev = np.einsum("ij,jk,ik->i", xt, xtx_inv, xt)
    sigma2 = (resid**2 * w[:, None]).sum(axis=0) / dof
    sd = np.sqrt(noise + lev[:, None] * sigma2[None, :])
    if spec.log:
        mean = np.expm1(zt)
        return np.maximum(mean, 0.0), sd * (np.maximum(mean, 0.0) + 1.0)
    return zt, sd


def _clean_outlier_days(cal: Cal, z: np.ndarray, fitted: np.ndarray) -> np.ndarray:
    """Isolated days (neither neighbouring open day flagged too) whose mean
    deviation from the median of their hours of week lies more than OUTLIER_Z
    robust sd (1.4826 × MAD) from the median day take the fitted values
    instead (twice: the second fit no longer leans toward the outlier)."""
    dev = z - pd.DataFrame(z).groupby(cal.how).transform("median").to_numpy()
    day = pd.DataFrame(dev).groupby(cal.day).mean()
    med = day.median(axis=0)
    mad = (day - med).abs().median(axis=0) * 1.4826
    bad = (day - med).abs().gt(OUTLIER_Z * mad.where(mad > 0, np.inf), axis=1)
    # Only isolated days: a run of them is a change of level (_level_shift).
    run = bad.shift(1, fill_value=False) | bad.shift(-1, fill_value=False)
    bad = bad & ~run
    if not bad.to_numpy().any():
        return z
    flag = bad.reindex(cal.day).to_numpy(bool)
    return np.where(flag, fitted, z)


def _level_shift(
    cal: Cal,
    x: np.ndarray,
    xt: np.ndarray,
    w: np.ndarray,
    resid: np.ndarray,
    zt: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """A step in the level (1 from week c on) per column where the weekly
    mean residuals show one: c maximises the two-sample |t| of the weeks
    before and from c (at least 2 before, 1 after), the sd being the robust
    week-to-week spread (1.4826 × MAD of first differences ÷ √2); accepted
    when |t| > SHIFT_T. The step's coefficient comes from the residuals by
    Frisch-Waugh-Lovell (the exact least squares of the design + the step)."""
    weeks = np.unique(cal.week)
    k = len(weeks)
    if k < 4:
        return zt, resid
    e = pd.DataFrame(resid).groupby(cal.week).mean().to_numpy()  # k × g
    c = np.cumsum(e, axis=0)
    n_b = np.arange(1, k)[:, None].astype(float)  # weeks before candidate
    mean_b = c[:-1] / n_b
    mean_a = (c[-1][None, :] - c[:-1]) / (k - n_b)
    dif = np.diff(e, axis=0)
    s = 1.4826 * np.median(np.abs(dif - np.median(dif, axis=0)), axis=0) / np.sqrt(2)
    s = np.where(s > 0, s, np.inf)
    t = (mean_a - mean_b) / (s[None, :] * np.sqrt(1 / n_b + 1 / (k - n_b)))
    t[:1] = 0.0  # at least 2 weeks before the step
    best = np.argmax(np.abs(t), axis=0)
    hit = np.abs(t[best, np.arange(t.shape[1])]) > SHIFT_T
    if not hit.any():
        return zt, resid
    cands = np.unique(best[hit])
    steps = (cal.week[:, None] >= weeks[cands + 1][None, :]).astype(float)
    sw = np.sqrt(w)[:, None]
    gamma = _solve(x * sw, steps * sw)
    st = steps - x @ gamma  # the steps residualised on the design
    for j in np.flatnonzero(hit):
        i = int(np.searchsorted(cands, best[j]))
        den = float((w * st[:, i] ** 2).sum())
        if den <= 1e-12:
            continue
        beta = float((w * st[:, i] * resid[:, j]).sum()) / den
        resid[:, j] = resid[:, j] - beta * st[:, i]
        zt[:, j] = zt[:, j] + beta * (1.0 - xt @ gamma[:, i])
    return zt, resid


def hour_group(hour: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """The hour-of-day group of the calibration: the working hours ``hours``
    cut in HOUR_GROUPS runs of (nearly) equal length, in order."""
    hs = np.unique(hours)
    pos = np.searchsorted(hs, hour).clip(0, max(len(hs) - 1, 0))
    return (pos * HOUR_GROUPS) // max(len(hs), 1)


def calibrate(
    bt: pd.DataFrame,
    weeks_ahead: np.ndarray,
    hours: np.ndarray | None = None,
    levels: tuple[float, float] = (0.8, 0.95),
) -> tuple[np.ndarray, np.ndarray]:
    """Interval multipliers for target rows ``weeks_ahead`` weeks after the
    origin (at hours ``hours``), from one model's rolling-origin errors
    (split conformal prediction with normalised scores, Lei et al. 2018): the
    80th and 95th percentiles of |y − ŷ| ÷ sd over the backtest points
    (sd > 0) of the same week ahead and hour-of-day group (:func:`hour_group`);
    a cell with fewer than MIN_CAL points takes those of its week ahead, then
    all weeks; fewer than MIN_CAL in all: the normal quantiles. ``levels``:
    the two quantile levels (the ACI-adapted ones: analytics/forecast_aci.py)."""
    n = len(weeks_ahead)
    z80, z95 = np.full(n, Z80), np.full(n, Z95)
    ok = bt[bt["sd"] > 1e-9] if len(bt) else bt
    if len(ok) < MIN_CAL:
        return z80, z95
    r = ((ok["y"] - ok["yhat"]).abs() / ok["sd"]).to_numpy()
    q = list(levels)
    z80[:], z95[:] = np.quantile(r, q)
    hours = np.zeros(n, dtype=np.int64) if hours is None else np.asarray(hours)
    all_hours = np.concatenate([ok["hour"].to_numpy(), hours])
    tg = hour_group(hours, all_hours)
    bg = hour_group(ok["hour"].to_numpy(), all_hours)
    wa = ok["week_ahead"].to_numpy()
    for w in np.unique(weeks_ahead):
        part = r[wa == w]
        if len(part) >= MIN_CAL:
            hit = weeks_ahead == w
            z80[hit], z95[hit] = np.quantile(part, q)
        for grp in np.unique(tg):
            cell = r[(wa == w) & (bg == grp)]
            if len(cell) >= MIN_CAL:
                hit = (weeks_ahead == w) & (tg == grp)
                z80[hit], z95[hit] = np.quantile(cell, q)
    return z80, z95
