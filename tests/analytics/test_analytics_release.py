"""Fixed-period release of badge-derived measures (analytics.release): the
SQL reads equal an in-memory reference over the stored bucket presence, and
the loopholes of per-query suppression are closed (differencing two ranges,
a one-person share in a department mix)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analytics import store
from analytics.colocation import diversity_from_counts
from analytics.pipeline import run_analyze
from analytics.release import (
    combine_released,
    pool_small_groups,
    released_diversity,
    released_matrix,
    released_weeks,
)
from analytics.reports import Filters
from occupancy.db import connect, copy_rows
from occupancy.settings import load_settings

TZ = "Europe/Amsterdam"
D = dt.date


@pytest.fixture(scope="module")
def settings(database_url: str) -> Any:
    return load_settings({"database_url": database_url})


# ------------------------------------------------------------------ pure rules
def test_released_weeks_are_whole_ended_iso_weeks() -> None:
    # Wed 2026-04-08 .. Tue 2026-04-14 touches the weeks of Mon 04-06 and 04-13.
    assert released_weeks(D(2026, 4, 8), D(2026, 4, 14), D(2026, 5, 1)) == [
        D(2026, 4, 6),
        D(2026, 4, 13),
    ]
    # The week of 04-13 ends Sun 04-19: on that Sunday it is still running.
    assert released_weeks(D(2026, 4, 8), D(2026, 4, 14), D(2026, 4, 19)) == [
        D(2026, 4, 6)
    ]
    assert released_weeks(D(2026, 4, 8), D(2026, 4, 14), D(2026, 4, 20)) == [
        D(2026, 4, 6),
        D(2026, 4, 13),
    ]
    # Only the running week: nothing released.
    assert released_weeks(D(2026, 4, 13), D(2026, 4, 15), D(2026, 4, 16)) == []
    assert released_weeks(D(2026, 4, 15), D(2026, 4, 13), D(2026, 5, 1)) == []


def test_combine_released_sums_only_released_weeks() -> None:
    weekly = pd.DataFrame(
        {
            "week": [D(2026, 4, 6), D(2026, 4, 13), D(2026, 4, 6), D(2026, 4, 13)],
            "a": ["x", "x", "y", "y"],
            "minutes": [30.0, 15.0, 60.0, np.nan],
            "suppressed": [False, False, True, True],
        }
    )
    got = combine_released(weekly, ["a"], ["minutes"])
    want = pd.DataFrame({"a": ["x", "y"], "minutes": [45.0, np.nan], "weeks": [2, 0]})
    pd.testing.assert_frame_equal(got, want)


def test_pool_small_groups_hand_worked() -> None:
    # k = 5. Week 1, zone Z: A 9 people, B 3, C 2 -> B and C pooled (5: kept).
    # Week 1, zone Y: A 6, D 1 -> D's pool of 1 is dropped.
    counts = pd.DataFrame(
        {
            "week": [1, 1, 1, 1, 1],
            "zone_id": ["Z", "Z", "Z", "Y", "Y"],
            "department_id": ["A", "B", "C", "A", "D"],
            "v": [90, 30, 10, 60, 40],
            "people": [9, 3, 2, 6, 1],
        }
    )
    got = pool_small_groups(
        counts,
        period_keys=["week", "zone_id"],
        group_col="department_id",
        people_col="people",
        k=5,
    )
    want = pd.DataFrame(
        {
            "week": [1, 1, 1],
            "zone_id": ["Y", "Z", "Z"],
            "department_id": ["A", "A", "other"],
            "v": [60, 90, 40],
            "people": [6, 9, 5],
        }
    )
    pd.testing.assert_frame_equal(got, want)


def test_two_department_mix_no_longer_reveals_one_person() -> None:
    """Simpson of two departments gives each share exactly: 1 - p² - (1-p)².
    With a one-person department pooled away (pool under k dropped), the
    released mix holds only the big department, so the one person's share
    cannot be solved for."""
    counts = pd.DataFrame(
        {
            "week": [1, 1],
            "zone_id": ["Z", "Z"],
            "department_id": ["big", "solo"],
            "v": [80, 20],
            "people": [12, 1],
        }
    )
    naive = diversity_from_counts(
        counts.set_index(["zone_id", "department_id"])["v"],
        pd.Series({"Z": 13}).rename_axis("zone_id"),
        bucket_minutes=1.0,
        k=5,
    )
    p = 0.2  # solo's share, recoverable from the naive Simpson index
    assert naive["simpson"].iloc[0] == pytest.approx(1 - p**2 - (1 - p) ** 2)
    kept = pool_small_groups(
        counts,
        period_keys=["week", "zone_id"],
        group_col="department_id",
        people_col="people",
        k=5,
    )
    assert list(kept["department_id"]) == ["big"]


def _whole_weeks(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    weeks = released_weeks(start, end, dt.date.today())
    return weeks[0], weeks[-1] + dt.timedelta(days=6)


@pytest.mark.integration
def test_colocation_reads_equal_released_reference(
    database_url: str, settings: Any
) -> None:
    """read_colocation / read_colocation_trend (SQL over the daily counts)
    give the very frame the in-memory release rule computes from every
    stored bucket, over ranges, sources and site/floor/zone/department
    filters; a range is answered from the whole weeks it touches."""
    conn = connect(database_url)
    try:
        _load_badges(conn, settings)
        bm, k = float(settings.bucket_minutes), int(settings.k_anonymity)
        zone0 = str(store.read_metadata(conn)[1]["zone_id"].iloc[0])
        cases = [
            (D(2026, 4, 7), D(2026, 4, 13), None),
            (D(2026, 4, 8), D(2026, 4, 8), None),
            (D(2026, 4, 7), D(2026, 4, 13), Filters(floor="f1")),
            (D(2026, 4, 7), D(2026, 4, 8), Filters(department="hr")),
            (D(2026, 4, 7), D(2026, 4, 13), Filters(zone=zone0)),
        ]
        shown = mixed = 0
        for start, end, f in cases:
            lo, hi = _whole_weeks(start, end)
            pres = store.read_dept_presence(conn, lo, hi, f)
            for by_source in (True, False):
                want = released_matrix(pres, bm=bm, k=k, by_source=by_source)
                if f is not None and f.department:
                    keep = (want["department_a"] == f.department) | (
                        want["department_b"] == f.department
                    )
                    want = want[keep].reset_index(drop=True)
                got = store.read_colocation(
                    conn, start, end, filters=f, settings=settings, by_source=by_source
                )
                pd.testing.assert_frame_equal(got, want, obj=f"{start} {f} {by_source}")
                shown += int((~got["suppressed"]).sum())
            want_d = released_diversity(pres, bm=bm, k=k)
            got_d = store.read_diversity(conn, start, end, filters=f, settings=settings)
            pd.testing.assert_frame_equal(got_d, want_d, obj=f"diversity {start} {f}")
            mixed += int((~got_d["suppressed"]).sum())
            trend = store.read_colocation_trend(
                conn, start, end, filters=f, settings=settings
            )
            assert set(trend["week"]) <= {D(2026, 4, 6), D(2026, 4, 13)}
        none = store.read_colocation(
            conn, D(2026, 5, 1), D(2026, 5, 2), settings=settings
        )
        assert none.empty
        full = store.read_colocation(
            conn, D(2026, 4, 6), D(2026, 4, 19), settings=settings
        )
        # Both outcomes of k-suppression occur in the compared frames.
        assert shown > 0 and bool(full["suppressed"].any())
        assert mixed > 0
    finally:
        conn.close()


def _load_badges(conn: Any, settings: Any) -> None:
    rng = np.random.default_rng(7)
    zones = store.read_metadata(conn)[1]
    zones = zones[zones["floor_id"].isin(["f0", "f1"])]
    depts = ["finance", "hr", "it", "legal"]
    badge = [f"eq{i:02d}" for i in range(48)]
    n = 3000
    # Tue 2026-04-07, Wed 04-08 and Mon 04-13: two ISO weeks.
    day = np.array([0, 1, 6])[rng.integers(0, 3, n)]
    minute = rng.integers(8 * 60, 18 * 60, n)
    ts = pd.to_datetime("2026-04-07") + pd.to_timedelta(day * 1440 + minute, unit="min")
    ts_utc = ts.tz_localize(TZ).tz_convert("UTC")
    zone_ids = zones["zone_id"].to_numpy()
    who = rng.integers(0, len(badge), n)
    where = zone_ids[(who * 7 + rng.integers(0, 3, n)) % len(zone_ids)]
    with conn, conn.cursor() as cur:
        cur.execute("DELETE FROM badge_sightings; DELETE FROM badge_departments")
        copy_rows(
            cur,
            "badge_departments",
            ["badge", "department_id"],
            [(b, depts[i % len(depts)]) for i, b in enumerate(badge)],
        )
        copy_rows(
            cur,
            "badge_sightings",
            ["ts", "device_id", "zone_id", "badge", "rssi", "seq"],
            [
                (t.to_pydatetime(), "ble-eq", z, badge[w], -60.0, 1000 + i)
                for i, (t, z, w) in enumerate(zip(ts_utc, where, who, strict=True))
            ],
        )
    run_analyze(conn, settings, progress=lambda m: None)


# ------------------------------------------------------------ the attack itself
def _sightings(
    conn: Any, rows: list[tuple[str, str, str, str]], depts: dict[str, str]
) -> None:
    """rows: (local time, zone, badge, _) sighted every 5 min for an hour."""
    out = []
    seq = 0
    for start, zone, badge, _ in rows:
        t0 = pd.Timestamp(start, tz=TZ)
        for m in range(0, 60, 5):
            seq += 1
            t = (t0 + pd.Timedelta(minutes=m)).tz_convert("UTC").to_pydatetime()
            out.append((t, "ble-att", zone, badge, -60.0, seq))
    with conn, conn.cursor() as cur:
        cur.execute("DELETE FROM badge_sightings; DELETE FROM badge_departments")
        copy_rows(
            cur,
            "badge_departments",
            ["badge", "department_id"],
            sorted(depts.items()),
        )
        copy_rows(
            cur,
            "badge_sightings",
            ["ts", "device_id", "zone_id", "badge", "rssi", "seq"],
            out,
        )


@pytest.mark.integration
def test_differencing_two_ranges_recovers_nothing(
    database_url: str, settings: Any
) -> None:
    """Week of Mon 2026-06-01: 5 of finance and 5 of hr meet in a shared zone
    on Monday; on Friday 06-05 one of hr (h9) meets the same 5 of finance.
    Per-query suppression would show both ranges (≥ 5 on each side) and the
    difference (06-01..06-05) - (06-01..06-04) = h9's hour with finance.
    Released weeks answer both ranges with the same whole week, so the
    difference is 0; and a week whose cell covers one person of hr adds
    nothing to a two-week range."""
    conn = connect(database_url)
    try:
        zones = store.read_metadata(conn)[1]
        shared = str(zones.loc[zones["kind"] == "shared", "zone_id"].iloc[0])
        fin = [f"f{i}" for i in range(5)]
        hr = [f"h{i}" for i in range(5)]
        depts = {**{b: "finance" for b in fin}, **{b: "hr" for b in [*hr, "h9"]}}
        rows = [("2026-06-01 10:00", shared, b, "") for b in [*fin, *hr]]
        rows += [("2026-06-05 10:00", shared, b, "") for b in [*fin, "h9"]]
        # Week of 06-08: only h9 of hr meets finance (one person: suppressed).
        rows += [("2026-06-09 10:00", shared, b, "") for b in [*fin, "h9"]]
        _sightings(conn, rows, depts)
        run_analyze(conn, settings, progress=lambda m: None)

        def cell(start: dt.date, end: dt.date) -> pd.Series:
            m = store.read_colocation(
                conn, start, end, settings=settings, by_source=False
            )
            sel = (m["department_a"] == "finance") & (m["department_b"] == "hr")
            return m[sel].iloc[0]

        week = cell(D(2026, 6, 1), D(2026, 6, 5))
        four = cell(D(2026, 6, 1), D(2026, 6, 4))
        assert not week["suppressed"]
        # Monday's hour plus Friday's hour: both days are in the released week,
        # so both ranges are answered by it and their difference is nothing.
        assert week["minutes"] == four["minutes"] == 120.0
        assert week["minutes"] - four["minutes"] == 0.0
        two = cell(D(2026, 6, 1), D(2026, 6, 14))
        assert two["minutes"] == week["minutes"]  # week 06-08 adds nothing
        alone = cell(D(2026, 6, 8), D(2026, 6, 14))
        assert alone["suppressed"] and np.isnan(alone["minutes"])
        # The running week is not released at all.
        assert store.read_colocation(
            conn, D(2026, 6, 1), D(2026, 6, 7), settings=settings, today=D(2026, 6, 7)
        ).empty
    finally:
        conn.close()
