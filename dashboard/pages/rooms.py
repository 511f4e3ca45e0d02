"""Meeting rooms: right-sizing (head count while occupied vs seats), and where
bookings are known, no-shows and unbooked use."""

from __future__ import annotations

import logging
from typing import Any

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, callback, html

from analytics import api
from dashboard.app import (
    current_filters,
    error_banner,
    initial_outputs,
    lang,
    query_search,
)
from dashboard.components import empty, fmt_pct, graph, kpi, table
from dashboard.data import AnalyticsUnavailable, current
from dashboard.i18n import t
from dashboard.theme import OKABE_ITO, base_layout, empty_figure, styled

logger = logging.getLogger(__name__)

dash.register_page(__name__, path="/rooms", name="Meeting rooms", order=3)  # type: ignore[no-untyped-call]


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


def layout(**query: Any) -> html.Div:
    """The page with its figure, for the URL's filters (``query``)."""
    language = lang()
    out = initial_outputs(update_rooms, query_search(query))
    kpis, sizing, bookings = out or (None, None, None)
    return html.Div(
        [
            *([] if out else [error_banner(language)]),
            html.H2(t("nav_rooms", language)),
            html.Div(kpis, id="rooms-kpis", className="kpis"),
            graph("rooms-sizing", sizing),
            html.H3(t("rooms_bookings", language)),
            html.Div(bookings, id="rooms-bookings"),
        ]
    )


@callback(
    Output("rooms-kpis", "children"),
    Output("rooms-sizing", "figure"),
    Output("rooms-bookings", "children"),
    Input("app-url", "search"),
    prevent_initial_call=True,  # the layout has them
)
def update_rooms(search: str | None) -> tuple[Any, ...]:
    data = current()
    language = lang()
    f = current_filters(search)
    try:
        sizing = data.read(api.read_room_sizing, f)
    except AnalyticsUnavailable as exc:
        msg = t("empty_no_analytics", language, why=str(exc))
        return [empty(msg)], empty_figure(msg), empty(msg)
    if sizing.empty:
        msg = t("empty_no_data", language)
        return [empty(msg)], empty_figure(msg), empty(msg)
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
        kpi(t(labels[k], language), fmt_pct(v), id_=f"rooms-kpi-{k}")
        for k, v in summary.items()
    ]
    verdicts = sizing[
        ["name", "seats", "mean_people", "p90_people", "recommended_seats", "verdict"]
    ]
    cards.append(
        html.Div(table(verdicts.sort_values("verdict")), style={"flex": "1 1 100%"})
    )
    has_bookings = (
        "booked_s" in sizing.columns
        and pd.to_numeric(sizing["booked_s"], errors="coerce").fillna(0).sum() > 0
    )
    if has_bookings:
        cols = ["name", "bookings", "booked_s", "no_show_pct", "unbooked_use_pct"]
        bookings: Any = table(sizing[cols].dropna(subset=["bookings"]))
    else:
        bookings = empty(t("empty_no_bookings", language), id_="rooms-no-bookings")
    return cards, sizing_figure(sizing, language), bookings
