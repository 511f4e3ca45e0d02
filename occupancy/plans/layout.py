"""A :class:`Plan` (drawing coordinates, y up) → a building document (floor
coordinates from the top-left, y down), ready for :func:`parse_building`.

Every desk and room goes into the smallest zone whose shape covers it; what no
zone covers goes into the floor's "not zoned" zone (the floor's rectangle), so
the file always loads. The facility manager then sets departments,
neighbourhoods and devices."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry
from shapely.validation import make_valid

from occupancy.plans.model import Plan, PlanError, PlanFloor, Shape, classify_name

logger = logging.getLogger(__name__)

__all__ = ["ImportSummary", "plan_to_building"]

_COVER_SLACK = 1e-3  # [m]: shapes touching their zone's edge are inside


@dataclass
class ImportSummary:
    floors: int = 0
    zones: int = 0
    rooms: int = 0
    desks: int = 0
    unzoned: int = 0  # desks and rooms no zone covers
    unclassified: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.floors} floor(s), {self.zones} zones, {self.rooms} rooms, "
            f"{self.desks} desks ({self.unzoned} desks/rooms outside every zone "
            f"went to the floor's 'not zoned' zone), "
            f"{len(self.unclassified)} kinds of unclassified entities"
        )


def plan_to_building(
    plan: Plan, *, site_id: str = "site", building_id: str = "b1"
) -> tuple[dict[str, object], ImportSummary]:
    """The building document and a summary of what went where."""
    if not any(f.shapes for f in plan.floors):
        raise PlanError(
            f"{plan.source}: no rooms, zones or desks found"
            + (f" ({'; '.join(plan.notes)})" if plan.notes else "")
        )
    summary = ImportSummary(floors=len(plan.floors))
    summary.unclassified += plan.unclassified
    groups: dict[str | None, list[PlanFloor]] = {}
    for f in sorted(plan.floors, key=lambda f: f.level):
        groups.setdefault(f.building, []).append(f)
    buildings = []
    for n, (key, floors) in enumerate(groups.items()):
        bid = building_id if len(groups) == 1 else f"{building_id}-{n + 1}"
        name = plan.buildings.get(key) if key is not None else None
        buildings.append(
            {
                "id": bid,
                "name": name or plan.building_name or bid,
                "floors": _floors(floors, bid, summary),
            }
        )
    if not (summary.zones or summary.rooms or summary.desks):
        raise PlanError(_nothing_classified(plan.source, summary.unclassified))
    doc: dict[str, object] = {
        "site": {"id": site_id, "name": plan.building_name or site_id},
        "departments": [],
        "buildings": buildings,
        "devices": [],
    }
    return doc, summary


def _floors(
    floors: list[PlanFloor], building_id: str, summary: ImportSummary
) -> list[dict[str, Any]]:
    """One building's floors, with one origin so they stay aligned, and
    unique ids where two levels share an ordinal."""
    origin = _extent(floors)
    out = []
    seen: set[str] = set()
    for f in floors:
        doc = _floor(f, building_id, origin, summary)
        fid, n = doc["id"], 2
        while doc["id"] in seen:
            doc["id"], n = f"{fid}-{n}", n + 1
        if doc["id"] != fid:
            _rename(doc, fid, doc["id"])
        seen.add(doc["id"])
        out.append(doc)
    return out


def _rename(floor: dict[str, Any], old: str, new: str) -> None:
    """Zone, desk and room ids start with their floor's id."""
    for z in floor["zones"]:
        z["id"] = new + z["id"][len(old) :]
        for key in ("desks", "rooms"):
            for item in z.get(key, []):
                item["id"] = new + item["id"][len(old) :]


def _nothing_classified(source: str, unclassified: list[str]) -> str:
    spaces = [u for u in unclassified if ": space " in u]
    shown = "\n  ".join((spaces or unclassified)[:12])
    more = len(spaces or unclassified) - 12
    return (
        f"{source}: nothing could be classified as a zone, room or desk, so "
        "there is no building file to write. The shapes found"
        + (f" ({len(spaces)} spaces)" if spaces else "")
        + " have names that say neither a work area nor a meeting room and no "
        "desks stand in them; name them (e.g. 'Office', 'Meeting') in the "
        "drawing, or map the layers (DXF --layers zones=...). Found:\n  "
        + shown
        + (f"\n  ... and {more} more" if more > 0 else "")
    )


_Extent = tuple[float, float, float, float]


def _extent(floors: list[PlanFloor]) -> _Extent:
    """One origin for all floors, so the floors of a building stay aligned."""
    xs = [x for f in floors for s in f.shapes for x, _ in s.outline]
    ys = [y for f in floors for s in f.shapes for _, y in s.outline]
    if not xs:
        return 0.0, 0.0, 1.0, 1.0
    return min(xs), min(ys), max(xs), max(ys)


def _to_floor(pts: list[tuple[float, float]], ext: _Extent) -> list[list[float]]:
    x0, _, _, y1 = ext
    return [[round(x - x0, 3), round(y1 - y, 3)] for x, y in pts]


def _clean(outline: list[list[float]]) -> Polygon | None:
    """A simple polygon from a drawn outline (repeated closing point dropped,
    self-crossing outlines repaired to their largest part), or None."""
    if len(outline) >= 2 and outline[0] == outline[-1]:
        outline = outline[:-1]
    if len(outline) < 3:
        return None
    poly: BaseGeometry = Polygon(outline)
    if not poly.is_valid:
        fixed = make_valid(poly)
        parts = [
            g for g in getattr(fixed, "geoms", [fixed]) if g.geom_type == "Polygon"
        ]
        if not parts:
            return None
        poly = max(parts, key=lambda g: g.area)
    if poly.area <= 1e-6:
        return None
    assert isinstance(poly, Polygon)
    return Polygon(poly.exterior.coords)


