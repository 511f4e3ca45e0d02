"""``occupancy bookings sync``: room calendars (iCalendar files, CalDAV) into
the bookings that no-show and unbooked-use read."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import click

from occupancy.clictx import CliContext, pass_ctx

logger = logging.getLogger(__name__)

__all__ = ["bookings_sync"]


def _window(
    cli: CliContext, since: dt.datetime | None, until: dt.datetime | None
) -> tuple[dt.datetime, dt.datetime]:
    s = cli.settings
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = since or today - dt.timedelta(days=int(s.bookings_sync_days_back))
    end = until or today + dt.timedelta(days=int(s.bookings_sync_days_ahead))
    start = start if start.tzinfo else start.replace(tzinfo=dt.UTC)
    end = end if end.tzinfo else end.replace(tzinfo=dt.UTC)
    if end <= start:
        raise click.BadParameter("--until must be after --from")
    return start, end


def _rooms(conn: Any) -> Any:
    from occupancy.metadata import read_spaces

    spaces = read_spaces(conn)
    return spaces[spaces["kind"] != "desk"][["space_id", "calendar"]]


@click.command("sync")
@click.option(
    "--caldav",
    "caldav_urls",
    multiple=True,
    metavar="URL",
    help="A CalDAV calendar, or a calendar home holding one calendar per room "
    "(repeatable). User and password: settings caldav_username/caldav_password.",
)
@click.option(
    "--ics",
    "ics_files",
    multiple=True,
    metavar="FILE",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="An iCalendar file, one room's calendar (repeatable).",
)
@click.option(
    "--room",
    help="The room these calendars belong to (else each room's "
    "`calendar` in the building file says which calendar is its).",
)
@click.option(
    "--from",
    "since",
    type=click.DateTime(),
    help="Window start [today - bookings_sync_days_back].",
)
@click.option(
    "--until",
    type=click.DateTime(),
    help="Window end [today + bookings_sync_days_ahead].",
)
@click.option(
    "--force", is_flag=True, help="Read calendars whose sync token is unchanged."
)
@pass_ctx
def bookings_sync(
    cli: CliContext,
    caldav_urls: tuple[str, ...],
    ics_files: tuple[Path, ...],
    room: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    force: bool,
) -> None:
    """Sync bookings from room calendars (RFC 5545): recurring series expanded
    (RRULE, EXDATE, moved occurrences), time zones, cancellations, attendee
    counts as expected_attendees; all-day events ignored. Idempotent: run it
    as often as you like (cron), only what changed is written; a moved or
    cancelled meeting replaces or removes what was stored.

    \b
    Examples:
      occupancy bookings sync --caldav https://dav.example.org/rooms/
      occupancy bookings sync --ics boardroom.ics --room f1-r01
    """
    from analytics.bookings_ics import CalendarError

    if not caldav_urls and not ics_files:
        raise click.UsageError("give --caldav URL or --ics FILE (or both)")
    window = _window(cli, since, until)
    conn = cli.connect()
    errors: list[str] = []
    try:
        rooms = _rooms(conn)
        if room is not None and room not in set(rooms["space_id"]):
            raise click.ClickException(
                f"--room: {room!r} is not a room of the loaded building"
            )
        for source in _sources(cli, caldav_urls, ics_files, window, errors):
            try:
                click.echo(str(_one(cli, conn, source, rooms, room, window, force)))
            except CalendarError as exc:
                errors.append(str(exc))
                click.echo(f"error: {exc}", err=True)
    finally:
        conn.close()
    if errors:
        raise click.ClickException(
            f"{len(errors)} calendar(s) could not be synced (see above)"
        )


def _sources(
    cli: CliContext,
    caldav_urls: tuple[str, ...],
    ics_files: tuple[Path, ...],
    window: tuple[dt.datetime, dt.datetime],
    errors: list[str],
) -> Any:
    """Calendars to sync; a server that fails is reported and the rest go on."""
    from analytics.bookings_ics import CalendarError
    from analytics.bookings_sync import caldav_sources, ics_sources

    for path in ics_files:
        try:
            yield from ics_sources([path])
        except CalendarError as exc:
            errors.append(str(exc))
            click.echo(f"error: {exc}", err=True)
    s = cli.settings
    for url in caldav_urls:
        click.echo(f"reading {url} ...", err=True)
        try:
            yield from caldav_sources(
                url, *window, username=s.caldav_username, password=s.caldav_password
            )
        except Exception as exc:  # the caldav client raises many kinds; report, go on
            errors.append(f"{url}: {exc}")
            click.echo(f"error: {url}: {type(exc).__name__}: {exc}", err=True)


def _one(
    cli: CliContext,
    conn: Any,
    source: Any,
    rooms: Any,
    room: str | None,
    window: tuple[dt.datetime, dt.datetime],
    force: bool,
) -> Any:
    from analytics.bookings_sync import (
        SyncReport,
        expand_source,
        resolve_room,
        room_from_attendees,
        sync_source,
    )

    frame, name, skipped = expand_source(source, *window, cli.settings.timezone)
    source.name = name
    room_id = room or resolve_room(source, rooms) or room_from_attendees(frame, rooms)
    if room_id is None:
        return SyncReport(
            source.key,
            None,
            skipped=f"no room names this calendar ({name or 'no name'}): set the room's "
            "`calendar` in the building file, or give --room",
        )
    report = sync_source(conn, source, room_id, frame, window, force=force)
    if skipped:
        extra = ", ".join(f"{n} {why}" for why, n in sorted(skipped.items()))
        report.skipped = "; ".join(
            x for x in (report.skipped, f"ignored: {extra}") if x
        )
    return report
