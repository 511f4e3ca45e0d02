"""The I/O half of analytics: reads events, sightings and metadata (COPY out or
SQL), writes rollups (COPY in), the watermark and bookings. Pure computation
lives in the other analytics modules; the rollup readers in ``analytics.read_*``.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from psycopg2 import sql

from analytics import coloc_bits
from analytics.copy_io import copy_out_arrow
from analytics.pgbinary import encode_copy
from analytics.space_months import forget_months
from occupancy.db import Connection, Cursor, read_frame
from occupancy.settings import Settings

if TYPE_CHECKING:
    from analytics.sites import SiteScope

from analytics.site_io import delete_site_days, site_filter

logger = logging.getLogger(__name__)


#: Levels of read_utilization.
LEVELS = ("space", "room", "zone", "floor", "building", "department", "day")

ROLLUP_TABLES = (
    "analytics_space_daily",
    "analytics_space_hourly",
    "desk_daily_utilization",
    "analytics_level_buckets",
    "analytics_level_hourly",
    "analytics_room_headcount",
    "analytics_dept_presence",
    "analytics_data_quality",
    "analytics_coloc_pairs",
    "analytics_coloc_zone",
    "analytics_coloc_dept",
    "analytics_coloc_bits",
    "analytics_coloc_bits_site",
)


class StoreError(RuntimeError):
    """Bad input to a store function; the message names it."""


def site_timezone(conn: Connection, settings: Settings) -> str:
    with conn.cursor() as cur:
        cur.execute("SELECT timezone FROM sites WHERE site_id = %s", (settings.site,))
        row = cur.fetchone()
    return str(row[0]) if row else settings.timezone


#: Kinds of occupancy events, in the order of their int2 code in the binary read.
EVENT_KINDS = ("heartbeat", "presence", "count")

_PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 UTC in Unix microseconds
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"

# One row of arrays (no per-row message and callback: a third of the read's
# CPU), decoded with numpy; the space as its 1-based position in the known
# ids (0: none), the kind as its position in EVENT_KINDS. ``unknown``: some
# event names a space outside the known ids (its text is not in the arrays:
# the caller reads CSV instead).
_EVENTS_ARRAYS = """SELECT array_agg(t.ts) AS ts, array_agg(t.code) AS code,
       array_agg(t.kind) AS kind, array_agg(t.value) AS value,
       COALESCE(bool_or(t.other IS NOT NULL), false) AS unknown
  FROM (SELECT e.ts, COALESCE(m.code, 0)::int4 AS code,
               (CASE e.kind WHEN 'heartbeat' THEN 0 WHEN 'presence' THEN 1
                ELSE 2 END)::int2 AS kind,
               COALESCE(e.value, 'NaN'::float8) AS value,
               CASE WHEN m.code IS NULL
                    THEN COALESCE(e.space_id, d.space_id, d.zone_id) END AS other
          FROM sensor_events e LEFT JOIN devices d USING (device_id)
          LEFT JOIN unnest(%(known)s::text[]) WITH ORDINALITY AS m(space_id, code)
            ON m.space_id = COALESCE(e.space_id, d.space_id, d.zone_id)
         WHERE e.ts >= %(start)s AND e.ts < %(end)s
           AND e.kind IN ('presence', 'heartbeat', 'count'){site}) t"""

_EVENT_SPACE = "COALESCE(e.space_id, d.space_id, d.zone_id)"


class _Chunks:
    """File-like sink for COPY TO: keeps the pieces, joined once at the end."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(data)
        return len(data)


def _array_field(buf: bytes, offset: int, elem: str) -> tuple[np.ndarray, int]:
    """The elements of a one-dimensional array field without NULLs (binary
    COPY: length, then ndim, flags, element type, per dimension size and
    lower bound, per element length and value) and the next field's offset."""
    length = int.from_bytes(buf[offset : offset + 4], "big", signed=True)
    offset += 4
    if length < 0:  # array_agg of no rows
        return np.zeros(0, dtype=elem), offset
    ndim = int.from_bytes(buf[offset : offset + 4], "big")
    if ndim not in (0, 1) or int.from_bytes(buf[offset + 4 : offset + 8], "big"):
        raise StoreError("unexpected array in the binary event read")
    n = int.from_bytes(buf[offset + 12 : offset + 16], "big") if ndim else 0
    width = np.dtype(elem).itemsize
    items = np.frombuffer(
        buf,
        dtype=np.dtype([("len", ">i4"), ("v", elem)]),
        count=n,
        offset=offset + 12 + 8 * ndim,
    )
    if not bool((items["len"] == width).all()):
        raise StoreError("unexpected array element in the binary event read")
    return items["v"], offset + length


