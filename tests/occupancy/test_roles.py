"""Least privilege: each service role can do its own work and nothing else,
and every table of the schema has its line in occupancy/grants.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest
from psycopg2 import errors

from occupancy.grants import (
    ANALYTICS,
    DASHBOARD,
    INGESTER,
    ROLES,
    TABLE_GRANTS,
    _privileges,
    apply_grants,
    public_tables,
    set_role_passwords,
)

pytestmark = pytest.mark.integration

Refused = (errors.InsufficientPrivilege, errors.ReadOnlySqlTransaction)


def _as(url: str, role: str) -> str:
    p = urlsplit(url)
    return urlunsplit(p._replace(netloc=f"{role}:pw-{role}@{p.hostname}:{p.port}"))


@pytest.fixture(scope="module")
def role_urls(database_url: str) -> dict[str, str]:
    conn = psycopg2.connect(database_url)
    try:
        assert set(set_role_passwords(conn, {r: f"pw-{r}" for r in ROLES})) == set(
            ROLES
        )
    finally:
        conn.close()
    return {r: _as(database_url, r) for r in ROLES}


@pytest.fixture()
def as_role(role_urls: dict[str, str]) -> Iterator[Any]:
    opened: list[Any] = []

    def connect(role: str) -> Any:
        conn = psycopg2.connect(role_urls[role])
        conn.autocommit = True
        opened.append(conn)
        return conn

    yield connect
    for conn in opened:
        conn.close()


def _refused(conn: Any, statement: str, params: Any = None) -> str:
    with conn.cursor() as cur, pytest.raises(Refused) as info:
        cur.execute(statement, params)
    return str(info.value)


def _works(conn: Any, statement: str, params: Any = None) -> None:
    with conn.cursor() as cur:
        cur.execute(statement, params)


NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
EVENT = (
    "INSERT INTO sensor_events (ts, device_id, kind, value, seq) "
    "VALUES (%s, 'role-test', 'presence', 1, %s)"
)
BADGE = (
    "INSERT INTO badge_sightings (ts, device_id, badge, seq) "
    "VALUES (%s, 'role-test', 'b-x', 1)"
)
ROLLUP = (
    "INSERT INTO analytics_watermark (name, received_at) VALUES ('role-test', now())"
)


def test_every_table_has_a_line_in_the_grants_map(db_conn: Any) -> None:
    with db_conn.cursor() as cur:
        tables = public_tables(cur)
    missing = sorted(set(tables) - set(TABLE_GRANTS))
    assert not missing, (
        f"add these tables to occupancy/grants.py TABLE_GRANTS: {missing}"
    )
    assert apply_grants(db_conn) == []
    for access in TABLE_GRANTS.values():
        for spec in access:
            _privileges(spec)  # every line parses


def test_grants_are_idempotent_and_exact(db_conn: Any) -> None:
    def acl() -> list[Any]:
        with db_conn.cursor() as cur:
            cur.execute(
                "SELECT table_name, grantee, privilege_type FROM"
                " information_schema.role_table_grants WHERE grantee = ANY(%s)"
                " ORDER BY 1, 2, 3",
                (list(ROLES),),
            )
            return cur.fetchall()

    with db_conn, db_conn.cursor() as cur:  # a stray grant is taken back
        cur.execute(f"GRANT DELETE ON sensor_events TO {DASHBOARD}")
    apply_grants(db_conn)
    first = acl()
    apply_grants(db_conn)
    assert acl() == first
    assert ("sensor_events", DASHBOARD, "DELETE") not in first
    assert ("sensor_events", INGESTER, "INSERT") in first


def test_ingester_inserts_raw_rows_and_nothing_else(as_role: Any) -> None:
    conn = as_role(INGESTER)
    _works(conn, EVENT, (NOW, 1))
    _works(conn, BADGE, (NOW,))
    _works(
        conn,
        "INSERT INTO rejected_messages (topic, payload, reason) VALUES ('t', 'x', 'r')",
    )
    _works(conn, "SELECT device_id FROM devices LIMIT 1")
    # What ingest/writer.py does: staging tables like the raw tables, moved with
    # ON CONFLICT DO NOTHING RETURNING, the health upsert.
    _works(
        conn,
        "CREATE TEMP TABLE stage (LIKE sensor_events INCLUDING DEFAULTS);"
        "CREATE TEMP TABLE stage_b (LIKE badge_sightings INCLUDING DEFAULTS)",
    )
    _works(
        conn,
        "WITH e AS (INSERT INTO sensor_events (ts, device_id, kind, value, seq)"
        " VALUES (%s, 'role-test', 'presence', 1, 1) ON CONFLICT DO NOTHING"
        " RETURNING 1) SELECT count(*) FROM e",
        (NOW,),
    )
    _works(
        conn,
        "INSERT INTO device_health (device_id, last_seen) VALUES ('role-test', now())"
        " ON CONFLICT (device_id) DO UPDATE SET last_seen ="
        " GREATEST(device_health.last_seen, EXCLUDED.last_seen)",
    )
    _refused(conn, "SELECT payload FROM rejected_messages")  # write-only
    _refused(conn, "DELETE FROM sensor_events")
    _refused(conn, "UPDATE sensor_events SET value = 0")
    _refused(conn, ROLLUP)
    _refused(conn, "DROP TABLE sensor_events")
    _refused(conn, "CREATE TABLE evil (x int)")
    _refused(conn, "COPY (SELECT 1) TO PROGRAM 'id'")


def test_analytics_reads_raw_and_writes_rollups_only(as_role: Any) -> None:
    conn = as_role(ANALYTICS)
    _works(conn, "SELECT count(*) FROM sensor_events")
    _works(conn, "SELECT count(*) FROM badge_sightings")
    _works(conn, ROLLUP)
    _works(conn, "DELETE FROM analytics_watermark WHERE name = 'role-test'")
    _refused(conn, EVENT, (NOW, 2))
    _refused(conn, "DELETE FROM sensor_events")
    _refused(conn, "INSERT INTO spaces (space_id) VALUES ('x')")
    _refused(conn, "SELECT payload FROM rejected_messages")
    _refused(conn, "DROP TABLE analytics_space_daily")
    _refused(conn, "TRUNCATE analytics_space_daily")
    _refused(conn, "COPY (SELECT 1) TO PROGRAM 'id'")
    _refused(conn, "COPY analytics_watermark TO '/tmp/x.csv'")


def test_dashboard_reads_rollups_and_metadata_read_only(as_role: Any) -> None:
    conn = as_role(DASHBOARD)
    with conn.cursor() as cur:
        cur.execute("SHOW default_transaction_read_only")
        assert cur.fetchone() == ("on",)
    _works(conn, "SELECT count(*) FROM analytics_space_daily")
    _works(conn, "SELECT count(*) FROM spaces")
    _works(conn, "SELECT reason, count(*) FROM rejected_messages GROUP BY reason")
    _works(conn, "SELECT ts, space_id, kind, value FROM sensor_events LIMIT 1")
    _refused(conn, "SELECT payload FROM rejected_messages")  # raw bytes
    _refused(conn, "SELECT badge FROM badge_sightings")
    _refused(conn, "SELECT seq FROM sensor_events")
    assert "read-only" in _refused(conn, ROLLUP)
    # Read-only is the default, not the guard: switched off, privileges still refuse.
    _works(conn, "SET default_transaction_read_only = off")
    _refused(conn, ROLLUP)
    _refused(conn, EVENT, (NOW, 3))
    _refused(conn, "DROP TABLE analytics_space_daily")
    _refused(conn, "COPY (SELECT 1) TO PROGRAM 'id'")
