from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
import yaml

from occupancy.building import (
    BuildingError,
    SiteCalendar,
    load_building,
    parse_building,
)

from conftest import EXAMPLE_BUILDING


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(EXAMPLE_BUILDING.read_text())
    return data


def test_example_building_matches_the_issue() -> None:
    site = load_building(EXAMPLE_BUILDING)
    assert len(site.buildings) == 1
    assert len(list(site.floors())) == 3
    assert 280 <= len(list(site.desks())) <= 320
    assert 23 <= len(list(site.rooms())) <= 27
    assert len(site.departments) == 8
    shared = [z for z in site.zones() if z.kind == "shared"]
    assert {z.name for z in shared} >= {"Café", "Project space"}
    assert all(z.department_id is None for z in shared)
    # Every desk and room has a sensor; every zone a counter and a BLE scanner.
    covered = {d.space_id for d in site.devices if d.space_id}
    assert covered == {s.id for s in site.spaces()}
    scanners = {d.zone_id for d in site.devices if d.kind == "ble_scanner"}
    assert scanners == {z.id for z in site.zones()}


def _broken(doc: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    d = copy.deepcopy(doc)
    node = d
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return d


Z = ["buildings", 0, "floors", 1, "zones", 0]


@pytest.mark.parametrize(
    ("path", "value", "where", "what"),
    [
        (
            [*Z, "desks", 3, "width"],
            -1,
            "buildings[0].floors[1].zones[0].desks[3].width",
            "must be a number > 0",
        ),
        (
            [*Z, "desks", 3, "x"],
            500,
            "buildings[0].floors[1].zones[0].desks[3]",
            "outside its zone",
        ),
        (
            [*Z, "department"],
            "astrology",
            "buildings[0].floors[1].zones[0].department",
            "unknown department",
        ),
        (
            [*Z, "kind"],
            "garden",
            "buildings[0].floors[1].zones[0].kind",
            "is not one of",
        ),
        (
            [*Z, "colour"],
            "red",
            "buildings[0].floors[1].zones[0].colour",
            "unknown field",
        ),
        (["site", "timezone"], "Mars/Olympus", "site.timezone", "IANA"),
        (["site", "working_hours"], "9-17", "site.working_hours", "HH:MM-HH:MM"),
        (["site", "working_hours"], "18:00-08:00", "site.working_hours", "ends before"),
        (["site", "working_days"], ["mon", "fun"], "site.working_days", "'fun'"),
        (["site", "country"], "Atlantis", "site.country", "no public holidays"),
        (["site", "holidays"], "2026-12-25", "site.holidays", "list"),
        (
            ["departments", 2, "headcount"],
            "many",
            "departments[2].headcount",
            "whole number",
        ),
        (
            ["devices", 5, "space"],
            "no-such-desk",
            "devices[5].space",
            "unknown desk or room",
        ),
        (["devices", 0, "kind"], KeyError, "devices[0].kind", "is required"),
    ],
)
def test_errors_name_the_bad_field(
    doc: dict[str, Any], path: list[Any], value: Any, where: str, what: str
) -> None:
    with pytest.raises(BuildingError) as err:
        parse_building(_broken(doc, path, value), "office.yaml")
    assert err.value.path == where
    assert what in str(err.value)
    assert str(err.value).startswith("office.yaml: ")


def test_site_calendar_fields(doc: dict[str, Any]) -> None:
    assert parse_building(doc).calendar == SiteCalendar()  # none given
    d = copy.deepcopy(doc)
    d["site"].update(
        country="nl",
        working_hours="07:30-16:00",
        working_days=["Mon", "tue", "thu"],
        holidays=[dt.date(2026, 12, 28), dt.date(2026, 12, 24), dt.date(2026, 12, 28)],
    )
    assert parse_building(d).calendar == SiteCalendar(
        "NL",
        "07:30-16:00",
        ("mon", "tue", "thu"),
        (dt.date(2026, 12, 24), dt.date(2026, 12, 28)),
    )


def test_duplicate_ids_are_refused(doc: dict[str, Any]) -> None:
    d = copy.deepcopy(doc)
    desks = d["buildings"][0]["floors"][0]["zones"][0]["desks"]
    desks[1]["id"] = desks[0]["id"]
    with pytest.raises(BuildingError, match="used twice"):
        parse_building(d)
