"""The building file's ``site: planned_changes:`` (occupancy/planned_changes.py):
read into the Site, checked with errors naming the field, and stored records
that read back to the same changes."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
import yaml

from occupancy.building import BuildingError, parse_building
from occupancy.planned_changes import PlannedChange, from_records, to_records

from conftest import EXAMPLE_BUILDING

SEP = dt.date(2026, 9, 7)


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(EXAMPLE_BUILDING.read_text())
    return data


def _with(doc: dict[str, Any], *changes: dict[str, Any]) -> dict[str, Any]:
    d = copy.deepcopy(doc)
    d["site"]["planned_changes"] = list(changes)
    return d


def test_planned_changes_are_read_by_date_with_their_scope(
    doc: dict[str, Any],
) -> None:
    assert parse_building(doc).planned_changes == ()
    site = parse_building(
        _with(
            doc,
            {"date": dt.date(2027, 1, 4), "factor": 0.9},
            {
                "date": SEP,
                "factor": 1.2,
                "departments": ["sales", "it", "sales"],
                "floors": ["f2"],
                "note": "3 office days",
            },
        )
    )
    assert site.planned_changes == (
        PlannedChange(SEP, 1.2, ("f2",), ("it", "sales"), "3 office days"),
        PlannedChange(dt.date(2027, 1, 4), 0.9),
    )
    assert site.planned_changes[0].scoped and not site.planned_changes[1].scoped
    assert from_records(to_records(site.planned_changes)) == site.planned_changes
    assert from_records(None) == () and from_records([]) == ()


@pytest.mark.parametrize(
    ("change", "where", "what"),
    [
        ({"factor": 1.2}, "site.planned_changes[0].date", "is required"),
        ({"date": "next week", "factor": 1.2}, "site.planned_changes[0].date", "date"),
        ({"date": SEP, "factor": 0}, "site.planned_changes[0].factor", "> 0"),
        ({"date": SEP, "factor": 11}, "site.planned_changes[0].factor", "at most 10"),
        ({"date": SEP, "factor": "x"}, "site.planned_changes[0].factor", "number"),
        (
            {"date": SEP, "factor": 1.2, "floors": ["f9"]},
            "site.planned_changes[0].floors",
            "'f9' is not a floor",
        ),
        (
            {"date": SEP, "factor": 1.2, "departments": ["ghosts"]},
            "site.planned_changes[0].departments",
            "'ghosts' is not a department",
        ),
        (
            {"date": SEP, "factor": 1.2, "teams": ["a"]},
            "site.planned_changes[0].teams",
            "unknown field",
        ),
    ],
)
def test_a_bad_planned_change_names_its_field(
    doc: dict[str, Any], change: dict[str, Any], where: str, what: str
) -> None:
    with pytest.raises(BuildingError) as err:
        parse_building(_with(doc, change), "office.yaml")
    assert err.value.path == where
    assert what in str(err.value)


def test_the_same_date_and_scope_twice_is_refused(doc: dict[str, Any]) -> None:
    one = {"date": SEP, "factor": 1.2, "departments": ["sales"]}
    other = {"date": SEP, "factor": 1.1, "departments": ["it"]}
    assert len(parse_building(_with(doc, one, other)).planned_changes) == 2
    with pytest.raises(BuildingError) as err:
        parse_building(_with(doc, one, {**one, "factor": 1.3}))
    assert err.value.path == "site.planned_changes[1]"
    assert "planned_changes[0]" in str(err.value)
