"""Plan: decisions from the measured rollups. Forecast (with 80/95 %
intervals), what-if scenarios, a stacking plan, "did it work?" and the
neutral-ground scorecard. Calls the analytics plan functions directly
(analytics.plan_io, analytics.plan_io_coloc); rules in docs/metrics.md."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html
from dash.development.base_component import Component

from analytics.api import (
    StoreError,
    read_desks,
    read_forecast,
    read_forecast_input,
    read_intervention,
    read_planned_in_force,
    read_scorecard,
    read_stack,
    read_whatif,
    scenarios_from,
)
from dashboard.app import (
    QueryValue,
    current_filters,
    error_banner,
    initial_outputs,
    lang,
    query_search,
)
from dashboard.components import empty, graph, page_title, table
from dashboard.data import current
from dashboard.plan_figures import (
    DAYS,
    cross_figure,
    forecast_figure,
    headers,
    iv_figure,
    pick_group,
    planned_table,
)
from dashboard.plan_figures import t as _t
from dashboard.theme import empty_figure

logger = logging.getLogger(__name__)

dash.register_page(  # type: ignore[no-untyped-call]
    __name__,
    path="/plan",
    name="Plan",
    order=8,
    title=lambda **_: page_title("nav_plan"),
)

#: Weeks of history the forecast and the stacking plan use, ending at the
#: view's end date (the view's own range is often a few weeks only).
HISTORY_WEEKS = 26


def _opts(pairs: list[tuple[str, str]]) -> Any:
    """Dropdown/checklist options from (label, value) pairs."""
    return [{"label": a, "value": b} for a, b in pairs]


def _range(f: Any) -> tuple[dt.date, dt.date]:
    """The view's local dates (the filters always set both)."""
    end = f.end or dt.date.today() - dt.timedelta(days=1)
    return (f.start or end - dt.timedelta(days=27)), end


def _history(end: dt.date | None) -> tuple[dt.date, dt.date]:
    last = end or dt.date.today() - dt.timedelta(days=1)
    return last - dt.timedelta(weeks=HISTORY_WEEKS) + dt.timedelta(days=1), last


def _select(
    id_: str, options: list[str], value: Any, multi: bool = False
) -> dcc.Dropdown:
    return dcc.Dropdown(
        id=id_,
        options=_opts([(o, o) for o in options]),
        value=value,
        multi=multi,
        clearable=True,
        style={"minWidth": "11rem"},
    )


def _days(id_: str, language: str, value: list[str]) -> dcc.Checklist:
    return dcc.Checklist(
        id=id_,
        options=_opts([(nl if language == "nl" else en, en) for en, nl in DAYS]),
        value=value,
        inline=True,
    )


def _meta() -> tuple[list[str], list[str], list[str], list[str]]:
    """(floors, zones with desks, shared zones, departments) of the site."""
    meta = current().metadata()
    zones = meta["zones"]
    return (
        sorted(meta["floors"]["floor_id"]),
        sorted(zones.loc[zones["kind"] == "neighbourhood", "zone_id"]),
        sorted(zones.loc[zones["kind"] == "shared", "zone_id"]),
        sorted(meta["departments"]["department_id"]),
    )


#: A page callback's outputs computed by the layout (None after an error).
_Outputs = tuple[Any, ...] | None


