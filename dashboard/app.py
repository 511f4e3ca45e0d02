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
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, NamedTuple, ParamSpec, TypeVar
from urllib.parse import urlencode

import dash
import flask
from dash import Input, Output, dcc, html

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
from dashboard.page_scripts import install_page_scripts
from dashboard.prerender import page_container, prerender_wanted, requested_route
from occupancy.settings import SettingError, Settings

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

__all__ = [
    "NAV",
    "QueryValue",
    "create_app",
    "filter_options",
    "initial_outputs",
    "page_module",
    "query_search",
    "requested_route",
]

PAGES_DIR = Path(__file__).resolve().parent / "pages"
ASSETS_DIR = Path(__file__).resolve().parent / "assets"
#: Assets served but not put in the page's script tags: the vendored
#: plotly.js bundle, which assets/preload.js loads for dcc.Graph, the
#: early layout request, which create_app puts in the page's <head>, and the
#: AgGrid stand-in (dashboard/page_scripts.py).
ASSETS_IGNORE = r"^(plotly-cartesian-.*\.min\.js|layout-early\.js|grid-lazy\.js)$"
#: The script in the page's <head> that requests the layout at once
#: (assets/layout-early.js).
EARLY_LAYOUT_JS = "layout-early.js"

#: Navigation: (path, label key).
NAV = (
    ("/", "nav_overview"),
    ("/floor-map", "nav_floor_map"),
    ("/patterns", "nav_patterns"),
    ("/rooms", "nav_rooms"),
    ("/collaboration", "nav_collaboration"),
    ("/devices", "nav_devices"),
    ("/export", "nav_export"),
    ("/plan", "nav_plan"),
    ("/portfolio", "nav_portfolio"),  # portfolio19
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
    return parse_query(
        search,
        _today(settings),
        site=settings.site,
        max_days=settings.dashboard_max_range_days,
    )


def lang() -> str:
    """The configured language (en | nl) of the app serving this request."""
    return str(current().settings.language)


def filter_options(
    meta: dict[str, pd.DataFrame], f: ViewFilters, language: str
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

Options = list[dict[str, str]]


#: The filter controls' values, in the sync callback's input order: the five
#: place/department dropdowns, the period's start and end, working hours.
FilterValues = tuple[
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    list[str] | None,
]
_NO_VALUES: FilterValues = (None, None, None, None, None, None, None, None)


class FilterState(NamedTuple):
    """The filter bar and the URL, in the order of the sync callback's outputs
    (:func:`sync_filters`): the new search (or ``dash.no_update``), the five
    place/department values, the period, working hours, the five option lists."""

    search: Any
    site: str | None
    building: str | None
    floor: str | None
    zone: str | None
    department: str | None
    start_date: str | None
    end_date: str | None
    wh: list[str]
    site_options: Options
    building_options: Options
    floor_options: Options
    zone_options: Options
    department_options: Options

    def value(self, key: str) -> str | None:
        """The value of the dropdown ``key`` (one of ``_FILTER_KEYS``)."""
        value: str | None = getattr(self, key)
        return value

    def options(self, key: str) -> Options:
        """The option list of the dropdown ``key``."""
        options: Options = getattr(self, f"{key}_options")
        return options


def _filter_bar(language: str, state: FilterState | None = None) -> html.Div:
    """The filter controls, set to ``state`` (what :func:`sync_filters`
    returns for the page's URL) when given, else left for it to set."""
    chosen: dict[str, dict[str, Any]] = {}
    if state is not None:
        for key in _FILTER_KEYS:
            chosen[key] = {"value": state.value(key), "options": state.options(key)}
        chosen["period"] = {"start_date": state.start_date, "end_date": state.end_date}
        chosen["wh"] = {"value": state.wh}

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


#: A query parameter as Dash passes it to a page's ``layout``: the value, or
#: the list of values of a repeated key.
QueryValue = str | list[str]


def query_search(query: Mapping[str, QueryValue]) -> str:
    """The search string (with ``?``, or empty) of the query parameters Dash
    passes to a page's ``layout`` (a value, or a list for a repeated key)."""
    return "?" + urlencode(dict(query), doseq=True) if query else ""


_P = ParamSpec("_P")
_Out = TypeVar("_Out", bound=tuple[object, ...])


def initial_outputs(
    update: Callable[_P, _Out], *args: _P.args, **kwargs: _P.kwargs
) -> _Out | None:
    """``update(*args)``: a page callback's outputs, computed by the page's
    layout so the page arrives complete (its callbacks skip their initial
    call). ``None`` after an error, which is logged with its trace: the page
    then shows :func:`error_banner`, as a failed callback shows the app's."""
    try:
        return update(*args, **kwargs)
    except Exception as exc:  # the layout is a request boundary, as a callback is
        logger.error("dashboard page layout failed: %s", exc, exc_info=exc)
        return None


def error_banner(language: str) -> html.Div:
    """The short error message a page shows when its layout failed."""
    return html.Div(t("error", language), className="app-error", role="alert")


#: Flask extension key: whether this app pre-renders the first layout's page.
PRERENDER_KEY = "occupancy_prerender"


def _prerender() -> bool:
    return bool(flask.current_app.extensions.get(PRERENDER_KEY))


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
    route = requested_route() if _prerender() else None
    state: FilterState | None = None
    if route is not None:
        outputs = initial_outputs(sync_filters, route[1], _NO_VALUES, "app-url")
        state = FilterState(*outputs) if outputs is not None else None
        if state is not None and state.search is not dash.no_update:
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
            html.Main(page_container(route), className="app-main"),
        ],
        className="app",
    )


def sync_filters(
    search: str | None, values: FilterValues, triggered: str | None
) -> FilterState:
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
        f = parse_query(
            search,
            today,
            site=data.settings.site,
            max_days=data.settings.dashboard_max_range_days,
        )
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
        f = parse_query(
            to_query(f),
            today,
            site=data.settings.site,
            max_days=data.settings.dashboard_max_range_days,
        )
    opts = filter_options(meta, f, data.settings.language)
    # Keys of a page (space=...) stay; only the filters are rewritten.
    extras = extra_params(search)
    new_search = with_query(to_query(f), **extras) if extras else to_query(f)
    return FilterState(
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
    ).replace(
        "{%css%}",
        "{%css%}\n        "
        f'<script src="{app.get_asset_url(EARLY_LAYOUT_JS)}"></script>',
        1,
    )
    install_page_scripts(app)
    app.layout = _layout
    _register_app_callbacks(app)
    register_grid_callbacks(app)
    _take_page_callbacks(app)
    server.extensions[PRERENDER_KEY] = prerender_wanted(settings.dashboard_prerender)
    return app


def _take_page_callbacks(app: dash.Dash) -> None:
    """Run the app's before-request hooks once now: Dash's server setup takes
    the page callbacks (registered with ``dash.callback`` when it imported the
    pages) on the first request, so a second app built in this process before
    this one served a request would take them too (tests, benchmarks)."""
    with app.server.test_request_context("/"):
        app.server.preprocess_request()
