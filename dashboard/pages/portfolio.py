"""Portfolio: every building of every site side by side, ranked, with its
trend and cost per used desk (analytics.portfolio); a building's name opens
its Overview with the building filter (a shareable URL)."""

from __future__ import annotations

import logging
from dataclasses import replace

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
from dashboard.components import Col, empty, fmt_pct, graph, grid, kpi, page_title
from dashboard.data import AnalyticsUnavailable, current
from dashboard.filters import ViewFilters, to_query
from dashboard.i18n import t
from dashboard.portfolio_figures import ranking_figure, trend_figure, trend_filters
from dashboard.theme import empty_figure

logger = logging.getLogger(__name__)

dash.register_page(  # type: ignore[no-untyped-call]
    __name__,
    path="/portfolio",
    name="Portfolio",
    order=8,
    title=lambda **_: page_title("nav_portfolio"),
)

COLUMNS = [
    Col("name", "pf_col_building"),
    Col("rank", "pf_col_rank", "int"),
    Col("timezone", "pf_col_timezone"),
    Col("desks", "pf_col_desks", "int"),
    Col("utilization_pct", "col_utilization", "pct"),
    Col("trend_pp", "pf_col_trend", "num1"),
    Col("time_used_pct", "col_time_used", "pct"),
    Col("avg_daily_peak", "pf_col_peak", "num1"),
    Col("used_desks", "pf_col_used_desks", "num1"),
    Col("desks_per_person", "pf_col_desks_per_person", "num1"),
    Col("room_fit_pct", "pf_col_room_fit", "pct"),
    Col("rooms_half_empty_pct", "pf_col_half_empty", "pct"),
    Col("mixing_100", "pf_col_mixing", "num1"),
    Col("yearly_cost", "pf_col_yearly_cost", "int"),
    Col("cost_per_used_desk", "pf_col_cost_used", "int"),
]


def overview_href(f: ViewFilters, site: str, building: str) -> str:
    """The Overview of one building over the same period (a shareable URL)."""
    one = replace(
        f, site=site, building=building, floor=None, zone=None, department=None
    )
    return "/" + to_query(one)


def _kpis(frame: pd.DataFrame, language: str) -> list[html.Div]:
    cost = pd.to_numeric(frame["yearly_cost"], errors="coerce")
    util = pd.to_numeric(frame["utilization_pct"], errors="coerce")
    euros = f"EUR {cost.sum():,.0f}" if cost.notna().any() else "–"
    if language == "nl":
        euros = euros.replace(",", ".")
    return [
        kpi(t("pf_buildings", language), str(len(frame)), id_="pf-kpi-buildings"),
        kpi(t("pf_desks", language), f"{int(frame['desks'].sum()):,}", id_="pf-kpi-desks"),
        kpi(t("pf_median_util", language),
            fmt_pct(util.median() if util.notna().any() else None, language=language),
            id_="pf-kpi-util"),
        kpi(t("pf_yearly_cost", language), euros, id_="pf-kpi-cost"),
    ]  # fmt: skip


def _links(frame: pd.DataFrame, f: ViewFilters) -> html.Ul:
    return html.Ul(
        [
            html.Li(
                dcc.Link(
                    str(r.name),
                    href=overview_href(f, str(r.site_id), str(r.building_id)),
                    id=f"pf-open-{r.building_id}",
                )
            )
            for r in frame.itertuples()
        ],
        className="pf-links",
    )


def layout(**query: QueryValue) -> html.Div:
    """The page with its table, for the URL's filters (``query``)."""
    language = lang()
    out = initial_outputs(update_portfolio, query_search(query), "utilization_pct")
    kpis, figure, trend, table, links = out or (None, None, None, None, None)
    options = [{"label": t(f"pf_r_{k}", language), "value": k} for k in api.RANK_BY]
    return html.Div(
        [
            *([] if out else [error_banner(language)]),
            html.H2(t("nav_portfolio", language)),
            html.P(t("pf_note", language), className="note"),
            html.Div(kpis, id="pf-kpis", className="kpis"),
            html.Label(t("pf_rank_by", language), htmlFor="pf-rank-by"),
            dcc.Dropdown(
                id="pf-rank-by",
                options=options,  # type: ignore[arg-type]
                value="utilization_pct",
                clearable=False,
                searchable=False,
            ),
            graph("pf-figure", figure),
            html.Div(table, id="pf-table"),
            graph("pf-trend", trend),
            html.H3(t("pf_open", language)),
            html.Div(links, id="pf-links"),
        ]
    )


@callback(
    Output("pf-kpis", "children"),
    Output("pf-figure", "figure"),
    Output("pf-trend", "figure"),
    Output("pf-table", "children"),
    Output("pf-links", "children"),
    Input("app-url", "search"),
    Input("pf-rank-by", "value"),
    prevent_initial_call=True,  # the layout has them
)
def update_portfolio(
    search: str | None, rank_by: str | None
) -> tuple[list[html.Div], go.Figure, go.Figure, html.Div, html.Ul | None]:
    data = current()
    language = lang()
    f = current_filters(search)
    by = rank_by if rank_by in api.RANK_BY else "utilization_pct"
    try:
        frame = data.read(api.read_portfolio, f, rank_by=by)
    except AnalyticsUnavailable as exc:
        msg = t("empty_no_analytics", language, why=str(exc))
        return [empty(msg)], empty_figure(msg), empty_figure(msg), empty(msg), None
    if frame.empty:
        msg = t("empty_no_data", language)
        return [empty(msg)], empty_figure(msg), empty_figure(msg), empty(msg), None
    weekly = data.read(api.read_portfolio_weekly, trend_filters(f))
    shown = frame.assign(
        mixing_100=100.0 * pd.to_numeric(frame["mixing"], errors="coerce")
    )
    table = grid("portfolio-table", shown, COLUMNS, language, page_size=25)
    return (
        _kpis(frame, language),
        ranking_figure(frame, language),
        trend_figure(weekly, language),
        table,
        _links(frame, f),
    )
