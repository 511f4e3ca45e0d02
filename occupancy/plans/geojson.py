"""GeoJSON and IMDF (Apple's Indoor Mapping Data Format) floor plans.

IMDF: ``level`` features → floors (``ordinal`` → level), ``unit`` features →
rooms and zones by ``category`` (conferenceroom → meeting room, phoneroom →
phone booth, office → work zone, foodservice/lounge → shared zone, a plain
room by its name), ``fixture`` features of category desk → desks. Other
fixtures, openings, amenities and so on are listed as not imported. Accepts
an IMDF archive (``.zip``), an unpacked IMDF folder or one FeatureCollection
(``feature_type`` on each feature, or ``properties.kind`` = zone | room | desk
and ``properties.level`` for plain GeoJSON). WGS 84 coordinates are projected
to metres around the plan's centre (equirectangular: < 1 mm error across a
building); anything else is taken as metres already."""

from __future__ import annotations

import json
import logging
import math
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from shapely.geometry import MultiPolygon, Polygon, shape

from occupancy.plans.model import Plan, PlanError, PlanFloor, Shape, ShapeKind

logger = logging.getLogger(__name__)

__all__ = ["read_geojson"]

_EARTH_M_PER_DEG = 111_320.0
#: IMDF unit category → (kind, subkind); None = classify by name.
_UNIT_CATEGORIES: dict[str, tuple[ShapeKind, str | None]] = {
    "conferenceroom": ("room", "meeting_room"),
    "huddleroom": ("room", "meeting_room"),
    "phoneroom": ("room", "phone_booth"),
    "office": ("zone", "other"),
    "foodservice": ("zone", "shared"),
    "kitchen": ("zone", "shared"),
    "lounge": ("zone", "shared"),
    "privatelounge": ("zone", "shared"),
    "room": ("area", None),
    "classroom": ("area", None),
    "unspecified": ("area", None),
}
_DESK_FIXTURES = {"desk", "workstation"}


#: IMDF feature types that belong to no level (the venue, its buildings and
#: footprints, addresses, amenities placed by unit, occupants...).
_NO_LEVEL_TYPES = {
    "address",
    "amenity",
    "anchor",
    "building",
    "footprint",
    "geofence",
    "manifest",
    "occupant",
    "relationship",
    "venue",
}


def read_geojson(
    paths: Iterable[Path], progress: Callable[[str], None] = logger.info
) -> Plan:
    paths = list(paths)
    features = [f for p in paths for f in _features(p)]
    plan = Plan(source=", ".join(p.name for p in paths))
    to_m = _projection(features, plan)
    floors = _levels(features)
    skipped: dict[str, Counter[str]] = {k: Counter() for k in floors}
    off_level: Counter[str] = Counter()
    for f in features:
        ftype = _ftype(f)
        if ftype == "level":
            continue
        key = _level_key(f)
        if key is None:
            off_level[f"{ftype or 'feature'} (on no level)"] += 1
            continue
        if key not in floors:
            floors[key] = PlanFloor(f"Level {key}", _as_level(key))
            skipped[key] = Counter()
        shape_ = _shape(f, ftype, to_m)
        if isinstance(shape_, str):
            skipped[key][shape_] += 1
        else:
            floors[key].shapes.append(shape_)
    for key, floor in floors.items():
        floor.unclassified = [f"{n} × {w}" for w, n in sorted(skipped[key].items())]
        progress(
            f"{plan.source} [{floor.name}]: {len(floor.shapes)} shapes, "
            f"{sum(skipped[key].values())} features not used"
        )
    plan.unclassified = [f"{n} × {w}" for w, n in sorted(off_level.items())]
    plan.floors = sorted(floors.values(), key=lambda fl: fl.level)
    plan.buildings = _buildings(features, plan.floors)
    return plan


def _buildings(
    features: list[dict[str, Any]], floors: list[PlanFloor]
) -> dict[str, str | None]:
    """IMDF levels name their building (``building_ids``): a venue of several
    buildings gives one building each, named from the building features."""
    keys = {f.building for f in floors}
    if len(keys) < 2:
        for fl in floors:
            fl.building = None
        return {}
    names = {
        str(f.get("id")): _text((f.get("properties") or {}).get("name"))
        for f in features
        if _ftype(f) == "building"
    }
    return {k: names.get(k) for k in sorted(keys, key=str) if k is not None}


