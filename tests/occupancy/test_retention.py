from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from occupancy.db import copy_rows
from occupancy.retention import apply_policies, apply_retention, timescaledb_license

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)


def test_raw_events_older_than_the_period_go_rollups_stay(db_conn: Any) -> None:
    days_ago = [200, 120, 91, 89, 10, 0]
    rows = [
        (
            (NOW - dt.timedelta(days=d)).isoformat(),
            "ds-a",
            "f1-finance-d001",
            "presence",
            1.0,
            i,
        )
        for i, d in enumerate(days_ago)
    ]
    badges = [
        (
            (NOW - dt.timedelta(days=d)).isoformat(),
            "ble-a",
            "f0-cafe",
            f"b{i}",
            -60.0,
            i,
        )
        for i, d in enumerate(days_ago)
    ]
    with db_conn, db_conn.cursor() as cur:
        copy_rows(
            cur,
            "sensor_events",
            ["ts", "device_id", "space_id", "kind", "value", "seq"],
            rows,
        )
        copy_rows(
            cur,
            "badge_sightings",
            ["ts", "device_id", "zone_id", "badge", "rssi", "seq"],
            badges,
        )
        cur.execute(
            "INSERT INTO desk_daily_utilization (day, space_id, occupied_s, available_s, time_used_pct)"
            " VALUES ('2025-11-13', 'f1-finance-d001', 3600, 36000, 10)"
        )
        for i in range(5):
            cur.execute(
                "INSERT INTO rejected_messages (topic, payload, reason) VALUES ('t', %s, 'bad_json')",
                (f"x{i}".encode(),),
            )
    report = apply_retention(db_conn, 90, now=NOW, rejected_max_rows=2)
    with db_conn.cursor() as cur:
        cur.execute("SELECT seq FROM sensor_events ORDER BY seq")
        assert [r[0] for r in cur.fetchall()] == [3, 4, 5]  # 89, 10 and 0 days old
        cur.execute("SELECT seq FROM badge_sightings ORDER BY seq")
        assert [r[0] for r in cur.fetchall()] == [3, 4, 5]
        cur.execute("SELECT count(*) FROM desk_daily_utilization")
        assert cur.fetchone() == (1,)
        cur.execute(
            "SELECT convert_from(payload, 'UTF8') FROM rejected_messages ORDER BY id"
        )
        assert [r[0] for r in cur.fetchall()] == ["x3", "x4"]
    assert report.cutoff == NOW - dt.timedelta(days=90)
    assert report.chunks_dropped >= 2  # daily chunks 200 and 120 days back
    assert report.rejected_deleted == 3


def test_retention_refuses_nonsense(db_conn: Any) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        apply_retention(db_conn, 0)


def test_policies_follow_the_license(db_conn: Any) -> None:
    # Debian's TimescaleDB is the Apache edition: no background policies, the
    # scheduled `occupancy db retention` job is the mechanism there.
    assert timescaledb_license(db_conn) == "apache"
    assert apply_policies(db_conn, 90) == []
