"""Floor map: every zone, desk and room of the building file as its polygon
(or rectangle), neighbourhoods tinted by department, coloured by the chosen
measure or by live state (occupied, vacant, unknown, offline); hover for
details, zoom in for desk names, click to open the space's history."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TypedDict

import dash
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from analytics import api
from dashboard.app import (
    QueryValue,
    current_filters,
    error_banner,
    initial_outputs,
    lang,
    query_search,
)
from dashboard.components import graph, page_title
from dashboard.data import AnalyticsUnavailable, DashboardData, current
from dashboard.filters import ViewFilters, with_query
from dashboard.floorplan import floor_figure
from dashboard.i18n import t
from dashboard.selection import select_spaces, space_live_states
from occupancy.db import Connection

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


def space_values(measure: str, f: ViewFilters, spaces: pd.DataFrame) -> pd.Series:
    """space_id -> value of ``measure`` over the filters' period (from analytics)."""
    data = current()
    if measure == "live":
        now = dt.datetime.now(dt.UTC)
        live = data.live_state(now)
        if live is None or len(live) == 0:
            return pd.Series(dtype=object)
        return space_live_states(
            live, data.devices(), now, data.settings.heartbeat_timeout_min
        )
    frame = read_space_measure(f)
    if frame.empty or measure not in frame.columns:
        return pd.Series(dtype=float)
    return frame.set_index("space_id")[measure]


def read_space_measure(f: ViewFilters) -> pd.DataFrame:
    """Per-space utilization rollup of the period (analytics.store.read_utilization)."""
    return current().read(api.read_utilization, f, level="space")


def layout(**query: QueryValue) -> html.Div:
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
            dcc.Store(id="floormap-labels"),
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
) -> tuple[dict[str, object], str, bool]:
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
    zone_geo, space_geo = geometry(data)
    zones = _without(zones, zone_geo, "zone_id").merge(
        zone_geo, on="zone_id", how="left"
    )
    spaces = spaces.drop(columns=["polygon"], errors="ignore").merge(
        space_geo, on="space_id", how="left"
    )
    fig = floor_figure(
        spaces, zones, floors, meta["departments"], values, measure, language
    )
    return fig, note, measure != "live"


def _has_polygon(conn: Connection, table: str) -> bool:
    """Whether ``table`` has the building model's optional ``polygon`` column."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = %s AND column_name = 'polygon'",
            (table,),
        )
        return cur.fetchone() is not None


def _without(frame: pd.DataFrame, geo: pd.DataFrame, key: str) -> pd.DataFrame:
    """``frame`` without the columns ``geo`` brings (the building metadata may
    carry the geometry already: the merge must not suffix it away)."""
    return frame.drop(columns=[c for c in geo.columns if c != key and c in frame])


def geometry(data: DashboardData) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(zones: zone_id, x, y, width, height, polygon; spaces: space_id,
    polygon), cached with the metadata. ``polygon`` ([[x, y], ...] in floor
    metres, or None) is read when the schema has the column, else None."""
    meta = data.metadata()
    if "zone_geometry" not in meta:
        from occupancy.db import read_frame

        with data.connection() as conn:
            # Two fixed texts per table: no value ever enters the SQL.
            meta["zone_geometry"] = read_frame(
                conn,
                "SELECT zone_id, x, y, width, height, polygon FROM zones"
                if _has_polygon(conn, "zones")
                else "SELECT zone_id, x, y, width, height, NULL AS polygon FROM zones",
            )
            meta["space_geometry"] = read_frame(
                conn,
                "SELECT space_id, polygon FROM spaces"
                if _has_polygon(conn, "spaces")
                else "SELECT space_id, NULL AS polygon FROM spaces",
            )
    return meta["zone_geometry"], meta["space_geometry"]


class ClickPoint(TypedDict, total=False):
    """The part of a Plotly click point this page reads."""

    customdata: list[object]


class ClickData(TypedDict, total=False):
    """Plotly's ``clickData``: the clicked points."""

    points: list[ClickPoint]


@callback(
    Output("floormap-go", "href"),
    Input("floormap-graph", "clickData"),
    State("app-url", "search"),
    prevent_initial_call=True,
)
def open_space(click: ClickData | None, search: str | None) -> str:
    """Clicking a space opens its history (keeps the filters)."""
    if not click or not click.get("points"):
        raise dash.exceptions.PreventUpdate
    custom = click["points"][0].get("customdata")
    if not custom:
        raise dash.exceptions.PreventUpdate
    return "/space" + with_query(search, space=str(custom[0]))


# Desk names appear when zoomed in to less than ~40 m across (client side).
dash.clientside_callback(
    dash.ClientsideFunction(namespace="floormap", function_name="labels"),
    Output("floormap-labels", "data"),
    Input("floormap-graph", "relayoutData"),
    prevent_initial_call=True,
)