def _features(path: Path) -> list[dict[str, Any]]:
    """Every feature, with ``feature_type`` filled in from the IMDF file name
    where the feature does not say."""
    try:
        if path.is_dir():
            docs = [
                (p.stem, p.read_text("utf-8")) for p in sorted(path.glob("*.geojson"))
            ]
        elif zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                docs = [
                    (Path(n).stem, z.read(n).decode("utf-8"))
                    for n in sorted(z.namelist())
                    if n.endswith(".geojson")
                ]
        else:
            docs = [("", path.read_text("utf-8"))]
    except (OSError, UnicodeDecodeError, zipfile.BadZipFile) as exc:
        raise PlanError(f"{path}: cannot read: {exc}") from exc
    out = []
    for stem, text in docs:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PlanError(
                f"{path}{'/' + stem if stem else ''}: not JSON: {exc}"
            ) from exc
        items = doc.get("features") if isinstance(doc, dict) else None
        if not isinstance(items, list):
            raise PlanError(
                f"{path}{'/' + stem if stem else ''}: not a GeoJSON FeatureCollection"
            )
        for item in items:
            if isinstance(item, dict) and stem and "feature_type" not in item:
                item = {**item, "feature_type": stem}  # noqa: PLW2901
            out.append(item)
    return out


def _ftype(f: dict[str, Any]) -> str:
    props = f.get("properties") or {}
    return str(
        f.get("feature_type") or props.get("feature_type") or props.get("kind") or ""
    )


def _text(value: Any) -> str | None:
    """IMDF labels are {language: text}; English, then Dutch, then any."""
    if isinstance(value, dict):
        for lang in ("en", "nl"):
            if value.get(lang):
                return str(value[lang])
        return next((str(v) for v in value.values() if v), None)
    return str(value) if value not in (None, "") else None


def _levels(features: list[dict[str, Any]]) -> dict[str, PlanFloor]:
    floors: dict[str, PlanFloor] = {}
    for f in features:
        if _ftype(f) == "level":
            props = f.get("properties") or {}
            ordinal = int(props.get("ordinal", len(floors)))
            name = (
                _text(props.get("name"))
                or _text(props.get("short_name"))
                or f"Level {ordinal}"
            )
            building = props.get("building_ids") or [None]
            floors[str(f.get("id", ordinal))] = PlanFloor(
                name,
                ordinal,
                building=str(building[0]) if building[0] is not None else None,
            )
    return floors


def _level_key(f: dict[str, Any]) -> str | None:
    """The feature's level: IMDF ``level_id`` (null: on no level), or plain
    GeoJSON ``level`` (absent: level 0)."""
    props = f.get("properties") or {}
    if "level_id" in props:
        return None if props["level_id"] is None else str(props["level_id"])
    if _ftype(f) in _NO_LEVEL_TYPES:
        return None
    return str(props.get("level", 0))


def _as_level(key: str) -> int:
    try:
        return int(float(key))
    except ValueError:
        return 0


def _projection(
    features: list[dict[str, Any]], plan: Plan
) -> Callable[[float, float], tuple[float, float]]:
    xs, ys = [], []
    for f in features:
        geom = f.get("geometry")
        if geom:
            try:
                b = shape(geom).bounds
            except (ValueError, TypeError, AttributeError):
                continue
            xs += [b[0], b[2]]
            ys += [b[1], b[3]]
    if not xs:
        raise PlanError(f"{plan.source}: no geometry")
    lonlat = -180 <= min(xs) and max(xs) <= 180 and -90 <= min(ys) and max(ys) <= 90
    if not lonlat or max(max(xs) - min(xs), max(ys) - min(ys)) > 0.5:
        plan.notes.append(f"{plan.source}: coordinates taken as metres (not WGS 84)")
        return lambda x, y: (x, y)
    lat0 = (min(ys) + max(ys)) / 2
    kx = _EARTH_M_PER_DEG * math.cos(math.radians(lat0))
    x0, y0 = min(xs), min(ys)
    return lambda x, y: ((x - x0) * kx, (y - y0) * _EARTH_M_PER_DEG)


def _shape(
    f: dict[str, Any], ftype: str, to_m: Callable[[float, float], tuple[float, float]]
) -> Shape | str:
    """The feature as a Shape, or why not (a line for the not-imported list)."""
    props = f.get("properties") or {}
    category = str(props.get("category") or "").lower()
    name = _text(props.get("name")) or _text(props.get("alt_name"))
    what = f"{ftype or 'feature'} {category or ''}".strip()
    if ftype == "unit":
        kind, sub = _UNIT_CATEGORIES.get(category, (None, None))  # type: ignore[arg-type]
        if kind is None:
            return f"{what} (not a room or work area)"
    elif (ftype == "fixture" and category in _DESK_FIXTURES) or ftype == "desk":
        kind, sub = "desk", None
    elif ftype in ("zone", "room"):
        kind, sub = (
            ("zone", props.get("zone_kind")) if ftype == "zone" else ("area", None)
        )
    else:
        return f"{what} (ignored: {ftype or 'no feature_type'})"
    try:
        geom = shape(f["geometry"])
    except (KeyError, ValueError, TypeError, AttributeError):
        return f"{what} (no usable geometry)"
    if isinstance(geom, MultiPolygon):
        geom = max(geom.geoms, key=lambda g: g.area)
    if not isinstance(geom, Polygon):
        return f"{what} ({geom.geom_type}, not an area)"
    outline = [to_m(x, y) for x, y in list(geom.exterior.coords)[:-1]]
    return Shape(kind, outline, name=name, subkind=sub, source=f"GeoJSON {what}")
