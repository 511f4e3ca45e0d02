"""Shared pieces of the rollup readers: settings and calendar, level rows,
filters narrowing spaces and groups.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec

import numpy as np
import pandas as pd
from psycopg2 import sql

from analytics.calendar import Calendar, local_days_utc_range
from analytics.copy_io import copy_out
from analytics.db_io import site_timezone
from analytics.filters import Filters
from analytics.privacy import protect_assigned
from analytics.read_meta import has_assigned, metadata
from occupancy.db import Connection
from occupancy.settings import Settings

logger = logging.getLogger(__name__)


#: Boolean columns of the rollup tables (COPY writes them as t/f).
BOOL_COLUMNS = ("used_day", "in_working_hours")


_P = ParamSpec("_P")


def guard_assigned(
    read: Callable[Concatenate[Connection, _P], pd.DataFrame],
) -> Callable[Concatenate[Connection, _P], pd.DataFrame]:
    """Apply the assigned-desk rule (analytics.privacy.protect_assigned) to
    what a public reader returns: rows of a desk that belongs to one person,
    and of groups of fewer than k desks that hold one, come back suppressed.
    Costs one EXISTS query when the building has no assigned desk (none
    with metadata given: :func:`analytics.read_meta.given_metadata`)."""

    @functools.wraps(read)
    def guarded(
        conn: Connection, /, *args: _P.args, **kwargs: _P.kwargs
    ) -> pd.DataFrame:
        out = read(conn, *args, **kwargs)
        if not has_assigned(conn):
            return out
        given = kwargs.get("settings")
        settings = settings_or_default(given if isinstance(given, Settings) else None)
        spaces, _ = metadata(conn)
        return protect_assigned(out, spaces, int(settings.k_anonymity))

    return guarded


# --------------------------------------------------------------------- rollup reads
def settings_or_default(settings: Settings | None) -> Settings:
    if settings is None:
        from occupancy.settings import load_settings

        return load_settings()
    return settings


#: Years whose public holidays a reader's calendar knows (a site's country).
READ_YEARS = tuple(range(2000, 2101))


def calendar_for(conn: Connection, settings: Settings) -> Calendar:
    """The calendar of setting ``site`` as ``occupancy analyze`` computes it:
    its building file's time zone, working hours and days and closed days
    (analytics.sites), the settings where the file says nothing."""
    from analytics.site_io import read_sites
    from analytics.sites import site_calendar

    sites = read_sites(conn)
    row = sites[sites["site_id"] == settings.site]
    if row.empty:
        return Calendar.from_settings(settings, timezone=site_timezone(conn, settings))
    return site_calendar(settings, row.iloc[0].to_dict(), READ_YEARS)


def read_rollup(
    conn: Connection,
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
    frame = copy_out(conn, q.as_string(conn), params)
    # COPY writes booleans as t/f, which read_csv leaves as text.
    for col in BOOL_COLUMNS:
        if col in frame.columns and frame[col].dtype == object:
            frame[col] = frame[col].map({"t": True, "f": False})
    if "day" in frame.columns:
        frame["day"] = pd.to_datetime(frame["day"]).dt.date
    if "bucket_start" in frame.columns:
        frame["bucket_start"] = pd.to_datetime(
            frame["bucket_start"], utc=True, format="ISO8601"
        )
    return frame


def filtered_spaces(spaces: pd.DataFrame, filters: Filters | None) -> pd.DataFrame:
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


def working_hours_only(filters: Filters | None) -> bool:
    """``filters.working_hours_only`` (default True: no filters = working hours)."""
    return bool(getattr(filters, "working_hours_only", True))


def _has_filter(filters: Filters | None) -> bool:
    return filters is not None and any(getattr(filters, a, None) for a in _FILTER_ATTRS)


def narrow_groups(
    spaces: pd.DataFrame, level: str, filters: Filters | None
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


def keep_groups(
    lb: pd.DataFrame, spaces: pd.DataFrame, filters: Filters | None
) -> pd.DataFrame:
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


def level_rows(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    level: str,
    spaces: pd.DataFrame,
    filters: Filters | None,
) -> pd.DataFrame:
    """analytics_level_buckets rows of ``level`` narrowed by ``filters`` as
    :func:`narrow_groups` says (possibly rows of a finer level)."""
    wh = working_hours_only(filters)
    if not _has_filter(filters):
        return read_level_buckets(conn, start, end, level, working_hours_only=wh)
    lvl, keys = narrow_groups(spaces, level, filters)
    lb = read_level_buckets(conn, start, end, lvl, working_hours_only=wh)
    return lb.merge(keys, on=["level", "level_id"])


def read_level_buckets(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    level: str,
    *,
    working_hours_only: bool = True,
) -> pd.DataFrame:
    """``analytics_level_buckets`` rows of one level; only the buckets in
    working hours (and days, holidays excluded) unless ``working_hours_only``
    is False."""
    return read_rollup(
        conn,
        "analytics_level_buckets",
        start,
        end,
        level,
        working_hours_only=working_hours_only,
    )


#: Per (level, level_id, day[, hour]) aggregates of analytics_level_hourly:
#: (output column, SQL aggregate). Sums and extremes only, so they equal the
#: same aggregates of the level buckets.
_LEVEL_AGG = (
    ("n", "sum(buckets)"),
    ("spaces", "max(spaces)"),
    ("capacity", "max(capacity)"),
    ("capacity_s", "sum(capacity_s)"),
    ("measured_s", "sum(measured_s)"),
    ("occupied_s", "sum(occupied_s)"),
    ("people_s", "sum(people_s)"),
    ("peak_people", "max(peak_people)"),
    ("desks_measured", "max(desks_measured)"),
    ("peak_desks_occupied", "max(peak_desks_occupied)"),
    ("min_vacant", "min(min_vacant)"),
)
#: The aggregates an hour-of-week profile needs.
_HOUR_AGG = ("n", "capacity_s", "people_s", "peak_people")


def read_level_agg(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    level: str,
    *,
    level_ids: list[str] | None = None,
    working_hours_only: bool = True,
    by_hour: bool = False,
) -> pd.DataFrame:
    """The level buckets of ``level`` (and ``level_ids``) over local days
    [start, end] aggregated per (level, level_id, day) — or, with
    ``by_hour``, per (level, level_id, day, local hour 0-23 in the site's time
    zone; a repeated DST hour sums both): ``n`` buckets, ``spaces``, ``capacity``,
    ``desks_measured``, ``peak_desks_occupied``, ``peak_people`` (maxima),
    ``capacity_s`` [seat·s], ``measured_s``, ``occupied_s`` [s], ``people_s``
    [people·s] (sums), ``min_vacant`` (fewest desks vacant in one bucket); by
    hour only n, capacity_s, people_s, peak_people. Only buckets in working
    hours unless ``working_hours_only`` is False.

    Summed in the database from ``analytics_level_hourly`` (analyze's hourly
    sums of the buckets, :func:`analytics.patterns.level_hourly`): a year is
    a few thousand rows instead of every bucket, with the same values."""
    q, params = level_agg_query(
        start,
        end,
        level,
        level_ids,
        working_hours_only=working_hours_only,
        by_hour=by_hour,
    )
    # Through CSV like read_rollup, so the value columns get the same dtypes
    # (a column of whole numbers is int64) as when the bucket rows were read.
    frame = copy_out(conn, q.as_string(conn), tuple(params))
    frame["level"] = frame["level"].astype(str)
    frame["level_id"] = frame["level_id"].astype(str)
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    return frame


def level_agg_query(
    start: dt.date,
    end: dt.date,
    level: str,
    level_ids: list[str] | None,
    *,
    working_hours_only: bool,
    by_hour: bool,
    ordered: bool = True,
) -> tuple[sql.Composed, list[object]]:
    """The query of :func:`read_level_agg` and its parameters (``ordered``:
    in primary-key order; False as a subquery)."""
    aggs = [a for a in _LEVEL_AGG if not by_hour or a[0] in _HOUR_AGG]
    keys = ["level", "level_id", "day"] + (["hour"] if by_hour else [])
    where: sql.Composable = sql.SQL("level = %s AND day BETWEEN %s AND %s")
    params: list[object] = [level, start, end]
    if level_ids is not None:
        where = sql.SQL("{} AND level_id = ANY(%s)").format(where)
        params.append(list(level_ids))
    if working_hours_only:
        where = sql.SQL("{} AND in_working_hours").format(where)
    key_sql = sql.SQL(", ").join(map(sql.Identifier, keys))
    # In primary-key order: read from the index without a sort.
    order = sql.SQL(", ").join(
        map(sql.Identifier, ["level", "day", "level_id", *keys[3:]])
    )
    if by_hour and working_hours_only:
        # One stored row per (level, day, level_id, hour) in working hours
        # (the primary key): its values are the hour's aggregates.
        q = sql.SQL(
            "SELECT {keys}, {cols} FROM analytics_level_hourly WHERE {where}{order_by}"
        ).format(
            order_by=sql.SQL(" ORDER BY {}").format(order) if ordered else sql.SQL(""),
            keys=key_sql,
            cols=sql.SQL(", ").join(
                sql.SQL("{} AS {}").format(
                    sql.Identifier("buckets" if name == "n" else name),
                    sql.Identifier(name),
                )
                for name, _ in aggs
            ),
            where=where,
        )
    else:
        q = sql.SQL(
            "SELECT {keys}, {aggs} FROM analytics_level_hourly WHERE {where}"
            " GROUP BY {order}{order_by}"
        ).format(
            order_by=sql.SQL(" ORDER BY {}").format(order) if ordered else sql.SQL(""),
            keys=key_sql,
            order=order,
            aggs=sql.SQL(", ").join(
                sql.SQL("{} AS {}").format(sql.SQL(expr), sql.Identifier(name))
                for name, expr in aggs
            ),
            where=where,
        )
    return q, params


def level_agg_rows(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    level: str,
    spaces: pd.DataFrame,
    filters: Filters | None,
    *,
    by_hour: bool = False,
) -> pd.DataFrame:
    """:func:`level_rows` aggregated per day (or local hour, with
    ``by_hour``) by :func:`read_level_agg`: the same groups, narrowed by
    ``filters`` as :func:`narrow_groups` says."""
    lvl, ids = level_agg_groups(spaces, level, filters)
    return read_level_agg(
        conn,
        start,
        end,
        lvl,
        level_ids=ids,
        working_hours_only=working_hours_only(filters),
        by_hour=by_hour,
    )


def level_agg_groups(
    spaces: pd.DataFrame, level: str, filters: Filters | None
) -> tuple[str, list[str] | None]:
    """(level, level ids or None for all) of :func:`level_agg_rows`: the
    groups of ``level`` narrowed by ``filters`` (:func:`narrow_groups`)."""
    if not _has_filter(filters):
        return level, None
    lvl, keys = narrow_groups(spaces, level, filters)
    return lvl, [str(x) for x in keys["level_id"]]


def buckets_per_day(
    cal: Calendar, first: dt.date, last: dt.date, *, available_only: bool = True
) -> pd.Series:
    """Buckets per local day ``first``..``last`` (index: date), as
    ``bucket_frame(cal, first, last, available_only=...).groupby("day").size()``
    counts them (days without a bucket left out), without building a row
    and a date object per bucket: a year is 35,000 buckets but 365 days."""
    start, end = local_days_utc_range(cal, first, last)
    b0 = int(start.value // 10**9) // cal.bucket_s
    b1 = -(-int(end.value // 10**9) // cal.bucket_s)
    idx = np.arange(b0, b1, dtype=np.int64)
    local = pd.to_datetime(idx * cal.bucket_s, unit="s", utc=True).tz_convert(
        cal.timezone
    )
    # Local wall-clock time as naive datetime64: its day and time of day.
    wall = local.tz_localize(None).to_numpy()
    day = wall.astype("datetime64[D]")
    keep = (day >= np.datetime64(first)) & (day <= np.datetime64(last))
    if available_only:
        tod = (wall - day).astype("timedelta64[m]").astype(np.int64)
        ws = cal.work_start.hour * 60 + cal.work_start.minute
        we = cal.work_end.hour * 60 + cal.work_end.minute
        # 1970-01-01 was a Thursday (weekday 3).
        weekday = (day.astype(np.int64) + 3) % 7
        holidays = np.array(list(cal.holidays), dtype="datetime64[D]")
        keep &= (
            (tod >= ws)
            & (tod < we)
            & np.isin(weekday, list(cal.working_weekdays))
            & ~np.isin(day, holidays)
        )
    days, counts = np.unique(day[keep], return_counts=True)
    return pd.Series(
        counts.astype(np.int64),
        index=pd.Index([d.item() for d in days], dtype=object, name="day"),
    )


def zone_filter(
    conn: Connection, filters: Filters | None, start: dt.date, end: dt.date
) -> list[str] | None:
    """Zone ids a site/building/floor/zone filter keeps (None: no filter,
    also when no other zone has co-location data in [start, end]: then the
    filtered counts are the unfiltered ones, which the zone-less badge table
    answers several times faster — a one-site dashboard always filters on its
    site)."""
    zones = filter_zones(conn, filters)
    if zones is None:
        return None
    # Every row of the co-location tables has its (day, zone) in
    # analytics_coloc_zone (all come from the same bucket presence).
    with conn.cursor() as cur:
        cur.execute(
            "SELECT EXISTS (SELECT 1 FROM analytics_coloc_zone"
            " WHERE day BETWEEN %s AND %s AND NOT zone_id = ANY(%s))",
            (start, end, zones),
        )
        row = cur.fetchone()
    return zones if row is None or row[0] else None


def filter_zones(conn: Connection, filters: Filters | None) -> list[str] | None:
    """Zone ids a site/building/floor/zone filter keeps (None: no filter)."""
    if filters is None:
        return None
    zones = metadata(conn)[1]
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


def week_table(table: str) -> sql.Composable:
    """``table`` with a ``week`` column: the Monday of the row's local day."""
    return sql.SQL(
        "(SELECT *, day - (EXTRACT(ISODOW FROM day)::int - 1) AS week FROM {})"
    ).format(sql.Identifier(table))
