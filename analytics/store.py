"""The one I/O module of analytics: reads events and metadata (COPY out or
SQL), writes rollups (COPY in), and the read helpers the reports and the
dashboard use. Everything it returns is k-suppressed where it describes
people (badge-derived data); see docs/analytics.md.

Read helpers take ``(conn, start, end, *, level=..., filters=..., settings=...)``
with ``start``/``end`` local dates, both included.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from typing import Any

import numpy as np
import pandas as pd
from psycopg2 import sql

from analytics.calendar import Calendar, bucket_frame
from analytics.colocation import (
    colocation_matrix,
    diversity,
    diversity_from_counts,
    matrix_from_counts,
    weekly_colocation,
)
from analytics.desks import desk_sharing
from analytics.patterns import hour_of_week, space_hour_of_week
from analytics.rooms import booking_stats, room_sizing
from analytics.utilization import level_summary, space_summary
from occupancy.db import read_frame

logger = logging.getLogger(__name__)

__all__ = [
    "LEVELS",
    "event_day_range",
    "import_bookings",
    "live_state",
    "max_received_at",
    "narrow_groups",
    "read_badge_departments",
    "read_colocation",
    "read_day_of_week",
    "read_department_no_show",
    "read_desk_sharing",
    "read_devices_report",
    "read_diversity",
    "read_events",
    "read_hour_of_week",
    "read_metadata",
    "read_room_sizing",
    "read_sessions",
    "read_sightings",
    "read_space_hourly",
    "read_utilization",
    "read_watermark",
    "read_weekly_trend",
    "touched_days",
    "write_rollups",
    "write_watermark",
]

#: Levels of read_utilization.
LEVELS = ("space", "room", "zone", "floor", "building", "department", "day")

ROLLUP_TABLES = (
    "analytics_space_daily",
    "analytics_space_hourly",
    "desk_daily_utilization",
    "analytics_level_buckets",
    "analytics_room_headcount",
    "analytics_dept_presence",
    "analytics_data_quality",
    "analytics_coloc_pairs",
    "analytics_coloc_zone",
    "analytics_coloc_dept",
    "analytics_coloc_badges",
    "analytics_coloc_badges_site",
)


class StoreError(RuntimeError):
    """Bad input to a store function; the message names it."""


# --------------------------------------------------------------------- raw reads
def _copy_out(
    conn: Any, query: str, params: tuple[Any, ...] | dict[str, Any] = ()
) -> pd.DataFrame:
    with conn.cursor() as cur:
        bound = cur.mogrify(query, params).decode()
        buf = io.StringIO()
        cur.copy_expert(f"COPY ({bound}) TO STDOUT WITH (FORMAT csv, HEADER true)", buf)
    buf.seek(0)
    return pd.read_csv(buf)


def _copy_out_arrow(
    conn: Any,
    query: str,
    params: tuple[Any, ...] | dict[str, Any],
    types: dict[str, Any],
) -> Any:
    """COPY (query) TO STDOUT as CSV into memory, parsed by Arrow's
    multi-threaded CSV reader with the given column types."""
    import pyarrow.csv as pacsv

    with conn.cursor() as cur:
        bound = cur.mogrify(query, params).decode()
        buf = io.BytesIO()
        cur.copy_expert(f"COPY ({bound}) TO STDOUT WITH (FORMAT csv, HEADER true)", buf)
    buf.seek(0)
    return pacsv.read_csv(
        buf,
        convert_options=pacsv.ConvertOptions(
            column_types=types, strings_can_be_null=True
        ),
    )


def site_timezone(conn: Any, settings: Any) -> str:
    with conn.cursor() as cur:
        cur.execute("SELECT timezone FROM sites WHERE site_id = %s", (settings.site,))
        row = cur.fetchone()
    return str(row[0]) if row else str(settings.timezone)


def read_events(conn: Any, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Occupancy events (presence, heartbeat, count) with ``start <= ts < end``:
    ts (UTC), space_id (the device's space or zone when the event has none),
    kind, value."""
    # Only the needed columns; the time as integer microseconds (no timestamp
    # text to format on the server or parse here); CSV parsed by Arrow.
    q = """SELECT (extract(epoch FROM e.ts) * 1000000)::bigint AS ts_us,
                  COALESCE(e.space_id, d.space_id, d.zone_id) AS space_id,
                  e.kind, e.value
             FROM sensor_events e LEFT JOIN devices d USING (device_id)
            WHERE e.ts >= %s AND e.ts < %s
              AND e.kind IN ('presence', 'heartbeat', 'count')"""
    import pyarrow as pa

    table = _copy_out_arrow(
        conn,
        q,
        (start.to_pydatetime(), end.to_pydatetime()),
        {
            "ts_us": pa.int64(),
            "space_id": pa.string(),
            "kind": pa.string(),
            "value": pa.float64(),
        },
    )
    ts = table.column("ts_us").to_numpy(zero_copy_only=False).astype("datetime64[us]")
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(ts, utc=True),
            "space_id": table.column("space_id").to_numpy(zero_copy_only=False),
            "kind": table.column("kind").to_numpy(zero_copy_only=False),
            "value": table.column("value").to_numpy(zero_copy_only=False),
        }
    )