def layout(**query: QueryValue) -> html.Div:
    """The page, computed for the URL's filters (``query``)."""
    language = lang()
    search = query_search(query)
    f = current_filters(search)
    floors, hoods, shared, depts = _meta()
    close0 = floors[-1] if floors else None
    mid = f.start + (f.end - f.start) / 2 if f.start and f.end else None
    change = mid.isoformat() if mid else None
    fc_out = initial_outputs(update_forecast, search, "building", 4)
    wi_out = initial_outputs(
        update_whatif, search, close0, ["fri"], 0.7, None, None, None, []
    )
    sc_out = initial_outputs(update_scorecard, search)
    st_out = initial_outputs(update_stack, 0, search)
    iv_out = initial_outputs(update_intervention, search, change, shared[1:2])
    ok = all(o is not None for o in (fc_out, wi_out, sc_out, iv_out, st_out))
    return html.Div(
        [
            *([] if ok else [error_banner(language)]),
            html.H2(_t("title", language)),
            *_forecast_section(language, fc_out),
            *_whatif_section(language, (floors, hoods, shared, depts), wi_out),
            *_stack_section(language, st_out),
            *_intervention_section(language, change, (hoods, shared), iv_out),
            *_scorecard_section(language, sc_out),
        ]
    )


def _note(key: str, language: str) -> html.P:
    return html.P(_t(key, language, weeks=HISTORY_WEEKS), className="note")


def _forecast_section(language: str, out: _Outputs) -> list[Any]:
    fig, tab, planned = out or (None, None, None)
    return [
        html.H3(_t("fc", language)),
        _note("fc_note", language),
        html.Div(
            [
                html.Label(_t("level", language), htmlFor="plan-fc-level"),
                _select(
                    "plan-fc-level",
                    ["building", "floor", "zone", "department"],
                    "building",
                ),
                html.Label(_t("horizon", language), htmlFor="plan-fc-horizon"),
                dcc.Slider(id="plan-fc-horizon", min=1, max=8, step=1, value=4),
            ],
            className="controls",
        ),
        graph("plan-fc-figure", fig),
        html.H4(_t("planned", language)),
        html.Div(planned, id="plan-fc-planned"),
        html.H4(_t("fc_scores", language)),
        html.Div(tab, id="plan-fc-scores"),
    ]


def _whatif_section(
    language: str,
    meta: tuple[list[str], list[str], list[str], list[str]],
    out: _Outputs,
) -> list[Any]:
    floors, hoods, shared, depts = meta
    close0 = floors[-1] if floors else None
    return [
        html.H3(_t("wi", language)),
        _note("wi_note", language),
        html.Div(
            [
                html.Label(_t("close", language), htmlFor="plan-wi-close"),
                _select("plan-wi-close", floors + hoods + shared, close0),
                html.Label(_t("on", language), htmlFor="plan-wi-close-days"),
                _days("plan-wi-close-days", language, ["fri"]),
                html.Label(_t("sharing", language), htmlFor="plan-wi-sharing"),
                dcc.Input(
                    id="plan-wi-sharing",
                    type="number",
                    min=0.1,
                    max=1.5,
                    step=0.05,
                    value=0.7,
                ),
                html.Label(_t("move", language), htmlFor="plan-wi-move-dept"),
                _select("plan-wi-move-dept", depts, None),
                html.Label(_t("to", language), htmlFor="plan-wi-move-to"),
                _select("plan-wi-move-to", floors + hoods, None),
                html.Label(_t("anchor", language), htmlFor="plan-wi-anchor-dept"),
                _select("plan-wi-anchor-dept", depts, None),
                _days("plan-wi-anchor-days", language, []),
            ],
            className="controls",
        ),
        html.Div(out[0] if out else None, id="plan-wi-table"),
    ]


def _stack_section(language: str, out: _Outputs) -> list[Any]:
    return [
        html.H3(_t("st", language)),
        _note("st_note", language),
        html.Button(_t("st", language), id="plan-st-run", n_clicks=0),
        dcc.Loading(html.Div(out[0] if out else None, id="plan-st-table")),
    ]


def _intervention_section(
    language: str,
    change: str | None,
    zones: tuple[list[str], list[str]],
    out: _Outputs,
) -> list[Any]:
    hoods, shared = zones
    tab, fig = out or (None, None)
    return [
        html.H3(_t("iv", language)),
        _note("iv_note", language),
        html.Div(
            [
                html.Label(_t("change", language)),
                dcc.DatePickerSingle(id="plan-iv-change", date=change),
                html.Label(_t("zones", language)),
                _select("plan-iv-zones", shared + hoods, shared[1:2], multi=True),
            ],
            className="controls",
        ),
        html.Div(tab, id="plan-iv-table"),
        graph("plan-iv-figure", fig),
    ]


