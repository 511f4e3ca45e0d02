"""Booked vs attended: per booking, the people invited (expected_attendees,
from the calendar or the CSV import) against the head count the room's
counter measured during it. Pure; the reader at the bottom does the I/O."""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pandas as pd

from analytics.buckets import booking_pieces
from analytics.calendar import Calendar, local_days_utc_range
from occupancy.db import Connection, read_frame

logger = logging.getLogger(__name__)

__all__ = ["booked_vs_attended", "read_booked_vs_attended"]


def booked_vs_attended(
    bookings: pd.DataFrame, room_buckets: pd.DataFrame, bucket_s: int
) -> pd.DataFrame:
    """Per booking (room_id, start, end UTC, expected_attendees): measured_s,
    occupied_s [s] and people_s [people*s] of the room's buckets during the
    booking (each bucket weighted by the share of it the booking covers),
    mean_people (while occupied), peak_people, no_show (measured, never
    occupied) and attended_pct = mean_people / expected_attendees [%].
    ``room_buckets``: level_id (room), bucket (epoch index), measured_s,
    occupied_s, people_s, peak_people."""
    pieces = booking_pieces(bookings, bucket_s)
    rb = room_buckets.rename(columns={"level_id": "space_id"})[
        ["space_id", "bucket", "measured_s", "occupied_s", "people_s", "peak_people"]
    ]
    j = pieces.merge(rb, on=["space_id", "bucket"], how="left").fillna(0.0)
    share = j["seconds"] / float(bucket_s)
    for col in ("measured_s", "occupied_s", "people_s"):
        j[col] = j[col] * share
    g = j.groupby("row")
    out = bookings[["room_id", "start", "end", "expected_attendees"]].reset_index(
        drop=True
    )
    for col in ("measured_s", "occupied_s", "people_s"):
        out[col] = g[col].sum().reindex(out.index, fill_value=0.0).to_numpy()
    out["peak_people"] = g["peak_people"].max().reindex(out.index, fill_value=0.0)
    occupied = out["occupied_s"].where(out["occupied_s"] > 0)
    out["mean_people"] = out["people_s"] / occupied
    out["no_show"] = (out["measured_s"] > 0) & (out["occupied_s"] == 0)
    expected = pd.to_numeric(out["expected_attendees"], errors="coerce")
    out["attended_pct"] = (
        100.0 * out["mean_people"].fillna(0.0) / expected.where(expected > 0)
    )
    out.loc[out["measured_s"] == 0, "attended_pct"] = np.nan
    return out


def read_booked_vs_attended(
    conn: Connection, cal: Calendar, start: dt.date, end: dt.date
) -> pd.DataFrame:
    """:func:`booked_vs_attended` for the bookings of the local days [start, end]."""
    from analytics.read_common import read_level_buckets

    t0, t1 = local_days_utc_range(cal, start, end)
    bookings: pd.DataFrame = read_frame(
        conn,
        """SELECT room_id, start_ts AS start, end_ts AS end, expected_attendees
             FROM analytics_bookings WHERE end_ts > %s AND start_ts < %s
            ORDER BY room_id, start_ts""",
        (t0.to_pydatetime(), t1.to_pydatetime()),
    )
    rb = read_level_buckets(conn, start, end, "room")
    rb = rb.assign(bucket=rb["bucket_start"].astype("int64") // 10**9 // cal.bucket_s)
    return booked_vs_attended(bookings, rb, cal.bucket_s)
