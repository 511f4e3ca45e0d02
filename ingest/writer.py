"""The database edge of the ingester: one transaction per batch.

Events are COPYed into temporary staging tables and moved with
``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` (duplicates = staged - inserted);
rejected messages, device health, discovered devices and the accounting row
are written in the same transaction, so a batch is all-or-nothing and the
broker is acknowledged only after it committed. A row the database refuses is
isolated by bisection and rejected with the database's reason; the rest of the
batch is kept.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg2
import psycopg2.extensions
from psycopg2.extras import execute_values

from ingest.context import DeviceInfo, Discovered
from ingest.decoders.common import Decoded
from occupancy.db import Connection, DatabaseError, connect
from occupancy.events import BADGE_COLUMNS, EVENT_COLUMNS, Event, Kind

logger = logging.getLogger(__name__)

__all__ = ["BatchResult", "DatabaseDown", "Item", "Writer"]


#: Rejected payloads are stored up to this many bytes (an oversized one is cut).
MAX_STORED_PAYLOAD = 65536


class DatabaseDown(RuntimeError):
    """The database is unreachable; the batch is kept and retried."""


@dataclass(frozen=True, slots=True)
class Item:
    """One received message and what it decoded to. ``mid`` (MQTT packet id,
    0: none), ``position`` (its place in this client's received count, -1: not
    tracked) and ``digest`` (of topic and payload; set only when the event time
    is the arrival time) let a redelivery get this arrival time back (see
    :meth:`Writer.recall_arrivals`)."""

    topic: str
    payload: bytes
    received_at: dt.datetime
    result: Decoded
    mid: int = 0
    position: int = -1
    digest: int | None = None


@dataclass
class BatchResult:
    """What one committed batch did (messages and events)."""

    accepted: int = 0
    rejected: int = 0
    ignored: int = 0
    events_inserted: int = 0
    events_duplicate: int = 0
    badges_inserted: int = 0
    badges_duplicate: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def add(self, other: BatchResult) -> None:
        for name in (
            "accepted",
            "rejected",
            "ignored",
            "events_inserted",
            "events_duplicate",
            "badges_inserted",
            "badges_duplicate",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for reason, n in other.reasons.items():
            self.reasons[reason] = self.reasons.get(reason, 0) + n


_NULL = r"\N"


def _num(value: float | None) -> str:
    return _NULL if value is None else str(value)


def _copy_text(
    cur: psycopg2.extensions.cursor, table: str, columns: Sequence[str], text: str
) -> None:
    """COPY ``text`` (tab-separated lines in ``columns`` order) into ``table``.
    Values are validated ids, enums, numbers and ISO datetimes: no tab, newline
    or backslash can occur, so COPY's text format needs no escaping."""
    cur.copy_expert(
        f"COPY {table} ({', '.join(columns)}) FROM STDIN", io.StringIO(text)
    )


_EV = ", ".join(EVENT_COLUMNS)
_BG = ", ".join(BADGE_COLUMNS)
# Fixed names from occupancy.events, never input.
_MOVE_EVENTS = (
    f"INSERT INTO sensor_events ({_EV}) SELECT {_EV} FROM ingest_stage_events "  # noqa: S608
    "ON CONFLICT DO NOTHING"
)
_MOVE_ARRIVALS = (
    "INSERT INTO ingest_arrivals (client_id, mid, position, digest, received_at) "
    "SELECT client_id, mid, position, digest, received_at FROM ingest_stage_arrivals "
    "ON CONFLICT (client_id, mid) DO UPDATE SET position = EXCLUDED.position, "
    "digest = EXCLUDED.digest, received_at = EXCLUDED.received_at"
)
_MOVE_BADGES = (
    f"INSERT INTO badge_sightings ({_BG}) SELECT {_BG} FROM ingest_stage_badges "  # noqa: S608
    "ON CONFLICT DO NOTHING"
)


def _event_line(e: Event, received_iso: str, space: str | None) -> str:
    """One ``sensor_events`` COPY line (EVENT_COLUMNS order)."""
    return (
        f"{e.ts.isoformat()}\t{e.device_id}\t{space or _NULL}\t{e.kind.value}\t"
        f"{_num(e.value)}\t{e.seq}\t{e.ts_source.value}\t{e.family}\t{received_iso}\n"
    )


def _badge_line(e: Event, received_iso: str, zone: str | None) -> str:
    """One ``badge_sightings`` COPY line (BADGE_COLUMNS order)."""
    return (
        f"{e.ts.isoformat()}\t{e.device_id}\t{zone or _NULL}\t{e.badge or _NULL}\t"
        f"{_num(e.rssi)}\t{e.seq}\t{e.ts_source.value}\t{e.family}\t{received_iso}\n"
    )


