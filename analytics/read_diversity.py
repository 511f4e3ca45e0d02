"""Rollup readers for the mix of departments in shared ("department-neutral")
zones: Simpson and Shannon diversity per zone, over a range and per week.

Built only from released weeks (:mod:`analytics.release`), and within each
week a department with fewer than k distinct people in the zone is pooled
into ``other`` (a pool still under k is left out): with two departments the
Simpson index gives each one's share exactly, so a share is only ever the
share of at least k people.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import numpy as np
import pandas as pd
from psycopg2 import sql

from analytics import coloc_bits
from analytics.colocation import diversity_from_counts
from analytics.filters import Filters
from analytics.read_colocation import release_window
from analytics.read_common import settings_or_default
from analytics.read_common import week_table as _week_table
from analytics.read_common import zone_filter as _zone_filter
from analytics.release import pool_small_groups
from occupancy.db import Connection
from occupancy.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["read_diversity", "read_diversity_weekly"]

_COLS = ["zone_id", "departments", "people", "simpson", "shannon"]


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


def _empty(week: bool) -> pd.DataFrame:
    cols = ["week", *_COLS] if week else _COLS
    out = pd.DataFrame(
        {
            c: pd.Series(dtype=object if c in ("week", "zone_id") else float)
            for c in cols
        }
    )
    out["suppressed"] = pd.Series(dtype=bool)
    return out


def _weekly_groups(
    conn: Connection, filters: Filters | None, weeks: list[dt.date], k: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per released week, shared zone and department (small ones pooled into
    ``other``): v = Σ people over buckets, people = distinct badges; and
    every (week, zone_id) with data (a zone-week left with no group after
    pooling is shown suppressed, never dropped silently)."""
    lo, hi = weeks[0], weeks[-1] + dt.timedelta(days=6)
    where, params = _shared_where(conn, filters, lo, hi)
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL(
                "SELECT week, zone_id, department_id, SUM(people_buckets) FROM {}"
                " t WHERE {} GROUP BY week, zone_id, department_id"
            ).format(_week_table("analytics_coloc_dept"), where),
            params,
        )
        pm = pd.DataFrame(
            cur.fetchall(), columns=["week", "zone_id", "department_id", "v"]
        )
        # source = 'shared' AND department_a = department_b: the bitmap of
        # every badge of the department (analytics.coloc_bits).
        cur.execute(
            sql.SQL(
                "SELECT week, zone_id, department_a, bit_count(bit_or({}))"
                " FROM {} t WHERE {} AND department_a = department_b"
                " GROUP BY 1, 2, 3"
            ).format(
                coloc_bits.bits_cast(cur), _week_table("analytics_coloc_bits"), where
            ),
            params,
        )
        ppl = pd.DataFrame(
            cur.fetchall(), columns=["week", "zone_id", "department_id", "people"]
        )
    if pm.empty:
        return pm.assign(people=pd.Series(dtype=np.int64)), pm[["week", "zone_id"]]
    g = pm.merge(ppl, on=["week", "zone_id", "department_id"], how="left")
    g["v"] = g["v"].astype(np.int64)
    g["people"] = g["people"].fillna(0).astype(np.int64)
    kept = pool_small_groups(
        g,
        period_keys=["week", "zone_id"],
        group_col="department_id",
        people_col="people",
        k=k,
    )
    return kept, g[["week", "zone_id"]].drop_duplicates()


def _mix(
    groups: pd.DataFrame,
    people: pd.Series,
    all_zones: pd.Series,
    bucket_minutes: float,
    k: int,
) -> pd.DataFrame:
    """diversity_from_counts of the kept groups, plus a suppressed row for
    every zone of ``all_zones`` whose groups were all pooled away."""
    zones = groups["zone_id"].drop_duplicates()
    out = diversity_from_counts(
        groups.set_index(["zone_id", "department_id"])["v"].astype(np.int64),
        people.reindex(zones).fillna(0).astype(np.int64),
        bucket_minutes=bucket_minutes,
        k=k,
    )
    gone = sorted(set(all_zones) - set(zones))
    if not gone:
        return out
    hidden = pd.DataFrame({"zone_id": gone}).assign(
        departments=np.nan,
        people=np.nan,
        simpson=np.nan,
        shannon=np.nan,
        suppressed=True,
    )
    both = pd.concat([out, hidden[out.columns]], ignore_index=True)
    return both.sort_values("zone_id").reset_index(drop=True)


