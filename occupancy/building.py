"""The building model: site → buildings → floors → zones → desks and rooms,
departments, and devices, read from YAML and validated.

Errors name the path of the bad field, e.g.
``buildings[0].floors[1].zones[2].desks[4].width: must be a number > 0``.
See ``docs/building.md`` for the format and ``examples/office.yaml``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import ValidationError
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

from occupancy import building_schema as sch
from occupancy.planned_changes import PlannedChange, check_planned_changes
from occupancy.site_calendar import SiteCalendar, check_site_calendar

logger = logging.getLogger(__name__)

__all__ = [
    "DEVICE_FAMILIES",
    "DEVICE_KINDS",
    "ROOM_KINDS",
    "ZONE_KINDS",
    "Building",
    "BuildingError",
    "Department",
    "Device",
    "Floor",
    "Room",
    "Site",
    "SiteCalendar",
    "Space",
    "Zone",
    "load_building",
    "parse_building",
]

ZONE_KINDS: tuple[str, ...] = get_args(sch.ZoneKind)
ROOM_KINDS: tuple[str, ...] = get_args(sch.RoomKind)
DEVICE_KINDS: tuple[str, ...] = get_args(sch.DeviceKind)
DEVICE_FAMILIES: tuple[str, ...] = get_args(sch.DeviceFamily)
#: A polygon in floor coordinates [m]: (x, y) corners, x right, y down.
PolygonT = tuple[tuple[float, float], ...]


class BuildingError(ValueError):
    """The building file is invalid; ``path`` names the bad field."""

    def __init__(self, path: str, message: str, source: str | None = None) -> None:
        self.path = path
        self.message = message
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{path}: {message}")


@dataclass(frozen=True)
class Space:
    """A desk or a room: something with seats and a shape on the floor plan.
    ``x, y, width, height`` [m] are its rectangle, or its polygon's bounding box."""

    id: str
    kind: str  # desk | meeting_room | focus_room | phone_booth
    name: str
    capacity: int
    x: float
    y: float
    width: float
    height: float
    zone_id: str = ""
    floor_id: str = ""
    polygon: PolygonT | None = None
    assigned: bool = False  # desks: assigned to one person (not bookable)
    calendar: str | None = None  # rooms: resource email or CalDAV path/URL


Room = Space


@dataclass(frozen=True)
class Zone:
    id: str
    name: str
    kind: str
    department_id: str | None
    capacity: int
    x: float
    y: float
    width: float
    height: float
    floor_id: str
    desks: tuple[Space, ...] = ()
    rooms: tuple[Space, ...] = ()
    polygon: PolygonT | None = None


@dataclass(frozen=True)
class Floor:
    id: str
    level: int
    name: str
    width: float
    height: float
    building_id: str
    zones: tuple[Zone, ...] = ()


@dataclass(frozen=True)
class Building:
    id: str
    name: str
    floors: tuple[Floor, ...] = ()
    area_m2: float | None = None
    cost_per_m2_year: float | None = None  # [EUR]
    cost_per_desk_year: float | None = None  # [EUR]


@dataclass(frozen=True)
class Department:
    id: str
    name: str
    headcount: int
    color: str | None = None
    office_days_per_week: float | None = None
    parent_id: str | None = None  # division → department → team


@dataclass(frozen=True)
class Device:
    """A sensor. ``space_id`` (desk or room) or ``zone_id`` says what it covers."""

    id: str
    kind: str
    family: str = "occupancy"
    space_id: str | None = None
    zone_id: str | None = None
    topic: str | None = None


@dataclass(frozen=True)
class Site:
    id: str
    name: str
    timezone: str
    departments: tuple[Department, ...] = ()
    buildings: tuple[Building, ...] = ()
    devices: tuple[Device, ...] = ()
    source: str | None = field(default=None, compare=False)
    #: The site's own calendar (occupancy.site_calendar).
    calendar: SiteCalendar = field(default_factory=SiteCalendar)
    planned_changes: tuple[PlannedChange, ...] = ()  # occupancy.planned_changes

    # Convenience views ----------------------------------------------------
    def floors(self) -> Iterator[Floor]:
        for b in self.buildings:
            yield from b.floors

    def zones(self) -> Iterator[Zone]:
        for f in self.floors():
            yield from f.zones

    def desks(self) -> Iterator[Space]:
        for z in self.zones():
            yield from z.desks

    def rooms(self) -> Iterator[Space]:
        for z in self.zones():
            yield from z.rooms

    def spaces(self) -> Iterator[Space]:
        yield from self.desks()
        yield from self.rooms()

    def space(self, space_id: str) -> Space:
        for s in self.spaces():
            if s.id == space_id:
                return s
        raise KeyError(space_id)

    def zone(self, zone_id: str) -> Zone:
        for z in self.zones():
            if z.id == zone_id:
                return z
        raise KeyError(zone_id)

    def department(self, department_id: str) -> Department:
        for d in self.departments:
            if d.id == department_id:
                return d
        raise KeyError(department_id)

    def device(self, device_id: str) -> Device:
        for d in self.devices:
            if d.id == device_id:
                return d
        raise KeyError(device_id)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


