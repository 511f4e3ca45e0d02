"""The badge code dictionary and the bitmap tables on PostgreSQL: writers
coding badges at the same time (parallel analyze runs) agree on every code,
known badges burn no codes, and migration 0210 converts the per-badge rows of
an upgraded database (0209's site key included) into bitmaps."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from analytics import coloc_bits
from occupancy.db import connect, list_migrations, migrate

DAY = dt.date(2026, 1, 6)  # a Tuesday


@pytest.mark.integration
def test_concurrent_writers_agree_on_the_codes(database_url: str) -> None:
    # Four writers, each its own connection, overlapping badge sets offered
    # in different orders, released together.
    sets = [
        [f"c{i:03d}" for i in range(w * 20, w * 20 + 60)][:: (-1) ** w]
        for w in range(4)
    ]
    start = threading.Barrier(len(sets))

    def code(badges: list[str]) -> dict[str, int]:
        conn = connect(database_url)
        try:
            start.wait(timeout=30)
            return coloc_bits._codes(conn, badges)
        finally:
            conn.close()

    with ThreadPoolExecutor(len(sets)) as pool:
        got = list(pool.map(code, sets))
    conn = connect(database_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT badge, code FROM analytics_badge_codes")
            stored = dict(cur.fetchall())
        for badges, codes in zip(sets, got, strict=True):
            assert set(codes) == set(badges)
            assert codes == {b: stored[b] for b in badges}
        every = {b for s in sets for b in s}
        assert every <= set(stored)
        assert len(set(stored.values())) == len(stored)  # one code per badge
        # Offering known badges again draws no value of the code sequence
        # (a conflicting row would): the new badge gets the next one.
        with conn.cursor() as cur:
            cur.execute(
                "SELECT last_value FROM pg_sequences WHERE sequencename ="
                " pg_get_serial_sequence('analytics_badge_codes', 'code')::regclass"
                "::text"
            )
            row = cur.fetchone()
        assert row is not None
        again = coloc_bits._codes(conn, [*sorted(every), "c999"])
        assert {b: again[b] for b in every} == {b: stored[b] for b in every}
        assert again["c999"] == row[0] + 1
    finally:
        conn.close()


def _migrate_before(conn: Any, version: int) -> None:
    """Apply the migrations older than ``version``, as ``migrate`` records them."""
    with conn, conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY,"
            " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for mig in list_migrations():
            if mig.version < version:
                cur.execute(mig.sql)
                cur.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                    (mig.version, mig.name),
                )


@pytest.mark.integration
@pytest.mark.parametrize("before", [209, 210])
def test_migration_0210_converts_the_badges_keeping_their_sites(
    pg_server: Any, before: int
) -> None:
    """From a database before 0209 (0209 and 0210 applied in one upgrade:
    the site-wide rows get site '') and from one at 0209 (a row per site)."""
    name = f"t_coloc_{before}_{dt.datetime.now():%H%M%S%f}"
    conn = connect(pg_server.create_database(name))
    try:
        _migrate_before(conn, before)
        zoned = [
            (DAY, "ams-z", "shared", "hr", "hr", "b2"),
            (DAY, "ams-z", "shared", "hr", "hr", "b1"),
            (DAY, "akl-z", "shared", "hr", "it", "b3"),
        ]
        # At 0209, b1 seen in both sites on one day: a row per site.
        site = [
            (DAY, "shared", "hr", "hr", "b1", "ams"),
            (DAY, "shared", "hr", "hr", "b2", "ams"),
            (DAY, "shared", "hr", "hr", "b1", "akl"),
            (DAY, "shared", "hr", "it", "b3", "akl"),
        ]
        want_bits = [("akl", "hr", "100"), ("akl", "it", "001"), ("ams", "hr", "110")]
        if before == 209:
            site = [(*r[:5], "") for r in site if r[5] == "ams" or r[4] == "b3"]
            want_bits = [("", "hr", "110"), ("", "it", "001")]
        site_cols = "day, source, department_a, department_b, badge"
        week = [(DAY - dt.timedelta(days=1), "all", "hr", "hr", "b1")]
        with conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO analytics_coloc_badges (day, zone_id, source,"
                " department_a, department_b, badge) VALUES (%s, %s, %s, %s, %s, %s)",
                zoned,
            )
            if before == 209:
                cur.executemany(
                    f"INSERT INTO analytics_coloc_badges_site ({site_cols})"
                    " VALUES (%s, %s, %s, %s, %s)",
                    [r[:5] for r in site],
                )
            else:
                cur.executemany(
                    f"INSERT INTO analytics_coloc_badges_site ({site_cols}, site_id)"
                    " VALUES (%s, %s, %s, %s, %s, %s)",
                    site,
                )
            cur.executemany(
                "INSERT INTO analytics_coloc_week_badges (week, source,"
                " department_a, department_b, badge) VALUES (%s, %s, %s, %s, %s)",
                week,
            )
        applied = [m.version for m in migrate(conn, use_timescaledb=False)]
        assert applied[: 211 - before] == list(range(before, 211))
        with conn.cursor() as cur:
            cur.execute("SELECT badge, code FROM analytics_badge_codes ORDER BY code")
            assert cur.fetchall() == [("b1", 0), ("b2", 1), ("b3", 2)]
            got = {}
            for table in (
                "analytics_coloc_bits",
                "analytics_coloc_bits_site",
                "analytics_coloc_week_bits",
            ):
                cur.execute(coloc_bits.decoded(table))
                got[table] = sorted(cur.fetchall())
            cur.execute(
                "SELECT site_id, department_b, bits::text FROM"
                " analytics_coloc_bits_site ORDER BY 1, 2"
            )
            bits = cur.fetchall()
            cur.execute("SELECT to_regclass('analytics_coloc_badges_site')")
            row = cur.fetchone()
            assert row is not None and row[0] is None
    finally:
        conn.close()
    assert got["analytics_coloc_bits"] == sorted(zoned)
    assert got["analytics_coloc_bits_site"] == sorted(
        (d, s, a, b, site_id, badge) for d, s, a, b, badge, site_id in site
    )
    assert got["analytics_coloc_week_bits"] == week
    assert bits == want_bits
