"""Department reports one level up: hand-built frames, hand-worked sums."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.rollup import rollup_departments

PARENTS = {"ap": "finance", "ar": "finance", "finance": "ops", "hr": None, "ops": None}


def test_colocation_pairs_roll_up_and_lift_is_recomputed() -> None:
    frame = pd.DataFrame(
        {
            "source": ["all", "all", "all"],
            "department_a": ["ap", "ar", "ap"],
            "department_b": ["hr", "hr", "ar"],
            "minutes": [30.0, 15.0, 60.0],
            "people_a": [3, 4, 3],
            "people_b": [6, 6, 4],
            "expected_minutes": [20.0, 10.0, 30.0],
            "lift": [1.5, 1.5, 2.0],
            "suppressed": [False, False, False],
        }
    )
    out = rollup_departments(frame, PARENTS, k=5).set_index(
        ["department_a", "department_b"]
    )
    # ap-hr + ar-hr → finance-hr: 45 minutes, 3 + 4 = 7 people, lift 45 / 30.
    fin_hr = out.loc[("finance", "hr")]
    assert fin_hr["minutes"] == 45.0 and fin_hr["people_a"] == 7
    assert fin_hr["lift"] == 1.5 and not fin_hr["suppressed"]
    # ap-ar → finance-finance: both sides are Finance now; people 3 and 4 < k.
    fin_fin = out.loc[("finance", "finance")]
    assert bool(fin_fin["suppressed"]) and np.isnan(fin_fin["minutes"])


def test_a_suppressed_child_suppresses_its_parent_and_pairs_are_ordered() -> None:
    frame = pd.DataFrame(
        {
            "source": ["all", "all"],
            "department_a": ["hr", "ar"],
            "department_b": ["ap", "hr"],
            "minutes": [30.0, np.nan],
            "people_a": [6, np.nan],
            "people_b": [5, np.nan],
            "expected_minutes": [20.0, np.nan],
            "lift": [1.5, np.nan],
            "suppressed": [False, True],
        }
    )
    out = rollup_departments(frame, PARENTS, k=5)
    assert out[["department_a", "department_b"]].values.tolist() == [["finance", "hr"]]
    assert bool(out["suppressed"].iloc[0]) and np.isnan(out["minutes"].iloc[0])


def test_no_show_per_department_rolls_up_with_its_ratio() -> None:
    frame = pd.DataFrame(
        {
            "department_id": ["ap", "ar", "hr"],
            "bookings": [10, 30, 7],
            "booked_s": [3600.0, 7200.0, 1800.0],
            "no_show_s": [1800.0, 0.0, 900.0],
            "no_show_pct": [50.0, 0.0, 50.0],
            "suppressed": [False, False, False],
        }
    )
    out = rollup_departments(frame, PARENTS, k=5).set_index("department_id")
    assert out.loc["finance", "bookings"] == 40
    assert out.loc["finance", "no_show_pct"] == 100.0 * 1800.0 / 10800.0
    assert out.loc["hr", "no_show_pct"] == 50.0
    # One level only: finance's own parent (ops) is not reached.
    assert "ops" not in out.index
