"""Fixed-period release of badge-derived measures (co-location, department
mix): the rules that keep differencing of two answers from recovering what
k-suppression hides.

k-suppression per query is not enough: the answer for days 1-7 minus the
answer for days 1-6 is day 7, whose own cell may cover one person. So every
badge-derived figure is built only from **released periods**: whole local ISO
weeks (Monday to Sunday) that have ended. Each week's cell is suppressed on
its own (fewer than k distinct people on either side: the week contributes
nothing), and a range's figure is the sum of the released week cells it
touches. Any two answers then differ by a sum of released week cells, each of
which covers at least k people on its own (docs/privacy.md).
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

__all__ = [
    "combine_released",
    "local_today",
    "pool_small_groups",
    "released_weeks",
    "week_monday",
]

_WEEK = dt.timedelta(days=7)


def week_monday(day: dt.date) -> dt.date:
    """The Monday of ``day``'s ISO week."""
    return day - dt.timedelta(days=day.weekday())


def local_today(timezone: str, now: dt.datetime | None = None) -> dt.date:
    """Today's date in the site's time zone (``now``: aware; default now)."""
    moment = now or dt.datetime.now(dt.UTC)
    return moment.astimezone(ZoneInfo(timezone)).date()


def released_weeks(start: dt.date, end: dt.date, today: dt.date) -> list[dt.date]:
    """Mondays of the released weeks a range [start, end] touches: every ISO
    week with a day in the range whose Sunday lies before ``today`` (a week
    still running is not released: its answer would change day by day and so
    reveal each day). Contiguous and ascending; empty if none."""
    if end < start:
        return []
    first = week_monday(start)
    last = week_monday(end)
    newest_released = week_monday(today) - _WEEK
    last = min(last, newest_released)
    if last < first:
        return []
    n = (last - first).days // 7 + 1
    return [first + i * _WEEK for i in range(n)]


def combine_released(
    weekly: pd.DataFrame,
    keys: list[str],
    sum_cols: list[str],
) -> pd.DataFrame:
    """Range cells from week cells: per ``keys``, the sum of ``sum_cols`` over
    the weeks whose cell was released (``suppressed`` False), ``weeks`` the
    number of such weeks. Keys that only have suppressed weeks stay, with
    NaN sums and 0 weeks (they are suppressed as a whole)."""
    if weekly.empty:
        out = pd.DataFrame({c: pd.Series(dtype=object) for c in keys})
        for c in sum_cols:
            out[c] = pd.Series(dtype=float)
        out["weeks"] = pd.Series(dtype=np.int64)
        return out
    released = ~weekly["suppressed"].astype(bool).to_numpy()
    vals = weekly[sum_cols].astype(float).mul(released.astype(float), axis=0)
    frame = pd.concat(
        [weekly[keys].reset_index(drop=True), vals.reset_index(drop=True)], axis=1
    )
    frame["weeks"] = released.astype(np.int64)
    out = frame.groupby(keys, sort=False, dropna=False).sum().reset_index()
    none = (out["weeks"] == 0).to_numpy()
    for c in sum_cols:
        out[c] = out[c].where(~none, np.nan)
    return out


def pool_small_groups(
    counts: pd.DataFrame,
    *,
    period_keys: list[str],
    group_col: str,
    people_col: str,
    k: int,
    other: str = "other",
) -> pd.DataFrame:
    """Rows of ``counts`` (one per period, group) where a group with fewer
    than k distinct people in its period is pooled into the group ``other``
    (people and every other numeric column summed); a pool still under k is
    dropped. So a released share is always the share of at least k people
    (a department mix with a one-person department would otherwise give that
    person's share exactly)."""
    small = counts[people_col].astype(float) < k
    big = counts[~small]
    pool = counts[small].copy()
    if pool.empty:
        return big.reset_index(drop=True)
    pool[group_col] = other
    pooled = pool.groupby([*period_keys, group_col], sort=False).sum().reset_index()
    pooled = pooled[pooled[people_col].astype(float) >= k]
    out = pd.concat([big, pooled[big.columns]], ignore_index=True)
    return out.sort_values([*period_keys, group_col]).reset_index(drop=True)
