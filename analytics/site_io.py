"""The I/O of one site's partition (:mod:`analytics.sites`): its calendar
rows, the SQL condition keeping its ids, and the deletes of its days. Used
by :mod:`analytics.db_io`."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

import pandas as pd
from psycopg2 import sql

from occupancy.db import Connection, Cursor, read_frame

if TYPE_CHECKING:
    from analytics.sites import SiteScope

logger = logging.getLogger(__name__)

__all__ = [
    "SITE_KEYS",
    "delete_site_days",
    "event_ts_range",
    "read_sites",
    "site_filter",
]


def read_sites(conn: Connection) -> pd.DataFrame:
    """Every site: site_id, timezone, country, working_hours, working_days,
    holidays (NULL: not in the building file)."""
    frame: pd.DataFrame = read_frame(
        conn,
        """SELECT site_id, timezone, country, working_hours, working_days, holidays
             FROM sites ORDER BY site_id""",
    )
    return frame


def site_filter(
    expr: str, scope: SiteScope | None, raw: str | None = None
) -> tuple[str, dict[str, object]]:
    """`` AND`` condition keeping the rows whose id ``expr`` (a fixed SQL
    expression of the caller, never input) is ``scope``'s, and its parameters;
    none without a scope. The home site keeps every id but the other sites'.
    ``raw``: the row's own id column that ``expr`` falls back from (``expr`` =
    ``raw`` where that is not NULL): the condition is then written so that
    an index on ``raw`` serves it."""
    if scope is None:
        return "", {}
    if scope.home:
        return (
            f" AND ({expr} IS NULL OR NOT ({expr} = ANY(%(site_others)s::text[])))",
            {"site_others": list(scope.others)},
        )
    own = "%(site_own)s::text[]"
    if raw is None:
        return f" AND {expr} = ANY({own})", {"site_own": list(scope.own)}
    return (
        f" AND ({raw} = ANY({own}) OR ({raw} IS NULL AND {expr} = ANY({own})))",
        {"site_own": list(scope.own)},
    )


def event_ts_range(conn: Connection) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """First and last instant (UTC) of any event or sighting, for every
    site's local day range. Each table's min and max on its own are read from
    the ends of its ts index (the chunks ordered by time); over the union of
    the tables they were a scan of every row (6 s for a year of 50 M rows).
    ``least``/``greatest`` skip NULLs, as min/max over the union did."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT least((SELECT min(ts) FROM sensor_events),
                            (SELECT min(ts) FROM badge_sightings)),
                      greatest((SELECT max(ts) FROM sensor_events),
                               (SELECT max(ts) FROM badge_sightings))"""
        )
        row = cur.fetchone()
    if not row or row[0] is None:
        return None, None
    return pd.Timestamp(row[0]).tz_convert("UTC"), pd.Timestamp(row[1]).tz_convert(
        "UTC"
    )


#: The column of each rollup table naming what a row belongs to (an id of a
#: site's metadata, or the site): the deletes of one site's partition.
SITE_KEYS = {
    "analytics_space_daily": "space_id",
    "analytics_space_hourly": "space_id",
    "desk_daily_utilization": "space_id",
    "analytics_level_buckets": "level_id",
    "analytics_level_hourly": "level_id",
    "analytics_room_headcount": "space_id",
    "analytics_dept_presence": "zone_id",
    "analytics_data_quality": "space_id",
    "analytics_coloc_pairs": "zone_id",
    "analytics_coloc_zone": "zone_id",
    "analytics_coloc_dept": "zone_id",
    "analytics_coloc_bits": "zone_id",
    # site_id: set by AnalyzePlan.compute (migrations 0209, 0210)
    "analytics_coloc_bits_site": "site_id",
}


def delete_site_days(
    cur: Cursor, table: str, first: dt.date, last: dt.date, scope: SiteScope | None
) -> None:
    """Delete ``table``'s rows of local days ``first``..``last`` (``scope``:
    of that site only)."""
    where = ""
    params: dict[str, Any] = {"first": first, "last": last}
    if scope is not None:
        key = SITE_KEYS.get(table)
        if key is None:
            raise ValueError(f"rollup table {table}: no site key in SITE_KEYS")
        where, extra = site_filter(key, scope)
        params.update(extra)
    q = sql.SQL("DELETE FROM {} WHERE day BETWEEN %(first)s AND %(last)s").format(
        sql.Identifier(table)
    )
    cur.execute(q + sql.SQL(where), params)
