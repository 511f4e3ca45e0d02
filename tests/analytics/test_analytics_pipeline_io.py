"""The fast paths of ``occupancy analyze`` give what the plain ones give:
binary event read == CSV read, categorical sessionization == object, the
read on a second connection == one connection (over several chunks)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest
from psycopg2 import sql

from analytics import store
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
