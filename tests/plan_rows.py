"""Hand-built plan rollups for tests: hourly level aggregates with a known
weekly profile and daily co-location rows with a known step, written into a
real database."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from analytics import coloc_bits
from occupancy.db import connect, copy_rows

FIRST = dt.date(2026, 1, 5)  # a Monday
WEEKS = 14
LAST = FIRST + dt.timedelta(days=7 * WEEKS - 1)  # a Sunday


def _people(day: dt.date, hour: int, base: float) -> float:
    # Tuesday-Thursday busier; a midday peak
    return (
        base
        * (1.2 if day.weekday() in (1, 2, 3) else 0.8)
        * (1.0 if 10 <= hour < 16 else 0.5)
    )


def insert_levels(database_url: str) -> None:
    conn = connect(database_url)
    rng = np.random.default_rng(5)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT department_id FROM departments ORDER BY 1")
        depts = [r[0] for r in cur.fetchall()]
        groups = [("building", "main", 300, 60.0), ("floor", "f1", 100, 20.0)]
        groups += [("department", d, 30, 8.0) for d in depts]
        rows = []
        for i in range(7 * WEEKS):
            day = FIRST + dt.timedelta(days=i)
            if day.weekday() > 4:
                continue
            for hour in range(8, 18):
                for level, lid, cap, base in groups:
                    p = max(_people(day, hour, base) + rng.normal(0, 1), 0.0)
                    rows.append(
                        (
                            day,
                            level,
                            lid,
                            hour,
                            True,
                            4,
                            1,
                            cap,
                            cap,
                            cap * 3600.0,
                            3600.0,
                            3600.0,
                            p * 3600.0,
                            p + 1,
                            p + 1,
                            cap - p - 1,
                        )
                    )
        copy_rows(
            cur,
            "analytics_level_hourly",
            [
                "day",
                "level",
                "level_id",
                "hour",
                "in_working_hours",
                "buckets",
                "spaces",
                "capacity",
                "desks_measured",
                "capacity_s",
                "measured_s",
                "occupied_s",
                "people_s",
                "peak_people",
                "peak_desks_occupied",
                "min_vacant",
            ],
            rows,
        )
    conn.close()


CHANGE = FIRST + dt.timedelta(days=7 * 7)  # the Monday of week 8 of 14


def insert_coloc(url: str) -> None:
    """finance and it in the three shared zones every working day, 20
    occupied buckets a zone; together 2 buckets, in f1-project 6 from the
    change on; 6 badges of each in each zone."""
    pair_rows, zone_rows, dept_rows, badge_rows = [], [], [], []
    for i in range(7 * WEEKS):
        day = FIRST + dt.timedelta(days=i)
        if day.weekday() > 4:
            continue
        for zone in ("f0-cafe", "f1-project", "f2-lounge"):
            both = 6 if zone == "f1-project" and day >= CHANGE else 2
            zone_rows.append((day, zone, "shared", 20))
            for a, b in (("finance", "it"), ("it", "finance")):
                pair_rows.append((day, zone, "shared", a, b, both))
            for d in ("finance", "it"):
                pair_rows.append((day, zone, "shared", d, d, 10))
                dept_rows.append((day, zone, "shared", d, 10, 30))
                other = "it" if d == "finance" else "finance"
                for n in range(6):
                    for b in (d, other):
                        badge_rows.append((day, zone, "shared", d, b, f"{d}-{n}"))
    conn = connect(url)
    with conn, conn.cursor() as cur:
        src = ["day", "zone_id", "source"]
        copy_rows(
            cur,
            "analytics_coloc_pairs",
            [*src, "department_a", "department_b", "buckets"],
            pair_rows,
        )
        copy_rows(cur, "analytics_coloc_zone", [*src, "buckets"], zone_rows)
        copy_rows(
            cur,
            "analytics_coloc_dept",
            [*src, "department_id", "buckets", "people_buckets"],
            dept_rows,
        )
    cols = [*src, "department_a", "department_b", "badge"]
    frames = {"analytics_coloc_badges": pd.DataFrame(badge_rows, columns=cols)}
    bits = coloc_bits.as_bitmaps(conn, frames)["analytics_coloc_bits"]
    with conn, conn.cursor() as cur:
        copy_rows(cur, "analytics_coloc_bits", list(bits.columns), bits.to_numpy())
    conn.close()
