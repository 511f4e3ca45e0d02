"""The database edge of the ingester: one transaction per batch.

Rows are prepared without the database (:mod:`ingest.batch`), then events are
COPYed into temporary staging tables and moved with
``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` (duplicates = staged - inserted);
rejected messages, device health, discovered devices and the accounting row
are written in the same transaction, so a batch is all-or-nothing and the
broker is acknowledged only after it committed. A row the database refuses is
isolated by bisection and rejected with the database's reason; the rest of the
batch is kept.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from typing import Any

import psycopg2
import psycopg2.extensions

from ingest.batch import Batch, BatchResult, Health, Item, prepare
from ingest.context import DeviceInfo
from ingest.decoders.common import Decoded
from ingest.redelivery import StoredArrival
from ingest.scrub import Scrubber
from occupancy.db import Connection, DatabaseError, connect
from occupancy.events import BADGE_COLUMNS, EVENT_COLUMNS

logger = logging.getLogger(__name__)

__all__ = ["Batch", "BatchResult", "DatabaseDown", "Item", "Writer"]


class DatabaseDown(RuntimeError):
    """The database is unreachable; the batch is kept and retried."""


def _copy_text(
    cur: psycopg2.extensions.cursor, table: str, columns: Sequence[str], text: str
) -> None:
    """COPY ``text`` (tab-separated lines in ``columns`` order) into ``table``,
    sent in one piece: psycopg2 reads the file in chunks and takes the GIL back
    for each, which waits behind a thread that is decoding the next batch."""
    cur.copy_expert(
        f"COPY {table} ({', '.join(columns)}) FROM STDIN",
        io.StringIO(text),
        size=max(8192, len(text) + 1),
    )


_EV = ", ".join(EVENT_COLUMNS)
_BG = ", ".join(BADGE_COLUMNS)
# Fixed names from occupancy.events, never input.
#: A packet id is reused only after this many other messages: older arrival
#: rows can never be recalled (the recall window is smaller still).
KEEP_POSITIONS = 65535
_INSERT_ARRIVALS = (
    "INSERT INTO ingest_arrival_batches (client_id, last_position, mids, positions, "
    "digests, received_at) VALUES (%s, %s, %s::integer[], %s::bigint[], "
    "%s::bigint[], %s::timestamptz[])"
)
_PRUNE_ARRIVALS = (
    "DELETE FROM ingest_arrival_batches WHERE client_id = %s AND last_position <= %s"
)
_INSERT_REJECTED = (
    "INSERT INTO rejected_messages (received_at, topic, payload, reason, detail, "
    "device_id) VALUES "
)
_INSERT_DISCOVERED = (
    "INSERT INTO devices (device_id, kind, family, topic, assigned) VALUES {} "
    "ON CONFLICT (device_id) DO NOTHING"
)
#: devices (issue 12): unplaced devices as last heard (migration 0110)
_UPSERT_OBSERVED = (
    "INSERT INTO device_observations (device_id, family, kinds, last_topic, "
    "last_payload, last_heard, messages) VALUES {} ON CONFLICT (device_id) DO "
    "UPDATE SET family = excluded.family, kinds = ARRAY(SELECT DISTINCT "
    "unnest(device_observations.kinds || excluded.kinds) ORDER BY 1), "
    # an announcement (messages 0) never hides a message heard before
    "last_topic = CASE WHEN excluded.messages = 0 THEN device_observations.last_topic "
    "ELSE excluded.last_topic END, "
    "last_payload = CASE WHEN excluded.messages = 0 "
    "THEN device_observations.last_payload ELSE excluded.last_payload END, "
    "last_heard = greatest(device_observations.last_heard, excluded.last_heard), "
    "messages = device_observations.messages + excluded.messages"
)
_UPSERT_HEALTH = (
    "INSERT INTO device_health (device_id, last_seen, battery_pct, online) VALUES {} "
    "ON CONFLICT (device_id) DO UPDATE SET "
    "last_seen = GREATEST(device_health.last_seen, EXCLUDED.last_seen), "
    "battery_pct = COALESCE(EXCLUDED.battery_pct, device_health.battery_pct), "
    "online = COALESCE(EXCLUDED.online, device_health.online), updated_at = now()"
)
# Events and badge sightings moved from staging, and the accounting row updated
# with what was inserted, in one statement: one round trip.
_MOVE_AND_COUNT = (
    f"WITH e AS (INSERT INTO sensor_events ({_EV}) "  # noqa: S608
    f"SELECT {_EV} FROM ingest_stage_events ON CONFLICT DO NOTHING RETURNING 1), "
    f"b AS (INSERT INTO badge_sightings ({_BG}) "
    f"SELECT {_BG} FROM ingest_stage_badges ON CONFLICT DO NOTHING RETURNING 1), "
    "ne AS (SELECT count(*) AS n FROM e), nb AS (SELECT count(*) AS n FROM b), "
    "s AS (UPDATE ingest_stats SET received = received + %(received)s, "
    "accepted = accepted + %(accepted)s, rejected = rejected + %(rejected)s, "
    "ignored = ignored + %(ignored)s, "
    "events_inserted = events_inserted + (SELECT n FROM ne), "
    "events_duplicate = events_duplicate + %(events)s - (SELECT n FROM ne), "
    "badges_inserted = badges_inserted + (SELECT n FROM nb), "
    "badges_duplicate = badges_duplicate + %(badges)s - (SELECT n FROM nb), "
    "updated_at = now() WHERE client_id = %(client_id)s) "
    "SELECT (SELECT n FROM ne), (SELECT n FROM nb)"
)


def _values(
    cur: psycopg2.extensions.cursor, template: str, rows: Sequence[Sequence[Any]]
) -> bytes:
    """``rows`` as one SQL VALUES list, each value passed as a parameter."""
    return b",".join(cur.mogrify(template, row) for row in rows)


class Writer:
    """Writes batches of decoded messages; reconnects on demand."""

    def __init__(
        self,
        url: str,
        *,
        client_id: str,
        timeout_s: int = 5,
        scrub: Scrubber | None = None,
    ) -> None:
        self.url = url
        #: Takes raw identifiers out of rejected rows (the ingester sets it).
        self.scrub = scrub
        self.client_id = client_id
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
            DeviceInfo(dev, kind, family, space, zone, topic, bool(assigned))
            for dev, kind, family, space, zone, topic, assigned in rows
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
        return int(row[0]) if row else 0  # one column

    def recall_arrivals(
        self, mids: Sequence[int], after: int = -1
    ) -> dict[int, StoredArrival]:
        """The stored ``mid -> StoredArrival`` of this client,
        from batches with positions beyond ``after``; for a packet id stored
        more than once, the latest position."""
        if not mids:
            return {}
        try:
            conn = self._connection()
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT a.mid, a.position, a.digest, a.received_at "
                    "FROM ingest_arrival_batches b, "
                    "unnest(b.mids, b.positions, b.digests, b.received_at) "
                    "AS a(mid, position, digest, received_at) "
                    "WHERE b.client_id = %s AND b.last_position > %s "
                    "AND a.mid = ANY(%s) AND a.position > %s ORDER BY a.position",
                    (self.client_id, after, list(mids), after),
                )
                rows = cur.fetchall()
            conn.rollback()
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            self.close()
            raise DatabaseDown(str(exc).strip()) from exc
        return {
            int(mid): StoredArrival(int(position), int(digest), received_at)
            for mid, position, digest, received_at in rows
        }

    # -- batches -----------------------------------------------------------
    def prepare(
        self, items: Sequence[Item], devices: dict[str, DeviceInfo], received: int
    ) -> Batch:
        """The rows of ``items`` (no database access; see :func:`prepare`)."""
        return prepare(items, devices, received, self.scrub)

    def write(
        self, items: Sequence[Item], devices: dict[str, DeviceInfo], received: int
    ) -> BatchResult:
        """Commit ``items`` (``received`` messages taken from the broker) with
        their device health; a row the database refuses is isolated and
        rejected, the rest kept. Raises :class:`DatabaseDown` when the database
        cannot be reached."""
        return self.commit(self.prepare(items, devices, received), devices)

    def commit(self, batch: Batch, devices: dict[str, DeviceInfo]) -> BatchResult:
        """Commit a prepared batch (and the health rows it carries) in one
        transaction; a row the database refuses is isolated by bisection and
        rejected, the rest kept. Raises :class:`DatabaseDown` when the database
        cannot be reached."""
        try:
            return self._commit(batch)
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            self.close()
            raise DatabaseDown(
                str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            ) from exc
        except (psycopg2.Error, ValueError) as exc:
            # psycopg2 refuses some values before sending them (ValueError: a
            # NUL in a string); the database others (DataError, ...): either
            # way one row is isolated and rejected, the rest stored.
            self._rollback()
            return self._isolate(batch, devices, exc)

    def _isolate(
        self, batch: Batch, devices: dict[str, DeviceInfo], exc: Exception
    ) -> BatchResult:
        """Commit ``batch`` in halves until the refused row is alone, and
        reject that one with the reason given."""
        items = batch.items
        if len(items) == 1:
            item = items[0]
            shown = self.scrub.text(item.topic) if self.scrub else item.topic
            logger.warning("database refused a row from %r: %s", shown, exc)
            text = getattr(exc, "pgerror", None) or str(exc)
            refused = Decoded.refuse(
                "db_refused", text.strip()[:300], item.result.device_id
            )
            again = self.prepare(
                [Item(item.topic, item.payload, item.received_at, refused)],
                devices,
                batch.received,
            )
            again.health = batch.health
            return self._commit(again)
        mid = len(items) // 2
        first = self.prepare(items[:mid], devices, batch.received)
        first.health = batch.health
        out = self.commit(first, devices)
        second = self.prepare(items[mid:], devices, 0)
        second.health = {}
        out.add(self.commit(second, devices))
        return out

    def write_health(self, rows: Health) -> None:
        """Upsert device-health rows alone (the last ones at stop)."""
        if not rows:
            return
        try:
            conn = self._connection()
            with conn.cursor() as cur:
                cur.execute(self._health_sql(cur, rows))
            conn.commit()
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            self.close()
            raise DatabaseDown(str(exc).strip()) from exc

    def _rollback(self) -> None:
        if self._conn is not None and not self._conn.closed:
            try:
                self._conn.rollback()
            except psycopg2.Error:
                self.close()

    rollback = _rollback

    @staticmethod
    def _health_sql(cur: psycopg2.extensions.cursor, rows: Health) -> bytes:
        values = _values(
            cur,
            "(%s,%s,%s,%s)",
            [
                (dev, r.last_seen, r.battery_pct, r.online)
                for dev, r in sorted(rows.items())
            ],
        )
        return _UPSERT_HEALTH.encode().replace(b"{}", values)

    def _side_rows(self, cur: psycopg2.extensions.cursor, batch: Batch) -> list[bytes]:
        """The statements for rejected rows, discovered and observed devices
        and device health of ``batch`` (sent with the rest in one query string)."""
        parts: list[bytes] = []
        if batch.rejected:
            parts.append(
                _INSERT_REJECTED.encode()
                + _values(
                    cur,
                    "(%s,%s,%s,%s,%s,%s)",
                    [
                        (
                            t,
                            topic,
                            psycopg2.Binary(p),
                            reason,
                            detail,
                            dev,
                        )
                        for t, topic, p, reason, detail, dev in batch.rejected
                    ],
                )
            )
        if batch.discovered:
            values = _values(
                cur,
                "(%s,%s,%s,%s,%s)",
                [
                    (d.device_id, "unknown", d.family, d.topic, False)
                    for d in batch.discovered
                ],
            )
            parts.append(_INSERT_DISCOVERED.encode().replace(b"{}", values))
        if batch.observed:
            values = _values(
                cur,
                "(%s,%s,%s::text[],%s,%s,%s,%s)",
                [
                    (o.device_id, o.family, list(o.kinds), *o[3:])
                    for o in batch.observed
                ],
            )
            parts.append(_UPSERT_OBSERVED.encode().replace(b"{}", values))
        if batch.health:
            parts.append(self._health_sql(cur, batch.health))
        return parts

    def _commit(self, batch: Batch) -> BatchResult:
        """One transaction: COPY into the staging tables, then one query
        string for everything else, then COMMIT (four round trips at most)."""
        res = BatchResult()
        res.add(batch.counts)
        conn = self._connection()
        with conn.cursor() as cur:
            if batch.events:
                _copy_text(cur, "ingest_stage_events", EVENT_COLUMNS, batch.events)
            if batch.badges:
                _copy_text(cur, "ingest_stage_badges", BADGE_COLUMNS, batch.badges)
            parts: list[bytes] = []
            if batch.arrivals:
                last = batch.arrivals.last_position
                parts.append(
                    cur.mogrify(_INSERT_ARRIVALS, (self.client_id, *batch.arrivals))
                )
                parts.append(
                    cur.mogrify(
                        _PRUNE_ARRIVALS, (self.client_id, last - KEEP_POSITIONS)
                    )
                )
            parts += self._side_rows(cur, batch)
            parts.append(
                cur.mogrify(
                    _MOVE_AND_COUNT,
                    {
                        "received": batch.received,
                        "accepted": res.accepted,
                        "rejected": res.rejected,
                        "ignored": res.ignored,
                        "events": batch.n_events,
                        "badges": batch.n_badges,
                        "client_id": self.client_id,
                    },
                )
            )
            cur.execute(b";\n".join(parts))
            row = cur.fetchone()
            assert row is not None
            events_inserted, badges_inserted = row
            res.events_inserted = int(events_inserted)
            res.events_duplicate = batch.n_events - res.events_inserted
            res.badges_inserted = int(badges_inserted)
            res.badges_duplicate = batch.n_badges - res.badges_inserted
        conn.commit()
        return res