def _scorecard_section(language: str, out: _Outputs) -> list[Any]:
    tab, fig = out or (None, None)
    return [
        html.H3(_t("sc", language)),
        _note("sc_note", language),
        html.Div(tab, id="plan-sc-table"),
        graph("plan-sc-figure", fig),
    ]


@callback(
    Output("plan-fc-figure", "figure"),
    Output("plan-fc-scores", "children"),
    Output("plan-fc-planned", "children"),
    Input("app-url", "search"),
    Input("plan-fc-level", "value"),
    Input("plan-fc-horizon", "value"),
    prevent_initial_call=True,
)
def update_forecast(
    search: str | None, level: str | None, horizon: int | None
) -> tuple[go.Figure, Component, Component]:
    language = lang()
    data = current()
    f = current_filters(search)
    start, end = _history(f.end)
    level = level or "building"
    weeks = int(horizon or 4)

    def compute() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, Any]:
        with data.connection() as conn:
            fc, scores = read_forecast(
                conn,
                start,
                end,
                horizon_weeks=weeks,
                levels=[level],
                settings=data.settings,
            )
            past = read_forecast_input(
                conn, end - dt.timedelta(days=13), end, levels=[level]
            )
        return fc, scores, past, in_force

    try:
        with data.connection() as conn:
            in_force = read_planned_in_force(conn, data.settings)
        key = ("plan-forecast", start, end, level, weeks, in_force)  # edits show
        fc, scores, past, changes = data.cached(key, compute)
    except StoreError as exc:
        return empty_figure(str(exc)), empty(str(exc)), empty(str(exc))
    if fc.empty:
        msg = _t("no_data", language)
        return empty_figure(msg), empty(msg), empty(msg)
    group = pick_group(fc, f)
    part = fc[fc["level_id"] == group]
    sc = scores[scores["level_id"] == group][
        ["model", "points", "mae", "mase", "coverage80", "coverage95", "chosen"]
    ]
    mine = past[past["level_id"] == group]
    local = pd.to_datetime(mine["day"].astype(str)) + pd.to_timedelta(
        mine["hour"], unit="h"
    )
    mine = mine.assign(
        ts=local.dt.tz_localize(
            str(data.settings.timezone), ambiguous=True, nonexistent="shift_forward"
        ).dt.tz_convert("UTC")
    )
    pl = planned_table(changes, part, language)
    return (
        forecast_figure(part, mine, language),
        table(sc, headers=headers(language)),
        table(pl, headers=headers(language))
        if len(pl)
        else empty(_t("planned_none", language)),
    )


