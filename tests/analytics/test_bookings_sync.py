"""Bookings from room calendars: a real Radicale CalDAV server (started here
on a free port) holding calendars the test creates, including a weekly series
across the 2026 DST change with an EXDATE and a moved occurrence; then
.ics files; then no-show, unbooked use and booked-vs-attended on the synced
bookings through the analytics functions."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from analytics.bookings_attendance import booked_vs_attended
from analytics.bookings_ics import expand_calendar
from analytics.calendar import Calendar
from analytics.read_rooms import _bookings
from analytics.rooms import booking_stats
from app.services import free_port
from occupancy.building import parse_building
from occupancy.db import connect
from occupancy.metadata import load_site
from occupancy.settings import load_settings

UTC = dt.UTC


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    folder = tmp_path_factory.mktemp("radicale")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "radicale",
            "--storage-filesystem-folder",
            str(folder),
            "--server-hosts",
            f"127.0.0.1:{port}",
            "--auth-type",
            "none",
            "--logging-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while True:  # wait until it accepts connections (not a fixed sleep)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(
                    f"radicale did not start: {proc.stderr.read()!r}"
                ) from None  # type: ignore[union-attr]
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


def _client(url: str) -> Any:
    import caldav

    return caldav.DAVClient(
        url=url, username="fm", password="x", require_tls=False, enable_rfc6764=False
    )


ROOMS = {
    "site": {"id": "cal", "timezone": "Europe/Amsterdam"},
    "departments": [],
    "buildings": [
        {
            "id": "cal-b",
            "floors": [
                {
                    "id": "cal-f",
                    "level": 0,
                    "width": 20,
                    "height": 10,
                    "zones": [
                        {
                            "id": "cal-z",
                            "kind": "meeting",
                            "x": 0,
                            "y": 0,
                            "width": 20,
                            "height": 10,
                            "rooms": [
                                {
                                    "id": "amstel",
                                    "capacity": 8,
                                    "calendar": "/fm/amstel/",
                                    "x": 0,
                                    "y": 0,
                                    "width": 5,
                                    "height": 5,
                                },
                                {
                                    "id": "vecht",
                                    "capacity": 4,
                                    "calendar": "vecht@rooms.example.org",
                                    "x": 6,
                                    "y": 0,
                                    "width": 4,
                                    "height": 4,
                                },
                                {
                                    "id": "ij",
                                    "capacity": 4,
                                    "x": 11,
                                    "y": 0,
                                    "width": 4,
                                    "height": 4,
                                },
                            ],
                        }
                    ],
                }
            ],
        }
    ],
}

VTIMEZONE = """BEGIN:VTIMEZONE
TZID:Europe/Amsterdam
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
"""


def _vcal(*events: str) -> str:
    return (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//occupancy tests//EN\n"
        + VTIMEZONE
        + "".join(events)
        + "END:VCALENDAR\n"
    )


# Weekly on Mondays 10:00-11:00 Amsterdam time from 19 Oct 2026, 4 times; the
# clocks go back on Sunday 25 Oct, so 10:00 is 08:00 UTC before and 09:00 after.
# 2 Nov is excluded (EXDATE); 26 Oct is moved to 14:00 (an override).
SERIES = """BEGIN:VEVENT
UID:weekly@test
DTSTAMP:20261001T000000Z
DTSTART;TZID=Europe/Amsterdam:20261019T100000
DTEND;TZID=Europe/Amsterdam:20261019T110000
RRULE:FREQ=WEEKLY;COUNT=4
EXDATE;TZID=Europe/Amsterdam:20261102T100000
SUMMARY:Weekly
ORGANIZER:mailto:org@example.org
ATTENDEE;CUTYPE=INDIVIDUAL;PARTSTAT=ACCEPTED:mailto:a@example.org
ATTENDEE;CUTYPE=INDIVIDUAL;PARTSTAT=DECLINED:mailto:b@example.org
ATTENDEE;CUTYPE=INDIVIDUAL:mailto:c@example.org
ATTENDEE;CUTYPE=ROOM:mailto:amstel@rooms.example.org
END:VEVENT
BEGIN:VEVENT
UID:weekly@test
DTSTAMP:20261001T000000Z
RECURRENCE-ID;TZID=Europe/Amsterdam:20261026T100000
DTSTART;TZID=Europe/Amsterdam:20261026T140000
DTEND;TZID=Europe/Amsterdam:20261026T150000
SUMMARY:Weekly (moved)
ORGANIZER:mailto:org@example.org
ATTENDEE;CUTYPE=INDIVIDUAL:mailto:a@example.org
END:VEVENT
"""
SINGLE = """BEGIN:VEVENT
UID:single@test
DTSTAMP:20261001T000000Z
DTSTART:20261020T070000Z
DTEND:20261020T073000Z
SUMMARY:Stand-up
END:VEVENT
"""
ALL_DAY = """BEGIN:VEVENT
UID:allday@test
DTSTAMP:20261001T000000Z
DTSTART;VALUE=DATE:20261021
DTEND;VALUE=DATE:20261022
SUMMARY:Room closed for cleaning
END:VEVENT
"""
CANCELLED = """BEGIN:VEVENT
UID:cancelled@test
DTSTAMP:20261001T000000Z
DTSTART:20261022T120000Z
DTEND:20261022T130000Z
STATUS:CANCELLED
END:VEVENT
"""

FROM, UNTIL = "2026-10-01", "2026-12-01"


def _ts(s: str) -> pd.Timestamp:
    return pd.Timestamp(s, tz="UTC")


def _stored(conn: Any, room: str) -> list[tuple[Any, ...]]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT start_ts, end_ts, expected_attendees FROM analytics_bookings "
            "WHERE room_id = %s ORDER BY start_ts",
            (room,),
        )
        return [(pd.Timestamp(s), pd.Timestamp(e), a) for s, e, a in cur.fetchall()]


def _sync(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "occupancy",
            "--database-url",
            database_url,
            "bookings",
            "sync",
            "--from",
            FROM,
            "--until",
            UNTIL,
            *args,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_expansion_across_dst_with_exdate_override_and_skips() -> None:
    exp = expand_calendar(
        _vcal(SERIES, SINGLE, ALL_DAY, CANCELLED),
        dt.datetime(2026, 10, 1, tzinfo=UTC),
        dt.datetime(2026, 12, 1, tzinfo=UTC),
    )
    f = exp.frame.sort_values("start").reset_index(drop=True)
    assert f["start"].tolist() == [
        _ts("2026-10-19 08:00"),
        _ts("2026-10-20 07:00"),
        _ts("2026-10-22 12:00"),
        _ts("2026-10-26 13:00"),
        _ts("2026-11-09 09:00"),
    ]
    assert f["cancelled"].tolist() == [False, False, True, False, False]
    # a, c and the organiser; b declined, the room is no person.
    assert f.loc[0, "expected_attendees"] == 3
    assert f.loc[0, "resources"] == ("amstel@rooms.example.org",)
    # The moved one keeps its original start as RECURRENCE-ID (CET after the change).
    assert f.loc[3, "recurrence_id"] == "2026-10-26T09:00:00+00:00"
    assert f.loc[3, "expected_attendees"] == 2  # a and the organiser
    assert exp.skipped == {"all-day event (not a room booking)": 1}


def test_caldav_sync_is_incremental_and_follows_changes(
    radicale: str, database_url: str
) -> None:
    conn = connect(database_url)
    try:
        load_site(conn, parse_building(ROOMS))
    finally:
        conn.close()
    principal = _client(radicale).principal()
    amstel = principal.make_calendar(name="Amstel", cal_id="amstel")
    amstel.save_event(_vcal(SERIES))
    amstel.save_event(_vcal(SINGLE))
    amstel.save_event(_vcal(ALL_DAY))
    amstel.save_event(_vcal(CANCELLED))
    vecht = principal.make_calendar(name="vecht@rooms.example.org", cal_id="vecht")
    vecht.save_event(_vcal(SINGLE.replace("single@test", "v1@test")))

    first = _sync(database_url, "--caldav", f"{radicale}/fm/")
    assert first.returncode == 0, first.stderr
    assert (
        "/fm/amstel/ → amstel: 4 added, 0 moved or changed, 0 removed" in first.stdout
    )
    assert "ignored: 1 all-day event" in first.stdout
    assert "/fm/vecht/ → vecht: 1 added" in first.stdout
    conn = connect(database_url)
    try:
        assert _stored(conn, "amstel") == [
            (_ts("2026-10-19 08:00"), _ts("2026-10-19 09:00"), 3),
            (_ts("2026-10-20 07:00"), _ts("2026-10-20 07:30"), None),
            (_ts("2026-10-26 13:00"), _ts("2026-10-26 14:00"), 2),
            (_ts("2026-11-09 09:00"), _ts("2026-11-09 10:00"), 3),
        ]
        again = _sync(database_url, "--caldav", f"{radicale}/fm/amstel/")
        assert "unchanged since the last sync" in again.stdout, again.stdout
        forced = _sync(database_url, "--caldav", f"{radicale}/fm/amstel/", "--force")
        assert (
            "0 added, 0 moved or changed, 0 removed (cancelled or deleted), 4 unchanged"
            in forced.stdout
        )

        # The organiser cancels 9 Nov and moves the stand-up to 10:00 UTC.
        series = amstel.event_by_uid("weekly@test")
        series.data = _vcal(
            SERIES
            + """BEGIN:VEVENT
