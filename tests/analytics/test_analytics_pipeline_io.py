"""The fast paths of ``occupancy analyze`` give what the plain ones give:
binary event read == CSV read, categorical sessionization == object, the
read on a second connection == one connection (over several chunks), the
binary rollup COPY == CSV, the full rewrite of the rollup tables == replacing
their days."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest
from psycopg2 import sql

from analytics import db_io as store_io
from analytics import db_rewrite, store
from analytics.pgbinary import encode_copy, to_float4
from analytics.pipeline import run_analyze
from analytics.sessions import state_intervals
from occupancy.db import connect, copy_rows, read_frame
from occupancy.settings import load_settings

pytestmark = pytest.mark.integration

TZ = "Europe/Amsterdam"
DESKS = ("f0-operations-d001", "f0-operations-d002", "f1-finance-d001")
ROOM = "f0-r05"


def T(text: str) -> dt.datetime:
    return pd.Timestamp(text, tz=TZ).tz_convert("UTC").to_pydatetime()


Row = tuple[dt.datetime, str, str | None, str, float | None]


def _insert(conn: Any, rows: list[Row], seq0: int = 0) -> None:
    with conn, conn.cursor() as cur:
        copy_rows(
            cur,
            "sensor_events",
            ["ts", "device_id", "space_id", "kind", "value", "seq"],
            [(*row, seq0 + i) for i, row in enumerate(rows)],
        )


def _days(first: str, n: int) -> list[Row]:
    """Desks in at 09:00 (+ 10 min per desk) with 10-min heartbeats, out at
    12:30 on odd days and 17:00 on even ones; the room has 3 people
    10:00-11:00 (counts every 5 min, then 0)."""
    rows: list[Row] = []
    for d in pd.date_range(first, periods=n, freq="D"):
        day = f"{d:%Y-%m-%d}"
        for k, desk in enumerate(DESKS):
            start = pd.Timestamp(f"{day} 09:00", tz=TZ) + pd.Timedelta(minutes=10 * k)
            end = pd.Timestamp(f"{day} {'12:30' if d.day % 2 else '17:00'}", tz=TZ)
            dev = "ds-" + desk
            rows.append(
                (start.tz_convert("UTC").to_pydatetime(), dev, desk, "presence", 1.0)
            )
            for t in pd.date_range(start, end, freq="10min", inclusive="neither"):
                rows.append(
                    (t.tz_convert("UTC").to_pydatetime(), dev, desk, "heartbeat", 1.0)
                )
            rows.append(
                (end.tz_convert("UTC").to_pydatetime(), dev, desk, "presence", 0.0)
            )
        for m in range(0, 60, 5):
            rows.append((T(f"{day} 10:{m:02d}"), "rc-" + ROOM, ROOM, "count", 3.0))
        rows.append((T(f"{day} 11:00"), "rc-" + ROOM, ROOM, "count", 0.0))
    return rows


def _known(conn: Any) -> list[str]:
    spaces, zones = store.read_metadata(conn)
    return sorted(set(spaces["space_id"]) | set(zones["zone_id"]))


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype({"space_id": object, "kind": object})


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["ts", "space_id", "kind", "value"]).reset_index(drop=True)


def test_binary_event_read_equals_csv_and_falls_back_for_unknown_spaces(
    database_url: str,
) -> None:
    conn = connect(database_url)
    try:
        counter = read_frame(
            conn,
            "SELECT device_id, zone_id FROM devices"
            " WHERE space_id IS NULL AND zone_id IS NOT NULL LIMIT 1",
        )
        assert len(counter) == 1  # the example building has zone counters
        zdev, zone = counter["device_id"].iloc[0], counter["zone_id"].iloc[0]
        rows = _days("2026-03-02", 2)
        rows += [
            # A zone counter's event names no space: the device's zone stands in.
            (T("2026-03-02 12:00"), zdev, None, "count", 7.0),
            # No value: NaN either way (it still ends the state before it).
            (T("2026-03-02 12:05"), "ds-" + DESKS[0], DESKS[0], "heartbeat", None),
            # Not an occupancy kind: not read.
            (T("2026-03-02 12:06"), "ds-" + DESKS[0], DESKS[0], "battery", 80.0),
        ]
        _insert(conn, rows)
        start, end = (
            pd.Timestamp("2026-03-01", tz="UTC"),
            pd.Timestamp("2026-03-05", tz="UTC"),
        )
        known = _known(conn)
        fast = store.read_events(conn, start, end, known=known)
        plain = store.read_events(conn, start, end)
        assert isinstance(fast["space_id"].dtype, pd.CategoricalDtype)
        assert len(plain) == len(rows) - 1
        # Row order is the server's (the plans differ); sessionization sorts.
        pd.testing.assert_frame_equal(
            _sorted(_plain(fast)), _sorted(plain), check_exact=True
        )
        assert (plain["space_id"] == zone).sum() == 1
        assert plain["value"].isna().sum() == 1
        horizon = float(end.value) / 1e9
        pd.testing.assert_frame_equal(
            state_intervals(fast, heartbeat_timeout_s=1200, horizon_s=horizon),
            state_intervals(plain, heartbeat_timeout_s=1200, horizon_s=horizon),
            check_exact=True,
        )
        # An event naming a space the metadata does not know: the CSV read.
        _insert(
            conn,
            [(T("2026-03-03 09:00"), "ds-x", "nowhere-d1", "presence", 1.0)],
            10**6,
        )
        fallback = store.read_events(conn, start, end, known=known)
        assert fallback["space_id"].dtype == object
        pd.testing.assert_frame_equal(
            _sorted(fallback),
            _sorted(store.read_events(conn, start, end)),
            check_exact=True,
        )
        assert (fallback["space_id"] == "nowhere-d1").sum() == 1
    finally:
        with conn, conn.cursor() as cur:
            cur.execute("DELETE FROM sensor_events")
        conn.close()


def _all_rollups(conn: Any) -> dict[str, pd.DataFrame]:
    out = {}
    for table in store.ROLLUP_TABLES:
        query = sql.SQL("SELECT * FROM {}").format(sql.Identifier(table))
        frame = read_frame(conn, query.as_string(conn))
        frame = frame.drop(columns=[c for c in ("computed_at",) if c in frame.columns])
        key = [c for c in frame.columns if c != "badges"]  # badges: a list
        out[table] = frame.sort_values(key).reset_index(drop=True)
    return out


def test_reading_on_a_second_connection_gives_the_same_rollups(
    database_url: str,
) -> None:
    """30 days = 3 chunks, so reads, computes and writes overlap, and the
    shared context days of consecutive chunks are read once."""
    settings = load_settings({"database_url": database_url})
    conn = connect(database_url)
    try:
        _insert(conn, _days("2026-04-01", 30))
        one = run_analyze(conn, settings, full=True, progress=lambda m: None)
        assert one.chunks == 3
        sequential = _all_rollups(conn)
        assert len(sequential["analytics_space_daily"]) == 30 * (len(DESKS) + 1)
        opened: list[Any] = []

        def second() -> Any:
            opened.append(connect(database_url))
            return opened[-1]

        two = run_analyze(
            conn, settings, full=True, progress=lambda m: None, connect=second
        )
        assert len(opened) == 1 and opened[0].closed
        assert two.rows == one.rows and two.events == one.events
        overlapped = _all_rollups(conn)
        for table, frame in sequential.items():
            pd.testing.assert_frame_equal(overlapped[table], frame, obj=table)
        # Chunks after the first reuse the events of the two days they share
        # with the one before: three runs of one chunk each (every event read
        # fresh, cut elsewhere) give the same rollups.
        for a, b in (("04-01", "04-10"), ("04-11", "04-20"), ("04-21", "04-30")):
            run_analyze(
                conn,
                settings,
                first=dt.date.fromisoformat(f"2026-{a}"),
                last=dt.date.fromisoformat(f"2026-{b}"),
                full=True,
                progress=lambda m: None,
            )
        fresh = _all_rollups(conn)
        for table, frame in sequential.items():
            pd.testing.assert_frame_equal(fresh[table], frame, obj=table)
    finally:
        with conn, conn.cursor() as cur:
            cur.execute("DELETE FROM sensor_events")
        conn.close()


def _schema(conn: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Indexes (name, definition), constraints (name, definition) and
    privileges of every rollup table."""
    out = {}
    with conn.cursor() as cur:
        for table in store.ROLLUP_TABLES:
            cur.execute(
                """SELECT 'index', indexname, indexdef FROM pg_indexes WHERE tablename = %(t)s
                   UNION ALL SELECT 'constraint', conname, pg_get_constraintdef(oid)
                     FROM pg_constraint WHERE conrelid = %(t)s::regclass
                   UNION ALL SELECT 'grant', grantee, privilege_type
                     FROM information_schema.role_table_grants WHERE table_name = %(t)s
                   UNION ALL SELECT 'options', relname, array_to_string(reloptions, ',')
                     FROM pg_class WHERE oid = %(t)s::regclass
                   ORDER BY 1, 2, 3""",
                {"t": table},
            )
            out[table] = cur.fetchall()
    conn.rollback()
    return out


