"""The building file's shape, as pydantic models (types, ranges, required and
unknown fields). Cross-references and geometry are checked afterwards in
:mod:`occupancy.building`, which also turns pydantic's errors into
``path: message`` errors (:func:`error_path`, :func:`error_message`)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)
from pydantic_core import ErrorDetails

from occupancy.device_ids import device_id_problem

logger = logging.getLogger(__name__)

__all__ = [
    "BuildingIn",
    "DepartmentIn",
    "DeskIn",
    "DeviceIn",
    "FileIn",
    "FloorIn",
    "PlannedChangeIn",
    "RoomIn",
    "SiteIn",
    "ZoneIn",
    "error_message",
    "error_path",
]

ZoneKind = Literal["neighbourhood", "shared", "meeting", "other"]
RoomKind = Literal["meeting_room", "focus_room", "phone_booth"]
DeviceKind = Literal["desk_sensor", "room_counter", "zone_counter", "ble_scanner"]
DeviceFamily = Literal[
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
]


def _int_as_str(v: Any) -> Any:
    """YAML reads ``id: 12`` as a number; ids and names are text."""
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    return v


Text = Annotated[str, BeforeValidator(_int_as_str)]
Id = Annotated[
    str,
    BeforeValidator(_int_as_str),
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"),
]


def _usable_device_id(v: str) -> str:
    """A device id as its family writes it (occupancy.device_ids): refused
    only when empty, with NUL or over the length limit."""
    problem = device_id_problem(v)
    if problem is not None:
        raise ValueError(f"device id {v[:80]!r} {problem}")
    return v


DeviceId = Annotated[
    str, BeforeValidator(_int_as_str), AfterValidator(_usable_device_id)
]
Coord = Annotated[float, Field(ge=0)]
Length = Annotated[float, Field(gt=0)]
Point = Annotated[list[float], Field(min_length=2, max_length=2)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _Shaped(_In):
    """Something drawn on the floor: a rectangle, a polygon, or both."""

    x: Coord | None = None
    y: Coord | None = None
    width: Length | None = None
    height: Length | None = None
    polygon: list[Point] | None = None

    @field_validator("polygon")
    @classmethod
    def _three_points(cls, v: list[Point] | None) -> list[Point] | None:
        if v is not None and len(v) < 3:
            raise ValueError(f"a polygon needs at least 3 points, got {len(v)}")
        return v


class DeskIn(_Shaped):
    id: Id
    name: Text | None = None
    assigned: bool = False


class RoomIn(_Shaped):
    id: Id
    name: Text | None = None
    kind: RoomKind = "meeting_room"
    capacity: Annotated[int, Field(ge=1)]
    calendar: Text | None = None


class ZoneIn(_Shaped):
    id: Id
    name: Text | None = None
    kind: ZoneKind
    department: Text | None = None
    capacity: Annotated[int, Field(ge=0)] | None = None
    desks: list[DeskIn] = []
    rooms: list[RoomIn] = []


class FloorIn(_In):
    id: Id
    level: int
    name: Text | None = None
    width: Length
    height: Length
    zones: list[ZoneIn]


class BuildingIn(_In):
    id: Id
    name: Text | None = None
    area_m2: Annotated[float, Field(gt=0)] | None = None
    cost_per_m2_year: Annotated[float, Field(ge=0)] | None = None
    cost_per_desk_year: Annotated[float, Field(ge=0)] | None = None
    floors: list[FloorIn]


class DepartmentIn(_In):
    id: Id
    name: Text
    headcount: Annotated[int, Field(ge=0)]
    color: Text | None = None
    office_days_per_week: Annotated[float, Field(ge=0)] | None = None
    parent: Text | None = None


class DeviceIn(_In):
    id: DeviceId
    kind: DeviceKind
    family: DeviceFamily = "occupancy"
    space: Text | None = None
    zone: Text | None = None
    topic: Text | None = None


class PlannedChangeIn(_In):
    """A demand change announced in advance (occupancy/planned_changes.py):
    from ``date`` on, demand × ``factor``; of the named ``floors`` and/or
    ``departments`` only when given."""

    date: dt.date
    factor: Annotated[float, Field(gt=0, le=10)]
    floors: list[Text] | None = None
    departments: list[Text] | None = None
    note: Text | None = None


class SiteIn(_In):
    id: Id
    name: Text | None = None
    timezone: Text = "Europe/Amsterdam"
    # The site's own calendar; None: the settings of the same name apply.
    country: Text | None = None
    working_hours: Text | None = None
    working_days: list[Text] | None = None
    holidays: list[dt.date] | None = None
    planned_changes: list[PlannedChangeIn] = []


class FileIn(_In):
    site: SiteIn
    departments: list[DepartmentIn]
    buildings: list[BuildingIn]
    devices: list[DeviceIn] = []


def error_path(err: ErrorDetails) -> str:
    """``('buildings', 0, 'floors', 1, 'width')`` → ``buildings[0].floors[1].width``.
    Union members (``int``, ``float``...) pydantic puts in the location are
    dropped."""
    out = ""
    for part in err["loc"]:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in _UNION_TAGS or "[" in part:
            continue
        else:
            out += f".{part}" if out else part
    return out or "(top)"


_UNION_TAGS = {"int", "float", "str", "none", "bool", "list", "tuple"}


def error_message(err: ErrorDetails) -> str:
    """pydantic's error in this project's words (the tests and docs quote them)."""
    kind, got = err["type"], err.get("input")
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "unknown field (misspelt?)"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"must be a whole number, got {got!r}"
    if kind in ("float_type", "float_parsing"):
        return f"must be a number, got {got!r}"
    if kind == "greater_than":
        return f"must be a number > {ctx.get('gt')}, got {got!r}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}, got {got!r}"
    if kind in ("date_type", "date_parsing", "date_from_datetime_parsing"):
        return f"must be a date YYYY-MM-DD, got {got!r}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}, got {got!r}"
    if kind == "literal_error":
        choices = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        return f"{got!r} is not one of {choices}"
    if kind == "string_pattern_mismatch":
        return f"{got!r} is not a valid id (letters, digits, _ . : -; at most 64)"
    if kind == "string_type":
        return f"must be a string, got {got!r}"
    if kind == "bool_type":
        return f"must be true or false, got {got!r}"
    if kind in ("list_type", "tuple_type"):
        return f"must be a list, got {type(got).__name__}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"must be a mapping, got {type(got).__name__}"
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    return str(err["msg"])
