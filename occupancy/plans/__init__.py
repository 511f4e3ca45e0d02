"""Floor plans in: DXF (CAD), IFC (BIM) and GeoJSON/IMDF turned into a building
file the facility manager completes (``occupancy building import``).

Readers (:mod:`.dxf`, :mod:`.ifc`, :mod:`.geojson`) turn a drawing into
:class:`~occupancy.plans.model.Plan` (shapes in metres, y up as drawn);
:func:`~occupancy.plans.layout.plan_to_building` makes the building document
(floor coordinates, y down; desks and rooms put in the zone that holds them).
Part of the shared core: imports no pipeline package."""

from __future__ import annotations

from occupancy.plans.model import Plan, PlanError, PlanFloor, Shape

__all__ = ["Plan", "PlanError", "PlanFloor", "Shape"]