def _leftovers(conn: Any) -> list[str]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT relname FROM pg_class WHERE right(relname, 9) = '__rewrite'"
        )
        names = [r[0] for r in cur.fetchall()]
    conn.rollback()
    return names


def test_full_rewrite_equals_replacing_days_and_keeps_the_tables_schema(
    database_url: str,
) -> None:
    """A full run over every day writes index-less copies of the rollup tables
    and swaps them in: same rows as replacing the days chunk by chunk, rows of
    days without events kept, the same indexes, constraints and grants; a
    failed rewrite leaves the tables as they were and nothing behind."""
    settings = load_settings({"database_url": database_url})
    conn = connect(database_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "DO $$ BEGIN CREATE ROLE analytics_rewrite_reader NOLOGIN;"
                " EXCEPTION WHEN duplicate_object THEN NULL; END $$"
            )
            cur.execute(
                "GRANT SELECT ON analytics_space_daily TO analytics_rewrite_reader"
            )
            cur.execute("ALTER TABLE analytics_level_hourly SET (fillfactor = 90)")
            # A day outside the events (e.g. its events dropped by retention).
            cur.execute(
                """INSERT INTO analytics_space_daily VALUES ('2026-01-05', %s,
                   28800, 28800, 3600, 3600, 3600, 1, 0, 1, 1, true)""",
                (DESKS[0],),
            )
        _insert(conn, _days("2026-04-01", 30))
        before = _schema(conn)
        replaced = run_analyze(
            conn, settings, full=True, progress=lambda m: None, rewrite=False
        )
        in_place = _all_rollups(conn)
        assert _schema(conn) == before
        said: list[str] = []
        rewritten = run_analyze(
            conn, settings, full=True, progress=said.append, rewrite=True
        )
        assert any(m.startswith("analyze: indexes built") for m in said)
        assert rewritten.rows == replaced.rows and replaced.chunks == 3
        swapped = _all_rollups(conn)
        for table, frame in in_place.items():
            pd.testing.assert_frame_equal(swapped[table], frame, obj=table)
        sd = swapped["analytics_space_daily"]
        assert sd["day"].astype(str).eq("2026-01-05").sum() == 1
        assert len(sd) == 30 * (len(DESKS) + 1) + 1
        assert _schema(conn) == before
        assert ("grant", "analytics_rewrite_reader", "SELECT") in before[
            "analytics_space_daily"
        ]
        assert ("options", "analytics_level_hourly", "fillfactor=90") in before[
            "analytics_level_hourly"
        ]
        assert _leftovers(conn) == []

        # The reads fail (a closed second connection): tables untouched.
        def closed() -> Any:
            c = connect(database_url)
            c.close()
            return c

        with pytest.raises(Exception, match="closed"):
            run_analyze(
                conn,
                settings,
                full=True,
                progress=lambda m: None,
                connect=closed,
                rewrite=True,
            )
        conn.rollback()
        after_failure = _all_rollups(conn)
        for table, frame in in_place.items():
            pd.testing.assert_frame_equal(after_failure[table], frame, obj=table)
        assert _leftovers(conn) == [] and _schema(conn) == before
        other = connect(database_url)  # the rewrite lock was released
        try:
            with other.cursor() as cur:
                cur.execute("SELECT pg_try_advisory_lock(5202101)")
                assert cur.fetchone() == (True,)
        finally:
            other.close()
    finally:
        with conn, conn.cursor() as cur:
            cur.execute("DELETE FROM sensor_events")
            for table in store.ROLLUP_TABLES:
                cur.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(table)))
            cur.execute(
                "REVOKE ALL ON analytics_space_daily FROM analytics_rewrite_reader"
            )
            cur.execute("DROP ROLE analytics_rewrite_reader")
            cur.execute("ALTER TABLE analytics_level_hourly RESET (fillfactor)")
        conn.close()


