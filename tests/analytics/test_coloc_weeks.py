"""Co-location at year scale: the daily counts on integer codes equal the
pandas formulation they replaced, and the week cells precomputed by
``analyze`` (analytics.coloc_weeks) give the very released figures the
reader computed from the daily tables before."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analytics import coloc_weeks, store
from analytics import read_colocation as rc
from analytics.colocation import colocation_daily
from analytics.pipeline import run_analyze
from analytics.reports import Filters
from occupancy.db import connect, copy_rows
from occupancy.settings import load_settings

TZ = "Europe/Amsterdam"
D = dt.date


def _pandas_daily(presence: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The pandas formulation colocation_daily had (merges, explode)."""
    keys = ["day", "zone_id", "source"]
    p = presence[[*keys, "bucket", "department_id", "people", "badges"]]
    dept = (
        p.groupby([*keys, "department_id"], sort=True)
        .agg(buckets=("bucket", "size"), people_buckets=("people", "sum"))
        .reset_index()
    )
    zone = (
        p[[*keys, "bucket"]].drop_duplicates().groupby(keys, sort=True).size()
    ).rename("buckets")
    d = p[[*keys, "bucket", "department_id"]]
    j = d.merge(d, on=[*keys, "bucket"], suffixes=("_a", "_b")).rename(
        columns={"department_id_a": "department_a", "department_id_b": "department_b"}
    )
    pk = [*keys, "department_a", "department_b"]
    pairs = j.groupby(pk, sort=True).size().rename("buckets").reset_index()
    e = p[[*keys, "bucket", "department_id", "badges"]].explode("badges")
    e = e.rename(columns={"department_id": "department_a", "badges": "badge"})
    # (An empty list explodes to NaN: no badge. Presence never has one.)
    e = e[[*keys, "bucket", "department_a", "badge"]].dropna().drop_duplicates()
    jb = e.merge(
        d.rename(columns={"department_id": "department_b"}), on=[*keys, "bucket"]
    )
    badges = jb[[*pk, "badge"]].drop_duplicates().sort_values([*pk, "badge"])
    sk = ["day", "source", "department_a", "department_b", "badge"]
    site = badges[sk].drop_duplicates().sort_values(sk)
    return {
        "analytics_coloc_pairs": pairs,
        "analytics_coloc_zone": zone.reset_index(),
        "analytics_coloc_dept": dept,
        "analytics_coloc_badges": badges.reset_index(drop=True),
        "analytics_coloc_badges_site": site.reset_index(drop=True),
    }


