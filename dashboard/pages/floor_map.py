"""Floor map: every desk and room of the building file as a rectangle, coloured
by the chosen measure or by live state; hover for details, click to open the
space's history."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import dash
import numpy as np
import pandas as pd
from dash import Input, Output, State, callback, dcc, html
from plotly.colors import sample_colorscale

from dashboard.analytics_api import call, live_state
from dashboard.app import (
    current_filters,
    error_banner,
    initial_outputs,
    lang,
    query_search,
)
from dashboard.components import graph, page_title
from dashboard.data import AnalyticsUnavailable, current
from dashboard.filters import ViewFilters, with_query
from dashboard.i18n import t
from dashboard.selection import live_states, select_spaces
from dashboard.theme import LIVE_COLORS, SEQUENTIAL, base_layout, empty_figure

logger = logging.getLogger(__name__)

dash.register_page(  # type: ignore[no-untyped-call]
    __name__,
    path="/floor-map",
    name="Floor map",
    order=1,
    title=lambda **_: page_title("nav_floor_map"),
)

MEASURES = ("time_used_pct", "utilization_pct", "live")
DEFAULT_MEASURE = "time_used_pct"
#: Vertical gap between stacked floors [m].
FLOOR_GAP_M = 6.0


def floor_figure(
    spaces: pd.DataFrame,
    zones: pd.DataFrame,
    floors: pd.DataFrame,
    zone_geometry: pd.DataFrame,
    values: pd.Series,
    measure: str,
    language: str,
) -> Any:
    """The floors stacked top to bottom, each space a rectangle (a figure dict).

    ``values`` is indexed by space_id: a number (0-100 %) for a measure, or a
    state (occupied, free, unknown) for ``measure == "live"``. Spaces without a
    value are drawn hollow. ``zone_geometry`` has zone_id, x, y, width, height.
    """
    if spaces.empty:
        return empty_figure(t("empty_no_data", language)).to_dict()
    floors = floors.sort_values("level", ascending=False)
    offsets: dict[str, float] = {}
    y0 = 0.0
    annotations = []
    floor_rows: list[dict[Any, Any]] = list(floors.to_dict("records"))
    for row in floor_rows:
        offsets[str(row["floor_id"])] = y0
        annotations.append(
            {
                "x": 0,
                "y": y0 - 1.0,
                "text": f"<b>{row['name']}</b>",
                "showarrow": False,
                "xanchor": "left",
                "yanchor": "bottom",
            }
        )
        y0 += float(row["height_m"]) + FLOOR_GAP_M
    sp = spaces.assign(top=spaces["y"] + spaces["floor_id"].map(offsets))
    shapes: list[dict[str, Any]] = []
    for floor in floor_rows:
        off = offsets[str(floor["floor_id"])]
        shapes.append(
            {
                "type": "rect",
                "x0": 0,
                "x1": float(floor["width_m"]),
                "y0": off,
                "y1": off + float(floor["height_m"]),
                "line": {"color": "#444", "width": 1.5},
                "fillcolor": "rgba(0,0,0,0)",
                "layer": "below",
            }
        )
    zg = zone_geometry[zone_geometry["zone_id"].isin(zones["zone_id"])].merge(
        zones[["zone_id", "floor_id"]], on="zone_id"
    )
    zone_rows: list[dict[Any, Any]] = list(zg.to_dict("records"))
    for z in zone_rows:
        off = offsets.get(str(z["floor_id"]), 0.0)
        x, y, w, h = (float(z[k]) for k in ("x", "y", "width", "height"))
        shapes.append(
            {
                "type": "rect",
                "x0": x,
                "x1": x + w,
                "y0": off + y,
                "y1": off + y + h,
                "line": {"color": "#999", "width": 1, "dash": "dot"},
                "fillcolor": "rgba(0,0,0,0)",
                "layer": "below",
            }
        )
    vals = sp["space_id"].map(values)
    if measure == "live":
        colors = vals.map(LIVE_COLORS).fillna(LIVE_COLORS["unknown"])
        labels = vals.fillna("unknown").map(lambda s: t(str(s), language))
    else:
        num = pd.to_numeric(vals, errors="coerce")
        clipped = num.clip(0, 100) / 100.0
        colors = pd.Series("rgba(0,0,0,0)", index=sp.index)
        ok = clipped.notna()
        if ok.any():
            colors[ok] = sample_colorscale(SEQUENTIAL, clipped[ok].tolist())
        labels = num.map(lambda v: "–" if pd.isna(v) else f"{v:.1f} %")
    space_rows: list[dict[Any, Any]] = list(
        sp[["x", "width", "top", "height"]].to_dict("records")
    )
    for rec, color in zip(space_rows, colors.tolist(), strict=True):
        x, w, top, h = (float(rec[k]) for k in ("x", "width", "top", "height"))
        shapes.append(
            {
                "type": "rect",
                "x0": x,
                "x1": x + w,
                "y0": top,
                "y1": top + h,
                "line": {"color": "#333", "width": 0.5},
                "fillcolor": color,
            }
        )
    cx = sp["x"] + sp["width"] / 2
    cy = sp["top"] + sp["height"] / 2
    hover = (
        "<b>"
        + sp["name"].astype(str)
        + "</b> ("
        + sp["kind"].astype(str)
        + ")<br>"
        + t("m_capacity", language)
        + ": "
        + sp["capacity"].astype(str)
        + "<br>"
        + t("m_live" if measure == "live" else f"m_{measure}", language)
        + ": "
        + labels.astype(str)
    )
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
            colorbar={"title": {"text": t(f"m_{measure}", language)}, "thickness": 12},
        )
    # A plain dict, not go.Figure: validating ~350 shapes costs ~200 ms a call.
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "x": cx.round(3).tolist(),
            "y": cy.round(3).tolist(),
            "mode": "markers",
            "marker": marker,
            "customdata": [
                [a, b] for a, b in zip(sp["space_id"], sp["kind"], strict=True)
            ],
            "hovertext": hover.tolist(),
            "hoverinfo": "text",
            "name": "spaces",
            "showlegend": False,
        }
    ]
    if measure == "live":
        for state, color in LIVE_COLORS.items():
            data.append(
                {
                    "type": "scatter",
                    "x": [None],
                    "y": [None],
                    "mode": "markers",
                    "name": t(state, language),
                    "marker": {"color": color, "symbol": "square", "size": 12},
                }
            )
    width = float(floors["width_m"].max())
    layout = {
        **base_layout(height=int(max(350, 14 * y0))),
        "shapes": shapes,
        "annotations": annotations,
        "xaxis": {"visible": False, "range": [-1, width + 1]},
        "yaxis": {"visible": False, "autorange": "reversed", "scaleanchor": "x"},
        "legend": {"orientation": "h", "y": 1.02, "x": 0},
        "clickmode": "event",
        "dragmode": "pan",
    }
    return {"data": data, "layout": layout}


def space_values(measure: str, f: ViewFilters, spaces: pd.DataFrame) -> pd.Series:
    """space_id -> value of ``measure`` over the filters' period (from analytics)."""
    data = current()
    if measure == "live":
        live = live_state(data, dt.datetime.now(dt.UTC))
        if live is None or len(live) == 0:
            return pd.Series(dtype=object)
        states: pd.Series = live_states(live).set_index("space_id")["state"]
        return states
    frame = read_space_measure(f)
    if frame.empty or measure not in frame.columns:
        return pd.Series(dtype=float)
    return frame.set_index("space_id")[measure]


