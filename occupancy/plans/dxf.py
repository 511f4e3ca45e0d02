"""DXF floor plans (ezdxf): closed polylines and hatches on room/zone layers,
desks as block inserts (their attributes name them) or small closed polylines.

Which layer holds what comes from a layer map (``rooms=A-AREA|A-SPCE,...``,
shell-style patterns, case-insensitive) with defaults for the common AIA
(US National CAD Standard) and NLCS (Dutch) names. Units come from the header
($INSUNITS). Each paper-space layout that holds plan geometry is a floor;
otherwise model space is one floor, so several floors come from several files
or several layouts."""

from __future__ import annotations

import fnmatch
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ezdxf
import ezdxf.path
from ezdxf import disassemble, recover, units
from ezdxf.enums import InsertUnits
from ezdxf.lldxf.const import DXFError, DXFStructureError
from shapely.geometry import MultiPoint, Point, Polygon

from occupancy.plans.model import Plan, PlanError, PlanFloor, Shape

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_LAYERS", "LayerMap", "parse_layer_map", "read_dxf"]

#: Defaults: AIA/NCS (A-AREA, A-SPCE, A-FURN-...) and NLCS (NL-SfB codes in
#: layer names, Dutch words) names. First match wins, in the order zones,
#: desks, rooms.
DEFAULT_LAYERS: dict[str, tuple[str, ...]] = {
    "zones": ("*ZONE*", "A-AREA-OCCP*", "*WERKGEBIED*", "*AFDELING*"),
    "desks": (
        "*DESK*",
        "*WKST*",
        "*WORKSTATION*",
        "*WERKPLEK*",
        "*BUREAU*",
        "A-FURN-SYST*",
        "*82_*",  # NL-SfB (82) vast meubilair: kantoormeubilair
    ),
    "rooms": (
        "A-AREA*",
        "A-SPCE*",
        "*ROOM*",
        "*SPACE*",
        "*RUIMTE*",
        "*VERTREK*",
        "*AREA*",
    ),
}
_DESK_BLOCKS = ("*DESK*", "*BUREAU*", "*WERKPLEK*", "*WORKSTATION*", "*WKST*")
_NAME_TAGS = (
    "DESK",
    "DESK_NO",
    "DESKNO",
    "NUMBER",
    "NR",
    "NUMMER",
    "ID",
    "NAME",
    "NAAM",
    "WERKPLEK",
    "ROOM",
    "RUIMTE",
)
_MAX_DESK_M2 = 4.0  # a closed polyline on a desk layer larger than this is no desk
_FLATTEN = 0.01  # [drawing units] chord error for arcs and splines
_DESK_DEFAULT = (1.6, 0.8)  # [m] footprint of a desk block without geometry

LayerMap = dict[str, tuple[str, ...]]


def parse_layer_map(text: str | None) -> LayerMap:
    """``rooms=A-AREA|A-SPCE,desks=I-FURN`` → the defaults with those kinds
    replaced. Raises PlanError naming the bad part."""
    out = dict(DEFAULT_LAYERS)
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep or key not in out or not value.strip():
            raise PlanError(
                f"--layers: {part!r} is not KIND=PATTERN[|PATTERN...] with KIND "
                "one of zones, rooms, desks"
            )
        out[key] = tuple(v.strip() for v in value.split("|") if v.strip())
    return out