def _zone_people(
    conn: Connection,
    filters: Filters | None,
    released: pd.DataFrame,
    weeks: list[dt.date],
    *,
    per_week: bool,
) -> pd.DataFrame:
    """Distinct badges per zone (and week if ``per_week``) over the weeks in
    which the zone's mix was released (``released``: week, zone_id)."""
    lo, hi = weeks[0], weeks[-1] + dt.timedelta(days=6)
    where, params = _shared_where(conn, filters, lo, hi)
    keys = "t.week, t.zone_id" if per_week else "t.zone_id"
    template = sql.SQL(
        "WITH r AS (SELECT * FROM unnest(%s::date[], %s::text[]) AS r(week, zone_id))"
        " SELECT {keys}, bit_count(bit_or({cast})) FROM (SELECT * FROM {table} w"
        " WHERE {where} AND department_a = department_b) t"
        " JOIN r ON r.week = t.week AND r.zone_id = t.zone_id GROUP BY {keys}"
    )
    with conn.cursor() as cur:
        q = template.format(
            keys=sql.SQL(keys),
            cast=coloc_bits.bits_cast(cur, "t.bits"),
            table=_week_table("analytics_coloc_bits"),
            where=where,
        )
        cur.execute(
            q, [list(released["week"]), [str(z) for z in released["zone_id"]], *params]
        )
        rows = cur.fetchall()
    cols = ["week", "zone_id", "v"] if per_week else ["zone_id", "v"]
    return pd.DataFrame(rows, columns=cols)


def _released_groups(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    filters: Filters | None,
    settings: Settings,
    today: dt.date | None,
    *,
    per_week: bool,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] | None:
    """The weekly groups, the zone-weeks seen and the distinct people per zone
    (per week with ``per_week``) of the released weeks [start, end] touches;
    None when there are none."""
    weeks = release_window(conn, start, end, settings, today)
    if not weeks:
        return None
    g, seen = _weekly_groups(conn, filters, weeks, int(settings.k_anonymity))
    if seen.empty:
        return None
    released = g[["week", "zone_id"]].drop_duplicates()
    people = _zone_people(conn, filters, released, weeks, per_week=per_week)
    return g, seen, people


def read_diversity(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    *,
    filters: Filters | None = None,
    settings: Settings | None = None,
    today: dt.date | None = None,
) -> pd.DataFrame:
    """Department mix per shared zone over the released weeks [start, end]
    touches: zone_id, departments (groups: departments of ≥ k people, and
    ``other``), people (distinct), simpson, shannon, suppressed. Σ people
    minutes per group are summed over the released weeks, then turned into
    shares."""
    settings = settings_or_default(settings)
    k = int(settings.k_anonymity)
    bucket_minutes = float(settings.bucket_minutes)
    read = _released_groups(conn, start, end, filters, settings, today, per_week=False)
    if read is None:
        return _empty(week=False)
    g, seen, people = read
    total = g.groupby(["zone_id", "department_id"], sort=True)["v"].sum().reset_index()
    zone_people = people.set_index("zone_id")["v"]
    return _mix(total, zone_people, seen["zone_id"], bucket_minutes, k)


def read_diversity_weekly(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    *,
    filters: Filters | None = None,
    settings: Settings | None = None,
    today: dt.date | None = None,
) -> pd.DataFrame:
    """:func:`read_diversity` of each released week [start, end] touches (week
    = its Monday; weeks whole, never cut to the range): week, zone_id,
    departments, people, simpson, shannon, suppressed; weeks without data
    have no rows."""
    settings = settings_or_default(settings)
    k = int(settings.k_anonymity)
    bucket_minutes = float(settings.bucket_minutes)
    read = _released_groups(conn, start, end, filters, settings, today, per_week=True)
    if read is None:
        return _empty(week=True)
    g, seen, people = read
    parts = []
    # One small frame per week (a year has 53 at most).
    for week, zones in seen.groupby("week", sort=True):
        part = g[g["week"] == week]
        ppl = people[people["week"] == week].set_index("zone_id")["v"]
        d = _mix(part, ppl, zones["zone_id"], bucket_minutes, k)
        d.insert(0, "week", week)
        parts.append(d)
    return pd.concat(parts, ignore_index=True)