def read_space_measure(f: ViewFilters) -> pd.DataFrame:
    """Per-space utilization rollup of the period (analytics.store.read_utilization)."""
    return call(current(), "read_utilization", f, level="space")


def layout(**query: Any) -> html.Div:
    """The page with its map, for the URL's filters (``query``)."""
    language = lang()
    search = query_search(query)
    out = initial_outputs(update_floor_map, search, DEFAULT_MEASURE, None)
    fig, note, tick_off = out or (None, None, True)
    return html.Div(
        [
            *([] if out else [error_banner(language)]),
            html.H2(t("nav_floor_map", language)),
            html.Div(
                [
                    html.Div(
                        [
                            html.Label(t("f_measure", language)),
                            dcc.RadioItems(
                                id="floormap-measure",
                                options=[  # type: ignore[arg-type]
                                    {
                                        "label": " "
                                        + t(
                                            f"m_{m}" if m != "live" else "m_live",
                                            language,
                                        ),
                                        "value": m,
                                    }
                                    for m in MEASURES
                                ],
                                value=DEFAULT_MEASURE,
                                inline=True,
                            ),
                        ]
                    ),
                    html.Div(t("floor_map_hint", language), className="empty"),
                ],
                className="page-controls",
            ),
            html.Div(note, id="floormap-note", className="empty"),
            graph("floormap-graph", fig, scrollZoom=True),
            dcc.Interval(id="floormap-tick", interval=60_000, disabled=tick_off),
            dcc.Location(id="floormap-go", refresh="callback-nav"),
        ]
    )


@callback(
    Output("floormap-graph", "figure"),
    Output("floormap-note", "children"),
    Output("floormap-tick", "disabled"),
    Input("app-url", "search"),
    Input("floormap-measure", "value"),
    Input("floormap-tick", "n_intervals"),
    prevent_initial_call=True,  # the layout has them
)
def update_floor_map(
    search: str | None, measure: str | None, _tick: int | None
) -> tuple[Any, ...]:
    data = current()
    language = lang()
    f = current_filters(search)
    measure = measure if measure in MEASURES else DEFAULT_MEASURE
    meta = data.metadata()
    spaces, zones, floors = select_spaces(meta, f)
    note = ""
    try:
        values = space_values(measure, f, spaces)
        if values.empty:
            note = t("empty_no_data", language)
    except AnalyticsUnavailable as exc:
        values = pd.Series(dtype=object)
        note = t("empty_no_analytics", language, why=str(exc))
    geometry = zone_geometry(data)
    fig = floor_figure(spaces, zones, floors, geometry, values, measure, language)
    return fig, note, measure != "live"


def zone_geometry(data: Any) -> pd.DataFrame:
    """zone_id, x, y, width, height (cached with the metadata)."""
    meta = data.metadata()
    if "zone_geometry" not in meta:
        from occupancy.db import read_frame

        with data.connection() as conn:
            meta["zone_geometry"] = read_frame(
                conn, "SELECT zone_id, x, y, width, height FROM zones"
            )
    geometry: pd.DataFrame = meta["zone_geometry"]
    return geometry


@callback(
    Output("floormap-go", "href"),
    Input("floormap-graph", "clickData"),
    State("app-url", "search"),
    prevent_initial_call=True,
)
def open_space(click: dict[str, Any] | None, search: str | None) -> str:
    """Clicking a space opens its history (keeps the filters)."""
    if not click or not click.get("points"):
        raise dash.exceptions.PreventUpdate
    custom = click["points"][0].get("customdata")
    if not custom:
        raise dash.exceptions.PreventUpdate
    return "/space" + with_query(search, space=str(custom[0]))
