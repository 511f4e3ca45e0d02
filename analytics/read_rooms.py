"""Rollup readers for meeting rooms (right-sizing, no-shows), desk-sharing
advice, sessions, devices and the live state of the building.
"""

from __future__ import annotations

import datetime as dt
import logging

import pandas as pd

from analytics.calendar import Calendar, local_days_utc_range
from analytics.copy_io import copy_out
from analytics.desks import desk_sharing
from analytics.filters import Filters
from analytics.read_common import (
    calendar_for,
    filtered_spaces,
    guard_assigned,
    keep_groups,
    read_level_buckets,
    read_rollup,
    settings_or_default,
)
from analytics.read_meta import metadata
from analytics.rooms import booking_stats, room_sizing
from occupancy.db import Connection, read_frame
from occupancy.settings import Settings

logger = logging.getLogger(__name__)


def _bookings(
    conn: Connection, cal: Calendar, start: dt.date, end: dt.date
) -> pd.DataFrame:
    """Bookings overlapping the local days [start, end]: room_id, start, end,
    organiser_department."""
    t0, t1 = local_days_utc_range(cal, start, end)
    frame: pd.DataFrame = read_frame(
        conn,
        """SELECT room_id, start_ts AS start, end_ts AS end, organiser_department
             FROM analytics_bookings WHERE end_ts > %s AND start_ts < %s""",
        (t0.to_pydatetime(), t1.to_pydatetime()),
    )
    return frame


