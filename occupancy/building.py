"""The building model: site → buildings → floors → zones → desks and rooms,
departments, and devices, read from YAML and validated.

Errors name the path of the bad field, e.g.
``buildings[0].floors[1].zones[2].desks[4].width: must be a number > 0``.
See ``docs/building.md`` for the format and ``examples/office.yaml``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from occupancy.device_ids import device_id_problem

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
    "Space",
    "Zone",
    "load_building",
    "parse_building",
]

ZONE_KINDS = ("neighbourhood", "shared", "meeting", "other")
ROOM_KINDS = ("meeting_room", "focus_room", "phone_booth")
DEVICE_KINDS = ("desk_sensor", "room_counter", "zone_counter", "ble_scanner")
DEVICE_FAMILIES = (
    "occupancy",
    "zigbee2mqtt",
    "esphome",
    "tasmota",
    "ttn",
    "openmqttgateway",
    "shelly",
    "pressac",
    # devices (issue 12): the families added with the vendor catalogues
    "homeassistant",
    "espresense",
    "chirpstack",
    "mqtt",
)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


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
    """A desk or a room: something with seats and a rectangle on the floor plan."""

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


@dataclass(frozen=True)
class Department:
    id: str
    name: str
    headcount: int
    color: str | None = None
    office_days_per_week: float | None = None


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

    def device(self, device_id: str) -> Device:
        for d in self.devices:
            if d.id == device_id:
                return d
        raise KeyError(device_id)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


# ---------------------------------------------------------------------------
# Parsing


class _Reader:
    """Typed field access on a YAML mapping that reports the field's path."""

    def __init__(self, data: Any, path: str, source: str | None) -> None:
        if not isinstance(data, dict):
            raise BuildingError(
                path or "(top)", f"must be a mapping, got {type(data).__name__}", source
            )
        self.data = data
        self.path = path
        self.source = source
        self.used: set[str] = set()

    def _p(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def err(self, key: str, message: str) -> BuildingError:
        return BuildingError(self._p(key), message, self.source)

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str, default: Any = ...) -> Any:
        self.used.add(key)
        if key not in self.data or self.data[key] is None:
            if default is ...:
                raise self.err(key, "is required")
            return default
        return self.data[key]

    def str_(self, key: str, default: Any = ...) -> Any:
        v = self.raw(key, default)
        if v is default and default is not ...:
            return v
        if not isinstance(v, (str, int)) or isinstance(v, bool):
            raise self.err(key, f"must be a string, got {v!r}")
        return str(v)

    def device_id_(self, key: str = "id") -> str:
        """A device id as the device family writes it (occupancy.device_ids)."""
        v = self.raw(key)
        if not isinstance(v, str):
            raise self.err(key, f"must be a string, got {v!r}")
        problem = device_id_problem(v)
        if problem is not None:
            raise self.err(key, f"device id {v[:80]!r} {problem}")
        return v

    def id_(self, key: str = "id") -> str:
        v = self.str_(key)
        if not _ID.match(v):
            raise self.err(
                key, f"{v!r} is not a valid id (letters, digits, _ . : -; at most 64)"
            )
        return str(v)

    def num(
        self,
        key: str,
        default: Any = ...,
        *,
        positive: bool = False,
        minimum: float | None = None,
    ) -> Any:
        v = self.raw(key, default)
        if v is default and default is not ...:
            return v
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise self.err(key, f"must be a number, got {v!r}")
        if positive and not v > 0:
            raise self.err(key, f"must be a number > 0, got {v!r}")
        if minimum is not None and v < minimum:
            raise self.err(key, f"must be at least {minimum}, got {v!r}")
        return float(v)

    def int_(self, key: str, default: Any = ..., *, minimum: int | None = None) -> Any:
        v = self.raw(key, default)
        if v is default and default is not ...:
            return v
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.err(key, f"must be a whole number, got {v!r}")
        if minimum is not None and v < minimum:
            raise self.err(key, f"must be at least {minimum}, got {v!r}")
        return int(v)

    def list_(self, key: str, default: Any = ...) -> list[Any]:
        v = self.raw(key, default)
        if not isinstance(v, list):
            raise self.err(key, f"must be a list, got {type(v).__name__}")
        return v

    def choice(self, key: str, choices: tuple[str, ...], default: Any = ...) -> Any:
        v = self.str_(key, default)
        if v not in choices:
            raise self.err(key, f"{v!r} is not one of {', '.join(choices)}")
        return v

    def rect(self) -> tuple[float, float, float, float]:
        return (
            self.num("x", minimum=0),
            self.num("y", minimum=0),
            self.num("width", positive=True),
            self.num("height", positive=True),
        )

    def check_unknown(self, allowed: tuple[str, ...] = ()) -> None:
        extra = set(self.data) - self.used - set(allowed)
        if extra:
            key = sorted(extra)[0]
            raise self.err(key, "unknown field (misspelt?)")


