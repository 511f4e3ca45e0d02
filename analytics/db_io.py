"""The I/O half of analytics: reads events, sightings and metadata (COPY out or
SQL), writes rollups (COPY in), the watermark and bookings. Pure computation
lives in the other analytics modules; the rollup readers in ``analytics.read_*``.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from typing import Any

import pandas as pd
from psycopg2 import sql

from occupancy.db import read_frame

logger = logging.getLogger(__name__)


#: Levels of read_utilization.
LEVELS = ("space", "room", "zone", "floor", "building", "department", "day")

ROLLUP_TABLES = (
    "analytics_space_daily",
    "analytics_space_hourly",
    "desk_daily_utilization",
    "analytics_level_buckets",
    "analytics_room_headcount",
    "analytics_dept_presence",
    "analytics_data_quality",
    "analytics_coloc_pairs",
    "analytics_coloc_zone",
    "analytics_coloc_dept",
    "analytics_coloc_badges",
    "analytics_coloc_badges_site",
)


class StoreError(RuntimeError):
    """Bad input to a store function; the message names it."""


# --------------------------------------------------------------------- raw reads
def copy_out(
    conn: Any, query: str, params: tuple[Any, ...] | dict[str, Any] = ()
) -> pd.DataFrame:
    with conn.cursor() as cur:
        bound = cur.mogrify(query, params).decode()
        buf = io.StringIO()
        cur.copy_expert(f"COPY ({bound}) TO STDOUT WITH (FORMAT csv, HEADER true)", buf)
    buf.seek(0)
    return pd.read_csv(buf)


def copy_out_arrow(
    conn: Any,
    query: str,
    params: tuple[Any, ...] | dict[str, Any],
    types: dict[str, Any],
) -> Any:
    """COPY (query) TO STDOUT as CSV into memory, parsed by Arrow's
    multi-threaded CSV reader with the given column types."""
    import pyarrow.csv as pacsv

    with conn.cursor() as cur:
        bound = cur.mogrify(query, params).decode()
        buf = io.BytesIO()
        cur.copy_expert(f"COPY ({bound}) TO STDOUT WITH (FORMAT csv, HEADER true)", buf)
    buf.seek(0)
    return pacsv.read_csv(
        buf,
        convert_options=pacsv.ConvertOptions(
            column_types=types, strings_can_be_null=True
        ),
    )


def site_timezone(conn: Any, settings: Any) -> str:
    with conn.cursor() as cur:
        cur.execute("SELECT timezone FROM sites WHERE site_id = %s", (settings.site,))
        row = cur.fetchone()
    return str(row[0]) if row else str(settings.timezone)


def read_events(conn: Any, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Occupancy events (presence, heartbeat, count) with ``start <= ts < end``:
    ts (UTC), space_id (the device's space or zone when the event has none),
    kind, value."""
    # Only the needed columns; the time as integer microseconds (no timestamp
    # text to format on the server or parse here); CSV parsed by Arrow.
    q = """SELECT (extract(epoch FROM e.ts) * 1000000)::bigint AS ts_us,
                  COALESCE(e.space_id, d.space_id, d.zone_id) AS space_id,
                  e.kind, e.value
             FROM sensor_events e LEFT JOIN devices d USING (device_id)
            WHERE e.ts >= %s AND e.ts < %s
              AND e.kind IN ('presence', 'heartbeat', 'count')"""
    import pyarrow as pa

    table = copy_out_arrow(
        conn,
        q,
        (start.to_pydatetime(), end.to_pydatetime()),
        {
            "ts_us": pa.int64(),
            "space_id": pa.string(),
            "kind": pa.string(),
            "value": pa.float64(),
        },
    )
    ts = table.column("ts_us").to_numpy(zero_copy_only=False).astype("datetime64[us]")
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(ts, utc=True),
            "space_id": table.column("space_id").to_numpy(zero_copy_only=False),
            "kind": table.column("kind").to_numpy(zero_copy_only=False),
            "value": table.column("value").to_numpy(zero_copy_only=False),
        }
    )