def _parse_event_arrays(buf: bytes) -> dict[str, np.ndarray] | None:
    """ts, code, kind, value of a binary COPY of :data:`_EVENTS_ARRAYS`, or
    None when an event names an unknown space."""
    if not buf.startswith(_COPY_SIGNATURE):
        raise StoreError("not a binary COPY")
    offset = 19 + int.from_bytes(buf[15:19], "big")
    if int.from_bytes(buf[offset : offset + 2], "big") != 5:
        raise StoreError("unexpected row in the binary event read")
    offset += 2
    out = {}
    for name, elem in (
        ("ts", ">i8"),
        ("code", ">i4"),
        ("kind", ">i2"),
        ("value", ">f8"),
    ):
        out[name], offset = _array_field(buf, offset, elem)
    unknown = buf[offset + 4 : offset + 5] == b"\x01"
    return None if unknown else out


def read_events(
    conn: Connection,
    start: pd.Timestamp,
    end: pd.Timestamp,
    *,
    known: Sequence[str] | None = None,
    scope: SiteScope | None = None,
) -> pd.DataFrame:
    """Occupancy events (presence, heartbeat, count) with ``start <= ts < end``
    (``scope``: of that site's spaces only, :func:`analytics.site_io.site_filter`):
    ts (UTC), space_id (the device's space or zone when the event has none),
    kind, value.

    With ``known`` (every space and zone id of the metadata, unique): one binary
    COPY of one row of arrays (the space as its position in ``known``), decoded
    with numpy; space_id and kind come back categorical. When an event names a
    space outside ``known`` the events are read as CSV instead (object
    columns). Same rows and values either way."""
    where, extra = site_filter(_EVENT_SPACE, scope, "e.space_id")
    params = {"start": start.to_pydatetime(), "end": end.to_pydatetime(), **extra}
    if known:
        with conn.cursor() as cur:
            # The join on the id list makes the planner's estimate large enough
            # to JIT-compile the query, which costs more than it saves here.
            cur.execute("SET LOCAL jit = off")
            # The id list is small: hashed, not a merge join sorting every
            # event by its space's text (on disk beyond work_mem).
            cur.execute("SET LOCAL enable_mergejoin = off")
            bound = cur.mogrify(
                _EVENTS_ARRAYS.replace("{site}", where),
                {**params, "known": list(known)},
            )
            sink = _Chunks()
            cur.copy_expert(
                f"COPY ({bound.decode()}) TO STDOUT WITH (FORMAT binary)", sink
            )
            cur.execute("SET LOCAL enable_mergejoin TO DEFAULT")
        rows = _parse_event_arrays(b"".join(sink.parts))
        del sink
        if rows is not None:
            us = rows["ts"].astype(np.int64) + _PG_EPOCH_US
            return pd.DataFrame(
                {
                    "ts": pd.to_datetime(us.astype("datetime64[us]"), utc=True),
                    "space_id": pd.Categorical.from_codes(
                        rows["code"].astype(np.int64) - 1, categories=pd.Index(known)
                    ),
                    "kind": pd.Categorical.from_codes(
                        rows["kind"].astype(np.int64), categories=pd.Index(EVENT_KINDS)
                    ),
                    "value": rows["value"].astype(np.float64),
                }
            )
        logger.info("events name spaces outside the metadata: reading them as CSV")
    return _read_events_csv(conn, params, where)


