"""Room calendars (iCalendar, RFC 5545) → bookings. Pure: text in, frame out.

Recurring series are expanded with recurring-ical-events (RRULE, RDATE,
EXDATE, overrides by RECURRENCE-ID, VTIMEZONE, DST); every occurrence is keyed
by (UID, RECURRENCE-ID) so a sync can update or remove exactly what moved or
was cancelled. All-day events are not bookings of a room and are skipped;
cancelled occurrences (STATUS:CANCELLED) come out with ``cancelled`` True so
the sync removes what it stored for them."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

logger = logging.getLogger(__name__)

__all__ = ["BOOKING_COLUMNS", "CalendarError", "Expanded", "expand_calendar"]

#: Columns of :func:`expand_calendar`'s frame.
BOOKING_COLUMNS = [
    "uid",
    "recurrence_id",  # '' for a single event, else the occurrence's original start (UTC ISO)
    "start",  # UTC
    "end",  # UTC
    "expected_attendees",  # people invited and not declined (rooms/resources not counted)
    "cancelled",
    "resources",  # mailto addresses of ROOM/RESOURCE attendees (to find the room)
]


class CalendarError(ValueError):
    """The calendar text cannot be read; the message says where."""


@dataclass
class Expanded:
    frame: pd.DataFrame
    name: str | None = None  # X-WR-CALNAME
    skipped: Counter[str] = field(default_factory=Counter)


def expand_calendar(
    text: str | bytes,
    start: dt.datetime,
    end: dt.datetime,
    *,
    default_tz: str = "Europe/Amsterdam",
    source: str = "calendar",
) -> Expanded:
    """Occurrences of every VEVENT overlapping [start, end) (aware datetimes).
    Floating times (no TZID) are read in ``default_tz``."""
    import icalendar
    import recurring_ical_events

    try:
        cal = icalendar.Calendar.from_ical(text)
    except (ValueError, IndexError, KeyError) as exc:
        raise CalendarError(f"{source}: not an iCalendar file: {exc}") from exc
    tz = ZoneInfo(default_tz)
    skipped: Counter[str] = Counter()
    rows = []
    try:
        occurrences = list(recurring_ical_events.of(cal).between(start, end))
    except (ValueError, TypeError) as exc:
        raise CalendarError(f"{source}: cannot expand recurrences: {exc}") from exc
    # recurring-ical-events stamps every occurrence with a RECURRENCE-ID, single
    # events too; only series keep it, so a moved single event keeps its key.
    series = {
        str(c.get("UID"))
        for c in cal.walk("VEVENT")
        if c.get("RRULE") or c.get("RDATE") or c.get("RECURRENCE-ID")
    }
    for event in occurrences:
        row = _row(event, tz, skipped, str(event.get("UID") or "") in series)
        if row is not None:
            rows.append(row)
    frame = pd.DataFrame(rows, columns=BOOKING_COLUMNS)
    for col in ("start", "end"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    name = cal.get("X-WR-CALNAME")
    return Expanded(frame, str(name) if name else None, skipped)


def _aware(value: Any, tz: ZoneInfo) -> dt.datetime | None:
    """An aware UTC datetime, or None for a date (all-day)."""
    if not isinstance(value, dt.datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    out: dt.datetime = value.astimezone(dt.UTC)
    return out


def _row(
    event: Any, tz: ZoneInfo, skipped: Counter[str], in_series: bool
) -> dict[str, Any] | None:
    uid = str(event.get("UID") or "")
    if not uid:
        skipped["event without UID"] += 1
        return None
    start = _aware(event.get("DTSTART").dt if event.get("DTSTART") else None, tz)
    if start is None:
        skipped["all-day event (not a room booking)"] += 1
        return None
    try:
        end_value = event.end
    except (ValueError, KeyError, TypeError):
        end_value = None
    end = _aware(end_value, tz) if end_value is not None else None
    if end is None or end <= start:
        skipped["event without a positive duration"] += 1
        return None
    rid = event.get("RECURRENCE-ID") if in_series else None
    rid_utc = _aware(rid.dt, tz) if rid is not None else None
    people, resources = _attendees(event)
    status = str(event.get("STATUS") or "CONFIRMED").upper()
    free = status != "CANCELLED" and _is_free(event)
    if free:
        # Kept as cancelled, so a booking that became free time is removed.
        skipped["free time (TRANSP:TRANSPARENT / BUSYSTATUS FREE): no booking"] += 1
    return {
        "uid": uid,
        "recurrence_id": rid_utc.isoformat() if rid_utc else "",
        "start": start,
        "end": end,
        "expected_attendees": people,
        "cancelled": status == "CANCELLED" or free,
        "resources": resources,
    }


def _attendees(event: Any) -> tuple[int | None, tuple[str, ...]]:
    """(people invited and not declined, incl. the organiser and the guests
    they bring; or None when the event lists nobody) and the addresses of
    attendees that are rooms or resources.

    Rooms are CUTYPE=ROOM/RESOURCE (RFC 5545 3.2.3; Google marks its
    ``...@resource.calendar.google.com`` rooms CUTYPE=RESOURCE) or
    ROLE=NON-PARTICIPANT, which is how Outlook/Exchange export a room or
    resource added in the Resources field (MS-OXCICAL 2.1.3.1.1.20.2.4: recipient
    type 0x3 → ROLE=NON-PARTICIPANT; CUTYPE=RESOURCE is only a SHOULD and
    often missing). Google adds ``X-NUM-GUESTS=n`` for the guests an
    attendee brings; they count too."""
    raw = event.get("ATTENDEE")
    items = raw if isinstance(raw, list) else ([raw] if raw is not None else [])
    people: dict[str, int] = {}
    resources = []
    for a in items:
        address = str(a).lower().removeprefix("mailto:")
        cutype = str(a.params.get("CUTYPE", "INDIVIDUAL")).upper()
        role = str(a.params.get("ROLE", "REQ-PARTICIPANT")).upper()
        if cutype in ("ROOM", "RESOURCE") or role == "NON-PARTICIPANT":
            resources.append(address)
        elif str(a.params.get("PARTSTAT", "")).upper() != "DECLINED":
            people[address] = 1 + _guests(a.params.get("X-NUM-GUESTS"))
    organiser = event.get("ORGANIZER")
    if organiser is not None and people:
        people.setdefault(str(organiser).lower().removeprefix("mailto:"), 1)
    return (sum(people.values()) or None), tuple(resources)


def _guests(value: Any) -> int:
    try:
        return max(0, int(str(value)))
    except (TypeError, ValueError):
        return 0


def _is_free(event: Any) -> bool:
    """Marked free time: it does not hold the room (RFC 5545 3.8.2.7
    TRANSP:TRANSPARENT; Outlook's X-MICROSOFT-CDO-BUSYSTATUS:FREE, which
    Outlook writes next to TRANSP and which wins where they disagree)."""
    busy = event.get("X-MICROSOFT-CDO-BUSYSTATUS")
    if busy is not None:
        return str(busy).upper() == "FREE"
    return str(event.get("TRANSP") or "OPAQUE").upper() == "TRANSPARENT"