def read_sightings(conn: Any, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Badge sightings with ``start <= ts < end``: ts, zone_id, badge."""
    q = """SELECT b.ts, COALESCE(b.zone_id, d.zone_id) AS zone_id, b.badge
             FROM badge_sightings b LEFT JOIN devices d USING (device_id)
            WHERE b.ts >= %s AND b.ts < %s"""
    frame = _copy_out(conn, q, (start.to_pydatetime(), end.to_pydatetime()))
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True, format="ISO8601")
    frame["badge"] = frame["badge"].astype(str)
    return frame


def read_badge_departments(conn: Any) -> pd.DataFrame:
    frame: pd.DataFrame = read_frame(
        conn, "SELECT badge, department_id FROM badge_departments"
    )
    return frame


def read_metadata(conn: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(spaces, zones): spaces with space_id, kind, capacity, zone_id,
    zone_kind, department_id, floor_id, building_id, site_id; zones with
    zone_id, kind, department_id, capacity, floor_id, building_id, site_id."""
    spaces: pd.DataFrame = read_frame(
        conn,
        """SELECT s.space_id, s.kind, s.capacity, s.zone_id, z.kind AS zone_kind,
                  z.department_id, z.floor_id, f.building_id, b.site_id
             FROM spaces s JOIN zones z USING (zone_id) JOIN floors f USING (floor_id)
             JOIN buildings b USING (building_id) ORDER BY s.space_id""",
    )
    zones: pd.DataFrame = read_frame(
        conn,
        """SELECT z.zone_id, z.kind, z.department_id, z.capacity, z.floor_id,
                  f.building_id, b.site_id
             FROM zones z JOIN floors f USING (floor_id) JOIN buildings b USING (building_id)
            ORDER BY z.zone_id""",
    )
    return spaces, zones


# --------------------------------------------------------------------- watermark
def max_received_at(conn: Any) -> dt.datetime | None:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT GREATEST((SELECT max(received_at) FROM sensor_events),"
            " (SELECT max(received_at) FROM badge_sightings))"
        )
        row = cur.fetchone()
    return row[0] if row else None


def read_watermark(conn: Any) -> dt.datetime | None:
    with conn.cursor() as cur:
        cur.execute("SELECT received_at FROM analytics_watermark WHERE name = 'events'")
        row = cur.fetchone()
    return row[0] if row else None


def write_watermark(conn: Any, received_at: dt.datetime) -> None:
    with conn, conn.cursor() as cur:
        cur.execute(
            """INSERT INTO analytics_watermark (name, received_at) VALUES ('events', %s)
               ON CONFLICT (name) DO UPDATE SET received_at = EXCLUDED.received_at,
                   computed_at = now()""",
            (received_at,),
        )


def event_day_range(conn: Any, tz: str) -> tuple[dt.date | None, dt.date | None]:
    """First and last local day with events or sightings."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT (min(ts) AT TIME ZONE %(tz)s)::date, (max(ts) AT TIME ZONE %(tz)s)::date
                 FROM (SELECT ts FROM sensor_events UNION ALL SELECT ts FROM badge_sightings) t""",
            {"tz": tz},
        )
        row = cur.fetchone()
    return (row[0], row[1]) if row else (None, None)


def touched_days(conn: Any, since: dt.datetime, tz: str) -> set[dt.date]:
    """Local days of events and sightings received after ``since``."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT DISTINCT (ts AT TIME ZONE %(tz)s)::date FROM sensor_events WHERE received_at > %(s)s
               UNION SELECT DISTINCT (ts AT TIME ZONE %(tz)s)::date FROM badge_sightings WHERE received_at > %(s)s""",
            {"tz": tz, "s": since},
        )
        return {r[0] for r in cur.fetchall()}


# --------------------------------------------------------------------- writes
def _array_literal(items: Any) -> str:
    esc = ('"' + str(x).replace("\\", "\\\\").replace('"', '\\"') + '"' for x in items)
    return "{" + ",".join(esc) + "}"


