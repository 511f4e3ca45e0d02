"""The scenario's demand effects: each by itself, worked out here, and off
by default (the same truth as before)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest

import sensors_sim
from occupancy.schoolholidays import school_holidays
from sensors_sim.effects import attendance_factor, join_day
from sensors_sim.presence import simulate_presence
from sensors_sim.scenario import ScenarioError, parse_scenario

MON = dt.date(2026, 3, 2)


def _dates(first: dt.date, n: int) -> tuple[dt.date, ...]:
    return tuple(first + dt.timedelta(days=i) for i in range(n))


def test_attendance_factor_by_hand() -> None:
    sc = sensors_sim.Scenario().replace(
        policy_change_date="2026-03-04",
        policy_office_days_factor=1.5,
        events={"2026-03-05": 2.0},
    )
    f = attendance_factor(_dates(MON, 4), sc)
    assert f.tolist() == [1.0, 1.0, 1.5, 3.0]


def test_winter_dip_peaks_on_1_february() -> None:
    sc = sensors_sim.Scenario().replace(winter_sickness_dip=0.2)
    f = attendance_factor(
        (dt.date(2026, 2, 1), dt.date(2026, 2, 22), dt.date(2026, 7, 1)), sc
    )
    # peak: 1 − 0.2; 21 days (one sd) later: 1 − 0.2 e^(−1/2); summer: ~1
    assert f[0] == pytest.approx(0.8)
    assert f[1] == pytest.approx(1 - 0.2 * np.exp(-0.5))
    assert f[2] == pytest.approx(1.0, abs=1e-9)


def test_school_holidays_rule() -> None:
    days = school_holidays("middle", dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    # summer: ISO weeks 29-34 of 2026 = 13 Jul .. 23 Aug
    assert dt.date(2026, 7, 13) in days and dt.date(2026, 8, 23) in days
    assert dt.date(2026, 7, 12) not in days and dt.date(2026, 8, 24) not in days
    # Christmas: from Monday 21 Dec for two weeks
    assert dt.date(2026, 12, 21) in days and dt.date(2026, 12, 20) not in days
    assert school_holidays("none", dt.date(2026, 1, 1), dt.date(2026, 12, 31)) == set()
    sc = sensors_sim.Scenario().replace(
        school_holidays="middle", school_holiday_factor=0.5
    )
    f = attendance_factor((dt.date(2026, 7, 10), dt.date(2026, 7, 13)), sc)
    assert f.tolist() == [1.0, 0.5]


def test_join_days_give_the_growth() -> None:
    sc = sensors_sim.Scenario().replace(headcount_growth_pct=25.0)
    j = join_day(1000, 100, sc)
    # 25 % growth: 1000 × 25 / 125 = 200 people join, evenly over the period
    assert (j > 0).sum() == pytest.approx(200, abs=1)
    assert j.max() < 100
    joined_by = [(j <= d).sum() for d in (0, 99)]
    assert joined_by[1] / joined_by[0] == pytest.approx(1.25, abs=0.01)
    assert (join_day(10, 5, sensors_sim.Scenario()) == 0).all()


def test_scenario_validates_effects() -> None:
    with pytest.raises(ScenarioError, match="school_holidays"):
        parse_scenario({"school_holidays": "east"})
    with pytest.raises(ScenarioError, match="intervention_visit_share needs"):
        parse_scenario({"intervention_visit_share": 0.2})
    with pytest.raises(ScenarioError, match="policy_change_date"):
        parse_scenario({"policy_change_date": "next week"})
    sc = parse_scenario(
        {
            "intervention_date": "2026-03-09",
            "intervention_zones": ["f1-project"],
            "intervention_visit_share": 0.3,
            "events": {"2026-03-05": 1.5},
        }
    )
    assert sc.intervention_zones == ("f1-project",)


def _daily_people(truth: dict[str, pd.DataFrame], tz: str) -> pd.Series:
    """People-hours in the building per local day (every zone)."""
    sc = truth["zone_counts"]
    day = pd.to_datetime(sc["start"]).dt.tz_convert(tz).dt.date
    hours = (sc["end"] - sc["start"]).dt.total_seconds() / 3600 * sc["people"]
    return hours.groupby(day).sum()


def test_presence_truth_is_the_simulation_truth(example_site: Any) -> None:
    sc = sensors_sim.load_scenario(None)
    full = sensors_sim.simulate(example_site, sc, MON, days=2, seed=4)
    fast = simulate_presence(example_site, sc, MON, days=2, seed=4)
    for name in ("people", "space_counts", "zone_counts", "dept_zone"):
        pd.testing.assert_frame_equal(full.truth[name], fast[name])


def test_policy_change_and_planted_visits(example_site: Any) -> None:
    base = sensors_sim.load_scenario(None).replace(vacation_share=0.0)
    sc = base.replace(
        policy_change_date="2026-03-09",
        policy_office_days_factor=0.5,
        intervention_date="2026-03-09",
        intervention_zones=("f1-project",),
        intervention_visit_share=0.5,
    )
    before = simulate_presence(example_site, base, MON, days=14, seed=2)
    after = simulate_presence(example_site, sc, MON, days=14, seed=2)
    tz = example_site.tz.key
    # week 1 as before (the same attendance draws; effects start on the 9th)
    b, a = _daily_people(before, tz), _daily_people(after, tz)
    wk1 = [MON + dt.timedelta(days=i) for i in range(5)]
    wk2 = [MON + dt.timedelta(days=7 + i) for i in range(5)]
    assert a[wk1].sum() / b[wk1].sum() == pytest.approx(1.0, rel=0.03)
    # ... then half the people-hours (a factor below 1: no probability clipped)
    assert a[wk2].sum() / b[wk2].sum() == pytest.approx(0.5, rel=0.08)


def _zone_hours(truth: dict[str, pd.DataFrame], zone: str, tz: str) -> pd.Series:
    zc = truth["zone_counts"]
    zc = zc[zc["zone_id"] == zone]
    day = pd.to_datetime(zc["start"]).dt.tz_convert(tz).dt.date
    return (
        ((zc["end"] - zc["start"]).dt.total_seconds() / 3600 * zc["people"])
        .groupby(day)
        .sum()
    )


def test_planted_visits_only_after_the_date(example_site: Any) -> None:
    base = sensors_sim.load_scenario(None)
    sc = base.replace(
        intervention_date="2026-03-09",
        intervention_zones=("f1-project",),
        intervention_visit_share=0.5,
    )
    tz = example_site.tz.key
    b = _zone_hours(simulate_presence(example_site, base, MON, 14, 2), "f1-project", tz)
    a = _zone_hours(simulate_presence(example_site, sc, MON, 14, 2), "f1-project", tz)
    wk1 = [MON + dt.timedelta(days=i) for i in range(5)]
    wk2 = [MON + dt.timedelta(days=7 + i) for i in range(5)]
    # the visits are drawn after every other draw: week 1 is the same
    pd.testing.assert_series_equal(a[wk1], b[wk1])
    assert a[wk2].sum() > 1.3 * b[wk2].sum()
