"""Weekly co-location cells, precomputed at analyze time (migration 0207).

Released co-location figures (:mod:`analytics.release`) are built from whole
local ISO weeks, each week's cell k-suppressed on its own. Computing those
week cells at read time meant counting distinct badges per week over every
badge row of the range. ``occupancy analyze`` now stores, for every week it
touched:

- ``analytics_coloc_week``: per week, source (neighbourhood, meeting, shared
  and ``all``) and department pair: buckets both present, distinct people of
  each side, buckets each side was present and buckets anyone was present —
  the counts the week's matrix cell (minutes, expected minutes, lift) and its
  suppression are made of;
- ``analytics_coloc_week_bits``: the distinct badges behind each week cell
  (a bitmap of badge codes, :mod:`analytics.coloc_bits`),
  so a range's people (distinct over the weeks in which the cell was
  released) is one join.

The counts are stored unsuppressed; the reader suppresses each week on its own
with its k (a different ``k_anonymity`` needs no re-analysis). Built in SQL
from the daily tables, after the chunks are written. I/O only.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from psycopg2 import sql

from analytics import coloc_bits
from occupancy.db import Connection

logger = logging.getLogger(__name__)

__all__ = ["covered", "read_ranged_people", "read_week_cells", "refresh_weeks"]

_BADGES = """INSERT INTO analytics_coloc_week_bits
    (week, source, department_a, department_b, bits)
SELECT day - (EXTRACT(ISODOW FROM day)::int - 1), source, department_a, department_b,
       bit_or({cast})
  FROM analytics_coloc_bits_site WHERE day = ANY(%(days)s) GROUP BY 1, 2, 3, 4"""

_BADGES_ALL = """INSERT INTO analytics_coloc_week_bits
    (week, source, department_a, department_b, bits)
SELECT week, 'all', department_a, department_b, bit_or({cast})
  FROM analytics_coloc_week_bits WHERE week = ANY(%(weeks)s) AND source <> 'all'
 GROUP BY 1, 3, 4"""

# Per source and, with the source left out of the grouping, for 'all'.
_CELLS = """INSERT INTO analytics_coloc_week
    (week, source, department_a, department_b, buckets, people_a, people_b,
     buckets_a, buckets_b, buckets_any)
WITH p AS (SELECT week, COALESCE(source, 'all') AS source,
                  department_a, department_b, SUM(buckets) AS n
             FROM (SELECT *, day - (EXTRACT(ISODOW FROM day)::int - 1) AS week FROM analytics_coloc_pairs
                    WHERE day = ANY(%(days)s)) t
            GROUP BY GROUPING SETS ((week, source, department_a, department_b),
                                    (week, department_a, department_b))),
     d AS (SELECT week, COALESCE(source, 'all') AS source,
                  department_id, SUM(buckets) AS n
             FROM (SELECT *, day - (EXTRACT(ISODOW FROM day)::int - 1) AS week FROM analytics_coloc_dept
                    WHERE day = ANY(%(days)s)) t
            GROUP BY GROUPING SETS ((week, source, department_id),
                                    (week, department_id))),
     z AS (SELECT week, COALESCE(source, 'all') AS source, SUM(buckets) AS n
             FROM (SELECT *, day - (EXTRACT(ISODOW FROM day)::int - 1) AS week FROM analytics_coloc_zone
                    WHERE day = ANY(%(days)s)) t
            GROUP BY GROUPING SETS ((week, source), (week))),
     c AS (SELECT week, source, department_a, department_b, bit_count(bits) AS n
             FROM analytics_coloc_week_bits WHERE week = ANY(%(weeks)s))
