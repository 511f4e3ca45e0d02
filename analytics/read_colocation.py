"""Rollup readers for cross-department co-location: the matrix with lift and
the weekly trend, built only from released weeks (analytics.release); the
mix of departments in shared spaces is in :mod:`analytics.read_diversity`.
Every cell covering fewer than k distinct people is suppressed.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from psycopg2 import sql
from psycopg2.extensions import TRANSACTION_STATUS_INERROR

from analytics import coloc_bits, coloc_weeks
from analytics.colocation import (
    MATRIX_COLUMNS,
    SOURCES,
    colocation_matrix,
    matrix_from_counts,
)
from analytics.db_io import site_timezone
from analytics.filters import Filters
from analytics.privacy import suppress
from analytics.read_common import settings_or_default
from analytics.read_common import week_table as _week_table
from analytics.read_common import zone_filter as _zone_filter
from analytics.release import combine_released, local_today, released_weeks
from occupancy.db import Connection
from occupancy.settings import Settings

logger = logging.getLogger(__name__)


class _Scope(NamedTuple):
    """The rows of a co-location daily table a read covers: days [start,
    end], zones (None: all), and with ``dept`` only the pairs involving that
    department (a pair table)."""

    start: dt.date
    end: dt.date
    zones: list[str] | None
    dept: str | None = None


def _scope_where(scope: _Scope) -> tuple[sql.Composable, list[Any]]:
    where: sql.Composable = sql.SQL("day BETWEEN %s AND %s")
    params: list[Any] = [scope.start, scope.end]
    if scope.zones is not None:
        where = sql.SQL("{} AND zone_id = ANY(%s)").format(where)
        params.append(scope.zones)
    if scope.dept is not None:
        where = sql.SQL("{} AND (department_a = %s OR department_b = %s)").format(where)
        params += [scope.dept, scope.dept]
    return where, params


def _grouping_sets(
    keys: list[str], *, by_source: bool, add_all: bool
) -> sql.Composable:
    """Per (source, *keys) when ``by_source``, and per keys alone (source
    ``all``) unless the sums are added up over the sources here (``add_all``:
    integers, exact; one hash aggregate instead of a grouping set each)."""

    def group(cols: list[str]) -> sql.Composable:
        return sql.SQL("({})").format(sql.SQL(", ").join(map(sql.Identifier, cols)))

    sets = [group(["source", *keys])] if by_source else []
    if not add_all:
        sets.append(group(keys) if keys else sql.SQL("()"))
    return sql.SQL(", ").join(sets)


def _add_all(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``frame`` (source, *keys, v) with the sums over the sources as ``all``."""
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


def _coloc_sum(
    conn: Connection,
    table: str,
    value: str,
    keys: list[str],
    scope: _Scope,
    *,
    by_source: bool,
) -> pd.DataFrame:
    """``value`` aggregated over the rows of ``scope`` of a co-location daily
    table, per (source, *keys) and, as source ``all``, per keys alone.
    ``value`` is a fixed SQL expression of this module; key ``week`` is the
    local day's ISO week (its Monday)."""
    add_all = by_source and value.upper().startswith("SUM(")
    where, params = _scope_where(scope)
    q = sql.SQL(
        "SELECT {src} AS source{keys}, {value} AS v FROM {table} t"
        " WHERE {where} GROUP BY GROUPING SETS ({sets})"
    ).format(
        src=sql.SQL("COALESCE(source, 'all')" if by_source else "'all'"),
        keys=sql.SQL("").join(sql.SQL(", {}").format(sql.Identifier(k)) for k in keys),
        value=sql.SQL(value),
        table=_week_table(table),
        where=where,
        sets=_grouping_sets(keys, by_source=by_source, add_all=add_all),
    )
    with conn.cursor() as cur:
        cur.execute(q, params)
        rows = cur.fetchall()
    frame = pd.DataFrame(rows, columns=["source", *keys, "v"])
    frame["v"] = frame["v"].astype(np.int64)
    return _add_all(frame, keys) if add_all and len(frame) else frame


def _join_people(
    pairs: pd.DataFrame, people: pd.DataFrame, ab: list[str]
) -> pd.DataFrame:
    """``pairs`` (source, *ab, v) with people_a and people_b from ``people``
    (source, *ab, v: distinct badges of department_a behind the cell)."""
    keys = ["source", *ab]
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


