"""``occupancy plan ...`` and ``occupancy export <plan report>`` on a real
database whose hourly level rollups are written here (a known weekly
profile), so the numbers can be checked by hand."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from occupancy.cli import main
from occupancy.db import connect, copy_rows

pytestmark = pytest.mark.integration

FIRST = dt.date(2026, 1, 5)  # a Monday
WEEKS = 14
LAST = FIRST + dt.timedelta(days=7 * WEEKS - 1)  # a Sunday


def _people(day: dt.date, hour: int, base: float) -> float:
    # Tuesday-Thursday busier; a midday peak
    return (
        base
        * (1.2 if day.weekday() in (1, 2, 3) else 0.8)
        * (1.0 if 10 <= hour < 16 else 0.5)
    )


@pytest.fixture(scope="module")
def url(database_url: str) -> str:
    conn = connect(database_url)
    rng = np.random.default_rng(5)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT department_id FROM departments ORDER BY 1")
        depts = [r[0] for r in cur.fetchall()]
        groups = [("building", "main", 300, 60.0), ("floor", "f1", 100, 20.0)]
        groups += [("department", d, 30, 8.0) for d in depts]
        rows = []
        for i in range(7 * WEEKS):
            day = FIRST + dt.timedelta(days=i)
            if day.weekday() > 4:
                continue
            for hour in range(8, 18):
                for level, lid, cap, base in groups:
                    p = max(_people(day, hour, base) + rng.normal(0, 1), 0.0)
                    rows.append(
                        (
                            day,
                            level,
                            lid,
                            hour,
                            True,
                            4,
                            1,
                            cap,
                            cap,
                            cap * 3600.0,
                            3600.0,
                            3600.0,
                            p * 3600.0,
                            p + 1,
                            p + 1,
                            cap - p - 1,
                        )
                    )
        copy_rows(
            cur,
            "analytics_level_hourly",
            [
                "day",
                "level",
                "level_id",
                "hour",
                "in_working_hours",
                "buckets",
                "spaces",
                "capacity",
                "desks_measured",
                "capacity_s",
                "measured_s",
                "occupied_s",
                "people_s",
                "peak_people",
                "peak_desks_occupied",
                "min_vacant",
            ],
            rows,
        )
    conn.close()
    return database_url


def _run(url: str, *args: str) -> Any:
    return CliRunner().invoke(main, ["--database-url", url, *args])


def test_plan_forecast_prints_and_exports(url: str, tmp_path: Any) -> None:
    res = _run(
        url,
        "plan",
        "forecast",
        "--from",
        str(FIRST),
        "--to",
        str(LAST),
        "--horizon",
        "2",
        "--level",
        "building",
    )
    assert res.exit_code == 0, res.output
    assert "people_hi95" in res.output
    out = tmp_path / "fc.csv"
    res = _run(
        url,
        "export",
        "forecast",
        "--from",
        str(FIRST),
        "--to",
        str(LAST),
        "--plan",
        "horizon=2",
        "--plan",
        "levels=building,floor",
        "-o",
        str(out),
    )
    assert res.exit_code == 0, res.output
    fc = pd.read_csv(out)
    assert set(fc["level"]) == {"building", "floor"}
    # 2 weeks × 5 days × 10 hours per group
    assert (fc.groupby("level_id").size() == 100).all()
    b = fc[(fc["level"] == "building") & ~fc["closed"]]
    # Wednesday midday: 60 × 1.2 = 72 people expected; forecast near it
    wed = b[(pd.to_datetime(b["day"]).dt.weekday == 2) & (b["hour"] == 12)]
    assert np.allclose(wed["people"], 72.0, atol=3.0)
    assert (b["people_lo95"] <= b["people_lo80"]).all()
    assert (b["people_lo80"] <= b["people"]).all()
    assert (b["people_hi80"] <= b["people_hi95"]).all()
    np.testing.assert_allclose(b["utilization_pct"], 100 * b["people"] / 300)


def test_plan_forecast_scores_and_bad_horizon(url: str) -> None:
    res = _run(
        url,
        "export",
        "forecast",
        "--from",
        str(FIRST),
        "--to",
        str(LAST),
        "--plan",
        "show=scores",
        "--plan",
        "levels=floor",
    )
    assert res.exit_code == 0, res.output
    sc = pd.read_csv(io.StringIO(res.output))
    assert set(sc["model"]) == {"seasonal_naive", "dls", "dls_level", "dls_fast"}
    assert sc["chosen"].sum() == 1
    bad = _run(
        url,
        "export",
        "forecast",
        "--from",
        str(FIRST),
        "--to",
        str(LAST),
        "--plan",
        "horizon=9",
    )
    assert bad.exit_code != 0 and "horizon 9" in bad.output
    bad = _run(
        url,
        "export",
        "forecast",
        "--from",
        str(FIRST),
        "--to",
        str(LAST),
        "--plan",
        "horizon",
    )
    assert bad.exit_code != 0 and "KEY=VALUE" in bad.output


def test_plan_whatif(url: str) -> None:
    res = _run(
        url,
        "plan",
        "whatif",
        "--from",
        str(FIRST),
        "--to",
        str(LAST),
        "--close",
        "f2:fri",
        "--sharing",
        "0.5",
    )
    assert res.exit_code == 0, res.output
    assert "baseline" in res.output and "close f2:fri" in res.output
    res = _run(
        url,
        "export",
        "whatif",
        "--from",
        str(FIRST),
        "--to",
        str(LAST),
        "--plan",
        "close=f2:fri",
        "--plan",
        "move=finance:f2",
    )
    assert res.exit_code == 0, res.output
    w = pd.read_csv(io.StringIO(res.output)).set_index("scenario")
    assert list(w.index) == ["baseline", "close f2:fri", "move finance:f2"]
    # peak_people = people + 1 summed over the 8 departments (each 8 × 1.2 at
    # midday midweek plus noise): the building's desks hold it
    assert bool(w.loc["baseline", "fits_p90"])
    bad = _run(
        url,
        "plan",
        "whatif",
        "--from",
        str(FIRST),
        "--to",
        str(LAST),
        "--close",
        "f9:fri",
    )
    assert bad.exit_code != 0 and "f9" in bad.output
    bad = _run(
        url,
        "plan",
        "whatif",
        "--from",
        str(FIRST),
        "--to",
        str(LAST),
        "--anchor",
        "sales:someday",
    )
    assert bad.exit_code != 0 and "someday" in bad.output
    ds = _run(
        url, "plan", "whatif", "--from", str(FIRST), "--to", str(LAST), "--desk-sharing"
    )
    assert ds.exit_code == 0, ds.output


def test_plan_stack(url: str) -> None:
    res = _run(
        url,
        "export",
        "stack",
        "--from",
        str(FIRST),
        "--to",
        str(LAST),
        "--plan",
        "pair=finance:it",
        "--plan",
        "time-limit=5",
    )
    assert res.exit_code == 0, res.output
    st = pd.read_csv(io.StringIO(res.output)).set_index("department_id")
    assert len(st) == 8 and st["solver_status"].iloc[0] == "OPTIMAL"
    # finance (f1) and it (f2) end on one floor; every department fits
    assert st.loc["finance", "floor_id"] == st.loc["it", "floor_id"]
    assert (st["demand"] <= st["desks"]).all()
    res = _run(
        url,
        "plan",
        "stack",
        "--from",
        str(FIRST),
        "--to",
        str(LAST),
        "--pair",
        "finance:it",
        "--pairs",
    )
    assert res.exit_code == 0 and "same_floor_today" in res.output
    bad = _run(
        url,
        "plan",
        "stack",
        "--from",
        str(FIRST),
        "--to",
        str(LAST),
        "--pair",
        "finance:nobody",
    )
    assert bad.exit_code != 0 and "nobody" in bad.output