def _coords(poly: Polygon) -> list[list[float]]:
    return [[round(x, 3), round(y, 3)] for x, y in list(poly.exterior.coords)[:-1]]


def _floor(
    f: PlanFloor, building_id: str, ext: _Extent, summary: ImportSummary
) -> dict[str, Any]:
    fid = f"{building_id}-l{f.level}".replace("-l-", "-b")
    # Rounded to mm first (as the outlines are), then up to whole cm.
    width = max(1.0, math.ceil(round(ext[2] - ext[0], 3) * 100) / 100)
    height = max(1.0, math.ceil(round(ext[3] - ext[1], 3) * 100) / 100)
    shapes = _resolve(f, ext)
    zones = [
        _zone_doc(s, p, f"{fid}-z{i + 1:02d}")
        for i, (s, p) in enumerate(shapes["zone"])
    ]
    general: dict[str, Any] = {
        "id": f"{fid}-general",
        "name": f"{f.name} (not zoned)",
        "kind": "other",
        "polygon": [[0, 0], [width, 0], [width, height], [0, height]],
        "desks": [],
        "rooms": [],
    }
    zone_polys = sorted(
        zip(zones, [p for _, p in shapes["zone"]], strict=True),
        key=lambda zp: zp[1].area,
    )
    for kind, key in (("room", "rooms"), ("desk", "desks")):
        for i, (s, p) in enumerate(shapes[kind]):
            target = next(
                (z for z, zp in zone_polys if zp.buffer(_COVER_SLACK).covers(p)), None
            )
            if target is None:
                target = general
                summary.unzoned += 1
            sid = f"{fid}-{kind[0]}{i + 1:03d}"
            target[key].append(_space_doc(s, p, sid))
    if general["desks"] or general["rooms"]:
        general["polygon"] = _around(general, width, height)
        zones.append(general)
    summary.zones += len(zones)
    summary.rooms += len(shapes["room"])
    summary.desks += len(shapes["desk"])
    summary.unclassified += [f"{f.name}: {u}" for u in f.unclassified]
    for z in zones:
        for key in ("desks", "rooms"):
            if not z[key]:
                del z[key]
    return {
        "id": fid,
        "level": f.level,
        "name": f.name,
        "width": width,
        "height": height,
        "zones": zones,
    }


def _around(zone: dict[str, Any], width: float, height: float) -> list[list[float]]:
    """The "not zoned" zone: the rectangle around what it holds (half a metre
    of margin, within the floor), not the whole floor drawn over every zone."""
    pts = [p for k in ("desks", "rooms") for item in zone[k] for p in item["polygon"]]
    x0 = max(0.0, min(x for x, _ in pts) - 0.5)
    y0 = max(0.0, min(y for _, y in pts) - 0.5)
    x1 = min(width, max(x for x, _ in pts) + 0.5)
    y1 = min(height, max(y for _, y in pts) + 0.5)
    return [
        [round(x0, 3), round(y0, 3)],
        [round(x1, 3), round(y0, 3)],
        [round(x1, 3), round(y1, 3)],
        [round(x0, 3), round(y1, 3)],
    ]


def _resolve(f: PlanFloor, ext: _Extent) -> dict[str, list[tuple[Shape, Polygon]]]:
    """Clean outlines; an "area" becomes a room (by its name), a zone (by its
    name, or because desks lie in it) or is listed as unclassified."""
    shapes: dict[str, list[tuple[Shape, Polygon]]] = {
        "area": [],
        "zone": [],
        "room": [],
        "desk": [],
    }
    for s in f.shapes:
        poly = _clean(_to_floor(s.outline, ext))
        if poly is None:
            f.unclassified.append(
                f"{s.kind} {s.name or '(unnamed)'} ({s.source}): not a usable outline"
            )
            continue
        shapes[s.kind].append((s, poly))
    desks = [p for _, p in shapes["desk"]]
    for s, poly in shapes.pop("area"):
        guess = classify_name(s.name)
        holds_desks = any(poly.buffer(_COVER_SLACK).covers(d) for d in desks)
        if guess is not None and guess[0] == "room" and not holds_desks:
            s.kind, s.subkind = "room", guess[1]
        elif guess is not None or holds_desks:
            s.kind, s.subkind = "zone", guess[1] if guess else "other"
        else:
            f.unclassified.append(
                f"space {s.name or '(unnamed)'} ({s.source}, {poly.area:.1f} m²): "
                "name says neither room nor work area, and no desks in it"
            )
            continue
        shapes[s.kind].append((s, poly))
    return shapes


def _zone_doc(s: Shape, poly: Polygon, zid: str) -> dict[str, Any]:
    return {
        "id": zid,
        "name": s.name or zid,
        "kind": s.subkind if s.subkind in ("shared", "meeting", "other") else "other",
        "polygon": _coords(poly),
        "desks": [],
        "rooms": [],
    }


def _space_doc(s: Shape, poly: Polygon, sid: str) -> dict[str, Any]:
    out: dict[str, Any] = {"id": sid}
    if s.name:
        out["name"] = s.name
    if s.kind == "room":
        kind = s.subkind or "meeting_room"
        out["kind"] = kind
        out["capacity"] = s.capacity or _seats(kind, poly.area)
    out["polygon"] = _coords(poly)
    return out


def _seats(room_kind: str, area_m2: float) -> int:
    """A first guess the facility manager corrects: 1 in a phone booth, about
    one seat per 2.5 m² in a meeting room [m²]."""
    if room_kind == "phone_booth":
        return 1
    if room_kind == "focus_room":
        return max(1, min(2, round(area_m2 / 4)))
    return max(2, round(area_m2 / 2.5))
