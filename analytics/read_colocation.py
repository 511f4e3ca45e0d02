"""Rollup readers for cross-department co-location: the matrix with lift,
the mix of departments in shared spaces (diversity) and the weekly trend.
Every cell or row covering fewer than k distinct people is suppressed.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import numpy as np
import pandas as pd
from psycopg2 import sql

from analytics.colocation import (
    colocation_matrix,
    matrix_from_counts,
    weekly_colocation,
)
from analytics.filters import Filters
from analytics.read_common import settings_or_default
from analytics.read_common import week_table as _week_table
from analytics.read_common import zone_filter as _zone_filter
from occupancy.db import Connection
from occupancy.settings import Settings

logger = logging.getLogger(__name__)


def _coloc_sum(
    conn: Connection,
    table: str,
    value: str,
    keys: list[str],
    start: dt.date,
    end: dt.date,
    zones: list[str] | None,
    *,
    by_source: bool,
    dept: str | None = None,
) -> pd.DataFrame:
    """``value`` aggregated over days [start, end] (and ``zones``) of a
    co-location daily table, per (source, *keys) and, as source ``all``, per
    keys alone. ``value`` is a fixed SQL expression of this module; key
    ``week`` is the local day's ISO week (its Monday). ``dept``: only the
    pairs involving that department (a pair table)."""
    key_sql = sql.SQL(", ").join(map(sql.Identifier, keys))
    sets = [sql.SQL("({})").format(key_sql) if keys else sql.SQL("()")]
    # A sum per source, added up over the sources here (integers: exact),
    # costs one hash aggregate instead of a grouping set each.
    add_all = by_source and value.upper().startswith("SUM(")
    if add_all:
        sets = [
            sql.SQL("({})").format(
                sql.SQL(", ").join(map(sql.Identifier, ["source", *keys]))
            )
        ]
    elif by_source:
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
    if dept is not None:
        where = sql.SQL("{} AND (department_a = %s OR department_b = %s)").format(where)
        params += [dept, dept]
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
    if add_all and len(frame):
        total = (
            frame.groupby(keys, sort=False)["v"].sum().reset_index()
            if keys
            else pd.DataFrame({"v": [frame["v"].sum()]})
        )
        frame = pd.concat(
            [frame, total.assign(source="all")[frame.columns]], ignore_index=True
        )
        frame["v"] = frame["v"].astype(np.int64)
    return frame


def _coloc_people(
    conn: Connection,
    keys: list[str],
    start: dt.date,
    end: dt.date,
    zones: list[str] | None,
    *,
    by_source: bool,
    dept: str | None = None,
) -> pd.DataFrame:
    """Distinct badges of analytics_coloc_badges over days [start, end] (and
    ``zones``) per (source, *keys) and, as source ``all``, per keys alone.
    One DISTINCT scan (hash aggregate) shared by both groupings instead of
    COUNT(DISTINCT) with grouping sets (a sort per set): several times faster.
    ``dept``: only the pairs involving that department."""
    where: sql.Composable = sql.SQL("day BETWEEN %s AND %s")
    params: list[Any] = [start, end]
    if zones is not None:
        where = sql.SQL("{} AND zone_id = ANY(%s)").format(where)
        params.append(zones)
    if dept is not None:
        where = sql.SQL("{} AND (department_a = %s OR department_b = %s)").format(where)
        params += [dept, dept]
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
    if not by_source:
        # Only the combined counts: one distinct pass without the source.
        q = sql.SQL(
            "SELECT 'all', {cols}, count(*) FROM (SELECT DISTINCT {cols}, badge"
            " FROM {table} t WHERE {where}) e GROUP BY {cols}"
        ).format(cols=cols, table=_week_table(table), where=where)
    with conn.cursor() as cur:
        cur.execute(q, params)
        rows = cur.fetchall()
    frame = pd.DataFrame(rows, columns=["source", *keys, "v"])
    frame["v"] = frame["v"].astype(np.int64)
    return frame


def _coloc_cells(
    conn: Connection,
    pairs: pd.DataFrame,
    ab: list[str],
    args: Any,
    *,
    by_source: bool,
    dept: str | None = None,
) -> pd.DataFrame:
    """Pair minutes joined with the distinct people of each side (people_a,
    people_b): the cells ``matrix_from_counts`` turns into a k-suppressed
    matrix. ``dept``: only the cells involving that department (the people
    of both sides of such a cell are in pairs involving it)."""
    keys = ["source", *ab]
    people = _coloc_people(conn, ab, *args, by_source=by_source, dept=dept)
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
    conn: Connection,
    start: dt.date,
    end: dt.date,
    *,
    filters: Filters | None = None,
    settings: Settings | None = None,
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
    settings = settings_or_default(settings)
    bucket_minutes = float(settings.bucket_minutes)
    k = settings.k_anonymity
    zones = _zone_filter(conn, filters, start, end)
    ab = ["department_a", "department_b"]
    args = (start, end, zones)
    dept_f = getattr(filters, "department", None) if filters is not None else None
    # A department filter keeps the cells involving it: only those are
    # counted (each cell is computed on its own, so they come out the same).
    pairs = _coloc_sum(
        conn,
        "analytics_coloc_pairs",
        "SUM(buckets)",
        ab,
        *args,
        by_source=by_source,
        dept=dept_f or None,
    )
    if pairs.empty and dept_f:
        dept_f = None  # the empty result exactly as without the shortcut
        pairs = _coloc_sum(
            conn,
            "analytics_coloc_pairs",
            "SUM(buckets)",
            ab,
            *args,
            by_source=by_source,
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
        cells = _coloc_cells(
            conn, pairs, ab, args, by_source=by_source, dept=dept_f or None
        )
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


def read_colocation_trend(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    *,
    filters: Filters | None = None,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """The combined matrix per local week (Monday's date), each week k-suppressed
    on its own distinct people. SQL aggregation of the daily counts per week;
    identical to ``weekly_colocation`` over the stored bucket presence."""
    settings = settings_or_default(settings)
    bucket_minutes = float(settings.bucket_minutes)
    k = settings.k_anonymity
    zones = _zone_filter(conn, filters, start, end)
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