def _copy_frame(cur: Any, table: str, frame: pd.DataFrame) -> int:
    """COPY ``frame`` into ``table`` (columns by name), CSV written by Arrow's
    C++ writer (pandas' per-cell float formatting dominated the time)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if len(frame) == 0:
        return 0
    data = pa.Table.from_pandas(frame, preserve_index=False)
    buf = io.BytesIO()
    pacsv.write_csv(data, buf, pacsv.WriteOptions(include_header=False))
    buf.seek(0)
    stmt = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, list(frame.columns))),
    )
    cur.copy_expert(stmt.as_string(cur), buf)
    return len(frame)


def write_rollups(
    conn: Any, first: dt.date, last: dt.date, frames: dict[str, pd.DataFrame]
) -> dict[str, int]:
    """Replace the rows of local days ``first``..``last`` in every rollup table
    by ``frames`` (one transaction; COPY in). Returns rows written per table."""
    written: dict[str, int] = {}
    with conn, conn.cursor() as cur:
        for table in ROLLUP_TABLES:
            cur.execute(
                sql.SQL("DELETE FROM {} WHERE day BETWEEN %s AND %s").format(
                    sql.Identifier(table)
                ),
                (first, last),
            )
            frame = frames.get(table)
            if frame is None or len(frame) == 0:
                written[table] = 0
                continue
            if table == "analytics_dept_presence":
                frame = frame.assign(badges=frame["badges"].map(_array_literal))
            written[table] = _copy_frame(cur, table, frame)
    return written


def import_bookings(conn: Any, frame: pd.DataFrame) -> int:
    """Insert bookings (room_id, start, end, organiser_department,
    expected_attendees); existing (room, start, end) are updated. Returns rows."""
    dept = (
        frame["organiser_department"]
        .astype(object)
        .where(frame["organiser_department"].notna(), None)
    )
    att = (
        frame["expected_attendees"]
        .astype(object)
        .where(frame["expected_attendees"].notna(), None)
    )
    rows = list(
        zip(
            frame["room_id"].astype(str).tolist(),
            pd.to_datetime(frame["start"], utc=True).tolist(),
            pd.to_datetime(frame["end"], utc=True).tolist(),
            [None if v is None else str(v) for v in dept.tolist()],
            [None if v is None else int(v) for v in att.tolist()],
            strict=True,
        )
    )
    from psycopg2.extras import execute_values

    with conn, conn.cursor() as cur:
        execute_values(
            cur,
            """INSERT INTO analytics_bookings (room_id, start_ts, end_ts, organiser_department, expected_attendees)
               VALUES %s ON CONFLICT (room_id, start_ts, end_ts) DO UPDATE SET
               organiser_department = EXCLUDED.organiser_department,
               expected_attendees = EXCLUDED.expected_attendees""",
            rows,
            page_size=1000,
        )
    return len(rows)


# --------------------------------------------------------------------- rollup reads
def _settings(settings: Any) -> Any:
    if settings is None:
        from occupancy.settings import load_settings

        return load_settings()
    return settings


def _calendar(conn: Any, settings: Any) -> Calendar:
    return Calendar.from_settings(settings, timezone=site_timezone(conn, settings))


def _rollup(
    conn: Any,
    table: str,
    start: dt.date,
    end: dt.date,
    level: str | None = None,
    *,
    working_hours_only: bool = False,
) -> pd.DataFrame:
    q = sql.SQL("SELECT * FROM {} WHERE day BETWEEN %s AND %s").format(
        sql.Identifier(table)
    )
    params: tuple[Any, ...] = (start, end)
    if level is not None:
        q = q + sql.SQL(" AND level = %s")
        params = (start, end, level)
    if working_hours_only:
        q = q + sql.SQL(" AND in_working_hours")
    frame = _copy_out(conn, q.as_string(conn), params)
    if "day" in frame.columns:
        frame["day"] = pd.to_datetime(frame["day"]).dt.date
    if "bucket_start" in frame.columns:
        frame["bucket_start"] = pd.to_datetime(
            frame["bucket_start"], utc=True, format="ISO8601"
        )
    return frame


def filtered_spaces(spaces: pd.DataFrame, filters: Any) -> pd.DataFrame:
    """Spaces matching the filters (site, building, floor, zone, department)."""
    if filters is None:
        return spaces
    s = spaces
    for attr, col in (
        ("site", "site_id"),
        ("building", "building_id"),
        ("floor", "floor_id"),
        ("zone", "zone_id"),
        ("department", "department_id"),
    ):
        value = getattr(filters, attr, None)
        if value:
            s = s[s[col] == value]
    return s


#: Group levels from coarse to fine: where a filter narrower than the asked
#: level falls back to (see :func:`narrow_groups`).
LEVEL_ORDER = ("building", "floor", "department", "zone", "room")

_FILTER_ATTRS = ("site", "building", "floor", "zone", "department")


def working_hours_only(filters: Any) -> bool:
    """``filters.working_hours_only`` (default True: no filters = working hours)."""
    return bool(getattr(filters, "working_hours_only", True))


def _has_filter(filters: Any) -> bool:
    return filters is not None and any(getattr(filters, a, None) for a in _FILTER_ATTRS)


def narrow_groups(
    spaces: pd.DataFrame, level: str, filters: Any
) -> tuple[str, pd.DataFrame]:
    """Which groups a filtered group-level read returns: ``(effective level,
    frame of level, level_id)``.

    A group row is only ever returned whole, so it is returned only when it
    lies *entirely inside* the filters (every space of the group matches).
    The asked ``level`` is used when every group of it that touches the
    filtered spaces lies inside; otherwise the next finer level in
    :data:`LEVEL_ORDER` where that holds (a floor filter at ``building`` level
    returns that floor's ``floor`` row; a floor filter at ``department`` level
    returns the zones of that floor). Zones and rooms always qualify."""
    from analytics.utilization import membership

    mem = membership(spaces)
    matching = set(filtered_spaces(spaces, filters)["space_id"])
    inside = mem["space_id"].isin(matching)
    per = inside.groupby([mem["level"], mem["level_id"]]).agg(["any", "all"])
    order = list(LEVEL_ORDER)
    candidates = order[order.index(level) :] if level in order else [level]
    for lvl in candidates:
        if lvl not in per.index.get_level_values(0):
            continue
        g = per.loc[lvl]
        touching = g[g["any"]]
        if len(touching) and bool(touching["all"].all()):
            return lvl, pd.DataFrame(
                {"level": lvl, "level_id": touching.index.astype(str)}
            )
    return level, pd.DataFrame({"level": [], "level_id": []}, dtype=object)


def _keep_groups(lb: pd.DataFrame, spaces: pd.DataFrame, filters: Any) -> pd.DataFrame:
    """Level rows of groups lying entirely inside the filters (rows of one
    level, already read). Used where no fallback level applies."""
    if not _has_filter(filters):
        return lb
    from analytics.utilization import membership

    mem = membership(spaces)
    matching = set(filtered_spaces(spaces, filters)["space_id"])
    inside = mem["space_id"].isin(matching)
    all_in = inside.groupby([mem["level"], mem["level_id"]]).all()
    keys = all_in[all_in].index.to_frame(index=False)[["level", "level_id"]]
    return lb.merge(keys, on=["level", "level_id"])


def _level_rows(
    conn: Any,
    start: dt.date,
    end: dt.date,
    level: str,
    spaces: pd.DataFrame,
    filters: Any,
) -> pd.DataFrame:
    """analytics_level_buckets rows of ``level`` narrowed by ``filters`` as
    :func:`narrow_groups` says (possibly rows of a finer level)."""
    wh = working_hours_only(filters)
    if not _has_filter(filters):
        return read_level_buckets(conn, start, end, level, working_hours_only=wh)
    lvl, keys = narrow_groups(spaces, level, filters)
    lb = read_level_buckets(conn, start, end, lvl, working_hours_only=wh)
    return lb.merge(keys, on=["level", "level_id"])


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
    settings = _settings(settings)
    if level not in LEVELS:
        raise StoreError(f"level {level!r}: use one of {', '.join(LEVELS)}")
    spaces, _ = read_metadata(conn)
    low, high = float(settings.target_low_pct), float(settings.target_high_pct)
    wh = working_hours_only(filters)
    if level == "space":
        daily = _rollup(conn, "analytics_space_daily", start, end)
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
    cal = _calendar(conn, settings)
    grid = bucket_frame(cal, start, end, available_only=wh)
    lvl = "building" if level == "day" else level
    lb = _level_rows(conn, start, end, lvl, spaces, filters)
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
    cal = _calendar(conn, settings)
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


def read_level_buckets(
    conn: Any,
    start: dt.date,
    end: dt.date,
    level: str,
    *,
    working_hours_only: bool = True,
) -> pd.DataFrame:
    """``analytics_level_buckets`` rows of one level; only the buckets in
    working hours (and days, holidays excluded) unless ``working_hours_only``
    is False."""
    return _rollup(
        conn,
        "analytics_level_buckets",
        start,
        end,
        level,
        working_hours_only=working_hours_only,
    )


def read_space_hourly(
    conn: Any, start: dt.date, end: dt.date, *, working_hours_only: bool = True
) -> pd.DataFrame:
    """Per space, local day and hour over [start, end]: day, hour, space_id,
    measured_s, occupied_s, people_s, peak_people; working hours only unless
    ``working_hours_only`` is False (then every hour with data)."""
    h = _rollup(
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
    settings = _settings(settings)
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
    cal = _calendar(conn, settings)
    lb = _level_rows(conn, start, end, level, spaces, filters)
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

    settings = _settings(settings)
    spaces, _ = read_metadata(conn)
    lb = _level_rows(conn, start, end, level, spaces, filters)
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

    settings = _settings(settings)
    spaces, _ = read_metadata(conn)
    lb = _level_rows(conn, start, end, level, spaces, filters)
    if lb.empty:
        return pd.DataFrame(columns=["level", "level_id", "week", "utilization_pct"])
    return weekly_trend(lb, site_timezone(conn, settings))


def read_dept_presence(
    conn: Any, start: dt.date, end: dt.date, filters: Any = None
) -> pd.DataFrame:
    q = """SELECT bucket_start, day, zone_id, source, department_id, people,
                  array_to_json(badges)::text AS badges
             FROM analytics_dept_presence WHERE day BETWEEN %s AND %s"""
    frame = _copy_out(conn, q, (start, end))
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


def _zone_filter(conn: Any, filters: Any) -> list[str] | None:
    """Zone ids a site/building/floor/zone filter keeps (None: no filter)."""
    if filters is None:
        return None
    zones = read_metadata(conn)[1]
    narrowed = False
    for attr, col in (
        ("site", "site_id"),
        ("building", "building_id"),
        ("floor", "floor_id"),
        ("zone", "zone_id"),
    ):
        value = getattr(filters, attr, None)
        if value:
            zones = zones[zones[col] == value]
            narrowed = True
    return [str(z) for z in zones["zone_id"]] if narrowed else None


def _week_table(table: str) -> sql.Composable:
    """``table`` with a ``week`` column: the Monday of the row's local day."""
    return sql.SQL(
        "(SELECT *, day - (EXTRACT(ISODOW FROM day)::int - 1) AS week FROM {})"
    ).format(sql.Identifier(table))


