"""analyze on a real database: stored rollups, incremental == full, exports,
bookings and k-suppression through every read path."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from analytics import coloc_bits, store
from analytics.pipeline import run_analyze
from analytics.reports import REPORTS, Filters, build_report
from occupancy.db import connect, copy_rows, read_frame
from occupancy.settings import load_settings

pytestmark = pytest.mark.integration

TZ = "Europe/Amsterdam"
D1 = "f0-operations-d001"
D2 = "f0-operations-d002"
D3 = "f0-operations-d003"
ROOM = "f0-r05"  # 6 seats


def T(text: str) -> dt.datetime:
    return pd.Timestamp(text, tz=TZ).tz_convert("UTC").to_pydatetime()


def _insert(
    conn: Any, rows: list[tuple[dt.datetime, str, str, str, float | None]]
) -> None:
    with conn, conn.cursor() as cur:
        copy_rows(
            cur,
            "sensor_events",
            ["ts", "device_id", "space_id", "kind", "value", "seq"],
            [
                (ts, dev, space, kind, value, i)
                for i, (ts, dev, space, kind, value) in enumerate(rows)
            ],
        )


def _desk(
    space: str, start: str, end: str, day: str
) -> list[tuple[dt.datetime, str, str, str, float | None]]:
    """presence 1 at start, heartbeats (1) every 5 min, presence 0 at end."""
    dev = "ds-" + space
    hb = pd.date_range(
        pd.Timestamp(f"{day} {start}", tz=TZ),
        pd.Timestamp(f"{day} {end}", tz=TZ),
        freq="5min",
        inclusive="neither",
    )
    rows: list[tuple[dt.datetime, str, str, str, float | None]] = [
        (T(f"{day} {start}"), dev, space, "presence", 1.0)
    ]
    rows += [
        (t.tz_convert("UTC").to_pydatetime(), dev, space, "heartbeat", 1.0) for t in hb
    ]
    rows.append((T(f"{day} {end}"), dev, space, "presence", 0.0))
    return rows


@pytest.fixture(scope="module")
def settings(database_url: str) -> Any:
    return load_settings({"database_url": database_url})


# The badge bitmaps (migration 0210) as the per-badge rows they stand for.
_decoded = {
    "analytics_coloc_badges": coloc_bits.decoded("analytics_coloc_bits"),
    "analytics_coloc_badges_site": coloc_bits.decoded("analytics_coloc_bits_site"),
}


def _rollups(conn: Any) -> dict[str, pd.DataFrame]:
    out = {}
    for table, key in (
        ("analytics_space_daily", ["day", "space_id"]),
        ("analytics_space_hourly", ["day", "space_id", "hour"]),
        ("desk_daily_utilization", ["day", "space_id"]),
        ("analytics_level_buckets", ["level", "level_id", "bucket_start"]),
        ("analytics_room_headcount", ["day", "space_id", "people"]),
        ("analytics_dept_presence", ["zone_id", "bucket_start", "department_id"]),
        ("analytics_data_quality", ["day", "space_id", "issue"]),
        ("analytics_coloc_pairs", ["day", "zone_id", "department_a", "department_b"]),
        ("analytics_coloc_zone", ["day", "zone_id"]),
        ("analytics_coloc_dept", ["day", "zone_id", "department_id"]),
        (
            "analytics_coloc_badges",
            ["day", "zone_id", "department_a", "department_b", "badge"],
        ),
        (
            "analytics_coloc_badges_site",
            ["day", "source", "department_a", "department_b", "badge"],
        ),
    ):
        frame = read_frame(conn, _decoded.get(table, f"SELECT * FROM {table}"))
        frame = frame.drop(columns=[c for c in ("computed_at",) if c in frame.columns])
        out[table] = frame.sort_values(key).reset_index(drop=True)
    return out


def _sightings(conn: Any, day: str, seq0: int, at: str = "09:05") -> None:
    """3 operations and 2 sales badges (xo*, xs*) in the cafe at ``at``, and
    the operations ones again 5 min later in their neighbourhood zone."""
    ops = ["xo0", "xo1", "xo2"]
    sales = ["xs0", "xs1"]
    later = (pd.Timestamp(f"{day} {at}") + pd.Timedelta(minutes=5)).strftime("%H:%M")
    with conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO badge_departments (badge, department_id) SELECT b, d FROM"
            " unnest(%s::text[], %s::text[]) AS t(b, d) ON CONFLICT DO NOTHING",
            (ops + sales, ["operations"] * 3 + ["sales"] * 2),
        )
        rows = [
            (T(f"{day} {at}"), "ble-f0-cafe", "f0-cafe", x, -60.0, seq0 + i)
            for i, x in enumerate(ops + sales)
        ]
        rows += [
            (
                T(f"{day} {later}"),
                "ble-f0-ops",
                "f0-operations",
                x,
                -60.0,
                seq0 + 50 + i,
            )
            for i, x in enumerate(ops)
        ]
        copy_rows(
            cur,
            "badge_sightings",
            ["ts", "device_id", "zone_id", "badge", "rssi", "seq"],
            rows,
        )


def test_analyze_stores_hand_checked_values_and_incremental_equals_full(
    database_url: str, settings: Any
) -> None:
    conn = connect(database_url)
    try:
        rows = _desk(D1, "09:00", "11:00", "2026-03-02") + _desk(
            D2, "09:30", "10:00", "2026-03-02"
        )
        rows += [
            (T(f"2026-03-02 10:{m:02d}"), "rc-" + ROOM, ROOM, "count", 3.0)
            for m in range(30)
        ]
        rows.append((T("2026-03-02 10:30"), "rc-" + ROOM, ROOM, "count", 0.0))
        _insert(conn, rows)
        _sightings(conn, "2026-03-02", 0)
        report = run_analyze(conn, settings, progress=lambda m: None)
        assert report.mode == "full"
        # Co-location daily counts, by hand: 09:00-09:15 cafe, ops x3 + sales x2.
        pairs = read_frame(
            conn,
            "SELECT department_a, department_b, buckets FROM analytics_coloc_pairs"
            " WHERE zone_id = 'f0-cafe' ORDER BY 1, 2",
        )
        assert pairs.values.tolist() == [
            ["operations", "operations", 1],
            ["operations", "sales", 1],
            ["sales", "operations", 1],
            ["sales", "sales", 1],
        ]
        badges = read_frame(
            conn,
            "SELECT department_a, department_b, COUNT(*) AS n FROM ("
            + coloc_bits.decoded("analytics_coloc_bits")
            + ") b WHERE zone_id = 'f0-cafe' GROUP BY 1, 2 ORDER BY 1, 2",
        )
        assert badges["n"].tolist() == [3, 3, 2, 2]
        sd = read_frame(
            conn, "SELECT * FROM analytics_space_daily ORDER BY space_id"
        ).set_index("space_id")
        # D1: occupied 09:00-11:00; vacant 11:00 holds 20 min (timeout) -> measured 09:00-11:20.
        assert sd.loc[D1, "occupied_s"] == 7200.0
        assert sd.loc[D1, "measured_s"] == 8400.0
        assert (
            sd.loc[D1, "sessions"] == 1
            and sd.loc[D1, "hours_used"] == 2
            and sd.loc[D1, "used_day"]
        )
        # D2: 30 min occupied, then 20 min vacant.
        assert (sd.loc[D2, "occupied_s"], sd.loc[D2, "measured_s"]) == (1800.0, 3000.0)
        assert sd.loc[D2, "used_day"]  # exactly the 30-min day threshold counts as used
        # Room: 3 people 10:00-10:30; a zero count holds until the end of the working day.
        assert (
            sd.loc[ROOM, "occupied_s"] == 1800.0 and sd.loc[ROOM, "people_s"] == 5400.0
        )
        assert sd.loc[ROOM, "measured_s"] == 8 * 3600.0
        dd = read_frame(
            conn, "SELECT * FROM desk_daily_utilization WHERE space_id = %s", (D1,)
        )
        assert dd["time_used_pct"].iloc[0] == pytest.approx(100 * 7200 / 8400)
        lb = read_frame(
            conn,
            "SELECT * FROM analytics_level_buckets WHERE level = 'floor' AND level_id = 'f0' AND bucket_start = %s",
            (T("2026-03-02 09:30"),),
        )
        assert (
            lb["peak_people"].iloc[0] == 2.0
            and lb["peak_desks_occupied"].iloc[0] == 2.0
        )
        lb10 = read_frame(
            conn,
            "SELECT * FROM analytics_level_buckets WHERE level = 'floor' AND level_id = 'f0' AND bucket_start = %s",
            (T("2026-03-02 10:00"),),
        )
        assert lb10["peak_people"].iloc[0] == 4.0  # D1 + 3 in the room

        # New day and a late event for the first day; incremental, then full.
        _insert(
            conn,
            _desk(D2, "08:15", "12:00", "2026-03-03")
            + _desk(D3, "14:00", "14:40", "2026-03-02"),
        )
        _sightings(conn, "2026-03-03", 100)
        _sightings(conn, "2026-03-02", 200, at="14:20")  # late, same day
        inc = run_analyze(conn, settings, progress=lambda m: None)
        assert inc.mode == "incremental"
        incremental = _rollups(conn)
        assert incremental["analytics_space_daily"]["space_id"].eq(D3).any()
        full = run_analyze(conn, settings, full=True, progress=lambda m: None)
        assert full.mode == "full"
        recomputed = _rollups(conn)
        for table, frame in recomputed.items():
            pd.testing.assert_frame_equal(incremental[table], frame, obj=table)
        assert len(recomputed["analytics_coloc_badges"]) == 2 * (3 + 3 + 2 + 2 + 3)
        # Without the zone: cafe (shared) and ops zone (neighbourhood) differ in
        # source, so nothing merges here.
        assert len(recomputed["analytics_coloc_badges_site"]) == 2 * 13
    finally:
        conn.close()


def test_reports_have_documented_columns_and_export_cli(
    database_url: str, settings: Any
) -> None:
    from app.cli import main

    conn = connect(database_url)
    try:
        for name, spec in REPORTS.items():
            frame = build_report(
                conn, name, dt.date(2026, 3, 2), dt.date(2026, 3, 3), settings=settings
            )
            assert list(frame.columns) == spec.names(spec.default_level), name
        util = build_report(
            conn,
            "utilization",
            dt.date(2026, 3, 2),
            dt.date(2026, 3, 2),
            level="space",
            filters=Filters(floor="f0"),
            settings=settings,
        )
        row = util.set_index("level_id").loc[D1]
        assert row["time_used_pct"] == pytest.approx(100 * 7200 / 8400)
        assert row["dwell_s"] == 7200.0
    finally:
        conn.close()
    runner = CliRunner()
    res = runner.invoke(
        main,
        [
            "--database-url",
            database_url,
            "export",
            "utilization",
            "--from",
            "2026-03-02",
            "--to",
            "2026-03-03",
            "--level",
            "floor",
        ],
    )
    assert res.exit_code == 0, res.output
    frame = pd.read_csv(io.StringIO(res.stdout))
    assert list(frame.columns) == REPORTS["utilization"].names("floor")
    assert list(frame["level_id"]) == ["f0"]
    bad = runner.invoke(
        main,
        [
            "--database-url",
            database_url,
            "export",
            "utilization",
            "--from",
            "2026-03-02",
            "--to",
            "2026-03-03",
            "--level",
            "galaxy",
        ],
    )
    assert bad.exit_code != 0 and "galaxy" in bad.output


def test_bookings_import_and_no_show(
    database_url: str, settings: Any, tmp_path: Any
) -> None:
    from app.cli import main

    csv = tmp_path / "bookings.csv"
    # Booked 10:00-10:30 (used) and 11:00-11:30 (no-show) in ROOM.
    csv.write_text(
        "room_id,start,end,organiser_department,expected_attendees\n"
        f"{ROOM},2026-03-02T10:00:00+01:00,2026-03-02T10:30:00+01:00,finance,4\n"
        f"{ROOM},2026-03-02T11:00:00+01:00,2026-03-02T11:30:00+01:00,hr,3\n"
    )
    res = CliRunner().invoke(
        main, ["--database-url", database_url, "bookings", "import", str(csv)]
    )
    assert res.exit_code == 0, res.output
    conn = connect(database_url)
    try:
        rooms = build_report(
            conn, "rooms", dt.date(2026, 3, 2), dt.date(2026, 3, 2), settings=settings
        ).set_index("space_id")
    finally:
        conn.close()
    r = rooms.loc[ROOM]
    assert r["seats"] == 6 and r["mean_people"] == 3.0 and r["p90_people"] == 3
    assert r["verdict"] == "too_big" and r["recommended_seats"] == 4  # ceil(3 x 1.2)
    assert r["no_show_pct"] == 50.0 and r["unbooked_use_pct"] == 0.0
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "room_id,start,end,organiser_department,expected_attendees\nnope,2026-03-02T10:00:00Z,2026-03-02T11:00:00Z,hr,1\n"
    )
    res = CliRunner().invoke(
        main, ["--database-url", database_url, "bookings", "import", str(bad)]
    )
    assert res.exit_code != 0 and "nope" in res.output


def test_colocation_k_suppression_on_every_read_path(
    database_url: str, settings: Any
) -> None:
    conn = connect(database_url)
    try:
        a = [f"pa{i}" for i in range(5)]
        b = [f"pb{i}" for i in range(5)]
        with conn, conn.cursor() as cur:
            copy_rows(
                cur,
                "badge_departments",
                ["badge", "department_id"],
                [(x, "finance") for x in a] + [(x, "hr") for x in b],
            )
            # 09:00-09:15 local in the cafe: 5 finance and 4 hr people (k - 1).
            copy_rows(
                cur,
                "badge_sightings",
                ["ts", "device_id", "zone_id", "badge", "rssi", "seq"],
                [
                    (T("2026-03-04 09:05"), "ble-f0-cafe", "f0-cafe", x, -60.0, i)
                    for i, x in enumerate(a + b[:4])
                ],
            )
        no_grace = settings.replace(analyze_arrival_grace_s=0.0)
        run_analyze(conn, no_grace, progress=lambda m: None)
        day = dt.date(2026, 3, 4)

        def cell() -> pd.Series:
            m = build_report(conn, "colocation", day, day, settings=settings)
            cells = m.set_index(["source", "department_a", "department_b"])
            return cells.loc[("all", "finance", "hr")]  # type: ignore[index]

        c = cell()
        assert (
            bool(c["suppressed"]) and pd.isna(c["minutes"]) and pd.isna(c["people_b"])
        )
        assert bool(
            store.read_colocation(conn, day, day, settings=settings)
            .set_index(["source", "department_a", "department_b"])
            .loc[("shared", "finance", "hr"), "suppressed"]
        )
        # The fifth hr person arrives: exactly k, shown.
        with conn, conn.cursor() as cur:
            copy_rows(
                cur,
                "badge_sightings",
                ["ts", "device_id", "zone_id", "badge", "rssi", "seq"],
                [(T("2026-03-04 09:06"), "ble-f0-cafe", "f0-cafe", b[4], -60.0, 99)],
            )
        from app.cli import main

        # no grace: only the new sighting's days (the grace's re-reading of
        # the last minutes' arrivals is tests/analytics/test_watermark.py's)
        env = {"OCCUPANCY_ANALYZE_ARRIVAL_GRACE_S": "0"}
        args = ["--database-url", database_url, "analyze"]
        res = CliRunner().invoke(main, args, env=env)
        assert res.exit_code == 0, res.output
        assert "incremental: 3 day(s)" in res.output  # 2026-03-03..05
        again = CliRunner().invoke(main, args, env=env)
        assert again.exit_code == 0, again.output
        assert "incremental: 0 day(s) in 0 chunk(s), nothing received" in again.output
        c = cell()
        assert not bool(c["suppressed"]) and c["minutes"] == 15.0 and c["people_b"] == 5
        div = build_report(
            conn, "colocation", day, day, level="diversity", settings=settings
        ).set_index("zone_id")
        # The mix is released for the whole week of 2026-03-02: the cafe also
        # had 3 operations and 2 sales people in three buckets (Mon 09:05 and
        # 14:20, Tue 09:05: the first test). Each department is under k, so
        # they are pooled into "other" (5 people: kept) with 3 x 3 + 2 x 3 =
        # 15 people-buckets; finance and hr have 5 each. Shares 0.6, 0.2, 0.2:
        # Simpson 1 - (0.36 + 0.04 + 0.04) = 0.56.
        assert div.loc["f0-cafe", "people"] == 15
        assert div.loc["f0-cafe", "departments"] == 3
        assert div.loc["f0-cafe", "simpson"] == pytest.approx(0.56)
    finally:
        conn.close()


def test_live_state(database_url: str, settings: Any) -> None:
    conn = connect(database_url)
    try:
        live = store.live_state(
            conn, T("2026-03-02 10:10"), settings=settings
        ).set_index("space_id")
        assert live.loc[D1, "state"] == "occupied"
        assert live.loc[D2, "state"] == "free"  # vacant at 10:00, within the timeout
        assert live.loc[ROOM, "people"] == 3.0
        assert live.loc["f0-hr-d001", "state"] == "unknown"
        later = store.live_state(
            conn, T("2026-03-02 12:00"), settings=settings
        ).set_index("space_id")
        assert later.loc[D1, "state"] == "unknown"  # silent for more than 20 min
        assert later.loc[ROOM, "state"] == "free"  # a zero count holds
    finally:
        conn.close()
