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
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import dash
import flask
from dash import Input, Output, dcc, html
from dash._callback import GLOBAL_CALLBACK_LIST, GLOBAL_CALLBACK_MAP

from dashboard.auth import install_auth
from dashboard.components import register_grid_callbacks
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

__all__ = [
    "NAV",
    "create_app",
    "filter_options",
    "initial_outputs",
    "page_module",
    "query_search",
]

PAGES_DIR = Path(__file__).resolve().parent / "pages"
ASSETS_DIR = Path(__file__).resolve().parent / "assets"
#: Assets served but not put in the page's script tags: the vendored
#: plotly.js bundle, which assets/preload.js loads for dcc.Graph.
ASSETS_IGNORE = r"^plotly-cartesian-.*\.min\.js$"

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


_FILTER_KEYS = ("site", "building", "floor", "zone", "department")


def _filter_bar(language: str, state: Sequence[Any] | None = None) -> html.Div:
    """The filter controls, set to ``state`` (what :func:`sync_filters`
    returns for the page's URL) when given, else left for it to set."""
    chosen: dict[str, dict[str, Any]] = {}
    if state is not None:
        for i, key in enumerate(_FILTER_KEYS):
            chosen[key] = {"value": state[1 + i], "options": state[9 + i]}
        chosen["period"] = {"start_date": state[6], "end_date": state[7]}
        chosen["wh"] = {"value": state[8]}

    def dropdown(key: str) -> html.Div:
        return html.Div(
            [
                html.Label(t(f"f_{key}", language), htmlFor=f"filters-{key}"),
                dcc.Dropdown(
                    id=f"filters-{key}",
                    placeholder=t("f_all", language),
                    clearable=True,
                    **chosen.get(key, {}),
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
                        **chosen.get("period", {}),
                    ),
                ],
                className="filter filter-period",
            ),
            dcc.Checklist(
                id="filters-wh",
                **chosen.get("wh", {}),
                options=[  # type: ignore[arg-type]
                    {"label": " " + t("f_working_hours", language), "value": "wh"}
                ],
                className="filter",
            ),
        ],
        className="filter-bar",
        id="filters-bar",
    )


def query_search(query: Mapping[str, Any]) -> str:
    """The search string (with ``?``, or empty) of the query parameters Dash
    passes to a page's ``layout`` (a value, or a list for a repeated key)."""
    return "?" + urlencode(dict(query), doseq=True) if query else ""


def initial_outputs(update: Callable[..., Any], *args: Any) -> tuple[Any, ...] | None:
    """``update(*args)``: a page callback's outputs, computed by the page's
    layout so the page arrives complete (its callbacks skip their initial
    call). ``None`` after an error, which is logged with its trace: the page
    then shows :func:`error_banner`, as a failed callback shows the app's."""
    try:
        return tuple(update(*args))
    except Exception as exc:  # the layout is a request boundary, as a callback is
        logger.error("dashboard page layout failed: %s", exc, exc_info=exc)
        return None


def error_banner(language: str) -> html.Div:
    """The short error message a page shows when its layout failed."""
    return html.Div(t("error", language), className="app-error", role="alert")


#: Ids of Dash's page container (``dash.page_container``), which the pages
#: router fills; :func:`_page_container` fills it on the server.
_PAGES_LOCATION = "_pages_location"
_PAGES_CONTENT = "_pages_content"
_PAGES_STORE = "_pages_store"
_PAGES_DUMMY = "_pages_dummy"


def requested_route() -> tuple[str, str] | None:
    """(pathname, search) of the page whose layout the browser is asking for.

    The renderer fetches ``/_dash-layout`` from the page it started on, so the
    request's Referer is that page's URL. ``None`` when this is not that
    request or its Referer may not be the page's own URL (missing, or cut to
    the bare origin by a referrer policy): the pages router then fills the
    page after the layout, one round trip later, as Dash does by itself."""
    if not flask.has_request_context():
        return None
    request = flask.request
    if not request.path.endswith("/_dash-layout") or not request.referrer:
        return None
    parts = urlsplit(request.referrer)
    if not parts.path or (parts.path == "/" and not parts.query):
        return None
    return parts.path, f"?{parts.query}" if parts.query else ""