def _coloc_sum(
    conn: Any,
    table: str,
    value: str,
    keys: list[str],
    start: dt.date,
    end: dt.date,
    zones: list[str] | None,
    *,
    by_source: bool,
) -> pd.DataFrame:
    """``value`` aggregated over days [start, end] (and ``zones``) of a
    co-location daily table, per (source, *keys) and, as source ``all``, per
    keys alone. ``value`` is a fixed SQL expression of this module; key
    ``week`` is the local day's ISO week (its Monday)."""
    key_sql = sql.SQL(", ").join(map(sql.Identifier, keys))
    sets = [sql.SQL("({})").format(key_sql) if keys else sql.SQL("()")]
    if by_source:
        sets.insert(
            0,
            sql.SQL("({})").format(
                sql.SQL(", ").join(map(sql.Identifier, ["source", *keys]))
            ),
        )
    where: sql.Composable = sql.SQL("day BETWEEN %s AND %s")
    params: list[Any] = [start, end]
    if zones is not None:
        where = sql.SQL("{} AND zone_id = ANY(%s)").format(where)
        params.append(zones)
    select_keys = sql.SQL("").join(
        sql.SQL(", {}").format(sql.Identifier(k)) for k in keys
    )
    q = sql.SQL(
        "SELECT {src} AS source{keys}, {value} AS v FROM {table} t"
        " WHERE {where} GROUP BY GROUPING SETS ({sets})"
    ).format(
        src=sql.SQL("COALESCE(source, 'all')" if by_source else "'all'"),
        keys=select_keys,
        value=sql.SQL(value),
        table=_week_table(table),
        where=where,
        sets=sql.SQL(", ").join(sets),
    )
    with conn.cursor() as cur:
        cur.execute(q, params)
        rows = cur.fetchall()
    frame = pd.DataFrame(rows, columns=["source", *keys, "v"])
    frame["v"] = frame["v"].astype(np.int64)
    return frame