def parse_building(data: Any, source: str | None = None) -> Site:
    """Validate a parsed YAML document and build the :class:`Site`."""
    top = _Reader(data, "", source)
    s = _Reader(top.raw("site"), "site", source)
    site_id = s.id_()
    tz = s.str_("timezone", "Europe/Amsterdam")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise s.err("timezone", f"{tz!r} is not an IANA time zone") from exc
    site_name = s.str_("name", site_id)
    s.check_unknown()

    departments = []
    for i, raw in enumerate(top.list_("departments")):
        r = _Reader(raw, f"departments[{i}]", source)
        departments.append(
            Department(
                id=r.id_(),
                name=r.str_("name"),
                headcount=r.int_("headcount", minimum=0),
                color=r.str_("color", None),
                office_days_per_week=r.num("office_days_per_week", None, minimum=0),
            )
        )
        r.check_unknown()
    _unique([d.id for d in departments], "departments", source)
    dept_ids = {d.id for d in departments}

    buildings = []
    for bi, braw in enumerate(top.list_("buildings")):
        b = _Reader(braw, f"buildings[{bi}]", source)
        bid = b.id_()
        floors = []
        for fi, fraw in enumerate(b.list_("floors")):
            f = _Reader(fraw, f"{b.path}.floors[{fi}]", source)
            fid = f.id_()
            fw, fh = f.num("width", positive=True), f.num("height", positive=True)
            zones = []
            for zi, zraw in enumerate(f.list_("zones")):
                z = _Reader(zraw, f"{f.path}.zones[{zi}]", source)
                zid = z.id_()
                kind = z.choice("kind", ZONE_KINDS)
                dept = z.str_("department", None)
                if dept is not None and dept not in dept_ids:
                    raise z.err("department", f"unknown department {dept!r}")
                if kind == "neighbourhood" and dept is None:
                    raise z.err(
                        "department", "a neighbourhood zone needs its department"
                    )
                if kind == "shared" and dept is not None:
                    raise z.err(
                        "department",
                        "a shared (department-neutral) zone has no department",
                    )
                zx, zy, zw, zh = z.rect()
                _inside(z, (zx, zy, zw, zh), (0, 0, fw, fh), "the floor")
                desks = []
                for di, draw in enumerate(z.list_("desks", [])):
                    d = _Reader(draw, f"{z.path}.desks[{di}]", source)
                    did = d.id_()
                    rect = d.rect()
                    _inside(d, rect, (zx, zy, zw, zh), "its zone")
                    desks.append(
                        Space(
                            did,
                            "desk",
                            d.str_("name", did),
                            1,
                            *rect,
                            zone_id=zid,
                            floor_id=fid,
                        )
                    )
                    d.check_unknown()
                rooms = []
                for ri, rraw in enumerate(z.list_("rooms", [])):
                    r = _Reader(rraw, f"{z.path}.rooms[{ri}]", source)
                    rid = r.id_()
                    rect = r.rect()
                    _inside(r, rect, (zx, zy, zw, zh), "its zone")
                    rooms.append(
                        Space(
                            rid,
                            r.choice("kind", ROOM_KINDS, "meeting_room"),
                            r.str_("name", rid),
                            r.int_("capacity", minimum=1),
                            *rect,
                            zone_id=zid,
                            floor_id=fid,
                        )
                    )
                    r.check_unknown()
                seats = len(desks) + sum(rm.capacity for rm in rooms)
                capacity = z.int_("capacity", seats, minimum=0)
                zones.append(
                    Zone(
                        zid,
                        z.str_("name", zid),
                        kind,
                        dept,
                        capacity,
                        zx,
                        zy,
                        zw,
                        zh,
                        fid,
                        tuple(desks),
                        tuple(rooms),
                    )
                )
                z.check_unknown()
            floors.append(
                Floor(
                    fid, f.int_("level"), f.str_("name", fid), fw, fh, bid, tuple(zones)
                )
            )
            f.check_unknown()
        buildings.append(Building(bid, b.str_("name", bid), tuple(floors)))
        b.check_unknown()
    if not buildings:
        raise BuildingError("buildings", "at least one building is required", source)

    site = Site(
        site_id, site_name, tz, tuple(departments), tuple(buildings), (), source
    )
    _unique([b.id for b in site.buildings], "buildings", source)
    _unique([f.id for f in site.floors()], "floors", source)
    _unique([z.id for z in site.zones()], "zones", source)
    _unique([sp.id for sp in site.spaces()], "desks and rooms", source)
    space_ids = {sp.id for sp in site.spaces()}
    zone_ids = {z.id for z in site.zones()}

    devices = []
    for i, raw in enumerate(top.list_("devices", [])):
        r = _Reader(raw, f"devices[{i}]", source)
        kind = r.choice("kind", DEVICE_KINDS)
        space = r.str_("space", None)
        zone = r.str_("zone", None)
        if space is not None and space not in space_ids:
            raise r.err("space", f"unknown desk or room {space!r}")
        if zone is not None and zone not in zone_ids:
            raise r.err("zone", f"unknown zone {zone!r}")
        if kind in ("desk_sensor", "room_counter") and space is None:
            raise r.err("space", f"a {kind} needs the desk or room it covers")
        if kind in ("zone_counter", "ble_scanner") and zone is None:
            raise r.err("zone", f"a {kind} needs the zone it covers")
        devices.append(
            Device(
                id=r.device_id_(),
                kind=kind,
                family=r.choice("family", DEVICE_FAMILIES, "occupancy"),
                space_id=space,
                zone_id=zone,
                topic=r.str_("topic", None),
            )
        )
        r.check_unknown()
    _unique([d.id for d in devices], "devices", source)
    top.check_unknown()
    return Site(
        site_id,
        site_name,
        tz,
        tuple(departments),
        tuple(buildings),
        tuple(devices),
        source,
    )


def _unique(ids: list[str], what: str, source: str | None) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise BuildingError(what, f"id {i!r} is used twice", source)
        seen.add(i)


def _inside(
    r: _Reader,
    rect: tuple[float, float, float, float],
    outer: tuple[float, float, float, float],
    what: str,
) -> None:
    x, y, w, h = rect
    ox, oy, ow, oh = outer
    eps = 1e-6
    if x < ox - eps or y < oy - eps or x + w > ox + ow + eps or y + h > oy + oh + eps:
        raise BuildingError(
            r.path,
            f"rectangle x={x:g} y={y:g} {w:g}x{h:g} m lies outside {what} "
            f"(x={ox:g} y={oy:g} {ow:g}x{oh:g} m)",
            r.source,
        )


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
