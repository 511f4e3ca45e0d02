"""Collaboration: the department co-location matrix (lift against
independence), a network view, and the mix of departments in shared spaces.
Cells covering fewer than k people are marked as suppressed, never shown."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import replace
from typing import Any

import dash
import numpy as np
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
from dashboard.collab_figures import network_figure
from dashboard.components import graph, page_title
from dashboard.data import AnalyticsUnavailable, DashboardData, current
from dashboard.filters import ViewFilters
from dashboard.i18n import t
from dashboard.theme import (
    DIVERGING,
    OKABE_ITO,
    SUPPRESSED_COLOR,
    base_layout,
    empty_figure,
    styled,
)

logger = logging.getLogger(__name__)

dash.register_page(  # type: ignore[no-untyped-call]
    __name__,
    path="/collaboration",
    name="Collaboration",
    order=4,
    title=lambda **_: page_title("nav_collaboration"),
)


def lift_matrices(
    colo: pd.DataFrame, departments: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """(lift, suppressed) as department × department arrays in ``departments``
    order. Suppressed or missing cells have lift NaN; a suppressed cell's value
    is never read."""
    n = len(departments)
    pos = {d: i for i, d in enumerate(departments)}
    lift = np.full((n, n), np.nan)
    supp = np.zeros((n, n), dtype=bool)
    records: list[dict[Any, Any]] = list(colo.to_dict("records"))
    for rec in records:
        a, b = pos.get(str(rec["department_a"])), pos.get(str(rec["department_b"]))
        if a is None or b is None:
            continue
        if bool(rec["suppressed"]):
            supp[a, b] = supp[b, a] = True
        else:
            lift[a, b] = lift[b, a] = float(rec["lift"])
    return lift, supp


def matrix_figure(
    lift: np.ndarray, supp: np.ndarray, names: list[str], language: str
) -> go.Figure:
    """Heatmap of log2 lift (white = as expected); suppressed cells grey with an ×."""
    with np.errstate(divide="ignore"):
        z = np.log2(lift)
    zmax = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0
    text = np.where(
        supp,
        "×",
        np.where(
            np.isnan(lift), "", np.vectorize(lambda v: f"{v:.2f}")(np.nan_to_num(lift))
        ),
    )
    fig = go.Figure(
        [
            go.Heatmap(
                z=np.where(supp, 1.0, np.nan),
                x=names,
                y=names,
                colorscale=[[0, SUPPRESSED_COLOR], [1, SUPPRESSED_COLOR]],
                showscale=False,
                hoverinfo="skip",
            ),
            go.Heatmap(
                z=z,
                x=names,
                y=names,
                colorscale=DIVERGING,
                zmid=0,
                zmin=-max(zmax, 1e-9),
                zmax=max(zmax, 1e-9),
                text=text,
                texttemplate="%{text}",
                customdata=lift,
                hovertemplate="%{y} × %{x}: lift %{customdata:.2f}<extra></extra>",
                colorbar={"title": {"text": "log₂ lift"}},
            ),
        ]
    )
    styled(
        fig,
        **base_layout(height=460, title=t("col_matrix", language)),
        yaxis={"autorange": "reversed"},
    )
    return fig


#: Weeks shown in the department-mix chart (the latest of the period).
MAX_MIX_WEEKS = 13


def week_ranges(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """[start, end] cut into weeks from Monday to Sunday (first and last partial)."""
    out = []
    lo = start
    while lo <= end:
        hi = min(lo + dt.timedelta(days=6 - lo.weekday()), end)
        out.append((lo, hi))
        lo = hi + dt.timedelta(days=1)
    return out


def mix_figure(
    div: pd.DataFrame, zone_names: dict[str, str], language: str, k: int
) -> go.Figure:
    """Department diversity (Gini-Simpson, 0 = one department, → 1 = evenly
    mixed) per shared zone and week; suppressed weeks are marked ×, no value."""
    if div.empty:
        return empty_figure(t("empty_no_data", language))
    fig = go.Figure()
    for i, (zone, part) in enumerate(div.groupby("zone_id", sort=True)):
        color = OKABE_ITO[i % len(OKABE_ITO)]
        shown = part[~part["suppressed"].astype(bool)]
        hidden = part[part["suppressed"].astype(bool)]
        name = zone_names.get(str(zone), str(zone))
        fig.add_trace(
            go.Scatter(
                x=shown["week"].astype(str),
                y=shown["simpson"],
                mode="lines+markers",
                name=name,
                line={"color": color},
            )
        )
        if len(hidden):
            fig.add_trace(
                go.Scatter(
                    x=hidden["week"].astype(str),
                    y=[0.0] * len(hidden),
                    mode="markers",
                    name=f"{name}: {t('suppressed', language)}",
                    marker={
                        "symbol": "x",
                        "size": 10,
                        "color": SUPPRESSED_COLOR,
                        "line": {"color": "#666", "width": 1},
                    },
                    hovertemplate=t("suppressed", language) + "<extra></extra>",
                )
            )
    styled(
        fig,
        **base_layout(height=320, title=t("col_mix", language)),
        yaxis={"title": t("m_diversity", language), "range": [-0.05, 1.0]},
        legend={"orientation": "h", "y": -0.25},
    )
    # Weeks are categories ("week of 9 Nov 2026"): a single week must not turn
    # into a millisecond time axis.
    fig.update_xaxes(type="category", title=t("week_of", language))
    return fig


def layout(**query: QueryValue) -> html.Div:
    """The page with its figures, for the URL's filters (``query``)."""
    language = lang()
    k = current().settings.k_anonymity
    out = initial_outputs(update_collaboration, query_search(query))
    matrix, network, mix, note = out or (None, None, None, None)
    return html.Div(
        [
            *([] if out else [error_banner(language)]),
            html.H2(t("nav_collaboration", language)),
            html.P(t("col_note", language, k=k)),
            html.Div(note, id="collab-note", className="empty"),
            html.Div(
                [
                    html.Div(graph("collab-matrix", matrix)),
                    html.Div(graph("collab-network", network)),
                ],
                className="row",
            ),
            graph("collab-mix", mix),
        ]
    )