def _coloc_people(
    conn: Any,
    keys: list[str],
    start: dt.date,
    end: dt.date,
    zones: list[str] | None,
    *,
    by_source: bool,
) -> pd.DataFrame:
    """Distinct badges of analytics_coloc_badges over days [start, end] (and
    ``zones``) per (source, *keys) and, as source ``all``, per keys alone.
    One DISTINCT scan (hash aggregate) shared by both groupings instead of
    COUNT(DISTINCT) with grouping sets (a sort per set): several times faster."""
    where: sql.Composable = sql.SQL("day BETWEEN %s AND %s")
    params: list[Any] = [start, end]
    if zones is not None:
        where = sql.SQL("{} AND zone_id = ANY(%s)").format(where)
        params.append(zones)
    # Unfiltered: the zone-less table (several times fewer rows, same counts).
    table = (
        "analytics_coloc_badges" if zones is not None else "analytics_coloc_badges_site"
    )
    cols = sql.SQL(", ").join(map(sql.Identifier, keys))
    # One scan: distinct (source, keys, badge) once, then both groupings.
    parts = [
        sql.SQL(
            "SELECT 'all', {cols}, count(*) FROM (SELECT DISTINCT {cols}, badge"
            " FROM d) e GROUP BY {cols}"
        ).format(cols=cols)
    ]
    if by_source:
        parts.insert(
            0,
            sql.SQL(
                "SELECT source, {cols}, count(*) FROM d GROUP BY source, {cols}"
            ).format(cols=cols),
        )
    q = sql.SQL(
        "WITH d AS MATERIALIZED (SELECT DISTINCT source, {cols}, badge FROM {table} t"
        " WHERE {where}) {parts}"
    ).format(
        cols=cols,
        table=_week_table(table),
        where=where,
        parts=sql.SQL(" UNION ALL ").join(parts),
    )
    with conn.cursor() as cur:
        cur.execute(q, params)
        rows = cur.fetchall()
    frame = pd.DataFrame(rows, columns=["source", *keys, "v"])
    frame["v"] = frame["v"].astype(np.int64)
    return frame


def _coloc_cells(
    conn: Any, pairs: pd.DataFrame, ab: list[str], args: Any, *, by_source: bool
) -> pd.DataFrame:
    """Pair minutes joined with the distinct people of each side (people_a,
    people_b): the cells ``matrix_from_counts`` turns into a k-suppressed matrix."""
    keys = ["source", *ab]
    people = _coloc_people(conn, ab, *args, by_source=by_source)
    pa = people.rename(columns={"v": "people_a"})
    pb = people.rename(
        columns={
            "v": "people_b",
            "department_a": "department_b",
            "department_b": "department_a",
        }
    )
    return (
        pairs.rename(columns={"v": "n"})
        .sort_values(keys)
        .merge(pa, on=keys)
        .merge(pb, on=keys)
    )


