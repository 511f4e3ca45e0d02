"""What a floor-plan reader produces: floors of classified shapes, and the
entities it could not classify (listed in the output, never dropped)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Literal

logger = logging.getLogger(__name__)

__all__ = [
    "Plan",
    "PlanError",
    "PlanFloor",
    "Shape",
    "ShapeKind",
    "classify_name",
]

#: "area": a room or space still to classify (by its name, or as a zone when
#: desks lie in it); "zone", "room", "desk": already known.
ShapeKind = Literal["area", "zone", "room", "desk"]


class PlanError(ValueError):
    """The drawing cannot be imported; the message names the file and why."""


@dataclass
class Shape:
    """A zone, room or desk: its outline [m] in drawing coordinates (y up)."""

    kind: ShapeKind
    outline: list[tuple[float, float]]
    name: str | None = None
    #: room_kind for rooms (meeting_room | focus_room | phone_booth), zone_kind
    #: for zones (shared | meeting | other), else None.
    subkind: str | None = None
    capacity: int | None = None
    source: str = ""  # where it came from, e.g. "LWPOLYLINE on A-AREA"


@dataclass
class PlanFloor:
    name: str
    level: int
    shapes: list[Shape] = field(default_factory=list)
    #: Entities seen but not used: human-readable lines, with counts.
    unclassified: list[str] = field(default_factory=list)
    #: Which building of the plan it belongs to (a key of Plan.buildings);
    #: None: the plan's only building.
    building: str | None = None


@dataclass
class Plan:
    source: str
    floors: list[PlanFloor] = field(default_factory=list)
    building_name: str | None = None
    #: Notes for the facility manager (units assumed, layers used...).
    notes: list[str] = field(default_factory=list)
    #: Several buildings in one plan (an IMDF venue): key → name.
    buildings: dict[str, str | None] = field(default_factory=dict)
    #: Entities on no floor that were not used (IMDF venue, footprints...).
    unclassified: list[str] = field(default_factory=list)


_ROOM_WORDS = (
    (re.compile(r"phone|bel(plek|cel)|call|booth", re.I), "phone_booth"),
    (re.compile(r"focus|stilte|concentrat|quiet", re.I), "focus_room"),
    (
        # EN, NL, DE; "CONF RM", "MTG" as US drawings abbreviate them.
        re.compile(
            r"meet|vergader|conferen|konferenz|besprechung|board|overleg|huddle|"
            r"workshop|spreek|\bconf\b|\bmtg\b",
            re.I,
        ),
        "meeting_room",
    ),
)
_SHARED_WORDS = re.compile(
    r"caf[eé]|pantry|kitchen|keuken|k(ü|ue)che|lounge|canteen|kantine|restaurant|"
    r"project|break|koffie|coffee",
    re.I,
)
_ZONE_WORDS = re.compile(
    r"office|kantoor|b(ü|ue)ro|open|werkplek|work|desk|bureau|team|neighbourhood|"
    r"zone|studio|flex|\bof(c|cr|f)\b",  # OFC, OFCR, OFF: US plans' "office"
    re.I,
)


def classify_name(name: str | None) -> tuple[ShapeKind, str] | None:
    """A space's kind from its name (EN and NL words): ``("room",
    "meeting_room")``, ``("zone", "shared")``, ``("zone", "other")`` or None
    (a corridor, toilet, stair...: not something we measure)."""
    if not name:
        return None
    for pattern, kind in _ROOM_WORDS:
        if pattern.search(name):
            return "room", kind
    if _SHARED_WORDS.search(name):
        return "zone", "shared"
    if _ZONE_WORDS.search(name):
        return "zone", "other"
    return None
