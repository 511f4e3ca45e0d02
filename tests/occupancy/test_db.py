"""Schema and migrations against the real PostgreSQL + TimescaleDB of the harness."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from occupancy.building import load_building
from occupancy.db import (
    applied_migrations,
    connect,
    copy_rows,
    has_timescaledb,
    is_hypertable,
    list_migrations,
    migrate,
)
from occupancy.metadata import load_site, read_devices, read_spaces

from conftest import EXAMPLE_BUILDING, PgHandle

pytestmark = pytest.mark.integration


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "occupancy", "--database-url", url, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_migrate_command_is_idempotent_and_recorded(empty_database_url: str) -> None:
    first = _cli(empty_database_url, "db", "migrate")
    assert first.returncode == 0, first.stderr
    assert (
        "applied 0001_foundation" in first.stdout and "with TimescaleDB" in first.stdout
    )
    second = _cli(empty_database_url, "db", "migrate")
    assert second.returncode == 0 and "0 applied now" in second.stdout
    conn = connect(empty_database_url)
    try:
        assert applied_migrations(conn) == [m.version for m in list_migrations()]
        assert is_hypertable(conn, "sensor_events") and is_hypertable(
            conn, "badge_sightings"
        )
    finally:
        conn.close()
    status = _cli(empty_database_url, "db", "status")
    assert "PENDING" not in status.stdout and "sensor_events: 0 rows" in status.stdout


def test_schema_works_without_timescaledb(pg_server: PgHandle) -> None:
    url = pg_server.create_database("t_plain_pg")
    conn = connect(url)
    try:
        migrate(conn, use_timescaledb=False)
        assert not has_timescaledb(conn)
        load_site(conn, load_building(EXAMPLE_BUILDING))
        with conn, conn.cursor() as cur:
            copy_rows(
                cur,
                "sensor_events",
                ["ts", "device_id", "space_id", "kind", "value", "seq"],
                [
                    (
                        "2026-03-02T08:00:00+00:00",
                        "ds-f1-finance-d001",
                        "f1-finance-d001",
                        "presence",
                        1.0,
                        1,
                    )
                ],
            )
            cur.execute("SELECT count(*) FROM sensor_events")
            assert cur.fetchone() == (1,)
    finally:
        conn.close()


def test_building_load_command_and_reload(database_url: str, tmp_path: Any) -> None:
    # The harness already loaded the example; loading again updates in place.
    out = _cli(database_url, "building", "load", str(EXAMPLE_BUILDING))
    assert out.returncode == 0, out.stderr
    assert "298 desks, 25 rooms" in out.stdout
    conn = connect(database_url)
    try:
        spaces = read_spaces(conn)
        assert len(spaces) == 323
        assert set(spaces.loc[spaces.kind == "desk", "zone_kind"]) == {"neighbourhood"}
        devices = read_devices(conn)
        assert len(devices) == 351 and devices.assigned.all()
    finally:
        conn.close()
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        EXAMPLE_BUILDING.read_text().replace(
            "timezone: Europe/Amsterdam", "timezone: Nowhere/Land"
        )
    )
    res = _cli(database_url, "building", "load", str(bad))
    assert res.returncode == 1 and "site.timezone" in res.stderr


def test_unique_key_makes_writes_idempotent(db_conn: Any) -> None:
    rows = [("2026-03-02T08:00:00+00:00", "ds-x", None, "presence", 1.0, 7)]
    cols = ["ts", "device_id", "space_id", "kind", "value", "seq"]
    with db_conn, db_conn.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE stage (LIKE sensor_events INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        copy_rows(cur, "stage", cols, rows + rows)
        cur.execute(
            "INSERT INTO sensor_events SELECT * FROM stage ON CONFLICT DO NOTHING"
        )
        assert cur.rowcount == 1