def _page_container(route: tuple[str, str] | None) -> Any:
    """Dash's page container, already holding the page of ``route`` (the page
    layout called as the pages router calls it, with the query parameters),
    and its Location set to the page's URL so that mounting it does not start
    the router. Without a route, or for an unknown path, the empty container:
    the router fills it."""
    if route is None:
        return dash.page_container
    pathname, search = route
    relative = "/" + (dash.get_app().strip_relative_path(pathname) or "")  # type: ignore[no-untyped-call]
    page = next((p for p in dash.page_registry.values() if p["path"] == relative), None)
    if page is None:
        return dash.page_container
    query = {
        k: v[0] if len(v) == 1 else v
        for k, v in parse_qs(search.lstrip("?"), keep_blank_values=True).items()
    }
    layout = page["layout"]
    try:
        content = layout(**query) if callable(layout) else layout
        title = page["title"]() if callable(page["title"]) else page["title"]
    except Exception as exc:  # the router tries again, and reports as a callback
        logger.error("dashboard page %s failed: %s", relative, exc, exc_info=exc)
        return dash.page_container
    return html.Div(
        [
            dcc.Location(
                id=_PAGES_LOCATION,
                refresh="callback-nav",
                pathname=pathname,
                search=search,
            ),
            html.Div(content, id=_PAGES_CONTENT, disable_n_clicks=True),
            dcc.Store(id=_PAGES_STORE, data={"title": title}),
            html.Div(id=_PAGES_DUMMY, disable_n_clicks=True),
        ]
    )


def _layout() -> html.Div:
    """The app around the page the browser asks for (see :func:`requested_route`).

    When the page's URL is known and its filters are complete (as every link
    of the app writes them), the layout arrives complete: the page with its
    figures, the filter controls and the links set, and the Locations holding
    the URL so that mounting them changes no callback input; no callback runs
    on the first load. Otherwise the Locations start empty and mounting them
    runs the router, the filter sync (which completes the URL) and the links,
    as Dash does by itself."""
    language = lang()
    route = requested_route()
    state = None
    if route is not None:
        state = initial_outputs(sync_filters, route[1], [None] * 8, "app-url")
        if state is not None and state[0] is not dash.no_update:
            state = None  # the URL lacks filters: the sync must write them
    url = {"pathname": route[0], "search": route[1]} if route and state else {}
    return html.Div(
        [
            dcc.Location(id="app-url", refresh=False, **url),
            html.Header(
                [
                    html.H1(t("app_title", language)),
                    html.Nav(
                        [
                            dcc.Link(
                                t(key, language),
                                href=path + (route[1] if route and state else ""),
                                id=f"app-nav-{key}",
                                className="nav-link",
                            )
                            for path, key in NAV
                        ]
                    ),
                ],
                className="app-header",
            ),
            _filter_bar(language, state),
            html.Div(id="app-error", className="app-error", role="alert"),
            html.Main(_page_container(route), className="app-main"),
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

    # No initial calls: the first layout has their outputs set, or else
    # mounting its Location (no URL yet) triggers them.
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
        prevent_initial_call=True,
    )
    def _sync(search: str | None, *values: Any) -> tuple[Any, ...]:
        return sync_filters(search, values, dash.ctx.triggered_id)

    @app.callback(
        *(Output(f"app-nav-{key}", "href") for _, key in NAV),
        Input("app-url", "search"),
        prevent_initial_call=True,
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
        assets_ignore=ASSETS_IGNORE,
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

    app.index_string = app.index_string.replace(
        "<html>", f'<html lang="{settings.language}">', 1
    )
    app.layout = _layout
    _register_app_callbacks(app)
    register_grid_callbacks(app)
    return app