SELECT p.week, p.source, p.department_a, p.department_b, p.n, ca.n, cb.n,
       da.n, db.n, z.n
  FROM p
  JOIN c ca ON ca.week = p.week AND ca.source = p.source
           AND ca.department_a = p.department_a AND ca.department_b = p.department_b
  JOIN c cb ON cb.week = p.week AND cb.source = p.source
           AND cb.department_a = p.department_b AND cb.department_b = p.department_a
  LEFT JOIN d da ON da.week = p.week AND da.source = p.source
                AND da.department_id = p.department_a
  LEFT JOIN d db ON db.week = p.week AND db.source = p.source
                AND db.department_id = p.department_b
  LEFT JOIN z ON z.week = p.week AND z.source = p.source"""


def _weeks_of(days: Iterable[dt.date]) -> list[dt.date]:
    return sorted({d - dt.timedelta(days=d.weekday()) for d in days})


def refresh_weeks(conn: Connection, days: Iterable[dt.date]) -> int:
    """Recompute the week cells of every ISO week holding one of ``days``
    from the daily co-location tables (one transaction). Returns the cells
    written."""
    weeks = _weeks_of(days)
    if not weeks:
        return 0
    whole = [w + dt.timedelta(days=i) for w in weeks for i in range(7)]
    params: dict[str, Any] = {"weeks": weeks, "days": whole}
    with conn, conn.cursor() as cur:
        cur.execute("SET LOCAL synchronous_commit = off")
        cur.execute(
            "DELETE FROM analytics_coloc_week WHERE week = ANY(%(weeks)s)", params
        )
        cur.execute(
            "DELETE FROM analytics_coloc_week_bits WHERE week = ANY(%(weeks)s)",
            params,
        )
        cast = coloc_bits.bits_cast(cur)
        cur.execute(sql.SQL(_BADGES).format(cast=cast), params)
        cur.execute(sql.SQL(_BADGES_ALL).format(cast=cast), params)
        cur.execute(_CELLS, params)
        cells = cur.rowcount
    logger.info("co-location: %d week cells of %d week(s)", cells, len(weeks))
    return int(cells)


def covered(conn: Connection, lo: dt.date, hi: dt.date) -> bool:
    """Whether every week with co-location data in [lo, hi] has its cells
    (False: analysed before migration 0207, or written without ``analyze``;
    the reader then computes the weeks from the daily tables)."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT NOT EXISTS (
                  SELECT 1 FROM (SELECT DISTINCT day - (EXTRACT(ISODOW FROM day)::int - 1) AS week
                                   FROM analytics_coloc_zone
                                  WHERE day BETWEEN %s AND %s) z
                   WHERE NOT EXISTS (SELECT 1 FROM analytics_coloc_week w
                                      WHERE w.week = z.week))""",
            (lo, hi),
        )
        row = cur.fetchone()
    return bool(row and row[0])


def _cell_where(
    *, by_source: bool, dept: str | None
) -> tuple[sql.Composable, list[Any]]:
    """The extra conditions on week cells: only source ``all`` unless
    ``by_source``; only the pairs involving ``dept``."""
    parts: list[sql.Composable] = []
    params: list[Any] = []
    if not by_source:
        parts.append(sql.SQL(" AND source = 'all'"))
    if dept is not None:
        parts.append(sql.SQL(" AND (department_a = %s OR department_b = %s)"))
        params += [dept, dept]
    return sql.Composed(parts), params


def read_week_cells(
    conn: Connection, weeks: list[dt.date], *, by_source: bool, dept: str | None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The stored cells of ``weeks`` as the week matrix wants them: (cells:
    week, source, department_a, department_b, n, people_a, people_b; buckets
    per week, source and department: week, source, department_id, v; buckets
    anyone was present: week, source, v). ``dept``: the cells involving that
    department only."""
    extra, params = _cell_where(by_source=by_source, dept=dept)
    q = sql.SQL(
        "SELECT week, source, department_a, department_b, buckets, people_a,"
        " people_b, buckets_a, buckets_b, buckets_any FROM analytics_coloc_week"
        " WHERE week = ANY(%s){}"
    ).format(extra)
    with conn.cursor() as cur:
        cur.execute(q, [weeks, *params])
        rows = cur.fetchall()
    cols = ["week", "source", "department_a", "department_b", "n", "people_a"]
    cols += ["people_b", "buckets_a", "buckets_b", "buckets_any"]
    frame = pd.DataFrame(rows, columns=cols)
    for c in cols[4:]:
        frame[c] = frame[c].astype(np.int64)
    ws = ["week", "source"]
    dept_n = pd.concat(
        [
            frame[[*ws, "department_a", "buckets_a"]].set_axis(
                [*ws, "department_id", "v"], axis=1
            ),
            frame[[*ws, "department_b", "buckets_b"]].set_axis(
                [*ws, "department_id", "v"], axis=1
            ),
        ],
        ignore_index=True,
    ).drop_duplicates([*ws, "department_id"])
    anyone = frame[[*ws, "buckets_any"]].drop_duplicates(ws)
    cells = frame[cols[:7]].sort_values(["source", "week", "department_a"])
    return (
        cells.reset_index(drop=True),
        dept_n.reset_index(drop=True),
        anyone.rename(columns={"buckets_any": "v"}).reset_index(drop=True),
    )


def read_ranged_people(
    conn: Connection,
    weeks: list[dt.date],
    k: int,
    *,
    by_source: bool,
    dept: str | None,
) -> pd.DataFrame:
    """Distinct badges behind each cell over the weeks of ``weeks`` in which
    the cell was released (both sides at least k people that week): source,
    department_a, department_b, people."""
    extra, params = _cell_where(by_source=by_source, dept=dept)
    template = sql.SQL(
        "SELECT b.source, b.department_a, b.department_b,"
        " bit_count(bit_or({cast})) FROM analytics_coloc_week_bits b"
        " JOIN (SELECT week, source, department_a, department_b"
        "         FROM analytics_coloc_week WHERE week = ANY(%s)"
        "          AND LEAST(people_a, people_b) >= %s{extra}) r"
        " USING (week, source, department_a, department_b) GROUP BY 1, 2, 3"
    )
    with conn.cursor() as cur:
        q = template.format(cast=coloc_bits.bits_cast(cur, "b.bits"), extra=extra)
        cur.execute(q, [weeks, k, *params])
        rows = cur.fetchall()
    out = pd.DataFrame(
        rows, columns=["source", "department_a", "department_b", "people"]
    )
    out["people"] = out["people"].astype(np.int64)
    return out
