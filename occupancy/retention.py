"""Retention of raw personal data: raw events older than ``retention_days`` are
removed, aggregates (rollups) are kept, the rejected-messages table is bounded.

With TimescaleDB whole chunks are dropped (``drop_chunks``: cheap, no bloat);
on plain PostgreSQL rows are deleted. A chunk that straddles the cut-off is
not dropped by ``drop_chunks``, so the remaining rows older than the cut-off
are deleted as well: nothing older than the period survives.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from psycopg2 import sql

from occupancy.db import Connection, has_timescaledb

logger = logging.getLogger(__name__)

__all__ = ["RAW_TABLES", "RetentionReport", "apply_policies", "apply_retention"]

#: Raw tables holding personal data, with their time column.
RAW_TABLES = ("sensor_events", "badge_sightings")


@dataclass(frozen=True)
class RetentionReport:
    cutoff: dt.datetime
    chunks_dropped: int
    rows_deleted: dict[str, int]
    rejected_deleted: int

    def __str__(self) -> str:
        rows = ", ".join(f"{t}: {n} rows" for t, n in self.rows_deleted.items())
        return (
            f"raw data before {self.cutoff.isoformat()} removed "
            f"({self.chunks_dropped} chunks dropped; {rows}); "
            f"{self.rejected_deleted} rejected messages removed"
        )


def apply_retention(
    conn: Connection,
    retention_days: int,
    *,
    now: dt.datetime | None = None,
    rejected_max_rows: int = 100_000,
) -> RetentionReport:
    """Remove raw events older than ``retention_days`` and rejected messages
    beyond the newest ``rejected_max_rows`` (or older than the period)."""
    if retention_days < 1:
        raise ValueError("retention_days must be at least 1")
    now = now or dt.datetime.now(dt.UTC)
    cutoff = now - dt.timedelta(days=retention_days)
    chunks = 0
    deleted: dict[str, int] = {}
    timescale = has_timescaledb(conn)
    with conn, conn.cursor() as cur:
        for table in RAW_TABLES:
            if timescale:
                cur.execute(
                    "SELECT count(*) FROM drop_chunks(%s::regclass, older_than => %s)",
                    (table, cutoff),
                )
                row = cur.fetchone()
                chunks += int(row[0]) if row else 0
            cur.execute(
                sql.SQL("DELETE FROM {} WHERE ts < %s").format(sql.Identifier(table)),
                (cutoff,),
            )
            deleted[table] = cur.rowcount
        cur.execute(
            """DELETE FROM rejected_messages WHERE received_at < %s OR id <= (
                   SELECT id FROM rejected_messages ORDER BY id DESC OFFSET %s LIMIT 1)""",
            (cutoff, rejected_max_rows),
        )
        rejected = cur.rowcount
    report = RetentionReport(cutoff, chunks, deleted, rejected)
    logger.info("%s", report)
    return report


def timescaledb_license(conn: Connection) -> str | None:
    """``apache`` or ``timescale`` (community), or None without TimescaleDB."""
    if not has_timescaledb(conn):
        return None
    with conn.cursor() as cur:
        cur.execute("SHOW timescaledb.license")
        row = cur.fetchone()
    conn.rollback()
    return str(row[0]) if row else None


def apply_policies(
    conn: Connection, retention_days: int, *, compress_after_days: int = 7
) -> list[str]:
    """Background retention and compression policies, where the TimescaleDB
    license allows them (the Community edition in the timescale/timescaledb
    image; not the Apache edition of Debian's package, where the daily
    ``occupancy db retention`` job does the work). Idempotent; returns what it set."""
    lic = timescaledb_license(conn)
    if lic != "timescale":
        logger.info(
            "TimescaleDB license %s: no background policies; schedule `occupancy db retention`",
            lic,
        )
        return []
    done = []
    with conn, conn.cursor() as cur:
        for table in RAW_TABLES:
            cur.execute(
                "SELECT remove_retention_policy(%s::regclass, if_exists => true)",
                (table,),
            )
            cur.execute(
                "SELECT add_retention_policy(%s::regclass, %s::interval)",
                (table, f"{retention_days} days"),
            )
            segment = "device_id"
            cur.execute(
                sql.SQL(
                    "ALTER TABLE {} SET (timescaledb.compress, "
                    "timescaledb.compress_segmentby = %s, timescaledb.compress_orderby = 'ts')"
                ).format(sql.Identifier(table)),
                (segment,),
            )
            cur.execute(
                "SELECT add_compression_policy(%s::regclass, %s::interval, if_not_exists => true)",
                (table, f"{compress_after_days} days"),
            )
            done.append(
                f"{table}: retention {retention_days} days, compression after {compress_after_days} days"
            )
    return done