def _read_events_csv(
    conn: Connection, params: dict[str, Any], where: str = ""
) -> pd.DataFrame:
    # Only the needed columns; the time as integer microseconds (no timestamp
    # text to format on the server or parse here); CSV parsed by Arrow.
    q = """SELECT (extract(epoch FROM e.ts) * 1000000)::bigint AS ts_us,
                  COALESCE(e.space_id, d.space_id, d.zone_id) AS space_id,
                  e.kind, e.value
             FROM sensor_events e LEFT JOIN devices d USING (device_id)
            WHERE e.ts >= %(start)s AND e.ts < %(end)s
              AND e.kind IN ('presence', 'heartbeat', 'count')"""
    q += where  # a fixed fragment of site_filter; its values are parameters
    import pyarrow as pa

    table = copy_out_arrow(
        conn,
        q,
        params,
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


def read_sightings(
    conn: Connection,
    start: pd.Timestamp,
    end: pd.Timestamp,
    scope: SiteScope | None = None,
) -> pd.DataFrame:
    """Badge sightings with ``start <= ts < end`` (``scope``: in that site's
    zones only, :func:`analytics.site_io.site_filter`): ts (UTC), zone_id and
    badge (categorical). The time travels as integer microseconds and the CSV
    is parsed by Arrow (no timestamp text to format or parse: most of the
    read's time before)."""
    import pyarrow as pa

    q = """SELECT (extract(epoch FROM b.ts) * 1000000)::bigint AS ts_us,
                  COALESCE(b.zone_id, d.zone_id) AS zone_id, b.badge
             FROM badge_sightings b LEFT JOIN devices d USING (device_id)
            WHERE b.ts >= %(start)s AND b.ts < %(end)s"""
    where, extra = site_filter("COALESCE(b.zone_id, d.zone_id)", scope, "b.zone_id")
    table = copy_out_arrow(
        conn,
        q + where,
        {"start": start.to_pydatetime(), "end": end.to_pydatetime(), **extra},
        {"ts_us": pa.int64(), "zone_id": pa.string(), "badge": pa.string()},
    )
    us = table.column("ts_us").to_numpy(zero_copy_only=False).astype("datetime64[us]")
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(us, utc=True),
            "zone_id": _categorical(table.column("zone_id")),
            "badge": _categorical(table.column("badge")),
        }
    )


def _categorical(column: Any) -> pd.Categorical:
    """A text column of Arrow as a categorical (dictionary-encoded in C++;
    NULL -> NaN): the co-location compute ranks the codes instead of
    factorizing every string (:func:`analytics.coloc_codes.ranks`)."""
    encoded = column.combine_chunks().dictionary_encode()
    return pd.Categorical.from_codes(
        encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False),
        categories=pd.Index(encoded.dictionary.to_numpy(zero_copy_only=False)),
    )


