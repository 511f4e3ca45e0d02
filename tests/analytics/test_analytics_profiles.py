"""Hand-built cases: hour-of-week profiles of single spaces, no-show rate per
organiser department with k-suppression, and how filters narrow group rows."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from analytics.patterns import space_hour_of_week
from analytics.rooms import department_no_show
from analytics.store import narrow_groups


def test_space_hour_of_week_over_three_weeks() -> None:
    spaces = pd.DataFrame({"space_id": ["d", "r"], "capacity": [1, 4]})
    # Desk d, Mondays 09:00-10:00 local in three weeks:
    #   wk 1: measured 3600 s, 1800 people*s -> 0.5 people, 50 %
    #   wk 2: measured 1800 s (half the hour unknown), 1800 -> 1.0 people, 100 %
    #   wk 3: measured 3600 s, nobody -> 0.0
    # mean 0.5, median 0.5, p90 (linear on [0, 0.5, 1]) = 0.5 + 0.8 * 0.5 = 0.9, max 1.
    # Room r (4 seats), Tuesday 14:00 of week 1: 3 people all hour -> 75 %, peak 4.
    hourly = pd.DataFrame(
        {
            "day": [
                dt.date(2026, 3, 2),
                dt.date(2026, 3, 9),
                dt.date(2026, 3, 16),
                dt.date(2026, 3, 3),
            ],
            "hour": [9, 9, 9, 14],
            "space_id": ["d", "d", "d", "r"],
            "measured_s": [3600.0, 1800.0, 3600.0, 3600.0],
            "occupied_s": [1800.0, 1800.0, 0.0, 3600.0],
            "people_s": [1800.0, 1800.0, 0.0, 10800.0],
            "peak_people": [1.0, 1.0, 0.0, 4.0],
        }
    )
    got = space_hour_of_week(hourly, spaces)
    expected = pd.DataFrame(
        {
            "level": ["space", "space"],
            "level_id": ["d", "r"],
            "weekday": [0, 1],
            "hour": [9, 14],
            "weeks": [3, 1],
            "people_mean": [0.5, 3.0],
            "people_median": [0.5, 3.0],
            "people_p90": [0.9, 3.0],
            "people_max": [1.0, 3.0],
            "utilization_pct": [50.0, 75.0],
            "utilization_p90_pct": [90.0, 75.0],
            "utilization_max_pct": [100.0, 75.0],
            "peak_people": [1.0, 4.0],
        }
    )
    pd.testing.assert_frame_equal(
        got[expected.columns].reset_index(drop=True),
        expected,
        check_dtype=False,
        atol=1e-9,
    )


def test_department_no_show_with_k_suppression_at_k_minus_1_and_k() -> None:
    day0 = pd.Timestamp("2026-03-02T09:00Z")
    b0 = int(day0.value // 10**9 // 900)
    # Room r: 09:00 occupied; 09:15, 09:30 and 10:00 measured but empty; 11:00 no data.
    rb = pd.DataFrame(
        {
            "level_id": "r",
            "bucket": [b0, b0 + 1, b0 + 2, b0 + 4],
            "occupied_s": [900.0, 0.0, 0.0, 0.0],
            "measured_s": 900.0,
        }
    )

    def at(minutes: int) -> pd.Timestamp:
        return day0 + pd.Timedelta(minutes=minutes)

    rows = [
        # finance, 3 bookings (= k): 09:00-09:30 -> 1800 booked, 900 no-show;
        # 10:00-10:15 -> 900 booked, 900 no-show; 11:00-11:30 unmeasured -> 0.
        # booked 2700, no-show 1800 -> 66.7 %.
        ("finance", 0, 30),
        ("finance", 60, 75),
        ("finance", 120, 150),
        # hr, 2 bookings (= k - 1): suppressed.
        ("hr", 15, 45),
        ("hr", 0, 15),
        # legal, 3 bookings but only 2 members: suppressed.
        ("legal", 0, 15),
        ("legal", 0, 15),
        ("legal", 15, 30),
        # no organiser department: left out.
        (None, 0, 60),
    ]
    bookings = pd.DataFrame(
        {
            "room_id": "r",
            "start": [at(a) for _, a, _ in rows],
            "end": [at(b) for _, _, b in rows],
            "organiser_department": [d for d, _, _ in rows],
        }
    )
    heads = pd.Series({"finance": 10, "hr": 10, "legal": 2})
    got = department_no_show(bookings, rb, 900, headcount=heads, k=3).set_index(
        "department_id"
    )
    assert list(got.index) == ["finance", "hr", "legal"]
    f = got.loc["finance"]
    assert not f["suppressed"] and f["bookings"] == 3
    assert f["booked_s"] == 2700.0 and f["no_show_s"] == 1800.0
    assert abs(f["no_show_pct"] - 100.0 * 1800 / 2700) < 1e-9
    for dept in ("hr", "legal"):
        row = got.loc[dept]
        assert bool(row["suppressed"])
        assert np.isnan(row["no_show_pct"]) and np.isnan(row["booked_s"])
        assert np.isnan(row["bookings"])
    # At k = 2 hr (2 bookings) is shown: 09:15-09:45 all no-show (1800 s),
    # 09:00-09:15 used -> booked 2700, no-show 1800.
    hr = department_no_show(bookings, rb, 900, headcount=heads, k=2).set_index(
        "department_id"
    )
    assert not hr.loc["hr", "suppressed"]
    assert (hr.loc["hr", "booked_s"], hr.loc["hr", "no_show_s"]) == (2700.0, 1800.0)


def _spaces() -> pd.DataFrame:
    # Building B: floor F0 has zones zA0 (dept A), zB0 (dept B), m0 (meeting
    # room r0, no department); floor F1 has zone zA1 (dept A).
    rows = [
        ("a0", "desk", "zA0", "F0", "A"),
        ("b0", "desk", "zB0", "F0", "B"),
        ("r0", "meeting_room", "m0", "F0", None),
        ("a1", "desk", "zA1", "F1", "A"),
    ]
    frame = pd.DataFrame(
        rows, columns=["space_id", "kind", "zone_id", "floor_id", "department_id"]
    )
    frame["building_id"] = "B"
    frame["site_id"] = "S"
    frame["capacity"] = 1
    return frame


class _F:
    def __init__(self, **kw: str) -> None:
        self.site = kw.get("site")
        self.building = kw.get("building")
        self.floor = kw.get("floor")
        self.zone = kw.get("zone")
        self.department = kw.get("department")


def test_filters_narrow_group_levels() -> None:
    sp = _spaces()

    def ids(level: str, **kw: str) -> tuple[str, list[str]]:
        lvl, keys = narrow_groups(sp, level, _F(**kw))
        return lvl, sorted(keys["level_id"])

    # A floor filter at building level: the building row would cover F1 too,
    # so the floor's own row is returned.
    assert ids("building", floor="F0") == ("floor", ["F0"])
    # A department filter at building level: floors hold other departments too.
    assert ids("building", department="A") == ("department", ["A"])
    # A floor filter at department level: A spans F0 and F1 -> zones of F0.
    assert ids("department", floor="F0") == ("zone", ["m0", "zA0", "zB0"])
    # Groups entirely inside the filter are returned at the asked level.
    assert ids("zone", department="A") == ("zone", ["zA0", "zA1"])
    assert ids("floor", floor="F1") == ("floor", ["F1"])
    assert ids("building", site="S") == ("building", ["B"])
    assert ids("room", floor="F0") == ("room", ["r0"])
    # Floor and department together at building level: zone zA0 only.
    assert ids("building", floor="F0", department="A") == ("zone", ["zA0"])
    # Nothing matches: no rows.
    assert ids("floor", floor="F9") == ("floor", [])


def test_space_hours_on_the_25_hour_day_and_working_hours_flag() -> None:
    from analytics.calendar import Calendar, bucket_frame
    from analytics.utilization import UseThresholds, space_daily_hourly

    USE = UseThresholds(
        desk_min_hour_s=300,
        desk_min_day_s=1800,
        collab_min_hour_s=600,
        collab_min_day_s=3600,
    )

    cal = Calendar(timezone="Europe/Amsterdam")
    day = dt.date(2026, 10, 26)  # Monday after the 25 h Sunday
    sunday = dt.date(2026, 10, 25)
    # Desk d occupied 00:00-02:00 UTC on Sunday 25 Oct = local 02:00-03:00
    # twice (CEST, then CET): local hour 2 holds 7200 s, not a working hour.
    # Monday 07:30-08:30 local (06:30-07:30 UTC): hour 7 (not working, 1800 s)
    # and hour 8 (working, 1800 s).
    iv = pd.DataFrame(
        {
            "space_id": ["d", "d"],
            "start": [
                pd.Timestamp("2026-10-25T00:00Z").value / 1e9,
                pd.Timestamp("2026-10-26T06:30Z").value / 1e9,
            ],
            "end": [
                pd.Timestamp("2026-10-25T02:00Z").value / 1e9,
                pd.Timestamp("2026-10-26T07:30Z").value / 1e9,
            ],
            "value": [1.0, 1.0],
        }
    )
    stuck = pd.DataFrame({"space_id": [], "start": [], "end": [], "value": []})
    grid = bucket_frame(cal, sunday, day, available_only=False)
    assert len(grid[grid["day"] == sunday]) == 25 * 4
    daily, hours = space_daily_hourly(
        iv,
        stuck,
        pd.DataFrame({"space_id": ["d"], "kind": ["desk"]}),
        grid,
        cal,
        use=USE,
    )
    got = hours[["day", "hour", "occupied_s", "measured_s", "in_working_hours"]]
    expected = pd.DataFrame(
        {
            "day": [sunday, day, day],
            "hour": [2, 7, 8],
            "occupied_s": [7200.0, 1800.0, 1800.0],
            "measured_s": [7200.0, 1800.0, 1800.0],
            "in_working_hours": [False, False, True],
        }
    )
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True), expected, check_dtype=False
    )
    # The daily rollup stays working hours only: Monday 1800 s occupied.
    d = daily.set_index("day")
    assert d.loc[day, "occupied_s"] == 1800.0 and d.loc[day, "available_s"] == 36000.0
    assert d.loc[sunday, "occupied_s"] == 0.0
    assert d.loc[sunday, "occupied_total_s"] == 7200.0