def read_colocation(
    conn: Any,
    start: dt.date,
    end: dt.date,
    *,
    filters: Any = None,
    settings: Any = None,
    by_source: bool = True,
) -> pd.DataFrame:
    """Department × department co-presence matrix (long form) over [start, end]:
    source (neighbourhood, meeting, shared, all), department_a, department_b,
    minutes, people_a, people_b, expected_minutes, lift, suppressed. Cells with
    fewer than k distinct people on either side are suppressed. A department
    filter keeps the cells involving that department.

    Built by SQL aggregation of the daily co-location counts (sums of buckets,
    COUNT(DISTINCT badge) over the whole range, so suppression stays exact);
    identical to ``colocation_matrix`` over the stored bucket presence."""
    settings = _settings(settings)
    bucket_minutes = float(settings.bucket_minutes)
    k = int(settings.k_anonymity)
    zones = _zone_filter(conn, filters)
    ab = ["department_a", "department_b"]
    args = (start, end, zones)
    pairs = _coloc_sum(
        conn, "analytics_coloc_pairs", "SUM(buckets)", ab, *args, by_source=by_source
    )
    if pairs.empty:
        m = colocation_matrix(
            pd.DataFrame(
                columns=["zone_id", "bucket", "source", "department_id", "badges"]
            ),
            bucket_minutes=bucket_minutes,
            k=k,
            by_source=by_source,
        )
    else:
        cells = _coloc_cells(conn, pairs, ab, args, by_source=by_source)
        dept = _coloc_sum(
            conn,
            "analytics_coloc_dept",
            "SUM(buckets)",
            ["department_id"],
            *args,
            by_source=by_source,
        )
        anyone = _coloc_sum(
            conn, "analytics_coloc_zone", "SUM(buckets)", [], *args, by_source=by_source
        )
        m = matrix_from_counts(
            cells.reset_index(drop=True),
            dept.set_index(["source", "department_id"])["v"],
            anyone.set_index("source")["v"],
            bucket_minutes=bucket_minutes,
            k=k,
        )
    dept_f = getattr(filters, "department", None) if filters is not None else None
    if dept_f:
        m = m[
            (m["department_a"] == dept_f) | (m["department_b"] == dept_f)
        ].reset_index(drop=True)
    return m


def read_diversity(
    conn: Any,
    start: dt.date,
    end: dt.date,
    *,
    filters: Any = None,
    settings: Any = None,
) -> pd.DataFrame:
    """Department mix per shared zone (simpson, shannon), k-suppressed.

    SQL aggregation of the daily counts (Σ people-buckets per zone and
    department, COUNT(DISTINCT badge) per zone over the whole range);
    identical to ``diversity`` over the stored bucket presence."""
    settings = _settings(settings)
    bucket_minutes = float(settings.bucket_minutes)
    k = int(settings.k_anonymity)
    zones = _zone_filter(conn, filters)
    where: sql.Composable = sql.SQL("day BETWEEN %s AND %s AND source = 'shared'")
    params: list[Any] = [start, end]
    if zones is not None:
        where = sql.SQL("{} AND zone_id = ANY(%s)").format(where)
        params.append(zones)
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL(
                "SELECT zone_id, department_id, SUM(people_buckets) FROM"
                " analytics_coloc_dept WHERE {} GROUP BY zone_id, department_id"
                " ORDER BY zone_id, department_id"
            ).format(where),
            params,
        )
        pm_rows = cur.fetchall()
        cur.execute(
            sql.SQL(
                "SELECT zone_id, COUNT(DISTINCT badge) FROM analytics_coloc_badges"
                " WHERE {} AND department_a = department_b GROUP BY zone_id"
                " ORDER BY zone_id"
            ).format(where),
            params,
        )
        people_rows = cur.fetchall()
    if not pm_rows:
        return diversity(
            pd.DataFrame(
                columns=["zone_id", "source", "department_id", "people", "badges"]
            ),
            bucket_minutes=bucket_minutes,
            k=k,
        )
    pm = pd.DataFrame(pm_rows, columns=["zone_id", "department_id", "v"])
    people = pd.DataFrame(people_rows, columns=["zone_id", "v"])
    return diversity_from_counts(
        pm.set_index(["zone_id", "department_id"])["v"].astype(np.int64),
        people.set_index("zone_id")["v"].astype(np.int64),
        bucket_minutes=bucket_minutes,
        k=k,
    )


