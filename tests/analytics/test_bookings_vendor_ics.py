"""Room calendars as Outlook/Exchange and Google Calendar write them, synced
from a real Radicale CalDAV server (the fixture of test_bookings_sync.py).

The .ics text follows the vendors' documented conventions, not our own:
- Outlook/Exchange (MS-OXCICAL, https://learn.microsoft.com/en-us/openspecs/
  exchange_server_protocols/ms-oxcical/): Windows time-zone names as TZID
  ("W. Europe Standard Time") with Outlook's own VTIMEZONE whose rules start in
  1601 (2.1.3.2.1); the room from the Resources field exported as
  ROLE=NON-PARTICIPANT without CUTYPE (2.1.3.1.1.20.2.4, CUTYPE=RESOURCE is
  only a SHOULD); X-MICROSOFT-CDO-BUSYSTATUS next to TRANSP (2.1.3.1.1.20.8);
  EXDATE with the same TZID; UNTIL in UTC (RFC 5545 3.3.10 requires UTC when
  DTSTART has a TZID); a moved occurrence as a VEVENT with RECURRENCE-ID.
- Google Calendar (its .ics export and invitations): TZID=Europe/Amsterdam
  with no VTIMEZONE but X-WR-TIMEZONE, UIDs ...@google.com, rooms as
  CUTYPE=RESOURCE;ROLE=REQ-PARTICIPANT on ...@resource.calendar.google.com,
  X-NUM-GUESTS on every ATTENDEE, a cancelled occurrence of a series as a
  VEVENT with RECURRENCE-ID and STATUS:CANCELLED."""

from __future__ import annotations

import copy
import datetime as dt
import importlib.util
from typing import Any

import pandas as pd

from analytics.bookings_ics import expand_calendar
from occupancy.building import parse_building
from occupancy.db import connect
from occupancy.metadata import load_site

from conftest import ROOT

# The Radicale fixture and helpers of the CalDAV tests, shared, not copied.
_spec = importlib.util.spec_from_file_location(
    "bookings_sync_tests", ROOT / "tests" / "analytics" / "test_bookings_sync.py"
)
assert _spec and _spec.loader
_base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_base)
ROOMS, _client, _sync, _ts = _base.ROOMS, _base._client, _base._sync, _base._ts
radicale = _base.radicale

UTC = dt.UTC
GOOGLE_ROOM = "c_18835ad0f8@resource.calendar.google.com"

OUTLOOK = """BEGIN:VCALENDAR
PRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN
VERSION:2.0
METHOD:PUBLISH
X-MS-OLK-FORCEINSPECTOROPEN:TRUE
BEGIN:VTIMEZONE
TZID:W. Europe Standard Time
BEGIN:STANDARD
DTSTART:16011028T030000
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010325T020000
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VEVENT
ATTENDEE;CN="Vecht";ROLE=NON-PARTICIPANT;RSVP=TRUE:mailto:vecht@rooms.example.org
ATTENDEE;CN="Anna de Vries";RSVP=TRUE:mailto:anna@example.org
ATTENDEE;CN="Bob Jansen";ROLE=OPT-PARTICIPANT;RSVP=TRUE:mailto:bob@example.org
ATTENDEE;CN="Dirk Smit";PARTSTAT=DECLINED;RSVP=TRUE:mailto:dirk@example.org
CLASS:PUBLIC
CREATED:20261001T080000Z
DTEND;TZID="W. Europe Standard Time":20261020T100000
DTSTAMP:20261001T080000Z
DTSTART;TZID="W. Europe Standard Time":20261020T090000
EXDATE;TZID="W. Europe Standard Time":20261103T090000
LAST-MODIFIED:20261001T080000Z
LOCATION:Vecht
ORGANIZER;CN="Carla Bakker":mailto:carla@example.org
PRIORITY:5
RRULE:FREQ=WEEKLY;UNTIL=20261117T080000Z;INTERVAL=1;BYDAY=TU;WKST=MO
SEQUENCE:0
SUMMARY;LANGUAGE=nl:Weekstart
TRANSP:OPAQUE
UID:040000008200E00074C5B7101A82E00800000000D0A1B2C3D4E5F601000000000000000010000000
X-MICROSOFT-CDO-BUSYSTATUS:BUSY
X-MICROSOFT-CDO-IMPORTANCE:1
END:VEVENT
BEGIN:VEVENT
ATTENDEE;CN="Vecht";ROLE=NON-PARTICIPANT;RSVP=TRUE:mailto:vecht@rooms.example.org
ATTENDEE;CN="Anna de Vries";RSVP=TRUE:mailto:anna@example.org
ATTENDEE;CN="Bob Jansen";ROLE=OPT-PARTICIPANT;PARTSTAT=DECLINED:mailto:bob@example.org
DTEND;TZID="W. Europe Standard Time":20261110T140000
DTSTAMP:20261005T080000Z
DTSTART;TZID="W. Europe Standard Time":20261110T130000
ORGANIZER;CN="Carla Bakker":mailto:carla@example.org
RECURRENCE-ID;TZID="W. Europe Standard Time":20261110T090000
SEQUENCE:1
SUMMARY;LANGUAGE=nl:Weekstart (verplaatst)
TRANSP:OPAQUE
UID:040000008200E00074C5B7101A82E00800000000D0A1B2C3D4E5F601000000000000000010000000
X-MICROSOFT-CDO-BUSYSTATUS:BUSY
END:VEVENT
END:VCALENDAR
"""

