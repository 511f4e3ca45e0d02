"""Space history: one desk or room over the chosen period (opened from the floor map)."""

from __future__ import annotations

import logging
from dataclasses import replace

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
from dashboard.components import graph, page_title
from dashboard.data import AnalyticsUnavailable, current
from dashboard.i18n import t
from dashboard.theme import OKABE_ITO, base_layout, empty_figure, styled

logger = logging.getLogger(__name__)

dash.register_page(  # type: ignore[no-untyped-call]
    __name__,
    path="/space",
    name="Space",
    order=7,
    title=lambda **_: page_title("nav_space"),
)


def space_id_of(search: str | None) -> str | None:
    from urllib.parse import parse_qs

    values = parse_qs((search or "").lstrip("?")).get("space")
    return values[-1] if values else None


def daily_time_used(sessions: pd.DataFrame, space: str) -> pd.DataFrame:
    """day, time_used_pct (occupied ÷ measured available time) of one space from
    analytics' per-space-day sessions rollup; days without measurement are NaN."""
    one = sessions[sessions["space_id"] == space].sort_values("day")
    measured = one["measured_s"].where(one["measured_s"] > 0)
    return pd.DataFrame(
        {
            "day": one["day"].to_numpy(),
            "time_used_pct": (100.0 * one["occupied_s"] / measured).to_numpy(),
        }
    )


def history_figure(daily: pd.DataFrame, title: str, language: str) -> go.Figure:
    """Daily time used of one space [%]."""
    if daily.empty:
        return empty_figure(t("empty_no_data", language))
    fig = go.Figure(
        go.Bar(
            x=daily["day"],
            y=daily["time_used_pct"],
            name=t("m_time_used_pct", language),
            marker_color=OKABE_ITO[4],
        )
    )
    styled(
        fig,
        **base_layout(height=360, title=title),
        yaxis={"range": [0, 100], "title": t("m_time_used_pct", language)},
    )
    return fig


def layout(**query: QueryValue) -> html.Div:
    """The page with its figure, for the URL's space and filters (``query``)."""
    out = initial_outputs(update_space, query_search(query))
    title, history = out or (None, None)
    return html.Div(
        [
            *([] if out else [error_banner(lang())]),
            html.H2(title, id="space-title"),
            graph("space-history", history),
        ]
    )


@callback(
    Output("space-title", "children"),
    Output("space-history", "figure"),
    Input("app-url", "search"),
    prevent_initial_call=True,  # the layout has them
)
def update_space(search: str | None) -> tuple[str, go.Figure]:
    data = current()
    language = lang()
    space = space_id_of(search)
    if not space:
        return t("nav_space", language), empty_figure(t("empty_no_space", language))
    spaces = data.metadata()["spaces"]
    row = spaces[spaces["space_id"] == space]
    title = f"{t('nav_space', language)}: {row['name'].iloc[0] if len(row) else space}"
    f = current_filters(search)
    try:
        # Only the space's own zone is read (the URL's floor may be another one).
        zone = str(row["zone_id"].iloc[0]) if len(row) else None
        sessions = data.read(
            api.read_sessions, replace(f, floor=None, zone=zone, department=None)
        )
    except AnalyticsUnavailable as exc:
        return title, empty_figure(t("empty_no_analytics", language, why=str(exc)))
    return title, history_figure(daily_time_used(sessions, space), title, language)