def read_sightings(conn: Any, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Badge sightings with ``start <= ts < end``: ts, zone_id, badge."""
    q = """SELECT b.ts, COALESCE(b.zone_id, d.zone_id) AS zone_id, b.badge
             FROM badge_sightings b LEFT JOIN devices d USING (device_id)
            WHERE b.ts >= %s AND b.ts < %s"""
    frame = copy_out(conn, q, (start.to_pydatetime(), end.to_pydatetime()))
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True, format="ISO8601")
    frame["badge"] = frame["badge"].astype(str)
    return frame


def read_badge_departments(conn: Any) -> pd.DataFrame:
    frame: pd.DataFrame = read_frame(
        conn, "SELECT badge, department_id FROM badge_departments"
    )
    return frame


def read_metadata(conn: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(spaces, zones): spaces with space_id, kind, capacity, zone_id,
    zone_kind, department_id, floor_id, building_id, site_id; zones with
    zone_id, kind, department_id, capacity, floor_id, building_id, site_id."""
    spaces: pd.DataFrame = read_frame(
        conn,
        """SELECT s.space_id, s.kind, s.capacity, s.zone_id, z.kind AS zone_kind,
                  z.department_id, z.floor_id, f.building_id, b.site_id
             FROM spaces s JOIN zones z USING (zone_id) JOIN floors f USING (floor_id)
             JOIN buildings b USING (building_id) ORDER BY s.space_id""",
    )
    zones: pd.DataFrame = read_frame(
        conn,
        """SELECT z.zone_id, z.kind, z.department_id, z.capacity, z.floor_id,
                  f.building_id, b.site_id
             FROM zones z JOIN floors f USING (floor_id) JOIN buildings b USING (building_id)
            ORDER BY z.zone_id""",
    )
    return spaces, zones


# --------------------------------------------------------------------- watermark
def max_received_at(conn: Any) -> dt.datetime | None:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT GREATEST((SELECT max(received_at) FROM sensor_events),"
            " (SELECT max(received_at) FROM badge_sightings))"
        )
        row = cur.fetchone()
    return row[0] if row else None


def read_watermark(conn: Any) -> dt.datetime | None:
    with conn.cursor() as cur:
        cur.execute("SELECT received_at FROM analytics_watermark WHERE name = 'events'")
        row = cur.fetchone()
    return row[0] if row else None


def write_watermark(conn: Any, received_at: dt.datetime) -> None:
    with conn, conn.cursor() as cur:
        cur.execute(
            """INSERT INTO analytics_watermark (name, received_at) VALUES ('events', %s)
               ON CONFLICT (name) DO UPDATE SET received_at = EXCLUDED.received_at,
                   computed_at = now()""",
            (received_at,),
        )


def event_day_range(conn: Any, tz: str) -> tuple[dt.date | None, dt.date | None]:
    """First and last local day with events or sightings."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT (min(ts) AT TIME ZONE %(tz)s)::date, (max(ts) AT TIME ZONE %(tz)s)::date
                 FROM (SELECT ts FROM sensor_events UNION ALL SELECT ts FROM badge_sightings) t""",
            {"tz": tz},
        )
        row = cur.fetchone()
    return (row[0], row[1]) if row else (None, None)


def touched_days(conn: Any, since: dt.datetime, tz: str) -> set[dt.date]:
    """Local days of events and sightings received after ``since``."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT DISTINCT (ts AT TIME ZONE %(tz)s)::date FROM sensor_events WHERE received_at > %(s)s
               UNION SELECT DISTINCT (ts AT TIME ZONE %(tz)s)::date FROM badge_sightings WHERE received_at > %(s)s""",
            {"tz": tz, "s": since},
        )
        return {r[0] for r in cur.fetchall()}


# --------------------------------------------------------------------- writes
def _array_literal(items: Any) -> str:
    esc = ('"' + str(x).replace("\\", "\\\\").replace('"', '\\"') + '"' for x in items)
    return "{" + ",".join(esc) + "}"


def copy_frame(cur: Any, table: str, frame: pd.DataFrame) -> int:
    """COPY ``frame`` into ``table`` (columns by name), CSV written by Arrow's
    C++ writer (pandas' per-cell float formatting dominated the time)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if len(frame) == 0:
        return 0
    data = pa.Table.from_pandas(frame, preserve_index=False)
    buf = io.BytesIO()
    pacsv.write_csv(data, buf, pacsv.WriteOptions(include_header=False))
    buf.seek(0)
    stmt = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, list(frame.columns))),
    )
    cur.copy_expert(stmt.as_string(cur), buf)
    return len(frame)


def write_rollups(
    conn: Any, first: dt.date, last: dt.date, frames: dict[str, pd.DataFrame]
) -> dict[str, int]:
    """Replace the rows of local days ``first``..``last`` in every rollup table
    by ``frames`` (one transaction; COPY in). Returns rows written per table."""
    written: dict[str, int] = {}
    with conn, conn.cursor() as cur:
        for table in ROLLUP_TABLES:
            cur.execute(
                sql.SQL("DELETE FROM {} WHERE day BETWEEN %s AND %s").format(
                    sql.Identifier(table)
                ),
                (first, last),
            )
            frame = frames.get(table)
            if frame is None or len(frame) == 0:
                written[table] = 0
                continue
            if table == "analytics_dept_presence":
                frame = frame.assign(badges=frame["badges"].map(_array_literal))
            written[table] = copy_frame(cur, table, frame)
    return written


def import_bookings(conn: Any, frame: pd.DataFrame) -> int:
    """Insert bookings (room_id, start, end, organiser_department,
    expected_attendees); existing (room, start, end) are updated. Returns rows."""
    dept = (
        frame["organiser_department"]
        .astype(object)
        .where(frame["organiser_department"].notna(), None)
    )
    att = (
        frame["expected_attendees"]
        .astype(object)
        .where(frame["expected_attendees"].notna(), None)
    )
    rows = list(
        zip(
            frame["room_id"].astype(str).tolist(),
            pd.to_datetime(frame["start"], utc=True).tolist(),
            pd.to_datetime(frame["end"], utc=True).tolist(),
            [None if v is None else str(v) for v in dept.tolist()],
            [None if v is None else int(v) for v in att.tolist()],
            strict=True,
        )
    )
    from psycopg2.extras import execute_values

    with conn, conn.cursor() as cur:
        execute_values(
            cur,
            """INSERT INTO analytics_bookings (room_id, start_ts, end_ts, organiser_department, expected_attendees)
               VALUES %s ON CONFLICT (room_id, start_ts, end_ts) DO UPDATE SET
               organiser_department = EXCLUDED.organiser_department,
               expected_attendees = EXCLUDED.expected_attendees""",
            rows,
            page_size=1000,
        )
    return len(rows)
