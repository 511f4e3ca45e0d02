"""Rollup readers for spaces and levels: utilization, level buckets, hourly
and hour-of-week profiles, day of week, weekly trend, department presence.
Read helpers take ``(conn, start, end, *, level=..., filters=..., settings=...)``
with ``start``/``end`` local dates, both included.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import numpy as np
import pandas as pd

from analytics.calendar import bucket_frame
from analytics.db_io import LEVELS, StoreError, copy_out, read_metadata, site_timezone
from analytics.patterns import hour_of_week, space_hour_of_week
from analytics.read_common import (
    calendar_for,
    filtered_spaces,
    level_rows,
    read_rollup,
    settings_or_default,
    working_hours_only,
)
from analytics.utilization import level_summary, space_summary

logger = logging.getLogger(__name__)


def read_utilization(
    conn: Any,
    start: dt.date,
    end: dt.date,
    *,
    level: str = "floor",
    filters: Any = None,
    settings: Any = None,
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
    spaces, _ = read_metadata(conn)
    low, high = float(settings.target_low_pct), float(settings.target_high_pct)
    wh = working_hours_only(filters)
    if level == "space":
        daily = read_rollup(conn, "analytics_space_daily", start, end)
        keep = filtered_spaces(spaces, filters)["space_id"]
        daily = daily[daily["space_id"].isin(keep)]
        if not wh:
            daily = _all_hours_daily(conn, start, end, daily, settings)
        if daily.empty:
            return _empty_space_summary()
        out = space_summary(daily, spaces, low=low, high=high)
        if not wh:
            out["days_used"] = np.nan
        return out.sort_values("space_id").reset_index(drop=True)
    cal = calendar_for(conn, settings)
    grid = bucket_frame(cal, start, end, available_only=wh)
    lvl = "building" if level == "day" else level
    lb = level_rows(conn, start, end, lvl, spaces, filters)
    if lb.empty:
        return pd.DataFrame(
            columns=["level", "level_id", "time_used_pct", "utilization_pct"]
        )
    if level == "day":
        per_day = grid.groupby("day").size()
        parts = []
        for day, sub in lb.groupby("day"):
            s = level_summary(
                sub,
                cal,
                available_buckets=int(per_day.get(day, 0)),
                low=low,
                high=high,
                free_desk_factor=float(settings.free_desk_factor),
            )
            s.insert(0, "day", day)
            parts.append(s)
        out = pd.concat(parts, ignore_index=True)
        return out.sort_values(["day", "level_id"]).reset_index(drop=True)
    out = level_summary(
        lb,
        cal,
        available_buckets=len(grid),
        low=low,
        high=high,
        free_desk_factor=float(settings.free_desk_factor),
    )
    return out.sort_values(["level", "level_id"]).reset_index(drop=True)


def _all_hours_daily(
    conn: Any, start: dt.date, end: dt.date, daily: pd.DataFrame, settings: Any
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
    conn: Any, start: dt.date, end: dt.date, *, working_hours_only: bool = True
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


def read_hour_of_week(
    conn: Any,
    start: dt.date,
    end: dt.date,
    *,
    level: str = "building",
    filters: Any = None,
    settings: Any = None,
) -> pd.DataFrame:
    """Hour-of-week profile per space (``level="space"``: every desk and room,
    from ``analytics_space_hourly``) or per group of ``level`` (zone, floor,
    building, department, room): weekday (0 = Monday), hour (local), weeks,
    people_mean/median/p90/max, utilization_pct (mean over weeks),
    utilization_p90_pct, utilization_max_pct, peak_people. Filters narrow
    group levels as :func:`narrow_groups` says (the ``level`` column tells the
    level returned) and keep the matching spaces at ``space`` level."""
    settings = settings_or_default(settings)
    if level not in LEVELS or level == "day":
        raise StoreError(
            f"level {level!r}: use space, zone, floor, building, department or room"
        )
    spaces, _ = read_metadata(conn)
    if level == "space":
        hourly = read_space_hourly(
            conn, start, end, working_hours_only=working_hours_only(filters)
        )
        keep = filtered_spaces(spaces, filters)["space_id"]
        hourly = hourly[hourly["space_id"].isin(keep)]
        if hourly.empty:
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
        return space_hour_of_week(hourly, spaces)
    cal = calendar_for(conn, settings)
    lb = level_rows(conn, start, end, level, spaces, filters)
    if lb.empty:
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
    return hour_of_week(lb, cal.timezone, cal.bucket_s)


def read_day_of_week(
    conn: Any,
    start: dt.date,
    end: dt.date,
    *,
    level: str = "building",
    filters: Any = None,
    settings: Any = None,
) -> pd.DataFrame:
    """Per group and local weekday: days, avg_daily_peak, utilization_pct,
    time_used_pct."""
    from analytics.patterns import day_of_week

    settings = settings_or_default(settings)
    spaces, _ = read_metadata(conn)
    lb = level_rows(conn, start, end, level, spaces, filters)
    if lb.empty:
        return pd.DataFrame(columns=["level", "level_id", "weekday", "utilization_pct"])
    return day_of_week(lb, site_timezone(conn, settings))


def read_weekly_trend(
    conn: Any,
    start: dt.date,
    end: dt.date,
    *,
    level: str = "building",
    filters: Any = None,
    settings: Any = None,
) -> pd.DataFrame:
    """Per group and local week (Monday's date): utilization_pct,
    time_used_pct, peak_people."""
    from analytics.patterns import weekly_trend

    settings = settings_or_default(settings)
    spaces, _ = read_metadata(conn)
    lb = level_rows(conn, start, end, level, spaces, filters)
    if lb.empty:
        return pd.DataFrame(columns=["level", "level_id", "week", "utilization_pct"])
    return weekly_trend(lb, site_timezone(conn, settings))


def read_dept_presence(
    conn: Any, start: dt.date, end: dt.date, filters: Any = None
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
        zones = read_metadata(conn)[1]
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