def test_daily_counts_equal_the_pandas_formulation() -> None:
    """Random presence with repeated rows of a department in a bucket (the
    merges count each row), badges listed twice and empty lists."""
    rng = np.random.default_rng(11)
    n = 4000
    badges = [f"b{i:03d}" for i in range(60)]
    zones = np.array(["z-a", "z-b", "lounge", "meet"])
    zi = rng.integers(0, 4, n)
    lists = [sorted(rng.choice(badges, rng.integers(0, 5)).tolist()) for _ in range(n)]
    presence = pd.DataFrame(
        {
            "zone_id": zones[zi],
            "bucket": rng.integers(1_900_000, 1_900_300, n),
            "source": np.array(["neighbourhood", "neighbourhood", "shared", "meeting"])[
                zi
            ],
            "department_id": rng.choice(["hr", "it", "rnd", "sales"], n),
            "people": [len(x) for x in lists],
            "badges": lists,
        }
    )
    presence["day"] = [
        D(2026, 3, 2) + dt.timedelta(days=int(b // 96 % 3)) for b in presence["bucket"]
    ]
    got = colocation_daily(presence)
    want = _pandas_daily(presence)
    assert set(got) == set(want)
    for table, frame in want.items():
        pd.testing.assert_frame_equal(
            got[table].reset_index(drop=True),
            frame.reset_index(drop=True),
            check_dtype=False,
            obj=table,
        )
        assert (got[table].dtypes == frame.dtypes).all(), table


def _load(conn: Any, settings: Any) -> None:
    """Three ISO weeks of sightings of 60 badges in four departments."""
    rng = np.random.default_rng(5)
    zones = store.read_metadata(conn)[1]
    zone_ids = zones.loc[zones["floor_id"].isin(["f0", "f1"]), "zone_id"].to_numpy()
    depts = ["finance", "hr", "it", "legal"]
    badge = [f"w{i:02d}" for i in range(60)]
    n = 6000
    day = np.array([0, 1, 2, 7, 8, 14, 16])[rng.integers(0, 7, n)]
    minute = rng.integers(8 * 60, 18 * 60, n)
    ts = pd.to_datetime("2026-03-02") + pd.to_timedelta(day * 1440 + minute, unit="m")
    ts_utc = ts.tz_localize(TZ).tz_convert("UTC")
    who = rng.integers(0, len(badge), n)
    where = zone_ids[(who * 5 + rng.integers(0, 3, n)) % len(zone_ids)]
    with conn, conn.cursor() as cur:
        cur.execute("DELETE FROM badge_sightings; DELETE FROM badge_departments")
        copy_rows(
            cur,
            "badge_departments",
            ["badge", "department_id"],
            [(b, depts[i % 4 if i < 50 else 3]) for i, b in enumerate(badge)],
        )
        copy_rows(
            cur,
            "badge_sightings",
            ["ts", "device_id", "zone_id", "badge", "rssi", "seq"],
            [
                (t.to_pydatetime(), "ble-w", z, badge[w], -60.0, i)
                for i, (t, z, w) in enumerate(zip(ts_utc, where, who, strict=True))
            ],
        )
    run_analyze(conn, settings, progress=lambda m: None)


@pytest.mark.integration
def test_stored_week_cells_equal_the_computation_from_daily_tables(
    database_url: str,
) -> None:
    settings = load_settings({"database_url": database_url})
    bm, k = float(settings.bucket_minutes), int(settings.k_anonymity)
    conn = connect(database_url)
    try:
        _load(conn, settings)
        weeks = [D(2026, 3, 2), D(2026, 3, 9), D(2026, 3, 16)]
        assert coloc_weeks.covered(conn, weeks[0], weeks[-1] + dt.timedelta(days=6))
        suppressed = shown = 0
        for ws in (weeks, weeks[:1], weeks[1:]):
            for by_source in (True, False):
                for dept in (None, "legal", "nobody"):
                    how = {"bucket_minutes": bm, "k": k, "by_source": by_source}
                    old_w, old_r = rc._computed_cells(conn, ws, None, dept=dept, **how)
                    new_w, new_r = rc._stored_cells(conn, ws, dept=dept, **how)
                    pd.testing.assert_frame_equal(new_w, old_w, check_dtype=False)
                    keys = ["source", "department_a", "department_b"]
                    pd.testing.assert_frame_equal(
                        new_r.sort_values(keys).reset_index(drop=True),
                        old_r.sort_values(keys).reset_index(drop=True),
                    )
                    suppressed += int(new_w["suppressed"].sum())
                    shown += int((~new_w["suppressed"]).sum())
        # Both outcomes of each week's own k-suppression are compared.
        assert suppressed > 0 and shown > 0
        new = store.read_colocation(
            conn, D(2026, 3, 3), D(2026, 3, 17), settings=settings
        )
        by_dept = store.read_colocation(
            conn,
            D(2026, 3, 3),
            D(2026, 3, 17),
            settings=settings,
            filters=Filters(department="legal"),
        )
        trend = store.read_colocation_trend(
            conn, D(2026, 3, 3), D(2026, 3, 17), settings=settings
        )
        # Without the week cells (a database analysed before migration 0207)
        # the reader computes them: the same frames.
        with conn, conn.cursor() as cur:
            cur.execute("DELETE FROM analytics_coloc_week WHERE week = %s", (weeks[1],))
        assert not coloc_weeks.covered(conn, weeks[0], weeks[-1])
        old = store.read_colocation(
            conn, D(2026, 3, 3), D(2026, 3, 17), settings=settings
        )
        pd.testing.assert_frame_equal(new, old)
        pd.testing.assert_frame_equal(
            by_dept,
            store.read_colocation(
                conn,
                D(2026, 3, 3),
                D(2026, 3, 17),
                settings=settings,
                filters=Filters(department="legal"),
            ),
        )
        pd.testing.assert_frame_equal(
            trend,
            store.read_colocation_trend(
                conn, D(2026, 3, 3), D(2026, 3, 17), settings=settings
            ),
        )
        assert not new["suppressed"].all()
    finally:
        conn.close()