def read_colocation_trend(
    conn: Any,
    start: dt.date,
    end: dt.date,
    *,
    filters: Any = None,
    settings: Any = None,
) -> pd.DataFrame:
    """The combined matrix per local week (Monday's date), each week k-suppressed
    on its own distinct people. SQL aggregation of the daily counts per week;
    identical to ``weekly_colocation`` over the stored bucket presence."""
    settings = _settings(settings)
    bucket_minutes = float(settings.bucket_minutes)
    k = int(settings.k_anonymity)
    zones = _zone_filter(conn, filters)
    wab = ["week", "department_a", "department_b"]
    args = (start, end, zones)
    pairs = _coloc_sum(
        conn, "analytics_coloc_pairs", "SUM(buckets)", wab, *args, by_source=False
    )
    if pairs.empty:
        empty = pd.DataFrame(
            columns=["zone_id", "bucket", "source", "department_id", "badges"]
        )
        return weekly_colocation(
            empty,
            pd.Series(dtype=object),
            bucket_minutes=bucket_minutes,
            k=k,
        )
    cells = _coloc_cells(conn, pairs, wab, args, by_source=False)
    dept = _coloc_sum(
        conn,
        "analytics_coloc_dept",
        "SUM(buckets)",
        ["week", "department_id"],
        *args,
        by_source=False,
    )
    anyone = _coloc_sum(
        conn, "analytics_coloc_zone", "SUM(buckets)", ["week"], *args, by_source=False
    )
    parts = []
    for label in sorted(cells["week"].unique()):
        c = cells[cells["week"] == label].drop(columns="week").reset_index(drop=True)
        d = dept[dept["week"] == label]
        a = anyone[anyone["week"] == label]
        m = matrix_from_counts(
            c,
            d.set_index(["source", "department_id"])["v"],
            a.set_index("source")["v"],
            bucket_minutes=bucket_minutes,
            k=k,
        )
        m.insert(0, "week", label)
        parts.append(m)
    return pd.concat(parts, ignore_index=True)


def read_room_sizing(
    conn: Any,
    start: dt.date,
    end: dt.date,
    *,
    filters: Any = None,
    settings: Any = None,
) -> pd.DataFrame:
    """Per room: seats, head-count distribution while occupied (mean, median,
    p90, max), half_or_less_pct, single_person_pct, recommended_seats,
    seats_change, verdict, and with bookings: booked_s, no_show_pct,
    unbooked_use_pct."""
    settings = _settings(settings)
    spaces, _ = read_metadata(conn)
    rooms = filtered_spaces(spaces[spaces["kind"] != "desk"], filters)
    hc = _rollup(conn, "analytics_room_headcount", start, end)
    hc = hc[hc["space_id"].isin(rooms["space_id"])]
    if hc.empty:
        return pd.DataFrame(
            columns=[
                "space_id",
                "seats",
                "mean_people",
                "p90_people",
                "recommended_seats",
                "verdict",
            ]
        )
    sizing = room_sizing(hc, rooms)
    cal = _calendar(conn, settings)
    from analytics.calendar import local_days_utc_range

    t0, t1 = local_days_utc_range(cal, start, end)
    bookings = read_frame(
        conn,
        "SELECT room_id, start_ts AS start, end_ts AS end FROM analytics_bookings WHERE end_ts > %s AND start_ts < %s",
        (t0.to_pydatetime(), t1.to_pydatetime()),
    )
    if len(bookings):
        rb = read_level_buckets(conn, start, end, "room")
        rb = rb.assign(
            bucket=rb["bucket_start"].astype("int64") // 10**9 // cal.bucket_s
        )
        stats = booking_stats(bookings, rb, cal.bucket_s)
        sizing = sizing.merge(
            stats[
                [
                    "space_id",
                    "bookings",
                    "booked_s",
                    "no_show_s",
                    "no_show_pct",
                    "unbooked_occupied_s",
                    "unbooked_use_pct",
                ]
            ],
            on="space_id",
            how="left",
        )
    return sizing


