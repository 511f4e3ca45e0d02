"""Generate the example floor plans: a DXF drawing (two floors, millimetres,
AIA layer names), an IFC model (two storeys) and a GeoJSON/IMDF venue, all of
the same small office. The tests use these generators too.

    python examples/plans/make_plans.py      # writes office-*.dxf, office.ifc,
                                             # office-imdf.geojson here
Then ``occupancy building import`` turns each into examples/office-from-*.yaml.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

# The office, in metres, CAD orientation (y up), origin bottom-left; 30 x 20 m.
OPEN_OFFICE = [(0, 0), (20, 0), (20, 12), (12, 12), (12, 20), (0, 20)]  # an L
CAFE = [(14, 14), (20, 14), (20, 20), (14, 20)]
MEETING = [(22, 0), (30, 0), (30, 8), (22, 8)]
PHONE = [(22, 9), (24, 9), (24, 11), (22, 11)]
TOILET = [(26, 12), (30, 12), (30, 20), (26, 20)]
#: Desk inserts: (x, y, rotation [deg]) of the block's origin; the block is a
#: 1.6 x 0.8 m rectangle from its origin.
DESKS = [(2, 2, 0), (4, 2, 0), (6, 2, 0), (2, 4, 0), (4, 4, 0), (10, 14, 90)]


def _rect_mm(pts: list[tuple[float, float]]) -> list[tuple[float, float]]:
    return [(x * 1000, y * 1000) for x, y in pts]


def make_dxf(path: Path, *, floor: int = 0) -> Path:
    """One floor in millimetres ($INSUNITS = 4); floor 1 has no café."""
    import ezdxf

    doc = ezdxf.new("R2010", setup=True)
    doc.header["$INSUNITS"] = 4
    for name in ("A-AREA", "A-AREA-ZONE", "A-FURN-DESK", "A-FURN", "A-WALL", "A-ANNO"):
        doc.layers.add(name)
    desk = doc.blocks.new("DESK")
    desk.add_lwpolyline([(0, 0), (1600, 0), (1600, 800), (0, 800)], close=True)
    desk.add_attdef("DESK", (100, 100), dxfattribs={"height": 100})
    chair = doc.blocks.new("CHAIR")
    chair.add_circle((0, 0), 250)
    msp = doc.modelspace()
    msp.add_lwpolyline(
        _rect_mm(OPEN_OFFICE), close=True, dxfattribs={"layer": "A-AREA-ZONE"}
    )
    msp.add_text(
        "Open office", dxfattribs={"layer": "A-ANNO", "height": 300}
    ).set_placement((3000, 9000))
    if floor == 0:
        hatch = msp.add_hatch(dxfattribs={"layer": "A-AREA"})
        hatch.paths.add_polyline_path(_rect_mm(CAFE), is_closed=True)
        msp.add_mtext("Café", dxfattribs={"layer": "A-ANNO"}).set_location(
            (16000, 17000)
        )
    msp.add_lwpolyline(_rect_mm(MEETING), close=True, dxfattribs={"layer": "A-AREA"})
    msp.add_text(
        f"Meeting {'Amstel' if floor == 0 else 'Vecht'}", dxfattribs={"layer": "A-ANNO"}
    ).set_placement((23000, 4000))
    phone = msp.add_hatch(dxfattribs={"layer": "A-AREA"})
    phone.paths.add_polyline_path(_rect_mm(PHONE), is_closed=True)
    msp.add_text("Phone booth", dxfattribs={"layer": "A-ANNO"}).set_placement(
        (22500, 10000)
    )
    msp.add_lwpolyline(_rect_mm(TOILET), close=True, dxfattribs={"layer": "A-AREA"})
    msp.add_text("Toilet", dxfattribs={"layer": "A-ANNO"}).set_placement((27000, 16000))
    for i, (x, y, rot) in enumerate(DESKS):
        ins = msp.add_blockref(
            "DESK",
            (x * 1000, y * 1000),
            dxfattribs={"layer": "A-FURN-DESK", "rotation": rot},
        )
        ins.add_auto_attribs({"DESK": f"{floor}.{i + 1:02d}"})
    # A desk drawn as a plain polyline, and furniture that is no desk.
    msp.add_lwpolyline(
        _rect_mm([(8, 2), (9.6, 2), (9.6, 2.8), (8, 2.8)]),
        close=True,
        dxfattribs={"layer": "A-FURN-DESK"},
    )
    for x in (3000, 5000):
        msp.add_blockref("CHAIR", (x, 3200), dxfattribs={"layer": "A-FURN"})
    msp.add_line((0, 0), (30000, 0), dxfattribs={"layer": "A-WALL"})
    doc.saveas(path)
    return path


def make_geojson(path: Path) -> Path:
    """An IMDF-style FeatureCollection (feature_type level / unit / fixture /
    opening) in WGS 84 around Utrecht, two levels."""
    lon0, lat0 = 5.1214, 52.0907
    m_lat = 111_320.0
    m_lon = m_lat * math.cos(math.radians(lat0))

    def ring(pts: list[tuple[float, float]]) -> list[list[list[float]]]:
        coords = [[lon0 + x / m_lon, lat0 + y / m_lat] for x, y in pts]
        return [[*coords, coords[0]]]

    def feature(
        fid: str, ftype: str, pts: list[tuple[float, float]], **props: Any
    ) -> dict[str, Any]:
        return {
            "type": "Feature",
            "id": fid,
            "feature_type": ftype,
            "geometry": {"type": "Polygon", "coordinates": ring(pts)},
            "properties": props,
        }

    outline = [(0, 0), (30, 0), (30, 20), (0, 20)]
    features = []
    for ordinal in (0, 1):
        lid = f"level-{ordinal}"
        features.append(
            feature(
                lid,
                "level",
                outline,
                ordinal=ordinal,
                name={"en": f"Level {ordinal}"},
                category="unspecified",
            )
        )
        features += [
            feature(
                f"{lid}-open",
                "unit",
                OPEN_OFFICE,
                category="office",
                level_id=lid,
                name={"en": "Open office"},
            ),
            feature(
                f"{lid}-meet",
                "unit",
                MEETING,
                category="conferenceroom",
                level_id=lid,
                name={"en": f"Meeting {ordinal}"},
            ),
            feature(
                f"{lid}-phone",
                "unit",
                PHONE,
                category="phoneroom",
                level_id=lid,
                name=None,
            ),
            feature(
                f"{lid}-wc",
                "unit",
                TOILET,
                category="restroom",
                level_id=lid,
                name={"en": "Toilet"},
            ),
            feature(
                f"{lid}-stair",
                "unit",
                [(20.5, 12), (21.5, 12), (21.5, 14), (20.5, 14)],
                category="stairs",
                level_id=lid,
            ),
            feature(
                f"{lid}-sofa",
                "fixture",
                [(15, 15), (16, 15), (16, 16), (15, 16)],
                category="furniture",
                level_id=lid,
            ),
        ]
        if ordinal == 0:
            features.append(
                feature(
                    f"{lid}-cafe",
                    "unit",
                    CAFE,
                    category="foodservice",
                    level_id=lid,
                    name={"en": "Café"},
                )
            )
        for i, (x, y, _) in enumerate(DESKS[:5]):
            features.append(
                feature(
                    f"{lid}-desk{i}",
                    "fixture",
                    [(x, y), (x + 1.6, y), (x + 1.6, y + 0.8), (x, y + 0.8)],
                    category="desk",
                    level_id=lid,
                    name={"en": f"{ordinal}.{i + 1:02d}"},
                )
            )
    features.append(
        {
            "type": "Feature",
            "id": "door-1",
            "feature_type": "opening",
            "geometry": {
                "type": "LineString",
                "coordinates": [[lon0, lat0], [lon0 + 1 / m_lon, lat0]],
            },
            "properties": {"category": "pedestrian", "level_id": "level-0"},
        }
    )
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "name": "Example office",
                "features": features,
            },
            indent=1,
            ensure_ascii=False,
        ),
        "utf-8",
    )
    return path


if __name__ == "__main__":
    make_dxf(HERE / "office-ground.dxf", floor=0)
    make_dxf(HERE / "office-first.dxf", floor=1)
    make_geojson(HERE / "office-imdf.geojson")
    try:
        from make_ifc import make_ifc  # type: ignore[import-not-found]
    except ModuleNotFoundError:
        import sys

        sys.path.insert(0, str(HERE))
        from make_ifc import make_ifc  # type: ignore[import-not-found,no-redef]
    make_ifc(HERE / "office.ifc")
