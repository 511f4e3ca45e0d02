"""Department-mix readers: the diversity of departments in shared
("department-neutral") zones, over a range or week by week (k-suppressed;
docs/analytics.md). Split from :mod:`analytics.read_colocation`, which
re-exports them."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import numpy as np
import pandas as pd
from psycopg2 import sql

from analytics.colocation import (
    diversity,
    diversity_from_counts,
)
from analytics.filters import Filters
from analytics.read_common import settings_or_default
from analytics.read_common import week_table as _week_table
from analytics.read_common import zone_filter as _zone_filter
from occupancy.db import Connection
from occupancy.settings import Settings

logger = logging.getLogger(__name__)


def _shared_where(
    conn: Connection, filters: Filters | None, start: dt.date, end: dt.date
) -> tuple[sql.Composable, list[Any]]:
    """WHERE clause and parameters for the shared-space rows of [start, end]
    that the zone filters keep (department-mix reads)."""
    zones = _zone_filter(conn, filters, start, end)
    where: sql.Composable = sql.SQL("day BETWEEN %s AND %s AND source = 'shared'")
    params: list[Any] = [start, end]
    if zones is not None:
        where = sql.SQL("{} AND zone_id = ANY(%s)").format(where)
        params.append(zones)
    return where, params


def read_diversity(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    *,
    filters: Filters | None = None,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Department mix per shared zone (simpson, shannon), k-suppressed.

    SQL aggregation of the daily counts (Σ people-buckets per zone and
    department, COUNT(DISTINCT badge) per zone over the whole range);
    identical to ``diversity`` over the stored bucket presence."""
    settings = settings_or_default(settings)
    bucket_minutes = float(settings.bucket_minutes)
    k = settings.k_anonymity
    where, params = _shared_where(conn, filters, start, end)
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


def read_diversity_weekly(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    *,
    filters: Filters | None = None,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """:func:`read_diversity` of each local week (Monday to Sunday) of [start,
    end], the first and last week cut to the range, in two queries: week (the
    week's Monday), zone_id, departments, people, simpson, shannon,
    suppressed. Each week is k-suppressed on its own distinct people (COUNT
    DISTINCT per week and zone), so every week's rows equal
    ``read_diversity(conn, max(start, monday), min(end, sunday))``; weeks
    without data have no rows."""
    settings = settings_or_default(settings)
    bucket_minutes = float(settings.bucket_minutes)
    k = settings.k_anonymity
    where, params = _shared_where(conn, filters, start, end)
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL(
                "SELECT week, zone_id, department_id, SUM(people_buckets) FROM {}"
                " t WHERE {} GROUP BY week, zone_id, department_id"
                " ORDER BY week, zone_id, department_id"
            ).format(_week_table("analytics_coloc_dept"), where),
            params,
        )
        pm_rows = cur.fetchall()
        # source = 'shared' AND department_a = department_b: the partial
        # index of migration 0205 (only those rows).
        cur.execute(
            sql.SQL(
                "SELECT day - (EXTRACT(ISODOW FROM day)::int - 1) AS week, zone_id,"
                " COUNT(DISTINCT badge) FROM analytics_coloc_badges"
                " WHERE {} AND department_a = department_b GROUP BY 1, zone_id"
                " ORDER BY 1, zone_id"
            ).format(where),
            params,
        )
        people_rows = cur.fetchall()
    cols = ["week", "zone_id", "departments", "people", "simpson", "shannon"]
    if not pm_rows:
        return pd.DataFrame(columns=[*cols, "suppressed"])
    pm = pd.DataFrame(pm_rows, columns=["week", "zone_id", "department_id", "v"])
    people = pd.DataFrame(people_rows, columns=["week", "zone_id", "v"])
    parts = []
    # One small frame per week (a year has 53 at most).
    for week, part in pm.groupby("week", sort=True):
        ppl = people[people["week"] == week]
        d = diversity_from_counts(
            part.set_index(["zone_id", "department_id"])["v"].astype(np.int64),
            ppl.set_index("zone_id")["v"].astype(np.int64),
            bucket_minutes=bucket_minutes,
            k=k,
        )
        d.insert(0, "week", week)
        parts.append(d)
    return pd.concat(parts, ignore_index=True)
