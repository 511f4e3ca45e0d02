"""The watermark of incremental ``analyze`` (issue #19): what arrived after
it, from one statement, and a run with nothing new that stops before
importing pandas."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest

from analytics.watermark import (
    arrivals_since,
    local_days,
    max_received_at,
    pending,
    run_marks,
    write_watermark,
)
from occupancy.db import connect, copy_rows

pytestmark = pytest.mark.integration

UTC = dt.UTC
DESK = "f0-operations-d001"


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def _events(conn: object, rows: list[tuple[str, str]]) -> None:
    """Desk presence events: (ts, received_at) in UTC."""
    with conn, conn.cursor() as cur:  # type: ignore[attr-defined]
        copy_rows(
            cur,
            "sensor_events",
            ["ts", "device_id", "space_id", "kind", "value", "seq", "received_at"],
            [
                (_at(ts), DESK, DESK, "presence", 1.0, i, _at(rec))
                for i, (ts, rec) in enumerate(rows)
            ],
        )


def _sighting(conn: object, ts: str, received_at: str) -> None:
    with conn, conn.cursor() as cur:  # type: ignore[attr-defined]
        copy_rows(
            cur,
            "badge_sightings",
            ["ts", "device_id", "zone_id", "badge", "rssi", "seq", "received_at"],
            [(_at(ts), "ble-f0-cafe", "f0-cafe", "b1", -60.0, 1, _at(received_at))],
        )


def test_arrivals_give_the_new_mark_and_the_bins_of_what_arrived(
    database_url: str,
) -> None:
    conn = connect(database_url)
    try:
        _events(
            conn,
            [
                ("2026-03-02 08:07:00", "2026-03-02 08:07:01"),  # before the mark
                ("2026-03-02 09:14:59", "2026-03-03 10:00:00"),
                ("2026-03-01 23:10:00", "2026-03-03 10:00:05"),  # late
            ],
        )
        _sighting(conn, "2026-03-03 09:30:00", "2026-03-03 10:00:09")
        mark = _at("2026-03-03 09:00:00")
        got = arrivals_since(conn, mark)
        assert got.received_at == _at("2026-03-03 10:00:09")
        assert got.mark == got.received_at
        assert got.bins == (
            _at("2026-03-01 23:00:00"),
            _at("2026-03-02 09:00:00"),
            _at("2026-03-03 09:30:00"),
        )
        # 23:10 UTC is the next local day in Amsterdam (+01:00 in March).
        assert local_days(conn, got.bins, "Europe/Amsterdam") == {
            dt.date(2026, 3, 2),
            dt.date(2026, 3, 3),
        }
        assert local_days(conn, got.bins, "UTC") == {
            dt.date(2026, 3, 1),
            dt.date(2026, 3, 2),
            dt.date(2026, 3, 3),
        }
        none = arrivals_since(conn, _at("2026-03-03 10:00:09"))
        assert none.received_at is None and none.bins == ()
        assert none.mark == _at("2026-03-03 10:00:09")
        conn.rollback()
    finally:
        conn.close()


def test_local_days_of_a_bin_across_an_odd_offset_are_both_days(
    database_url: str,
) -> None:
    """Amsterdam's local mean time (+00:19:32 until 1937): local midnight
    falls inside a UTC quarter hour, whose instants are in two local days."""
    conn = connect(database_url)
    try:
        bins = [_at("1930-01-15 23:30:00")]  # 23:49:32..00:04:32 local (winter)
        assert local_days(conn, bins, "Europe/Amsterdam") == {
            dt.date(1930, 1, 15),
            dt.date(1930, 1, 16),
        }
        assert local_days(conn, [], "Europe/Amsterdam") == set()
        conn.rollback()
    finally:
        conn.close()


def test_analyze_with_nothing_new_stops_before_pandas(database_url: str) -> None:
    conn = connect(database_url)
    try:
        _events(conn, [("2026-03-02 09:00:00", "2026-03-02 09:00:01")])
        newest = max_received_at(conn)
        assert newest is not None
        write_watermark(conn, newest)
        pend = pending(conn)
        assert pend is not None and pend.received_at is None
        conn.rollback()
    finally:
        conn.close()
    env = {**os.environ, "OCCUPANCY_DATABASE_URL": database_url}
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "occupancy", "analyze"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "incremental: 0 day(s) in 0 chunk(s), nothing received" in proc.stdout
    imported = {
        line.rsplit("|", 1)[1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "analytics.watermark" in imported  # importtime did list the imports
    assert not {"pandas", "numpy", "analytics.pipeline"} & imported


def _db_now(conn: object) -> dt.datetime:
    with conn.cursor() as cur:  # type: ignore[attr-defined]
        cur.execute("SELECT now()")
        row = cur.fetchone()
    conn.rollback()  # type: ignore[attr-defined]
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


def test_a_batch_stamped_before_the_watermark_but_committed_after_is_read(
    database_url: str,
) -> None:
    """The race of two ingesters (or one slow commit): batch A is stamped
    and committed, a run sets the watermark; batch B, stamped 60 s before A
    but committed only after the run, must still be read by the next run.
    Without the grace (0 s) the watermark is A's stamp and B is never read;
    with it the watermark stays 300 s behind the database clock."""
    conn = connect(database_url)
    try:
        now = _db_now(conn)
        write_watermark(conn, now - dt.timedelta(hours=1))
        _events(conn, [("2026-04-07 09:00:00", now.isoformat())])  # batch A
        _, since, lost = run_marks(conn, False, grace_s=0)
        _, _, kept = run_marks(conn, False, grace_s=300)
        assert since == now - dt.timedelta(hours=1)
        assert lost == now  # A's stamp
        assert kept is not None and since < kept <= now - dt.timedelta(seconds=299)
        b_stamp = now - dt.timedelta(seconds=60)
        _events(conn, [("2026-04-08 09:00:00", b_stamp.isoformat())])  # batch B
        b_bin = _at("2026-04-08 09:00:00")
        write_watermark(conn, lost)
        without = pending(conn)
        assert without is not None and b_bin not in without.bins  # B is lost
        write_watermark(conn, kept)
        with_grace = pending(conn)
        assert with_grace is not None and b_bin in with_grace.bins
        assert with_grace.received_at == now  # A is read again too: same rows
        # a full run keeps the same distance; stamps older than it are final
        full = run_marks(conn, True, grace_s=300)[2]
        assert full is not None and full <= now - dt.timedelta(seconds=299)
        assert run_marks(conn, True, grace_s=0)[2] == now
    finally:
        conn.close()
