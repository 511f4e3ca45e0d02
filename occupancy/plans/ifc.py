"""IFC building models (ifcopenshell): IfcBuildingStorey → floors, IfcSpace →
rooms and zones (by LongName/Name, or zones because desks stand in them),
furniture that is a desk (PredefinedType DESK on the element or its type, or
a desk-like name) → desks. Footprints are the shapes' triangles projected on
the floor plane and merged, in metres (ifcopenshell's geometry output)."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shapely.geometry import MultiPolygon, Polygon
from shapely.ops import unary_union

from occupancy.plans.model import Plan, PlanError, PlanFloor, Shape

logger = logging.getLogger(__name__)

__all__ = ["read_ifc"]

_TAG = re.compile(r":\d+$")
_DESK_NAME = re.compile(r"desk|bureau|werkplek|workstation|werktafel", re.I)


def read_ifc(path: Path, progress: Callable[[str], None] = logger.info) -> Plan:
    """One floor per IfcBuildingStorey, in order of elevation."""
    import ifcopenshell

    try:
        model = ifcopenshell.open(str(path))
    except OSError as exc:
        raise PlanError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except Exception as exc:  # ifcopenshell raises plain errors for bad STEP
        raise PlanError(f"{path}: not a readable IFC file: {exc}") from exc
    storeys = list(model.by_type("IfcBuildingStorey"))
    if not storeys:
        raise PlanError(f"{path}: no IfcBuildingStorey in the model")
    scale = _unit_scale(model)
    storeys.sort(key=lambda s: float(s.Elevation or 0.0))
    below = sum(1 for s in storeys if float(s.Elevation or 0.0) * scale < -1.0)
    buildings = model.by_type("IfcBuilding")
    plan = Plan(
        source=path.name,
        building_name=(buildings[0].Name if buildings else None) or None,
    )
    settings = _geom_settings()
    for i, storey in enumerate(storeys):
        floor = _storey(storey, i - below, settings)
        progress(
            f"{path.name} [{floor.name}]: {len(floor.shapes)} shapes, "
            f"{len(floor.unclassified)} kinds of elements not used"
        )
        plan.floors.append(floor)
    return plan


def _unit_scale(model: Any) -> float:
    import ifcopenshell.util.unit

    return float(ifcopenshell.util.unit.calculate_unit_scale(model))


def _geom_settings() -> Any:
    import ifcopenshell.geom

    settings = ifcopenshell.geom.settings()  # type: ignore[no-untyped-call]
    settings.set("use-world-coords", True)
    return settings


def _members(storey: Any) -> list[Any]:
    import ifcopenshell.util.element

    # A set: sorted so that the same model gives the same file.
    members = ifcopenshell.util.element.get_decomposition(storey)
    return sorted(members, key=lambda e: (e.is_a(), str(e.Name or ""), e.GlobalId))


def _storey(storey: Any, level: int, settings: Any) -> PlanFloor:
    name = storey.Name or storey.LongName or f"Storey {level}"
    floor = PlanFloor(str(name), level)
    skipped: Counter[str] = Counter()
    for element in _members(storey):
        if element.is_a("IfcSpace"):
            label = _space_label(element)
            outline = _footprint(element, settings)
            if outline is None:
                skipped[f"IfcSpace {label!r} (no footprint)"] += 1
                continue
            floor.shapes.append(
                Shape("area", outline, name=label or None, source="IfcSpace")
            )
        elif element.is_a("IfcFurnishingElement") and _is_desk(element):
            outline = _footprint(element, settings)
            if outline is None:
                skipped[f"{element.is_a()} {element.Name!r} (no footprint)"] += 1
                continue
            floor.shapes.append(
                Shape("desk", outline, name=element.Name, source=element.is_a())
            )
        elif element.is_a("IfcFurnishingElement"):
            kind = _TAG.sub("", str(element.Name or ""))  # Revit appends ":<id>"
            skipped[f"{element.is_a()} {kind} (not a desk)"] += 1
        elif element.is_a("IfcProduct") and not element.is_a("IfcSpatialElement"):
            skipped[f"{element.is_a()} (not a space or furniture)"] += 1
    floor.unclassified = [f"{n} × {what}" for what, n in sorted(skipped.items())]
    return floor


def _space_label(space: Any) -> str:
    """ "Meeting Amstel (0.12)": the long name with the room number."""
    long_name, number = space.LongName, space.Name
    if long_name and number and long_name != number:
        return f"{long_name} ({number})"
    return str(long_name or number or "")


def _is_desk(element: Any) -> bool:
    import ifcopenshell.util.element

    kinds = [getattr(element, "PredefinedType", None)]
    etype = ifcopenshell.util.element.get_type(element)
    if etype is not None:
        kinds.append(getattr(etype, "PredefinedType", None))
    if "DESK" in kinds:
        return True
    names = [element.Name, element.ObjectType, etype.Name if etype else None]
    return any(n and _DESK_NAME.search(str(n)) for n in names)


def _footprint(element: Any, settings: Any) -> list[tuple[float, float]] | None:
    """The element's shape seen from above [m]: its triangles projected on the
    plane and merged; the largest part's outer ring."""
    import ifcopenshell.geom
    import ifcopenshell.util.shape

    if element.Representation is None:
        return None
    try:
        shape = ifcopenshell.geom.create_shape(settings, element)
    except RuntimeError as exc:
        logger.debug("no geometry for %s: %s", element, exc)
        return None
    geometry: Any = getattr(shape, "geometry", None)  # a shape with world coords
    verts = ifcopenshell.util.shape.get_vertices(geometry)
    faces = ifcopenshell.util.shape.get_faces(geometry)
    tris = [Polygon(verts[f][:, :2]) for f in faces]
    merged = unary_union([t.buffer(1e-6) for t in tris if t.area > 1e-9])
    if merged.is_empty:
        return None
    if isinstance(merged, MultiPolygon):
        merged = max(merged.geoms, key=lambda g: g.area)
    simple = merged.buffer(-1e-6).simplify(0.002)  # undo the merging slack
    return [(float(x), float(y)) for x, y in list(simple.exterior.coords)[:-1]]