UID:weekly@test
DTSTAMP:20261002T000000Z
RECURRENCE-ID;TZID=Europe/Amsterdam:20261109T100000
DTSTART;TZID=Europe/Amsterdam:20261109T100000
DTEND;TZID=Europe/Amsterdam:20261109T110000
STATUS:CANCELLED
END:VEVENT
"""
        )
        series.save()
        single = amstel.event_by_uid("single@test")
        single.data = _vcal(
            SINGLE.replace("T070000Z", "T100000Z").replace("T073000Z", "T103000Z")
        )
        single.save()
        third = _sync(database_url, "--caldav", f"{radicale}/fm/amstel/")
        assert (
            "0 added, 1 moved or changed, 1 removed (cancelled or deleted), 2 unchanged"
            in third.stdout
        ), third.stdout
        assert _stored(conn, "amstel") == [
            (_ts("2026-10-19 08:00"), _ts("2026-10-19 09:00"), 3),
            (_ts("2026-10-20 10:00"), _ts("2026-10-20 10:30"), None),
            (_ts("2026-10-26 13:00"), _ts("2026-10-26 14:00"), 2),
        ]
    finally:
        conn.close()


def test_ics_file_sync_and_analytics_on_synced_bookings(
    tmp_path: Path, database_url: str
) -> None:
    conn = connect(database_url)
    try:
        load_site(conn, parse_building(ROOMS))
    finally:
        conn.close()
    ics = tmp_path / "ij.ics"
    ics.write_text(_vcal(SERIES.replace("weekly@test", "vw@test"), ALL_DAY))
    unknown = _sync(database_url, "--ics", str(ics))
    assert "no room names this calendar" in unknown.stdout
    # A file whose events invite the room's resource mailbox finds the room.
    invited = tmp_path / "invited.ics"
    invited.write_text(
        _vcal(SERIES.replace("amstel@rooms", "vecht@rooms").replace("weekly@", "inv@"))
    )
    found = _sync(database_url, "--ics", str(invited))
    assert f"{invited} → vecht: 3 added" in found.stdout, found.stdout
    run = _sync(database_url, "--ics", str(ics), "--room", "ij")
    assert run.returncode == 0, run.stderr
    assert "3 added" in run.stdout
    assert (
        "3 unchanged" in _sync(database_url, "--ics", str(ics), "--room", "ij").stdout
    )
    bad = tmp_path / "bad.ics"
    bad.write_text("not a calendar")
    broken = _sync(database_url, "--ics", str(bad), "--ics", str(ics), "--room", "ij")
    assert broken.returncode == 1 and "bad.ics" in broken.stderr
    assert "3 unchanged" in broken.stdout  # the good file still synced

    # No-show, unbooked use, booked vs attended on the synced bookings, with
    # 15-minute buckets of the room: present (2 people) during the 19 Oct
    # meeting, nobody during the moved 26 Oct one, alone at 21 Oct 12:00.
    conn = connect(database_url)
    try:
        cal = Calendar.from_settings(load_settings(), "Europe/Amsterdam")
        bookings = _bookings(conn, cal, dt.date(2026, 10, 19), dt.date(2026, 11, 10))
    finally:
        conn.close()
    ij = bookings[bookings["room_id"] == "ij"].reset_index(drop=True)
    assert len(ij) == 3
    q = 900

    def b(ts: str) -> int:
        return int(_ts(ts).timestamp()) // q

    rows = [(b("2026-10-19 08:00") + i, 900.0, 900.0, 1800.0, 2.0) for i in range(4)]
    rows += [(b("2026-10-26 13:00") + i, 900.0, 0.0, 0.0, 0.0) for i in range(4)]
    rows += [(b("2026-10-21 12:00"), 900.0, 900.0, 900.0, 1.0)]
    buckets = pd.DataFrame(
        rows, columns=["bucket", "measured_s", "occupied_s", "people_s", "peak_people"]
    ).assign(level_id="ij")
    stats = booking_stats(ij, buckets, q).set_index("space_id").loc["ij"]
    # Booked and measured: 2 x 3600 s (9 Nov has no data); the 26 Oct hour is a no-show.
    assert stats["booked_s"] == 7200.0
    assert stats["no_show_s"] == 3600.0 and stats["no_show_pct"] == 50.0
    # Occupied 4 x 900 in the meeting + 900 unbooked.
    assert stats["unbooked_occupied_s"] == 900.0 and stats["unbooked_use_pct"] == 20.0
    with_att = ij.assign(expected_attendees=[3, 2, 3])
    bva = booked_vs_attended(with_att, buckets, q)
    assert bva["mean_people"].tolist()[0] == 2.0
    assert bva["no_show"].tolist() == [False, True, False]
    assert bva["attended_pct"].tolist()[0] == pytest.approx(200 / 3)
    assert pd.isna(bva["attended_pct"].tolist()[2])  # no measurement on 9 Nov