def test_rewrite_swap_gives_way_to_a_reader_and_retries(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader holding a rollup table makes the swap time out, roll back and
    try again (new readers are not queued behind it for long); once the reader
    is gone the swap goes through. A reader that never lets go: the rewrite
    fails with a clear error and the tables keep their rows."""
    settings = load_settings({"database_url": database_url})
    conn = connect(database_url)
    reader = connect(database_url)
    try:
        _insert(conn, _days("2026-04-01", 30))
        run_analyze(conn, settings, full=True, progress=lambda m: None, rewrite=False)
        in_place = _all_rollups(conn)
        monkeypatch.setattr(db_rewrite, "SWAP_LOCK_TIMEOUT_MS", 50)
        waits: list[float] = []

        def reader_done(seconds: float) -> None:  # the retry's pause
            waits.append(seconds)
            reader.commit()  # the reader's transaction ends, its lock goes

        monkeypatch.setattr(db_rewrite.time, "sleep", reader_done)
        with reader.cursor() as cur:  # an open transaction holding a table
            cur.execute("SELECT count(*) FROM analytics_level_hourly")
        run_analyze(conn, settings, full=True, progress=lambda m: None, rewrite=True)
        assert len(waits) == 1  # one attempt gave way, the next one swapped
        swapped = _all_rollups(conn)
        for table, frame in in_place.items():
            pd.testing.assert_frame_equal(swapped[table], frame, obj=table)
        assert _leftovers(conn) == []

        monkeypatch.setattr(db_rewrite, "SWAP_ATTEMPTS", 3)
        monkeypatch.setattr(db_rewrite.time, "sleep", waits.append)
        with reader.cursor() as cur:  # this reader stays
            cur.execute("SELECT count(*) FROM analytics_space_hourly")
        with pytest.raises(RuntimeError, match="after 3 attempts: readers kept"):
            run_analyze(
                conn, settings, full=True, progress=lambda m: None, rewrite=True
            )
        reader.rollback()
        conn.rollback()
        kept = _all_rollups(conn)
        for table, frame in in_place.items():
            pd.testing.assert_frame_equal(kept[table], frame, obj=table)
        assert _leftovers(conn) == []
    finally:
        reader.close()
        with conn, conn.cursor() as cur:
            cur.execute("DELETE FROM sensor_events")
            for table in store.ROLLUP_TABLES:
                cur.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(table)))
        conn.close()


def test_to_float4_rounds_like_the_real_text_input() -> None:
    # Exactly halfway between two floats, the float64's shortest decimal text
    # (what CSV carries) lies above or below the midpoint, and strtof follows
    # the text: 1 + 2^-24 is written 1.0000000596046448 (> the midpoint, so
    # up to 1 + 2^-23; numpy's ties-to-even gives 1.0); 1 + 3 * 2^-24 is written
    # 1.0000001788139343 (< the midpoint, so down to 1 + 2^-23; numpy: 1 + 2^-22).
    x = np.array([1 + 2**-24, 1 + 3 * 2**-24, 0.1, 3600.0, 1.5, -0.0, np.nan])
    got = to_float4(x)
    assert got is not None and got.dtype == np.float32
    want = np.array(
        [1 + 2**-23, 1 + 2**-23, np.float32(0.1), 3600.0, 1.5, -0.0, np.nan],
        dtype=np.float32,
    )
    np.testing.assert_array_equal(got, want)
    assert np.signbit(got[5])
    assert to_float4(np.array([1e39])) is None  # the text input refuses it


def test_binary_copy_stores_what_csv_stores(database_url: str) -> None:
    """Every rollup column type through binary COPY == through CSV, compared
    in the database (floats bit for bit, with values on float32 midpoints)."""
    rng = np.random.default_rng(5)
    n = 4000
    ties = 1 + (2 * rng.integers(0, 2**20, n) + 1) * 2.0**-24  # all midpoints
    floats = np.where(rng.random(n) < 0.3, ties, rng.random(n) * 3600)
    floats[:4] = [np.inf, -0.0, 0.0, 16777217.0]
    ts = pd.Timestamp("2026-03-01", tz="UTC") + pd.to_timedelta(
        rng.integers(0, 10**6, n) * 900, unit="s"
    )
    names = np.array(["f0-d0001", "zone-é", "b", "f10-room-large"], dtype=object)
    hourly = pd.DataFrame(
        {
            "day": [
                dt.date(2026, 3, 1) + dt.timedelta(days=int(k))
                for k in rng.integers(0, 40, n)
            ],
            "hour": rng.integers(0, 24, n),
            "space_id": names[rng.integers(0, 4, n)],
            "measured_s": floats,
            "occupied_s": rng.random(n) * 1e-3,
            "people_s": rng.integers(0, 10**6, n),
            "peak_people": floats[::-1].copy(),
            "in_working_hours": rng.random(n) < 0.5,
        }
    )
    buckets = pd.DataFrame(
        {
            "bucket_start": ts,
            "day": ts.tz_convert(TZ).date,
            "level": names[rng.integers(0, 4, n)],
            "level_id": pd.Categorical(names[rng.integers(0, 4, n)]),
            "spaces": rng.integers(0, 3000, n),
            "capacity": rng.integers(0, 3000, n),
            "measured_spaces": rng.integers(0, 3000, n),
            "desks_measured": rng.integers(0, 3000, n),
            "capacity_s": floats * 1e3,
            "measured_s": floats,
            "occupied_s": rng.standard_normal(n) * 1e12,
            "people_s": ties,
            "peak_people": floats,
            "peak_desks_occupied": rng.random(n),
            "in_working_hours": rng.random(n) < 0.5,
        }
    )
    conn = connect(database_url)
    try:
        with conn.cursor() as cur:
            for table, frame in (
                ("analytics_space_hourly", hourly),
                ("analytics_level_buckets", buckets),
            ):
                assert encode_copy(frame, store_io.column_types(cur, table)) is not None
                for name in ("via_csv", "via_binary"):
                    cur.execute(
                        sql.SQL("CREATE TEMP TABLE {} (LIKE {})").format(
                            sql.Identifier(name), sql.Identifier(table)
                        )
                    )
                store.copy_frame(cur, "via_csv", frame, binary=False)
                store.copy_frame(cur, "via_binary", frame)
                for a, b in (("via_csv", "via_binary"), ("via_binary", "via_csv")):
                    cur.execute(
                        sql.SQL(
                            "SELECT count(*) FROM (SELECT * FROM {} EXCEPT ALL"
                            " SELECT * FROM {}) d"
                        ).format(sql.Identifier(a), sql.Identifier(b))
                    )
                    assert cur.fetchone() == (0,), (table, a, b)
                cur.execute("SELECT count(*) FROM via_binary")
                assert cur.fetchone() == (n,)
                cur.execute("DROP TABLE via_csv, via_binary")
            # Not representable exactly in binary: left to the CSV path.
            types = store_io.column_types(cur, "analytics_space_hourly")
            as_f32 = hourly.assign(people_s=hourly["measured_s"].astype(np.float32))
            assert encode_copy(as_f32.drop(columns="measured_s"), types) is not None
            assert encode_copy(hourly.assign(space_id=None), types) is None
            # CSV writes NaN as an empty field (NULL: refused by NOT NULL).
            assert encode_copy(hourly.assign(people_s=np.nan), types) is None
            wide = hourly.assign(hour=2**40)
            assert encode_copy(wide, types) is None
        conn.rollback()
    finally:
        conn.close()
