"""Room calendars → ``analytics_bookings``: iCalendar files and CalDAV
collections, synced incrementally and idempotently.

Each occurrence is keyed by (room, UID, RECURRENCE-ID) in
``calendar_booking_events``; a sync of one calendar over a window adds what is
new, replaces what moved or changed its attendees, removes what was cancelled
or deleted, and leaves the rest alone. A CalDAV calendar whose sync token has
not changed since the last sync of the same window is skipped. The CSV import
(``occupancy bookings import``) writes the same table and stays."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pandas as pd
from psycopg2.extras import execute_values

from analytics.bookings_ics import BOOKING_COLUMNS, CalendarError, expand_calendar
from occupancy.db import Connection, Cursor

logger = logging.getLogger(__name__)

__all__ = [
    "CalendarSource",
    "SyncReport",
    "caldav_sources",
    "ics_sources",
    "resolve_room",
    "room_from_attendees",
    "sync_source",
]


@dataclass
class CalendarSource:
    """One calendar to sync: its key (URL or file), the text of its objects,
    its display name and the server's sync token (CalDAV only)."""

    key: str
    texts: list[str]
    name: str | None = None
    sync_token: str | None = None


@dataclass
class SyncReport:
    calendar: str
    room_id: str | None
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: str = ""  # why nothing was done, or what was left out

    def __str__(self) -> str:
        head = f"{self.calendar} → {self.room_id or '?'}: "
        if self.room_id is None or (self.skipped and not self.total):
            return head + self.skipped
        tail = f"; {self.skipped}" if self.skipped else ""
        return (
            head + f"{self.added} added, {self.changed} moved or changed, "
            f"{self.removed} removed (cancelled or deleted), {self.unchanged} unchanged"
            + tail
        )

    @property
    def total(self) -> int:
        return self.added + self.changed + self.removed + self.unchanged


# --------------------------------------------------------------------- sources
def ics_sources(paths: list[Path]) -> Iterator[CalendarSource]:
    for path in paths:
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CalendarError(f"{path}: cannot read: {exc}") from exc
        yield CalendarSource(str(path), [text])


def caldav_sources(
    url: str,
    start: dt.datetime,
    end: dt.datetime,
    *,
    username: str | None = None,
    password: str | None = None,
) -> Iterator[CalendarSource]:
    """Every calendar at or below ``url`` (a calendar, or a user's calendar
    home), with the objects that have occurrences in [start, end)."""
    import caldav
    from caldav.elements import dav
    from caldav.lib.error import DAVError

    client: Any = caldav.DAVClient(  # type: ignore[operator]
        url=url,
        username=username,
        password=password,
        require_tls=url.startswith("https:"),
        enable_rfc6764=False,
        timeout=30,
    )
    try:  # a calendar home lists its calendars; a calendar lists none
        found = list(caldav.CalendarSet(client, url=url).calendars())  # type: ignore[operator]
    except DAVError:
        found = []
    calendars = found or [client.calendar(url=url)]
    for cal in calendars:
        objects = cal.search(start=start, end=end, event=True, expand=False)
        try:
            token = cal.get_property(dav.SyncToken())
        except DAVError:
            token = None
        yield CalendarSource(
            str(cal.url),
            [str(o.data) for o in objects],
            name=cal.get_display_name(),
            sync_token=str(token) if token else None,
        )


# --------------------------------------------------------------------- rooms
def _norm(ref: str) -> str:
    """A calendar reference to compare: lower case, path only for URLs, no
    trailing slash, no mailto:."""
    ref = unquote(ref.strip().lower().removeprefix("mailto:"))
    if "://" in ref:
        ref = urlsplit(ref).path
    return ref.rstrip("/")


def resolve_room(source: CalendarSource, rooms: pd.DataFrame) -> str | None:
    """The room whose ``calendar`` names this calendar: the same URL or path, a
    path ending in it, an email address in the path, or the calendar's display
    name (X-WR-CALNAME for files). ``rooms``: space_id, calendar."""
    key = _norm(source.key)
    name = _norm(source.name or "")
    for space_id, ref in zip(rooms["space_id"], rooms["calendar"], strict=True):
        if not isinstance(ref, str) or not ref.strip():
            continue
        r = _norm(ref)
        segments = key.split("/")
        if key == r or key.endswith("/" + r.lstrip("/")) or r in segments or r == name:
            return str(space_id)
    return None


