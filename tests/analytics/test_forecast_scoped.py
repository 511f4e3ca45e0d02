"""Planned changes of named floors or departments (analytics/forecast_changes.py,
docs/metrics.md "Planned changes"): the groups made of the changed zones get
the factor, a group containing some of them rises by exactly their share.
Worked by hand on a constant history (every model forecasts it exactly):

    zone  floor  department  people (9 h, 10 h)
    z1    f1     A           6, 2
    z2    f1     B           4, 4
    z3    f2     (shared)    10, 10

so building b = 20 / 16, floor f1 = 10 / 6, f2 = 10 / 10, A = z1, B = z2."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from analytics.forecast import ForecastParams, PlannedChange, forecast_all, hour_grid
from analytics.forecast_changes import PlannedChangeError, check_scopes

MON = dt.date(2026, 3, 2)
HIST_WEEKS, AHEAD = 8, 2
LAST = MON + dt.timedelta(days=7 * HIST_WEEKS - 1)
CHANGE = LAST + dt.timedelta(days=1)  # the first forecast day
ZONES = pd.DataFrame(
    {
        "zone_id": ["z1", "z2", "z3"],
        "floor_id": ["f1", "f1", "f2"],
        "building_id": ["b", "b", "b"],
        "department_id": ["A", "B", None],
    }
)
PEOPLE = {"z1": (6.0, 2.0), "z2": (4.0, 4.0), "z3": (10.0, 10.0)}
GROUPS = {
    ("zone", "z1"): ["z1"],
    ("zone", "z2"): ["z2"],
    ("zone", "z3"): ["z3"],
    ("floor", "f1"): ["z1", "z2"],
    ("floor", "f2"): ["z3"],
    ("department", "A"): ["z1"],
    ("department", "B"): ["z2"],
    ("building", "b"): ["z1", "z2", "z3"],
}


def _forecast(*planned: PlannedChange) -> pd.DataFrame:
    grid = hour_grid(
        MON,
        MON + dt.timedelta(days=7 * (HIST_WEEKS + AHEAD) - 1),
        work_hours=(9, 11),
        weekdays=[0, 2],
    )
    hist = grid[grid["day"] <= LAST].reset_index(drop=True)
    parts = []
    for (level, gid), zs in GROUPS.items():
        at = {h: sum(PEOPLE[z][h - 9] for z in zs) for h in (9, 10)}
        parts.append(
            hist[["day", "hour"]].assign(
                level=level,
                level_id=gid,
                people=hist["hour"].map(at).astype(float),
                capacity=50.0,
            )
        )
    fc, _ = forecast_all(
        pd.concat(parts, ignore_index=True),
        hist,
        grid[grid["day"] > LAST].reset_index(drop=True),
        ForecastParams(horizon_weeks=AHEAD, origins=3),
        k=5,
        timezone="Europe/Amsterdam",
        planned=planned,
        zones=ZONES,
    )
    return fc


def _at(fc: pd.DataFrame, level: str, gid: str, hour: int) -> pd.DataFrame:
    return fc[(fc["level"] == level) & (fc["level_id"] == gid) & (fc["hour"] == hour)]


@pytest.fixture(scope="module")
def plain() -> pd.DataFrame:
    return _forecast()


def _check(fc: pd.DataFrame, want: dict[tuple[str, str, int], float]) -> None:
    for (level, gid, hour), people in want.items():
        got = _at(fc, level, gid, hour)
        assert len(got) == 2 * AHEAD, (level, gid, hour)
        np.testing.assert_allclose(got["people"], people, atol=1e-6)


def test_the_plain_forecast_is_the_history(plain: pd.DataFrame) -> None:
    _check(plain, {("building", "b", 9): 20.0, ("floor", "f1", 10): 6.0})
    assert (plain["planned_factor"] == 1.0).all()


def test_a_department_change_raises_its_floor_and_building_by_its_share() -> None:
    fc = _forecast(PlannedChange(CHANGE, 1.5, departments=("A",)))
    _check(
        fc,
        {
            # A and its zone × 1.5; B, z2, z3, f2 untouched
            ("department", "A", 9): 9.0,
            ("department", "A", 10): 3.0,
            ("zone", "z1", 9): 9.0,
            ("department", "B", 9): 4.0,
            ("zone", "z2", 10): 4.0,
            ("floor", "f2", 9): 10.0,
            # f1 + 0.5 × A: 10 + 3 at 9 h, 6 + 1 at 10 h
            ("floor", "f1", 9): 13.0,
            ("floor", "f1", 10): 7.0,
            # b + 0.5 × A: 20 + 3, 16 + 1
            ("building", "b", 9): 23.0,
            ("building", "b", 10): 17.0,
        },
    )
    f = _at(fc, "building", "b", 10)["planned_factor"]
    np.testing.assert_allclose(f, 17.0 / 16.0)
    assert (_at(fc, "department", "B", 9)["planned_factor"] == 1.0).all()


def test_a_floor_change_and_a_site_change_multiply() -> None:
    fc = _forecast(
        PlannedChange(CHANGE, 0.5, floors=("f2",)),
        PlannedChange(CHANGE, 1.2),
    )
    _check(
        fc,
        {
            ("floor", "f2", 9): 10.0 * 0.5 * 1.2,
            ("zone", "z3", 10): 10.0 * 0.5 * 1.2,
            ("floor", "f1", 9): 10.0 * 1.2,
            ("department", "A", 10): 2.0 * 1.2,
            # b: (20 − 0.5 × 10) × 1.2 at 9 h, (16 − 5) × 1.2 at 10 h
            ("building", "b", 9): 15.0 * 1.2,
            ("building", "b", 10): 11.0 * 1.2,
        },
    )


def test_floors_and_departments_together_mean_both() -> None:
    # A's neighbourhoods on f2: none, so nothing changes.
    fc = _forecast(PlannedChange(CHANGE, 1.5, floors=("f2",), departments=("A",)))
    assert (fc["planned_factor"] == 1.0).all()
    # A on f1: as a change of A.
    fc = _forecast(PlannedChange(CHANGE, 1.5, floors=("f1",), departments=("A",)))
    _check(fc, {("floor", "f1", 9): 13.0, ("building", "b", 10): 17.0})


def test_an_unknown_floor_or_department_is_refused() -> None:
    check_scopes([PlannedChange(CHANGE, 1.2, ("f1",), ("A", "B"))], ZONES)
    with pytest.raises(PlannedChangeError, match="'C' is not a department"):
        check_scopes([PlannedChange(CHANGE, 1.2, departments=("C",))], ZONES)
    with pytest.raises(PlannedChangeError, match="'f9' is not a floor"):
        check_scopes([PlannedChange(CHANGE, 1.2, floors=("f9",))], ZONES)


def test_a_scoped_change_per_run_is_read_with_its_floors_and_departments() -> None:
    from analytics.forecast_changes import parse_planned_change

    got = parse_planned_change("2026-09-07:1.2:departments=B+A:floors=f1")
    assert got == PlannedChange(dt.date(2026, 9, 7), 1.2, ("f1",), ("A", "B"))
    for bad, says in (
        ("2026-09-07:1.2:teams=x", "expected DATE:FACTOR"),
        ("2026-09-07:1.2:departments=", "names none"),
        ("2026-09-07:1.2:floors=a:floors=b", "expected DATE:FACTOR"),
    ):
        with pytest.raises(PlannedChangeError, match=says):
            parse_planned_change(bad)
