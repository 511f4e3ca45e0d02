"""The building model's additions of issue #15: polygons, assigned desks, room
calendars, the department hierarchy and building costs; in the model and in
the database after ``building load``."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from occupancy.building import BuildingError, parse_building
from occupancy.db import connect
from occupancy.metadata import load_site


def small() -> dict[str, Any]:
    return {
        "site": {"id": "s1", "timezone": "Europe/Amsterdam"},
        "departments": [
            {"id": "div", "name": "Division", "headcount": 20},
            {"id": "fin", "name": "Finance", "headcount": 12, "parent": "div"},
            {"id": "fin-ap", "name": "Payables", "headcount": 5, "parent": "fin"},
        ],
        "buildings": [
            {
                "id": "b1",
                "area_m2": 1200,
                "cost_per_m2_year": 310.5,
                "cost_per_desk_year": 4000,
                "floors": [
                    {
                        "id": "f1",
                        "level": 0,
                        "width": 40,
                        "height": 20,
                        "zones": [
                            {
                                "id": "z1",
                                "kind": "neighbourhood",
                                "department": "fin",
                                # An L shape: the bounding box is 0..20 x 0..10.
                                "polygon": [
                                    [0, 0],
                                    [20, 0],
                                    [20, 5],
                                    [10, 5],
                                    [10, 10],
                                    [0, 10],
                                ],
                                "desks": [
                                    {
                                        "id": "d1",
                                        "x": 15,
                                        "y": 1,
                                        "width": 1.6,
                                        "height": 0.8,
                                        "assigned": True,
                                    },
                                    {
                                        "id": "d2",
                                        "polygon": [[12, 1], [14, 1], [13, 3]],
                                    },
                                ],
                                "rooms": [
                                    {
                                        "id": "r1",
                                        "capacity": 6,
                                        "calendar": "room-r1@example.org",
                                        "polygon": [[2, 6], [8, 6], [8, 9], [2, 9]],
                                    },
                                ],
                            },
                            {
                                "id": "z2",
                                "kind": "shared",
                                "x": 25,
                                "y": 0,
                                "width": 10,
                                "height": 10,
                            },
                        ],
                    }
                ],
            }
        ],
    }


def test_polygons_give_bounding_boxes_and_new_fields_reach_the_model() -> None:
    site = parse_building(small())
    z1 = site.zone("z1")
    assert z1.polygon == (
        (0.0, 0.0),
        (20.0, 0.0),
        (20.0, 5.0),
        (10.0, 5.0),
        (10.0, 10.0),
        (0.0, 10.0),
    )
    assert (z1.x, z1.y, z1.width, z1.height) == (0.0, 0.0, 20.0, 10.0)
    d2 = site.space("d2")
    assert (d2.x, d2.y, d2.width, d2.height) == (12.0, 1.0, 2.0, 2.0)
    assert site.space("d1").polygon is None
    assert site.space("d1").assigned is True
    assert d2.assigned is False
    assert site.space("r1").calendar == "room-r1@example.org"
    assert site.zone("z2").polygon is None
    assert site.department("fin-ap").parent_id == "fin"
    assert site.department("div").parent_id is None
    b = site.buildings[0]
    assert (b.area_m2, b.cost_per_m2_year, b.cost_per_desk_year) == (
        1200.0,
        310.5,
        4000.0,
    )


Z1 = ["buildings", 0, "floors", 0, "zones", 0]


def _set(doc: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    d = copy.deepcopy(doc)
    node = d
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return d


@pytest.mark.parametrize(
    ("path", "value", "where", "what"),
    [
        # A desk in the L's notch: inside the bounding box, outside the polygon.
        (
            [*Z1, "desks", 0, "y"],
            6,
            "buildings[0].floors[0].zones[0].desks[0]",
            "outside its zone",
        ),
        (
            [*Z1, "polygon"],
            [[0, 0], [10, 10], [10, 0], [0, 10]],
            "buildings[0].floors[0].zones[0].polygon",
            "simple polygon",
        ),
        (
            [*Z1, "polygon"],
            [[0, 0], [10, 0]],
            "buildings[0].floors[0].zones[0].polygon",
            "at least 3 points",
        ),
        (
            [*Z1, "polygon"],
            [[0, 0], [50, 0], [50, 5]],
            "buildings[0].floors[0].zones[0]",
            "outside the floor",
        ),
        (
            [*Z1, "polygon", 1],
            [20, "far"],
            "buildings[0].floors[0].zones[0].polygon[1][1]",
            "must be a number",
        ),
        (
            [*Z1, "width"],
            3,
            "buildings[0].floors[0].zones[0].width",
            "differs from the polygon's bounding box",
        ),
        (
            [*Z1, "rooms", 0, "polygon"],
            KeyError,
            "buildings[0].floors[0].zones[0].rooms[0].x",
            "is required",
        ),
        (
            [*Z1, "desks", 0, "assigned"],
            "yes",
            "buildings[0].floors[0].zones[0].desks[0].assigned",
            "true or false",
        ),
        (
            ["departments", 1, "parent"],
            "nobody",
            "departments[1].parent",
            "unknown department",
        ),
        (["departments", 0, "parent"], "fin-ap", "departments[0].parent", "cycle"),
        (
            ["buildings", 0, "cost_per_m2_year"],
            -1,
            "buildings[0].cost_per_m2_year",
            "at least 0",
        ),
        (["buildings", 0, "area_m2"], 0, "buildings[0].area_m2", "> 0"),
    ],
)
def test_errors_name_the_bad_field(
    path: list[Any], value: Any, where: str, what: str
) -> None:
    with pytest.raises(BuildingError) as err:
        parse_building(_set(small(), path, value), "b.yaml")
    assert err.value.path == where
    assert what in err.value.message


def test_building_load_writes_the_new_columns(database_url: str) -> None:
    conn = connect(database_url)
    try:
        load_site(conn, parse_building(small()))
        with conn.cursor() as cur:
            cur.execute(
                "SELECT space_id, polygon, assigned, calendar FROM spaces"
                " WHERE space_id IN ('d1', 'd2', 'r1') ORDER BY space_id"
            )
            assert cur.fetchall() == [
                ("d1", None, True, None),
                ("d2", [[12.0, 1.0], [14.0, 1.0], [13.0, 3.0]], False, None),
                (
                    "r1",
                    [[2.0, 6.0], [8.0, 6.0], [8.0, 9.0], [2.0, 9.0]],
                    False,
                    "room-r1@example.org",
                ),
            ]
            cur.execute(
                "SELECT polygon FROM zones WHERE zone_id IN ('z1', 'z2')"
                " ORDER BY zone_id"
            )
            polys = [r[0] for r in cur.fetchall()]
            assert polys[0][3] == [10.0, 5.0] and len(polys[0]) == 6
            assert polys[1] is None
            cur.execute(
                "SELECT department_id, parent_id FROM departments"
                " WHERE site_id = 's1' ORDER BY department_id"
            )
            assert cur.fetchall() == [("div", None), ("fin", "div"), ("fin-ap", "fin")]
            cur.execute(
                "SELECT area_m2, cost_per_m2_year, cost_per_desk_year FROM buildings"
                " WHERE building_id = 'b1'"
            )
            assert cur.fetchone() == (1200.0, 310.5, 4000.0)
    finally:
        conn.close()