def read_department_no_show(
    conn: Any,
    start: dt.date,
    end: dt.date,
    *,
    filters: Any = None,
    settings: Any = None,
) -> pd.DataFrame:
    """No-show rate per organiser department over [start, end]: department_id,
    bookings, booked_s, no_show_s, no_show_pct, suppressed (fewer than k
    bookings or k members: values removed). Rooms are narrowed by the site,
    building, floor and zone filters; the department filter keeps that
    organiser department's row."""
    from analytics.calendar import local_days_utc_range
    from analytics.rooms import department_no_show

    settings = _settings(settings)
    spaces, _ = read_metadata(conn)
    room_filter = None
    if filters is not None:
        import dataclasses

        room_filter = dataclasses.replace(filters, department=None)
    rooms = filtered_spaces(spaces[spaces["kind"] != "desk"], room_filter)
    cal = _calendar(conn, settings)
    t0, t1 = local_days_utc_range(cal, start, end)
    bookings = read_frame(
        conn,
        """SELECT room_id, start_ts AS start, end_ts AS end, organiser_department
             FROM analytics_bookings WHERE end_ts > %s AND start_ts < %s""",
        (t0.to_pydatetime(), t1.to_pydatetime()),
    )
    bookings = bookings[bookings["room_id"].isin(rooms["space_id"])]
    dept = getattr(filters, "department", None) if filters is not None else None
    if dept:
        bookings = bookings[bookings["organiser_department"] == dept]
    rb = read_level_buckets(conn, start, end, "room")
    rb = rb.assign(bucket=rb["bucket_start"].astype("int64") // 10**9 // cal.bucket_s)
    heads = read_frame(conn, "SELECT department_id, headcount FROM departments")
    return department_no_show(
        bookings,
        rb,
        cal.bucket_s,
        headcount=heads.set_index("department_id")["headcount"],
        k=int(settings.k_anonymity),
    )


def read_desk_sharing(
    conn: Any,
    start: dt.date,
    end: dt.date,
    *,
    filters: Any = None,
    settings: Any = None,
) -> pd.DataFrame:
    """Desks each department neighbourhood needs at its p90 daily peak."""
    spaces, _ = read_metadata(conn)
    lb = _keep_groups(
        read_level_buckets(conn, start, end, "department"), spaces, filters
    )
    if lb.empty:
        return pd.DataFrame(columns=["level_id", "desks", "desks_needed"])
    return desk_sharing(lb).rename(columns={"level_id": "department_id"})


def read_sessions(
    conn: Any,
    start: dt.date,
    end: dt.date,
    *,
    filters: Any = None,
    settings: Any = None,
) -> pd.DataFrame:
    """Per space and local day: sessions, occupied_s, dwell_s, measured_s,
    hours_used, used_day, stuck_s."""
    spaces, _ = read_metadata(conn)
    daily = _rollup(conn, "analytics_space_daily", start, end)
    keep = filtered_spaces(spaces, filters)
    daily = daily.merge(
        keep[["space_id", "kind", "zone_id", "floor_id"]], on="space_id"
    )
    daily["dwell_s"] = daily["occupied_s"] / daily["sessions"].where(
        daily["sessions"] > 0
    )
    return daily.sort_values(["day", "space_id"]).reset_index(drop=True)


def read_devices_report(
    conn: Any,
    start: dt.date,
    end: dt.date,
    *,
    filters: Any = None,
    settings: Any = None,
) -> pd.DataFrame:
    """Per device: kind, space, zone, last_seen, battery_pct, online, and over
    [start, end]: no_data_pct of its space and stuck_s (data quality)."""
    dev: pd.DataFrame = read_frame(
        conn,
        """SELECT d.device_id, d.kind, d.family, d.space_id, d.zone_id, d.assigned,
                  h.last_seen, h.battery_pct, h.online
             FROM devices d LEFT JOIN device_health h USING (device_id) ORDER BY d.device_id""",
    )
    spaces, _ = read_metadata(conn)
    if filters is not None:
        keep = filtered_spaces(spaces, filters)
        dev = dev[
            dev["space_id"].isin(keep["space_id"])
            | dev["zone_id"].isin(keep["zone_id"])
        ]
    daily = _rollup(conn, "analytics_space_daily", start, end)
    agg = daily.groupby("space_id").agg(
        available_s=("available_s", "sum"),
        measured_s=("measured_s", "sum"),
        stuck_s=("stuck_s", "sum"),
    )
    dev = dev.merge(agg.reset_index(), on="space_id", how="left")
    dev["no_data_pct"] = (
        100.0
        * (dev["available_s"] - dev["measured_s"])
        / dev["available_s"].where(dev["available_s"] > 0)
    )
    return dev.drop(columns=["available_s", "measured_s"]).reset_index(drop=True)


def live_state(conn: Any, now: dt.datetime, *, settings: Any = None) -> pd.DataFrame:
    """Current state of every sensed space from its latest event at or before
    ``now``: space_id, kind, floor_id, state (occupied, free, unknown), people,
    ts. A presence sensor silent for longer than heartbeat_timeout_min is
    unknown; a zero count holds until the next count."""
    settings = _settings(settings)
    timeout = dt.timedelta(minutes=float(settings.heartbeat_timeout_min))
    q = """SELECT DISTINCT ON (space_id) space_id, ts, kind, value
             FROM (SELECT e.ts, COALESCE(e.space_id, d.space_id) AS space_id, e.kind, e.value
                     FROM sensor_events e LEFT JOIN devices d USING (device_id)
                    WHERE e.ts > %s AND e.ts <= %s
                      AND e.kind IN ('presence', 'heartbeat', 'count')) x
            WHERE space_id IS NOT NULL
            ORDER BY space_id, ts DESC"""
    last = read_frame(conn, q, (now - dt.timedelta(days=1), now))
    spaces, _ = read_metadata(conn)
    out = spaces[["space_id", "kind", "floor_id"]].merge(
        last, on="space_id", how="left"
    )
    ts = pd.to_datetime(out["ts"], utc=True)
    value = pd.to_numeric(out["value"], errors="coerce")
    fresh = (pd.Timestamp(now) - ts) <= pd.Timedelta(timeout)
    holds = (out["kind_y"] == "count") & (value == 0)
    known = value.notna() & (fresh | holds)
    people = np.where(known, value.fillna(0.0), np.nan)
    out["people"] = people
    out["state"] = np.where(~known, "unknown", np.where(value > 0, "occupied", "free"))
    out = out.rename(columns={"kind_x": "kind"})
    return out[["space_id", "kind", "floor_id", "state", "people", "ts"]].reset_index(
        drop=True
    )
