"""The fast rollup reads (aggregation in the database, vectorized profiles)
return the very frames the old reads computed from every stored bucket, on
data analysed by the real pipeline: working days, a weekend, the 25-hour day
of the autumn DST change, evenings (all-hours views), filters."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analytics import store
from analytics.calendar import bucket_frame
from analytics.patterns import _hourly, with_local_time
from analytics.pipeline import run_analyze
from analytics.reports import Filters, build_report
from analytics.utilization import level_summary, space_summary
from occupancy.db import connect, copy_rows
from occupancy.settings import load_settings

pytestmark = pytest.mark.integration

TZ = "Europe/Amsterdam"
#: Fri 23 .. Tue 27 Oct 2026; Sun 25 Oct has 25 hours (02:00-03:00 twice).
FIRST, LAST = dt.date(2026, 10, 23), dt.date(2026, 10, 27)


# ----------------------------------------------------------- the old reads
def old_profile_over_weeks(h: pd.DataFrame) -> pd.DataFrame:
    """analytics.patterns.profile_over_weeks before vectorizing (per-group
    lambdas with np.quantile / np.nanquantile)."""
    keys = ["level", "level_id", "weekday", "hour"]
    out = h.groupby(keys).agg(
        weeks=("week", "nunique"),
        people_mean=("people", "mean"),
        people_median=("people", "median"),
        people_p90=("people", lambda s: float(np.quantile(s.to_numpy(), 0.9))),
        people_max=("people", "max"),
        utilization_pct=("utilization_pct", "mean"),
        utilization_p90_pct=(
            "utilization_pct",
            lambda s: (
                float(np.nanquantile(s.to_numpy(), 0.9)) if s.notna().any() else np.nan
            ),
        ),
        utilization_max_pct=("utilization_pct", "max"),
        peak_people=("peak", "max"),
    )
    return out.reset_index().sort_values(keys).reset_index(drop=True)


def old_hour_of_week(
    conn: Any, start: dt.date, end: dt.date, level: str, f: Any, settings: Any
) -> pd.DataFrame:
    spaces, _ = store.read_metadata(conn)
    cal = store.calendar_for(conn, settings)
    lb = store.level_rows(conn, start, end, level, spaces, f)
    return old_profile_over_weeks(
        _hourly(with_local_time(lb, cal.timezone), cal.bucket_s)
    )


def old_utilization(
    conn: Any, start: dt.date, end: dt.date, level: str, f: Any, settings: Any
) -> pd.DataFrame:
    """read_utilization before the database aggregation (working hours)."""
    spaces, _ = store.read_metadata(conn)
    low, high = float(settings.target_low_pct), float(settings.target_high_pct)
    if level == "space":
        daily = store.read_rollup(conn, "analytics_space_daily", start, end)
        daily = daily[
            daily["space_id"].isin(store.filtered_spaces(spaces, f)["space_id"])
        ]
        out = space_summary(daily, spaces, low=low, high=high)
        return out.sort_values("space_id").reset_index(drop=True)
    cal = store.calendar_for(conn, settings)
    grid = bucket_frame(cal, start, end, available_only=store.working_hours_only(f))
    lvl = "building" if level == "day" else level
    lb = store.level_rows(conn, start, end, lvl, spaces, f)
    kw = {
        "low": low,
        "high": high,
        "free_desk_factor": float(settings.free_desk_factor),
    }
    if level == "day":
        per_day = grid.groupby("day").size()
        parts = []
        for day, sub in lb.groupby("day"):
            s = level_summary(
                sub, cal, available_buckets=int(per_day.get(day, 0)), **kw
            )
            s.insert(0, "day", day)
            parts.append(s)
        out = pd.concat(parts, ignore_index=True)
        return out.sort_values(["day", "level_id"]).reset_index(drop=True)
    out = level_summary(lb, cal, available_buckets=len(grid), **kw)
    return out.sort_values(["level", "level_id"]).reset_index(drop=True)


# ----------------------------------------------------------- data
def _events(conn: Any, rng: np.random.Generator) -> None:
    """Desks on every floor with one to three sessions a day (some in the
    evening and in the repeated night hour), heartbeats every 10 min; two
    meeting rooms counting people."""
    spaces, _ = store.read_metadata(conn)
    desks = spaces[spaces["kind"] == "desk"]["space_id"].to_numpy()
    rooms = spaces[spaces["kind"] != "desk"]["space_id"].to_numpy()[:2]
    picked = rng.choice(desks, 40, replace=False)
    rows: list[tuple[Any, ...]] = []
    days = pd.date_range(pd.Timestamp(FIRST), pd.Timestamp(LAST), freq="D")
    for space in picked:
        for day in days:
            for _ in range(int(rng.integers(1, 4))):
                # Local start 00:00-22:00 in UTC minutes: covers night and evening.
                start = pd.Timestamp(day, tz=TZ) + pd.Timedelta(
                    minutes=int(rng.integers(0, 22 * 60))
                )
                end = start + pd.Timedelta(minutes=int(rng.integers(20, 240)))
                beats = pd.date_range(start, end, freq="10min")
                rows.append((start, space, "presence", 1.0))
                rows += [(t, space, "heartbeat", 1.0) for t in beats[1:-1]]
                rows.append((end, space, "presence", 0.0))
    for room in rooms:
        for day in days:
            t0 = pd.Timestamp(day, tz=TZ) + pd.Timedelta(hours=8)
            for i in range(60):  # every 10 min, 08:00-18:00 local
                rows.append(
                    (t0 + pd.Timedelta(minutes=10 * i), room, "count", float(i % 5))
                )
    with conn, conn.cursor() as cur:
        copy_rows(
            cur,
            "sensor_events",
            ["ts", "device_id", "space_id", "kind", "value", "seq"],
            [
                (ts.tz_convert("UTC").to_pydatetime(), "dv-" + sp, sp, kind, v, i)
                for i, (ts, sp, kind, v) in enumerate(rows)
            ],
        )


@pytest.fixture(scope="module")
def analysed(database_url: str) -> Any:
    settings = load_settings({"database_url": database_url})
    conn = connect(database_url)
    _events(conn, np.random.default_rng(11))
    run_analyze(conn, settings, full=True, progress=lambda _m: None)
    conn.autocommit = True
    try:
        yield conn, settings
    finally:
        conn.close()


CASES = [
    (FIRST, LAST, Filters()),
    (FIRST, LAST, Filters(site="hq")),
    (FIRST, LAST, Filters(working_hours_only=False)),
    (dt.date(2026, 10, 24), dt.date(2026, 10, 26), Filters(working_hours_only=False)),
    (FIRST, LAST, Filters(floor="f1")),
    (FIRST, LAST, Filters(floor="f1", department="it", working_hours_only=False)),
    (dt.date(2026, 10, 26), dt.date(2026, 10, 26), Filters(zone="f0-operations")),
    (dt.date(2026, 11, 2), dt.date(2026, 11, 3), Filters()),  # no data
]


def _same(got: pd.DataFrame, want: pd.DataFrame, what: str) -> None:
    # Sums are added in another order (database vs pandas): equal to rounding.
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True),
        want.reset_index(drop=True),
        check_exact=False,
        rtol=1e-12,
        obj=what,
    )


@pytest.mark.parametrize("level", ["building", "floor", "zone", "department", "room"])
def test_hour_of_week_equals_bucket_computation(analysed: Any, level: str) -> None:
    conn, settings = analysed
    rows = 0
    for start, end, f in CASES:
        got = store.read_hour_of_week(
            conn, start, end, level=level, filters=f, settings=settings
        )
        lb = store.level_rows(conn, start, end, level, store.read_metadata(conn)[0], f)
        if lb.empty:
            assert got.empty, (start, f)
            continue
        want = old_hour_of_week(conn, start, end, level, f, settings)
        _same(got, want, f"hour-of-week {level} {start} {f}")
        rows += len(got)
    assert rows > 0


def test_all_hours_profile_has_the_repeated_dst_hour(analysed: Any) -> None:
    """Sun 25 Oct 02:00 local happens twice: the hour sums both (8 buckets)."""
    conn, _settings = analysed
    day = dt.date(2026, 10, 25)
    h = store.read_level_agg(
        conn, day, day, "building", working_hours_only=False, by_hour=True
    )
    assert int(h.loc[h["hour"] == 2, "n"].iloc[0]) == 8
    assert int(h.loc[h["hour"] == 1, "n"].iloc[0]) == 4
    assert set(h["hour"]) == set(range(24))
    assert int(h["n"].max()) == 8


@pytest.mark.parametrize(
    "level", ["building", "floor", "zone", "department", "room", "day", "space"]
)
def test_utilization_equals_bucket_computation(analysed: Any, level: str) -> None:
    conn, settings = analysed
    rows = 0
    for start, end, f in CASES:
        if level == "space" and not f.working_hours_only:
            continue  # the all-hours space path is unchanged
        got = store.read_utilization(
            conn, start, end, level=level, filters=f, settings=settings
        )
        if level != "space":
            lvl = "building" if level == "day" else level
            lb = store.level_rows(
                conn, start, end, lvl, store.read_metadata(conn)[0], f
            )
            if lb.empty:
                assert got.empty, (start, f)
                continue
        want = old_utilization(conn, start, end, level, f, settings)
        if level == "space" and want.empty:
            assert got.empty
            continue
        _same(got, want, f"utilization {level} {start} {f}")
        rows += len(got)
    assert rows > 0


def test_space_days_used_counts_days(analysed: Any) -> None:
    """days_used is a count of used days (COPY's t/f booleans are parsed)."""
    conn, settings = analysed
    got = store.read_utilization(
        conn, FIRST, LAST, level="space", settings=settings
    ).set_index("space_id")
    daily = store.read_rollup(conn, "analytics_space_daily", FIRST, LAST)
    assert daily["used_day"].dtype == bool
    want = daily.groupby("space_id")["used_day"].sum()
    assert (got.loc[want.index, "days_used"] == want).all()
    assert int(want.max()) >= 1
    # The export writes whole numbers, not concatenated t/f text.
    frame = build_report(
        conn, "utilization", FIRST, LAST, level="space", settings=settings
    )
    assert pd.api.types.is_integer_dtype(frame["days_used"])


# ----------------------------------------------------------- co-location
@pytest.fixture(scope="module")
def sighted(analysed: Any) -> Any:
    """Random badge sightings over three ISO weeks (Wed 7 .. Tue 20 Oct 2026,
    before the desk data), analysed; pair counts straddle k."""
    conn, settings = analysed
    rng = np.random.default_rng(5)
    zones = store.read_metadata(conn)[1]
    zone_ids = zones[zones["floor_id"].isin(["f0", "f1"])]["zone_id"].to_numpy()
    depts = ["finance", "hr", "it", "legal"]
    badge = [f"rb{i:02d}" for i in range(40)]
    n = 4000
    day = rng.integers(0, 14, n)
    minute = rng.integers(8 * 60, 18 * 60, n)
    ts = pd.to_datetime("2026-10-07") + pd.to_timedelta(day * 1440 + minute, unit="min")
    ts_utc = ts.tz_localize(TZ).tz_convert("UTC")
    who = rng.integers(0, len(badge), n)
    where = zone_ids[(who * 5 + rng.integers(0, 3, n)) % len(zone_ids)]
    # Three badges in a shared zone of f2, one morning: a suppressed mix.
    lone = zones[(zones["floor_id"] == "f2") & (zones["kind"] == "shared")]
    few = [
        (pd.Timestamp("2026-10-08 10:00", tz=TZ) + pd.Timedelta(minutes=5 * i), b)
        for i in range(6)
        for b in badge[:3]
    ]
    conn.autocommit = False
    with conn, conn.cursor() as cur:
        copy_rows(
            cur,
            "badge_departments",
            ["badge", "department_id"],
            [(b, depts[i % len(depts)]) for i, b in enumerate(badge)],
        )
        copy_rows(
            cur,
            "badge_sightings",
            ["ts", "device_id", "zone_id", "badge", "rssi", "seq"],
            [
                (t.to_pydatetime(), "ble-rb", z, badge[w], -60.0, 5000 + i)
                for i, (t, z, w) in enumerate(zip(ts_utc, where, who, strict=True))
            ]
            + [
                (t.tz_convert("UTC").to_pydatetime(), "ble-rb2", z, b, -60.0, 9000 + i)
                for i, (t, b) in enumerate(few)
                for z in lone["zone_id"].to_numpy()[:1]
            ],
        )
    run_analyze(
        conn,
        settings,
        first=dt.date(2026, 10, 7),
        last=dt.date(2026, 10, 20),
        full=True,
        progress=lambda _m: None,
    )
    conn.autocommit = True
    return conn, settings, zone_ids


COLOC_CASES = [
    (dt.date(2026, 10, 7), dt.date(2026, 10, 20), None),
    (dt.date(2026, 10, 8), dt.date(2026, 10, 14), Filters(site="hq")),
    (dt.date(2026, 10, 7), dt.date(2026, 10, 20), Filters(floor="f1")),
    (dt.date(2026, 10, 9), dt.date(2026, 10, 13), Filters(department="hr")),
    (dt.date(2026, 11, 2), dt.date(2026, 11, 3), Filters(site="hq")),  # no data
]


def test_weekly_diversity_equals_one_read_per_week(sighted: Any) -> None:
    conn, settings, zone_ids = sighted
    shown = suppressed = 0
    for start, end, f in [
        *COLOC_CASES,
        (dt.date(2026, 10, 7), dt.date(2026, 10, 20), Filters(zone=zone_ids[0])),
    ]:
        got = store.read_diversity_weekly(
            conn, start, end, filters=f, settings=settings
        )
        parts = []
        lo = start
        while lo <= end:  # Monday-to-Sunday weeks, cut to the range
            monday = lo - dt.timedelta(days=lo.weekday())
            hi = min(monday + dt.timedelta(days=6), end)
            week = store.read_diversity(conn, lo, hi, filters=f, settings=settings)
            if len(week):
                parts.append(week.assign(week=monday))
            lo = hi + dt.timedelta(days=1)
        if not parts:
            assert got.empty, (start, f)
            continue
        want = pd.concat(parts, ignore_index=True)
        want = want[["week", *[c for c in want.columns if c != "week"]]]
        pd.testing.assert_frame_equal(got, want, obj=f"diversity {start} {f}")
        shown += int((~got["suppressed"]).sum())
        suppressed += int(got["suppressed"].sum())
    assert shown > 0 and suppressed > 0


def test_colocation_reads_equal_bucket_presence(sighted: Any) -> None:
    """The site filter takes the zone-less badge table when no other zone has
    data; with or without per-source cells, the frames equal the release
    rule's in-memory reference over the stored bucket presence of the whole
    weeks each range touches."""

    from analytics.release import released_matrix, released_weeks

    conn, settings, _ = sighted
    bm, k = float(settings.bucket_minutes), int(settings.k_anonymity)
    shown = suppressed = 0
    for start, end, f in COLOC_CASES:
        weeks = released_weeks(start, end, dt.date.today())
        lo, hi = weeks[0], weeks[-1] + dt.timedelta(days=6)
        pres = store.read_dept_presence(conn, lo, hi, f)
        for by_source in (True, False):
            want = released_matrix(pres, bm=bm, k=k, by_source=by_source)
            if f is not None and f.department:
                keep = (want["department_a"] == f.department) | (
                    want["department_b"] == f.department
                )
                want = want[keep].reset_index(drop=True)
            got = store.read_colocation(
                conn, start, end, filters=f, settings=settings, by_source=by_source
            )
            pd.testing.assert_frame_equal(got, want, obj=f"{start} {f} {by_source}")
            shown += int((~got["suppressed"]).sum())
            suppressed += int(got["suppressed"].sum())
        all_only = store.read_colocation(
            conn, start, end, filters=f, settings=settings, by_source=False
        )
        combined = store.read_colocation(conn, start, end, filters=f, settings=settings)
        combined = combined[combined["source"] == "all"].reset_index(drop=True)
        pd.testing.assert_frame_equal(all_only, combined)
    assert shown > 0 and suppressed > 0


def test_stored_hourly_sums_are_level_hourly_of_the_buckets(analysed: Any) -> None:
    """analyze writes analytics_level_hourly = level_hourly(its level buckets);
    the migration's backfill (SQL) gives the same rows."""
    from analytics.patterns import LEVEL_HOURLY_COLUMNS, level_hourly
    from occupancy.db import read_frame

    conn, _settings = analysed
    keys = ["level", "day", "level_id", "hour", "in_working_hours"]
    lb = store.read_rollup(conn, "analytics_level_buckets", FIRST, LAST)
    want = level_hourly(lb, TZ).sort_values(keys).reset_index(drop=True)
    stored = store.read_rollup(conn, "analytics_level_hourly", FIRST, LAST)
    got = stored[list(LEVEL_HOURLY_COLUMNS)].sort_values(keys).reset_index(drop=True)
    assert len(got) > 0
    _same(got.astype(want.dtypes.to_dict()), want, "stored hourly")
    sql_text = (
        Path(__file__)
        .resolve()
        .parents[2]
        .joinpath("occupancy/migrations/0206_analytics_level_hourly.sql")
        .read_text()
    )
    select = sql_text[sql_text.index("SELECT day, level") :].rstrip().rstrip(";")
    backfill = read_frame(
        conn,
        f"SELECT * FROM ({select}) b WHERE day BETWEEN %s AND %s",
        (FIRST, LAST),
    )
    backfill.columns = list(LEVEL_HOURLY_COLUMNS)
    backfill = backfill.sort_values(keys).reset_index(drop=True)
    _same(backfill.astype(want.dtypes.to_dict()), want, "migration backfill")


@pytest.mark.parametrize("tz", ["Europe/Amsterdam", "Asia/Kolkata", "America/St_Johns"])
@pytest.mark.parametrize("available_only", [True, False])
def test_buckets_per_day_counts_as_bucket_frame(tz: str, available_only: bool) -> None:
    """Both DST changes of 2026, a holiday, a weekend, half-hour offsets."""
    from analytics.calendar import Calendar

    cal = Calendar(
        timezone=tz,
        work_start=dt.time(7, 30),
        work_end=dt.time(18, 0),
        holidays=(dt.date(2026, 3, 30), dt.date(2026, 10, 26)),
    )
    for first, last in (
        (dt.date(2026, 3, 26), dt.date(2026, 4, 2)),
        (dt.date(2026, 10, 23), dt.date(2026, 11, 2)),
        (dt.date(2026, 10, 25), dt.date(2026, 10, 25)),
    ):
        want = (
            bucket_frame(cal, first, last, available_only=available_only)
            .groupby("day")
            .size()
        )
        got = store.buckets_per_day(cal, first, last, available_only=available_only)
        assert got.to_dict() == want.to_dict(), (tz, first)
        assert int(got.sum()) == len(
            bucket_frame(cal, first, last, available_only=available_only)
        )


def test_colocation_read_leaves_the_planner_settings(sighted: Any) -> None:
    """The zone-filtered read turns nested loops off for its one statement
    only: afterwards (in the transaction and after it) they are on again."""
    conn, settings, _ = sighted
    f = Filters(floor="f1")
    for autocommit in (True, False):
        conn.autocommit = autocommit
        got = store.read_colocation(
            conn,
            dt.date(2026, 10, 7),
            dt.date(2026, 10, 20),
            filters=f,
            settings=settings,
        )
        assert len(got) > 0
        with conn.cursor() as cur:
            cur.execute("SHOW enable_nestloop")
            assert cur.fetchone()[0] == "on"
        if not autocommit:
            conn.commit()
    conn.autocommit = True
