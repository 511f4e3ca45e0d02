"""The Dash app factory: multi-page layout, the filter bar kept in the URL,
authentication and error handling.

``create_app(settings)`` returns a ready :class:`dash.Dash`; its Flask server
is ``app.server`` (serve it with any WSGI server).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import dash
from dash import Input, Output, dcc, html
from dash._callback import GLOBAL_CALLBACK_LIST, GLOBAL_CALLBACK_MAP

from dashboard.auth import install_auth
from dashboard.data import EXTENSION_KEY, DashboardData, current
from dashboard.filters import (
    ViewFilters,
    extra_params,
    parse_query,
    to_query,
    with_query,
)
from dashboard.i18n import t
from occupancy.settings import SettingError, Settings

logger = logging.getLogger(__name__)

__all__ = ["NAV", "create_app", "filter_options", "page_module"]

PAGES_DIR = Path(__file__).resolve().parent / "pages"
ASSETS_DIR = Path(__file__).resolve().parent / "assets"

#: Navigation: (path, label key).
NAV = (
    ("/", "nav_overview"),
    ("/floor-map", "nav_floor_map"),
    ("/patterns", "nav_patterns"),
    ("/rooms", "nav_rooms"),
    ("/collaboration", "nav_collaboration"),
    ("/devices", "nav_devices"),
    ("/export", "nav_export"),
)


def page_module(name: str) -> ModuleType:
    """The loaded module of page ``name`` (e.g. "floor_map") of the latest app.

    Dash imports pages itself (as ``pages.<name>``), once per app."""
    for module_name in (f"pages.{name}", f"dashboard.pages.{name}"):
        if module_name in sys.modules:
            return sys.modules[module_name]
    raise KeyError(f"page {name!r} is not loaded: call create_app first")


def _today(settings: Settings) -> dt.date:
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(settings.timezone)).date()


def current_filters(search: str | None) -> ViewFilters:
    """The filters of the URL ``search`` for the app serving this request."""
    settings = current().settings
    return parse_query(search, _today(settings), site=settings.site)


def lang() -> str:
    """The configured language (en | nl) of the app serving this request."""
    return str(current().settings.language)


def filter_options(
    meta: dict[str, Any], f: ViewFilters, language: str
) -> dict[str, list[dict[str, str]]]:
    """Dropdown options narrowed by the filters above them (site > building >
    floor > zone); departments are per site."""
    sites = meta["sites"]
    buildings = meta["buildings"]
    floors = meta["floors"]
    zones = meta["zones"]
    depts = meta["departments"]
    if f.site:
        buildings = buildings[buildings["site_id"] == f.site]
        depts = depts[depts["site_id"] == f.site]
    floors = floors[floors["building_id"].isin(buildings["building_id"])]
    if f.building:
        floors = floors[floors["building_id"] == f.building]
    zones = zones[zones["floor_id"].isin(floors["floor_id"])]
    if f.floor:
        zones = zones[zones["floor_id"] == f.floor]

    def opts(frame: Any, key: str, label: str) -> list[dict[str, str]]:
        return [
            {"label": str(r[label]), "value": str(r[key])} for _, r in frame.iterrows()
        ]

    return {
        "site": opts(sites, "site_id", "name"),
        "building": opts(buildings, "building_id", "name"),
        "floor": opts(floors, "floor_id", "name"),
        "zone": opts(zones, "zone_id", "name"),
        "department": opts(depts, "department_id", "name"),
    }


def _filter_bar(language: str) -> html.Div:
    def dropdown(key: str) -> html.Div:
        return html.Div(
            [
                html.Label(t(f"f_{key}", language), htmlFor=f"filters-{key}"),
                dcc.Dropdown(
                    id=f"filters-{key}",
                    placeholder=t("f_all", language),
                    clearable=True,
                ),
            ],
            className="filter",
        )

    return html.Div(
        [
            *(dropdown(k) for k in ("site", "building", "floor", "zone", "department")),
            html.Div(
                [
                    html.Label(t("f_period", language), htmlFor="filters-period"),
                    dcc.DatePickerRange(
                        id="filters-period",
                        display_format="YYYY-MM-DD",
                        first_day_of_week=1,
                        minimum_nights=0,
                    ),
                ],
                className="filter filter-period",
            ),
            dcc.Checklist(
                id="filters-wh",
                options=[  # type: ignore[arg-type]
                    {"label": " " + t("f_working_hours", language), "value": "wh"}
                ],
                className="filter",
            ),
        ],
        className="filter-bar",
        id="filters-bar",
    )


def _layout() -> html.Div:
    language = lang()
    return html.Div(
        [
            dcc.Location(id="app-url", refresh=False),
            html.Header(
                [
                    html.H1(t("app_title", language)),
                    html.Nav(
                        [
                            dcc.Link(
                                t(key, language),
                                href=path,
                                id=f"app-nav-{key}",
                                className="nav-link",
                            )
                            for path, key in NAV
                        ]
                    ),
                ],
                className="app-header",
            ),
            _filter_bar(language),
            html.Div(id="app-error", className="app-error", role="alert"),
            html.Main(dash.page_container, className="app-main"),
        ],
        className="app",
    )


def sync_filters(
    search: str | None, values: Sequence[Any], triggered: str | None
) -> tuple[Any, ...]:
    """Keep the filter controls and the URL query string in step.

    A change of the URL (first load, a pasted link, back/forward) sets the
    controls; a change of a control rewrites the URL. Returns the new search,
    the five values, start, end, working hours, and the five option lists.
    ``values`` are the controls' values in that order.
    """
    site, building, floor, zone, department, start, end, wh = values
    data = current()
    today = _today(data.settings)
    meta = data.metadata()
    if triggered in (None, "app-url"):
        f = parse_query(search, today, site=data.settings.site)
    else:
        f = ViewFilters(
            site=site or None,
            building=building or None,
            floor=floor or None,
            zone=zone or None,
            department=department or None,
            start=dt.date.fromisoformat(start[:10]) if start else None,
            end=dt.date.fromisoformat(end[:10]) if end else None,
            working_hours_only=bool(wh),
        )
        # Re-parse so defaults (dates) and ordering rules apply exactly as for links.
        f = parse_query(to_query(f), today, site=data.settings.site)
    opts = filter_options(meta, f, data.settings.language)
    # Keys of a page (space=...) stay; only the filters are rewritten.
    extras = extra_params(search)
    new_search = with_query(to_query(f), **extras) if extras else to_query(f)
    return (
        new_search if new_search != (search or "") else dash.no_update,
        f.site,
        f.building,
        f.floor,
        f.zone,
        f.department,
        f.start.isoformat() if f.start else None,
        f.end.isoformat() if f.end else None,
        ["wh"] if f.working_hours_only else [],
        opts["site"],
        opts["building"],
        opts["floor"],
        opts["zone"],
        opts["department"],
    )


def _register_app_callbacks(app: dash.Dash) -> None:
    keys = ("site", "building", "floor", "zone", "department")

    @app.callback(
        Output("app-url", "search"),
        *(Output(f"filters-{k}", "value") for k in keys),
        Output("filters-period", "start_date"),
        Output("filters-period", "end_date"),
        Output("filters-wh", "value"),
        *(Output(f"filters-{k}", "options") for k in keys),
        Input("app-url", "search"),
        *(Input(f"filters-{k}", "value") for k in keys),
        Input("filters-period", "start_date"),
        Input("filters-period", "end_date"),
        Input("filters-wh", "value"),
    )
    def _sync(search: str | None, *values: Any) -> tuple[Any, ...]:
        return sync_filters(search, values, dash.ctx.triggered_id)

    @app.callback(
        *(Output(f"app-nav-{key}", "href") for _, key in NAV),
        Input("app-url", "search"),
    )
    def _nav_links(search: str | None) -> tuple[str, ...]:
        # Navigation keeps the filters, so every page shows the same view.
        return tuple(path + (search or "") for path, _ in NAV)


def _on_callback_error(err: Exception) -> None:
    """Catch-all at the callback boundary: log with the trace, show a short
    message, never the trace."""
    logger.error("dashboard callback failed: %s", err, exc_info=err)
    try:
        dash.set_props("app-error", {"children": t("error", lang())})
    except Exception:  # pragma: no cover - outside a callback context
        logger.debug("could not show the error banner", exc_info=True)


def create_app(settings: Settings) -> dash.Dash:
    """Build the dashboard for ``settings`` (database, language, authentication)."""
    if settings.language not in ("en", "nl"):
        raise SettingError(f"setting language: {settings.language!r} is not en or nl")
    # Page modules register their callbacks globally each time an app imports
    # them; drop leftovers from an earlier app in this process so the new app
    # gets exactly one copy of each.
    GLOBAL_CALLBACK_LIST.clear()
    GLOBAL_CALLBACK_MAP.clear()
    # Named after this module, not the package: under pytest the name
    # "dashboard" can resolve to tests/dashboard, and Flask needs a real file.
    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder=str(PAGES_DIR),
        assets_folder=str(ASSETS_DIR),
        title=t("app_title", settings.language),
        update_title="",
        suppress_callback_exceptions=True,
        on_error=_on_callback_error,
    )
    # Take this app's page callbacks now, so a second app built before this
    # one serves its first request cannot take them.
    app._callback_list.extend(GLOBAL_CALLBACK_LIST)
    app.callback_map.update(GLOBAL_CALLBACK_MAP)
    GLOBAL_CALLBACK_LIST.clear()
    GLOBAL_CALLBACK_MAP.clear()

    server = app.server
    server.config["SECRET_KEY"] = settings.secret_key or secrets.token_hex(32)
    server.config["PROPAGATE_EXCEPTIONS"] = False
    server.extensions[EXTENSION_KEY] = DashboardData(settings)
    install_auth(server, settings)

    @server.errorhandler(Exception)
    def _internal_error(exc: Exception) -> tuple[str, int]:
        from werkzeug.exceptions import HTTPException

        if isinstance(exc, HTTPException):
            return exc.description or exc.name, exc.code or 500
        logger.error("dashboard request failed: %s", exc, exc_info=exc)
        return "Internal error; see the dashboard log.\n", 500

    app.layout = _layout
    _register_app_callbacks(app)
    return app