@dataclass
class _Sheet:
    """One floor being read: shapes, texts for naming, what was not used."""

    name: str
    scale: float  # drawing units → metres
    shapes: list[Shape] = field(default_factory=list)
    texts: list[tuple[Point, str]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


def read_dxf(
    paths: Iterable[Path],
    layers: LayerMap | None = None,
    progress: Callable[[str], None] = logger.info,
) -> Plan:
    """Read one or more DXF files into a :class:`Plan` (one floor per file or
    per paper-space layout with plan geometry, levels in that order)."""
    layers = layers or DEFAULT_LAYERS
    paths = list(paths)
    plan = Plan(source=", ".join(p.name for p in paths))
    for path in paths:
        doc = _open(path)
        scale, note = _scale(doc, path)
        if note:
            plan.notes.append(note)
        for name, space in _floor_spaces(doc, path, layers):
            sheet = _Sheet(name, scale)
            for entity in space:
                _take(sheet, entity, layers)
            floor = _finish(sheet, level=len(plan.floors))
            progress(
                f"{path.name} [{name}]: {len(floor.shapes)} shapes, "
                f"{sum(sheet.skipped.values())} entities not used"
            )
            plan.floors.append(floor)
    return plan


def _open(path: Path) -> Any:
    try:
        doc, auditor = recover.readfile(str(path))
    except OSError as exc:
        raise PlanError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except DXFStructureError as exc:
        raise PlanError(
            f"{path}: not a DXF file or damaged beyond repair: {exc}"
        ) from exc
    if auditor.has_errors:
        first = auditor.errors[0]
        logger.warning(
            "%s: %d DXF errors, first: %s", path, len(auditor.errors), first.message
        )
    return doc


def _scale(doc: Any, path: Path) -> tuple[float, str | None]:
    code = int(doc.header.get("$INSUNITS", 0))
    if code:
        try:
            return units.conversion_factor(InsertUnits(code), InsertUnits.Meters), None
        except (KeyError, ValueError, IndexError):
            pass
    # Unitless: architects draw in millimetres; a plan more than 1000 units
    # wide is millimetres, else metres.
    ext = doc.header.get("$EXTMAX", (0, 0, 0))
    guess = 0.001 if max(abs(ext[0]), abs(ext[1])) > 1000 else 1.0
    return guess, (
        f"{path.name}: no units in the header ($INSUNITS={code}); assumed "
        f"{'millimetres' if guess < 1 else 'metres'} from the drawing's size"
    )


def _floor_spaces(doc: Any, path: Path, layers: LayerMap) -> list[tuple[str, Any]]:
    """Paper-space layouts holding plan entities are floors; else model space."""
    sheets = []
    for layout in doc.layouts:
        if layout.name.lower() == "model":
            continue
        if any(
            _kind_of_layer(e.dxf.layer, layers)
            for e in layout
            if e.dxftype() != "VIEWPORT"
        ):
            sheets.append((layout.name, layout))
    return sheets or [(path.stem, doc.modelspace())]


def _kind_of_layer(layer: str, layers: LayerMap) -> str | None:
    for kind in ("zones", "desks", "rooms"):
        if any(fnmatch.fnmatchcase(layer.upper(), p.upper()) for p in layers[kind]):
            return kind
    return None


def _take(sheet: _Sheet, e: Any, layers: LayerMap) -> None:
    kind_name, layer = e.dxftype(), e.dxf.get("layer", "0")
    if kind_name in ("TEXT", "MTEXT"):
        sheet.texts.append(_text(e, sheet.scale))
        return
    kind = _kind_of_layer(layer, layers)
    if kind_name == "INSERT":
        block = e.dxf.name
        if kind == "desks" or any(
            fnmatch.fnmatchcase(block.upper(), p) for p in _DESK_BLOCKS
        ):
            sheet.shapes.append(_desk_insert(e, sheet.scale))
        else:
            sheet.skipped[f"INSERT of block {block!r} on layer {layer}"] += 1
        return
    outline = _outline(e)
    if kind is None or outline is None:
        why = "layer not mapped" if kind is None else "not a closed outline"
        sheet.skipped[f"{kind_name} on layer {layer} ({why})"] += 1
        return
    pts = [(x * sheet.scale, y * sheet.scale) for x, y in outline]
    source = f"{kind_name} on {layer}"
    if kind == "desks":
        if len(pts) < 3 or Polygon(pts).area > _MAX_DESK_M2:
            sheet.skipped[
                f"{kind_name} on desk layer {layer} (larger than a desk)"
            ] += 1
            return
        sheet.shapes.append(Shape("desk", pts, source=source))
    else:
        sheet.shapes.append(
            Shape("zone" if kind == "zones" else "area", pts, source=source)
        )


def _outline(e: Any) -> list[tuple[float, float]] | None:
    """Corners of a closed polyline or of a hatch's outer boundary, curves
    flattened; None for anything open."""
    kind = e.dxftype()
    try:
        if kind in {"LWPOLYLINE", "POLYLINE"}:
            pts = list(ezdxf.path.make_path(e).flattening(_FLATTEN))
            flag = getattr(e, "closed", None)
            flag = e.is_closed if flag is None else flag
            closed = bool(flag) or (len(pts) > 2 and pts[0].isclose(pts[-1]))
            return [(p.x, p.y) for p in pts] if closed else None
        if kind == "HATCH":
            paths = ezdxf.path.from_hatch(e)
            if not paths:
                return None
            outer = max(
                ([(v.x, v.y) for v in p.flattening(_FLATTEN)] for p in paths),
                key=lambda vs: Polygon(vs).area if len(vs) > 2 else 0.0,
            )
            return outer if len(outer) > 2 else None
    except (ValueError, TypeError, DXFError) as exc:
        logger.debug("cannot trace %s: %s", kind, exc)
    return None


def _text(e: Any, scale: float) -> tuple[Point, str]:
    if e.dxftype() == "MTEXT":
        content = e.plain_text()
    else:
        content = e.dxf.text
    x, y = e.dxf.insert.x, e.dxf.insert.y
    return Point(x * scale, y * scale), " ".join(str(content).split())


def _desk_insert(e: Any, scale: float) -> Shape:
    """A desk block: its footprint is the smallest rotated rectangle around its
    geometry (so turned desks stay turned); its name from an attribute."""
    pts: list[tuple[float, float]] = []
    for prim in disassemble.to_primitives(e.virtual_entities()):
        pts.extend((v.x * scale, v.y * scale) for v in prim.vertices())
    if len(pts) >= 3 and MultiPoint(pts).convex_hull.area > 0.05:
        rect = MultiPoint(pts).minimum_rotated_rectangle
        outline = [(x, y) for x, y in list(rect.exterior.coords)[:-1]]
    else:
        cx, cy = e.dxf.insert.x * scale, e.dxf.insert.y * scale
        w, h = _DESK_DEFAULT
        outline = [
            (cx - w / 2, cy - h / 2),
            (cx + w / 2, cy - h / 2),
            (cx + w / 2, cy + h / 2),
            (cx - w / 2, cy + h / 2),
        ]
    name = None
    for attrib in getattr(e, "attribs", []):
        if attrib.dxf.tag.upper() in _NAME_TAGS and attrib.dxf.text.strip():
            name = attrib.dxf.text.strip()
            break
    return Shape(
        "desk", outline, name=name, source=f"INSERT {e.dxf.name} on {e.dxf.layer}"
    )


def _finish(sheet: _Sheet, level: int) -> PlanFloor:
    """Name areas and zones from the texts inside them; texts that named
    nothing are not listed (annotations), unused entities are, with counts."""
    for s in sheet.shapes:
        if s.name or s.kind == "desk":
            continue
        poly = Polygon(s.outline) if len(s.outline) > 2 else None
        if poly is None or not poly.is_valid:
            continue
        inside = [t for p, t in sheet.texts if poly.contains(p) and t]
        if inside:
            s.name = inside[0]
    unclassified = [f"{n} × {what}" for what, n in sorted(sheet.skipped.items())]
    return PlanFloor(sheet.name, level, sheet.shapes, unclassified)
