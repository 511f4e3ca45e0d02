"""The floor map's figure, built from the building's geometry (pure).

Every zone, desk and room is a polygon in floor coordinates (metres, y down):
its ``polygon`` when the building file gives one, else its rectangle. Floors
are stacked top to bottom. Neighbourhoods are tinted by their department's
colour (with a legend), zones are named, desks and rooms get their names
when zoomed in (``assets/floormap.js``), and each space is filled by the chosen
measure (0-100 %, Cividis) or by its live state.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
import pandas as pd
from plotly.colors import sample_colorscale

from dashboard.i18n import t, tv
from dashboard.theme import LIVE_COLORS, SEQUENTIAL, base_layout, empty_figure

logger = logging.getLogger(__name__)

__all__ = ["FLOOR_GAP_M", "LIVE_STATES", "floor_figure", "outline", "svg_path"]

#: Vertical gap between stacked floors [m].
FLOOR_GAP_M = 6.0
#: Live states in legend order.
LIVE_STATES = ("occupied", "free", "unknown", "offline")
#: Opacity of a neighbourhood's department tint.
TINT_ALPHA = 0.22
#: Index of the desk-label trace in the figure's data (assets/floormap.js).
LABEL_TRACE = 1


def outline(row: Any) -> list[tuple[float, float]]:
    """The polygon of a zone or space record: ``polygon`` when set, else the
    rectangle ``x, y, width, height`` [m]."""
    poly = row.get("polygon") if hasattr(row, "get") else None
    if isinstance(poly, str):  # jsonb read back as text
        poly = json.loads(poly)
    if isinstance(poly, list | tuple) and len(poly) >= 3:
        return [(float(p[0]), float(p[1])) for p in poly]
    x, y, w, h = (float(row[k]) for k in ("x", "y", "width", "height"))
    return [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]


def svg_path(points: list[tuple[float, float]], dy: float = 0.0) -> str:
    """An SVG path (closed) of ``points`` shifted down by ``dy`` [m]."""
    return "M " + " L ".join(f"{x:.2f},{y + dy:.2f}" for x, y in points) + " Z"


def _rgba(color: object, alpha: float) -> str:
    """``#RRGGBB`` at ``alpha``; a missing or malformed colour is grey."""
    c = color.lstrip("#") if isinstance(color, str) else ""
    if len(c) != 6:
        return f"rgba(150,150,150,{alpha})"
    r, g, b = (int(c[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _centroid(points: list[tuple[float, float]]) -> tuple[float, float]:
    xs, ys = zip(*points, strict=True)
    return float(np.mean(xs)), float(np.mean(ys))


def _floor_offsets(
    floors: pd.DataFrame,
) -> tuple[dict[str, float], list[dict[str, Any]], list[dict[Any, Any]], float]:
    """Offset of each floor (top floor first), the floors' outlines and name
    annotations, and the total height [m]."""
    offsets: dict[str, float] = {}
    shapes: list[dict[str, Any]] = []
    notes: list[dict[Any, Any]] = []
    y0 = 0.0
    for row in floors.sort_values("level", ascending=False).to_dict("records"):
        offsets[str(row["floor_id"])] = y0
        notes.append(
            {
                "x": 0,
                "y": y0 - 0.6,
                "text": f"<b>{row['name']}</b>",
                "showarrow": False,
                "xanchor": "left",
                "yanchor": "bottom",
                "font": {"size": 13},
            }
        )
        shapes.append(
            {
                "type": "rect",
                "x0": 0,
                "x1": float(row["width_m"]),
                "y0": y0,
                "y1": y0 + float(row["height_m"]),
                "line": {"color": "#444", "width": 1.5},
                "fillcolor": "rgba(0,0,0,0)",
                "layer": "below",
            }
        )
        y0 += float(row["height_m"]) + FLOOR_GAP_M
    return offsets, shapes, notes, y0


def _zone_layers(
    zones: pd.DataFrame, offsets: dict[str, float], dept_colors: dict[str, str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Zone outlines (neighbourhoods tinted) and their names."""
    shapes: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    for z in zones.to_dict("records"):
        off = offsets.get(str(z["floor_id"]), 0.0)
        pts = outline(z)
        dept = z.get("department_id")
        fill = (
            _rgba(dept_colors[dept], TINT_ALPHA)
            if isinstance(dept, str) and dept in dept_colors
            else "rgba(0,0,0,0.04)"
        )
        shapes.append(
            {
                "type": "path",
                "path": svg_path(pts, off),
                "line": {"color": "#777", "width": 1, "dash": "dot"},
                "fillcolor": fill,
                "layer": "below",
            }
        )
        x0 = min(p[0] for p in pts)
        y0 = min(p[1] for p in pts)
        notes.append(
            {
                "x": x0 + 0.3,
                "y": y0 + off + 0.2,
                "text": str(z.get("name") or z["zone_id"]),
                "showarrow": False,
                "xanchor": "left",
                "yanchor": "top",
                "font": {"size": 10, "color": "#222"},
            }
        )
    return shapes, notes


def _space_colors(
    values: pd.Series, measure: str, language: str
) -> tuple[list[str], list[str]]:
    """Fill colour and hover label of each space for the measure."""
    if measure == "live":
        states = values.fillna("unknown").astype(str)
        colors = states.map(LIVE_COLORS).fillna(LIVE_COLORS["unknown"])
        labels = states.map(lambda s: t(f"live_{s}", language))
        return colors.tolist(), labels.tolist()
    num = pd.to_numeric(values, errors="coerce")
    clipped = num.clip(0, 100) / 100.0
    colors = pd.Series("rgba(255,255,255,0.9)", index=values.index)
    ok = clipped.notna()
    if ok.any():
        colors[ok] = sample_colorscale(SEQUENTIAL, clipped[ok].tolist())
    labels = num.map(lambda v: "–" if pd.isna(v) else f"{v:.1f} %")
    return colors.tolist(), labels.tolist()


def floor_figure(
    spaces: pd.DataFrame,
    zones: pd.DataFrame,
    floors: pd.DataFrame,
    departments: pd.DataFrame,
    values: pd.Series,
    measure: str,
    language: str,
) -> dict[str, Any]:
    """The floors stacked top to bottom (a figure dict: no validation of
    thousands of shapes). ``spaces`` and ``zones`` carry their geometry (x, y,
    width, height and optionally polygon); ``values`` is indexed by space_id: a
    number (0-100 %) or, for ``measure == "live"``, a state of
    :data:`LIVE_STATES`. Spaces without a value are drawn white."""
    if spaces.empty:
        return dict(empty_figure(t("empty_no_data", language)).to_dict())
    offsets, shapes, notes, height = _floor_offsets(floors)
    colors = dict(zip(departments["department_id"], departments["color"], strict=True))
    z_shapes, z_notes = _zone_layers(zones, offsets, colors)
    shapes += z_shapes
    notes += z_notes
    sp = spaces.reset_index(drop=True)
    vals = sp["space_id"].map(values)
    fills, labels = _space_colors(vals, measure, language)
    cx: list[float] = []
    cy: list[float] = []
    for rec, fill in zip(sp.to_dict("records"), fills, strict=True):
        off = offsets.get(str(rec["floor_id"]), 0.0)
        pts = outline(rec)
        shapes.append(
            {
                "type": "path",
                "path": svg_path(pts, off),
                "line": {"color": "#333", "width": 0.6},
                "fillcolor": fill,
                "layer": "below",  # under the names and the hover markers
            }
        )
        x, y = _centroid(pts)
        cx.append(round(x, 2))
        cy.append(round(y + off, 2))
    data = _traces(sp, cx, cy, vals, labels, measure, language)
    data += _legend_traces(departments, zones, measure, language)
    width = float(floors["width_m"].max())
    layout = {
        **base_layout(height=int(max(380, 14 * height))),
        "shapes": shapes,
        "annotations": notes,
        "xaxis": {"visible": False, "range": [-1, width + 1]},
        "yaxis": {"visible": False, "autorange": "reversed", "scaleanchor": "x"},
        "legend": {"orientation": "h", "y": 1.0, "x": 0, "yanchor": "bottom"},
        "clickmode": "event",
        "dragmode": "pan",
        "uirevision": measure,
    }
    return {"data": data, "layout": layout}


def _traces(
    sp: pd.DataFrame,
    cx: list[float],
    cy: list[float],
    vals: pd.Series,
    labels: list[str],
    measure: str,
    language: str,
) -> list[dict[str, Any]]:
    """The hover/click markers of the spaces, and the desk and room names
    (hidden until zoomed in: :data:`LABEL_TRACE`)."""
    kinds = [tv("k", k, language) for k in sp["kind"]]
    head = t("m_live" if measure == "live" else f"m_{measure}", language)
    hover = [
        f"<b>{n}</b> ({k})<br>{t('m_capacity', language)}: {c}<br>{head}: {v}"
        for n, k, c, v in zip(sp["name"], kinds, sp["capacity"], labels, strict=True)
    ]
    marker: dict[str, Any] = {
        "size": np.where(sp["kind"] == "desk", 9, 16).tolist(),
        "symbol": "square",
        "opacity": 0.0,
    }
    if measure != "live":
        marker.update(
            color=pd.to_numeric(vals, errors="coerce").fillna(-1).clip(0, 100).tolist(),
            colorscale=SEQUENTIAL,
            cmin=0,
            cmax=100,
            showscale=True,
            colorbar={"title": {"text": head}, "thickness": 12},
        )
    return [
        {
            "type": "scatter",
            "x": cx,
            "y": cy,
            "mode": "markers",
            "marker": marker,
            "customdata": [
                [a, b] for a, b in zip(sp["space_id"], sp["kind"], strict=True)
            ],
            "hovertext": hover,
            "hoverinfo": "text",
            "name": "spaces",
            "showlegend": False,
        },
        {
            "type": "scatter",
            "x": cx,
            "y": cy,
            "mode": "text",
            "text": sp["name"].astype(str).tolist(),
            "textfont": {"size": 9, "color": "#111"},
            "hoverinfo": "skip",
            "visible": False,
            "name": "space names",
            "showlegend": False,
        },
    ]


def _legend_traces(
    departments: pd.DataFrame, zones: pd.DataFrame, measure: str, language: str
) -> list[dict[str, Any]]:
    """Legend entries: the departments whose neighbourhoods are shown (tint)
    and, in live mode, the states."""
    out: list[dict[str, Any]] = []
    shown = set(zones["department_id"].dropna().astype(str))
    for d in departments.to_dict("records"):
        if str(d["department_id"]) not in shown:
            continue
        out.append(
            {
                "type": "scatter",
                "x": [None],
                "y": [None],
                "mode": "markers",
                "name": str(d["name"]),
                "legendgroup": "departments",
                "legendgrouptitle": {"text": t("f_department", language)},
                "marker": {
                    "color": _rgba(d["color"], 0.5),
                    "symbol": "square",
                    "size": 14,
                    "line": {"color": "#777", "width": 1},
                },
            }
        )
    if measure == "live":
        for state in LIVE_STATES:
            out.append(
                {
                    "type": "scatter",
                    "x": [None],
                    "y": [None],
                    "mode": "markers",
                    "name": t(f"live_{state}", language),
                    "legendgroup": "live",
                    "legendgrouptitle": {"text": t("m_live", language)},
                    "marker": {
                        "color": LIVE_COLORS[state],
                        "symbol": "square",
                        "size": 14,
                    },
                }
            )
    return out
