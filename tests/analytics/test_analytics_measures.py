"""Group peaks, group row sums, k-suppression, co-location, rooms, desk sharing, CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io

import numpy as np
import pandas as pd

from analytics.colocation import colocation_matrix, department_presence, diversity
from analytics.desks import desk_sharing
from analytics.groupsum import group_row_sums
from analytics.privacy import suppress
from analytics.reports import write_report
from analytics.rooms import booking_stats, room_sizing
from analytics.utilization import group_peaks


def test_group_peak_is_simultaneous_not_sum_of_peaks() -> None:
    # Room A has 4 people 09:00-09:05, room B 3 people 09:10-09:14 (same 15-min
    # bucket 09:00). Each room's peak: 4 and 3; their sum 7; but never at the
    # same time, so the group's peak is 4. In bucket 09:15 B continues until
    # 09:20 with 3 while A has 2 from 09:16: group peak 5 (not 3 + 2 = 5 by
    # accident: also checked against the handover at 09:30 below).
    t0 = 9 * 3600.0
    iv = pd.DataFrame(
        {
            "space_id": ["A", "B", "A", "A", "B"],
            "start": [t0, t0 + 600, t0 + 960, t0 + 1800, t0 + 1800],
            "end": [t0 + 300, t0 + 1200, t0 + 1800, t0 + 2700, t0 + 2700],
            "value": [4.0, 3.0, 2.0, 6.0, 5.0],
        }
    )
    groups = pd.DataFrame({"space_id": ["A", "B"], "group": [0, 0]})
    buckets = np.array([36, 37, 38, 39], dtype=np.int64)  # 09:00, 09:15, 09:30, 09:45
    got = group_peaks(iv, groups, buckets, 900)
    expected = pd.DataFrame(
        {"group": [0, 0, 0, 0], "bucket": buckets, "peak": [4.0, 5.0, 11.0, 0.0]}
    )
    pd.testing.assert_frame_equal(got, expected)


def test_group_peak_handover_at_same_instant_is_not_double_counted() -> None:
    # Desk 1 vacated at 09:20 exactly when desk 2 is taken: peak 1, not 2.
    iv = pd.DataFrame(
        {
            "space_id": ["d1", "d2"],
            "start": [32400.0, 33600.0],
            "end": [33600.0, 34200.0],
            "value": [1.0, 1.0],
        }
    )
    got = group_peaks(
        iv,
        pd.DataFrame({"space_id": ["d1", "d2"], "group": [0, 0]}),
        np.array([36, 37], dtype=np.int64),
        900,
    )
    assert list(got["peak"]) == [1.0, 1.0]


def test_suppression_at_exactly_k_minus_1_and_k_people() -> None:
    frame = pd.DataFrame(
        {"cell": ["x", "y"], "people": [4, 5], "minutes": [30.0, 45.0]}
    )
    got = suppress(frame, "people", ["minutes"], k=5)
    expected = pd.DataFrame(
        {
            "cell": ["x", "y"],
            "people": [np.nan, 5.0],
            "minutes": [np.nan, 45.0],
            "suppressed": [True, False],
        }
    )
    pd.testing.assert_frame_equal(got, expected)


def _presence(rows: list[tuple[str, int, str, list[str]]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "zone_id": [r[0] for r in rows],
            "bucket": [r[1] for r in rows],
            "source": "shared",
            "department_id": [r[2] for r in rows],
            "people": [len(r[3]) for r in rows],
            "badges": [r[3] for r in rows],
        }
    )


def test_colocation_matrix_minutes_lift_and_k_suppression() -> None:
    a5 = [f"a{i}" for i in range(5)]
    b5 = [f"b{i}" for i in range(5)]
    b4 = b5[:4]
    # Zone z, buckets 1..4 (15 min each):
    #  1: A (a0..a4) and B (b0..b3)   2: A and B (b0..b3)   3: A alone   4: C alone
    # A-B: 2 buckets = 30 min, but only 4 distinct B people -> suppressed at k=5.
    rows = [
        ("z", 1, "A", a5),
        ("z", 1, "B", b4),
        ("z", 2, "A", a5),
        ("z", 2, "B", b4),
        ("z", 3, "A", a5),
        ("z", 4, "C", ["c0"]),
    ]
    m = colocation_matrix(
        _presence(rows), bucket_minutes=15, k=5, by_source=False
    ).set_index(["department_a", "department_b"])
    assert bool(m.loc[("A", "B"), "suppressed"]) and np.isnan(
        m.loc[("A", "B"), "minutes"]
    )
    assert (
        not bool(m.loc[("A", "A"), "suppressed"])
        and m.loc[("A", "A"), "minutes"] == 45.0
    )
    # With a fifth B person in bucket 2 the cell has exactly k = 5: shown.
    rows[3] = ("z", 2, "B", b5)
    m = colocation_matrix(
        _presence(rows), bucket_minutes=15, k=5, by_source=False
    ).set_index(["department_a", "department_b"])
    cell = m.loc[("A", "B")]
    assert not bool(cell["suppressed"])
    assert cell["minutes"] == 30.0 and cell["people_a"] == 5 and cell["people_b"] == 5
    # Expected: A present 45 min, B 30 min, anyone present 60 min: 45*30/60 = 22.5.
    assert cell["expected_minutes"] == 22.5
    assert cell["lift"] == 30.0 / 22.5
    assert m.loc[("B", "A"), "minutes"] == 30.0  # symmetric
    assert bool(m.loc[("C", "C"), "suppressed"])  # one person


def test_department_presence_from_sightings() -> None:
    ts = pd.to_datetime(
        [
            "2026-03-02T08:01Z",
            "2026-03-02T08:05Z",
            "2026-03-02T08:16Z",
            "2026-03-02T08:02Z",
        ],
        utc=True,
    )
    s = pd.DataFrame(
        {
            "ts": ts,
            "zone_id": ["z", "z", "z", "z"],
            "badge": ["p1", "p1", "p2", "unknown"],
        }
    )
    reg = pd.DataFrame({"badge": ["p1", "p2"], "department_id": ["A", "A"]})
    zones = pd.DataFrame({"zone_id": ["z"], "kind": ["meeting"]})
    got = department_presence(s, reg, zones, 900)
    b = int(pd.Timestamp("2026-03-02T08:00Z").value // 10**9 // 900)
    expected = pd.DataFrame(
        {
            "zone_id": ["z", "z"],
            "bucket": [b, b + 1],
            "source": ["meeting", "meeting"],
            "department_id": ["A", "A"],
            "people": [1, 1],
            "badges": [["p1"], ["p2"]],
        }
    )
    pd.testing.assert_frame_equal(got, expected)


def test_diversity_index_and_suppression() -> None:
    ppl = [f"p{i}" for i in range(6)]
    # Shared zone s: A 3 people in one bucket, B 3 people in one bucket: shares 1/2, 1/2.
    rows = [("s", 1, "A", ppl[:3]), ("s", 2, "B", ppl[3:]), ("t", 1, "A", ppl[:2])]
    got = diversity(_presence(rows), bucket_minutes=15, k=5).set_index("zone_id")
    assert got.loc["s", "simpson"] == 0.5
    assert abs(got.loc["s", "shannon"] - np.log(2)) < 1e-12
    assert bool(got.loc["t", "suppressed"]) and np.isnan(got.loc["t", "simpson"])


def test_room_sizing_and_bookings() -> None:
    # Room r (8 seats): 2 people for 3000 s, 3 for 600 s, 7 for 400 s.
    # p90 by time: cumulative shares 0.75, 0.90 (3 people), 1.0 -> p90 = 3.
    # mean = (2*3000 + 3*600 + 7*400)/4000 = 10600/4000 = 2.65; <= 4 people all the time but 400 s: 90 %.
    hc = pd.DataFrame(
        {
            "day": dt.date(2026, 3, 2),
            "space_id": "r",
            "people": [2, 3, 7],
            "seconds": [3000.0, 600.0, 400.0],
        }
    )
    rooms = pd.DataFrame(
        {
            "space_id": ["r"],
            "kind": ["meeting_room"],
            "capacity": [8],
            "zone_id": ["z"],
            "floor_id": ["f"],
        }
    )
    got = room_sizing(hc, rooms).iloc[0]
    assert got["mean_people"] == 2.65
    assert (
        got["p90_people"] == 3 and got["median_people"] == 2 and got["max_people"] == 7
    )
    assert got["half_or_less_pct"] == 90.0
    assert (
        got["recommended_seats"] == 4  # ceil(3 x 1.2)
        and got["seats_change"] == -4
        and got["verdict"] == "too_big"
    )
    # Bookings: 09:00-09:30 booked, room occupied only in bucket 09:15; a booking
    # 10:00-10:15 with no presence. Presence 11:00-11:15 unbooked.
    day0 = pd.Timestamp("2026-03-02T09:00Z")
    b0 = int(day0.value // 10**9 // 900)
    rb = pd.DataFrame(
        {
            "level_id": "r",
            "bucket": [b0, b0 + 1, b0 + 4, b0 + 8],
            "occupied_s": [0.0, 900.0, 0.0, 900.0],
            "measured_s": 900.0,
        }
    )
    bookings = pd.DataFrame(
        {
            "room_id": ["r", "r"],
            "start": [day0, day0 + pd.Timedelta("60min")],
            "end": [day0 + pd.Timedelta("30min"), day0 + pd.Timedelta("75min")],
        }
    )
    st = booking_stats(bookings, rb, 900).iloc[0]
    assert st["booked_s"] == 2700.0 and st["no_show_s"] == 1800.0
    assert abs(st["no_show_pct"] - 100 * 1800 / 2700) < 1e-9
    assert st["unbooked_use_pct"] == 50.0


def test_desk_sharing_p90_of_daily_peaks() -> None:
    # 10 days with daily peaks 1..10 of 12 desks: p90 (linear) = 9.1 -> 10 desks needed.
    days = [dt.date(2026, 3, 1) + dt.timedelta(days=i) for i in range(10)]
    lb = pd.DataFrame(
        {
            "level": "department",
            "level_id": "A",
            "day": days,
            "desks_measured": 12,
            "peak_desks_occupied": np.arange(1.0, 11.0),
        }
    )
    got = desk_sharing(lb).iloc[0]
    assert abs(got["p90_daily_peak"] - 9.1) < 1e-9
    assert got["desks_needed"] == 10 and got["desks_spare"] == 2


def test_csv_neutralizes_formulas_and_writes_iso_offsets() -> None:
    frame = pd.DataFrame(
        {
            "name": ['=HYPERLINK("x")', "+1", "-2", "@SUM(A1)", "\tx", "\rx", "ok"],
            "value": [-1.5, 1, 2, 3, 4, 5, 6],
            "ts": pd.to_datetime(["2026-03-02T08:00Z"] * 7, utc=True),
        }
    )
    buf = io.BytesIO()
    write_report(frame, "csv", buf)
    rows = list(csv.reader(io.StringIO(buf.getvalue().decode(), newline="")))
    assert rows[0] == ["name", "value", "ts"]
    assert [r[0] for r in rows[1:]] == [
        '\'=HYPERLINK("x")',
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        "ok",
    ]
    assert rows[1][1] == "-1.5"  # numbers are not touched
    assert rows[1][2] == "2026-03-02T08:00:00+00:00"


def test_hour_of_week_mean_median_p90_max_over_weeks() -> None:
    from analytics.patterns import hour_of_week

    # Group g (capacity 10): Monday 09:00-10:00 local in two weeks, four 15-min
    # buckets each. Week 1: 2 people the whole hour; week 2: 4 people.
    # Per week the hour's mean is 2 and 4: mean 3, median 3, p90 2 + 0.9*2 = 3.8, max 4.
    rows = []
    for monday, people in (("2026-03-02", 2.0), ("2026-03-09", 4.0)):
        for q in range(4):
            ts = pd.Timestamp(f"{monday} 09:00", tz="Europe/Amsterdam") + pd.Timedelta(
                minutes=15 * q
            )
            rows.append(
                {
                    "bucket_start": ts.tz_convert("UTC"),
                    "day": ts.date(),
                    "level": "floor",
                    "level_id": "g",
                    "people_s": people * 900,
                    "capacity_s": 10 * 900.0,
                    "peak_people": people,
                }
            )
    got = hour_of_week(pd.DataFrame(rows), "Europe/Amsterdam", 900).iloc[0]
    assert (got["weekday"], got["hour"], got["weeks"]) == (0, 9, 2)
    assert (got["people_mean"], got["people_median"], got["people_max"]) == (
        3.0,
        3.0,
        4.0,
    )
    assert abs(got["people_p90"] - 3.8) < 1e-9
    assert got["utilization_pct"] == 30.0 and got["utilization_max_pct"] == 40.0
    assert got["peak_people"] == 4.0


def test_group_row_sums_by_hand_and_bit_identical_to_gathering() -> None:
    # Rows 1, 2, 4, 8. Groups: all four rows (consecutive: 15), rows 1 and 3
    # (not consecutive: 2 + 8 = 10), row 2 alone (4), row 3 alone (the last
    # row: 8).
    mat = np.array([[1.0], [2.0], [4.0], [8.0]])
    members = np.array([0, 1, 2, 3, 1, 3, 2, 3])
    firsts = np.array([0, 4, 6, 7])
    np.testing.assert_array_equal(
        group_row_sums(mat, members, firsts), [[15.0], [10.0], [4.0], [8.0]]
    )
    # Values of very different magnitudes, so the order of the additions shows
    # in the last bits; consecutive and scattered groups mixed.
    rng = np.random.default_rng(3)
    mat = rng.standard_normal((50, 7)) * 10.0 ** rng.integers(-8, 9, (50, 7))
    groups = [np.arange(0, 50), np.arange(10, 20), np.array([3, 7, 1]), np.array([49])]
    groups += [np.sort(rng.choice(50, 12, replace=False)) for _ in range(5)]
    members = np.concatenate(groups)
    firsts = np.r_[0, np.cumsum([len(g) for g in groups])[:-1]]
    fast = group_row_sums(mat, members, firsts)
    gathered = group_row_sums(mat, members, firsts, gather_all=True)
    assert fast.tobytes() == gathered.tobytes()
    np.testing.assert_allclose(fast[1], mat[10:20].sum(axis=0))


def test_keep_freed_memory_applies_on_glibc() -> None:
    # This machine's Python runs on glibc: every mallopt call must succeed.
    import platform

    from analytics.malloc import keep_freed_memory

    assert keep_freed_memory() is (platform.libc_ver()[0] == "glibc")
