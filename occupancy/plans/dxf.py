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
import re
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

from occupancy.plans.model import Plan, PlanError, PlanFloor, Shape, classify_name

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
    layers_seen: Counter[str] = Counter()
    for path in paths:
        doc = _open(path)
        layers_seen.update(
            e.dxf.get("layer", "0")
            for layout in doc.layouts
            for e in layout
            if e.dxftype() != "VIEWPORT"
        )
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
    if not any(f.shapes for f in plan.floors):
        raise _no_plan(paths, layers_seen)
    return plan


def _open(path: Path) -> Any:
    """Read a DXF, ASCII (through ezdxf's recover mode, which repairs what
    CAD exporters get wrong) or binary; ezdxf's own repair chatter is kept
    out of the command's output."""
    quiet = logging.getLogger("ezdxf")
    level = quiet.level
    quiet.setLevel(logging.WARNING)
    try:
        if _is_binary(path):
            from ezdxf.filemanagement import readfile

            return readfile(str(path))
        doc, auditor = recover.readfile(str(path))
    except OSError as exc:
        raise PlanError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except (DXFStructureError, DXFError) as exc:
        raise PlanError(
            f"{path}: not a DXF file or damaged beyond repair: {exc}"
        ) from exc
    finally:
        quiet.setLevel(level)
    if auditor.has_errors:
        first = auditor.errors[0]
        logger.warning(
            "%s: %d DXF errors, first: %s", path, len(auditor.errors), first.message
        )
    return doc


def _is_binary(path: Path) -> bool:
    from ezdxf.lldxf.validator import is_binary_dxf_file

    try:
        return bool(is_binary_dxf_file(str(path)))
    except OSError:
        return False


def _no_plan(paths: list[Path], layers_seen: Counter[str]) -> PlanError:
    """Nothing on a mapped layer: say which layers the drawing has."""
    top = ", ".join(f"{name} ({n})" for name, n in layers_seen.most_common(15))
    return PlanError(
        f"{', '.join(str(p) for p in paths)}: no closed outline or desk block on a "
        "layer mapped to rooms, zones or desks. Layers in the drawing (entities): "
        f"{top or 'none'}. Say which is which with --layers "
        "'rooms=LAYER|LAYER,zones=LAYER,desks=LAYER'."
    )


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


_MAX_NESTING = 8  # block inside block inside ...: deeper than this is a loop


def _take(sheet: _Sheet, e: Any, layers: LayerMap, depth: int = 0) -> None:
    kind_name, layer = e.dxftype(), e.dxf.get("layer", "0")
    if kind_name in ("TEXT", "MTEXT"):
        sheet.texts.append(_text(e, sheet.scale))
        return
    kind = _kind_of_layer(layer, layers)
    if kind_name == "INSERT":
        _take_insert(sheet, e, layers, kind, depth)
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


def _is_desk_block(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name.upper(), p) for p in _DESK_BLOCKS)


def _take_insert(
    sheet: _Sheet, e: Any, layers: LayerMap, kind: str | None, depth: int
) -> None:
    """A desk block is a desk; any other block (a room tag, a cluster of
    desks, a whole floor pasted as one block, an xref bound into the drawing)
    is opened and its entities read as if drawn in place, its attributes as
    texts (a room tag's name)."""
    block, layer = e.dxf.name, e.dxf.get("layer", "0")
    inner = _block_entities(e)
    nested_desks = any(
        v.dxftype() == "INSERT" and _is_desk_block(v.dxf.name) for v in inner
    )
    if (kind == "desks" or _is_desk_block(block)) and not nested_desks:
        sheet.shapes.append(_desk_insert(e, sheet.scale))
        return
    label = _attrib_label(e)
    if label:
        x, y = e.dxf.insert.x, e.dxf.insert.y
        sheet.texts.append((Point(x * sheet.scale, y * sheet.scale), label))
    if _is_xref(e):
        sheet.skipped[
            f"INSERT of external reference {block!r} on layer {layer} (bind the "
            "xref in CAD, or import the referenced drawing)"
        ] += 1
        return
    if depth >= _MAX_NESTING:
        sheet.skipped[f"INSERT of block {block!r} (nested too deep)"] += 1
        return
    part = _Sheet(sheet.name, sheet.scale)
    for v in inner:
        if v.dxf.get("layer", "0") == "0":  # layer 0 in a block: the insert's
            v.dxf.layer = layer
        _take(part, v, layers, depth + 1)
    sheet.texts += part.texts
    if part.shapes:
        sheet.shapes += part.shapes
        sheet.skipped.update(part.skipped)
    elif not label:
        sheet.skipped[f"INSERT of block {block!r} on layer {layer}"] += 1


