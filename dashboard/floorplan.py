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

__all__ = [
    "FLOOR_GAP_M",
    "LIVE_STATES",
    "MEASURE_STEP_PCT",
    "SPACE_MARKERS",
    "SPACE_NAMES",
    "floor_figure",
    "rings",
]

#: Vertical gap between stacked floors [m].
FLOOR_GAP_M = 6.0
#: Live states in legend order.
LIVE_STATES = ("occupied", "free", "unknown", "offline")
#: Opacity of a neighbourhood's department tint.
TINT_ALPHA = 0.22
#: A measure's fill is the Cividis colour of its nearest step [%] (0, 5, ...,
#: 100: 21 filled traces at most); the hover label and the colour bar are exact.
MEASURE_STEP_PCT = 5.0
#: Fill of a space without a value.
NO_VALUE = "rgba(255,255,255,0.9)"
#: Trace names: the spaces' hover/click markers (customdata: space_id, kind),
#: the desk and room names shown on zoom (``assets/floormap.js``), zone names.
SPACE_MARKERS = "spaces"
SPACE_NAMES = "space names"
ZONE_NAMES = "zone names"


def _rgba(color: object, alpha: float) -> str:
    """``#RRGGBB`` at ``alpha``; a missing or malformed colour is grey."""
    c = color.lstrip("#") if isinstance(color, str) else ""
    if len(c) != 6:
        return f"rgba(150,150,150,{alpha})"
    r, g, b = (int(c[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


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


def rings(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The outline of every row of ``frame`` (zones or spaces: its ``polygon``
    when set, else its rectangle) as points in row order, each outline closed
    and followed by a gap (NaN): (owner row, x, y, vertex). ``vertex`` is
    False on the closing point and the gap. Rectangles are built at once;
    only rows with a polygon are read one by one (metadata, not events)."""
    n = len(frame)
    polys = frame["polygon"].tolist() if "polygon" in frame.columns else [None] * n
    parsed = [_polygon(p) for p in polys]
    has = np.array([p is not None for p in parsed], dtype=bool)
    rect = np.flatnonzero(~has)
    x, y, w, h = (
        pd.to_numeric(frame[k], errors="coerce").to_numpy(dtype=float)[rect]
        for k in ("x", "y", "width", "height")
    )
    gap = np.full(len(rect), np.nan)
    parts = [
        (
            np.repeat(rect, 6),
            np.stack([x, x + w, x + w, x, x, gap], axis=1).ravel(),
            np.stack([y, y, y + h, y + h, y, gap], axis=1).ravel(),
            np.tile([True, True, True, True, False, False], len(rect)),
        )
    ]
    for i in np.flatnonzero(has):
        pts = np.asarray(parsed[i], dtype=float)
        k = len(pts)
        parts.append(
            (
                np.full(k + 2, i),
                np.r_[pts[:, 0], pts[0, 0], np.nan],
                np.r_[pts[:, 1], pts[0, 1], np.nan],
                np.r_[np.ones(k, dtype=bool), False, False],
            )
        )
    owner, px, py, vertex = (np.concatenate(c) for c in zip(*parts, strict=True))
    order = np.argsort(owner, kind="stable")
    return owner[order], px[order], py[order], vertex[order]


def _polygon(poly: object) -> list[Any] | None:
    """A ``polygon`` value ([[x, y], ...], or its JSON text) with at least 3
    points, else None (the rectangle is used)."""
    if isinstance(poly, str):  # jsonb read back as text
        poly = json.loads(poly)
    if isinstance(poly, list | tuple) and len(poly) >= 3:
        return [(float(p[0]), float(p[1])) for p in poly]
    return None


def _coords(values: np.ndarray) -> list[float | None]:
    """Coordinates for the figure: 2 decimals, gaps as null."""
    r = np.round(values, 2).astype(object)
    r[pd.isna(r)] = None
    out: list[float | None] = r.tolist()
    return out


def _fill_trace(
    x: np.ndarray, y: np.ndarray, fill: str, line: dict[str, Any], name: str
) -> dict[str, Any]:
    """One filled trace drawing every outline of ``x, y`` (separated by gaps)."""
    return {
        "type": "scatter",
        "x": _coords(x),
        "y": _coords(y),
        "mode": "lines",
        "fill": "toself",
        "fillcolor": fill,
        "line": line,
        "hoverinfo": "skip",
        "showlegend": False,
        "name": name,
    }


def _grouped_fills(
    owner: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    fills: np.ndarray,
    line: dict[str, Any],
    name: str,
) -> list[dict[str, Any]]:
    """One filled trace per distinct fill colour (``fills``: per row)."""
    out = []
    for color in pd.unique(fills):
        keep = (fills == color)[owner]
        out.append(_fill_trace(x[keep], y[keep], str(color), line, name))
    return out


def _zone_layers(
    zones: pd.DataFrame, offsets: dict[str, float], dept_colors: dict[str, str]
) -> list[dict[str, Any]]:
    """Zone outlines (neighbourhoods tinted: one trace per tint) and their
    names (one text trace)."""
    if zones.empty:
        return []
    zones = zones.reset_index(drop=True)
    owner, x, y, _ = rings(zones)
    off = zones["floor_id"].astype(str).map(offsets).fillna(0.0).to_numpy(dtype=float)
    y = y + off[owner]
    tints = {d: _rgba(c, TINT_ALPHA) for d, c in dept_colors.items()}
    fills = zones["department_id"].map(tints).fillna("rgba(0,0,0,0.04)").to_numpy()
    line = {"color": "#777", "width": 1, "dash": "dot"}
    traces = _grouped_fills(owner, x, y, fills, line, "zones")
    corner = pd.DataFrame({"o": owner, "x": x, "y": y}).groupby("o").min()
    names = zones["name"].where(zones["name"].notna(), zones["zone_id"])
    traces.append(
        {
            "type": "scatter",
            "x": _coords(corner["x"].to_numpy() + 0.3),
            "y": _coords(corner["y"].to_numpy() + 0.2),
            "mode": "text",
            "text": names.astype(str).tolist(),
            "textposition": "bottom right",
            "textfont": {"size": 10, "color": "#222"},
            "hoverinfo": "skip",
            "showlegend": False,
            "name": ZONE_NAMES,
        }
    )
    return traces


def _space_colors(
    values: pd.Series, measure: str, language: str
) -> tuple[np.ndarray, list[str]]:
    """Fill colour and hover label of each space for the measure. A measure
    is coloured in steps of :data:`MEASURE_STEP_PCT` (the nearest step's
    Cividis colour: one trace per step), the hover label is exact."""
    if measure == "live":
        states = values.fillna("unknown").astype(str)
        colors = states.map(LIVE_COLORS).fillna(LIVE_COLORS["unknown"])
        names = {s: t(f"live_{s}", language) for s in pd.unique(states)}
        return colors.to_numpy(dtype=object), states.map(names).tolist()
    num = pd.to_numeric(values, errors="coerce")
    steps = round(100 / MEASURE_STEP_PCT)
    palette = np.array(
        [
            *sample_colorscale(SEQUENTIAL, np.linspace(0, 1, steps + 1).tolist()),
            NO_VALUE,
        ],
        dtype=object,
    )
    step = np.round(num.clip(0, 100).to_numpy(dtype=float) / MEASURE_STEP_PCT)
    idx = np.where(np.isnan(step), steps + 1, step).astype(int)
    labels = ["–" if np.isnan(v) else f"{v:.1f} %" for v in num.to_numpy(dtype=float)]
    return palette[idx], labels


def floor_figure(
    spaces: pd.DataFrame,
    zones: pd.DataFrame,
    floors: pd.DataFrame,
    departments: pd.DataFrame,
    values: pd.Series,
    measure: str,
    language: str,
) -> dict[str, object]:
    """The floors stacked top to bottom (a figure dict: no validation).
    ``spaces`` and ``zones`` carry their geometry (x, y, width, height and
    optionally polygon); ``values`` is indexed by space_id: a number (0-100 %)
    or, for ``measure == "live"``, a state of :data:`LIVE_STATES`. Spaces
    without a value are drawn white. Outlines are filled traces, one per
    colour (not one layout shape per space: plotly lays out every shape on
    each draw), under the hover markers and the names."""
    if spaces.empty:
        return dict(empty_figure(t("empty_no_data", language)).to_dict())
    offsets, shapes, notes, height = _floor_offsets(floors)
    colors = dict(zip(departments["department_id"], departments["color"], strict=True))
    data = _zone_layers(zones, offsets, colors)
    sp = spaces.reset_index(drop=True)
    vals = sp["space_id"].map(values)
    fills, labels = _space_colors(vals, measure, language)
    owner, x, y, vertex = rings(sp)
    off = sp["floor_id"].astype(str).map(offsets).fillna(0.0).to_numpy(dtype=float)
    y = y + off[owner]
    line = {"color": "#333", "width": 0.6}
    data[-1:-1] = _grouped_fills(owner, x, y, fills, line, "space outlines")
    n = np.bincount(owner[vertex], minlength=len(sp))
    cx = np.bincount(owner[vertex], weights=x[vertex], minlength=len(sp)) / n
    cy = np.bincount(owner[vertex], weights=y[vertex], minlength=len(sp)) / n
    data += _traces(sp, _coords(cx), _coords(cy), vals, labels, measure, language)
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
    cx: list[float | None],
    cy: list[float | None],
    vals: pd.Series,
    labels: list[str],
    measure: str,
    language: str,
) -> list[dict[str, Any]]:
    """The hover/click markers of the spaces, and the desk and room names
    (hidden until zoomed in: ``assets/floormap.js``)."""
    kinds = [tv("k", k, language) for k in sp["kind"]]
    head = t("m_live" if measure == "live" else f"m_{measure}", language)
    hover = [
        f"<b>{n}</b> ({k})<br>{t('m_capacity', language)}: {c}<br>{head}: {v}"
        for n, k, c, v in zip(sp["name"], kinds, sp["capacity"], labels, strict=True)
    ]
    out: list[dict[str, Any]] = [
        {
            # Drawn as nothing (no 2,000 invisible marker elements): plotly
            # still finds the nearest point for hover and click.
            "type": "scatter",
            "x": cx,
            "y": cy,
            "mode": "none",
            "hoveron": "points",
            "customdata": [
                [a, b] for a, b in zip(sp["space_id"], sp["kind"], strict=True)
            ],
            "hovertext": hover,
            "hoverinfo": "text",
            "hoverlabel": {"bgcolor": "#FFFFFF", "font": {"color": "#111"}},
            "name": SPACE_MARKERS,
            "showlegend": False,
        },
    ]
    if measure != "live":
        out.append(_colour_bar(head))
    return [
        *out,
        {
            "type": "scatter",
            "x": cx,
            "y": cy,
            "mode": "text",
            "text": sp["name"].astype(str).tolist(),
            "textfont": {"size": 9, "color": "#111"},
            "hoverinfo": "skip",
            "visible": False,
            "name": SPACE_NAMES,
            "showlegend": False,
        },
    ]


def _colour_bar(head: str) -> dict[str, Any]:
    """The colour bar of the measure (one point, not drawn)."""
    return {
        "type": "scatter",
        "x": [None],
        "y": [None],
        "mode": "markers",
        "marker": {
            "color": [0],
            "colorscale": SEQUENTIAL,
            "cmin": 0,
            "cmax": 100,
            "showscale": True,
            "colorbar": {"title": {"text": head}, "thickness": 12},
        },
        "hoverinfo": "skip",
        "name": "colour bar",
        "showlegend": False,
    }


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
