"""The reads of the intervention analysis and the neutral-ground scorecard:
the daily co-location rollups (and the zone level's hourly utilization)
summed per local week or over a range. The thin I/O edge of
analytics/intervention.py."""

from __future__ import annotations

import datetime as dt
import logging

import pandas as pd

from analytics import coloc_bits
from analytics.db_io import StoreError
from analytics.intervention import (
    intervention_effects,
    scorecard,
    zone_week_metrics,
)
from analytics.read_common import settings_or_default
from occupancy.db import Connection
from occupancy.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["read_intervention", "read_scorecard", "read_zone_weeks"]

_WEEK = "day - (EXTRACT(ISODOW FROM day)::int - 1)"
# Fixed statements of this module (no identifier or value is pasted in).
_Q = {
    "pairs": "SELECT {g} zone_id, department_a, department_b, SUM(buckets)"
    " FROM analytics_coloc_pairs WHERE day BETWEEN %s AND %s"
    " AND department_a < department_b GROUP BY {k} zone_id, department_a, department_b",
    "zone": "SELECT {g} zone_id, SUM(buckets) FROM analytics_coloc_zone"
    " WHERE day BETWEEN %s AND %s GROUP BY {k} zone_id",
    "dept": "SELECT {g} zone_id, department_id, SUM(buckets), SUM(people_buckets)"
    " FROM analytics_coloc_dept WHERE day BETWEEN %s AND %s"
    " GROUP BY {k} zone_id, department_id",
    # Distinct badges: bit_count of the union of the cells' badge bitmaps
    # (analytics.coloc_bits), {c} the bitmaps cast to one width.
    "people": "SELECT {g} zone_id, bit_count(bit_or({c})) FROM analytics_coloc_bits"
    " WHERE day BETWEEN %s AND %s AND department_a = department_b GROUP BY {k} zone_id",
    "pair_people": "SELECT zone_id, department_a, department_b, bit_count(bit_or({c}))"
    " FROM analytics_coloc_bits WHERE day BETWEEN %s AND %s"
    " AND department_a <> department_b GROUP BY zone_id, department_a, department_b",
    "util": "SELECT {g} level_id, 100 * SUM(people_s) / NULLIF(SUM(capacity_s), 0)"
    " FROM analytics_level_hourly WHERE day BETWEEN %s AND %s AND level = 'zone'"
    " AND in_working_hours GROUP BY {k} level_id",
}
_COLS = {
    "pairs": ["zone_id", "department_a", "department_b", "buckets"],
    "zone": ["zone_id", "buckets"],
    "dept": ["zone_id", "department_id", "buckets", "people_buckets"],
    "people": ["zone_id", "people"],
    "pair_people": ["zone_id", "department_a", "department_b", "people"],
    "util": ["zone_id", "utilization_pct"],
}


def _read(
    conn: Connection, name: str, start: dt.date, end: dt.date, *, weekly: bool
) -> pd.DataFrame:
    g, k = (f"{_WEEK} AS week,", "1,") if weekly else ("", "")
    with conn.cursor() as cur:
        c = coloc_bits.bits_cast(cur).as_string(cur) if "{c}" in _Q[name] else ""
        q = _Q[name].format(g=g, k=k, c=c)
        cur.execute(q, (start, end))
        rows = cur.fetchall()
    cols = (["week"] if weekly and "{g}" in _Q[name] else []) + _COLS[name]
    out = pd.DataFrame(rows, columns=cols)
    for c in ("buckets", "people_buckets", "people"):
        if c in out:
            out[c] = out[c].astype("int64")
    if "utilization_pct" in out:
        out["utilization_pct"] = out["utilization_pct"].astype(float)
    return out


def _zones(conn: Connection) -> pd.DataFrame:
    with conn.cursor() as cur:
        cur.execute("SELECT zone_id, kind FROM zones ORDER BY zone_id")
        return pd.DataFrame(cur.fetchall(), columns=["zone_id", "kind"])


def read_zone_weeks(
    conn: Connection, start: dt.date, end: dt.date, *, settings: Settings | None = None
) -> pd.DataFrame:
    """Per zone and local week (Monday) of [start, end]: people, cross_pairs,
    simpson (k-suppressed: :func:`analytics.intervention.zone_week_metrics`)
    and utilization_pct (zone level, working hours; the sensors')."""
    settings = settings_or_default(settings)
    parts = {
        n: _read(conn, n, start, end, weekly=True)
        for n in ("pairs", "zone", "dept", "people", "util")
    }
    m = zone_week_metrics(
        parts["pairs"],
        parts["zone"],
        parts["dept"],
        parts["people"],
        k=int(settings.k_anonymity),
    )
    return m.merge(parts["util"], on=["week", "zone_id"], how="outer")


def read_intervention(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    *,
    change: dt.date,
    zones: list[str],
    control: list[str] | None = None,
    n_boot: int = 2000,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Effect of a change on ``zones`` at ``change``: before/after and
    difference-in-differences against ``control`` (default: every other
    zone of the same kind as the first touched zone that has data)."""
    if not start < change <= end:
        raise StoreError(f"change date {change} must lie after {start} and by {end}")
    kinds = _zones(conn).set_index("zone_id")["kind"]
    unknown = [z for z in [*zones, *(control or [])] if z not in kinds.index]
    if unknown:
        raise StoreError(f"unknown zone(s) {unknown}")
    m = read_zone_weeks(conn, start, end, settings=settings)
    if control is None:
        same = kinds[kinds == kinds[zones[0]]].index
        control = sorted(set(same) & set(m["zone_id"]) - set(zones)) or None
    outcomes = ["cross_pairs", "simpson"]
    if m.loc[m["zone_id"].isin(zones), "utilization_pct"].notna().any():
        outcomes.append("utilization_pct")
    return intervention_effects(
        m,
        change=change,
        treated=zones,
        control=control,
        outcomes=outcomes,
        n_boot=n_boot,
    )


def read_scorecard(
    conn: Connection, start: dt.date, end: dt.date, *, settings: Settings | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the neutral-ground scorecard of the shared zones over [start, end],
    their weekly metrics for the trend)."""
    settings = settings_or_default(settings)
    k = int(settings.k_anonymity)
    shared = set(_zones(conn).query("kind == 'shared'")["zone_id"])
    tot = {
        n: _read(conn, n, start, end, weekly=False)
        for n in ("pairs", "zone", "dept", "people")
    }
    tot = {n: f[f["zone_id"].isin(shared)] for n, f in tot.items()}
    pp = _read(conn, "pair_people", start, end, weekly=False)
    rev = pp.rename(
        columns={
            "department_a": "department_b",
            "department_b": "department_a",
            "people": "people_b",
        }
    )
    pair_people = (
        pp.rename(columns={"people": "people_a"})
        .merge(rev, on=["zone_id", "department_a", "department_b"], how="left")
        .fillna({"people_b": 0})
    )
    weekly = read_zone_weeks(conn, start, end, settings=settings)
    weekly = weekly[weekly["zone_id"].isin(shared)].reset_index(drop=True)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM departments")
        row = cur.fetchone()
    n_depts = int(row[0]) if row else 0
    card = scorecard(
        tot["pairs"],
        tot["zone"],
        tot["dept"],
        pair_people,
        tot["people"],
        weekly,
        departments=n_depts,
        k=k,
    )
    return card, weekly