def _block_entities(e: Any) -> list[Any]:
    """The block's entities placed as this insert places them (WCS)."""
    try:
        return list(e.virtual_entities())
    except (DXFError, ValueError, TypeError, ZeroDivisionError) as exc:
        logger.debug("cannot open block %s: %s", e.dxf.name, exc)
        return []


def _is_xref(e: Any) -> bool:
    block = e.block()
    return bool(block is not None and block.block.is_xref)


_LABEL_TAGS = ("NAME", "NAAM", "ROOM", "ROOMNAME", "RUIMTE", "RUIMTENAAM", "LABEL")


def _attrib_label(e: Any) -> str | None:
    """A room tag block's name: the attribute tagged NAME/NAAM/ROOM... (else
    the first non-empty one)."""
    values = [
        (a.dxf.tag.upper(), " ".join(a.dxf.text.split()))
        for a in getattr(e, "attribs", [])
    ]
    values = [(t, v) for t, v in values if v]
    named = [v for t, v in values if t in _LABEL_TAGS]
    found = named or [v for _, v in values]
    return found[0] if found else None


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
    """Where the label sits and what it says. An aligned TEXT (centred, as
    room tags are) is placed by its alignment point; writers may leave the
    insert point at 0,0 for those."""
    if e.dxftype() == "MTEXT":
        # A room tag's lines: name, number, area; the name is what is not a
        # number or an area (else everything).
        lines = [" ".join(t.split()) for t in e.plain_text().splitlines()]
        words = [t for t in lines if t and not _MEASURE.match(t)]
        content = " ".join(words or lines)
        at = e.dxf.insert
    else:
        content = e.dxf.text
        aligned = e.dxf.get("halign", 0) or e.dxf.get("valign", 0)
        at = e.dxf.get("align_point") if aligned else None
        at = at if at is not None else e.dxf.insert
    return Point(at.x * scale, at.y * scale), " ".join(str(content).split())


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
    """Drop repeated outlines (a room drawn as a polyline and hatched too),
    name areas and zones from the texts inside them (each text names the
    smallest outline holding it, so a room's tag does not name the open
    office around it); texts that named nothing are not listed (annotations),
    unused entities are, with counts."""
    shapes = _unique_outlines(sheet)
    polys = [
        (s, Polygon(s.outline))
        for s in shapes
        if s.kind != "desk" and len(s.outline) > 2
    ]
    polys = [(s, p) for s, p in polys if p.is_valid and p.area > 0]
    polys.sort(key=lambda sp: sp[1].area)
    texts: dict[int, list[str]] = {}
    for point, text in sheet.texts:
        holder = next((s for s, p in polys if text and p.contains(point)), None)
        if holder is not None:
            texts.setdefault(id(holder), []).append(text)
    for s, _ in polys:
        if not s.name and id(s) in texts:
            s.name = _pick_label(texts[id(s)])
    unclassified = [f"{n} × {what}" for what, n in sorted(sheet.skipped.items())]
    return PlanFloor(sheet.name, level, shapes, unclassified)


_MEASURE = re.compile(r"^[\d\s.,+-]*(m²|m2|sq\.?\s*ft|sf|ft²)?$", re.I)


def _pick_label(texts: list[str]) -> str:
    """Of a room tag's lines (name, number, area), the name: a text that says
    what the room is, else the first that is not a number or an area."""
    words = [t for t in texts if not _MEASURE.match(t)]
    known = [t for t in words if classify_name(t) is not None]
    return (known or words or texts)[0]


def _unique_outlines(sheet: _Sheet) -> list[Shape]:
    """The same outline twice (polyline + hatch, or a room on two layers)
    is one shape; the repeat is listed."""
    out: list[Shape] = []
    kept: list[tuple[Shape, Polygon]] = []
    for s in sheet.shapes:
        poly = Polygon(s.outline) if len(s.outline) > 2 else None
        if s.kind != "desk" and poly is not None and poly.is_valid and poly.area:
            twin = next(
                (
                    k
                    for k, kp in kept
                    if kp.symmetric_difference(poly).area < 0.01 * poly.area
                ),
                None,
            )
            if twin is not None:
                sheet.skipped[f"{s.source} (same outline as {twin.source})"] += 1
                if twin.kind == "area" and s.kind == "zone":
                    twin.kind = "zone"
                continue
            kept.append((s, poly))
        out.append(s)
    return out