# A separate object on a CalDAV server (one UID per resource, RFC 4791 4.1).
_FREE_EVENT = """BEGIN:VEVENT
ATTENDEE;CN="Vecht";ROLE=NON-PARTICIPANT;RSVP=TRUE:mailto:vecht@rooms.example.org
DTEND;TZID="W. Europe Standard Time":20261021T170000
DTSTAMP:20261001T080000Z
DTSTART;TZID="W. Europe Standard Time":20261021T160000
ORGANIZER;CN="Carla Bakker":mailto:carla@example.org
SUMMARY:Reserve (free)
TRANSP:TRANSPARENT
UID:040000008200E00074C5B7101A82E00800000000FFEEDDCCBBAA0001000000000000000010000000
X-MICROSOFT-CDO-BUSYSTATUS:FREE
END:VEVENT
"""
OUTLOOK_FREE = OUTLOOK.replace(
    OUTLOOK[OUTLOOK.index("BEGIN:VEVENT") : OUTLOOK.index("END:VCALENDAR")], _FREE_EVENT
)

GOOGLE = f"""BEGIN:VCALENDAR
PRODID:-//Google Inc//Google Calendar 70.9054//EN
VERSION:2.0
CALSCALE:GREGORIAN
METHOD:PUBLISH
X-WR-CALNAME:IJ (8)
X-WR-TIMEZONE:Europe/Amsterdam
BEGIN:VEVENT
DTSTART;TZID=Europe/Amsterdam:20261022T140000
DTEND;TZID=Europe/Amsterdam:20261022T150000
RRULE:FREQ=WEEKLY;WKST=MO;COUNT=3;BYDAY=TH
DTSTAMP:20261001T120000Z
ORGANIZER;CN=Eva Visser:mailto:eva@example.org
UID:5ug0kl3c0s9t2v1p4q8r7m6n5b@google.com
ATTENDEE;CUTYPE=RESOURCE;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=IJ (8);X-NUM-GUESTS=0:mailto:{GOOGLE_ROOM}
ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=Eva Visser;X-NUM-GUESTS=0:mailto:eva@example.org
ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN=frank@example.org;X-NUM-GUESTS=2:mailto:frank@example.org
ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=DECLINED;CN=gert@example.org;X-NUM-GUESTS=0:mailto:gert@example.org
CREATED:20261001T120000Z
LAST-MODIFIED:20261001T120000Z
SEQUENCE:0
STATUS:CONFIRMED
SUMMARY:Klantoverleg
TRANSP:OPAQUE
END:VEVENT
BEGIN:VEVENT
DTSTART;TZID=Europe/Amsterdam:20261029T140000
DTEND;TZID=Europe/Amsterdam:20261029T150000
DTSTAMP:20261002T120000Z
UID:5ug0kl3c0s9t2v1p4q8r7m6n5b@google.com
RECURRENCE-ID;TZID=Europe/Amsterdam:20261029T140000
SEQUENCE:1
STATUS:CANCELLED
SUMMARY:Klantoverleg
TRANSP:OPAQUE
END:VEVENT
END:VCALENDAR
"""

WINDOW = (dt.datetime(2026, 10, 1, tzinfo=UTC), dt.datetime(2026, 12, 1, tzinfo=UTC))


def _occurrences(text: str) -> list[tuple[pd.Timestamp, pd.Timestamp, Any, bool]]:
    f = expand_calendar(text, *WINDOW).frame.sort_values("start")
    return [
        (s, e, None if pd.isna(a) else int(a), bool(c))
        for s, e, a, c in zip(
            f["start"], f["end"], f["expected_attendees"], f["cancelled"], strict=True
        )
    ]


