"""Generate the example IFC model (IFC4, metres): two storeys of the office
in make_plans.py, IfcSpaces with names, IfcFurniture desks (PredefinedType
DESK) and a chair, and a wall."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from make_plans import CAFE, DESKS, MEETING, OPEN_OFFICE, PHONE, TOILET


def _placed(
    ifc: Any, api: Any, product: Any, x: float, y: float, z: float, rot_deg: float = 0.0
) -> None:
    m = np.eye(4)
    a = np.radians(rot_deg)
    m[0:2, 0:2] = [[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]
    m[0:3, 3] = [x, y, z]
    api.geometry.edit_object_placement(ifc, product=product, matrix=m, is_si=True)


def _footprint(
    ifc: Any,
    api: Any,
    body: Any,
    product: Any,
    pts: list[tuple[float, float]],
    height: float,
) -> None:
    rep = api.geometry.add_slab_representation(
        ifc, context=body, depth=height, polyline=[(float(x), float(y)) for x, y in pts]
    )
    api.geometry.assign_representation(ifc, product=product, representation=rep)


def make_ifc(path: Path) -> Path:
    import ifcopenshell
    import ifcopenshell.api.aggregate
    import ifcopenshell.api.context
    import ifcopenshell.api.geometry
    import ifcopenshell.api.project
    import ifcopenshell.api.root
    import ifcopenshell.api.spatial
    import ifcopenshell.api.type
    import ifcopenshell.api.unit
    from ifcopenshell import api

    ifc = api.project.create_file(version="IFC4")
    project = api.root.create_entity(ifc, ifc_class="IfcProject", name="Example office")
    api.unit.assign_unit(ifc)  # metres
    model = api.context.add_context(ifc, context_type="Model")
    body = api.context.add_context(
        ifc,
        context_type="Model",
        context_identifier="Body",
        target_view="MODEL_VIEW",
        parent=model,
    )
    site = api.root.create_entity(ifc, ifc_class="IfcSite", name="Site")
    building = api.root.create_entity(
        ifc, ifc_class="IfcBuilding", name="Example office"
    )
    api.aggregate.assign_object(ifc, relating_object=project, products=[site])
    api.aggregate.assign_object(ifc, relating_object=site, products=[building])
    desk_type = api.root.create_entity(
        ifc, ifc_class="IfcFurnitureType", name="Desk 160x80", predefined_type="DESK"
    )
    for level, elevation in ((0, 0.0), (1, 3.5)):
        storey = api.root.create_entity(
            ifc, ifc_class="IfcBuildingStorey", name=f"Level {level}"
        )
        storey.Elevation = elevation
        api.aggregate.assign_object(ifc, relating_object=building, products=[storey])
        _placed(ifc, api, storey, 0, 0, elevation)
        spaces = [
            ("0.01", "Open office", OPEN_OFFICE),
            ("0.02", f"Meeting room {level}", MEETING),
            ("0.03", "Phone booth", PHONE),
            ("0.04", "Toilet", TOILET),
        ]
        if level == 0:
            spaces.append(("0.05", "Café", CAFE))
        for number, long_name, pts in spaces:
            space = api.root.create_entity(ifc, ifc_class="IfcSpace", name=number)
            space.LongName = long_name
            api.aggregate.assign_object(ifc, relating_object=storey, products=[space])
            _placed(ifc, api, space, 0, 0, elevation)
            _footprint(ifc, api, body, space, pts, 3.0)
        for i, (x, y, rot) in enumerate(DESKS):
            desk = api.root.create_entity(
                ifc, ifc_class="IfcFurniture", name=f"{level}.{i + 1:02d}"
            )
            api.type.assign_type(ifc, related_objects=[desk], relating_type=desk_type)
            api.spatial.assign_container(
                ifc, relating_structure=storey, products=[desk]
            )
            _placed(ifc, api, desk, x, y, elevation, rot)
            _footprint(
                ifc, api, body, desk, [(0, 0), (1.6, 0), (1.6, 0.8), (0, 0.8)], 0.75
            )
        chair = api.root.create_entity(
            ifc, ifc_class="IfcFurniture", name="Chair", predefined_type="CHAIR"
        )
        api.spatial.assign_container(ifc, relating_structure=storey, products=[chair])
        _placed(ifc, api, chair, 3, 3.2, elevation)
        _footprint(ifc, api, body, chair, [(0, 0), (0.5, 0), (0.5, 0.5), (0, 0.5)], 0.9)
        wall = api.root.create_entity(ifc, ifc_class="IfcWall", name="Facade")
        api.spatial.assign_container(ifc, relating_structure=storey, products=[wall])
    ifc.write(str(path))
    assert isinstance(ifc, ifcopenshell.file)
    return path