def _empty_matrix(k: int, *, by_source: bool, week: bool = False) -> pd.DataFrame:
    m = colocation_matrix(
        pd.DataFrame(
            columns=["zone_id", "bucket", "source", "department_id", "badges"]
        ),
        bucket_minutes=1.0,
        k=k,
        by_source=by_source,
    )
    if week:
        m.insert(0, "week", pd.Series(dtype=object))
    return m


def release_window(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    settings: Settings,
    today: dt.date | None,
) -> list[dt.date]:
    """Mondays of the released weeks [start, end] touches (analytics.release):
    whole local ISO weeks that have ended by ``today`` (default: today in the
    site's time zone)."""
    if today is None:
        today = local_today(site_timezone(conn, settings))
    return released_weeks(start, end, today)


def _weekly_cells(
    conn: Connection,
    weeks: list[dt.date],
    zones: list[str] | None,
    *,
    bucket_minutes: float,
    k: int,
    by_source: bool,
    dept: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The matrix of each week in ``weeks`` (contiguous Mondays), each week
    k-suppressed on its own distinct people (week, then the matrix columns),
    and the distinct people of each cell over its released weeks. Unfiltered
    by zone: the week cells ``analyze`` stored (:mod:`analytics.coloc_weeks`)
    when every week has them; else computed from the daily tables."""
    how = dict(bucket_minutes=bucket_minutes, k=k, by_source=by_source, dept=dept)
    hi = weeks[-1] + dt.timedelta(days=6)
    if zones is None and coloc_weeks.covered(conn, weeks[0], hi):
        return _stored_cells(conn, weeks, **how)  # type: ignore[arg-type]
    return _computed_cells(conn, weeks, zones, **how)  # type: ignore[arg-type]


def _stored_cells(
    conn: Connection,
    weeks: list[dt.date],
    *,
    bucket_minutes: float,
    k: int,
    by_source: bool,
    dept: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`_weekly_cells` from the stored week cells (all zones)."""
    cells, dept_n, anyone = coloc_weeks.read_week_cells(
        conn, weeks, by_source=by_source, dept=dept
    )
    if cells.empty:
        return _empty_matrix(k, by_source=by_source, week=True), _NO_PEOPLE
    weekly = _weekly_matrix(cells, dept_n, anyone, bucket_minutes, k)
    if len(weeks) == 1:
        # One week: the people of its released cells are the range's.
        keys = ["source", "department_a", "department_b"]
        released = np.minimum(cells["people_a"], cells["people_b"]) >= k
        ranged = cells.loc[released, [*keys, "people_a"]]
        return weekly, ranged.rename(columns={"people_a": "people"}).reset_index(
            drop=True
        )
    ranged = coloc_weeks.read_ranged_people(
        conn, weeks, k, by_source=by_source, dept=dept
    )
    return weekly, ranged


def _computed_cells(
    conn: Connection,
    weeks: list[dt.date],
    zones: list[str] | None,
    *,
    bucket_minutes: float,
    k: int,
    by_source: bool,
    dept: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`_weekly_cells` computed from the daily tables (any zones)."""
    wab = ["week", "department_a", "department_b"]
    scope = _Scope(weeks[0], weeks[-1] + dt.timedelta(days=6), zones, dept)
    pairs = _coloc_sum(
        conn, "analytics_coloc_pairs", "SUM(buckets)", wab, scope, by_source=by_source
    )
    if pairs.empty:
        return _empty_matrix(k, by_source=by_source, week=True), _NO_PEOPLE
    people, ranged = _week_people(conn, scope, k, by_source=by_source)
    cells = _join_people(pairs, people, wab)
    whole = scope._replace(dept=None)
    dept_n = _coloc_sum(
        conn,
        "analytics_coloc_dept",
        "SUM(buckets)",
        ["week", "department_id"],
        whole,
        by_source=by_source,
    )
    anyone = _coloc_sum(
        conn,
        "analytics_coloc_zone",
        "SUM(buckets)",
        ["week"],
        whole,
        by_source=by_source,
    )
    weekly = _weekly_matrix(cells, dept_n, anyone, bucket_minutes, k)
    return weekly, ranged


def _weekly_matrix(
    cells: pd.DataFrame,
    dept_n: pd.DataFrame,
    anyone: pd.DataFrame,
    bucket_minutes: float,
    k: int,
) -> pd.DataFrame:
    """matrix_from_counts of every week at once: the week is folded into the
    source key ("<week>|<source>") so one vectorized call covers a year,
    then unfolded; rows ordered by week, then as the matrix."""
    labels = {str(w): w for w in cells["week"].unique()}

    def fold(frame: pd.DataFrame) -> pd.DataFrame:
        key = frame["week"].astype(str) + "|" + frame["source"].astype(str)
        return frame.assign(source=key.to_numpy()).drop(columns="week")

    m = matrix_from_counts(
        fold(cells),
        fold(dept_n).set_index(["source", "department_id"])["v"],
        fold(anyone).set_index("source")["v"],
        bucket_minutes=bucket_minutes,
        k=k,
    )
    if m.empty:
        m.insert(0, "week", pd.Series(dtype=object))
        return m
    parts = m["source"].str.split("|", n=1, expand=True)
    m["source"] = parts[1].to_numpy()
    m.insert(0, "week", parts[0].map(labels).to_numpy())
    order = {s: i for i, s in enumerate([*SOURCES, "all"])}
    m["_o"] = m["source"].map(order)
    m = m.sort_values(["week", "_o", "department_a", "department_b"], kind="stable")
    return m.drop(columns="_o").reset_index(drop=True)


_NO_PEOPLE = pd.DataFrame(
    {
        "source": pd.Series(dtype=object),
        "department_a": pd.Series(dtype=object),
        "department_b": pd.Series(dtype=object),
        "people": pd.Series(dtype=np.int64),
    }
)


_PER_SOURCE = (
    "SELECT week, source, department_a, department_b, bit_count(bits) AS n FROM d"
    " UNION ALL "
)
_RANGE_SOURCE = (
    "SELECT 'r', NULL::date, source, department_a, department_b,"
    " bit_count(bit_or(d.bits)) FROM rel r JOIN d"
    " USING (week, source, department_a, department_b) GROUP BY 3, 4, 5 UNION ALL "
)
# Badge bitmaps (analytics.coloc_bits): unions by bit_or, distinct people by
# bit_count, exact.
_WEEK_PEOPLE = (
    "WITH d AS MATERIALIZED (SELECT week, {src}department_a, department_b,"
    " bit_or({cast}) AS bits FROM {table} t WHERE {where}"
    " GROUP BY week, {src}department_a, department_b),"
    " da AS MATERIALIZED (SELECT week, department_a, department_b,"
    " bit_or(bits) AS bits FROM d GROUP BY 1, 2, 3),"
    " w AS MATERIALIZED ({per_source}SELECT week, 'all' AS source,"
    " department_a, department_b, bit_count(bits) AS n FROM da),"
    " rel AS (SELECT x.week, x.source, x.department_a, x.department_b"
    " FROM w x JOIN w y ON y.week = x.week AND y.source = x.source"
    " AND y.department_a = x.department_b AND y.department_b = x.department_a"
    " WHERE LEAST(x.n, y.n) >= %s)"
    " SELECT 'w', week, source, department_a, department_b, n FROM w"
    " UNION ALL {range_source}SELECT 'r', NULL::date, 'all', department_a,"
    " department_b, bit_count(bit_or(da.bits)) FROM rel r JOIN da"
    " USING (week, department_a, department_b) WHERE r.source = 'all'"
    " GROUP BY 4, 5"
)


def _week_people(
    conn: Connection,
    scope: _Scope,
    k: int,
    *,
    by_source: bool,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Distinct badges behind the cells, in one scan of the badge bitmaps:
    (per week: source, week, department_a, department_b, v) and (per range:
    source, department_a, department_b, people over the weeks in which the
    cell was released, i.e. both sides had at least k people that week).
    Source ``all`` counts badges of every source. ``scope.dept``: only the
    cells involving that department."""
    table = (
        "analytics_coloc_bits"
        if scope.zones is not None
        else "analytics_coloc_bits_site"
    )
    where, params = _scope_where(scope)
    with conn.cursor() as cur:
        q = sql.SQL(_WEEK_PEOPLE).format(
            src=sql.SQL("source, " if by_source else ""),
            cast=coloc_bits.bits_cast(cur),
            per_source=sql.SQL(_PER_SOURCE if by_source else ""),
            range_source=sql.SQL(_RANGE_SOURCE if by_source else ""),
            table=_week_table(table),
            where=where,
        )
        # The planner cannot estimate the CTEs' self-join (released cells)
        # and picks a nested loop: 5.3 s instead of 0.24 s for a floor over
        # a year. Set for this statement only (also on autocommit).
        cur.execute("SET enable_nestloop = off")
        try:
            cur.execute(q, [*params, k])
            rows = cur.fetchall()
        finally:
            # An aborted transaction's rollback undoes the SET itself.
            if conn.get_transaction_status() != TRANSACTION_STATUS_INERROR:
                cur.execute("RESET enable_nestloop")
    cols = ["part", "week", "source", "department_a", "department_b", "v"]
    frame = pd.DataFrame(rows, columns=cols)
    frame["v"] = frame["v"].astype(np.int64)
    weekly = frame[frame["part"] == "w"].drop(columns="part")
    ranged = frame[frame["part"] == "r"].drop(columns=["part", "week"])
    return weekly.reset_index(drop=True), ranged.rename(columns={"v": "people"})


def _combine_weeks(weekly: pd.DataFrame, ranged: pd.DataFrame, k: int) -> pd.DataFrame:
    """The range matrix from week cells: minutes and expected minutes summed
    over each cell's released weeks, lift their ratio, people the distinct
    badges over those weeks (``ranged``); a cell with no released week is
    suppressed."""
    keys = ["source", "department_a", "department_b"]
    m = combine_released(weekly, keys, ["minutes", "expected_minutes"])
    people = ranged.set_index(keys)["people"]
    idx = pd.MultiIndex.from_frame(m[keys])
    swapped = pd.MultiIndex.from_frame(m[["source", "department_b", "department_a"]])
    m["people_a"] = people.reindex(idx).to_numpy(dtype=float)
    m["people_b"] = people.reindex(swapped).to_numpy(dtype=float)
    m["lift"] = np.where(
        m["department_a"] == m["department_b"],
        np.nan,
        m["minutes"] / m["expected_minutes"],
    )
    src_order = {s: i for i, s in enumerate([*SOURCES, "all"])}
    m["_o"] = m["source"].map(src_order)
    m = m.sort_values(["_o", "department_a", "department_b"])
    m = m[list(MATRIX_COLUMNS)].reset_index(drop=True)
    return suppress(
        m, ["people_a", "people_b"], ["minutes", "expected_minutes", "lift"], k
    )


def read_colocation(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    *,
    filters: Filters | None = None,
    settings: Settings | None = None,
    by_source: bool = True,
    today: dt.date | None = None,
) -> pd.DataFrame:
    """Department × department co-presence matrix (long form) of the released
    weeks [start, end] touches: source (neighbourhood, meeting, shared, all),
    department_a, department_b, minutes, people_a, people_b, expected_minutes,
    lift, suppressed.

    Released weeks (analytics.release): whole local ISO weeks that have ended.
    Each week's cell is suppressed on its own (fewer than k distinct people on
    either side), and the range's cell sums the released week cells, so two
    answers never differ by anything a released week does not show on its own.
    A department filter keeps the cells involving that department."""
    settings = settings_or_default(settings)
    k = int(settings.k_anonymity)
    weeks = release_window(conn, start, end, settings, today)
    if not weeks:
        return _empty_matrix(k, by_source=by_source)
    zones = _zone_filter(conn, filters, weeks[0], weeks[-1] + dt.timedelta(days=6))
    dept_f = (getattr(filters, "department", None) if filters else None) or None
    how = dict(bucket_minutes=float(settings.bucket_minutes), k=k, by_source=by_source)
    weekly, ranged = _weekly_cells(conn, weeks, zones, dept=dept_f, **how)  # type: ignore[arg-type]
    if weekly.empty and dept_f:
        # The empty result exactly as without the department shortcut.
        weekly, ranged = _weekly_cells(conn, weeks, zones, **how)  # type: ignore[arg-type]
    if weekly.empty:
        return _empty_matrix(k, by_source=by_source)
    m = _combine_weeks(weekly, ranged, k)
    if dept_f:
        keep = (m["department_a"] == dept_f) | (m["department_b"] == dept_f)
        m = m[keep].reset_index(drop=True)
    return m


def read_colocation_trend(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    *,
    filters: Filters | None = None,
    settings: Settings | None = None,
    today: dt.date | None = None,
) -> pd.DataFrame:
    """The combined matrix of each released week [start, end] touches (week =
    its Monday), each week k-suppressed on its own distinct people. Weeks are
    whole (never cut to the range) and only those that have ended."""
    settings = settings_or_default(settings)
    k = int(settings.k_anonymity)
    weeks = release_window(conn, start, end, settings, today)
    if not weeks:
        return _empty_matrix(k, by_source=False, week=True)
    zones = _zone_filter(conn, filters, weeks[0], weeks[-1] + dt.timedelta(days=6))
    return _weekly_cells(
        conn,
        weeks,
        zones,
        bucket_minutes=float(settings.bucket_minutes),
        k=k,
        by_source=False,
    )[0]
