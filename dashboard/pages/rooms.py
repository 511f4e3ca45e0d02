"""Meeting rooms: right-sizing (head count while occupied vs seats), and where
bookings are known, no-shows and unbooked use."""

from __future__ import annotations

import logging

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, callback, html

from analytics import api
from dashboard.app import (
    QueryValue,
    current_filters,
    error_banner,
    initial_outputs,
    lang,
    query_search,
)
from dashboard.components import Col, empty, fmt_pct, graph, grid, kpi, page_title
from dashboard.data import AnalyticsUnavailable, current
from dashboard.i18n import t, tv
from dashboard.theme import OKABE_ITO, base_layout, empty_figure, styled

logger = logging.getLogger(__name__)

dash.register_page(  # type: ignore[no-untyped-call]
    __name__,
    path="/rooms",
    name="Meeting rooms",
    order=3,
    title=lambda **_: page_title("nav_rooms"),
)

VERDICT_COLUMNS = [
    Col("name", "col_room"),
    Col("verdict_label", "col_verdict"),
    Col("seats", "col_seats", "int"),
    Col("p90_people", "col_p90_people", "int"),
    Col("recommended_seats", "col_recommended", "int"),
    Col("seats_change", "col_seats_change", "int"),
    Col("mean_people", "col_mean_people", "num1"),
    Col("occupied_s", "col_occupied", "dur"),
]
BOOKING_COLUMNS = [
    Col("name", "col_room"),
    Col("bookings", "col_bookings", "int"),
    Col("booked_s", "col_booked", "dur"),
    Col("no_show_pct", "col_no_show", "pct"),
    Col("unbooked_use_pct", "col_unbooked", "pct"),
]
#: Verdicts in the order a facility manager acts on them.
VERDICT_ORDER = {"too_small": 0, "too_big": 1, "right": 2}


def sizing_figure(sizing: pd.DataFrame, language: str) -> go.Figure:
    """Per room: seats vs mean and 90th-percentile head count while occupied."""
    if sizing.empty:
        return empty_figure(t("empty_no_data", language))
    frame = sizing.sort_values(["seats", "space_id"])
    label = frame["name"] if "name" in frame.columns else frame["space_id"]
    traces = [
        go.Bar(
            name=t("m_capacity", language),
            x=label,
            y=frame["seats"],
            marker_color="#BBBBBB",
        ),
        go.Bar(
            name=t("rooms_mean_people", language),
            x=label,
            y=frame["mean_people"],
            marker_color=OKABE_ITO[4],
        ),
        go.Bar(
            name=t("rooms_p90_people", language),
            x=label,
            y=frame["p90_people"],
            marker_color=OKABE_ITO[5],
        ),
    ]
    fig = go.Figure(traces)
    styled(
        fig,
        **base_layout(
            height=360,
            barmode="group",
            title=t("rooms_sizing", language),
            legend={"orientation": "h", "y": -0.35},
        ),
        yaxis_title=t("m_people", language),
    )
    return fig


#: summary column -> weight column (the time the percentage is a share of).
SUMMARY_WEIGHTS = {
    "half_or_less_pct": "occupied_s",
    "no_show_pct": "booked_s",
    "unbooked_use_pct": "occupied_s",
}


def rooms_summary(sizing: pd.DataFrame) -> dict[str, float | None]:
    """Over all rooms, each percentage weighted by the time it is a share of:
    meetings using at most half the seats and unbooked use by occupied time,
    no-shows by booked time [%]. Columns that are absent are left out."""
    out: dict[str, float | None] = {}
    for col, wcol in SUMMARY_WEIGHTS.items():
        if col not in sizing.columns or wcol not in sizing.columns:
            continue
        v = pd.to_numeric(sizing[col], errors="coerce")
        w = pd.to_numeric(sizing[wcol], errors="coerce").fillna(0.0)
        ok = v.notna() & (w > 0)
        out[col] = float((v[ok] * w[ok]).sum() / w[ok].sum()) if ok.any() else None
    return out


def layout(**query: QueryValue) -> html.Div:
    """The page with its figure, for the URL's filters (``query``)."""
    language = lang()
    out = initial_outputs(update_rooms, query_search(query))
    kpis, sizing, verdicts, bookings = out or (None, None, None, None)
    rule = t(
        "rooms_rule",
        language,
        margin=api.SIZING_MARGIN_PCT,
        spare=api.SIZING_SPARE_SEATS,
    )
    return html.Div(
        [
            *([] if out else [error_banner(language)]),
            html.H2(t("nav_rooms", language)),
            html.Div(kpis, id="rooms-kpis", className="kpis"),
            graph("rooms-sizing", sizing),
            html.H3(t("rooms_verdicts", language)),
            html.P(rule, className="note", id="rooms-rule"),
            html.Div(verdicts, id="rooms-verdicts"),
            html.H3(t("rooms_bookings", language)),
            html.Div(bookings, id="rooms-bookings"),
        ]
    )


@callback(
    Output("rooms-kpis", "children"),
    Output("rooms-sizing", "figure"),
    Output("rooms-verdicts", "children"),
    Output("rooms-bookings", "children"),
    Input("app-url", "search"),
    prevent_initial_call=True,  # the layout has them
)
def update_rooms(
    search: str | None,
) -> tuple[list[html.Div], go.Figure, html.Div, html.Div]:
    data = current()
    language = lang()
    f = current_filters(search)
    try:
        sizing = data.read(api.read_room_sizing, f)
    except AnalyticsUnavailable as exc:
        msg = t("empty_no_analytics", language, why=str(exc))
        return [empty(msg)], empty_figure(msg), empty(msg), empty(msg)
    if sizing.empty:
        msg = t("empty_no_data", language)
        return [empty(msg)], empty_figure(msg), empty(msg), empty(msg)
    names = data.metadata()["spaces"][["space_id", "name"]]
    if "name" not in sizing.columns:
        sizing = sizing.merge(names, on="space_id", how="left")
    summary = rooms_summary(sizing)
    labels = {
        "half_or_less_pct": "m_small_meetings_pct",
        "no_show_pct": "m_no_show_pct",
        "unbooked_use_pct": "m_unbooked_pct",
    }
    cards = [
        kpi(t(labels[k], language), fmt_pct(v, language=language), id_=f"rooms-kpi-{k}")
        for k, v in summary.items()
    ]
    ordered = sizing.assign(
        verdict_label=[tv("v", v, language) for v in sizing["verdict"]],
        _order=sizing["verdict"].map(VERDICT_ORDER),
    ).sort_values(["_order", "seats_change", "name"])
    verdicts = grid("rooms-verdict-table", ordered, VERDICT_COLUMNS, language)
    has_bookings = (
        "booked_s" in sizing.columns
        and pd.to_numeric(sizing["booked_s"], errors="coerce").fillna(0).sum() > 0
    )
    if has_bookings:
        booked = sizing.dropna(subset=["bookings"]).sort_values("name")
        bookings = grid("rooms-booking-table", booked, BOOKING_COLUMNS, language)
    else:
        bookings = empty(t("empty_no_bookings", language), id_="rooms-no-bookings")
    return cards, sizing_figure(sizing, language), verdicts, bookings