class Writer:
    """Writes batches of decoded messages; reconnects on demand."""

    def __init__(self, url: str, *, client_id: str, timeout_s: int = 5) -> None:
        self.url = url
        self.client_id = client_id
        # COPY text escaping for the one free-text value we write ourselves
        self._client_copy = (
            client_id.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
        )
        self.timeout_s = timeout_s
        self._conn: Connection | None = None

    # -- connection --------------------------------------------------------
    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed:
            try:
                conn = connect(
                    self.url,
                    timeout_s=self.timeout_s,
                    application_name=f"ingest:{self.client_id}",
                )
            except DatabaseError as exc:
                raise DatabaseDown(str(exc)) from exc
            with conn, conn.cursor() as cur:
                cur.execute(
                    "CREATE TEMP TABLE IF NOT EXISTS ingest_stage_events "
                    "(LIKE sensor_events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
                )
                cur.execute(
                    "CREATE TEMP TABLE IF NOT EXISTS ingest_stage_badges "
                    "(LIKE badge_sightings INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
                )
                cur.execute(
                    "CREATE TEMP TABLE IF NOT EXISTS ingest_stage_arrivals "
                    "(LIKE ingest_arrivals) ON COMMIT DELETE ROWS"
                )
                cur.execute(
                    "INSERT INTO ingest_stats (client_id) VALUES (%s) ON CONFLICT DO NOTHING",
                    (self.client_id,),
                )
            self._conn = conn
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except psycopg2.Error:
                pass
            self._conn = None

    def ping(self) -> None:
        """Raise :class:`DatabaseDown` unless the database answers."""
        try:
            with self._connection().cursor() as cur:
                cur.execute("SELECT 1")
            self._connection().rollback()
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            self.close()
            raise DatabaseDown(str(exc).strip()) from exc

    def load_devices(self) -> list[DeviceInfo]:
        """Every device of the ``devices`` table."""
        try:
            conn = self._connection()
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT device_id, kind, family, space_id, zone_id, topic, assigned FROM devices"
                )
                rows = cur.fetchall()
            conn.rollback()
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            self.close()
            raise DatabaseDown(str(exc).strip()) from exc
        return [
            DeviceInfo(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6])) for r in rows
        ]

    def received_total(self) -> int:
        """Messages this client has committed so far (``ingest_stats.received``)."""
        try:
            conn = self._connection()
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT received FROM ingest_stats WHERE client_id = %s",
                    (self.client_id,),
                )
                row = cur.fetchone()
            conn.rollback()
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            self.close()
            raise DatabaseDown(str(exc).strip()) from exc
        return int(row[0]) if row else 0

    def recall_arrivals(
        self, mids: Sequence[int]
    ) -> dict[int, tuple[int, int, dt.datetime]]:
        """The stored ``mid -> (position, digest, received_at)`` of this client."""
        if not mids:
            return {}
        try:
            conn = self._connection()
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT mid, position, digest, received_at FROM ingest_arrivals "
                    "WHERE client_id = %s AND mid = ANY(%s)",
                    (self.client_id, list(mids)),
                )
                rows = cur.fetchall()
            conn.rollback()
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            self.close()
            raise DatabaseDown(str(exc).strip()) from exc
        return {int(r[0]): (int(r[1]), int(r[2]), r[3]) for r in rows}

    # -- batches -----------------------------------------------------------
    def write(
        self, items: Sequence[Item], devices: dict[str, DeviceInfo], received: int
    ) -> BatchResult:
        """Commit ``items`` (``received`` messages taken from the broker); a row
        the database refuses is isolated and rejected, the rest kept.
        Raises :class:`DatabaseDown` when the database cannot be reached."""
        try:
            return self._write(items, devices, received)
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            self.close()
            raise DatabaseDown(
                str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            ) from exc
        except psycopg2.Error as exc:
            self._rollback()
            if len(items) == 1:
                item = items[0]
                logger.warning("database refused a row from %s: %s", item.topic, exc)
                refused = Decoded.refuse(
                    "db_refused",
                    (exc.pgerror or str(exc)).strip()[:300],
                    item.result.device_id,
                )
                return self._write(
                    [Item(item.topic, item.payload, item.received_at, refused)],
                    devices,
                    received,
                )
            mid = len(items) // 2
            out = self.write(items[:mid], devices, received)
            out.add(self.write(items[mid:], devices, 0))
            return out

    def _rollback(self) -> None:
        if self._conn is not None and not self._conn.closed:
            try:
                self._conn.rollback()
            except psycopg2.Error:
                self.close()

    def _write(
        self, items: Sequence[Item], devices: dict[str, DeviceInfo], received: int
    ) -> BatchResult:
        res = BatchResult()
        events: list[str] = []
        badges: list[str] = []
        rejected: list[tuple[Any, ...]] = []
        discovered: dict[str, Discovered] = {}
        health: dict[str, list[Any]] = {}
        arrivals: dict[int, str] = {}  # mid -> COPY line; the latest position wins
        for item in items:
            r = item.result
            for d in r.discovered:
                discovered.setdefault(d.device_id, d)
            if r.rejection is not None:
                res.rejected += 1
                res.reasons[r.rejection.reason] = (
                    res.reasons.get(r.rejection.reason, 0) + 1
                )
                rejected.append(
                    (
                        item.received_at,
                        item.topic.replace("\x00", "\\0"),
                        item.payload,
                        r.rejection.reason,
                        r.rejection.detail,
                        r.device_id,
                    )
                )
                continue
            if not r.events:
                res.ignored += 1
                continue
            res.accepted += 1
            received_at = item.received_at
            received_iso = received_at.isoformat()
            if item.digest is not None and item.position >= 0 and item.mid > 0:
                arrivals[item.mid] = (
                    f"{self._client_copy}\t{item.mid}\t{item.position}\t"
                    f"{item.digest}\t{received_iso}\n"
                )
            for e in r.events:
                info = devices.get(e.device_id)
                kind = e.kind
                if kind is Kind.BADGE:
                    badges.append(
                        _badge_line(e, received_iso, info.zone_id if info else None)
                    )
                else:
                    events.append(
                        _event_line(e, received_iso, info.covers if info else None)
                    )
                h = health.get(e.device_id)
                if h is None:
                    h = health[e.device_id] = [received_at, None, None]
                elif received_at > h[0]:
                    h[0] = received_at
                if kind is Kind.BATTERY:
                    h[1] = e.value
                elif kind is Kind.AVAILABILITY:
                    h[2] = None if e.value is None else e.value > 0
                else:
                    h[2] = True
        conn = self._connection()
        with conn.cursor() as cur:
            if events:
                _copy_text(cur, "ingest_stage_events", EVENT_COLUMNS, "".join(events))
                cur.execute(_MOVE_EVENTS)
                res.events_inserted = cur.rowcount
                res.events_duplicate = len(events) - cur.rowcount
            if badges:
                _copy_text(cur, "ingest_stage_badges", BADGE_COLUMNS, "".join(badges))
                cur.execute(_MOVE_BADGES)
                res.badges_inserted = cur.rowcount
                res.badges_duplicate = len(badges) - cur.rowcount
            if arrivals:
                _copy_text(
                    cur,
                    "ingest_stage_arrivals",
                    ("client_id", "mid", "position", "digest", "received_at"),
                    "".join(arrivals.values()),
                )
                cur.execute(_MOVE_ARRIVALS)
            if rejected:
                execute_values(
                    cur,
                    "INSERT INTO rejected_messages (received_at, topic, payload, reason, detail, device_id) VALUES %s",
                    [
                        (
                            t,
                            topic,
                            psycopg2.Binary(p[:MAX_STORED_PAYLOAD]),
                            reason,
                            detail,
                            dev,
                        )
                        for t, topic, p, reason, detail, dev in rejected
                    ],
                )
            if discovered:
                execute_values(
                    cur,
                    "INSERT INTO devices (device_id, kind, family, topic, assigned) VALUES %s "
                    "ON CONFLICT (device_id) DO NOTHING",
                    [
                        (d.device_id, "unknown", d.family, d.topic, False)
                        for d in sorted(discovered.values(), key=lambda d: d.device_id)
                    ],
                )
            if health:
                execute_values(
                    cur,
                    "INSERT INTO device_health (device_id, last_seen, battery_pct, online) VALUES %s "
                    "ON CONFLICT (device_id) DO UPDATE SET "
                    "last_seen = GREATEST(device_health.last_seen, EXCLUDED.last_seen), "
                    "battery_pct = COALESCE(EXCLUDED.battery_pct, device_health.battery_pct), "
                    "online = COALESCE(EXCLUDED.online, device_health.online), updated_at = now()",
                    [(dev, *vals) for dev, vals in sorted(health.items())],
                )
            cur.execute(
                "UPDATE ingest_stats SET received = received + %s, accepted = accepted + %s, "
                "rejected = rejected + %s, ignored = ignored + %s, "
                "events_inserted = events_inserted + %s, events_duplicate = events_duplicate + %s, "
                "badges_inserted = badges_inserted + %s, badges_duplicate = badges_duplicate + %s, "
                "updated_at = now() WHERE client_id = %s",
                (
                    received,
                    res.accepted,
                    res.rejected,
                    res.ignored,
                    res.events_inserted,
                    res.events_duplicate,
                    res.badges_inserted,
                    res.badges_duplicate,
                    self.client_id,
                ),
            )
        conn.commit()
        return res