def test_outlook_export_windows_tzid_resources_and_free_time() -> None:
    exp = expand_calendar(
        OUTLOOK.replace("END:VCALENDAR", _FREE_EVENT + "END:VCALENDAR"), *WINDOW
    )
    busy = exp.frame[~exp.frame["cancelled"]].sort_values("start")
    # Tuesdays 09:00 Amsterdam: CEST (UTC+2) on 20 Oct, CET after 25 Oct;
    # 3 Nov excluded; 10 Nov moved to 13:00; UNTIL 17 Nov 08:00Z included.
    assert busy["start"].tolist() == [
        _ts("2026-10-20 07:00"),
        _ts("2026-10-27 08:00"),
        _ts("2026-11-10 12:00"),
        _ts("2026-11-17 08:00"),
    ]
    # Anna, Bob (optional still comes), Carla the organiser: the room
    # (NON-PARTICIPANT) and Dirk (declined) are nobody; Bob declined the moved one.
    assert busy["expected_attendees"].tolist() == [3, 3, 2, 3]
    assert set(busy["resources"]) == {("vecht@rooms.example.org",)}
    free = exp.frame[exp.frame["start"] == _ts("2026-10-21 14:00")]
    assert free["cancelled"].tolist() == [True]
    assert sum(n for why, n in exp.skipped.items() if why.startswith("free time")) == 1


def test_google_export_without_vtimezone_guests_and_cancelled_instance() -> None:
    occ = _occurrences(GOOGLE)
    # Eva, Frank and his 2 guests; Gert declined; the room is no person.
    assert occ == [
        (_ts("2026-10-22 12:00"), _ts("2026-10-22 13:00"), 4, False),
        (_ts("2026-10-29 13:00"), _ts("2026-10-29 14:00"), None, True),
        (_ts("2026-11-05 13:00"), _ts("2026-11-05 14:00"), 4, False),
    ]


def _site() -> dict[str, Any]:
    doc = copy.deepcopy(ROOMS)
    rooms = doc["buildings"][0]["floors"][0]["zones"][0]["rooms"]
    next(r for r in rooms if r["id"] == "ij")["calendar"] = GOOGLE_ROOM
    return doc


def _events(conn: Any, room: str) -> list[tuple[pd.Timestamp, Any]]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT start_ts, expected_attendees FROM calendar_booking_events"
            " WHERE room_id = %s ORDER BY start_ts",
            (room,),
        )
        return [(pd.Timestamp(s), a) for s, a in cur.fetchall()]


def test_vendor_calendars_synced_from_radicale(
    radicale: str, database_url: str
) -> None:
    conn = connect(database_url)
    try:
        load_site(conn, parse_building(_site()))
    finally:
        conn.close()
    principal = _client(radicale).principal()
    # Calendar names that name no room: the rooms are found from the events'
    # resource attendees (Outlook's NON-PARTICIPANT, Google's RESOURCE).
    outlook = principal.make_calendar(name="Export uit Outlook", cal_id="outlook")
    outlook.save_event(OUTLOOK)
    outlook.save_event(OUTLOOK_FREE)
    google = principal.make_calendar(name="Google export", cal_id="google")
    google.save_event(GOOGLE)
    run = _sync(database_url, "--caldav", f"{radicale}/fm/")
    assert run.returncode == 0, run.stderr
    assert "/fm/outlook/ → vecht: 4 added" in run.stdout, run.stdout
    assert "/fm/google/ → ij: 2 added" in run.stdout, run.stdout
    conn = connect(database_url)
    try:
        assert _events(conn, "vecht") == [
            (_ts("2026-10-20 07:00"), 3),
            (_ts("2026-10-27 08:00"), 3),
            (_ts("2026-11-10 12:00"), 2),
            (_ts("2026-11-17 08:00"), 3),
        ]
        # The organiser makes the 27 Oct meeting free time in Outlook: it no
        # longer holds the room and is removed.
        series = outlook.event_by_uid(
            "040000008200E00074C5B7101A82E00800000000D0A1B2C3D4E5F601000000000000000010000000"
        )
        moved = OUTLOOK.replace(
            "END:VCALENDAR",
            "BEGIN:VEVENT\nATTENDEE;ROLE=NON-PARTICIPANT:mailto:vecht@rooms.example.org\n"
            'DTSTART;TZID="W. Europe Standard Time":20261027T090000\n'
            'DTEND;TZID="W. Europe Standard Time":20261027T100000\n'
            'RECURRENCE-ID;TZID="W. Europe Standard Time":20261027T090000\n'
            "DTSTAMP:20261006T080000Z\nTRANSP:TRANSPARENT\n"
            "UID:040000008200E00074C5B7101A82E00800000000D0A1B2C3D4E5F6010000000000"
            "00000010000000\nX-MICROSOFT-CDO-BUSYSTATUS:FREE\nEND:VEVENT\nEND:VCALENDAR",
        )
        series.data = moved
        series.save()
        again = _sync(database_url, "--caldav", f"{radicale}/fm/outlook/")
        assert "1 removed" in again.stdout, again.stdout
        assert [t for t, _ in _events(conn, "vecht")] == [
            _ts("2026-10-20 07:00"),
            _ts("2026-11-10 12:00"),
            _ts("2026-11-17 08:00"),
        ]
        assert _events(conn, "ij") == [
            (_ts("2026-10-22 12:00"), 4),
            (_ts("2026-11-05 13:00"), 4),
        ]
    finally:
        conn.close()
