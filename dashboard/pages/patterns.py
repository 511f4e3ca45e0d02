"""Patterns: hour-of-week heatmap for the building, a floor, a zone or a
department; the day-of-week profile and the weekly trend."""

from __future__ import annotations

import logging

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, callback, dcc, html

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
from dashboard.filters import ViewFilters
from dashboard.i18n import t, weekdays
from dashboard.theme import OKABE_ITO, SEQUENTIAL, base_layout, empty_figure, styled

logger = logging.getLogger(__name__)

dash.register_page(  # type: ignore[no-untyped-call]
    __name__,
    path="/patterns",
    name="Patterns",
    order=2,
    title=lambda **_: page_title("nav_patterns"),
)

LEVELS = ("building", "floor", "zone", "department")
DEFAULT_LEVEL = "building"


def value_column(frame: pd.DataFrame) -> str | None:
    """The measure a rollup frame carries, preferring utilization."""
    for col in ("utilization_pct", "time_used_pct", "avg_people", "people"):
        if col in frame.columns:
            return col
    return None


def hour_of_week_matrix(frame: pd.DataFrame, col: str) -> pd.DataFrame:
    """7 × 24 matrix (weekday 0 = Monday × local hour) of the mean of ``col``
    over the groups in ``frame``; hours without data are NaN."""
    grid = frame.pivot_table(
        index="weekday", columns="hour", values=col, aggfunc="mean"
    )
    return grid.reindex(index=range(7), columns=range(24))


def one_group(frame: pd.DataFrame, level: str, f: ViewFilters) -> pd.DataFrame:
    """Rows of the group the filters name at ``level`` (all groups when none is named)."""
    wanted = {
        "building": f.building,
        "floor": f.floor,
        "zone": f.zone,
        "department": f.department,
    }.get(level)
    if wanted and "level_id" in frame.columns:
        return frame[frame["level_id"] == wanted]
    return frame


def heatmap_figure(matrix: pd.DataFrame, col: str, language: str) -> go.Figure:
    if matrix.isna().all().all():
        return empty_figure(t("empty_no_data", language))
    fig = go.Figure(
        go.Heatmap(
            z=matrix.to_numpy(),
            x=[f"{h:02d}" for h in matrix.columns],
            y=list(weekdays(language)),
            colorscale=SEQUENTIAL,
            zmin=0,
            colorbar={
                "title": {
                    "text": t(f"m_{col}", language) if col.endswith("_pct") else col
                }
            },
            hovertemplate="%{y} %{x}:00 → %{z:.1f}<extra></extra>",
            hoverongaps=False,
        )
    )
    styled(
        fig,
        **base_layout(height=300, title=t("pat_heatmap", language)),
        xaxis_title=t("hour", language),
        yaxis={"autorange": "reversed"},
    )
    return fig


def dow_figure(matrix: pd.DataFrame, col: str, language: str) -> go.Figure:
    """Mean over each weekday's hours with data."""
    means = matrix.mean(axis=1, skipna=True)
    if means.isna().all():
        return empty_figure(t("empty_no_data", language))
    fig = go.Figure(
        go.Bar(
            x=list(weekdays(language)), y=means.to_numpy(), marker_color=OKABE_ITO[4]
        )
    )
    styled(
        fig,
        **base_layout(height=260, title=t("pat_dow", language)),
        yaxis_title=t(f"m_{col}", language),
    )
    return fig


def weekly_trend(daily: pd.DataFrame, col: str) -> pd.DataFrame:
    """Mean of ``col`` per ISO week (Monday) from a frame with a ``day`` column."""
    days = pd.to_datetime(daily["day"])
    week = (days - pd.to_timedelta(days.dt.weekday, unit="D")).dt.date
    out = daily.assign(week=week).groupby("week")[col].mean()
    return out.reset_index()


def weekly_figure(trend: pd.DataFrame, col: str, language: str) -> go.Figure:
    if trend.empty:
        return empty_figure(t("empty_no_data", language))
    fig = go.Figure(
        go.Scatter(
            x=trend["week"].astype(str),
            y=trend[col],
            mode="lines+markers",
            line={"color": OKABE_ITO[5]},
        )
    )
    styled(
        fig,
        **base_layout(height=260, title=t("pat_weekly", language)),
        yaxis_title=t(f"m_{col}", language),
    )
    # One point per week, labelled by its Monday (a single week stays readable).
    fig.update_xaxes(type="category", title=t("week_of", language))
    return fig


def layout(**query: QueryValue) -> html.Div:
    """The page with its figures, for the URL's filters (``query``)."""
    language = lang()
    search = query_search(query)
    out = initial_outputs(update_patterns, search, DEFAULT_LEVEL)
    heatmap, dow, weekly, note = out or (None, None, None, None)
    return html.Div(
        [
            *([] if out else [error_banner(language)]),
            html.H2(t("nav_patterns", language)),
            html.Div(
                [
                    html.Label(t("f_level", language)),
                    dcc.RadioItems(
                        id="patterns-level",
                        options=[  # type: ignore[arg-type]
                            {"label": " " + t(f"f_{lv}", language), "value": lv}
                            for lv in LEVELS
                        ],
                        value=DEFAULT_LEVEL,
                        inline=True,
                    ),
                ],
                className="page-controls",
            ),
            html.Div(note, id="patterns-note", className="empty"),
            graph("patterns-heatmap", heatmap),
            html.Div(
                [
                    html.Div(graph("patterns-dow", dow)),
                    html.Div(graph("patterns-weekly", weekly)),
                ],
                className="row",
            ),
        ]
    )


@callback(
    Output("patterns-heatmap", "figure"),
    Output("patterns-dow", "figure"),
    Output("patterns-weekly", "figure"),
    Output("patterns-note", "children"),
    Input("app-url", "search"),
    Input("patterns-level", "value"),
    prevent_initial_call=True,  # the layout has them
)
def update_patterns(
    search: str | None, level: str | None
) -> tuple[go.Figure, go.Figure, go.Figure, str]:
    data = current()
    language = lang()
    f = current_filters(search)
    level = level if level in LEVELS else DEFAULT_LEVEL
    try:
        # The heatmap and the weekday profile show means: no percentiles.
        how = data.read(api.read_hour_of_week, f, level=level, means_only=True)
        daily = data.read(api.read_utilization, f, level="day")
    except AnalyticsUnavailable as exc:
        msg = t("empty_no_analytics", language, why=str(exc))
        fig = empty_figure(msg)
        return fig, fig, fig, msg
    how = one_group(how, level, f)
    col = value_column(how)
    if how.empty or col is None:
        fig = empty_figure(t("empty_no_data", language))
        return fig, fig, fig, t("empty_no_data", language)
    visible = (
        how[~how["suppressed"].astype(bool)] if "suppressed" in how.columns else how
    )
    if visible.empty:
        msg = t("empty_all_suppressed", language, k=data.settings.k_anonymity)
        fig = empty_figure(msg)
        return fig, fig, fig, msg
    matrix = hour_of_week_matrix(visible, col)
    dcol = value_column(daily)
    trend = (
        weekly_trend(daily, dcol)
        if dcol and "day" in daily.columns and not daily.empty
        else pd.DataFrame()
    )
    return (
        heatmap_figure(matrix, col, language),
        dow_figure(matrix, col, language),
        weekly_figure(trend, dcol or col, language),
        "",
    )
