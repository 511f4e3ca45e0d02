"""Floor-plan import: DXF, IFC and GeoJSON/IMDF drawings the tests generate
(examples/plans/make_plans.py), imported with the real libraries, written as
building files that validate and load."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from occupancy.building import Site, parse_building
from occupancy.plans.dxf import parse_layer_map, read_dxf
from occupancy.plans.geojson import read_geojson
from occupancy.plans.ifc import read_ifc
from occupancy.plans.layout import plan_to_building
from occupancy.plans.model import PlanError

from conftest import ROOT

PLANS = ROOT / "examples" / "plans"


def _module(name: str) -> Any:
    sys.path.insert(0, str(PLANS))
    spec = importlib.util.spec_from_file_location(name, PLANS / f"{name}.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


make_plans = _module("make_plans")
make_ifc = _module("make_ifc")


def _site(plan: Any) -> tuple[Site, dict[str, Any], Any]:
    doc, summary = plan_to_building(plan)
    return parse_building(doc, "imported.yaml"), doc, summary


def _by_name(site: Site) -> dict[str, Any]:
    """By name; the first floor's where floors repeat a name."""
    out: dict[str, Any] = {}
    for item in [*site.zones(), *site.spaces()]:
        out.setdefault(item.name, item)
    return out


def test_dxf_two_files_two_floors_in_millimetres(tmp_path: Path) -> None:
    g = make_plans.make_dxf(tmp_path / "ground.dxf", floor=0)
    f = make_plans.make_dxf(tmp_path / "first.dxf", floor=1)
    plan = read_dxf([g, f], progress=lambda _m: None)
    site, _, summary = _site(plan)
    assert [fl.level for fl in site.floors()] == [0, 1]
    ground = _by_name(site)
    # The L-shaped open office: drawn (0,0)-(20,0)-(20,12)-(12,12)-(12,20)-(0,20)
    # in mm with y up; the floor spans y 0..20 m, so y' = 20 - y.
    office = ground["Open office"]
    assert office.kind == "other"
    assert sorted(office.polygon) == sorted(
        [(0.0, 20.0), (20.0, 20.0), (20.0, 8.0), (12.0, 8.0), (12.0, 0.0), (0.0, 0.0)]
    )
    # Desk 0.01: block inserted at (2, 2) m, 1.6 x 0.8 m → x 2..3.6, y' 17.2..18.
    d1 = ground["0.01"]
    assert (d1.x, d1.y, d1.width, d1.height) == pytest.approx((2.0, 17.2, 1.6, 0.8))
    assert d1.zone_id == office.id
    # Desk 0.06 is turned 90°: 0.8 wide, 1.6 high, origin (10, 14) → x 9.2..10.
    d6 = ground["0.06"]
    assert (d6.x, d6.y, d6.width, d6.height) == pytest.approx((9.2, 4.4, 0.8, 1.6))
    # Six block desks and one polyline desk per floor.
    assert len([s for s in site.desks() if s.floor_id == office.floor_id]) == 7
    assert ground["Café"].kind == "shared"  # a hatch on A-AREA, named by MTEXT
    meeting = ground["Meeting Amstel"]
    assert (meeting.kind, meeting.capacity) == ("meeting_room", 26)  # 64 m² / 2.5
    assert ground["Phone booth"].kind == "phone_booth"
    assert "Meeting Vecht" in ground  # the first floor's room
    text = "\n".join(summary.unclassified)
    assert "space Toilet" in text
    assert "2 × INSERT of block 'CHAIR' on layer A-FURN" in text
    assert "1 × LINE on layer A-WALL (layer not mapped)" in text


def test_dxf_layer_map_and_paper_space_layouts(tmp_path: Path) -> None:
    import ezdxf

    doc = ezdxf.new()
    doc.header["$INSUNITS"] = 6  # metres
    for name, dy in (("Ground", 0.0), ("First", 0.0)):
        layout = doc.layouts.new(name)
        layout.add_lwpolyline(
            [(0, dy), (10, dy), (10, 8 + dy), (0, 8 + dy)],
            close=True,
            dxfattribs={"layer": "VLAKKEN"},
        )
        layout.add_text("Team room").set_placement((1, 1))
        layout.add_lwpolyline(
            [(1, 4), (2.6, 4), (2.6, 4.8), (1, 4.8)],
            close=True,
            dxfattribs={"layer": "TAFELS"},
        )
    doc.saveas(tmp_path / "layouts.dxf")
    plan = read_dxf(
        [tmp_path / "layouts.dxf"],
        parse_layer_map("zones=VLAKKEN,desks=TAFELS"),
        progress=lambda _m: None,
    )
    site, _, _ = _site(plan)
    assert [f.name for f in site.floors()] == ["Ground", "First"]
    assert [len(z.desks) for z in site.zones()] == [1, 1]
    # Without the map, neither layer means anything: an error says so, and
    # names the layers the drawing has.
    with pytest.raises(PlanError, match=r"Layers in the drawing .*VLAKKEN \(2\)"):
        plan_to_building(read_dxf([tmp_path / "layouts.dxf"], progress=lambda _m: None))


def test_layer_map_errors_name_the_bad_part() -> None:
    with pytest.raises(PlanError, match="'chairs=X' is not KIND=PATTERN"):
        parse_layer_map("rooms=A-AREA,chairs=X")