def read_badge_departments(conn: Connection) -> pd.DataFrame:
    """badge, department_id, valid_from, valid_to (UTC instants; NaT = open):
    the memberships with history (``occupancy people import``; local dates of
    the department's site, valid_to included), and for badges without history
    the badge register (``occupancy badges import``), valid always."""
    frame: pd.DataFrame = read_frame(
        conn,
        """SELECT m.badge, m.department_id,
                  (m.valid_from::timestamp AT TIME ZONE s.timezone) AS valid_from,
                  ((m.valid_to + 1)::timestamp AT TIME ZONE s.timezone) AS valid_to
             FROM badge_memberships m JOIN departments d USING (department_id)
             JOIN sites s USING (site_id)
           UNION ALL
           SELECT b.badge, b.department_id, NULL, NULL FROM badge_departments b
            WHERE NOT EXISTS (SELECT 1 FROM badge_memberships m WHERE m.badge = b.badge)""",
    )
    for col in ("valid_from", "valid_to"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame


def read_metadata(conn: Connection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(spaces, zones): spaces with space_id, kind, capacity, zone_id,
    zone_kind, department_id, floor_id, building_id, site_id, assigned
    (a desk of one person: analytics.privacy); zones with
    zone_id, kind, department_id, capacity, floor_id, building_id, site_id."""
    spaces: pd.DataFrame = read_frame(
        conn,
        """SELECT s.space_id, s.kind, s.capacity, s.zone_id, z.kind AS zone_kind,
                  z.department_id, z.floor_id, f.building_id, b.site_id, s.assigned
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
def event_day_range(conn: Connection, tz: str) -> tuple[dt.date | None, dt.date | None]:
    """First and last local day with events or sightings."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT (min(ts) AT TIME ZONE %(tz)s)::date, (max(ts) AT TIME ZONE %(tz)s)::date
                 FROM (SELECT ts FROM sensor_events UNION ALL SELECT ts FROM badge_sightings) t""",
            {"tz": tz},
        )
        row = cur.fetchone()
    return (row[0], row[1]) if row else (None, None)


def touched_days(
    conn: Connection, since: dt.datetime, tz: str, scope: SiteScope | None = None
) -> set[dt.date]:
    """Local days of events and sightings received after ``since`` (``scope``:
    of that site's spaces and zones, :func:`analytics.site_io.site_filter`)."""
    ev, p1 = site_filter(_EVENT_SPACE, scope, "e.space_id")
    bs, p2 = site_filter("COALESCE(b.zone_id, d.zone_id)", scope, "b.zone_id")
    with conn.cursor() as cur:
        cur.execute(
            f"""SELECT DISTINCT (e.ts AT TIME ZONE %(tz)s)::date FROM sensor_events e
                  LEFT JOIN devices d USING (device_id) WHERE e.received_at > %(s)s{ev}
               UNION SELECT DISTINCT (b.ts AT TIME ZONE %(tz)s)::date FROM badge_sightings b
                  LEFT JOIN devices d USING (device_id) WHERE b.received_at > %(s)s{bs}""",  # noqa: S608  (fixed fragments; values are parameters)
            {"tz": tz, "s": since, **p1, **p2},
        )
        return {r[0] for r in cur.fetchall()}


# --------------------------------------------------------------------- writes
def staging_table(table: str) -> str:
    """The name of ``table``'s copy during a full rewrite."""
    return f"{table}__rewrite"


def _array_literal(items: Any) -> str:
    esc = ('"' + str(x).replace("\\", "\\\\").replace('"', '\\"') + '"' for x in items)
    return "{" + ",".join(esc) + "}"


def column_types(cur: Cursor, table: str) -> dict[str, str]:
    """Column name -> type (``format_type``) of ``table``."""
    cur.execute(
        """SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
            WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped""",
        (table,),
    )
    return {str(name): str(kind) for name, kind in cur.fetchall()}


def copy_frame(
    cur: Cursor, table: str, frame: pd.DataFrame, *, binary: bool = True
) -> int:
    """COPY ``frame`` into ``table`` (columns by name): binary
    (:mod:`analytics.pgbinary`, the same stored values) when every column's
    type and values allow, else CSV written by Arrow's C++ writer (pandas'
    per-cell float formatting dominated the time)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if len(frame) == 0:
        return 0
    encoded = encode_copy(frame, column_types(cur, table)) if binary else None
    if encoded is not None:
        columns, body = encoded
        stmt = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT binary)").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        cur.copy_expert(stmt.as_string(cur), io.BytesIO(body), size=1 << 20)
        return len(frame)
    data = pa.Table.from_pandas(frame, preserve_index=False)
    buf = io.BytesIO()
    pacsv.write_csv(data, buf, pacsv.WriteOptions(include_header=False))
    buf.seek(0)
    stmt = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, list(frame.columns))),
    )
    cur.copy_expert(stmt.as_string(cur), buf, size=1 << 20)
    return len(frame)


def write_rollups(
    conn: Connection,
    first: dt.date,
    last: dt.date,
    frames: dict[str, pd.DataFrame],
    *,
    staged: bool = False,
    scope: SiteScope | None = None,
) -> dict[str, int]:
    """Replace the rows of local days ``first``..``last`` in every rollup table
    by ``frames`` (one transaction; COPY in); ``scope``: only that site's rows
    (:func:`analytics.site_io.delete_site_days`), other sites' rows are left.
    ``staged``: append to the tables of :func:`begin_rewrite` instead (they
    hold no rows of those days). Returns rows written per table."""
    written: dict[str, int] = {}
    frames = coloc_bits.as_bitmaps(conn, frames)  # per-badge frames -> bitmaps
    with conn, conn.cursor() as cur:
        # Do not wait for the WAL flush of each chunk: rollups can be recomputed,
        # and the watermark, written with a synchronous commit after them, is
        # only durable once every earlier commit's WAL is (WAL flushes in order).
        cur.execute("SET LOCAL synchronous_commit = off")
        if not staged:
            forget_months(cur, first, last)  # their month aggregates are stale
        for table in ROLLUP_TABLES:
            target = staging_table(table) if staged else table
            if not staged:
                delete_site_days(cur, table, first, last, scope)
            frame = frames.get(table)
            if table == "analytics_dept_presence" and frame is not None and len(frame):
                frame = frame.assign(badges=frame["badges"].map(_array_literal))
            # copy_frame writes nothing for an empty frame
            written[table] = 0 if frame is None else copy_frame(cur, target, frame)
    return written


def import_bookings(conn: Connection, frame: pd.DataFrame) -> int:
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
