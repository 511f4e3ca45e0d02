"""The per-space month pre-aggregate (analytics.space_months, issue #16):
``read_space_agg`` combining whole months from it with the days at the ends
of a period returns the very frame summed from the daily rows, on the demo
week (conftest.seed_demo) and on desks analysed over Jan..Mar 2026 by the
real pipeline, for edge periods (whole months, month ends, a year boundary,
one day, no data); a month whose daily rows are rewritten is read from its
days until analyze refreshes it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest
from psycopg2.extras import execute_values

from analytics import space_months, store
from analytics.pipeline import run_analyze
from analytics.utilization import space_summary
from occupancy.db import connect
from occupancy.settings import load_settings

pytestmark = pytest.mark.integration

D = dt.date
PERIODS = [
    (D(2026, 1, 1), D(2026, 1, 31)),  # one whole month
    (D(2026, 1, 5), D(2026, 3, 3)),  # a whole month and days at both ends
    (D(2025, 12, 15), D(2026, 2, 28)),  # a year boundary, ends on a month end
    (D(2026, 2, 1), D(2026, 3, 31)),  # whole months only
    (D(2026, 2, 10), D(2026, 2, 10)),  # one day
    (D(2026, 1, 30), D(2026, 2, 2)),  # Fri..Mon over a month change
    (D(2026, 11, 1), D(2026, 11, 30)),  # the demo week's month
    (D(2026, 10, 1), D(2026, 12, 31)),
    (D(2026, 11, 3), D(2026, 11, 4)),  # the demo days
    (D(2025, 6, 1), D(2025, 7, 31)),  # no data
]


def _seed_months(url: str) -> None:
    """Heartbeats of 8 desks of floor f1 every 30 min of working hours on the
    weekdays of 12 Jan .. 4 Mar 2026, occupied on a pattern by desk and day,
    analysed incrementally (after the demo week)."""
    conn = connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "SELECT d.device_id, d.space_id FROM devices d JOIN spaces s"
                " USING (space_id) JOIN zones z ON z.zone_id = s.zone_id"
                " WHERE z.floor_id = 'f1' AND s.kind = 'desk'"
                " AND d.kind = 'desk_sensor' ORDER BY s.space_id LIMIT 8"
            )
            desks = cur.fetchall()
            rows: list[tuple[Any, ...]] = []
            day, seq = D(2026, 1, 12), 10_000_000
            while day <= D(2026, 3, 4):
                if day.weekday() < 5:
                    t0 = dt.datetime.combine(day, dt.time(7, 0), dt.UTC)
                    for j, (device, space) in enumerate(desks):
                        for i in range(21):
                            busy = (i + j + day.toordinal()) % 7 < 3
                            seq += 1
                            rows.append(
                                (
                                    t0 + dt.timedelta(minutes=30 * i),
                                    device,
                                    space,
                                    "heartbeat",
                                    1.0 if busy else 0.0,
                                    seq,
                                )
                            )
                day += dt.timedelta(days=1)
            execute_values(
                cur,
                "INSERT INTO sensor_events (ts, device_id, space_id, kind, value, seq)"
                " VALUES %s",
                rows,
                page_size=5000,
            )
        run_analyze(
            conn, load_settings({"database_url": url}), progress=lambda _m: None
        )
    finally:
        conn.close()


@pytest.fixture(scope="module")
def months_db(demo_db: dict[str, Any]) -> str:
    _seed_months(demo_db["url"])
    return str(demo_db["url"])


def _both(conn: Any, start: dt.date, end: dt.date) -> tuple[pd.DataFrame, ...]:
    ids = store.read_metadata(conn)[0]["space_id"].tolist()
    old = space_months.read_space_agg(conn, start, end, ids, use_months=False)
    new = space_months.read_space_agg(conn, start, end, ids)
    return old, new


def test_analyze_stores_the_months_it_touched(months_db: str) -> None:
    conn = connect(months_db)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT month FROM analytics_space_month_done ORDER BY 1")
            done = [r[0] for r in cur.fetchall()]
            cur.execute("SELECT count(DISTINCT space_id) FROM analytics_space_month")
            spaces = cur.fetchone()
        assert done == [D(2026, 1, 1), D(2026, 2, 1), D(2026, 3, 1), D(2026, 11, 1)]
        assert spaces is not None and spaces[0] >= 8
    finally:
        conn.close()


@pytest.mark.parametrize(("start", "end"), PERIODS)
def test_months_and_days_equal_the_days(
    months_db: str, start: dt.date, end: dt.date
) -> None:
    conn = connect(months_db)
    try:
        old, new = _both(conn, start, end)
        pd.testing.assert_frame_equal(new, old, check_exact=True)
        if start.year == 2026 and start.month in (1, 2):
            assert len(old) >= 8 and old["days"].sum() > 0
        spaces = store.read_metadata(conn)[0]
        if len(old):
            pd.testing.assert_frame_equal(
                space_summary(new, spaces, low=30, high=80),
                space_summary(old, spaces, low=30, high=80),
                check_exact=True,
            )
    finally:
        conn.close()


def test_a_rewritten_month_is_read_from_its_days(months_db: str) -> None:
    """write_rollups of a February day forgets February's aggregate: the
    reader sums February's days (now without that day's rows) until the next
    refresh, which stores the month again."""
    conn = connect(months_db)
    try:
        day = D(2026, 2, 11)
        feb = (D(2026, 2, 1), D(2026, 2, 28))
        before, _ = _both(conn, *feb)
        store.write_rollups(conn, day, day, {})  # the day's rows removed
        with conn.cursor() as cur:
            cur.execute(
                "SELECT 1 FROM analytics_space_month_done WHERE month = %s", feb[:1]
            )
            assert cur.fetchone() is None
        old, new = _both(conn, *feb)
        pd.testing.assert_frame_equal(new, old, check_exact=True)
        assert old["days"].sum() < before["days"].sum()
        space_months.refresh_months(conn, [day])
        old, new = _both(conn, *feb)
        pd.testing.assert_frame_equal(new, old, check_exact=True)
        run_analyze(
            conn,
            load_settings({"database_url": months_db}),
            full=True,
            progress=lambda _m: None,
        )
        old, new = _both(conn, *feb)
        pd.testing.assert_frame_equal(old, before, check_exact=True)
        pd.testing.assert_frame_equal(new, before, check_exact=True)
    finally:
        conn.close()