def test_a_file_that_is_not_dxf_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "plan.dxf"
    bad.write_text("this is no drawing")
    with pytest.raises(PlanError, match="plan.dxf"):
        read_dxf([bad])


def test_ifc_storeys_spaces_and_desks(tmp_path: Path) -> None:
    path = make_ifc.make_ifc(tmp_path / "office.ifc")
    site, _, summary = _site(read_ifc(path, progress=lambda _m: None))
    assert [f.name for f in site.floors()] == ["Level 0", "Level 1"]
    names = _by_name(site)
    office = names["Open office (0.01)"]
    assert len(office.desks) == 6
    d = next(s for s in office.desks if s.name == "0.06")  # turned 90° about (10, 14)
    assert (d.x, d.y, d.width, d.height) == pytest.approx((9.2, 4.4, 0.8, 1.6))
    assert names["Meeting room 0 (0.02)"].kind == "meeting_room"
    assert names["Phone booth (0.03)"].capacity == 1
    assert names["Café (0.05)"].kind == "shared"
    text = "\n".join(summary.unclassified)
    assert "Level 0: 1 × IfcFurniture Chair (not a desk)" in text
    assert "Level 0: 1 × IfcWall (not a space or furniture)" in text
    assert "space Toilet (0.04)" in text


def test_geojson_imdf_feature_collection_and_archive(tmp_path: Path) -> None:
    path = make_plans.make_geojson(tmp_path / "venue.geojson")
    site, _, summary = _site(read_geojson([path], progress=lambda _m: None))
    names = _by_name(site)
    # WGS 84 projected to metres: within a millimetre of the drawn 1.6 x 0.8 m.
    desk = names["0.01"]
    assert (desk.x, desk.y, desk.width, desk.height) == pytest.approx(
        (2.0, 17.2, 1.6, 0.8), abs=0.002
    )
    assert names["Open office"].kind == "other"
    assert names["Café"].kind == "shared"
    assert names["Meeting 1"].kind == "meeting_room"
    text = "\n".join(summary.unclassified)
    assert "1 × opening pedestrian (ignored: opening)" in text
    assert "unit restroom (not a room or work area)" in text
    # The same venue as an IMDF archive: one file per feature type.
    features = json.loads(path.read_text())["features"]
    archive = tmp_path / "venue.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for ftype in ("level", "unit", "fixture", "opening"):
            items = [
                {k: v for k, v in f.items() if k != "feature_type"}
                for f in features
                if f["feature_type"] == ftype
            ]
            z.writestr(
                f"{ftype}.geojson",
                json.dumps({"type": "FeatureCollection", "features": items}),
            )
    again, _, _ = _site(read_geojson([archive], progress=lambda _m: None))
    assert sorted(s.name for s in again.spaces()) == sorted(
        s.name for s in site.spaces()
    )


def test_cli_import_writes_a_file_that_loads(tmp_path: Path, database_url: str) -> None:
    g = make_plans.make_dxf(tmp_path / "ground.dxf", floor=0)
    out = tmp_path / "building.yaml"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "occupancy",
            "building",
            "import",
            str(g),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "not imported: ground: space Toilet" in run.stderr
    text = out.read_text()
    assert "# Not imported" in text and "CHAIR" in text
    assert yaml.safe_load(text)["buildings"][0]["floors"][0]["level"] == 0
    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "occupancy",
            "building",
            "import",
            str(g),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 1 and "exists" in again.stderr
    loaded = subprocess.run(
        [
            sys.executable,
            "-m",
            "occupancy",
            "--database-url",
            database_url,
            "building",
            "load",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert "7 desks" in loaded.stdout


@pytest.mark.parametrize(
    "name", ["office-from-dxf", "office-from-ifc", "office-from-geojson"]
)
def test_example_imports_are_valid_building_files(name: str) -> None:
    from occupancy.building import load_building

    site = load_building(ROOT / "examples" / f"{name}.yaml")
    assert all(z.polygon for z in site.zones())
    assert list(site.desks())


def test_public_sample_ifc_duplex(tmp_path: Path) -> None:
    """buildingSMART's Duplex Apartment (CC BY 4.0, tests/building/data)."""
    import gzip

    src = ROOT / "tests" / "building" / "data" / "duplex-apartment.ifc.gz"
    path = tmp_path / "duplex.ifc"
    path.write_bytes(gzip.decompress(src.read_bytes()))
    site, doc, summary = _site(read_ifc(path, progress=lambda _m: None))
    floors = doc["buildings"][0]["floors"]
    # Four storeys by elevation; the foundation is below ground.
    assert [(f["name"], f["level"]) for f in floors] == [
        ("T/FDN", -1),
        ("Level 1", 0),
        ("Level 2", 1),
        ("Roof", 2),
    ]
    kitchens = sorted(z.name for z in site.zones() if z.kind == "shared")
    assert kitchens == ["Kitchen (A103)", "Kitchen (B103)"]
    k = next(z for z in site.zones() if z.name == "Kitchen (A103)")
    assert k.polygon is not None and 5 < k.width * k.height < 60
    text = "\n".join(summary.unclassified)
    # Dwelling rooms and furniture are listed, grouped, never dropped.
    assert "Level 2: space Bedroom 1 (A202) (IfcSpace" in text
    assert "Level 1: 4 × IfcFurnishingElement M_Sofa:1830mm:1830mm (not a desk)" in text
    assert "Level 1: 21 × IfcWallStandardCase (not a space or furniture)" in text