def zone_names(data: DashboardData) -> dict[str, str]:
    zones = data.metadata()["zones"]
    return dict(
        zip(zones["zone_id"].astype(str), zones["name"].astype(str), strict=True)
    )


def diversity_by_week(data: DashboardData, f: ViewFilters) -> pd.DataFrame:
    """analytics' k-suppressed department diversity per shared zone, week by
    week (the latest :data:`MAX_MIX_WEEKS` weeks of the period, the first and
    last cut to it; ``week`` is the first day of each), read in one call:
    each week's rows are ``read_diversity`` of that week."""
    weeks = week_ranges(f.start or dt.date.today(), f.end or dt.date.today())[
        -MAX_MIX_WEEKS:
    ]
    lo = weeks[0][0]
    div = data.read(api.read_diversity_weekly, replace(f, start=lo))
    if div.empty:
        return pd.DataFrame(columns=["zone_id", "week", "simpson", "suppressed"])
    # analytics labels a week by its Monday; a week cut by the period's
    # start is labelled by its first day, as week_ranges does.
    out = div.assign(week=[max(w, lo) for w in div["week"]])
    cols = [c for c in out.columns if c != "week"]
    return out[[*cols, "week"]]


@callback(
    Output("collab-matrix", "figure"),
    Output("collab-network", "figure"),
    Output("collab-mix", "figure"),
    Output("collab-note", "children"),
    Input("app-url", "search"),
    prevent_initial_call=True,  # the layout has them
)
def update_collaboration(
    search: str | None,
) -> tuple[go.Figure, go.Figure, go.Figure, str]:
    data = current()
    language = lang()
    f = current_filters(search)
    depts = data.metadata()["departments"]
    try:
        # Only the combined matrix (source "all") is shown: its cells are the
        # same without the per-source ones.
        colo = data.read(api.read_colocation, f, by_source=False)
        div = diversity_by_week(data, f)
    except AnalyticsUnavailable as exc:
        msg = t("empty_no_analytics", language, why=str(exc))
        fig = empty_figure(msg)
        return fig, fig, fig, msg
    if "source" in colo.columns:
        colo = colo[colo["source"] == "all"]
    if colo.empty:
        fig = empty_figure(t("empty_no_data", language))
        return fig, fig, fig, t("empty_no_data", language)
    ids = depts["department_id"].tolist()
    names = depts["name"].tolist()
    colors = depts["color"].fillna(OKABE_ITO[0]).tolist()
    lift, supp = lift_matrices(colo, ids)
    note = ""
    if np.isnan(lift).all():
        note = t("empty_all_suppressed", language, k=data.settings.k_anonymity)
    return (
        matrix_figure(lift, supp, names, language),
        network_figure(lift, names, colors, language),
        mix_figure(div, zone_names(data), language, data.settings.k_anonymity),
        note,
    )
