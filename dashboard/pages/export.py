"""Export: every report of ``occupancy export`` as a CSV download for the
current filters, byte for byte the file the command writes."""

from __future__ import annotations

import base64
import logging

import dash
from dash import ALL, Input, Output, State, callback, dcc, html

from dashboard.app import QueryValue, current_filters, lang
from dashboard.components import page_title
from dashboard.data import current, report_csv, report_levels
from dashboard.filters import ViewFilters
from dashboard.i18n import t

logger = logging.getLogger(__name__)

dash.register_page(  # type: ignore[no-untyped-call]
    __name__,
    path="/export",
    name="Export",
    order=6,
    title=lambda **_: page_title("nav_export"),
)


def export_filename(name: str, level: str | None, f: ViewFilters) -> str:
    """``<report>[-<level>]_<from>_<to>.csv``, e.g. ``utilization-floor_2026-11-02_2026-11-29.csv``."""
    stem = f"{name}-{level}" if level else name
    return f"{stem}_{f.start}_{f.end}.csv"


def layout(**_query: QueryValue) -> html.Div:
    language = lang()
    reports = report_levels()
    rows = []
    for name, (levels, default) in reports.items():
        level_picker = dcc.Dropdown(
            id={"type": "export-level", "report": name},
            options=list(levels),
            value=default,
            clearable=False,
            disabled=not levels,
            placeholder="–",
            style={"width": "160px"},
        )
        rows.append(
            html.Div(
                [
                    html.Button(
                        t("exp_download", language),
                        id={"type": "export-button", "report": name},
                        n_clicks=0,
                        className="export-button",
                    ),
                    html.Code(name, style={"width": "120px"}),
                    html.Label(
                        f"{t('f_level', language)}: {name}", className="visually-hidden"
                    ),
                    level_picker,
                ],
                className="export-row",
            )
        )
    return html.Div(
        [
            html.H2(t("nav_export", language)),
            html.P(t("exp_intro", language)),
            *rows,
            html.Div(id="export-status", className="empty"),
            dcc.Download(id="export-download"),
        ]
    )


@callback(
    Output("export-download", "data"),
    Output("export-status", "children"),
    Input({"type": "export-button", "report": ALL}, "n_clicks"),
    State({"type": "export-level", "report": ALL}, "value"),
    State({"type": "export-level", "report": ALL}, "id"),
    State("app-url", "search"),
    prevent_initial_call=True,
)
def download_report(
    clicks: list[int | None],
    levels: list[str | None],
    level_ids: list[dict[str, str]],
    search: str | None,
) -> tuple[dict[str, str | bool], str]:
    """Build the clicked report with analytics' own functions and send it."""
    trigger = dash.ctx.triggered_id
    if not trigger or not any(clicks):
        raise dash.exceptions.PreventUpdate
    name = str(trigger["report"])
    chosen = {i["report"]: v for i, v in zip(level_ids, levels, strict=True)}
    level = chosen.get(name) or None
    data = current()
    f = current_filters(search)
    frame = data.report(name, f, level=level)
    content = report_csv(frame)
    filename = export_filename(name, level, f)
    logger.info("export %s: %d rows, %d bytes", filename, len(frame), len(content))
    return (
        {
            "content": base64.b64encode(content).decode("ascii"),
            "filename": filename,
            "base64": True,
            "type": "text/csv",
        },
        f"{filename}: {len(frame)} rows",
    )
