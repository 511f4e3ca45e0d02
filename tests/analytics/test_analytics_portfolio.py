"""The portfolio reader on a real database: two small buildings on two sites,
hand-placed desk and room occupancy, ``occupancy analyze``, then the
side-by-side figures, the cost per used desk, the ranking and the export."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from portfolio_rows import TUE, WED, load, reports, seed_two_buildings, site_doc

from analytics.pipeline import run_analyze
from analytics.portfolio import (
    PORTFOLIO_COLUMNS,
    PORTFOLIO_REPORT,
    read_portfolio,
    read_portfolio_weekly,
)
from analytics.reports import build_report
from app.cli import main
from occupancy.db import connect
from occupancy.settings import load_settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def two_buildings(empty_database_url: str) -> str:
    seed_two_buildings(empty_database_url)
    return empty_database_url


def _settings(url: str) -> Any:
    return load_settings({"database_url": url, "site": "pa"})


def test_cost_per_used_desk_and_ranking_hand_checked(two_buildings: str) -> None:
    conn = connect(two_buildings)
    try:
        s = _settings(two_buildings)
        p = read_portfolio(conn, TUE, WED, settings=s).set_index("building_id")
        by_cost = read_portfolio(
            conn, TUE, WED, settings=s, rank_by="cost_per_used_desk"
        )
    finally:
        conn.close()
    assert list(p.columns) == [c for c in PORTFOLIO_COLUMNS if c != "building_id"]
    pa, pb = p.loc["pa"], p.loc["pb"]
    assert (pa["desks"], pa["rooms"], pb["desks"], pb["rooms"]) == (4, 1, 2, 0)
    assert (pa["days"], pb["days"]) == (2, 2)
    # used desks: mean of the daily peaks of occupied desks
    assert pa["used_desks"] == pytest.approx(1.5) and pb["used_desks"] == pytest.approx(
        2.0
    )
    assert pa["avg_daily_peak"] == pytest.approx(1.5)  # the room's 1 is not above 2
    assert pa["desks_per_person"] == pytest.approx(4 / 1.5)
    # yearly cost: per desk x desks; per m² x area
    assert pa["yearly_cost"] == pytest.approx(6000.0) and pb[
        "yearly_cost"
    ] == pytest.approx(30000.0)
    assert pa["cost_per_used_desk"] == pytest.approx(4000.0)
    assert pb["cost_per_used_desk"] == pytest.approx(15000.0)
    # the room: 1 of 4 seats used while occupied, all of that time half empty or worse
    assert pa["room_fit_pct"] == pytest.approx(25.0)
    assert pa["rooms_half_empty_pct"] == pytest.approx(100.0)
    assert pd.isna(pb["room_fit_pct"])
    # pb's two desks busy 8 of 10 hours both days: better used, ranked first
    assert pb["utilization_pct"] > pa["utilization_pct"] > 0
    assert pb["time_used_pct"] == pytest.approx(80.0, abs=2.0)
    assert (pb["rank"], pa["rank"]) == (1, 2)
    # by cost per used desk the cheaper one comes first
    assert list(by_cost["building_id"]) == ["pa", "pb"]
    assert list(by_cost["rank"]) == [1, 2]
    assert not p["suppressed"].any() and p["mixing"].isna().all()


def test_trend_is_this_period_against_the_one_before(two_buildings: str) -> None:
    conn = connect(two_buildings)
    try:
        s = _settings(two_buildings)
        tue = read_portfolio(conn, TUE, TUE, settings=s).set_index("building_id")
        wed = read_portfolio(conn, WED, WED, settings=s).set_index("building_id")
        weekly = read_portfolio_weekly(conn, TUE, WED, settings=s)
        both = read_portfolio(conn, TUE, WED, settings=s)
    finally:
        conn.close()
    assert wed.loc["pa", "prev_utilization_pct"] == pytest.approx(
        tue.loc["pa", "utilization_pct"]
    )
    want = wed.loc["pa", "utilization_pct"] - tue.loc["pa", "utilization_pct"]
    assert wed.loc["pa", "trend_pp"] == pytest.approx(want) and want < 0
    assert pd.isna(tue.loc["pa", "trend_pp"])  # Monday has no data
    assert list(weekly["building_id"]) == ["pa", "pb"]
    assert set(weekly["week"]) == {dt.date(2026, 3, 2)}
    assert weekly.set_index("building_id").loc["pa", "used_desks"] == pytest.approx(1.5)
    # the week of both days is the two days pooled: the same as the range read
    pd.testing.assert_series_equal(
        weekly["utilization_pct"],
        both.set_index("building_id").loc[["pa", "pb"], "utilization_pct"],
        check_names=False,
        check_index=False,
    )
    assert list(weekly.columns) == PORTFOLIO_REPORT.names("week")
    assert list(weekly["days"]) == [2, 2] and not weekly["suppressed"].any()


def test_export_portfolio_weekly_level(two_buildings: str, tmp_path: Path) -> None:
    env = {"OCCUPANCY_DATABASE_URL": two_buildings, "OCCUPANCY_SITE": "pa"}
    args = ["export", "portfolio", "--from", str(TUE), "--to", str(WED)]
    out = CliRunner().invoke(
        main, [*args, "--level", "week", "-o", str(tmp_path / "w.csv")], env=env
    )
    assert out.exit_code == 0, out.output
    csv = pd.read_csv(tmp_path / "w.csv")
    assert list(csv.columns) == PORTFOLIO_REPORT.names("week")
    assert list(csv["week"]) == ["2026-03-02", "2026-03-02"]
    assert list(csv["name"]) == ["Building pa", "Building pb"]


def test_export_portfolio_csv_and_parquet(two_buildings: str, tmp_path: Path) -> None:
    env = {"OCCUPANCY_DATABASE_URL": two_buildings, "OCCUPANCY_SITE": "pa"}
    args = ["export", "portfolio", "--from", str(TUE), "--to", str(WED)]
    out = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "p.csv")], env=env)
    assert out.exit_code == 0, out.output
    csv = pd.read_csv(tmp_path / "p.csv")
    assert list(csv.columns) == list(PORTFOLIO_COLUMNS)
    assert list(csv["building_id"]) == ["pb", "pa"]
    assert csv.set_index("building_id").loc[
        "pa", "cost_per_used_desk"
    ] == pytest.approx(4000.0)
    out = CliRunner().invoke(
        main, [*args, "--format", "parquet", "-o", str(tmp_path / "p.parquet")], env=env
    )
    assert out.exit_code == 0, out.output
    pq = pd.read_parquet(tmp_path / "p.parquet")
    assert list(pq["building_id"]) == ["pb", "pa"]
    conn = connect(two_buildings)
    try:
        frame = build_report(
            conn, "portfolio", TUE, WED, settings=_settings(two_buildings)
        )
    finally:
        conn.close()
    pd.testing.assert_series_equal(
        frame["utilization_pct"], pq["utilization_pct"], check_names=False
    )
    bad = CliRunner().invoke(
        main, ["export", "portfolio", "--from", str(WED), "--to", str(TUE)], env=env
    )
    assert bad.exit_code != 0 and "before" in bad.output


@pytest.fixture(scope="module")
def two_time_zones(pg_server: Any) -> str:
    """Amsterdam (the settings' site) and Auckland (UTC+13 in March): an
    Auckland desk busy Tuesday 09:00-11:00 local, which is Monday 20:00-22:00
    UTC; an Amsterdam desk busy Tuesday 16:00-18:00 local."""
    url = pg_server.create_database(f"t_portfolio_tz_{dt.datetime.now():%H%M%S%f}")
    docs = [
        site_doc("ams", "Europe/Amsterdam", 2, cost_per_desk_year=1000.0),
        site_doc("akl", "Pacific/Auckland", 2, cost_per_desk_year=1000.0),
    ]
    rows = []
    for day in (TUE, WED):
        busy = [("16:00", "18:00")] if day == TUE else []
        rows += reports("ams-d1", "Europe/Amsterdam", day, busy, "presence", 1.0)
        busy = [("09:00", "11:00")] if day == TUE else []
        rows += reports("akl-d1", "Pacific/Auckland", day, busy, "presence", 1.0)
    load(url, docs, rows)
    conn = connect(url)
    try:
        settings = load_settings({"database_url": url, "site": "ams"})
        run_analyze(conn, settings, full=True, progress=lambda m: None)
    finally:
        conn.close()
    return url


def test_each_site_keeps_its_own_local_days_and_working_hours(
    two_time_zones: str,
) -> None:
    conn = connect(two_time_zones)
    try:
        s = load_settings({"database_url": two_time_zones, "site": "ams"})
        tue = read_portfolio(conn, TUE, TUE, settings=s).set_index("building_id")
        mon = read_portfolio(
            conn, TUE - dt.timedelta(days=1), TUE - dt.timedelta(days=1), settings=s
        )
        with conn.cursor() as cur:
            cur.execute(
                "SELECT day, count(*) FROM analytics_level_hourly WHERE level = 'building'"
                " AND level_id = 'akl' AND occupied_s > 0 GROUP BY day ORDER BY day"
            )
            akl_days = cur.fetchall()
            cur.execute(
                "SELECT level_id, day, hour, in_working_hours, sum(occupied_s)"
                " FROM analytics_level_hourly WHERE level = 'building'"
                " AND occupied_s > 0 GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3"
            )
            busy_hours = cur.fetchall()
    finally:
        conn.close()
    # Each desk's busy hours in its own local hours, in working hours, 3,600 s each
    assert busy_hours == [
        ("akl", TUE, 9, True, 3600.0),
        ("akl", TUE, 10, True, 3600.0),
        ("ams", TUE, 16, True, 3600.0),
        ("ams", TUE, 17, True, 3600.0),
        # its last report (17:55, occupied) holds until the heartbeat timeout
        # (20 min): 18:00-18:15, outside Amsterdam's working hours
        ("ams", TUE, 18, False, 900.0),
    ]
    # Amsterdam: 16:00-18:00 local is in its working hours, on its Tuesday
    assert tue.loc["ams", "used_desks"] == pytest.approx(1.0)
    # Auckland: its Tuesday morning (Monday evening UTC) is its Tuesday, in
    # its working hours: one desk used, on Tuesday and not on Monday
    assert [d for d, _ in akl_days] == [TUE]
    assert tue.loc["akl", "avg_daily_peak"] == pytest.approx(1.0)
    assert tue.loc["akl", "time_used_pct"] > 0
    used_mon = pd.to_numeric(mon.set_index("building_id")["used_desks"])
    assert not (used_mon.fillna(0) > 0).any()
