"""Available time: the site's working hours and days in its local time zone.

Buckets are aligned on UTC epoch multiples of ``bucket_minutes``; a bucket is
*available* when its local start time lies in the working hours of a working
day that is not a holiday. Local time only here, at the edge.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

__all__ = ["Calendar", "bucket_frame", "local_days_utc_range"]


@dataclass(frozen=True)
class Calendar:
    """What is available time. ``bucket_s``: bucket width [s]."""

    timezone: str = "Europe/Amsterdam"
    work_start: dt.time = dt.time(8, 0)
    work_end: dt.time = dt.time(18, 0)
    working_weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    holidays: tuple[dt.date, ...] = ()
    bucket_s: int = 900

    @classmethod
    def from_settings(cls, settings: object, timezone: str | None = None) -> Calendar:
        s = settings
        start, end = s.working_hours_range  # type: ignore[attr-defined]
        return cls(
            timezone=timezone or str(s.timezone),  # type: ignore[attr-defined]
            work_start=start,
            work_end=end,
            working_weekdays=tuple(s.working_weekdays),  # type: ignore[attr-defined]
            holidays=tuple(s.holidays),  # type: ignore[attr-defined]
            bucket_s=int(s.bucket_minutes) * 60,  # type: ignore[attr-defined]
        )


def local_days_utc_range(
    cal: Calendar, first: dt.date, last: dt.date
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """UTC instants [start, end) covering local days ``first``..``last``."""
    start = pd.Timestamp(first).tz_localize(cal.timezone).tz_convert("UTC")
    end = (
        pd.Timestamp(last + dt.timedelta(days=1))
        .tz_localize(cal.timezone)
        .tz_convert("UTC")
    )
    return start, end


def bucket_frame(
    cal: Calendar, first: dt.date, last: dt.date, *, available_only: bool = True
) -> pd.DataFrame:
    """Every bucket of local days ``first``..``last``: ``bucket`` (epoch index,
    start = bucket x bucket_s seconds), ``bucket_start`` (UTC), ``day`` (local
    date), ``weekday`` (0 = Monday), ``hour`` (local), ``available`` (bool)."""
    start, end = local_days_utc_range(cal, first, last)
    b0 = int(start.value // 10**9) // cal.bucket_s
    b1 = -(-int(end.value // 10**9) // cal.bucket_s)
    idx = np.arange(b0, b1, dtype=np.int64)
    ts = pd.to_datetime(idx * cal.bucket_s, unit="s", utc=True)
    local = ts.tz_convert(cal.timezone)
    day = local.date
    tod = local.hour * 60 + local.minute
    ws = cal.work_start.hour * 60 + cal.work_start.minute
    we = cal.work_end.hour * 60 + cal.work_end.minute
    weekday = local.weekday
    # Only the closed days in range: a site's country can give a century's.
    closed = [h for h in cal.holidays if first <= h <= last]
    avail = (
        (tod >= ws)
        & (tod < we)
        & np.isin(weekday, list(cal.working_weekdays))
        & ~np.isin(np.asarray(day, dtype=object), np.asarray(closed, dtype=object))
    )
    frame = pd.DataFrame(
        {
            "bucket": idx,
            "bucket_start": ts,
            "day": day,
            "weekday": np.asarray(weekday, dtype=np.int64),
            "hour": np.asarray(local.hour, dtype=np.int64),
            "available": np.asarray(avail, dtype=bool),
        }
    )
    frame = frame[(frame["day"] >= first) & (frame["day"] <= last)]
    if available_only:
        frame = frame[frame["available"]]
    return frame.reset_index(drop=True)
