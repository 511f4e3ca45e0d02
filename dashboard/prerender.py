"""The first layout's page pre-render: an opt-in adapter over Dash's pages router.

Stock Dash (the fallback, setting ``dashboard_prerender`` off): the first
layout holds the empty ``dash.page_container``; mounting its Location runs
Dash's pages router callback, which calls the page's ``layout`` one round trip
later (and the filter sync, which writes the filters into the controls).

Pre-render (``OCCUPANCY_DASHBOARD_PRERENDER=1``): when the browser asks for the
layout from a page's URL (:func:`requested_route`), the layout already holds
that page: the page container rebuilt with Dash's own component ids and its
Location set to the URL, so mounting it starts no router call. That relies on
two Dash internals, checked by :func:`supported` when the app is built: the ids
of ``dash.page_container`` and the router's behaviour for them, tested for the
Dash versions in :data:`TESTED_DASH` (pyproject pins the same range). On any
other version, or other ids, the app logs a warning and serves stock Dash.
``tests/dashboard/test_dashboard_prerender.py`` compares the pre-rendered page
with what stock Dash's router returns for the same URL.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import dash
import flask
from dash import dcc, html

logger = logging.getLogger(__name__)

__all__ = [
    "PAGES_CONTENT",
    "PAGES_DUMMY",
    "PAGES_LOCATION",
    "PAGES_STORE",
    "TESTED_DASH",
    "page_container",
    "requested_route",
    "supported",
]

#: Dash versions (major, minor) the pre-render is tested with.
TESTED_DASH = ((3, 4),)

#: Ids of Dash's page container (``dash.page_container``), which the pages
#: router fills; :func:`page_container` fills it on the server.
PAGES_LOCATION = "_pages_location"
PAGES_CONTENT = "_pages_content"
PAGES_STORE = "_pages_store"
PAGES_DUMMY = "_pages_dummy"
_IDS = [PAGES_LOCATION, PAGES_CONTENT, PAGES_STORE, PAGES_DUMMY]


def supported(version: str | None = None) -> bool:
    """Whether this Dash is one the pre-render is tested with and its page
    container has the ids the pre-render rebuilds."""
    version = version or dash.__version__
    try:
        major, minor = (int(p) for p in version.split(".")[:2])
    except ValueError:
        return False
    ids = [getattr(c, "id", None) for c in dash.page_container.children]
    return (major, minor) in TESTED_DASH and ids == _IDS


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


def _router_container() -> html.Div:
    """Dash's own (empty) page container, which the pages router fills."""
    container: html.Div = dash.page_container  # untyped in Dash: an html.Div
    return container


def page_container(route: tuple[str, str] | None) -> html.Div:
    """Dash's page container, already holding the page of ``route`` (the page
    layout called as the pages router calls it, with the query parameters),
    and its Location set to the page's URL so that mounting it does not start
    the router. Without a route, or for an unknown path, the empty container:
    the router fills it."""
    if route is None:
        return _router_container()
    pathname, search = route
    relative = "/" + (dash.get_app().strip_relative_path(pathname) or "")  # type: ignore[no-untyped-call]
    page = next((p for p in dash.page_registry.values() if p["path"] == relative), None)
    if page is None:
        return _router_container()
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
        return _router_container()
    return html.Div(
        [
            dcc.Location(
                id=PAGES_LOCATION,
                refresh="callback-nav",
                pathname=pathname,
                search=search,
            ),
            html.Div(content, id=PAGES_CONTENT, disable_n_clicks=True),
            dcc.Store(id=PAGES_STORE, data={"title": title}),
            html.Div(id=PAGES_DUMMY, disable_n_clicks=True),
        ]
    )


def prerender_wanted(enabled: bool) -> bool:
    """Whether to pre-render the first layout: setting ``dashboard_prerender``
    and a tested Dash (else stock Dash, with a warning)."""
    if not enabled:
        return False
    if not supported():
        logger.warning(
            "dashboard_prerender: Dash %s is not a tested version; serving "
            "stock Dash (the pages router fills the page)",
            dash.__version__,
        )
        return False
    return True
