"""The per-space month pre-aggregate of ``analytics_space_daily`` (migration
0402) and the per-space sums over a period read from it.

``occupancy analyze`` refreshes the months its run touched
(:func:`refresh_months`, one call at the end of the run); writing daily rows
of a month (``write_rollups``) or starting a full rewrite forgets that
month's aggregate (:func:`forget_months`), so a month is only read from
``analytics_space_month`` while it matches its days. :func:`read_space_agg`
sums the whole covered months inside the period from there and every other
day of the period from the daily table: the same sums, maxima and counts as
summing the days (integer and whole-second measures: exact).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

import pandas as pd
from psycopg2 import sql

from analytics.copy_io import copy_out
from occupancy.db import Connection, Cursor

logger = logging.getLogger(__name__)

_REFRESH = sql.SQL("""
INSERT INTO analytics_space_month (month, space_id, last_day, days, used_days,
                                   peak_people, available_s, measured_s, occupied_s, people_s, stuck_s, sessions, hours_used)
SELECT month, space_id, max(day), count(*),
       sum(used_day::int), max(peak_people),
       sum(available_s), sum(measured_s), sum(occupied_s), sum(people_s),
       sum(stuck_s), sum(sessions), sum(hours_used)
  FROM ({}) d
 GROUP BY 1, 2""")
# The days of one run of consecutive months: a range on the day index (no
# per-row test of the month list), the month from the date as a timestamp
# without time zone (no time zone rules per row).
_MONTH_DAYS = sql.SQL(
    "SELECT date_trunc('month', day::timestamp)::date AS month, space_id, day,"
    " used_day, peak_people, available_s, measured_s, occupied_s, people_s,"
    " stuck_s, sessions, hours_used FROM analytics_space_daily"
    " WHERE day >= %s AND day < %s"
)


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(month: dt.date) -> dt.date:
    return (month + dt.timedelta(days=32)).replace(day=1)


def forget_months(cur: Cursor, first: dt.date | None, last: dt.date | None) -> None:
    """Mark the months of days ``first``..``last`` (both None: every month) as
    not pre-aggregated: their daily rows are being replaced."""
    if first is None or last is None:
        cur.execute("DELETE FROM analytics_space_month_done")
        return
    cur.execute(
        "DELETE FROM analytics_space_month_done WHERE month BETWEEN %s AND %s",
        (month_of(first), month_of(last)),
    )


def refresh_months(conn: Connection, days: Iterable[dt.date]) -> int:
    """Recompute the month aggregates of every month holding one of ``days``
    (one transaction; one grouped scan of those months' daily rows) and mark
    them done. Returns the rows written."""
    months = sorted({month_of(d) for d in days})
    if not months:
        return 0
    ranges = _month_runs(months)
    select = _REFRESH.format(sql.SQL(" UNION ALL ").join([_MONTH_DAYS] * len(ranges)))
    with conn, conn.cursor() as cur:
        cur.execute("SET LOCAL synchronous_commit = off")
        # Hashed groups: sorting the months' daily rows by the spaces' text
        # (on disk beyond work_mem) cost more than the scan.
        cur.execute("SET LOCAL enable_sort = off")
        cur.execute(
            "DELETE FROM analytics_space_month WHERE month = ANY(%s)", (months,)
        )
        cur.execute(select, [d for r in ranges for d in r])
        rows = cur.rowcount
        cur.execute(
            "INSERT INTO analytics_space_month_done (month) SELECT unnest(%s)"
            " ON CONFLICT DO NOTHING",
            (months,),
        )
    logger.info("space months: %d rows of %d month(s)", rows, len(months))
    return int(rows)


def _month_runs(months: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """[first day, day after) of each run of consecutive ``months`` (sorted)."""
    runs: list[tuple[dt.date, dt.date]] = []
    for m in months:
        if runs and runs[-1][1] == m:
            runs[-1] = (runs[-1][0], _next_month(m))
        else:
            runs.append((m, _next_month(m)))
    return runs


def _whole_months(start: dt.date, end: dt.date) -> list[dt.date]:
    """The months lying wholly inside [start, end]."""
    out = []
    m = month_of(start) if start.day == 1 else _next_month(start)
    while _next_month(m) - dt.timedelta(days=1) <= end:
        out.append(m)
        m = _next_month(m)
    return out


def _covered(conn: Connection, months: list[dt.date]) -> list[dt.date]:
    if not months:
        return []
    with conn.cursor() as cur:
        cur.execute(
            "SELECT month FROM analytics_space_month_done WHERE month = ANY(%s)"
            " ORDER BY 1",
            (months,),
        )
        return [r[0] for r in cur.fetchall()]


def _day_ranges(
    start: dt.date, end: dt.date, months: list[dt.date]
) -> list[tuple[dt.date, dt.date]]:
    """The runs of days of [start, end] outside ``months`` (sorted)."""
    ranges, lo = [], start
    for m in months:
        if m > lo:
            ranges.append((lo, m - dt.timedelta(days=1)))
        lo = _next_month(m)
    if lo <= end:
        ranges.append((lo, end))
    return ranges


_DAY_ROWS = sql.SQL(
    "SELECT space_id, day, used_day::int AS used_day, 1 AS days, peak_people,"
    " available_s, measured_s, occupied_s, people_s, stuck_s, sessions,"
    " hours_used FROM analytics_space_daily WHERE day BETWEEN %s AND %s"
)
_MONTH_ROWS = sql.SQL(
    "SELECT space_id, last_day AS day, used_days AS used_day, days, peak_people,"
    " available_s, measured_s, occupied_s, people_s, stuck_s, sessions, hours_used"
    " FROM analytics_space_month WHERE month = ANY(%s)"
)
_OUTER = sql.SQL(
    """SELECT space_id, max(day) AS day,
       sum(available_s) AS available_s, sum(measured_s) AS measured_s,
       sum(occupied_s) AS occupied_s, sum(people_s) AS people_s,
       max(peak_people) AS peak_people, sum(sessions) AS sessions,
       sum(hours_used) AS hours_used, sum(used_day) AS used_day,
       sum(days) AS days, sum(stuck_s) AS stuck_s
  FROM ({}) r GROUP BY space_id ORDER BY space_id"""
)


def _query(
    start: dt.date, end: dt.date, months: list[dt.date]
) -> tuple[sql.Composable, list[object]]:
    """The per-space sums of the days outside ``months`` (daily rows) and of
    ``months`` (their aggregates), in one statement."""
    parts: list[sql.Composable] = []
    params: list[object] = []
    # One SELECT per run of days: a single range lets the planner scan the
    # day index; OR-ed ranges made it scan the whole table.
    for lo, hi in _day_ranges(start, end, months):
        parts.append(_DAY_ROWS)
        params += [lo, hi]
    if months:
        parts.append(_MONTH_ROWS)
        params.append(months)
    return _OUTER.format(sql.SQL(" UNION ALL ").join(parts)), params


def read_space_agg(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    space_ids: list[str],
    *,
    use_months: bool = True,
) -> pd.DataFrame:
    """``analytics_space_daily`` of ``space_ids`` over local days [start, end]
    summed per space (what ``space_summary`` needs): sums of available_s,
    measured_s, occupied_s, people_s, stuck_s [s], sessions, hours_used and
    used_day (as days used), peak_people (max), days (days with a row); ``day``
    is the last day with a row (a placeholder; ``days`` counts). Whole months
    of the period with a current aggregate are read from
    ``analytics_space_month`` (``use_months=False``: every day from the daily
    table)."""
    months = _covered(conn, _whole_months(start, end)) if use_months else []
    q, params = _query(start, end, months)
    # Through CSV like read_rollup: the same dtype inference as before.
    frame = copy_out(conn, q.as_string(conn), tuple(params))
    frame["space_id"] = frame["space_id"].astype(str)
    # The spaces are kept here, not in SQL: a 2,000-element ANY() cost more
    # to plan and test per row than summing the other spaces' rows.
    frame = frame[frame["space_id"].isin(space_ids)].reset_index(drop=True)
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    return frame