def room_from_attendees(occurrences: pd.DataFrame, rooms: pd.DataFrame) -> str | None:
    """The one room whose resource email is invited (ATTENDEE;CUTYPE=ROOM) to
    the calendar's events, or None when none or several are."""
    by_email = {
        _norm(str(ref)): str(sid)
        for sid, ref in zip(rooms["space_id"], rooms["calendar"], strict=True)
        if isinstance(ref, str) and "@" in ref
    }
    found = {
        by_email[_norm(a)]
        for resources in occurrences["resources"]
        for a in resources
        if _norm(a) in by_email
    }
    return found.pop() if len(found) == 1 else None


# --------------------------------------------------------------------- sync
_KEY = ["uid", "recurrence_id"]


def expand_source(
    source: CalendarSource, start: dt.datetime, end: dt.datetime, tz: str
) -> tuple[pd.DataFrame, str | None, dict[str, int]]:
    """All occurrences of the source's objects in the window (last copy of a
    key wins), its calendar name, and what was skipped with counts."""
    frames: list[pd.DataFrame] = []
    skipped: dict[str, int] = {}
    name = source.name
    for text in source.texts:
        exp = expand_calendar(text, start, end, default_tz=tz, source=source.key)
        frames.append(exp.frame)
        name = name or exp.name
        for why, n in exp.skipped.items():
            skipped[why] = skipped.get(why, 0) + n
    frame = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=BOOKING_COLUMNS)
    )
    return (
        frame.drop_duplicates(_KEY, keep="last").reset_index(drop=True),
        name,
        skipped,
    )


def sync_source(
    conn: Connection,
    source: CalendarSource,
    room_id: str,
    occurrences: pd.DataFrame,
    window: tuple[dt.datetime, dt.datetime],
    *,
    force: bool = False,
) -> SyncReport:
    """Bring the stored bookings of this calendar and window in line with
    ``occurrences`` (from :func:`expand_source`), in one transaction."""
    report = SyncReport(source.key, room_id)
    with conn, conn.cursor() as cur:
        if not force and _unchanged(cur, source, room_id, window):
            report.skipped = "unchanged since the last sync (same sync token)"
            return report
        stored = _stored(cur, room_id, source.key, window)
        plan = _diff(stored, occurrences)
        old = pd.concat([plan["removed"], plan["changed_old"]])
        _delete(cur, room_id, old)
        new = pd.concat([plan["added"], plan["changed_new"]])
        report.skipped = _insert(cur, room_id, source.key, new)
        _save_state(cur, source, room_id, window)
    report.added, report.changed = len(plan["added"]), len(plan["changed_new"])
    report.removed, report.unchanged = len(plan["removed"]), plan["unchanged"]
    logger.info("%s", report)
    return report


def _unchanged(
    cur: Cursor,
    source: CalendarSource,
    room_id: str,
    window: tuple[dt.datetime, dt.datetime],
) -> bool:
    if source.sync_token is None:
        return False
    cur.execute(
        "SELECT sync_token, room_id, window_start, window_end FROM calendar_sync_state "
        "WHERE calendar = %s",
        (source.key,),
    )
    row = cur.fetchone()
    return bool(
        row
        and row[0] == source.sync_token
        and row[1] == room_id
        and row[2] <= window[0]
        and row[3] >= window[1]
    )


