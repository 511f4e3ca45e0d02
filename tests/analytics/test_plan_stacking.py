"""The stacking plan on small cases whose optimum is worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics.stacking import (
    StackingError,
    StackParams,
    adjacent_neutral,
    solve,
)

# Two floors, two neighbourhoods of 10 desks each.
HOODS = pd.DataFrame(
    {
        "zone_id": ["n1", "n2", "n3", "n4"],
        "floor_id": ["F1", "F1", "F2", "F2"],
        "desks": 10,
    }
)
DEMAND = pd.DataFrame(
    {"department_id": ["A", "B", "C", "D"], "demand": [8.0, 8, 8, 7.2]}
)
TODAY = {"A": {"n1"}, "B": {"n3"}, "C": {"n2"}, "D": {"n4"}}
NO_NEUTRAL = pd.DataFrame(columns=["zone_id", "neutral_id"])


def _pairs(*ab: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "department_a": [a for a, _ in ab],
            "department_b": [b for _, b in ab],
            "weight": 1,
        }
    )


def test_a_wanted_pair_worth_the_moves() -> None:
    # A (F1) and B (F2) to share a floor: no neighbourhood holds two
    # departments of 8, so two departments must swap floors: 8 + 8 = 16
    # people moved (D has 7.2 -> 8 whole people as well). 20 − 16 = 4 > 0.
    r = solve(HOODS, DEMAND, _pairs(("A", "B")), TODAY, NO_NEUTRAL, StackParams())
    assert r.status == "OPTIMAL"
    assert r.objective == 4.0 and r.objective_today == 0.0
    got = r.assignment.set_index("department_id")
    assert got.loc["A", "floor_id"] == got.loc["B", "floor_id"]
    assert got["moved"].sum() == 2
    assert bool(r.pairs["same_floor"].iloc[0]) and not bool(
        r.pairs["same_floor_today"].iloc[0]
    )


def test_a_pair_not_worth_the_moves_stays() -> None:
    # worth 10 < 16 people moved: keep today's plan (objective 0)
    r = solve(
        HOODS,
        DEMAND,
        _pairs(("A", "B")),
        TODAY,
        NO_NEUTRAL,
        StackParams(floor_value=10),
    )
    assert r.objective == 0.0
    assert not r.assignment["moved"].any()
    assert (r.assignment["proposed"] == r.assignment["current"]).all()


def test_two_small_departments_share_a_neighbourhood() -> None:
    # A 4 and B 5 fit one 10-desk neighbourhood; moving B (5 people) to n1
    # meets the pair: 20 − 5 = 15 (moving A instead costs 4: 20 − 4 = 16 best)
    demand = pd.DataFrame({"department_id": ["A", "B"], "demand": [4.0, 5.0]})
    r = solve(HOODS, demand, _pairs(("A", "B")), {"A": {"n1"}, "B": {"n3"}}, NO_NEUTRAL)
    assert r.objective == 16.0
    got = r.assignment.set_index("department_id")
    assert not bool(got.loc["B", "moved"]) and bool(got.loc["A", "moved"])
    assert got.loc["A", "floor_id"] == "F2"


def test_a_shared_neutral_zone_adds_its_value() -> None:
    zones = pd.DataFrame(
        {
            "zone_id": ["n1", "n2", "n3", "n4", "cafe"],
            "floor_id": ["F1", "F1", "F2", "F2", "F1"],
            "kind": ["neighbourhood"] * 4 + ["shared"],
            "x": [0.0, 30.0, 0.0, 30.0, 10.0],
            "y": 0.0,
            "width": [10.0, 10.0, 10.0, 10.0, 20.0],
            "height": 5.0,
        }
    )
    near = adjacent_neutral(zones)
    # the cafe (x 10..30) touches n1 (0..10) and n2 (30..40) on F1 only
    assert sorted(near["zone_id"]) == ["n1", "n2"]
    # A and C both on F1 next to the cafe today: 20 + 10 = 30, no move
    r = solve(HOODS, DEMAND, _pairs(("A", "C")), TODAY, near)
    assert r.objective == 30.0 == r.objective_today
    assert bool(r.pairs["shared_neutral"].iloc[0])


def test_impossible_demand_is_a_clear_error() -> None:
    big = pd.DataFrame({"department_id": ["A"], "demand": [11.0]})
    with pytest.raises(StackingError, match="more desks than any"):
        solve(HOODS, big, _pairs(), {}, NO_NEUTRAL)
    with pytest.raises(StackingError, match="unknown department"):
        solve(HOODS, DEMAND, _pairs(("A", "Z")), TODAY, NO_NEUTRAL)
    # 5 × 8 = 40 fits the desks but not 4 neighbourhoods of 10
    five = pd.DataFrame({"department_id": list("ABCDE"), "demand": [8.0] * 5})
    with pytest.raises(StackingError, match="no plan"):
        solve(HOODS, five, _pairs(), {}, NO_NEUTRAL, StackParams(time_limit_s=5))
