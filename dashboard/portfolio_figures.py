"""The Portfolio page's figures: buildings ranked, and their weekly trend
(kept apart from the page so they are testable without a running app)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd
import plotly.graph_objects as go

from dashboard.filters import ViewFilters
from dashboard.i18n import t
from dashboard.theme import OKABE_ITO, base_layout, empty_figure, styled

__all__ = ["TREND_WEEKS", "ranking_figure", "trend_figure", "trend_filters"]


def ranking_figure(frame: pd.DataFrame, language: str) -> go.Figure:
    """Utilization per building in rank order, this period and the one before."""
    if frame.empty or frame["utilization_pct"].isna().all():
        return empty_figure(t("empty_no_data", language))
    f = frame.iloc[::-1]  # rank 1 on top
    traces = [
        go.Bar(
            name=t("pf_before", language),
            y=f["name"],
            x=f["prev_utilization_pct"],
            orientation="h",
            marker_color="#BBBBBB",
        ),
        go.Bar(
            name=t("pf_now", language),
            y=f["name"],
            x=f["utilization_pct"],
            orientation="h",
            marker_color=OKABE_ITO[4],
        ),
    ]
    fig = go.Figure(traces)
    styled(
        fig,
        **base_layout(
            height=max(260, 60 + 28 * len(f)),
            barmode="group",
            title=t("pf_figure", language),
            legend={"orientation": "h", "y": -0.2},
            margin={"l": 140, "r": 10, "t": 40, "b": 40},
        ),
        xaxis_title=t("m_utilization_pct", language),
    )
    return fig


#: Weeks of the trend figure, up to the period's end.
TREND_WEEKS = 12


def trend_filters(f: ViewFilters) -> ViewFilters:
    """The view's filters over the :data:`TREND_WEEKS` whole local weeks up
    to the period's end (or the period itself when it is longer)."""
    if f.start is None or f.end is None:
        return f
    first = f.end - dt.timedelta(days=7 * TREND_WEEKS - 1)
    first -= dt.timedelta(days=first.weekday())
    return replace(f, start=min(f.start, first))


def trend_figure(weekly: pd.DataFrame, language: str) -> go.Figure:
    """Utilization per building and local week (``read_portfolio_weekly``),
    a line per building; suppressed weeks stay gaps."""
    title = t("pf_trend", language, weeks=TREND_WEEKS)
    if weekly.empty or "utilization_pct" not in weekly.columns:
        return empty_figure(t("empty_no_data", language))
    util = pd.to_numeric(weekly["utilization_pct"], errors="coerce")
    if util.isna().all():
        return empty_figure(t("empty_no_data", language))
    fig = go.Figure()
    shown = weekly.assign(utilization_pct=util, week=pd.to_datetime(weekly["week"]))
    # every Monday of the span, so a week without data is a gap in the line
    weeks = pd.date_range(shown["week"].min(), shown["week"].max(), freq="7D")
    for i, (name, rows) in enumerate(shown.groupby("name", sort=True)):
        y = rows.set_index("week")["utilization_pct"].reindex(weeks)
        fig.add_trace(
            go.Scatter(
                name=str(name),
                x=weeks,
                y=y,
                connectgaps=False,
                mode="lines+markers",
                line={"color": OKABE_ITO[i % len(OKABE_ITO)]},
            )
        )
    styled(
        fig,
        **base_layout(
            height=320,
            title=title,
            legend={"orientation": "h", "y": -0.25},
            margin={"l": 60, "r": 10, "t": 40, "b": 40},
        ),
        xaxis_title=t("pf_week", language),
        yaxis_title=t("m_utilization_pct", language),
    )
    return fig
