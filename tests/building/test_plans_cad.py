"""Floor-plan import from drawings drawn the way architects' CAD exports look
(the generated examples in test_plans.py are tidy): millimetres, AIA layers
with a hatch over a polyline on A-AREA-PATT, room labels as multi-line MTEXT on
A-AREA-IDEN and as centred TEXT, a Dutch room-tag block with attributes,
rounded corners (LWPOLYLINE bulges), desks in clusters in a furniture block
(blocks nested three deep), an unbound xref; and an IMDF venue of several
buildings as a real export is laid out (SPBSTU's IMDF: levels with
building_ids, two buildings with an ordinal 0, venue/building/footprint/
amenity features on no level, details with level_id null)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from occupancy.building import Site, parse_building
from occupancy.plans.dxf import read_dxf
from occupancy.plans.geojson import read_geojson
from occupancy.plans.layout import plan_to_building
from occupancy.plans.model import Plan, PlanError


def _site(plan: Plan) -> tuple[Site, dict[str, Any], list[str]]:
    doc, summary = plan_to_building(plan)
    return parse_building(doc, "imported.yaml"), doc, summary.unclassified


def _rect(x0: float, y0: float, x1: float, y1: float) -> list[tuple[float, float]]:
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def _architect_dxf(path: Path) -> Path:
    """One floor, 20 x 12 m, drawn in mm."""
    import ezdxf
    from ezdxf.enums import TextEntityAlignment

    doc = ezdxf.new("R2013")
    doc.header["$INSUNITS"] = 4  # millimetres
    msp = doc.modelspace()
    desk = doc.blocks.new("DESK-1600")
    desk.add_lwpolyline(_rect(0, 0, 1600, 800), close=True)  # layer 0: inherits
    desk.add_attdef("NR", (100, 100))
    cluster = doc.blocks.new("WKST-CLUSTER-2")
    cluster.add_blockref("DESK-1600", (0, 0))
    cluster.add_blockref("DESK-1600", (0, 800))
    furniture = doc.blocks.new("FURNITURE-PLAN")
    furniture.add_blockref("WKST-CLUSTER-2", (2000, 2000))
    furniture.add_blockref("WKST-CLUSTER-2", (6000, 2000))
    chair = doc.blocks.new("CHAIR")
    chair.add_circle((0, 0), 250)
    tag = doc.blocks.new("RUIMTESTEMPEL")
    for i, name in enumerate(("NAAM", "NUMMER", "OPP")):
        tag.add_attdef(name, (0, -300 * i))
    # Open office with one rounded corner: bulge tan(90°/4) for a quarter
    # circle of 2 m radius between (20000, 10000) and (18000, 12000).
    msp.add_lwpolyline(
        [
            (0, 0, 0),
            (20000, 0, 0),
            (20000, 10000, math.tan(math.pi / 8)),
            (18000, 12000, 0),
            (0, 12000, 0),
        ],
        format="xyb",
        close=True,
        dxfattribs={"layer": "A-AREA"},
    )
    label = msp.add_text("Kantoortuin", dxfattribs={"layer": "A-AREA-IDEN"})
    label.set_placement((5000, 6000), align=TextEntityAlignment.MIDDLE_CENTER)
    label.dxf.insert = (0, 0)  # as some writers leave it for aligned text
    meeting = _rect(12000, 6000, 17000, 10000)  # inside the open office
    msp.add_lwpolyline(meeting, close=True, dxfattribs={"layer": "A-AREA"})
    hatch = msp.add_hatch(dxfattribs={"layer": "A-AREA-PATT"})
    hatch.paths.add_polyline_path(meeting, is_closed=True)
    msp.add_mtext(
        "Vergaderruimte Amstel\\P0.12\\P20,0 m²", dxfattribs={"layer": "A-AREA-IDEN"}
    ).set_location((13000, 9000))
    msp.add_lwpolyline(
        _rect(0, 10500, 1500, 12000), close=True, dxfattribs={"layer": "A-AREA"}
    )
    stamp = msp.add_blockref("RUIMTESTEMPEL", (700, 11300))
    stamp.add_auto_attribs({"NAAM": "Belcel", "NUMMER": "0.14", "OPP": "2,3 m²"})
    msp.add_blockref("FURNITURE-PLAN", (0, 0), dxfattribs={"layer": "A-FURN"})
    single = msp.add_blockref(
        "DESK-1600", (10000, 2000), dxfattribs={"layer": "A-FURN"}
    )
    single.add_auto_attribs({"NR": "0.07"})
    msp.add_blockref("CHAIR", (11000, 1500), dxfattribs={"layer": "A-FURN"})
    doc.add_xref_def("constructie.dxf", "CONSTRUCTIE")
    msp.add_blockref("CONSTRUCTIE", (0, 0), dxfattribs={"layer": "S-GRID"})
    msp.add_line((0, 0), (20000, 0), dxfattribs={"layer": "A-WALL"})
    doc.saveas(path)
    return path


def test_an_architects_dxf(tmp_path: Path) -> None:
    path = _architect_dxf(tmp_path / "plattegrond.dxf")
    site, _, unclassified = _site(read_dxf([path], progress=lambda _m: None))
    zones = {z.name: z for z in site.zones()}
    office = zones["Kantoortuin"]  # named through the TEXT's alignment point
    # 240 m² less the rounded corner's (1 - π/4) · (2 m)²: the arc was traced.
    outline = office.polygon
    assert outline is not None and len(outline) > 6
    from shapely.geometry import Polygon

    assert Polygon(outline).area == pytest.approx(240 - (1 - math.pi / 4) * 4, abs=0.05)
    # 2 clusters of 2 desks in a furniture block, and a desk on its own: each
    # desk 1.6 x 0.8 m, in the open office.
    desks = sorted(office.desks, key=lambda d: (d.x, d.y))
    assert len(desks) == 5
    assert all((d.width, d.height) == pytest.approx((1.6, 0.8)) for d in desks)
    # The first cluster at (2, 2) m, drawn y up; the floor is 12 m deep.
    corners = [c for d in desks[:2] for c in (d.x, d.y)]
    assert corners == pytest.approx([2.0, 8.4, 2.0, 9.2])
    assert [d.name for d in desks if d.name != d.id] == ["0.07"]
    rooms = {r.name: r for r in site.rooms()}
    # The meeting room's MTEXT names it, not the office around it; number and
    # area lines are left out; the hatch over it is the same room, listed.
    amstel = rooms["Vergaderruimte Amstel"]
    assert (amstel.kind, amstel.capacity, amstel.zone_id) == (
        "meeting_room",
        8,
        office.id,
    )
    assert rooms["Belcel"].kind == "phone_booth"  # from the room tag's NAAM
    text = "\n".join(unclassified)
    assert "1 × HATCH on A-AREA-PATT (same outline as LWPOLYLINE on A-AREA)" in text
    assert "1 × INSERT of block 'CHAIR' on layer A-FURN" in text
    assert "INSERT of external reference 'CONSTRUCTIE' on layer S-GRID" in text
    assert "1 × LINE on layer A-WALL (layer not mapped)" in text


def test_binary_dxf_and_a_drawing_without_mapped_layers(tmp_path: Path) -> None:
    import ezdxf

    doc = ezdxf.new()
    doc.header["$INSUNITS"] = 6
    doc.modelspace().add_lwpolyline(
        _rect(0, 0, 8, 6), close=True, dxfattribs={"layer": "VLAK"}
    )
    doc.modelspace().add_text("Office").set_placement((1, 1))
    binary = tmp_path / "binary.dxf"
    doc.saveas(binary, fmt="bin")
    with pytest.raises(PlanError, match=r"binary.dxf: .*VLAK \(1\).*--layers"):
        read_dxf([binary])
    from occupancy.plans.dxf import parse_layer_map

    plan = read_dxf([binary], parse_layer_map("rooms=VLAK"), progress=lambda _m: None)
    site, _, _ = _site(plan)
    assert [z.name for z in site.zones()] == ["Office"]


def test_architects_dxf_through_the_cli_loads(
    tmp_path: Path, database_url: str
) -> None:
    path = _architect_dxf(tmp_path / "plattegrond.dxf")
    out = tmp_path / "building.yaml"
    cmd = [sys.executable, "-m", "occupancy"]
    run = subprocess.run(
        [*cmd, "building", "import", str(path), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "ezdxf" not in run.stderr  # no library chatter
    loaded = subprocess.run(
        [*cmd, "--database-url", database_url, "building", "load", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert "5 desks" in loaded.stdout


def _feature(
    ftype: str, fid: str, props: dict[str, Any], ring: list[Any] | None
) -> dict[str, Any]:
    geometry = {"type": "Polygon", "coordinates": [ring]} if ring else None
    return {
        "id": fid,
        "type": "Feature",
        "feature_type": ftype,
        "geometry": geometry,
        "properties": props,
    }


def _square(lon: float, lat: float, size: float = 0.0001) -> list[list[float]]:
    return [
        [lon, lat],
        [lon + size, lat],
        [lon + size, lat + size],
        [lon, lat + size],
        [lon, lat],
    ]


def test_imdf_venue_of_two_buildings(tmp_path: Path) -> None:
    main, tower = "b-main", "b-tower"
    features = [
        _feature("venue", "v", {"name": {"en": "Campus"}}, _square(30.37, 60.0, 0.01)),
        _feature("building", main, {"name": {"ru": "Корпус", "en": "Main"}}, None),
        _feature("building", tower, {"name": {"en": "Tower"}}, None),
        _feature("footprint", "fp", {"building_ids": [main]}, _square(30.371, 60.001)),
        _feature("amenity", "am", {"unit_ids": ["u1"], "category": "restroom"}, None),
        _feature(
            "level",
            "l-main-0",
            {"ordinal": 0, "name": {"en": "Level 1"}, "building_ids": [main]},
            _square(30.371, 60.001, 0.001),
        ),
        _feature(
            "level",
            "l-tower-0",
            {"ordinal": 0, "name": {"en": "Tower ground"}, "building_ids": [tower]},
            _square(30.375, 60.001, 0.0005),
        ),
        _feature(
            "unit",
            "u1",
            {
                "category": "office",
                "name": {"en": "Open office"},
                "level_id": "l-main-0",
            },
            _square(30.3711, 60.0011, 0.0003),
        ),
        _feature(
            "unit",
            "u2",
            {"category": "conferenceroom", "name": None, "level_id": "l-tower-0"},
            _square(30.3751, 60.0011),
        ),
        _feature("detail", "d1", {"category": None, "level_id": None}, None),
    ]
    path = tmp_path / "venue.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    site, doc, unclassified = _site(read_geojson([path], progress=lambda _m: None))
    buildings = doc["buildings"]
    assert isinstance(buildings, list)
    assert [(b["id"], b["name"]) for b in buildings] == [
        ("b1-1", "Main"),
        ("b1-2", "Tower"),
    ]
    assert [f.id for f in site.floors()] == ["b1-1-l0", "b1-2-l0"]
    # Nothing on no level became a floor: listed instead.
    assert len(list(site.floors())) == 2
    text = "\n".join(unclassified)
    for what in (
        "1 × venue",
        "2 × building",
        "1 × footprint",
        "1 × amenity",
        "1 × detail",
    ):
        assert f"{what} (on no level)" in text


def test_nothing_classified_is_an_error_listing_the_spaces(tmp_path: Path) -> None:
    import ezdxf

    doc = ezdxf.new()
    doc.header["$INSUNITS"] = 6
    for i, name in enumerate(("Flur", "Bad", "Schlafzimmer")):
        doc.modelspace().add_lwpolyline(
            _rect(i * 5, 0, i * 5 + 4, 4), close=True, dxfattribs={"layer": "A-AREA"}
        )
        doc.modelspace().add_text(name).set_placement((i * 5 + 1, 1))
    doc.saveas(tmp_path / "wohnung.dxf")
    with pytest.raises(
        PlanError, match=r"nothing could be classified.*\(3 spaces\)"
    ) as exc:
        plan_to_building(read_dxf([tmp_path / "wohnung.dxf"], progress=lambda _m: None))
    assert "space Schlafzimmer (LWPOLYLINE on A-AREA, 16.0 m²)" in str(exc.value)
