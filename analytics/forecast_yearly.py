"""The forecast's yearly term (rules: docs/metrics.md, "Forecast"): what the
same weeks a year earlier showed beyond the level, trend and level shift the
models fit (a winter dip, a summer lull outside the school holidays), shrunk
toward none by how far it stands out of the week-to-week noise.

Per group, on log(1 + people) of the open hours outside school holidays (those
have their own term): the deviation from the group's mean of the same hour of
week, averaged per week; from those weekly means the least-squares fit of a
line plus one level step (at the week of the closest fit, kept when its |t|
> SHIFT_T) is taken away; the remainder,
averaged over 3 weeks (centred), is shrunk by the empirical-Bayes (James-Stein)
factor max(0, 1 − (σ² ÷ 3) ÷ mean of its squares), σ being the robust
week-to-week spread of the remainder (1.4826 × MAD of first differences ÷
√2). A target week takes the shrunk remainder of its week 52 weeks earlier,
less the mean over the last 13 training weeks' own (a year earlier; 0 where
not in the history): with one year of history the term says "this part of the
year ran x % below the year's line", relative to none in the recent weeks.
Weeks a year earlier outside the history: 0 (no term). Fewer than 26 weekly
means: no term.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.forecast_model import SHIFT_T, Cal

__all__ = ["YEAR_WEEKS", "yearly_term"]

#: Weeks of a year (the lag of the term).
YEAR_WEEKS = 52
#: Fewest weekly means to estimate the term.
MIN_WEEKS = 26
#: Training weeks whose own year-earlier term is taken away.
RECENT_WEEKS = 13


def _weekly_deviation(cal: Cal, y: np.ndarray) -> pd.DataFrame:
    """Weeks (every week from the first to the last) × columns: the mean
    deviation of log(1 + people) from the column's mean of the same hour of
    week, outside school holidays (NaN: no such hour)."""
    keep = ~cal.school
    z = pd.DataFrame(np.log1p(np.maximum(y[keep], 0.0)))
    how = cal.how[keep]
    dev = z - z.groupby(how).transform("mean")
    weekly = dev.groupby(cal.week[keep]).mean()
    return weekly.reindex(np.arange(cal.week.min(), cal.week.max() + 1))


def _line_and_step(e: np.ndarray) -> np.ndarray:
    """The least-squares fit of a + b·week + c·step to the weekly means ``e``
    (NaN: left out), the step (1 from a week on, at least 2 weeks either
    side) where the fit is closest; the step kept when its |t| (the sd being
    the robust week-to-week spread of ``e``: 1.4826 × MAD of its first
    differences ÷ √2) exceeds SHIFT_T, else the line alone. NaN where ``e``
    is."""
    ok = np.flatnonzero(~np.isnan(e))
    w, v = ok.astype(float), e[ok]
    k = len(v)
    x = np.column_stack([np.ones_like(w), w])
    fit = x @ np.linalg.lstsq(x, v, rcond=None)[0]
    dif = np.diff(v)
    s = 1.4826 * np.median(np.abs(dif - np.median(dif))) / np.sqrt(2)
    if s > 0 and k >= 6:
        cands = np.arange(2, k - 2)
        steps = (np.arange(k)[None, :] >= cands[:, None]).astype(float)  # c × k
        xs = np.concatenate(
            [np.broadcast_to(x, (len(cands), k, 2)), steps[..., None]], axis=2
        )  # c × k × 3
        betas = np.stack([np.linalg.lstsq(m, v, rcond=None)[0] for m in xs])
        sse = ((np.einsum("ckj,cj->ck", xs, betas) - v) ** 2).sum(axis=1)
        i = int(np.argmin(sse))
        var = np.linalg.pinv(xs[i].T @ xs[i])[2, 2]
        if abs(betas[i, 2]) / (s * np.sqrt(var)) > SHIFT_T:
            fit = xs[i] @ betas[i]
    out = np.full(len(e), np.nan)
    out[ok] = fit
    return out


def _shrunk_remainder(weekly: pd.DataFrame) -> pd.DataFrame:
    """Per column: the weekly means less their line and step, averaged over
    3 weeks and shrunk (empirical Bayes); NaN without a weekly mean."""
    out = pd.DataFrame(np.nan, index=weekly.index, columns=weekly.columns)
    for col in weekly.columns:
        e = weekly[col].to_numpy(float)
        if np.count_nonzero(~np.isnan(e)) < MIN_WEEKS:
            continue
        r = pd.Series(e - _line_and_step(e), index=weekly.index)
        dif = r.dropna().diff().dropna().to_numpy()
        sigma = 1.4826 * np.median(np.abs(dif - np.median(dif))) / np.sqrt(2)
        smooth = r.rolling(3, center=True, min_periods=2).mean()
        power = float(np.nanmean(smooth.to_numpy() ** 2))
        lam = max(0.0, 1.0 - (sigma**2 / 3) / power) if power > 0 else 0.0
        out[col] = lam * smooth
    return out


def yearly_term(cal: Cal, y: np.ndarray, tgt: Cal) -> np.ndarray:
    """The yearly term on the log scale (target rows × columns of ``y``) from
    the open training rows ``cal``/``y`` (module docstring); 0 where the week
    a year earlier is not in the history."""
    out = np.zeros((len(tgt), y.shape[1]))
    if len(cal) == 0 or y.shape[1] == 0:
        return out
    if cal.week.max() - cal.week.min() + 1 < MIN_WEEKS:
        return out
    d = _shrunk_remainder(_weekly_deviation(cal, y))
    last = int(cal.week.max())
    recent = np.arange(last - RECENT_WEEKS + 1, last + 1) - YEAR_WEEKS
    base = d.reindex(recent).fillna(0.0).mean(axis=0).to_numpy(float)
    ago = d.reindex(tgt.week - YEAR_WEEKS).to_numpy(float)
    return np.where(np.isnan(ago), 0.0, ago - base[None, :])
