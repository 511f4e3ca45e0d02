"""Sessionization and per-space daily rollups on hand-built cases."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from analytics.calendar import Calendar, bucket_frame
from analytics.sessions import sessions, space_intervals, state_intervals
from analytics.utilization import UseThresholds, space_daily

TZ = "Europe/Amsterdam"

USE = UseThresholds(
    desk_min_hour_s=300,
    desk_min_day_s=1800,
    collab_min_hour_s=600,
    collab_min_day_s=3600,
)


def T(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ).tz_convert("UTC")


def S(text: str) -> float:
    return T(text).value / 1e9


def events(rows: list[tuple[str, str, str, float | None]]) -> pd.DataFrame:
    return pd.DataFrame(
        [(T(ts), space, kind, value) for ts, space, kind, value in rows],
        columns=["ts", "space_id", "kind", "value"],
    )


SPACES = pd.DataFrame(
    {"space_id": ["d1", "d2", "r1"], "kind": ["desk", "desk", "meeting_room"]}
)


def _daily(
    ev: pd.DataFrame, first: dt.date, last: dt.date, **kw: float
) -> pd.DataFrame:
    cal = Calendar(timezone=TZ)
    params = {
        "heartbeat_timeout_s": 1200.0,
        "gap_bridge_s": 900.0,
        "stuck_s": 16 * 3600.0,
    }
    params.update(kw)
    horizon = S(str(last + dt.timedelta(days=2)))
    iv, stuck = space_intervals(ev, horizon_s=horizon, **params)
    grid = bucket_frame(cal, first, last, available_only=False)
    return space_daily(
        iv,
        stuck,
        SPACES,
        grid,
        cal,
        use=USE,
    )


def test_gap_bridging_short_gap_counts_as_occupied_long_gap_does_not() -> None:
    # Heartbeats every 5 min keep the state known. d1: occupied 09:00-09:30,
    # vacant 09:30-09:40 (10 min < 15: bridged), occupied 09:40-10:00, vacant after.
    # d2: same but the gap is 20 min (not bridged).
    rows = []
    for space, gap_end in (("d1", "09:40"), ("d2", "09:50")):
        rows += [
            ("2026-03-02 09:00", space, "presence", 1.0),
            ("2026-03-02 09:30", space, "presence", 0.0),
            (f"2026-03-02 {gap_end}", space, "presence", 1.0),
            ("2026-03-02 10:00", space, "presence", 0.0),
        ]
    # Heartbeats that repeat the state every 5 min from 09:00 to 10:30.
    hb = pd.date_range(T("2026-03-02 09:05"), T("2026-03-02 10:30"), freq="5min")
    ev = events(rows)
    for space, gap_end in (("d1", "09:40"), ("d2", "09:50")):
        occ = (hb < T("2026-03-02 09:30")) | (
            (hb >= T(f"2026-03-02 {gap_end}")) & (hb < T("2026-03-02 10:00"))
        )
        ev = pd.concat(
            [
                ev,
                pd.DataFrame(
                    {
                        "ts": hb,
                        "space_id": space,
                        "kind": "heartbeat",
                        "value": occ.astype(float),
                    }
                ),
            ]
        )
    iv, _ = space_intervals(
        ev,
        heartbeat_timeout_s=1200,
        gap_bridge_s=900,
        stuck_s=57600,
        horizon_s=S("2026-03-03"),
    )
    got = sessions(iv)
    # d1: one session 09:00-10:00 (3600 s); d2: 09:00-09:30 and 09:50-10:00.
    expected = pd.DataFrame(
        {
            "space_id": ["d1", "d2", "d2"],
            "start": [
                S("2026-03-02 09:00"),
                S("2026-03-02 09:00"),
                S("2026-03-02 09:50"),
            ],
            "end": [
                S("2026-03-02 10:00"),
                S("2026-03-02 09:30"),
                S("2026-03-02 10:00"),
            ],
            "duration_s": [3600.0, 1800.0, 600.0],
            "end_reason": ["vacant", "vacant", "vacant"],
        }
    )
    pd.testing.assert_frame_equal(got, expected)


def test_heartbeat_timeout_ends_session_as_unknown_not_occupied() -> None:
    # Occupied at 09:00, heartbeat 09:05, then silence until a vacant event at 11:00.
    # Known occupied only until 09:05 + 20 min = 09:25; 09:25-11:00 unknown.
    ev = events(
        [
            ("2026-03-02 09:00", "d1", "presence", 1.0),
            ("2026-03-02 09:05", "d1", "heartbeat", 1.0),
            ("2026-03-02 11:00", "d1", "presence", 0.0),
        ]
    )
    iv = state_intervals(ev, heartbeat_timeout_s=1200, horizon_s=S("2026-03-02 11:10"))
    expected = pd.DataFrame(
        {
            "space_id": ["d1", "d1"],
            "start": [S("2026-03-02 09:00"), S("2026-03-02 11:00")],
            "end": [S("2026-03-02 09:25"), S("2026-03-02 11:10")],
            "value": [1.0, 0.0],
            "is_count": [False, False],
        }
    )
    pd.testing.assert_frame_equal(iv, expected)
    s = sessions(iv)
    assert list(s["end_reason"]) == ["unknown"]
    assert list(s["duration_s"]) == [1500.0]
    d = _daily(ev, dt.date(2026, 3, 2), dt.date(2026, 3, 2)).set_index("space_id")
    # With a later horizon the vacant state also times out after 20 min:
    # measured = 25 min occupied + 20 min vacant (11:00-11:20) = 2700 s.
    assert d.loc["d1", "occupied_s"] == 1500.0
    assert d.loc["d1", "measured_s"] == 2700.0


def test_out_of_order_and_duplicate_events_land_in_time_order() -> None:
    ordered = events(
        [
            ("2026-03-02 09:00", "d1", "presence", 1.0),
            ("2026-03-02 09:10", "d1", "heartbeat", 1.0),
            ("2026-03-02 09:20", "d1", "presence", 0.0),
        ]
    )
    shuffled = pd.concat([ordered.iloc[[2, 0, 1, 1]]], ignore_index=True)
    a = state_intervals(
        ordered, heartbeat_timeout_s=1200, horizon_s=S("2026-03-02 09:30")
    )
    b = state_intervals(
        shuffled, heartbeat_timeout_s=1200, horizon_s=S("2026-03-02 09:30")
    )
    pd.testing.assert_frame_equal(a, b)
    assert list(a["value"]) == [1.0, 0.0]
    assert a["end"].iloc[0] - a["start"].iloc[0] == 1200.0


def test_session_crossing_midnight_and_bucket_edge() -> None:
    # A session from 23:50 to 00:20 (heartbeats every 5 min), outside working
    # hours: it counts in occupied_total_s of both local days (600 s and 1200 s),
    # never in available time; and it is split at the 00:00 bucket edge.
    hb = pd.date_range(T("2026-03-02 23:50"), T("2026-03-03 00:15"), freq="5min")
    ev = pd.DataFrame({"ts": hb, "space_id": "d1", "kind": "heartbeat", "value": 1.0})
    ev = pd.concat(
        [ev, events([("2026-03-03 00:20", "d1", "presence", 0.0)])], ignore_index=True
    )
    d = _daily(ev, dt.date(2026, 3, 2), dt.date(2026, 3, 3))
    got = d[["day", "occupied_total_s", "occupied_s", "sessions"]]
    expected = pd.DataFrame(
        {
            "day": [dt.date(2026, 3, 2), dt.date(2026, 3, 3)],
            "occupied_total_s": [600.0, 1200.0],
            "occupied_s": [0.0, 0.0],
            "sessions": [0, 0],
        }
    )
    pd.testing.assert_frame_equal(got, expected)


def test_session_crossing_bucket_edges_in_working_hours() -> None:
    # 09:10-09:50 occupied: buckets 09:00 (5 min), 09:15, 09:30 (15 each), 09:45 (5).
    from analytics.utilization import split_buckets

    iv = pd.DataFrame(
        {
            "space_id": ["d1"],
            "start": [S("2026-03-02 09:10")],
            "end": [S("2026-03-02 09:50")],
            "value": [1.0],
            "is_count": [False],
        }
    )
    pieces = split_buckets(iv, 900)
    assert list(pieces["seconds"]) == [300.0, 900.0, 900.0, 300.0]
    assert list(pieces["bucket"] * 900.0) == [
        S("2026-03-02 09:00"),
        S("2026-03-02 09:15"),
        S("2026-03-02 09:30"),
        S("2026-03-02 09:45"),
    ]


def test_dst_days_have_23_and_25_hours_and_10_working_hours() -> None:
    # Occupied all day (heartbeats every 5 min) on the spring-forward day
    # 2026-03-29 (23 h) and the fall-back day 2026-10-25 (25 h), both Sundays:
    # make every day a working day so available time exists.
    cal = Calendar(timezone=TZ, working_weekdays=(0, 1, 2, 3, 4, 5, 6))
    for day, hours in ((dt.date(2026, 3, 29), 23), (dt.date(2026, 10, 25), 25)):
        start = pd.Timestamp(day, tz=TZ).tz_convert("UTC")
        end = pd.Timestamp(day + dt.timedelta(days=1), tz=TZ).tz_convert("UTC")
        assert (end - start) == pd.Timedelta(hours=hours)
        hb = pd.date_range(start, end - pd.Timedelta(minutes=5), freq="5min")
        ev = pd.DataFrame(
            {"ts": hb, "space_id": "d1", "kind": "heartbeat", "value": 1.0}
        )
        ev = pd.concat(
            [
                ev,
                pd.DataFrame(
                    {"ts": [end], "space_id": "d1", "kind": "presence", "value": [0.0]}
                ),
            ]
        )
        iv, stuck = space_intervals(
            ev,
            heartbeat_timeout_s=1200,
            gap_bridge_s=900,
            stuck_s=26 * 3600,
            horizon_s=end.value / 1e9 + 600,
        )
        grid = bucket_frame(cal, day, day, available_only=False)
        assert len(grid) == hours * 4
        d = space_daily(
            iv,
            stuck,
            SPACES,
            grid,
            cal,
            use=USE,
        )
        row = d.iloc[0]
        assert row["occupied_total_s"] == hours * 3600.0
        assert row["available_s"] == 10 * 3600.0
        assert row["occupied_s"] == 10 * 3600.0
        assert row["hours_used"] == 10


def test_stuck_sensor_excluded_and_reported() -> None:
    # d1 reports occupied for 20 h without a break (heartbeats): stuck (> 16 h).
    # d2 works a normal 09:00-17:00 day.
    hb1 = pd.date_range(T("2026-03-02 06:00"), T("2026-03-03 02:00"), freq="5min")
    hb2 = pd.date_range(T("2026-03-02 09:00"), T("2026-03-02 16:55"), freq="5min")
    ev = pd.concat(
        [
            pd.DataFrame(
                {"ts": hb1, "space_id": "d1", "kind": "heartbeat", "value": 1.0}
            ),
            pd.DataFrame(
                {"ts": hb2, "space_id": "d2", "kind": "heartbeat", "value": 1.0}
            ),
            events([("2026-03-02 17:00", "d2", "presence", 0.0)]),
        ],
        ignore_index=True,
    )
    d = _daily(ev, dt.date(2026, 3, 2), dt.date(2026, 3, 2)).set_index("space_id")
    assert d.loc["d1", "occupied_s"] == 0.0
    assert d.loc["d1", "measured_s"] == 0.0
    assert d.loc["d1", "stuck_s"] == 10 * 3600.0  # all of 08:00-18:00
    assert d.loc["d2", "occupied_s"] == 8 * 3600.0
    assert d.loc["d2", "stuck_s"] == 0.0


def test_counts_zero_holds_nonzero_times_out() -> None:
    ev = events(
        [
            ("2026-03-02 09:00", "r1", "count", 4.0),
            ("2026-03-02 09:10", "r1", "count", 2.0),
            ("2026-03-02 09:20", "r1", "count", 0.0),
            ("2026-03-02 12:00", "r1", "count", 1.0),
        ]
    )
    iv = state_intervals(ev, heartbeat_timeout_s=1200, horizon_s=S("2026-03-02 13:00"))
    assert list(iv["value"]) == [4.0, 2.0, 0.0, 1.0]
    assert list(iv["end"] - iv["start"]) == [600.0, 600.0, 9600.0, 1200.0]