# ---------------------------------------------------------------------------
# Parsing: pydantic checks the shape (building_schema), these functions the
# cross-references and the geometry, and build the frozen model.

_EPS = 1e-3  # [m] slack for "inside": imported drawings are rounded to mm


def parse_building(data: object, source: str | None = None) -> Site:
    """Validate a parsed YAML document and build the :class:`Site`."""
    try:
        doc = sch.FileIn.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise BuildingError(
            sch.error_path(first), sch.error_message(first), source
        ) from None
    ctx = _Ctx(source)
    site_in = doc.site
    try:
        ZoneInfo(site_in.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ctx.err(
            "site.timezone", f"{site_in.timezone!r} is not an IANA time zone"
        ) from exc
    departments = _departments(ctx, doc.departments)
    ctx.dept_ids = {d.id for d in departments}
    buildings = tuple(
        _building(ctx, b, f"buildings[{i}]") for i, b in enumerate(doc.buildings)
    )
    if not buildings:
        raise ctx.err("buildings", "at least one building is required")
    calendar = check_site_calendar(site_in, ctx.err)
    site = Site(
        site_in.id,
        site_in.name or site_in.id,
        site_in.timezone,
        departments,
        buildings,
        (),
        source,
        calendar,
    )
    _unique(ctx, [b.id for b in site.buildings], "buildings")
    _unique(ctx, [f.id for f in site.floors()], "floors")
    _unique(ctx, [z.id for z in site.zones()], "zones")
    _unique(ctx, [sp.id for sp in site.spaces()], "desks and rooms")
    devices = _devices(ctx, doc.devices, site)
    _unique(ctx, [d.id for d in devices], "devices")
    floors = [f.id for f in site.floors()]
    planned = check_planned_changes(site_in, floors, ctx.dept_ids, ctx.err)
    return dataclasses.replace(site, devices=devices, planned_changes=planned)


class _Ctx:
    """What the checks share: the file name (for errors) and known ids."""

    source: str | None = None

    def __init__(self, source: str | None) -> None:
        self.source = source
        self.dept_ids: set[str] = set()

    def err(self, path: str, message: str) -> BuildingError:
        return BuildingError(path, message, self.source)


def _departments(ctx: _Ctx, items: list[sch.DepartmentIn]) -> tuple[Department, ...]:
    out = tuple(
        Department(d.id, d.name, d.headcount, d.color, d.office_days_per_week, d.parent)
        for d in items
    )
    _unique(ctx, [d.id for d in out], "departments")
    parents = {d.id: d.parent_id for d in out}
    for i, d in enumerate(out):
        if d.parent_id is None:
            continue
        if d.parent_id not in parents:
            raise ctx.err(
                f"departments[{i}].parent", f"unknown department {d.parent_id!r}"
            )
        seen: set[str] = {d.id}
        cur: str | None = d.parent_id
        while cur is not None:
            if cur in seen:
                raise ctx.err(
                    f"departments[{i}].parent",
                    f"{d.id!r} is its own ancestor (the parents form a cycle)",
                )
            seen.add(cur)
            cur = parents[cur]
    return out


def _building(ctx: _Ctx, b: sch.BuildingIn, path: str) -> Building:
    floors = []
    for fi, f in enumerate(b.floors):
        fpath = f"{path}.floors[{fi}]"
        outline = box(0, 0, f.width, f.height)
        zones = tuple(
            _zone(ctx, z, f"{fpath}.zones[{zi}]", f.id, outline)
            for zi, z in enumerate(f.zones)
        )
        floors.append(
            Floor(f.id, f.level, f.name or f.id, f.width, f.height, b.id, zones)
        )
    return Building(
        b.id,
        b.name or b.id,
        tuple(floors),
        b.area_m2,
        b.cost_per_m2_year,
        b.cost_per_desk_year,
    )


def _zone(
    ctx: _Ctx, z: sch.ZoneIn, path: str, floor_id: str, floor: BaseGeometry
) -> Zone:
    dept = z.department
    if dept is not None and dept not in ctx.dept_ids:
        raise ctx.err(f"{path}.department", f"unknown department {dept!r}")
    if z.kind == "neighbourhood" and dept is None:
        raise ctx.err(f"{path}.department", "a neighbourhood zone needs its department")
    if z.kind == "shared" and dept is not None:
        raise ctx.err(
            f"{path}.department", "a shared (department-neutral) zone has no department"
        )
    rect, poly, geom = _shape(ctx, z, path)
    _inside(ctx, path, rect, poly, geom, floor, "the floor")
    desks = [
        _space(ctx, d, f"{path}.desks[{i}]", z.id, floor_id, geom)
        for i, d in enumerate(z.desks)
    ]
    rooms = [
        _space(ctx, r, f"{path}.rooms[{i}]", z.id, floor_id, geom)
        for i, r in enumerate(z.rooms)
    ]
    seats = len(desks) + sum(rm.capacity for rm in rooms)
    capacity = seats if z.capacity is None else z.capacity
    return Zone(
        z.id,
        z.name or z.id,
        z.kind,
        dept,
        capacity,
        *rect,
        floor_id,
        tuple(desks),
        tuple(rooms),
        poly,
    )


def _space(
    ctx: _Ctx,
    s: sch.DeskIn | sch.RoomIn,
    path: str,
    zone_id: str,
    floor_id: str,
    zone: BaseGeometry,
) -> Space:
    """A desk or room, checked to lie inside its zone's shape."""
    rect, poly, geom = _shape(ctx, s, path)
    _inside(ctx, path, rect, poly, geom, zone, "its zone")
    if isinstance(s, sch.DeskIn):
        return Space(
            s.id,
            "desk",
            s.name or s.id,
            1,
            *rect,
            zone_id,
            floor_id,
            poly,
            assigned=s.assigned,
        )
    return Space(
        s.id,
        s.kind,
        s.name or s.id,
        s.capacity,
        *rect,
        zone_id,
        floor_id,
        poly,
        calendar=s.calendar,
    )


Rect = tuple[float, float, float, float]


def _shape(
    ctx: _Ctx, s: sch._Shaped, path: str
) -> tuple[Rect, PolygonT | None, BaseGeometry]:
    """The rectangle (given, or the polygon's bounding box), the polygon, and
    the shapely geometry used for the "inside" checks."""
    if s.polygon is None:
        for key in ("x", "y", "width", "height"):
            if getattr(s, key) is None:
                raise ctx.err(f"{path}.{key}", "is required (or give a polygon)")
        assert s.x is not None and s.y is not None
        assert s.width is not None and s.height is not None
        rect = (s.x, s.y, s.width, s.height)
        return rect, None, box(s.x, s.y, s.x + s.width, s.y + s.height)
    pts = tuple((float(p[0]), float(p[1])) for p in s.polygon)
    geom = Polygon(pts)
    if not geom.is_valid or geom.area <= 0:
        raise ctx.err(
            f"{path}.polygon",
            "must be a simple polygon (edges that do not cross, an area > 0)",
        )
    x0, y0, x1, y1 = geom.bounds
    rect = (x0, y0, x1 - x0, y1 - y0)
    for key, derived in zip(("x", "y", "width", "height"), rect, strict=True):
        given = getattr(s, key)
        if given is not None and abs(given - derived) > 0.01:
            raise ctx.err(
                f"{path}.{key}",
                f"{given:g} differs from the polygon's bounding box ({derived:g}); "
                "omit it or make it match",
            )
    return rect, pts, geom


def _inside(
    ctx: _Ctx,
    path: str,
    rect: Rect,
    poly: PolygonT | None,
    geom: BaseGeometry,
    outer: BaseGeometry,
    what: str,
) -> None:
    if outer.buffer(_EPS).covers(geom):
        return
    x, y, w, h = rect
    ox0, oy0, ox1, oy1 = outer.bounds
    shape = "polygon (bounding box" if poly else "rectangle"
    close = ")" if poly else ""
    raise ctx.err(
        path,
        f"{shape} x={x:g} y={y:g} {w:g}x{h:g} m{close} lies outside {what} "
        f"(x={ox0:g} y={oy0:g} {ox1 - ox0:g}x{oy1 - oy0:g} m)",
    )


def _devices(ctx: _Ctx, items: list[sch.DeviceIn], site: Site) -> tuple[Device, ...]:
    space_ids = {sp.id for sp in site.spaces()}
    zone_ids = {z.id for z in site.zones()}
    out = []
    for i, d in enumerate(items):
        path = f"devices[{i}]"
        if d.space is not None and d.space not in space_ids:
            raise ctx.err(f"{path}.space", f"unknown desk or room {d.space!r}")
        if d.zone is not None and d.zone not in zone_ids:
            raise ctx.err(f"{path}.zone", f"unknown zone {d.zone!r}")
        if d.kind in ("desk_sensor", "room_counter") and d.space is None:
            raise ctx.err(
                f"{path}.space", f"a {d.kind} needs the desk or room it covers"
            )
        if d.kind in ("zone_counter", "ble_scanner") and d.zone is None:
            raise ctx.err(f"{path}.zone", f"a {d.kind} needs the zone it covers")
        out.append(Device(d.id, d.kind, d.family, d.space, d.zone, d.topic))
    return tuple(out)


def _unique(ctx: _Ctx, ids: list[str], what: str) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise ctx.err(what, f"id {i!r} is used twice")
        seen.add(i)


def load_building(path: str | Path) -> Site:
    """Read and validate a building YAML file."""
    p = Path(path)
    try:
        text = p.read_text("utf-8")
    except OSError as exc:
        raise BuildingError("(file)", f"cannot read: {exc.strerror}", str(p)) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise BuildingError("(file)", f"not valid YAML: {exc}", str(p)) from exc
    return parse_building(data, str(p))
