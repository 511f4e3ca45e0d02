"""``occupancy analyze`` with several sites: each site computed on its own
calendar (time zone, working hours, closed days from its building file), in
partitions of site × chunk of days that replace only their site's rows; an
incremental run of one site leaves the other sites' rows alone; local
processes and a Dask cluster give the single-process rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest
from portfolio_rows import TUE, WED, load, reports, site_doc

from analytics import coloc_bits, store
from analytics.pipeline import run_analyze
from analytics.site_io import SITE_KEYS
from analytics.sites import site_calendar, site_plans
from occupancy.db import connect, copy_rows, read_frame
from occupancy.settings import load_settings

THU = WED + dt.timedelta(days=1)
AMS, AKL, NYC = "Europe/Amsterdam", "Pacific/Auckland", "America/New_York"


# ------------------------------------------------------------------ pure parts
def test_every_rollup_table_has_a_site_key() -> None:
    assert set(SITE_KEYS) == set(store.ROLLUP_TABLES)


def _meta() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    sites = pd.DataFrame(
        {
            "site_id": ["a", "b", "c"],
            "timezone": [AMS, AKL, NYC],
            "country": [None, "NL", None],
            "working_hours": [None, "07:30-15:00", None],
            "working_days": [None, ["mon", "tue"], None],
            "holidays": [None, [dt.date(2026, 3, 3)], None],
        }
    )
    zones = pd.DataFrame(
        {
            "zone_id": ["za", "zb"],
            "floor_id": ["fa", "fb"],
            "building_id": ["ba", "bb"],
            "department_id": ["da", None],
            "site_id": ["a", "b"],
        }
    )
    spaces = pd.DataFrame(
        {"space_id": ["sa1", "sa2", "sb1"], "zone_id": ["za", "za", "zb"],
         "site_id": ["a", "a", "b"]}
    )  # fmt: skip
    return sites, spaces, zones


def test_site_plans_scope_each_site_and_give_it_its_calendar() -> None:
    sites, spaces, zones = _meta()
    settings = load_settings({"site": "b", "holidays": "2026-12-25"})
    plans = {p.site_id: p for p in site_plans(sites, spaces, zones, settings, [2026])}
    # c has no zones and is not the home site: nothing to compute for it
    assert sorted(plans) == ["a", "b"]
    a, b = plans["a"], plans["b"]
    assert a.known == ("sa1", "sa2", "za") and b.known == ("sb1", "zb")
    assert a.scope is not None and b.scope is not None
    assert a.scope.own == ("a", "ba", "da", "fa", "sa1", "sa2", "za")
    assert a.scope.others == ("b", "bb", "fb", "sb1", "zb") and not a.scope.home
    assert b.scope.home and b.scope.others == a.scope.own  # b is setting site
    # a: the settings' calendar in its own time zone
    assert (a.cal.timezone, a.cal.work_start, a.cal.work_end) == (
        AMS, dt.time(8), dt.time(18)
    )  # fmt: skip
    assert a.cal.working_weekdays == (0, 1, 2, 3, 4)
    assert a.cal.holidays == (dt.date(2026, 12, 25),)
    # b: its file's hours, days, closed days and Dutch public holidays of 2026
    assert (b.cal.timezone, b.cal.work_start, b.cal.work_end) == (
        AKL, dt.time(7, 30), dt.time(15)
    )  # fmt: skip
    assert b.cal.working_weekdays == (0, 1)
    assert dt.date(2026, 3, 3) in b.cal.holidays  # its own closed day
    assert dt.date(2026, 4, 27) in b.cal.holidays  # King's Day (country NL)
    assert dt.date(2026, 12, 25) in b.cal.holidays  # Christmas, from NL too
    assert dt.date(2026, 3, 4) not in b.cal.holidays


def test_one_site_is_not_scoped_and_no_site_is_setting_site() -> None:
    sites, spaces, zones = _meta()
    settings = load_settings({"site": "a"})
    only = site_plans(sites.iloc[:1], spaces, zones, settings, [2026])
    assert [(p.site_id, p.scope) for p in only] == [("a", None)]
    none = site_plans(sites.iloc[:0], spaces, zones, settings, [2026])
    assert [(p.site_id, p.scope, p.cal.timezone) for p in none] == [
        ("a", None, str(settings.timezone))
    ]
    # The home site, when setting site is none of them: the first with zones
    other = site_plans(sites, spaces, zones, load_settings({"site": "x"}), [])
    assert [(p.site_id, p.scope.home) for p in other if p.scope] == [
        ("a", True), ("b", False)
    ]  # fmt: skip


def test_site_calendar_rejects_a_bad_country() -> None:
    settings = load_settings({})
    with pytest.raises(ValueError, match="country 'XX'"):
        site_calendar(settings, {"timezone": AMS, "country": "XX"}, [2026])


# ------------------------------------------------------------ on the database


def _analyze(url: str, **kw: Any) -> Any:
    settings = load_settings({"database_url": url, "site": "ams", **kw.pop("s", {})})
    conn = connect(url)
    try:
        return run_analyze(conn, settings, progress=lambda m: None, **kw)
    finally:
        conn.close()


def _rows(url: str, site_ids: tuple[str, ...] | None = None) -> dict[str, pd.DataFrame]:
    """Every rollup table's rows (without computed_at), sorted; ``site_ids``:
    the rows whose site key starts with one of them (ids begin with the code)."""
    conn = connect(url)
    try:
        out = {}
        for table in store.ROLLUP_TABLES:
            frame = read_frame(conn, f"SELECT * FROM {table}")
            frame = frame.drop(columns=["computed_at"], errors="ignore")
            if site_ids is not None:
                key = frame[SITE_KEYS[table]].astype(str)
                frame = frame[key.str.startswith(site_ids)]
            frame = frame.sort_values(list(frame.columns)).reset_index(drop=True)
            out[table] = frame.astype(str)
        return out
    finally:
        conn.close()


def _assert_same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    for table in store.ROLLUP_TABLES:
        pd.testing.assert_frame_equal(a[table], b[table], obj=table)


@pytest.fixture(scope="module")
def three_sites(pg_server: Any) -> str:
    """Amsterdam (setting site), Auckland (UTC+13) and New York (UTC-5) whose
    building file gives working hours 07:00-15:00 and Wednesday closed: desks
    busy Tuesday 16:00-17:00 in Amsterdam, 09:00-10:00 in Auckland, and in New
    York 14:00-16:00 on Tuesday and 09:00-10:00 on Wednesday, local times."""
    url = pg_server.create_database(f"t_sites_{dt.datetime.now():%H%M%S%f}")
    nyc = site_doc("nyc", NYC, 2)
    nyc["site"].update(working_hours="07:00-15:00", holidays=[WED])
    docs = [site_doc("ams", AMS, 2), site_doc("akl", AKL, 2), nyc]
    busy = {
        ("ams", TUE): [("16:00", "17:00")],
        ("akl", TUE): [("09:00", "10:00")],
        ("nyc", TUE): [("14:00", "16:00")],
        ("nyc", WED): [("09:00", "10:00")],
    }
    rows = []
    for code, tz in (("ams", AMS), ("akl", AKL), ("nyc", NYC)):
        for day in (TUE, WED):
            b = busy.get((code, day), [])
            rows += reports(f"{code}-d1", tz, day, b, "presence", 1.0)
    load(url, docs, rows)
    _analyze(url, full=True)
    return url


def _busy_hours(url: str) -> list[tuple[Any, ...]]:
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT level_id, day, hour, in_working_hours, sum(occupied_s)"
                " FROM analytics_level_hourly WHERE level = 'building'"
                " AND occupied_s > 0 GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
            )
            return cur.fetchall()
    finally:
        conn.close()


@pytest.mark.integration
def test_each_site_has_its_own_working_hours_and_closed_days(three_sites: str) -> None:
    assert _busy_hours(three_sites) == [
        ("akl", TUE, 9, True, 3600.0),
        ("ams", TUE, 16, True, 3600.0),
        # New York: 14:00-15:00 in its working hours, 15:00-16:00 after them
        # (the settings' 08:00-18:00 would count both), its closed Wednesday
        # not at all
        ("nyc", TUE, 14, True, 3600.0),
        ("nyc", TUE, 15, False, 3600.0),
        ("nyc", WED, 9, False, 3600.0),
    ]
    conn = connect(three_sites)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT site_id, working_hours, holidays FROM sites ORDER BY site_id"
            )
            stored = cur.fetchall()
    finally:
        conn.close()
    assert stored == [
        ("akl", None, None), ("ams", None, None), ("nyc", "07:00-15:00", [WED])
    ]  # fmt: skip


@pytest.mark.integration
def test_readers_use_the_calendar_of_setting_site(three_sites: str) -> None:
    conn = connect(three_sites)
    try:
        nyc = store.calendar_for(conn, load_settings({"site": "nyc"}))
        ams = store.calendar_for(conn, load_settings({"site": "ams"}))
        none = store.calendar_for(conn, load_settings({"site": "zzz"}))
    finally:
        conn.close()
    assert (nyc.timezone, nyc.work_start, nyc.work_end, nyc.holidays) == (
        NYC, dt.time(7), dt.time(15), (WED,)
    )  # fmt: skip
    assert (ams.timezone, ams.work_start, ams.work_end, ams.holidays) == (
        AMS, dt.time(8), dt.time(18), ()
    )  # fmt: skip
    assert none.timezone == str(load_settings({}).timezone)


@pytest.mark.integration
def test_local_processes_and_dask_give_the_single_process_rows(
    three_sites: str, dask_scheduler: str
) -> None:
    one = _rows(three_sites)
    assert all(len(one[t]) for t in ("analytics_space_daily", "analytics_level_hourly"))
    procs = _analyze(three_sites, full=True, workers=2)
    assert procs.chunks == 3  # one partition per site
    _assert_same(one, _rows(three_sites))
    dask = _analyze(three_sites, full=True, scheduler=dask_scheduler)
    assert dask.chunks == 3 and dask.rows == procs.rows
    _assert_same(one, _rows(three_sites))


@pytest.mark.integration
def test_incremental_run_of_one_site_leaves_the_other_sites_rows(
    three_sites: str,
) -> None:
    url = three_sites
    # no grace: the first run's arrivals (stamped now) are not read again,
    # so the second run's chunks are the new event's only
    no_grace = {"analyze_arrival_grace_s": 0}
    _analyze(url, full=True, s=no_grace)
    others = _rows(url, ("ams", "nyc"))
    # A row no computation gives: only a delete of Amsterdam's Wednesday
    # (the days the Auckland run recomputes, in any time zone) removes it.
    conn = connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "INSERT INTO analytics_data_quality (day, space_id, issue, seconds)"
                " VALUES (%s, 'ams-d1', 'stuck', 1.0)",
                (WED,),
            )
            copy_rows(cur, "sensor_events",
                      ["ts", "device_id", "space_id", "kind", "value", "seq"],
                      reports("akl-d1", AKL, THU, [("10:00", "11:00")],
                              "presence", 1.0))  # fmt: skip
    finally:
        conn.close()
    before = _rows(url, ("ams", "nyc"))
    report = _analyze(url, s=no_grace)
    assert report.mode == "incremental"
    assert report.chunks == 1  # Auckland's Wednesday-Friday only
    _assert_same(before, _rows(url, ("ams", "nyc")))
    assert ("akl", THU, 10, True, 3600.0) in _busy_hours(url)
    # And Auckland's rows are those of a full recompute (which drops the
    # planted row again: Amsterdam's days are recomputed too).
    incremental = _rows(url, ("akl",))
    _analyze(url, full=True)
    _assert_same(incremental, _rows(url, ("akl",)))
    _assert_same(others, _rows(url, ("ams", "nyc")))


@pytest.mark.integration
def test_a_badge_seen_in_two_sites_on_one_day_is_a_row_per_site(
    pg_server: Any,
) -> None:
    """Badge b1 of Amsterdam's department in Amsterdam's zone on Tuesday
    10:00-10:20 local and in Auckland's zone on Auckland's Tuesday 10:00-10:20
    local: the same (day, source, pair, badge) from both sites' partitions,
    a bitmap row per site (neither partition overwrites the other's), and
    the readers' union over the sites counts b1 once."""
    url = pg_server.create_database(f"t_sites_badge_{dt.datetime.now():%H%M%S%f}")
    docs = [site_doc("ams", AMS, 1), site_doc("akl", AKL, 1)]
    load(url, docs, reports("ams-d1", AMS, TUE, [], "presence", 1.0))
    rows = []
    for i, (zone, tz) in enumerate((("ams-z", AMS), ("akl-z", AKL))):
        t = pd.date_range(f"{TUE} 10:00", f"{TUE} 10:20", freq="5min", tz=tz)
        rows += [(ts.to_pydatetime(), f"ble-{zone}", zone, "b1", -60.0, 10 * i + j)
                 for j, ts in enumerate(t)]  # fmt: skip
    conn = connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "INSERT INTO badge_departments (badge, department_id)"
                " VALUES ('b1', 'ams-dept')"
            )
            copy_rows(cur, "badge_sightings",
                      ["ts", "device_id", "zone_id", "badge", "rssi", "seq"], rows)  # fmt: skip
    finally:
        conn.close()
    for kw in ({"full": True}, {"full": True, "rewrite": False}):
        _analyze(url, **kw)
        conn = connect(url)
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT site_id, day, department_a, department_b, badge FROM ("
                    + coloc_bits.decoded("analytics_coloc_bits_site")
                    + ") b ORDER BY site_id"
                )
                got = cur.fetchall()
                cur.execute(
                    "SELECT site_id, count(*) FROM analytics_coloc_bits_site"
                    " GROUP BY 1 ORDER BY 1"
                )
                per_site = cur.fetchall()
                cur.execute(
                    "SELECT zone_id, day, count(DISTINCT badge) FROM ("
                    + coloc_bits.decoded("analytics_coloc_bits")
                    + ") b GROUP BY 1, 2 ORDER BY 1"
                )
                zoned = cur.fetchall()
                # What the readers count: the union over the sites' rows.
                cast = coloc_bits.bits_cast(cur).as_string(cur)
                cur.execute(
                    f"SELECT day, source, bit_count(bit_or({cast}))"
                    " FROM analytics_coloc_bits_site GROUP BY 1, 2"
                )
                union = cur.fetchall()
                cur.execute(
                    "SELECT week, source, people_a, people_b"
                    " FROM analytics_coloc_week ORDER BY source"
                )
                weekly = cur.fetchall()
        finally:
            conn.close()
        assert got == [
            ("akl", TUE, "ams-dept", "ams-dept", "b1"),
            ("ams", TUE, "ams-dept", "ams-dept", "b1"),
        ], kw
        assert per_site == [("akl", 1), ("ams", 1)], kw
        assert zoned == [("akl-z", TUE, 1), ("ams-z", TUE, 1)], kw
        assert union == [(TUE, "neighbourhood", 1)], kw
        monday = TUE - dt.timedelta(days=TUE.weekday())
        assert weekly == [
            (monday, "all", 1, 1), (monday, "neighbourhood", 1, 1)
        ], kw  # fmt: skip
