"""The scenario file's validation names the bad field and says what it must be."""

from __future__ import annotations

import pytest

from sensors_sim.scenario import ScenarioError, parse_scenario


def test_values_are_converted_to_the_fields_types() -> None:
    sc = parse_scenario(
        {
            "default_office_days_per_week": 3,
            "working_days": ["Mon", "tue", "wednesday"],
            "faults": {"duplicate": 0.01, "late_min": [1, 2]},
            "sensors": {"desk_heartbeat_s": 120},
        }
    )
    assert sc.default_office_days_per_week == 3.0
    assert isinstance(sc.default_office_days_per_week, float)
    assert sc.working_days == (0, 1, 2)
    assert sc.faults.duplicate == 0.01 and sc.faults.late_min == (1.0, 2.0)
    assert sc.sensors.desk_heartbeat_s == 120


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"default_office_days_per_week": "three"},
            "default_office_days_per_week: 'three' must be a number",
        ),
        ({"default_office_days_per_week": -1}, "must be ≥ 0"),
        ({"faults": {"late_min": [1, 2, 3]}}, "faults.late_min: .* must have 2 items"),
        ({"faults": {"duplicate": True}}, "faults.duplicate: True must be a number"),
        ({"sensors": {"nope": 1}}, r"sensors.nope: unknown field \(misspelt\?\)"),
        ({"working_days": "mon"}, "working_days: 'mon' must be a list"),
        ({"meeting_sizes": [1, 2]}, "meeting_sizes: .* must be a mapping"),
        ({"faults": 3}, "faults: must be a mapping"),
    ],
)
def test_bad_values_name_the_field(data: dict[str, object], message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(data)