def _room_buckets(
    conn: Connection, cal: Calendar, start: dt.date, end: dt.date
) -> pd.DataFrame:
    """Room-level buckets of [start, end] with their bucket index (``bucket``)."""
    rb = read_level_buckets(conn, start, end, "room")
    return rb.assign(bucket=rb["bucket_start"].astype("int64") // 10**9 // cal.bucket_s)


def read_room_sizing(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    *,
    filters: Filters | None = None,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Per room: seats, head-count distribution while occupied (mean, median,
    p90, max), half_or_less_pct, single_person_pct, recommended_seats,
    seats_change, verdict, and with bookings: booked_s, no_show_pct,
    unbooked_use_pct."""
    settings = settings_or_default(settings)
    spaces, _ = metadata(conn)
    rooms = filtered_spaces(spaces[spaces["kind"] != "desk"], filters)
    hc = read_rollup(conn, "analytics_room_headcount", start, end)
    hc = hc[hc["space_id"].isin(rooms["space_id"])]
    if hc.empty:
        return pd.DataFrame(
            columns=[
                "space_id",
                "seats",
                "mean_people",
                "p90_people",
                "recommended_seats",
                "verdict",
            ]
        )
    sizing = room_sizing(hc, rooms)
    cal = calendar_for(conn, settings)
    bookings = _bookings(conn, cal, start, end)
    if len(bookings):
        stats = booking_stats(
            bookings,
            _room_buckets(conn, cal, start, end),
            cal.bucket_s,
        )
        sizing = sizing.merge(
            stats[
                [
                    "space_id",
                    "bookings",
                    "booked_s",
                    "no_show_s",
                    "no_show_pct",
                    "unbooked_occupied_s",
                    "unbooked_use_pct",
                ]
            ],
            on="space_id",
            how="left",
        )
    return sizing


def read_department_no_show(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    *,
    filters: Filters | None = None,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """No-show rate per organiser department over [start, end]: department_id,
    bookings, booked_s, no_show_s, no_show_pct, suppressed (fewer than k
    bookings or k members: values removed). Rooms are narrowed by the site,
    building, floor and zone filters; the department filter keeps that
    organiser department's row."""
    from analytics.rooms import department_no_show

    settings = settings_or_default(settings)
    spaces, _ = metadata(conn)
    room_filter = None
    if filters is not None:
        import dataclasses

        room_filter = dataclasses.replace(filters, department=None)
    rooms = filtered_spaces(spaces[spaces["kind"] != "desk"], room_filter)
    cal = calendar_for(conn, settings)
    bookings = _bookings(conn, cal, start, end)
    bookings = bookings[bookings["room_id"].isin(rooms["space_id"])]
    dept = getattr(filters, "department", None) if filters is not None else None
    if dept:
        bookings = bookings[bookings["organiser_department"] == dept]
    rb = _room_buckets(conn, cal, start, end)
    heads = read_frame(conn, "SELECT department_id, headcount FROM departments")
    return department_no_show(
        bookings,
        rb,
        cal.bucket_s,
        headcount=heads.set_index("department_id")["headcount"],
        k=settings.k_anonymity,
    )


def read_desk_sharing(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    *,
    filters: Filters | None = None,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Desks each department neighbourhood needs at its p90 daily peak."""
    spaces, _ = metadata(conn)
    lb = keep_groups(
        read_level_buckets(conn, start, end, "department"), spaces, filters
    )
    if lb.empty:
        return pd.DataFrame(columns=["level_id", "desks", "desks_needed"])
    return desk_sharing(lb).rename(columns={"level_id": "department_id"})


@guard_assigned
def read_sessions(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    *,
    filters: Filters | None = None,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Per space and local day: sessions, occupied_s, dwell_s, measured_s,
    hours_used, used_day, stuck_s."""
    spaces, _ = metadata(conn)
    keep = filtered_spaces(spaces, filters)
    daily = _space_daily(conn, start, end, None if keep is spaces else keep)
    daily = daily.merge(
        keep[["space_id", "kind", "zone_id", "floor_id"]], on="space_id"
    )
    daily["dwell_s"] = daily["occupied_s"] / daily["sessions"].where(
        daily["sessions"] > 0
    )
    return daily.sort_values(["day", "space_id"]).reset_index(drop=True)


def _space_daily(
    conn: Connection, start: dt.date, end: dt.date, keep: pd.DataFrame | None
) -> pd.DataFrame:
    """``analytics_space_daily`` of [start, end]; only the spaces of ``keep``
    (read in the database: a space's year is 260 rows, the building's 0.5 M)
    unless None."""
    if keep is None:
        return read_rollup(conn, "analytics_space_daily", start, end)
    frame = copy_out(
        conn,
        "SELECT * FROM analytics_space_daily WHERE day BETWEEN %s AND %s "
        "AND space_id = ANY(%s)",
        (start, end, keep["space_id"].astype(str).tolist()),
    )
    if frame["used_day"].dtype == object:  # COPY writes booleans as t/f
        frame["used_day"] = frame["used_day"].map({"t": True, "f": False})
    frame["space_id"] = frame["space_id"].astype(str)
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    return frame


def read_devices_report(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    *,
    filters: Filters | None = None,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Per device: kind, space, zone, last_seen, battery_pct, online, and over
    [start, end]: no_data_pct of its space and stuck_s (data quality)."""
    dev: pd.DataFrame = read_frame(
        conn,
        """SELECT d.device_id, d.kind, d.family, d.space_id, d.zone_id, d.assigned,
                  h.last_seen, h.battery_pct, h.online
             FROM devices d LEFT JOIN device_health h USING (device_id) ORDER BY d.device_id""",
    )
    spaces, _ = metadata(conn)
    if filters is not None:
        keep = filtered_spaces(spaces, filters)
        dev = dev[
            dev["space_id"].isin(keep["space_id"])
            | dev["zone_id"].isin(keep["zone_id"])
        ]
    daily = read_rollup(conn, "analytics_space_daily", start, end)
    agg = daily.groupby("space_id").agg(
        available_s=("available_s", "sum"),
        measured_s=("measured_s", "sum"),
        stuck_s=("stuck_s", "sum"),
    )
    dev = dev.merge(agg.reset_index(), on="space_id", how="left")
    dev["no_data_pct"] = (
        100.0
        * (dev["available_s"] - dev["measured_s"])
        / dev["available_s"].where(dev["available_s"] > 0)
    )
    return dev.drop(columns=["available_s", "measured_s"]).reset_index(drop=True)


def live_state(
    conn: Connection, now: dt.datetime, *, settings: Settings | None = None
) -> pd.DataFrame:
    """:func:`analytics.live.read_live` in the older shape (kept for
    ``analytics.store`` callers): space_id, kind, floor_id, state (occupied,
    free, unknown, private), people (the count of a counter, 1 or 0 of a
    presence sensor), ts (last event). No reader of its own: the states are
    read_live's."""
    from analytics.live import read_live

    live = read_live(conn, now, settings=settings)
    occupied = live["state"] == "occupied"
    people = live["people"].where(
        live["people"].notna() | ~live["state"].isin(["occupied", "vacant"]),
        occupied.astype(float),
    )
    out = live.assign(
        state=live["state"].replace({"vacant": "free"}),
        people=people,
        ts=live["last_seen"],
    )
    return out[["space_id", "kind", "floor_id", "state", "people", "ts"]]