def _stored(
    cur: Cursor, room_id: str, calendar: str, window: tuple[dt.datetime, dt.datetime]
) -> pd.DataFrame:
    cur.execute(
        """SELECT uid, recurrence_id, start_ts, end_ts, expected_attendees
             FROM calendar_booking_events
            WHERE room_id = %s AND calendar = %s AND end_ts > %s AND start_ts < %s""",
        (room_id, calendar, *window),
    )
    frame = pd.DataFrame(
        cur.fetchall(),
        columns=["uid", "recurrence_id", "start", "end", "expected_attendees"],
    )
    for col in ("start", "end"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame


def _diff(stored: pd.DataFrame, occ: pd.DataFrame) -> dict[str, Any]:
    """What to add, change (old and new versions), remove, and how many stay."""
    active = occ[~occ["cancelled"].astype(bool)][
        ["uid", "recurrence_id", "start", "end", "expected_attendees"]
    ]
    m = stored.merge(
        active, on=_KEY, how="outer", suffixes=("_old", ""), indicator=True
    )
    both = m[m["_merge"] == "both"]
    att_old = both["expected_attendees_old"].astype("Float64")
    att_new = both["expected_attendees"].astype("Float64")
    same_att = (att_old == att_new).fillna(False) | (att_old.isna() & att_new.isna())
    same = (
        (both["start_old"] == both["start"])
        & (both["end_old"] == both["end"])
        & same_att
    )
    changed = both[~same.to_numpy()]
    old_cols = {"start_old": "start", "end_old": "end"}
    return {
        "added": m[m["_merge"] == "right_only"][active.columns],
        "removed": m[m["_merge"] == "left_only"][
            ["uid", "recurrence_id", "start_old", "end_old"]
        ].rename(columns=old_cols),
        "changed_old": changed[["uid", "recurrence_id", "start_old", "end_old"]].rename(
            columns=old_cols
        ),
        "changed_new": changed[active.columns],
        "unchanged": int(same.sum()),
    }


def _delete(cur: Cursor, room_id: str, old: pd.DataFrame) -> None:
    if not len(old):
        return
    keys = list(zip(old["uid"], old["recurrence_id"], strict=True))
    times = list(zip(old["start"].tolist(), old["end"].tolist(), strict=True))
    cur.executemany(
        "DELETE FROM calendar_booking_events WHERE room_id = %s AND uid = %s "
        "AND recurrence_id = %s",
        [(room_id, u, r) for u, r in keys],
    )
    # A booking row two double-booked occurrences share stays while one does.
    cur.executemany(
        """DELETE FROM analytics_bookings b
            WHERE b.room_id = %s AND b.start_ts = %s AND b.end_ts = %s
              AND NOT EXISTS (SELECT 1 FROM calendar_booking_events e
                               WHERE e.room_id = b.room_id AND e.start_ts = b.start_ts
                                 AND e.end_ts = b.end_ts)""",
        [(room_id, s, e) for s, e in times],
    )


def _insert(cur: Cursor, room_id: str, calendar: str, new: pd.DataFrame) -> str:
    """Insert occurrences; two at the same times in one room (a double
    booking) share one booking row. Returns a note on what was merged."""
    if not len(new):
        return ""
    att = [None if pd.isna(v) else int(v) for v in new["expected_attendees"]]
    starts = [t.to_pydatetime() for t in new["start"]]
    ends = [t.to_pydatetime() for t in new["end"]]
    execute_values(
        cur,
        """INSERT INTO calendar_booking_events
             (room_id, calendar, uid, recurrence_id, start_ts, end_ts, expected_attendees)
           VALUES %s""",
        [
            (room_id, calendar, u, r, s, e, a)
            for u, r, s, e, a in zip(
                new["uid"], new["recurrence_id"], starts, ends, att, strict=True
            )
        ],
    )
    rows = {(s, e): a for s, e, a in zip(starts, ends, att, strict=True)}
    execute_values(
        cur,
        """INSERT INTO analytics_bookings (room_id, start_ts, end_ts, expected_attendees)
           VALUES %s ON CONFLICT (room_id, start_ts, end_ts)
           DO UPDATE SET expected_attendees = EXCLUDED.expected_attendees""",
        [(room_id, s, e, a) for (s, e), a in rows.items()],
    )
    doubled = len(new) - len(rows)
    return f"{doubled} double-booked occurrence(s) share a booking" if doubled else ""


def _save_state(
    cur: Cursor,
    source: CalendarSource,
    room_id: str,
    window: tuple[dt.datetime, dt.datetime],
) -> None:
    cur.execute(
        """INSERT INTO calendar_sync_state (calendar, room_id, sync_token, window_start, window_end)
           VALUES (%s, %s, %s, %s, %s)
           ON CONFLICT (calendar) DO UPDATE SET room_id = EXCLUDED.room_id,
             sync_token = EXCLUDED.sync_token, window_start = EXCLUDED.window_start,
             window_end = EXCLUDED.window_end, synced_at = now()""",
        (source.key, room_id, source.sync_token, *window),
    )
