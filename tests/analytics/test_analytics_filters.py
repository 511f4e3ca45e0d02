"""On a real database: filters narrow group rows, hour-of-week per desk and
the no-show rate per organiser department (k-suppressed), through the read
helpers and the export reports."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analytics import store
from analytics.pipeline import run_analyze
from analytics.reports import REPORTS, Filters, build_report
from occupancy.db import connect, copy_rows
from occupancy.settings import load_settings

pytestmark = pytest.mark.integration

TZ = "Europe/Amsterdam"
DAY = dt.date(2026, 3, 2)  # a Monday
F0_DESK = "f0-operations-d001"
F1_DESK = "f1-finance-d001"
ROOM = "f0-r05"


def T(text: str) -> dt.datetime:
    return pd.Timestamp(f"2026-03-02 {text}", tz=TZ).tz_convert("UTC").to_pydatetime()


def _desk(space: str, start: str, end: str) -> list[tuple[Any, ...]]:
    """presence 1 at start, heartbeats (1) every 5 min, presence 0 at end."""
    hb = pd.date_range(
        pd.Timestamp(f"2026-03-02 {start}", tz=TZ),
        pd.Timestamp(f"2026-03-02 {end}", tz=TZ),
        freq="5min",
        inclusive="neither",
    )
    dev = "ds-" + space
    return [
        (T(start), dev, space, "presence", 1.0),
        *[
            (t.tz_convert("UTC").to_pydatetime(), dev, space, "heartbeat", 1.0)
            for t in hb
        ],
        (T(end), dev, space, "presence", 0.0),
    ]


@pytest.fixture(scope="module")
def analyzed(database_url: str) -> Any:
    settings = load_settings({"database_url": database_url})
    conn = connect(database_url)
    # f0 desk 09:00-11:00, f1 desk 10:00-12:00: the building holds 2 people at
    # 10:00-11:00, floor f0 never more than 1.
    rows = _desk(F0_DESK, "09:00", "11:00") + _desk(F1_DESK, "10:00", "12:00")
    # f1 desk again in the evening, outside working hours (08:00-18:00).
    rows += _desk(F1_DESK, "19:00", "19:30")
    # Room: 2 people 09:00-10:00 (a count every 5 min), then 0 (holds all day).
    rows += [
        (T(f"09:{m:02d}"), "rc-" + ROOM, ROOM, "count", 2.0) for m in range(0, 60, 5)
    ]
    rows.append((T("10:00"), "rc-" + ROOM, ROOM, "count", 0.0))
    with conn, conn.cursor() as cur:
        copy_rows(
            cur,
            "sensor_events",
            ["ts", "device_id", "space_id", "kind", "value", "seq"],
            [(*r, i) for i, r in enumerate(rows)],
        )
    run_analyze(conn, settings, progress=lambda m: None)
    try:
        yield conn, settings
    finally:
        conn.close()


def test_floor_filter_at_building_level_returns_the_floor_row(analyzed: Any) -> None:
    conn, settings = analyzed
    whole = store.read_utilization(conn, DAY, DAY, level="building", settings=settings)
    # The building: 3 sensed spaces; peak 3 at 09:00-10:00 (f0 desk + 2 in the room).
    assert list(whole["level_id"]) == ["main"]
    assert (whole["spaces"].iloc[0], whole["peak_people"].iloc[0]) == (3, 3.0)
    f0 = store.read_utilization(
        conn, DAY, DAY, level="building", filters=Filters(floor="f0"), settings=settings
    )
    # Not the building row: the f0 row over its 2 spaces (desk, room).
    assert list(zip(f0["level"], f0["level_id"], strict=True)) == [("floor", "f0")]
    assert (f0["spaces"].iloc[0], f0["peak_people"].iloc[0]) == (2, 3.0)
    f1 = store.read_utilization(
        conn, DAY, DAY, level="building", filters=Filters(floor="f1"), settings=settings
    )
    # f1: one desk, occupied 10:00-12:00, measured until 12:20 (timeout).
    assert list(f1["level_id"]) == ["f1"] and f1["peak_people"].iloc[0] == 1.0
    assert f1["spaces"].iloc[0] == 1
    assert f1["time_used_pct"].iloc[0] == pytest.approx(100 * 7200 / 8400)
    # Same rule in the hour-of-week profile and the export.
    how = build_report(
        conn,
        "hour-of-week",
        DAY,
        DAY,
        level="building",
        filters=Filters(floor="f1"),
        settings=settings,
    )
    assert set(how["level"]) == {"floor"} and set(how["level_id"]) == {"f1"}
    h = how.set_index("hour")
    # f1 desk: 10:00-12:00 occupied -> 1 person at 10 and 11; 12:00-12:20 vacant.
    assert h.loc[10, "people_mean"] == 1.0 and h.loc[11, "people_mean"] == 1.0
    assert h.loc[12, "people_max"] == 0.0


def test_hour_of_week_per_desk(analyzed: Any) -> None:
    conn, settings = analyzed
    frame = store.read_hour_of_week(
        conn, DAY, DAY, level="space", filters=Filters(floor="f0"), settings=settings
    )
    assert set(frame["level_id"]) == {F0_DESK, ROOM}
    d = frame[frame["level_id"] == F0_DESK].set_index("hour")
    # Occupied 09:00-11:00, vacant 11:00 held 20 min (heartbeat timeout).
    assert list(d.index) == [9, 10, 11]
    assert list(d["people_mean"]) == [1.0, 1.0, 0.0]
    assert list(d["utilization_pct"]) == [100.0, 100.0, 0.0]
    assert (d["weekday"] == 0).all() and (d["weeks"] == 1).all()
    r = frame[frame["level_id"] == ROOM].set_index("hour")
    # 6 seats: 2 people 09:00-10:00 -> 33.3 %, then 0 until 18:00.
    assert r.loc[9, "people_mean"] == 2.0 and r.loc[9, "peak_people"] == 2.0
    assert r.loc[9, "utilization_pct"] == pytest.approx(100 * 2 / 6)
    assert r.loc[17, "people_mean"] == 0.0 and list(r.index) == list(range(9, 18))
    exported = build_report(
        conn, "hour-of-week", DAY, DAY, level="space", settings=settings
    )
    assert list(exported.columns) == REPORTS["hour-of-week"].names("space")
    assert set(exported["level_id"]) == {F0_DESK, F1_DESK, ROOM}


def test_no_show_per_department_k_suppressed(analyzed: Any) -> None:
    conn, settings = analyzed
    k = int(settings.k_anonymity)
    assert k == 5
    q = pd.Timedelta(minutes=15)
    t9 = pd.Timestamp(T("09:00"))
    # finance, 5 bookings (= k) of 15 min: 09:00, 09:15, 09:30 used; 10:00,
    # 10:30 empty -> booked 4500 s, no-show 1800 s = 40 %.
    # hr, 4 bookings (= k - 1), 11:00-12:00: suppressed.
    starts = [0, 1, 2, 4, 6]
    rows = [("finance", t9 + s * q) for s in starts] + [
        ("hr", t9 + s * q) for s in (8, 9, 10, 11)
    ]
    bookings = pd.DataFrame(
        {
            "room_id": ROOM,
            "start": [t for _, t in rows],
            "end": [t + q for _, t in rows],
            "organiser_department": [d for d, _ in rows],
            "expected_attendees": 2,
        }
    )
    store.import_bookings(conn, bookings)
    got = store.read_department_no_show(conn, DAY, DAY, settings=settings).set_index(
        "department_id"
    )
    fin = got.loc["finance"]
    assert not fin["suppressed"] and fin["bookings"] == 5
    assert (fin["booked_s"], fin["no_show_s"], fin["no_show_pct"]) == (
        4500.0,
        1800.0,
        40.0,
    )
    hr = got.loc["hr"]
    assert bool(hr["suppressed"]) and np.isnan(hr["no_show_pct"])
    report = build_report(
        conn, "rooms", DAY, DAY, level="department", settings=settings
    )
    assert list(report.columns) == REPORTS["rooms"].names("department")
    assert list(report["department_id"]) == ["finance", "hr"]
    only = build_report(
        conn,
        "rooms",
        DAY,
        DAY,
        level="department",
        filters=Filters(department="finance"),
        settings=settings,
    )
    assert list(only["department_id"]) == ["finance"]
    # The room row: 9 bookings, 2 h 15 booked; used 09:00-09:45 only.
    room = build_report(conn, "rooms", DAY, DAY, settings=settings).set_index(
        "space_id"
    )
    assert room.loc[ROOM, "bookings"] == 9
    assert room.loc[ROOM, "no_show_pct"] == pytest.approx(100 * 6 * 900 / (9 * 900))


def test_export_all_hours_flag(analyzed: Any, database_url: str) -> None:
    from click.testing import CliRunner

    from app.cli import main

    args = ["--database-url", database_url, "export", "hour-of-week"]
    args += ["--from", "2026-03-02", "--to", "2026-03-02", "--level", "floor"]
    args += ["--floor", "f1"]
    work = CliRunner().invoke(main, args)
    every = CliRunner().invoke(main, [*args, "--all-hours"])
    assert work.exit_code == 0 and every.exit_code == 0, work.output + every.output
    hours_work = set(pd.read_csv(io.StringIO(work.stdout))["hour"])
    hours_every = set(pd.read_csv(io.StringIO(every.stdout))["hour"])
    assert hours_work == {10, 11, 12} and hours_every == {10, 11, 12, 19}


def test_working_hours_only_false_shows_the_evening(analyzed: Any) -> None:
    conn, settings = analyzed
    work = Filters(floor="f1")
    every = Filters(floor="f1", working_hours_only=False)
    how = store.read_hour_of_week(
        conn, DAY, DAY, level="floor", filters=work, settings=settings
    )
    assert sorted(how["hour"]) == [10, 11, 12]
    how_all = store.read_hour_of_week(
        conn, DAY, DAY, level="floor", filters=every, settings=settings
    ).set_index("hour")
    assert sorted(how_all.index) == [10, 11, 12, 19]
    # Evening 19:00-19:30 occupied, vacant until the 20-min timeout (19:50):
    # 4 buckets with data -> 1800 people*s / 3600 s = 0.5 people; utilization
    # 1800 / (1 seat x 3000 s measured) = 60 %. Daytime hours unchanged.
    assert how_all.loc[19, "people_mean"] == 0.5
    assert how_all.loc[19, "utilization_pct"] == pytest.approx(60.0)
    assert how_all.loc[10, "people_mean"] == 1.0
    # Floor f1 time used: working hours 7200 / 8400 s; every hour
    # (7200 + 1800) / (8400 + 3000) s.
    u_work = store.read_utilization(
        conn, DAY, DAY, level="floor", filters=work, settings=settings
    )
    u_all = store.read_utilization(
        conn, DAY, DAY, level="floor", filters=every, settings=settings
    )
    assert u_work["time_used_pct"].iloc[0] == pytest.approx(100 * 7200 / 8400)
    assert u_all["time_used_pct"].iloc[0] == pytest.approx(100 * 9000 / 11400)
    # Single desk: the evening hour's mean over its measured time 1800 / 3000.
    desk = store.read_hour_of_week(
        conn, DAY, DAY, level="space", filters=every, settings=settings
    ).set_index("hour")
    assert desk.loc[19, "people_mean"] == pytest.approx(0.6)
    sp = store.read_utilization(
        conn, DAY, DAY, level="space", filters=every, settings=settings
    ).set_index("space_id")
    assert sp.loc[F1_DESK, "time_used_pct"] == pytest.approx(100 * 9000 / 11400)
    assert np.isnan(sp.loc[F1_DESK, "dwell_s"]) and np.isnan(
        sp.loc[F1_DESK, "days_used"]
    )
    sp_work = store.read_utilization(
        conn, DAY, DAY, level="space", filters=work, settings=settings
    ).set_index("space_id")
    assert sp_work.loc[F1_DESK, "dwell_s"] == 7200.0
    exported = build_report(
        conn, "hour-of-week", DAY, DAY, level="floor", filters=every, settings=settings
    )
    assert 19 in set(exported["hour"])
