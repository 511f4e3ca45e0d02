"""The forecast's calendar grid (every working hour of every working day, with
the closed days and school holidays known in advance) and its series (mean
head count per local hour of a group); re-exported by analytics/forecast.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = ["hour_grid", "hourly_series"]


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
