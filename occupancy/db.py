"""Database access shared by every package: connections, migrations, COPY.

Values go only through query parameters; table and column names through
``psycopg2.sql.Identifier``. Bulk loads use COPY.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

__all__ = [
    "HYPERTABLES",
    "DatabaseError",
    "Migration",
    "applied_migrations",
    "connect",
    "copy_rows",
    "has_timescaledb",
    "list_migrations",
    "migrate",
]

Connection = psycopg2.extensions.connection
Cursor = psycopg2.extensions.cursor

#: Tables turned into hypertables on ``ts`` when TimescaleDB is available.
HYPERTABLES: dict[str, str] = {
    "sensor_events": "1 day",
    "badge_sightings": "1 day",
}


class DatabaseError(RuntimeError):
    """The database could not be reached or used; the message says which and why."""


#: Waits [s] before each new attempt after a temporary name-resolution
#: failure (EAI_AGAIN): about 6 s in all.
_DNS_RETRY_S = (0.2, 0.4, 0.8, 1.6, 3.2)


def _temporary_dns_failure(exc: BaseException) -> bool:
    """True for libpq's "could not translate host name ...: Temporary failure
    in name resolution" (EAI_AGAIN: the resolver did not answer), not for a
    name that does not exist or a server that refuses. A container network's
    DNS drops queries while it reloads for a container that starts
    (containers/aardvark-dns#389), e.g. the migrate job while the rest of a
    compose stack comes up."""
    text = str(exc)
    return "could not translate host name" in text and "Temporary failure" in text


def connect(
    url: str, *, timeout_s: int = 5, application_name: str = "occupancy"
) -> Connection:
    """Open a connection with a connect timeout and TCP keepalives, so a dead
    server is noticed instead of hanging. A temporary name-resolution failure
    is tried again (:data:`_DNS_RETRY_S`, each logged); every other failure,
    and the last one, raises :class:`DatabaseError` at once."""
    for wait in (*_DNS_RETRY_S, None):
        try:
            return psycopg2.connect(
                url,
                connect_timeout=timeout_s,
                application_name=application_name,
                keepalives=1,
                keepalives_idle=10,
                keepalives_interval=5,
                keepalives_count=3,
            )
        except psycopg2.OperationalError as exc:
            from occupancy.settings import mask_url

            text = str(exc).strip()
            first = text.splitlines()[0] if text else repr(exc)
            if wait is None or not _temporary_dns_failure(exc):
                raise DatabaseError(
                    f"cannot connect to {mask_url(url)}: {first}"
                ) from exc
            logger.warning("%s; trying again in %.1f s", first, wait)
            time.sleep(wait)
    raise AssertionError("unreachable")


@contextmanager
def connection(
    url: str, *, timeout_s: int = 5, application_name: str = "occupancy"
) -> Iterator[Connection]:
    conn = connect(url, timeout_s=timeout_s, application_name=application_name)
    try:
        yield conn
    finally:
        conn.close()


def has_timescaledb(conn: Connection) -> bool:
    """True when the timescaledb extension is installed in this database."""
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")
        return cur.fetchone() is not None


def timescaledb_available(conn: Connection) -> bool:
    """True when the server could load the extension (it is installed and preloaded)."""
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")
        if cur.fetchone() is None:
            return False
        cur.execute("SHOW shared_preload_libraries")
        row = cur.fetchone()
        return row is not None and "timescaledb" in str(row[0])


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


def list_migrations() -> list[Migration]:
    """All migrations shipped in ``occupancy/migrations``, by version."""
    out = []
    for entry in resources.files("occupancy.migrations").iterdir():
        m = _MIGRATION_NAME.match(entry.name)
        if m:
            out.append(Migration(int(m.group(1)), m.group(2), entry.read_text("utf-8")))
    out.sort(key=lambda mig: mig.version)
    versions = [mig.version for mig in out]
    if len(versions) != len(set(versions)):
        raise DatabaseError(f"duplicate migration versions in {versions}")
    return out


def applied_migrations(conn: Connection) -> list[int]:
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('schema_migrations')")
        row = cur.fetchone()
        if row is None or row[0] is None:
            return []
        cur.execute("SELECT version FROM schema_migrations ORDER BY version")
        return [int(r[0]) for r in cur.fetchall()]


def migrate(
    conn: Connection, *, use_timescaledb: bool | None = None
) -> list[Migration]:
    """Apply the migrations not yet applied, each in its own transaction, and
    record them in ``schema_migrations``. Idempotent. Returns what it applied.

    With TimescaleDB (auto-detected unless ``use_timescaledb`` says), the
    extension is created and :data:`HYPERTABLES` become hypertables.
    """
    if use_timescaledb is None:
        use_timescaledb = has_timescaledb(conn) or timescaledb_available(conn)
    with conn:
        with conn.cursor() as cur:
            # One migrator at a time (two ingesters starting together).
            cur.execute("SELECT pg_advisory_xact_lock(8211001)")
            if use_timescaledb:
                cur.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
            cur.execute(
                """CREATE TABLE IF NOT EXISTS schema_migrations (
                       version integer PRIMARY KEY,
                       name text NOT NULL,
                       applied_at timestamptz NOT NULL DEFAULT now())"""
            )
    done = set(applied_migrations(conn))
    applied = []
    for mig in list_migrations():
        if mig.version in done:
            continue
        logger.info("applying migration %04d_%s", mig.version, mig.name)
        with conn:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(8211001)")
                cur.execute(
                    "SELECT 1 FROM schema_migrations WHERE version = %s", (mig.version,)
                )
                if cur.fetchone():
                    continue
                cur.execute(mig.sql)
                if use_timescaledb:
                    _make_hypertables(cur)
                cur.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                    (mig.version, mig.name),
                )
        applied.append(mig)
    # Least privilege: the service roles get exactly what occupancy/grants.py says.
    from occupancy.grants import apply_grants

    apply_grants(conn)
    return applied


def _make_hypertables(cur: psycopg2.extensions.cursor) -> None:
    for table, interval in HYPERTABLES.items():
        cur.execute("SELECT to_regclass(%s)", (table,))
        row = cur.fetchone()
        if row is None or row[0] is None:
            continue
        cur.execute(
            "SELECT create_hypertable(%s::regclass, 'ts', chunk_time_interval => %s::interval,"
            " if_not_exists => true, migrate_data => true)",
            (table, interval),
        )


def is_hypertable(conn: Connection, table: str) -> bool:
    if not has_timescaledb(conn):
        return False
    with conn.cursor() as cur:
        cur.execute(
            "SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = %s",
            (table,),
        )
        return cur.fetchone() is not None


def _csv_value(value: Any) -> Any:
    if value is None:
        return r"\N"
    if isinstance(value, float) and not math.isfinite(value):
        return r"\N"
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def copy_rows(
    cur: psycopg2.extensions.cursor,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
) -> int:
    """COPY ``rows`` into ``table`` (CSV, ``\\N`` as NULL). Returns the row count."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    n = 0
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])
        n += 1
    if n == 0:
        return 0
    buf.seek(0)
    stmt = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv, NULL '\\N')").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    cur.copy_expert(stmt.as_string(cur), buf)
    return n


def copy_frame(cur: psycopg2.extensions.cursor, table: str, frame: pd.DataFrame) -> int:
    """COPY a pandas DataFrame into ``table`` (its columns must match names)."""
    if len(frame) == 0:
        return 0
    buf = io.StringIO()
    frame.to_csv(
        buf,
        index=False,
        header=False,
        na_rep="\\N",
        date_format="%Y-%m-%dT%H:%M:%S.%f%z",
    )
    buf.seek(0)
    stmt = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv, NULL '\\N')").format(
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, list(frame.columns))),
    )
    cur.copy_expert(stmt.as_string(cur), buf)
    return len(frame)


def read_frame(
    conn: Connection,
    query: str | sql.Composable,
    params: Sequence[object] | Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """Run a query and return a pandas DataFrame (COPY-free path for small reads)."""
    import pandas as pd

    with conn.cursor() as cur:
        cur.execute(query, params)
        cols = [d[0] for d in cur.description or []]
        return pd.DataFrame(cur.fetchall(), columns=cols)