@callback(
    Output("plan-wi-table", "children"),
    Input("app-url", "search"),
    Input("plan-wi-close", "value"),
    Input("plan-wi-close-days", "value"),
    Input("plan-wi-sharing", "value"),
    Input("plan-wi-move-dept", "value"),
    Input("plan-wi-move-to", "value"),
    Input("plan-wi-anchor-dept", "value"),
    Input("plan-wi-anchor-days", "value"),
    prevent_initial_call=True,
)
def update_whatif(
    search: str | None,
    close: str | None,
    close_days: list[str] | None,
    sharing: float | None,
    move_dept: str | None,
    move_to: str | None,
    anchor_dept: str | None,
    anchor_days: list[str] | None,
) -> tuple[Component]:
    data = current()
    f = current_filters(search)
    opts: dict[str, list[str]] = {}
    order = [en for en, _ in DAYS]
    close_days = sorted(close_days or [], key=order.index)
    anchor_days = sorted(anchor_days or [], key=order.index)
    if close and close_days:
        opts["close"] = [f"{close}:{','.join(close_days)}"]
    if sharing:
        opts["sharing"] = [str(sharing)]
    if move_dept and move_to:
        opts["move"] = [f"{move_dept}:{move_to}"]
    if anchor_dept and anchor_days:
        opts["anchor"] = [f"{anchor_dept}:{','.join(anchor_days)}"]
    try:
        with data.connection() as conn:
            floors = set(read_desks(conn)["floor_id"])
            summary, _ = read_whatif(
                conn,
                *_range(f),
                scenarios_from(opts, floors),
                settings=data.settings,
            )
    except (StoreError, ValueError) as exc:
        return (empty(str(exc)),)
    cols = [
        "scenario",
        "space",
        "desks",
        "p90_day_people",
        "max_day_people",
        "fits_p90",
        "overflow_hours",
        "overflow_max_people",
        "desks_freed",
        "rooms_freed",
        "days_over",
    ]
    return (table(summary[cols], headers=headers(lang())),)


@callback(
    Output("plan-st-table", "children"),
    Input("plan-st-run", "n_clicks"),
    State("app-url", "search"),
    prevent_initial_call=True,
)
def update_stack(n_clicks: int, search: str | None) -> tuple[Component]:
    data = current()
    start, end = _history(current_filters(search).end)
    try:
        with data.connection() as conn:
            r = read_stack(conn, start, end, settings=data.settings)
    except StoreError as exc:
        return (empty(str(exc)),)
    head = html.P(
        _t(
            "st_result",
            lang(),
            status=r.status,
            obj=r.objective,
            today=r.objective_today,
        )
    )
    return (
        html.Div(
            [
                head,
                table(r.assignment, headers=headers(lang())),
                table(r.pairs, headers=headers(lang())),
            ]
        ),
    )


@callback(
    Output("plan-iv-table", "children"),
    Output("plan-iv-figure", "figure"),
    Input("app-url", "search"),
    Input("plan-iv-change", "date"),
    Input("plan-iv-zones", "value"),
    prevent_initial_call=True,
)
def update_intervention(
    search: str | None, change: str | None, zones: list[str] | None
) -> tuple[Component, go.Figure]:
    language = lang()
    data = current()
    f = current_filters(search)
    if not change or not zones or f.start is None or f.end is None:
        msg = _t("iv_note", language)
        return empty(msg), empty_figure(msg)
    day = dt.date.fromisoformat(change[:10])
    try:
        with data.connection() as conn:
            eff = read_intervention(
                conn,
                f.start,
                f.end,
                change=day,
                zones=list(zones),
                settings=data.settings,
            )
            from analytics.api import read_zone_weeks

            weeks = read_zone_weeks(conn, f.start, f.end, settings=data.settings)
    except StoreError as exc:
        return empty(str(exc)), empty_figure(str(exc))
    control = (
        str(eff["control"].dropna().iloc[0]).split(",")
        if eff["control"].notna().any()
        else []
    )
    return table(
        eff.drop(columns=["treated", "control", "note"]), headers=headers(lang())
    ), iv_figure(weeks, list(zones), control, day, language)


@callback(
    Output("plan-sc-table", "children"),
    Output("plan-sc-figure", "figure"),
    Input("app-url", "search"),
    prevent_initial_call=True,
)
def update_scorecard(search: str | None) -> tuple[Component, go.Figure]:
    language = lang()
    data = current()
    f = current_filters(search)
    try:
        with data.connection() as conn:
            card, weekly = read_scorecard(conn, *_range(f), settings=data.settings)
    except StoreError as exc:
        return empty(str(exc)), empty_figure(str(exc))
    if card.empty:
        msg = _t("no_data", language)
        return empty(msg), empty_figure(msg)
    fig = cross_figure(weekly, language)
    return table(card, headers=headers(lang())), fig
