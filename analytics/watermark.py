"""The analytics watermark: the newest arrival time the rollups have seen
(``analytics_watermark``), so an incremental ``analyze`` recomputes only the
days touched by events that arrived after it."""

from __future__ import annotations

import datetime as dt

from occupancy.db import Connection

__all__ = ["max_received_at", "read_watermark", "write_watermark"]


def max_received_at(conn: Connection) -> dt.datetime | None:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT GREATEST((SELECT max(received_at) FROM sensor_events),"
            " (SELECT max(received_at) FROM badge_sightings))"
        )
        row = cur.fetchone()
    return row[0] if row else None


def read_watermark(conn: Connection) -> dt.datetime | None:
    with conn.cursor() as cur:
        cur.execute("SELECT received_at FROM analytics_watermark WHERE name = 'events'")
        row = cur.fetchone()
    return row[0] if row else None


def write_watermark(conn: Connection, received_at: dt.datetime) -> None:
    with conn, conn.cursor() as cur:
        cur.execute(
            """INSERT INTO analytics_watermark (name, received_at) VALUES ('events', %s)
               ON CONFLICT (name) DO UPDATE SET received_at = EXCLUDED.received_at,
                   computed_at = now()""",
            (received_at,),
        )
