"""rollup_departments on a frame with no department in it returns it as is
(the API's schemathesis run found `devices?rollup=true` failing)."""

from __future__ import annotations

import pandas as pd

from analytics.rollup import rollup_departments


def test_frame_without_departments_is_unchanged() -> None:
    devices = pd.DataFrame(
        {
            "device_id": ["d1", "d2"],
            "kind": ["desk_sensor"] * 2,
            "battery_pct": [80.0, 55.0],
        }
    )
    floors = pd.DataFrame(
        {"level": ["floor", "floor"], "level_id": ["f0", "f1"], "capacity": [10, 20],
         "utilization_pct": [40.0, 55.5]}
    )  # fmt: skip
    parents = {"team-a": "dept-x"}
    for frame in (devices, floors, devices.iloc[:0]):
        pd.testing.assert_frame_equal(rollup_departments(frame, parents, 5), frame)


def test_department_level_rows_still_roll_up() -> None:
    frame = pd.DataFrame(
        {"level": ["department"] * 2, "level_id": ["team-a", "team-b"],
         "capacity": [10, 20], "suppressed": [False, False]}
    )  # fmt: skip
    out = rollup_departments(frame, {"team-a": "dept-x", "team-b": "dept-x"}, 0)
    assert list(out["level_id"]) == ["dept-x"] and list(out["capacity"]) == [30]
