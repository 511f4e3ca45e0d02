"""What-if scenarios on a hand-built demand (values worked out here)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from analytics.whatif import Scenario, evaluate, evaluate_all

MON, TUE = dt.date(2026, 3, 2), dt.date(2026, 3, 3)


@pytest.fixture()
def demand() -> pd.DataFrame:
    rows = [
        (MON, 9, "A", 3.0),
        (MON, 9, "B", 2.0),
        (MON, 10, "A", 4.0),
        (MON, 10, "B", 3.0),
        (TUE, 9, "A", 5.0),
        (TUE, 9, "B", 1.0),
        (TUE, 10, "A", 2.0),
        (TUE, 10, "B", 1.0),
    ]
    return pd.DataFrame(rows, columns=["day", "hour", "department_id", "people"])


@pytest.fixture()
def desks() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "zone_id": ["zA", "zB", "zC"],
            "floor_id": ["f1", "f1", "f2"],
            "department_id": ["A", "B", None],
            "desks": [4, 3, 5],
            "rooms": [1, 0, 2],
        }
    )


def test_baseline_daily_peaks(demand: pd.DataFrame, desks: pd.DataFrame) -> None:
    # totals Mon 5, 7; Tue 6, 3 -> daily peaks 7 and 6 against 12 desks
    b = evaluate_all(demand, desks, []).iloc[0]
    assert b["scenario"] == "baseline"
    assert b["p50_day_people"] == pytest.approx(6.5)
    assert b["p90_day_people"] == pytest.approx(6.9)  # 6 + 0.9 × (7 − 6)
    assert b["max_day_people"] == 7.0
    assert bool(b["fits_p90"]) and b["overflow_hours"] == 0


def test_close_a_zone_that_still_fits(
    demand: pd.DataFrame, desks: pd.DataFrame
) -> None:
    (r,) = evaluate(demand, desks, Scenario("c", "close", zones=("zC",), weekdays=(0,)))
    # Monday: 12 − 5 = 7 desks for a peak of 7
    assert bool(r["fits_p90"]) and r["days_over"] == 0
    assert (r["desks_freed"], r["rooms_freed"]) == (5.0, 2)


def test_close_a_floor_that_breaks(demand: pd.DataFrame, desks: pd.DataFrame) -> None:
    (r,) = evaluate(
        demand, desks, Scenario("c", "close", floors=("f1",), weekdays=(1,))
    )
    # Tuesday: 5 desks; 09:00 has 6 people -> 1 over in one hour
    assert r["breaking_days"] == TUE.isoformat()
    # daily excess Mon 7 − 12 = −5, Tue 6 − 5 = 1: p90 = −5 + 0.9 × 6 = 0.4 > 0
    assert not bool(r["fits_p90"])
    assert (r["overflow_hours"], r["overflow_max_people"]) == (1, 1.0)
    assert r["overflow_people_hours"] == 1.0
    assert (r["desks_freed"], r["rooms_freed"]) == (7.0, 1)


def test_move_a_department(demand: pd.DataFrame, desks: pd.DataFrame) -> None:
    (ok,) = evaluate(
        demand, desks, Scenario("m", "move", department="A", zones=("zC",))
    )
    # A alone in zC: peaks 4 and 5 against 5 desks; its 4 desks in zA freed
    assert bool(ok["fits_p90"]) and ok["desks_freed"] == 4.0
    (bad,) = evaluate(
        demand, desks, Scenario("m", "move", department="A", zones=("zB",))
    )
    # A with B in zB (3 desks): over by 2, 4, 3, 0 -> 3 hours, people-hours 9
    assert bad["overflow_hours"] == 3
    assert bad["overflow_max_people"] == 4.0
    assert bad["overflow_mean_people"] == pytest.approx(3.0)
    assert bad["overflow_people_hours"] == 9.0
    assert bad["breaking_days"] == f"{MON},{TUE}"


def test_sharing_ratio(demand: pd.DataFrame, desks: pd.DataFrame) -> None:
    rows = evaluate(
        demand, desks, Scenario("s", "sharing", ratio=0.5), headcount={"A": 8, "B": 4}
    )
    a, b = (r for r in rows)
    # A: 4 desks, Tuesday 09:00 has 5; B: 2 desks, Monday 10:00 has 3
    assert (a["space"], a["desks"], a["breaking_days"]) == ("A", 4.0, TUE.isoformat())
    assert (b["space"], b["desks"], b["breaking_days"]) == ("B", 2.0, MON.isoformat())
    assert (a["desks_freed"], b["desks_freed"]) == (0.0, 1.0)


def test_anchor_days(demand: pd.DataFrame, desks: pd.DataFrame) -> None:
    sc = Scenario("a", "anchor", department="A", weekdays=(0,))
    (r,) = evaluate(demand, desks, sc, headcount={"A": 8})
    # A's week at 09:00 = 3 + 5 = 8, at 10:00 = 4 + 2 = 6, all on Monday:
    # totals Mon 8 + 2 = 10, 6 + 3 = 9; Tue 1, 1
    assert r["max_day_people"] == 10.0
    assert r["p50_day_people"] == pytest.approx(5.5)
    (capped,) = evaluate(demand, desks, sc, headcount={"A": 7})
    assert capped["max_day_people"] == 9.0  # 09:00 capped at A's 7 people


def test_bad_scenarios_name_the_problem(
    demand: pd.DataFrame, desks: pd.DataFrame
) -> None:
    with pytest.raises(ValueError, match="unknown zone/floor"):
        evaluate(demand, desks, Scenario("x", "close", zones=("nope",), weekdays=(0,)))
    with pytest.raises(ValueError, match="ratio"):
        evaluate(demand, desks, Scenario("x", "sharing"), headcount={"A": 1})
    with pytest.raises(ValueError, match="kind"):
        evaluate(demand, desks, Scenario("x", "teleport"))
