"""Rollup readers for spaces and levels: utilization, level buckets, hourly
and hour-of-week profiles, day of week, weekly trend, department presence.
Read helpers take ``(conn, start, end, *, level=..., filters=..., settings=...)``
with ``start``/``end`` local dates, both included.
"""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pandas as pd

from analytics import space_months
from analytics.calendar import Calendar, bucket_frame
from analytics.copy_io import copy_out
from analytics.db_io import LEVELS, StoreError, site_timezone
from analytics.filters import Filters
from analytics.patterns import space_hour_of_week
from analytics.read_common import (
    buckets_per_day,
    calendar_for,
    filtered_spaces,
    guard_assigned,
    level_agg_rows,
    level_rows,
    read_rollup,
    settings_or_default,
    working_hours_only,
)
from analytics.read_hour_of_week import PERCENTILE_COLUMNS, read_hour_of_week_agg
from analytics.read_meta import metadata
from analytics.utilization import level_summary, space_summary
from occupancy.db import Connection
from occupancy.settings import Settings

logger = logging.getLogger(__name__)


@guard_assigned
def read_utilization(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    *,
    level: str = "floor",
    filters: Filters | None = None,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Utilization measures per space or group over [start, end] (local dates).

    ``filters.working_hours_only`` (default True): only working hours and
    days (holidays excluded); False: every hour of every day (no-data share
    then counts nights and weekends without data; at ``space`` level dwell_s
    and days_used, defined on working hours, are empty).

    ``level``: ``space`` (desks and rooms: time_used_pct, utilization_pct,
    dwell_s, ...), ``room``, ``zone``, ``floor``, ``building``, ``department``
    (group measures incl. simultaneous peak, average daily peak, surplus, free
    desks at peak), or ``day`` (one row per local day over the filtered
    building(s)). Columns: see ``REPORTS['utilization']`` in analytics.reports."""
    settings = settings_or_default(settings)
    if level not in LEVELS:
        raise StoreError(f"level {level!r}: use one of {', '.join(LEVELS)}")
    spaces, _ = metadata(conn)
    low, high = settings.target_low_pct, settings.target_high_pct
    wh = working_hours_only(filters)
    if level == "space":
        keep = filtered_spaces(spaces, filters)["space_id"]
        if not wh:
            daily = read_rollup(conn, "analytics_space_daily", start, end)
            daily = daily[daily["space_id"].isin(keep)]
            daily = _all_hours_daily(conn, start, end, daily, settings)
            if daily.empty:
                return _empty_space_summary()
            out = space_summary(daily, spaces, low=low, high=high)
            out["days_used"] = np.nan
        else:
            per_space = read_space_agg(conn, start, end, list(keep))
            if per_space.empty:
                return _empty_space_summary()
            out = space_summary(per_space, spaces, low=low, high=high)
            # One row per space: its days are the database's count.
            out["days"] = out["space_id"].map(per_space.set_index("space_id")["days"])
        return out.sort_values("space_id").reset_index(drop=True)
    cal = calendar_for(conn, settings)
    per_day = buckets_per_day(cal, start, end, available_only=wh)
    lvl = "building" if level == "day" else level
    agg = level_agg_rows(conn, start, end, lvl, spaces, filters)
    if agg.empty:
        return pd.DataFrame(
            columns=["level", "level_id", "time_used_pct", "utilization_pct"]
        )
    fdf = settings.free_desk_factor
    if level == "day":
        return daily_level_summary(agg, per_day, cal, low=low, high=high, fdf=fdf)
    out = summary_from_daily(
        agg, cal, available_buckets=int(per_day.sum()), low=low, high=high, fdf=fdf
    )
    return out.sort_values(["level", "level_id"]).reset_index(drop=True)


def summary_from_daily(
    agg: pd.DataFrame,
    cal: Calendar,
    *,
    available_buckets: int,
    low: float,
    high: float,
    fdf: float,
) -> pd.DataFrame:
    """``level_summary`` of level buckets from their per-day aggregates
    (:func:`read_level_agg` rows): its sums, maxima and the mean of daily
    peaks are the same over day rows as over bucket rows; only the surplus
    (fewest desks vacant in one bucket) needs the stored per-day minimum."""
    out = level_summary(
        agg,
        cal,
        available_buckets=available_buckets,
        low=low,
        high=high,
        free_desk_factor=fdf,
    )
    surplus = agg.groupby(["level", "level_id"])["min_vacant"].min()
    out["surplus_desks"] = surplus.reindex(
        pd.MultiIndex.from_frame(out[["level", "level_id"]])
    ).to_numpy()
    return out


def daily_level_summary(
    agg: pd.DataFrame,
    per_day: pd.Series,
    cal: Calendar,
    *,
    low: float,
    high: float,
    fdf: float,
) -> pd.DataFrame:
    """:func:`summary_from_daily` of each day on its own (one row per day and
    group): days are grouped as groups (the ``level`` column carries the day),
    one call per distinct number of available buckets in a day
    (``per_day``: buckets per day; a day missing there has none)."""
    level = agg["level"]
    avail = agg["day"].map(per_day).fillna(0).astype(int)
    parts = []
    for n in sorted(avail.unique()):
        sub = agg[(avail == n).to_numpy()]
        s = summary_from_daily(
            sub.assign(level=sub["day"]),
            cal,
            available_buckets=int(n),
            low=low,
            high=high,
            fdf=fdf,
        )
        day = s.pop("level")
        s.insert(0, "level", level.iloc[0])
        s.insert(0, "day", day)
        parts.append(s)
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["day", "level_id"]).reset_index(drop=True)


def read_space_agg(
    conn: Connection, start: dt.date, end: dt.date, space_ids: list[str]
) -> pd.DataFrame:
    """``analytics_space_daily`` of ``space_ids`` over local days [start, end]
    summed per space in the database (what ``space_summary`` needs); whole
    months from their pre-aggregate (:func:`analytics.space_months.read_space_agg`)."""
    return space_months.read_space_agg(conn, start, end, space_ids)


def _all_hours_daily(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    daily: pd.DataFrame,
    settings: Settings,
) -> pd.DataFrame:
    """``analytics_space_daily`` rows with the time measures over every hour
    (from ``analytics_space_hourly``): available_s = the whole local day,
    measured_s, occupied_s, people_s, peak_people of all hours. Sessions,
    hours_used and used_day are defined on working hours: set empty, so
    dwell_s and days_used come out empty."""
    h = read_space_hourly(conn, start, end, working_hours_only=False)
    h = h[h["space_id"].isin(daily["space_id"])]
    per = (
        h.groupby(["day", "space_id"])
        .agg(
            measured_s=("measured_s", "sum"),
            occupied_s=("occupied_s", "sum"),
            people_s=("people_s", "sum"),
            peak_people=("peak_people", "max"),
        )
        .reset_index()
    )
    cal = calendar_for(conn, settings)
    grid = bucket_frame(cal, start, end, available_only=False)
    day_s = grid.groupby("day").size() * float(cal.bucket_s)
    per["available_s"] = per["day"].map(day_s).astype(float)
    per["stuck_s"] = 0.0
    per["sessions"] = np.nan
    per["hours_used"] = np.nan
    per["used_day"] = np.nan
    return per


def _empty_space_summary() -> pd.DataFrame:
    return pd.DataFrame(
        columns=["space_id", "kind", "time_used_pct", "utilization_pct", "dwell_s"]
    )


def read_space_hourly(
    conn: Connection, start: dt.date, end: dt.date, *, working_hours_only: bool = True
) -> pd.DataFrame:
    """Per space, local day and hour over [start, end]: day, hour, space_id,
    measured_s, occupied_s, people_s, peak_people; working hours only unless
    ``working_hours_only`` is False (then every hour with data)."""
    h = read_rollup(
        conn,
        "analytics_space_hourly",
        start,
        end,
        working_hours_only=working_hours_only,
    )
    if working_hours_only or h.empty:
        return h.drop(columns=["in_working_hours"], errors="ignore")
    g = h.groupby(["day", "hour", "space_id"], sort=True)
    return g.agg(
        measured_s=("measured_s", "sum"),
        occupied_s=("occupied_s", "sum"),
        people_s=("people_s", "sum"),
        peak_people=("peak_people", "max"),
    ).reset_index()


@guard_assigned
def read_hour_of_week(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    *,
    level: str = "building",
    filters: Filters | None = None,
    settings: Settings | None = None,
    means_only: bool = False,
) -> pd.DataFrame:
    """Hour-of-week profile per space (``level="space"``: every desk and room,
    from ``analytics_space_hourly``) or per group of ``level`` (zone, floor,
    building, department, room): weekday (0 = Monday), hour (local), weeks,
    people_mean/median/p90/max, utilization_pct (mean over weeks),
    utilization_p90_pct, utilization_max_pct, peak_people. Filters narrow
    group levels as :func:`narrow_groups` says (the ``level`` column tells the
    level returned) and keep the matching spaces at ``space`` level.
    ``means_only``: without the percentile columns (:data:`PERCENTILE_COLUMNS`;
    the other columns the same), which a group level then does not compute."""
    settings = settings_or_default(settings)
    if level not in LEVELS or level == "day":
        raise StoreError(
            f"level {level!r}: use space, zone, floor, building, department or room"
        )
    spaces, _ = metadata(conn)
    if level == "space":
        hourly = read_space_hourly(
            conn, start, end, working_hours_only=working_hours_only(filters)
        )
        keep = filtered_spaces(spaces, filters)["space_id"]
        hourly = hourly[hourly["space_id"].isin(keep)]
        if hourly.empty:
            return _empty_profile()
        full = space_hour_of_week(hourly, spaces)
        return (
            full.drop(columns=list(PERCENTILE_COLUMNS), errors="ignore")
            if means_only
            else full
        )
    cal = calendar_for(conn, settings)
    out = read_hour_of_week_agg(
        conn,
        start,
        end,
        level,
        spaces,
        filters,
        bucket_s=cal.bucket_s,
        percentiles=not means_only,
    )
    if out.empty:
        return _empty_profile()
    return out


def _empty_profile() -> pd.DataFrame:
    return pd.DataFrame(
        columns=[
            "level",
            "level_id",
            "weekday",
            "hour",
            "utilization_pct",
            "people_mean",
        ]
    )


@guard_assigned
def read_day_of_week(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    *,
    level: str = "building",
    filters: Filters | None = None,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Per group and local weekday: days, avg_daily_peak, utilization_pct,
    time_used_pct."""
    from analytics.patterns import day_of_week

    settings = settings_or_default(settings)
    spaces, _ = metadata(conn)
    lb = level_rows(conn, start, end, level, spaces, filters)
    if lb.empty:
        return pd.DataFrame(columns=["level", "level_id", "weekday", "utilization_pct"])
    return day_of_week(lb, site_timezone(conn, settings))


@guard_assigned
def read_weekly_trend(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    *,
    level: str = "building",
    filters: Filters | None = None,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Per group and local week (Monday's date): utilization_pct,
    time_used_pct, peak_people."""
    from analytics.patterns import weekly_trend

    settings = settings_or_default(settings)
    spaces, _ = metadata(conn)
    lb = level_rows(conn, start, end, level, spaces, filters)
    if lb.empty:
        return pd.DataFrame(columns=["level", "level_id", "week", "utilization_pct"])
    return weekly_trend(lb, site_timezone(conn, settings))


def read_dept_presence(
    conn: Connection, start: dt.date, end: dt.date, filters: Filters | None = None
) -> pd.DataFrame:
    q = """SELECT bucket_start, day, zone_id, source, department_id, people,
                  array_to_json(badges)::text AS badges
             FROM analytics_dept_presence WHERE day BETWEEN %s AND %s"""
    frame = copy_out(conn, q, (start, end))
    if frame.empty:
        frame = pd.DataFrame(
            columns=[
                "bucket_start",
                "day",
                "zone_id",
                "source",
                "department_id",
                "people",
                "badges",
                "bucket",
            ]
        )
        return frame
    import json

    frame["badges"] = frame["badges"].map(json.loads)
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    frame["bucket"] = (
        pd.to_datetime(frame["bucket_start"], utc=True, format="ISO8601").astype(
            "int64"
        )
        // 10**9
    )
    if filters is not None:
        zones = metadata(conn)[1]
        for attr, col in (
            ("site", "site_id"),
            ("building", "building_id"),
            ("floor", "floor_id"),
            ("zone", "zone_id"),
        ):
            value = getattr(filters, attr, None)
            if value:
                zones = zones[zones[col] == value]
        frame = frame[frame["zone_id"].isin(zones["zone_id"])]
    return frame
